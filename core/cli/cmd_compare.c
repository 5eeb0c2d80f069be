/* cmd_compare.c — `rbctl compare A.json B.json`: result B against result A on the same data. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "eval/bootstrap.h"
#include "cli/commands.h"
#include "eval/compare.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl compare A.json B.json [--json] [-o FILE] [--resamples B] [--seed S] [--top N]\n"
		"\n"
		"Compare two results of `rbctl run --json` on the same dataset and split, as B - A, per task\n"
		"group and overall: AIQ (paper definition, and aiq_code), max quality, and the cost per query\n"
		"each router's NDCH needs to reach the lower of the two max qualities. When both results\n"
		"carry decisions (rbctl run --keep-decisions) the AIQ difference gets a paired bootstrap 95%%\n"
		"interval and a two-sided p-value, and the share of prompts decided differently is listed\n"
		"with the prompts that flipped most often. docs/metrics.md, \"Comparing two routers\".\n"
		"\n"
		"  --resamples B      bootstrap resamples, 1..%u (default: A's bootstrap.resamples, else %u)\n"
		"  --seed S           bootstrap seed, 0..9223372036854775807 (default: A's bootstrap.seed, else %u)\n"
		"  --top N            prompts listed as the most flipped per block, 0..1000000 (default %u)\n"
		"  --json             print the routerbench.compare/1 document instead of the table\n"
		"  -o, --output FILE  write the output to FILE (atomically) instead of stdout\n"
		"  -h, --help         this text\n"
		"\n"
		"exit status: 0 success, 1 unreadable, malformed or incompatible results, 2 usage error\n",
		RBE_BOOTSTRAP_MAX_RESAMPLES, RBE_BOOTSTRAP_DEFAULT_RESAMPLES, RBE_COMPARE_DEFAULT_SEED,
		RBE_COMPARE_DEFAULT_TOP);
}

static json_t *load(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (jerr.line > 0)
			fprintf(stderr, "rbctl compare: %s: line %d column %d: %s\n", path, jerr.line, jerr.column,
				jerr.text);
		else
			fprintf(stderr, "rbctl compare: %s: %s\n", path, jerr.text);
	}
	return doc;
}

typedef struct compare_output {
	const json_t *cmp;
	int as_json;
} compare_output;

static int write_comparison(FILE *out, const void *ctx, rbe_error *e)
{
	const compare_output *o = ctx;
	(void)e;
	if (o->as_json) {
		json_dumpf(o->cmp, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
		fputc('\n', out);
	} else {
		rbe_compare_table(out, o->cmp);
	}
	return 0;
}

int rbctl_compare_main(int argc, char **argv)
{
	enum { OPT_RESAMPLES = 256, OPT_SEED, OPT_TOP, OPT_JSON };
	static const struct option longopts[] = {
		{"resamples", required_argument, NULL, OPT_RESAMPLES},
		{"seed", required_argument, NULL, OPT_SEED},
		{"top", required_argument, NULL, OPT_TOP},
		{"json", no_argument, NULL, OPT_JSON},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	rbe_compare_opts opts;
	rbe_compare_opts_default(&opts);
	const char *output = NULL;
	int as_json = 0, c;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RESAMPLES:
			if (rbe_parse_uint(optarg, RBE_BOOTSTRAP_MAX_RESAMPLES, &v) < 0 || v == 0) {
				fprintf(stderr, "rbctl compare: --resamples '%s' must be an integer from 1 to %u\n", optarg,
					RBE_BOOTSTRAP_MAX_RESAMPLES);
				return RBCTL_EXIT_USAGE;
			}
			opts.resamples = (uint32_t)v;
			break;
		case OPT_SEED:
			if (rbe_parse_uint(optarg, INT64_MAX, &v) < 0) {
				fprintf(stderr, "rbctl compare: --seed '%s' must be an integer from 0 to 9223372036854775807\n",
					optarg);
				return RBCTL_EXIT_USAGE;
			}
			opts.seed = v;
			opts.seed_set = 1;
			break;
		case OPT_TOP:
			if (rbe_parse_uint(optarg, 1000000, &v) < 0) {
				fprintf(stderr, "rbctl compare: --top '%s' must be an integer from 0 to 1000000\n", optarg);
				return RBCTL_EXIT_USAGE;
			}
			opts.top = (uint32_t)v;
			break;
		case OPT_JSON:
			as_json = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return RBCTL_EXIT_OK;
		default:
			usage(stderr);
			return RBCTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "rbctl compare: expected two result files, A.json and B.json, got %d (rbctl compare --help)\n",
			argc - optind);
		return RBCTL_EXIT_USAGE;
	}
	opts.name_a = argv[optind];
	opts.name_b = argv[optind + 1];

	int status = RBCTL_EXIT_FAIL;
	json_t *a = load(opts.name_a), *b = a ? load(opts.name_b) : NULL, *cmp = NULL;
	rbe_error e = {0};
	if (!a || !b)
		goto out;
	if (rbe_compare(a, b, &opts, &cmp, &e) < 0) {
		fprintf(stderr, "rbctl compare: %s\n", e.msg);
		goto out;
	}
	status = rbctl_write_output("compare", output, write_comparison, &(compare_output){cmp, as_json});
out:
	json_decref(cmp);
	json_decref(a);
	json_decref(b);
	return status;
}
