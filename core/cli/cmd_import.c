/* cmd_import.c — rbctl import: RouterBench CSV/JSONL files → one .rbds dataset file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "data/features.h"
#include "data/import.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl import FILE... -o OUT.rbds [--quiet] [--no-responses] [--features none|tfidf[:DIM]]\n"
		"\n"
		"Compile RouterBench outcome tables into one .rbds dataset. FILEs are RouterBench wide\n"
		"CSV files (sample_id, prompt, eval_name, per model <m>, <m>|model_response,\n"
		"<m>|total_cost) or the JSONL equivalent (.jsonl/.ndjson/.json, or content starting\n"
		"with '{'); docs/formats.md describes both. Rows sharing a sample_id are merged; samples\n"
		"still missing a model's quality are skipped and counted.\n"
		"\n"
		"options:\n"
		"  -o, --output FILE   the .rbds file to write (atomically; nothing is left on failure)\n"
		"  -q, --quiet         print nothing on success\n"
		"      --no-responses  leave the response texts out of the dataset\n"
		"      --features F    prompt features to attach: tfidf (hashed TF-IDF, 256 dimensions;\n"
		"                      the default unless the JSONL brings embeddings), tfidf:DIM, none\n"
		"  -h, --help          show this help\n"
		"\n"
		"exit status: 0 written, 1 bad input (the message names file:line:column), 2 usage error\n");
}

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
	int quiet = 0, no_responses = 0, options_done = 0;
	const char **files = rbe_xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_files = 0;
	int rc = RBCTL_EXIT_USAGE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || !strcmp(a, "-")) {
			files[n_files++] = a;
		} else if (!strcmp(a, "--")) {
			options_done = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(files);
			return RBCTL_EXIT_OK;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "--no-responses")) {
			no_responses = 1;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--features")) {
			if (i + 1 >= argc) {
				rc = usage_error("option %s needs a value", a);
				goto out;
			}
			if (!strcmp(a, "--features"))
				features = argv[++i];
			else
				output = argv[++i];
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
		} else if (!strncmp(a, "--features=", 11)) {
			features = a + 11;
		} else {
			rc = usage_error("unknown option '%s'", a);
			goto out;
		}
	}
	uint32_t tfidf_dim = RBE_TFIDF_DEFAULT_DIM;
	rbe_error fe;
	if (features && rbe_features_parse_option(features, &tfidf_dim, &fe) < 0) {
		rc = usage_error("%s", fe.msg);
		goto out;
	}
	if (n_files == 0) {
		rc = usage_error("%s", "no input files");
		goto out;
	}
	if (!output || !*output) {
		rc = usage_error("%s", "no output file: give -o OUT.rbds");
		goto out;
	}
	for (size_t k = 0; k < n_files; k++) {
		if (same_file(files[k], output)) {
			rc = usage_error("the output '%s' is one of the input files", output);
			goto out;
		}
	}

	double t0 = rbe_now();
	rbe_import_opts opts = {.no_responses = no_responses};
	rbe_import_stats st;
	rbe_error e = {0};
	/* Text features by default, unless the input brought its own embeddings; --features replaces those. */
	if (rbe_import_to_rbds(files, n_files, &opts, tfidf_dim, features != NULL, output, &st, &e) < 0) {
		fprintf(stderr, "rbctl import: %s\n", e.msg);
		rc = RBCTL_EXIT_FAIL;
		goto out;
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
	rc = RBCTL_EXIT_OK;
out:
	free(files);
	return rc;
}
