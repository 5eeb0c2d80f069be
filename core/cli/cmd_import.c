/* cmd_import.c — rbctl import: RouterBench CSV/JSONL files → one .rbds dataset file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "data/features.h"
#include "data/import.h"

static const rbctl_usage import_usage = {
	"import",
	"usage: rbctl import FILE... -o OUT.rbds [--quiet] [--no-responses] [--features none|tfidf[:DIM]]\n"
	"\n"
	"Compile RouterBench outcome tables into one .rbds dataset. FILEs are RouterBench wide\n"
	"CSV files (sample_id, prompt, eval_name, per model <m>, <m>|model_response,\n"
	"<m>|total_cost) or the JSONL equivalent (.jsonl/.ndjson/.json, or content starting\n"
	"with '{'); docs/formats.md describes both. Rows sharing a sample_id are merged; samples\n"
	"still missing a model's quality are skipped and counted. Files are streamed (pipes work);\n"
	"a line or CSV row may be at most 64 MiB.\n",
	"exit status: 0 written, 1 bad input (the message names file:line:column), 2 usage error\n",
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rbctl import: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(rbctl import --help for usage)\n");
	return RBCTL_EXIT_USAGE;
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* Writing the output over an input would destroy the input on success. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int rbctl_import_main(int argc, char **argv)
{
	const char *output = NULL, *features = NULL;
	int quiet = 0, no_responses = 0, first;
	rbe_opt opts[] = {
		RBE_OPT_STRING("output", 'o', &output, "FILE", "the .rbds file to write (atomically; nothing is left on failure)"),
		RBE_OPT_FLAG("quiet", 'q', &quiet, "print nothing on success"),
		RBE_OPT_FLAG("no-responses", 0, &no_responses, "leave the response texts out of the dataset"),
		RBE_OPT_STRING("features", 0, &features, "F",
			       "prompt features to attach: tfidf (hashed TF-IDF, 256 dimensions;\n"
			       "the default unless the JSONL brings embeddings), tfidf:DIM, none"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int rc = rbctl_parse(&import_usage, opts, argc, argv, &first);
	if (rc >= 0)
		return rc;
	const char *const *files = (const char *const *)argv + first;
	size_t n_files = (size_t)(argc - first);
	uint32_t tfidf_dim = RBE_TFIDF_DEFAULT_DIM;
	rbe_error fe;
	if (features && rbe_features_parse_option(features, &tfidf_dim, &fe) < 0)
		return usage_error("%s", fe.msg);
	if (n_files == 0)
		return usage_error("%s", "no input files");
	if (!output || !*output)
		return usage_error("%s", "no output file: give -o OUT.rbds");
	for (size_t k = 0; k < n_files; k++)
		if (same_file(files[k], output))
			return usage_error("the output '%s' is one of the input files", output);

	double t0 = rbe_now();
	rbe_import_opts io = {.no_responses = no_responses};
	rbe_import_stats st;
	rbe_error e = {0};
	/* Text features by default, unless the input brought its own embeddings; --features replaces those. */
	if (rbe_import_to_rbds(files, n_files, &io, tfidf_dim, features != NULL, output, &st, &e) < 0) {
		fprintf(stderr, "rbctl import: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	if (!quiet) {
		fprintf(stderr,
			"rbctl import: wrote %s: %zu file%s, %zu row%s, %zu sample%s (%zu merged, %zu skipped), %u model%s, %u eval%s%s, %.2f s\n",
			output, st.files, plural(st.files), st.rows, plural(st.rows), st.samples, plural(st.samples), st.merged,
			st.skipped, st.models, plural(st.models), st.evals, plural(st.evals),
			st.responses ? ", with responses" : "", rbe_now() - t0);
		if (st.feature_dim)
			fprintf(stderr, "rbctl import: features: %s, %u dimensions\n", st.feature_name, st.feature_dim);
		else
			fprintf(stderr, "rbctl import: features: none\n");
		if (st.skipped)
			fprintf(stderr, "rbctl import: skipped %zu sample%s lacking a quality, e.g. %s\n", st.skipped,
				plural(st.skipped), st.skipped_example);
	}
	return RBCTL_EXIT_OK;
}
