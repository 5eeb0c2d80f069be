/* cmd_gen.c — `rbctl gen`: write the calibrated demo dataset or a synthetic one as .rbds. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "data/features.h"
#include "data/gen.h"
#include "data/rbds_format.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl gen [--preset routerbench] [--seed S] -o FILE [OPTIONS]\n"
		"       rbctl gen --prompts N --models M --tasks T [--seed S] -o FILE [OPTIONS]\n"
		"\n"
		"Generate a demo outcome matrix. The routerbench preset has the paper's 11 models, prices\n"
		"and 7 tasks (34,778 prompts) with each model's quality and cost on the test split matching\n"
		"Table 1. Giving --prompts, --models or --tasks selects the synthetic preset instead\n"
		"(defaults 100000, 11 and 7): the same latent structure at any size, uncalibrated.\n"
		"\n"
		"options:\n"
		"  --preset NAME         routerbench (default) or synthetic\n"
		"  --seed S              random seed (default 1); the same seed writes the same bytes\n"
		"  -o, --output FILE     the .rbds file to write (required)\n"
		"  --prompts N           synthetic: number of prompts\n"
		"  --models M            synthetic: number of models (the first 11 are the paper's)\n"
		"  --tasks T             synthetic: number of tasks, task-1 ... task-T\n"
		"  --responses           also generate response text for every prompt and model\n"
		"  --split-seed S        seed of the split the calibration targets (default 42)\n"
		"  --train-fraction F    train share of that split (default 0.7)\n"
		"  --report              print the calibration table (generated vs Table 1) to stdout\n"
		"  --features F          prompt features: tfidf (256 dims; default for the routerbench preset),\n"
		"                        tfidf:DIM, or none (default at synthetic scale)\n"
		"  -q, --quiet           no progress or summary on stderr\n"
		"  -h, --help            this text\n"
		"\n"
		"exit status: 0 written, 1 failure, 2 usage error\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	if (s[0] < '0' || s[0] > '9') {
		fprintf(stderr, "rbctl gen: %s wants a non-negative integer, not '%s'\n", opt, s);
		return -1;
	}
	if (rbe_parse_uint(s, max, out) < 0) {
		fprintf(stderr, "rbctl gen: %s wants an integer up to %" PRIu64 ", not '%s'\n", opt, max, s);
		return -1;
	}
	return 0;
}

enum { O_PRESET = 256, O_SEED, O_PROMPTS, O_MODELS, O_TASKS, O_RESPONSES, O_SPLIT_SEED, O_FRACTION, O_REPORT, O_FEATURES };

int rbctl_gen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"preset", required_argument, NULL, O_PRESET},
		{"seed", required_argument, NULL, O_SEED},
		{"output", required_argument, NULL, 'o'},
		{"prompts", required_argument, NULL, O_PROMPTS},
		{"models", required_argument, NULL, O_MODELS},
		{"tasks", required_argument, NULL, O_TASKS},
		{"responses", no_argument, NULL, O_RESPONSES},
		{"split-seed", required_argument, NULL, O_SPLIT_SEED},
		{"train-fraction", required_argument, NULL, O_FRACTION},
		{"report", no_argument, NULL, O_REPORT},
		{"features", required_argument, NULL, O_FEATURES},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	const char *output = NULL, *preset = NULL;
	int quiet = 0, report = 0, scale_given = 0, c;
	const char *features = NULL;
	uint64_t v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_PRESET:
			preset = optarg;
			break;
		case O_FEATURES:
			features = optarg;
			break;
		case O_SEED:
			if (parse_u64("--seed", optarg, UINT64_MAX, &v) < 0)
				return RBCTL_EXIT_USAGE;
			o.seed = v;
			break;
		case 'o':
			output = optarg;
			break;
		case O_PROMPTS:
			if (parse_u64("--prompts", optarg, RBE_GEN_MAX_PROMPTS, &v) < 0)
				return RBCTL_EXIT_USAGE;
			o.n_prompts = (size_t)v;
			scale_given = 1;
			break;
		case O_MODELS:
			if (parse_u64("--models", optarg, RBE_GEN_MAX_MODELS, &v) < 0)
				return RBCTL_EXIT_USAGE;
			o.n_models = (uint32_t)v;
			scale_given = 1;
			break;
		case O_TASKS:
			if (parse_u64("--tasks", optarg, UINT32_MAX, &v) < 0)
				return RBCTL_EXIT_USAGE;
			o.n_tasks = (uint32_t)v;
			scale_given = 1;
			break;
		case O_RESPONSES:
			o.responses = 1;
			break;
		case O_SPLIT_SEED:
			if (parse_u64("--split-seed", optarg, UINT32_MAX, &v) < 0)
				return RBCTL_EXIT_USAGE;
			o.split_seed = (uint32_t)v;
			break;
		case O_FRACTION: {
			char *end = NULL;
			double f = strtod(optarg, &end);
			if (!optarg[0] || *end || !(f > 0 && f < 1)) {
				fprintf(stderr, "rbctl gen: --train-fraction wants a number between 0 and 1, not '%s'\n",
					optarg);
				return RBCTL_EXIT_USAGE;
			}
			o.train_fraction = f;
			break;
		}
		case O_REPORT:
			report = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return RBCTL_EXIT_OK;
		case ':':
			fprintf(stderr, "rbctl gen: %s needs a value\n", argv[optind - 1]);
			return RBCTL_EXIT_USAGE;
		default:
			fprintf(stderr, "rbctl gen: unknown option '%s' (rbctl gen --help lists them)\n",
				argv[optind - 1]);
			return RBCTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rbctl gen: unexpected argument '%s'\n", argv[optind]);
		return RBCTL_EXIT_USAGE;
	}
	if (preset) {
		if (rbe_gen_preset_parse(preset, &o.preset) < 0) {
			fprintf(stderr, "rbctl gen: unknown preset '%s' (routerbench or synthetic)\n", preset);
			return RBCTL_EXIT_USAGE;
		}
		if (o.preset == RBE_GEN_ROUTERBENCH && scale_given) {
			fprintf(stderr, "rbctl gen: --prompts, --models and --tasks make a synthetic dataset; "
					"the routerbench preset has fixed sizes\n");
			return RBCTL_EXIT_USAGE;
		}
	} else if (scale_given) {
		o.preset = RBE_GEN_SYNTHETIC;
	}
	if (o.preset == RBE_GEN_SYNTHETIC) {
		if (o.n_prompts < 1 || o.n_models < 1 || o.n_tasks < 1) {
			fprintf(stderr, "rbctl gen: --prompts, --models and --tasks must each be at least 1\n");
			return RBCTL_EXIT_USAGE;
		}
		if (o.n_tasks > o.n_prompts) {
			fprintf(stderr, "rbctl gen: --tasks (%u) cannot exceed --prompts (%zu)\n", o.n_tasks,
				o.n_prompts);
			return RBCTL_EXIT_USAGE;
		}
	}
	if (!output) {
		fprintf(stderr, "rbctl gen: -o FILE is required\n");
		return RBCTL_EXIT_USAGE;
	}
	/* The demo preset carries text features by default so text routers run on it directly;
	 * at synthetic scale they would dwarf the matrix, so there they are opt-in. */
	uint32_t tfidf_dim = o.preset == RBE_GEN_ROUTERBENCH ? RBE_TFIDF_DEFAULT_DIM : 0;
	rbe_error fe;
	if (features && rbe_features_parse_option(features, &tfidf_dim, &fe) < 0) {
		fprintf(stderr, "rbctl gen: %s\n", fe.msg);
		return RBCTL_EXIT_USAGE;
	}

	/* Fail before a long generation, not after it, when the file cannot be written. */
	char *dir_copy = rbe_xstrdup(output);
	const char *dir = dirname(dir_copy);
	if (access(dir, W_OK) < 0) {
		fprintf(stderr, "rbctl gen: cannot write into %s: %s\n", dir, strerror(errno));
		free(dir_copy);
		return RBCTL_EXIT_FAIL;
	}
	free(dir_copy);

	double t0 = rbe_now();
	if (!quiet) {
		if (o.preset == RBE_GEN_ROUTERBENCH)
			fprintf(stderr, "rbctl gen: routerbench preset, seed %" PRIu64 ": calibrating 7 tasks to Table 1\n",
				o.seed);
		else
			fprintf(stderr, "rbctl gen: synthetic preset, seed %" PRIu64 ": %zu prompts x %u models x %u tasks\n",
				o.seed, o.n_prompts, o.n_models, o.n_tasks);
	}
	rbe_error e = {0};
	rbe_dataset *ds = NULL;
	rbe_gen_info info;
	if (rbe_gen_build(&o, &ds, &info, &e) < 0) {
		fprintf(stderr, "rbctl gen: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	double t1 = rbe_now();
	if (!quiet)
		fprintf(stderr, "rbctl gen: generated %zu prompts x %u models (%u eval names) in %.2f s\n", ds->n,
			ds->n_models, ds->n_evals, t1 - t0);
	if (report) {
		rbe_gen_calib *cal = NULL;
		if (rbe_gen_calibration(ds, o.split_seed, o.train_fraction, &cal, &e) < 0) {
			fprintf(stderr, "rbctl gen: calibration report: %s\n", e.msg);
			rbe_dataset_free(ds);
			return RBCTL_EXIT_FAIL;
		}
		rbe_gen_calib_print(cal, &info, stdout);
		fflush(stdout);
		rbe_gen_calib_free(cal);
	}
	if (tfidf_dim && rbe_dataset_attach_tfidf(&ds, tfidf_dim, &e) < 0) {
		fprintf(stderr, "rbctl gen: features: %s\n", e.msg);
		rbe_dataset_free(ds);
		return RBCTL_EXIT_FAIL;
	}
	if (rbe_rbds_write(ds, output, &e) < 0) {
		fprintf(stderr, "rbctl gen: %s\n", e.msg);
		rbe_dataset_free(ds);
		return RBCTL_EXIT_FAIL;
	}
	if (!quiet)
		fprintf(stderr, "rbctl gen: wrote %s (%s preset, %zu prompts, %u models) in %.2f s total\n", output,
			rbe_gen_preset_name(o.preset), ds->n, ds->n_models, rbe_now() - t0);
	rbe_dataset_free(ds);
	return RBCTL_EXIT_OK;
}
