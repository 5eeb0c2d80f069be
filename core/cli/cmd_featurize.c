/* cmd_featurize.c — rbctl featurize: attach hashed TF-IDF features or imported embeddings to a
 * .rbds dataset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "data/features.h"
#include "data/rbds_format.h"

static const rbctl_usage featurize_usage = {
	"featurize",
	"usage: rbctl featurize IN.rbds -o OUT.rbds [--tfidf] [--dim D] [--threads N]\n"
	"       rbctl featurize IN.rbds -o OUT.rbds --embeddings FILE.f32 --dim D [--name NAME]\n"
	"                       [--no-normalize]\n"
	"\n"
	"Attach one feature vector per prompt to a dataset, replacing any it had; samples,\n"
	"outcomes, responses and token counts are kept as they are. docs/features.md defines both\n"
	"kinds exactly.\n",
	"exit status: 0 written, 1 bad input (unreadable dataset, wrong embedding file size,\n"
	"non-finite value), 2 usage error\n",
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rbctl featurize: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(rbctl featurize --help for usage)\n");
	return RBCTL_EXIT_USAGE;
}

/* What featurize was asked for. */
typedef struct featurize_args {
	const char *input, *output, *embeddings, *name, *dim_text;
	uint64_t threads;
	uint32_t dim;
	int quiet, tfidf, no_normalize;
} featurize_args;

/* How the options combine; --dim's range depends on the kind. -1 to go on, else the exit status. */
static int check_args(featurize_args *a, int threads_given)
{
	if (!a->output || !*a->output)
		return usage_error("%s", "no output file: give -o OUT.rbds");
	if (a->tfidf && a->embeddings)
		return usage_error("%s", "--tfidf and --embeddings exclude each other");
	if (a->embeddings && !*a->embeddings)
		return usage_error("%s", "--embeddings needs a file name");
	if (!a->embeddings && a->name)
		return usage_error("%s", "--name applies to --embeddings (tfidf features are always named 'tfidf')");
	if (!a->embeddings && a->no_normalize)
		return usage_error("%s", "--no-normalize applies to --embeddings (tfidf rows are always normalised)");
	if (a->embeddings && threads_given)
		return usage_error("%s", "--threads applies to --tfidf");
	if (a->embeddings && !a->dim_text)
		return usage_error("%s", "--embeddings needs --dim D, the length of each row in the file");
	a->dim = RBE_TFIDF_DEFAULT_DIM;
	rbe_error e = {0};
	uint64_t dim;
	if (a->dim_text) {
		uint64_t min = a->embeddings ? 1 : RBE_TFIDF_MIN_DIM, max = a->embeddings ? (1u << 24) : RBE_TFIDF_MAX_DIM;
		if (rbe_opt_parse_uint("--dim", a->dim_text, min, max, &dim, &e) < 0)
			return usage_error("%s", e.msg);
		a->dim = (uint32_t)dim;
	}
	if (a->name && rbe_features_check_name(a->name, &e))
		return usage_error("%s", e.msg);
	return -1;
}

static int featurize_options(int argc, char **argv, featurize_args *a)
{
	char dim_help[128];
	snprintf(dim_help, sizeof(dim_help), "vector length: tfidf %u..%u (default %u); required with --embeddings",
		 RBE_TFIDF_MIN_DIM, RBE_TFIDF_MAX_DIM, RBE_TFIDF_DEFAULT_DIM);
	rbe_opt opts[] = {
		RBE_OPT_FLAG("tfidf", 0, &a->tfidf,
			     "(default) hashed TF-IDF of the prompt text: word unigrams and\n"
			     "bigrams and character 3-5-grams, signed hashing into D buckets,\n"
			     "IDF over the dataset's prompts (never its outcomes), rows\n"
			     "L2-normalised; named 'tfidf'"),
		RBE_OPT_STRING("embeddings", 0, &a->embeddings, "FILE",
			       "precomputed embeddings: raw little-endian float32, one row of D\n"
			       "values per sample in dataset order, exactly N x D x 4 bytes; rows\n"
			       "are L2-normalised unless --no-normalize"),
		RBE_OPT_STRING("output", 'o', &a->output, "FILE", "the .rbds file to write (atomically; it may be IN itself)"),
		RBE_OPT_STRING("dim", 0, &a->dim_text, "D", dim_help),
		RBE_OPT_STRING("name", 0, &a->name, "NAME",
			       "embeddings' feature name (default 'embedding'); routers select\n"
			       "features with --set feature=NAME"),
		RBE_OPT_FLAG("no-normalize", 0, &a->no_normalize, "keep embedding rows as given"),
		RBE_OPT_UINT("threads", 0, &a->threads, 0, 1024, "N",
			     "tfidf threads (default 0: every online CPU; the result is the same\n"
			     "for any N)"),
		RBE_OPT_FLAG("quiet", 'q', &a->quiet, "print nothing on success"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int first, status = rbctl_parse(&featurize_usage, opts, argc, argv, &first);
	if (status >= 0)
		return status;
	if (first + 1 < argc)
		return usage_error("more than one input dataset ('%s')", argv[first + 1]);
	if (first == argc)
		return usage_error("%s", "no input dataset");
	a->input = argv[first];
	return check_args(a, rbe_opts_given(opts, "threads") > 0);
}

int rbctl_featurize_main(int argc, char **argv)
{
	featurize_args a = {0};
	int status = featurize_options(argc, argv, &a);
	if (status >= 0)
		return status;
	const char *input = a.input, *output = a.output, *embeddings = a.embeddings, *name = a.name;
	int quiet = a.quiet, no_normalize = a.no_normalize;
	long long dim = a.dim, threads = (long long)a.threads;

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
