/* cmd_gen.c — `rbctl gen`: write the calibrated demo dataset or a synthetic one as .rbds. */
#include <errno.h>
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

static const rbctl_usage gen_usage = {
	"gen",
	"usage: rbctl gen [--preset routerbench] [--seed S] -o FILE [OPTIONS]\n"
	"       rbctl gen --prompts N --models M --tasks T [--seed S] -o FILE [OPTIONS]\n"
	"\n"
	"Generate a demo outcome matrix. The routerbench preset has the paper's 11 models, prices\n"
	"and 7 tasks (34,778 prompts) with each model's quality and cost on the test split matching\n"
	"Table 1. Giving --prompts, --models or --tasks selects the synthetic preset instead\n"
	"(defaults 100000, 11 and 7): the same latent structure at any size, uncalibrated.\n",
	"exit status: 0 written, 1 failure, 2 usage error\n",
};

/* What gen was asked for. */
typedef struct gen_args {
	rbe_gen_opts o;
	const char *output, *preset, *features;
	int quiet, report;
	uint32_t tfidf_dim; /* 0: no features */
} gen_args;

/* The options and how they combine: -1 to go on, else the exit status. */
static int gen_options(int argc, char **argv, gen_args *a)
{
	rbe_gen_opts *o = &a->o;
	rbe_opt opts[] = {
		RBE_OPT_STRING("preset", 0, &a->preset, "NAME", "routerbench (default) or synthetic"),
		RBE_OPT_UINT("seed", 0, &o->seed, 0, UINT64_MAX, "S", "random seed (default 1); the same seed writes the same bytes"),
		RBE_OPT_STRING("output", 'o', &a->output, "FILE", "the .rbds file to write (required)"),
		RBE_OPT_UINT("prompts", 0, &o->n_prompts, 1, RBE_GEN_MAX_PROMPTS, "N", "synthetic: number of prompts"),
		RBE_OPT_UINT("models", 0, &o->n_models, 1, RBE_GEN_MAX_MODELS, "M",
			     "synthetic: number of models (the first 11 are the paper's)"),
		RBE_OPT_UINT("tasks", 0, &o->n_tasks, 1, UINT32_MAX, "T", "synthetic: number of tasks, task-1 ... task-T"),
		RBE_OPT_FLAG("responses", 0, &o->responses, "also generate response text for every prompt and model"),
		RBE_OPT_UINT("split-seed", 0, &o->split_seed, 0, UINT32_MAX, "S",
			     "seed of the split the calibration targets (default 42)"),
		RBE_OPT_DOUBLE("train-fraction", 0, &o->train_fraction, 0, 1, RBE_OPT_OPEN_LO | RBE_OPT_OPEN_HI, "F",
			       "train share of that split (default 0.7)"),
		RBE_OPT_FLAG("report", 0, &a->report, "print the calibration table (generated vs Table 1) to stdout"),
		RBE_OPT_STRING("features", 0, &a->features, "F",
			       "prompt features: tfidf (256 dims; default for the routerbench preset),\n"
			       "tfidf:DIM, or none (default at synthetic scale)"),
		RBE_OPT_FLAG("quiet", 'q', &a->quiet, "no progress or summary on stderr"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int first, status = rbctl_parse(&gen_usage, opts, argc, argv, &first);
	if (status >= 0)
		return status;
	if (first < argc)
		return rbctl_usage_error("gen", "unexpected argument '%s'", argv[first]);
	int scale_given = rbe_opts_given(opts, "prompts") || rbe_opts_given(opts, "models") || rbe_opts_given(opts, "tasks");
	if (a->preset) {
		if (rbe_gen_preset_parse(a->preset, &o->preset) < 0)
			return rbctl_usage_error("gen", "unknown preset '%s' (routerbench or synthetic)", a->preset);
		if (o->preset == RBE_GEN_ROUTERBENCH && scale_given)
			return rbctl_usage_error("gen", "--prompts, --models and --tasks make a synthetic dataset; "
							"the routerbench preset has fixed sizes");
	} else if (scale_given) {
		o->preset = RBE_GEN_SYNTHETIC;
	}
	if (o->preset == RBE_GEN_SYNTHETIC && o->n_tasks > o->n_prompts)
		return rbctl_usage_error("gen", "--tasks (%u) cannot exceed --prompts (%zu)", o->n_tasks, o->n_prompts);
	if (!a->output)
		return rbctl_usage_error("gen", "-o FILE is required");
	/* The demo preset carries text features by default so text routers run on it directly;
	 * at synthetic scale they would dwarf the matrix, so there they are opt-in. */
	a->tfidf_dim = o->preset == RBE_GEN_ROUTERBENCH ? RBE_TFIDF_DEFAULT_DIM : 0;
	rbe_error fe;
	if (a->features && rbe_features_parse_option(a->features, &a->tfidf_dim, &fe) < 0)
		return rbctl_usage_error("gen", "%s", fe.msg);
	return -1;
}

int rbctl_gen_main(int argc, char **argv)
{
	gen_args a = {0};
	rbe_gen_opts_init(&a.o);
	int status = gen_options(argc, argv, &a);
	if (status >= 0)
		return status;
	const rbe_gen_opts *o = &a.o;

	/* Fail before a long generation, not after it, when the file cannot be written. */
	char *dir_copy = rbe_xstrdup(a.output);
	const char *dir = dirname(dir_copy);
	if (access(dir, W_OK) < 0) {
		fprintf(stderr, "rbctl gen: cannot write into %s: %s\n", dir, strerror(errno));
		free(dir_copy);
		return RBCTL_EXIT_FAIL;
	}
	free(dir_copy);

	double t0 = rbe_now();
	if (!a.quiet) {
		if (o->preset == RBE_GEN_ROUTERBENCH)
			fprintf(stderr, "rbctl gen: routerbench preset, seed %" PRIu64 ": calibrating 7 tasks to Table 1\n",
				o->seed);
		else
			fprintf(stderr, "rbctl gen: synthetic preset, seed %" PRIu64 ": %zu prompts x %u models x %u tasks\n",
				o->seed, o->n_prompts, o->n_models, o->n_tasks);
	}
	rbe_error e = {0};
	rbe_dataset *ds = NULL;
	rbe_gen_info info;
	if (rbe_gen_build(o, &ds, &info, &e) < 0) {
		fprintf(stderr, "rbctl gen: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	double t1 = rbe_now();
	if (!a.quiet)
		fprintf(stderr, "rbctl gen: generated %zu prompts x %u models (%u eval names) in %.2f s\n", ds->n,
			ds->n_models, ds->n_evals, t1 - t0);
	if (a.report) {
		rbe_gen_calib *cal = NULL;
		if (rbe_gen_calibration(ds, o->split_seed, o->train_fraction, &cal, &e) < 0) {
			fprintf(stderr, "rbctl gen: calibration report: %s\n", e.msg);
			rbe_dataset_free(ds);
			return RBCTL_EXIT_FAIL;
		}
		rbe_gen_calib_print(cal, &info, stdout);
		fflush(stdout);
		rbe_gen_calib_free(cal);
	}
	if (a.tfidf_dim && rbe_dataset_attach_tfidf(&ds, a.tfidf_dim, &e) < 0) {
		fprintf(stderr, "rbctl gen: features: %s\n", e.msg);
		rbe_dataset_free(ds);
		return RBCTL_EXIT_FAIL;
	}
	if (rbe_rbds_write(ds, a.output, &e) < 0) {
		fprintf(stderr, "rbctl gen: %s\n", e.msg);
		rbe_dataset_free(ds);
		return RBCTL_EXIT_FAIL;
	}
	if (!a.quiet)
		fprintf(stderr, "rbctl gen: wrote %s (%s preset, %zu prompts, %u models) in %.2f s total\n", a.output,
			rbe_gen_preset_name(o->preset), ds->n, ds->n_models, rbe_now() - t0);
	rbe_dataset_free(ds);
	return RBCTL_EXIT_OK;
}
