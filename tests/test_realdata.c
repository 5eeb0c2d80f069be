/* test_realdata.c — the importer on the six real RouterBench CSVs (skipped when they are absent). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "data/import.h"
#include "data/rbds_format.h"

/*
 * Every expected figure below was computed independently, once, by
 *     python3 tests/tools/realdata_import_reference.py ../shared/data/routerbench-routerdc
 * which reads the CSVs with Python's csv module, orders rows by the index column, merges rows
 * sharing a sample_id by the documented rule, decodes prompts and responses with
 * ast.literal_eval and prints counts, means and a SHA-256 over every imported value.
 */

static const char *const file_names[] = {"arc_challenge_test.csv", "arc_challenge_train.csv", "mbpp_test.csv",
					 "mbpp_train.csv",         "winograde_test.csv",      "winograde_train.csv"};
#define N_FILES 6

static const char *const models[] = {
	"gpt-3.5-turbo-1106",      "claude-instant-v1",           "claude-v1",
	"claude-v2",               "gpt-4-1106-preview",          "meta/llama-2-70b-chat",
	"mistralai/mixtral-8x7b-chat", "zero-one-ai/Yi-34B-Chat", "WizardLM/WizardLM-13B-V1.2",
	"meta/code-llama-instruct-34b-chat", "mistralai/mistral-7b-chat",
};

/* Mean quality and mean cost (USD) per model over all 3,164 samples, in dataset order. */
static const double mean_quality[] = {0.7323008850, 0.6735145386, 0.7275600506, 0.5505689001,
				      0.8798988622, 0.6191529709, 0.7417825537, 0.7737041719,
				      0.5679519595, 0.6109355247, 0.5843868521};
static const double mean_cost[] = {4.214497471555e-04, 3.652359039191e-04, 3.576346396966e-03, 3.795774968394e-03,
				   5.015022123894e-03, 3.767890960809e-04, 2.479714285714e-04, 3.294366624526e-04,
				   1.229555309735e-04, 3.113476814159e-04, 8.135733249052e-05};

#define REFERENCE_DIGEST "ca797f973256248664d09b26b60f7baafb85dffd33f385b8a49b4e5f54f50bf0"

static char **real_paths(int reverse)
{
	const char *dir = getenv("RB_REAL_DATA_DIR");
	struct stat st;
	if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		cr_skip_test("the real RouterBench data folder is absent: %s", dir ? dir : "(RB_REAL_DATA_DIR unset)");
	char **paths = calloc(N_FILES, sizeof(char *));
	for (size_t k = 0; k < N_FILES; k++) {
		const char *name = file_names[reverse ? N_FILES - 1 - k : k];
		cr_assert(asprintf(&paths[k], "%s/%s", dir, name) > 0);
		cr_assert_eq(access(paths[k], R_OK), 0, "%s is missing from the real data folder", paths[k]);
	}
	return paths;
}

static rbe_dataset *import_real(int reverse, rbe_import_stats *st)
{
	char **paths = real_paths(reverse);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	rbe_import_opts o = {.name = "routerbench-zs"};
	int r = rbe_import_files((const char *const *)paths, N_FILES, &o, &ds, st, &e);
	cr_assert_eq(r, 0, "import failed: %s", e.msg);
	for (size_t k = 0; k < N_FILES; k++)
		free(paths[k]);
	free(paths);
	return ds;
}

/* SHA-256 over every value, in the format realdata_reference.py hashes. */
static void digest_of(const rbe_dataset *ds, char hex[65])
{
	rbe_sha256 *h = rbe_sha256_new();
	char buf[128];
	for (size_t i = 0; i < ds->n; i++) {
		const char *parts[] = {ds->sample_ids[i], "\x1f", ds->eval_names[ds->eval[i]], "\x1f", ds->prompts[i], "\x1e"};
		for (size_t k = 0; k < 6; k++)
			rbe_sha256_update(h, parts[k], strlen(parts[k]));
		for (uint32_t j = 0; j < ds->n_models; j++) {
			size_t c = i * ds->n_models + j;
			snprintf(buf, sizeof(buf), "%.9g\x1f%.17g\x1f", (double)ds->quality[c], ds->cost[c]);
			rbe_sha256_update(h, buf, strlen(buf));
			rbe_sha256_update(h, ds->responses[c], strlen(ds->responses[c]));
			rbe_sha256_update(h, "\x1e", 1);
		}
	}
	uint8_t d[32];
	rbe_sha256_final(h, d);
	rbe_sha256_free(h);
	rbe_hex(d, 32, hex);
}

Test(realdata, counts_models_and_evals)
{
	rbe_import_stats st;
	rbe_dataset *ds = import_real(0, &st);
	cr_assert_eq(st.files, 6);
	cr_assert_eq(st.rows, 3178);
	cr_assert_eq(st.samples, 3164);
	cr_assert_eq(st.merged, 14);
	cr_assert_eq(st.skipped, 0);
	cr_assert_eq(st.models, 11);
	cr_assert_eq(st.evals, 3);
	cr_assert_eq(st.responses, 1);
	cr_assert_eq(ds->n, 3164);
	/* The |model_response column order, which differs from the quality column order. */
	cr_assert_eq(ds->n_models, 11);
	for (uint32_t j = 0; j < 11; j++)
		cr_assert_str_eq(ds->model_names[j], models[j]);
	cr_assert_eq(ds->n_evals, 3);
	cr_assert_str_eq(ds->eval_names[0], "arc-challenge");
	cr_assert_str_eq(ds->eval_names[1], "mbpp");
	cr_assert_str_eq(ds->eval_names[2], "winogrande");
	size_t per_eval[3] = {0};
	for (size_t i = 0; i < ds->n; i++)
		per_eval[ds->eval[i]]++;
	cr_assert_eq(per_eval[0], 1470);
	cr_assert_eq(per_eval[1], 427);
	cr_assert_eq(per_eval[2], 1267);
	cr_assert_str_eq(ds->sample_ids[0], "arc-challenge.test.0");
	cr_assert_str_eq(ds->sample_ids[ds->n - 1], "winogrande.dev.999");
	cr_assert_str_eq(ds->name, "routerbench-zs");
	rbe_dataset_free(ds);
}

