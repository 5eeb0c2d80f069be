/* cmd_featurize.c — rbctl featurize: attach hashed TF-IDF features or imported embeddings to a
 * .rbds dataset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "data/features.h"
#include "data/rbds_format.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl featurize IN.rbds -o OUT.rbds [--tfidf] [--dim D] [--threads N]\n"
		"       rbctl featurize IN.rbds -o OUT.rbds --embeddings FILE.f32 --dim D [--name NAME]\n"
		"                       [--no-normalize]\n"
		"\n"
		"Attach one feature vector per prompt to a dataset, replacing any it had; samples,\n"
		"outcomes, responses and token counts are kept as they are. docs/features.md defines both\n"
		"kinds exactly.\n"
		"\n"
		"  --tfidf            (default) hashed TF-IDF of the prompt text: word unigrams and bigrams\n"
		"                     and character 3-5-grams, signed hashing into D buckets, IDF over the\n"
		"                     dataset's prompts (never its outcomes), rows L2-normalised; named\n"
		"                     'tfidf'\n"
		"  --embeddings FILE  precomputed embeddings: raw little-endian float32, one row of D values\n"
		"                     per sample in dataset order, exactly N x D x 4 bytes; rows are\n"
		"                     L2-normalised unless --no-normalize\n"
		"\n"
		"options:\n"
		"  -o, --output FILE  the .rbds file to write (atomically; it may be IN itself)\n"
		"      --dim D        vector length: tfidf %u..%u (default %u); required with --embeddings\n"
		"      --name NAME    embeddings' feature name (default 'embedding'); routers select\n"
		"                     features with --set feature=NAME\n"
		"      --no-normalize keep embedding rows as given\n"
		"      --threads N    tfidf threads (default 0: every online CPU; the result is the same\n"
		"                     for any N)\n"
		"  -q, --quiet        print nothing on success\n"
		"  -h, --help         show this help\n"
		"\n"
		"exit status: 0 written, 1 bad input (unreadable dataset, wrong embedding file size,\n"
		"non-finite value), 2 usage error\n",
		RBE_TFIDF_MIN_DIM, RBE_TFIDF_MAX_DIM, RBE_TFIDF_DEFAULT_DIM);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rbctl featurize: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(rbctl featurize --help for usage)\n");
	return RBCTL_EXIT_USAGE;
}

/* A whole decimal number in [0, max], or -1. */
static long long parse_count(const char *s, unsigned long long max)
{
	uint64_t v;
	return rbe_parse_uint(s, max, &v) < 0 ? -1 : (long long)v;
}

