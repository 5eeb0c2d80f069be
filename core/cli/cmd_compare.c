/* cmd_compare.c — `rbctl compare A.json B.json`: result B against result A on the same data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eval/bootstrap.h"
#include "cli/commands.h"
#include "eval/compare.h"
#include "report/result_schema.h"

static const rbctl_usage compare_usage = {
	"compare",
	"usage: rbctl compare A.json B.json [--json] [-o FILE] [--resamples B] [--seed S] [--top N]\n"
	"\n"
	"Compare two results of `rbctl run --json` on the same dataset and split, as B - A, per task\n"
	"group and overall: AIQ (paper definition, and aiq_code), max quality, and the cost per query\n"
	"each router's NDCH needs to reach the lower of the two max qualities. When both results\n"
	"carry decisions (rbctl run --keep-decisions) the AIQ difference gets a paired bootstrap 95%\n"
	"interval and a two-sided p-value, and the share of prompts decided differently is listed\n"
	"with the prompts that flipped most often. docs/metrics.md, \"Comparing two routers\".\n",
	"exit status: 0 success, 1 unreadable, malformed or incompatible results, 2 usage error\n",
};

/* A result file, parsed and checked against docs/result.schema.json as plot and report do:
 * NULL after printing what is wrong, naming the file (and the JSON pointer of the problem). */
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
		return NULL;
	}
	rbe_error e = {0};
	if (rbr_result_check(doc, path, &e) < 0) {
		fprintf(stderr, "rbctl compare: %s\n", e.msg);
		json_decref(doc);
		return NULL;
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
	rbe_compare_opts opts;
	rbe_compare_opts_default(&opts);
	const char *output = NULL;
	int as_json = 0, first;
	char help[3][128];
	snprintf(help[0], sizeof(help[0]), "bootstrap resamples, 1..%u (default: A's bootstrap.resamples, else %u)",
		 RBE_BOOTSTRAP_MAX_RESAMPLES, RBE_BOOTSTRAP_DEFAULT_RESAMPLES);
	snprintf(help[1], sizeof(help[1]), "bootstrap seed, 0..%lld (default: A's bootstrap.seed, else %u)",
		 (long long)INT64_MAX, RBE_COMPARE_DEFAULT_SEED);
	snprintf(help[2], sizeof(help[2]), "prompts listed as the most flipped per block, 0..1000000 (default %u)",
		 RBE_COMPARE_DEFAULT_TOP);
	rbe_opt table[] = {
		RBE_OPT_UINT("resamples", 0, &opts.resamples, 1, RBE_BOOTSTRAP_MAX_RESAMPLES, "B", help[0]),
		RBE_OPT_UINT("seed", 0, &opts.seed, 0, INT64_MAX, "S", help[1]),
		RBE_OPT_UINT("top", 0, &opts.top, 0, 1000000, "N", help[2]),
		RBE_OPT_FLAG("json", 0, &as_json, "print the routerbench.compare/1 document instead of the table"),
		RBE_OPT_STRING("output", 'o', &output, "FILE", "write the output to FILE (atomically) instead of stdout"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int status = rbctl_parse(&compare_usage, table, argc, argv, &first);
	if (status >= 0)
		return status;
	opts.seed_set = rbe_opts_given(table, "seed") > 0;
	if (argc - first != 2) {
		fprintf(stderr, "rbctl compare: expected two result files, A.json and B.json, got %d (rbctl compare --help)\n",
			argc - first);
		return RBCTL_EXIT_USAGE;
	}
	opts.name_a = argv[first];
	opts.name_b = argv[first + 1];

	status = RBCTL_EXIT_FAIL;
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