Test(realdata, per_model_means)
{
	rbe_dataset *ds = import_real(0, NULL);
	for (uint32_t j = 0; j < 11; j++) {
		double q = 0, c = 0;
		for (size_t i = 0; i < ds->n; i++) {
			q += ds->quality[i * 11 + j];
			c += ds->cost[i * 11 + j];
		}
		q /= (double)ds->n;
		c /= (double)ds->n;
		cr_assert(fabs(q - mean_quality[j]) < 1e-9, "%s: mean quality %.10f, want %.10f", models[j], q, mean_quality[j]);
		cr_assert(fabs(c - mean_cost[j]) < 1e-9 * mean_cost[j], "%s: mean cost %.12e, want %.12e", models[j], c,
			  mean_cost[j]);
	}
	/* Per eval, for the strongest and the cheapest model (gpt-4-1106-preview, mistral-7b). */
	static const struct {
		uint32_t eval, model;
		size_t n;
		double q, c;
	} per_eval[] = {
		{0, 4, 1470, 0.9544217687, 5.027319727891e-03}, {0, 10, 1470, 0.6700680272, 1.003459863946e-04},
		{1, 4, 427, 0.6861826698, 9.377142857143e-03},  {1, 10, 427, 0.3442622951, 4.846088992974e-05},
		{2, 4, 1267, 0.8587213891, 3.530647198106e-03}, {2, 10, 1267, 0.5659037096, 7.041294396212e-05},
	};
	for (size_t k = 0; k < sizeof(per_eval) / sizeof(per_eval[0]); k++) {
		double q = 0, c = 0;
		size_t n = 0;
		for (size_t i = 0; i < ds->n; i++) {
			if (ds->eval[i] != per_eval[k].eval)
				continue;
			q += ds->quality[i * 11 + per_eval[k].model];
			c += ds->cost[i * 11 + per_eval[k].model];
			n++;
		}
		cr_assert_eq(n, per_eval[k].n);
		cr_assert(fabs(q / (double)n - per_eval[k].q) < 1e-9, "case %zu: quality %.10f", k, q / (double)n);
		cr_assert(fabs(c / (double)n - per_eval[k].c) < 1e-9 * per_eval[k].c, "case %zu: cost %.12e", k, c / (double)n);
	}
	rbe_dataset_free(ds);
}

Test(realdata, a_merged_sample_takes_each_model_from_its_quality_row)
{
	/* arc-challenge.val.136 has rows with index 1598 (train file: gpt-3.5's quality, a two-item
	 * prompt) and 1599 (test file: the other ten). */
	rbe_dataset *ds = import_real(0, NULL);
	size_t i = 0;
	while (i < ds->n && strcmp(ds->sample_ids[i], "arc-challenge.val.136"))
		i++;
	cr_assert_lt(i, ds->n);
	cr_assert_eq(i, 1214);
	const char *p = ds->prompts[i];
	cr_assert(!strncmp(p, "George wants to warm his hands quickly by rubbing them.", 55));
	cr_assert_eq(strlen(p), 3775, "the prompt comes from the first row (two items joined)");
	size_t newlines = 0;
	for (; *p; p++)
		newlines += *p == '\n';
	cr_assert_eq(newlines, 103);
	const double *c = ds->cost + i * 11;
	const float *q = ds->quality + i * 11;
	cr_assert_eq(q[0], 1.0f);
	cr_assert_eq(c[0], 0.00095);  /* gpt-3.5-turbo-1106, from the train row */
	cr_assert_eq(c[2], 0.003816); /* claude-v1, from the test row */
	cr_assert_eq(c[4], 0.00477);  /* gpt-4-1106-preview */
	cr_assert_eq(q[9], 0.0f);     /* meta/code-llama-instruct-34b-chat */
	rbe_dataset_free(ds);
}

Test(realdata, every_value_matches_the_python_reference)
{
	char hex[65];
	rbe_dataset *ds = import_real(0, NULL);
	digest_of(ds, hex);
	cr_assert_str_eq(hex, REFERENCE_DIGEST);
	rbe_dataset_free(ds);
	/* The index column fixes the order, so the order of the files does not matter. */
	ds = import_real(1, NULL);
	digest_of(ds, hex);
	cr_assert_str_eq(hex, REFERENCE_DIGEST);
	rbe_dataset_free(ds);
}

Test(realdata, round_trips_through_rbds)
{
	rbe_dataset *ds = import_real(0, NULL);
	rbe_dataset *back = rbds_round_trip(ds);
	expect_same_dataset(ds, back);
	cr_assert_not_null(back->responses);
	char hex[65];
	digest_of(back, hex);
	cr_assert_str_eq(hex, REFERENCE_DIGEST);
	rbe_dataset_free(back);
	rbe_dataset_free(ds);
}