int rbctl_featurize_main(int argc, char **argv)
{
	const char *input = NULL, *output = NULL, *embeddings = NULL, *name = NULL, *dim_arg = NULL,
		   *threads_arg = NULL;
	int quiet = 0, tfidf = 0, no_normalize = 0, options_done = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *value = NULL;
		if (options_done || a[0] != '-' || !strcmp(a, "-")) {
			if (input)
				return usage_error("more than one input dataset ('%s')", a);
			input = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			options_done = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return RBCTL_EXIT_OK;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
			continue;
		}
		if (!strcmp(a, "--tfidf")) {
			tfidf = 1;
			continue;
		}
		if (!strcmp(a, "--no-normalize")) {
			no_normalize = 1;
			continue;
		}
		static const struct {
			const char *opt;
			size_t len; /* of "--opt" */
		} valued[] = {{"--output", 8}, {"--embeddings", 12}, {"--name", 6}, {"--dim", 5}, {"--threads", 9}};
		size_t which = sizeof(valued) / sizeof(valued[0]);
		if (!strcmp(a, "-o")) {
			which = 0;
		} else {
			for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
				if (!strncmp(a, valued[k].opt, valued[k].len) && (a[valued[k].len] == '\0' || a[valued[k].len] == '=')) {
					which = k;
					if (a[valued[k].len] == '=')
						value = a + valued[k].len + 1;
				}
		}
		if (which == sizeof(valued) / sizeof(valued[0]))
			return usage_error("unknown option '%s'", a);
		if (!value) {
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", a);
			value = argv[++i];
		}
		const char **slots[] = {&output, &embeddings, &name, &dim_arg, &threads_arg};
		*slots[which] = value;
	}

	if (!input)
		return usage_error("%s", "no input dataset");
	if (!output || !*output)
		return usage_error("%s", "no output file: give -o OUT.rbds");
	if (tfidf && embeddings)
		return usage_error("%s", "--tfidf and --embeddings exclude each other");
	if (embeddings && !*embeddings)
		return usage_error("%s", "--embeddings needs a file name");
	if (!embeddings && name)
		return usage_error("%s", "--name applies to --embeddings (tfidf features are always named 'tfidf')");
	if (!embeddings && no_normalize)
		return usage_error("%s", "--no-normalize applies to --embeddings (tfidf rows are always normalised)");
	if (embeddings && threads_arg)
		return usage_error("%s", "--threads applies to --tfidf");
	if (embeddings && !dim_arg)
		return usage_error("%s", "--embeddings needs --dim D, the length of each row in the file");

	long long dim = RBE_TFIDF_DEFAULT_DIM;
	if (dim_arg) {
		unsigned long long max = embeddings ? (1ull << 24) : RBE_TFIDF_MAX_DIM;
		unsigned long long min = embeddings ? 1 : RBE_TFIDF_MIN_DIM;
		dim = parse_count(dim_arg, max);
		if (dim < (long long)min) {
			fprintf(stderr, "rbctl featurize: --dim '%s' is not a whole number in %llu..%llu\n", dim_arg, min, max);
			fprintf(stderr, "(rbctl featurize --help for usage)\n");
			return RBCTL_EXIT_USAGE;
		}
	}
	long long threads = 0;
	if (threads_arg && (threads = parse_count(threads_arg, 1024)) < 0)
		return usage_error("--threads '%s' is not a whole number in 0..1024", threads_arg);
	if (name) {
		rbe_error ne = {0};
		if (rbe_features_check_name(name, &ne))
			return usage_error("%s", ne.msg);
	}

	double t0 = rbe_now();
	rbe_error e = {0};
	rbe_dataset *ds = NULL, *out = NULL;
	float *features = NULL;
	int r = rbe_rbds_open(input, &ds, &e);
	if (r) {
		fprintf(stderr, "rbctl featurize: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	double t1 = rbe_now();
	rbe_tfidf_stats st = {0};
	const char *feature_name = embeddings ? (name ? name : "embedding") : RBE_TFIDF_NAME;
	if (embeddings) {
		r = rbe_features_read_f32(embeddings, ds->n, (uint32_t)dim, ds->sample_ids, !no_normalize, &features, &e);
		if (!r)
			for (size_t k = 0; k < ds->n * (size_t)dim; k++)
				st.nonzeros += features[k] != 0.0f;
	} else {
		r = rbe_features_tfidf_prompts(ds->prompts, ds->n, (uint32_t)dim, (unsigned)threads, &features, NULL, &st,
					       &e);
		if (r)
			rbe_error_prefix(&e, "%s", input);
	}
	double t2 = rbe_now();
	if (!r)
		r = rbe_dataset_with_features(ds, (uint32_t)dim, features, feature_name, &out, &e);
	if (!r)
		r = rbe_rbds_write(out, output, &e);
	if (r) {
		fprintf(stderr, "rbctl featurize: %s\n", e.msg);
		free(features);
		rbe_dataset_free(out);
		rbe_dataset_free(ds);
		return RBCTL_EXIT_FAIL;
	}
	if (!quiet) {
		char replaced[128] = "";
		if (ds->feature_dim)
			snprintf(replaced, sizeof(replaced), ", replacing '%.64s' (dim %u)", ds->feature_name ? ds->feature_name : "",
				 ds->feature_dim);
		fprintf(stderr, "rbctl featurize: wrote %s: %s features, dim %lld, %zu prompts%s\n", output, feature_name,
			dim, ds->n, replaced);
		if (embeddings)
			fprintf(stderr, "rbctl featurize: rows from %s, %s, %.1f nonzeros per prompt\n", embeddings,
				no_normalize ? "as given" : "L2-normalised", (double)st.nonzeros / (double)ds->n);
		else
			fprintf(stderr, "rbctl featurize: %.1f nonzeros per prompt, %zu empty prompt%s (zero rows)\n",
				(double)st.nonzeros / (double)ds->n, st.empty_rows, st.empty_rows == 1 ? "" : "s");
		char how[64] = "";
		if (!embeddings)
			snprintf(how, sizeof(how), " on %u thread%s", st.threads, st.threads == 1 ? "" : "s");
		fprintf(stderr, "rbctl featurize: %.2f s (read %.2f s, featurize %.2f s%s, rebuild and write %.2f s)\n",
			rbe_now() - t0, t1 - t0, t2 - t1, how, rbe_now() - t2);
	}
	free(features);
	rbe_dataset_free(out);
	rbe_dataset_free(ds);
	return RBCTL_EXIT_OK;
}
