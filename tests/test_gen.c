/* test_gen.c — the demo generator: shape, determinism, calibration to Table 1, text signal, CLI. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/gen.h"
#include "helpers.h"
#include "data/rbds_format.h"
#include "lib/util.h"

/* ---- helpers ---- */

static rbe_dataset *build(const rbe_gen_opts *o, rbe_gen_info *info)
{
	rbe_error e = {0};
	rbe_dataset *ds = NULL;
	int rc = rbe_gen_build(o, &ds, info, &e);
	cr_assert_eq(rc, 0, "rbd_gen_build: %s", e.msg);
	return ds;
}

static rbe_dataset *build_demo(rbe_gen_info *info)
{
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	return build(&o, info);
}

static char tmpdir[256];

static void make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/rbgen-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void remove_tmpdir(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static void tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Run $RBCTL with args (NULL-terminated), stdout and stderr into files of the tmp dir; returns
 * the exit status. */
static int run_rbctl(const char *const *args)
{
	cr_assert_not_null(getenv("RBCTL"), "RBCTL is not set (run the suite through meson test)");
	cmd_result r = rbctl_cmd(args);
	const char *names[2] = {"stdout", "stderr"}, *texts[2] = {r.out, r.err};
	for (int k = 0; k < 2; k++) {
		char path[300];
		tmp_path(path, sizeof(path), names[k]);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f, "%s", path);
		fputs(texts[k], f);
		fclose(f);
	}
	cmd_free(&r);
	cr_assert(r.status >= 0 && r.status < 128, "rbctl did not exit normally");
	return r.status;
}

static char *read_tmp(const char *name, size_t *len)
{
	char path[300];
	tmp_path(path, sizeof(path), name);
	char *data = NULL;
	size_t n = 0;
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(path, &data, &n, &e), 0, "%s", e.msg);
	if (len)
		*len = n;
	return data;
}

static void file_sha(const char *name, char hex[65])
{
	size_t n = 0;
	char *data = read_tmp(name, &n);
	uint8_t h[32];
	rbe_sha256_buf(data, n, h);
	rbe_hex(h, 32, hex);
	free(data);
}

static const char *const expected_tasks[] = {"mt-bench", "mbpp", "hellaswag", "winogrande",
					     "grade-school-math", "arc-challenge"};

/* ---- shape ---- */

Test(gen, demo_shape_counts_and_order)
{
	rbe_dataset *ds = build_demo(NULL);
	cr_assert_eq(ds->n, 34778);
	cr_assert_eq(ds->n_models, RBE_GEN_PAPER_MODELS);
	for (uint32_t j = 0; j < ds->n_models; j++)
		cr_assert_str_eq(ds->model_names[j], rbe_gen_paper_models[j]);
	cr_assert_str_eq(ds->model_names[0], "WizardLM/WizardLM-13B-V1.2");
	cr_assert_str_eq(ds->model_names[10], "gpt-4-1106-preview");
	cr_assert_eq(ds->n_evals, 57 + 6);

	/* 57 distinct mmlu-<subject> names, hyphenated, then the other tasks in order */
	size_t mmlu_total = 0;
	for (uint32_t k = 0; k < 57; k++) {
		const char *ev = ds->eval_names[k];
		cr_assert(!strncmp(ev, "mmlu-", 5), "%s", ev);
		cr_assert_null(strpbrk(ev, "_ ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "%s is not hyphenated lowercase", ev);
		for (uint32_t l = 0; l < k; l++)
			cr_assert_str_neq(ev, ds->eval_names[l]);
		mmlu_total += rbe_gen_mmlu_counts[k];
	}
	cr_assert_eq(mmlu_total, 14042);
	cr_assert_str_eq(ds->eval_names[0], "mmlu-abstract-algebra");
	cr_assert_str_eq(ds->eval_names[23], "mmlu-high-school-government-and-politics");
	for (uint32_t k = 0; k < 6; k++)
		cr_assert_str_eq(ds->eval_names[57 + k], expected_tasks[k]);

	/* contiguous tasks, per-eval counts, ids <eval>.gen.<k> */
	size_t *count = calloc(ds->n_evals, sizeof(size_t));
	char id[200];
	for (size_t i = 0; i < ds->n; i++) {
		uint32_t ev = ds->eval[i];
		if (i)
			cr_assert_geq(ev, ds->eval[i - 1], "tasks are not contiguous at sample %zu", i);
		snprintf(id, sizeof(id), "%s.gen.%zu", ds->eval_names[ev], count[ev]);
		cr_assert_str_eq(ds->sample_ids[i], id);
		count[ev]++;
		cr_assert(strlen(ds->prompts[i]) > 10);
	}
	for (uint32_t k = 0; k < 57; k++)
		cr_assert_eq(count[k], rbe_gen_mmlu_counts[k], "%s", ds->eval_names[k]);
	const size_t other[] = {80, 427, 10042, 1267, 7450, 1470};
	for (uint32_t k = 0; k < 6; k++)
		cr_assert_eq(count[57 + k], other[k], "%s", ds->eval_names[57 + k]);
	free(count);
	cr_assert_str_eq(ds->sample_ids[14042], "mt-bench.gen.0");
	cr_assert_str_eq(ds->sample_ids[14042 + 80 + 17], "mbpp.gen.17");
	cr_assert_null(ds->responses);
	rbe_dataset_free(ds);
}

Test(gen, costs_follow_tokens_and_prices)
{
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	o.responses = 1;
	rbe_dataset *ds = build(&o, NULL);
	cr_assert_not_null(ds->prompt_tokens);
	cr_assert_not_null(ds->completion_tokens);
	cr_assert_not_null(ds->responses);
	const uint32_t m = ds->n_models;
	for (size_t i = 0; i < ds->n; i++) {
		cr_assert_gt(ds->prompt_tokens[i], 0);
		for (uint32_t j = 0; j < m; j++) {
			uint32_t ct = ds->completion_tokens[i * m + j];
			cr_assert_gt(ct, 0);
			double want = ((double)ds->prompt_tokens[i] * rbe_gen_paper_prices[j][0] +
				       (double)ct * rbe_gen_paper_prices[j][1]) / 1e6;
			cr_assert(fabs(ds->cost[i * m + j] - want) <= 1e-12 * want, "%s/%s: cost %g, tokens say %g",
				  ds->sample_ids[i], ds->model_names[j], ds->cost[i * m + j], want);
			cr_assert(ds->responses[i * m + j][0] != '\0');
		}
	}
	rbe_dataset_free(ds);
}

Test(gen, scores_binary_and_mtbench_tenths)
{
	rbe_dataset *ds = build_demo(NULL);
	const uint32_t m = ds->n_models;
	size_t fractional = 0;
	for (size_t i = 0; i < ds->n; i++) {
		int mtb = !strcmp(ds->eval_names[ds->eval[i]], "mt-bench");
		for (uint32_t j = 0; j < m; j++) {
			float q = ds->quality[i * m + j];
			if (mtb) {
				double t = (double)q * 10.0;
				cr_assert(fabs(t - round(t)) < 1e-5, "mt-bench score %g is not a multiple of 0.1", (double)q);
				fractional += q > 0 && q < 1;
			} else {
				cr_assert(q == 0.0f || q == 1.0f, "%s: score %g", ds->sample_ids[i], (double)q);
			}
		}
	}
	cr_assert_gt(fractional, 80, "mt-bench scores should be graded, not only 0 and 1");
	rbe_dataset_free(ds);
}

/* ---- calibration ---- */

Test(gen, calibrated_to_table1, .timeout = 300)
{
	rbe_gen_info info;
	rbe_dataset *ds = build_demo(&info);
	rbe_gen_calib *c = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_gen_calibration(ds, 42, 0.7, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c->n_groups, RBE_GEN_PAPER_TASKS);
	cr_assert_eq(info.n_tasks, RBE_GEN_PAPER_TASKS);
	for (uint32_t g = 0; g < c->n_groups; g++) {
		const rbe_gen_calib_group *gr = &c->groups[g];
		int t = rbe_gen_paper_task_index(gr->name);
		cr_assert_eq(t, (int)g, "group %u is %s", g, gr->name);
		int mtb = !strcmp(gr->name, "mt-bench");
		size_t n = rbe_gen_paper_counts[t];
		cr_assert_eq(gr->n, n);
		cr_assert_eq(gr->n_test, n - (size_t)floor(0.7 * (double)n), "%s n_test", gr->name);
		double per_query_n = (double)rbe_gen_paper_n_test(t);
		for (uint32_t j = 0; j < c->n_models; j++) {
			const rbe_gen_cell *ref = rbe_gen_table1_lookup(c->model_names[j], gr->name);
			cr_assert_not_null(ref);
			double q = mtb ? gr->quality_all[j] : gr->quality_test[j];
			cr_assert(fabs(q - ref->quality) <= 0.02, "%s %s: quality %.4f, Table 1 %.3f", gr->name,
				  c->model_names[j], q, ref->quality);
			cr_assert(fabs(gr->quality_test[j] - ref->quality) <= 0.02, "%s %s: test quality %.4f vs %.3f",
				  gr->name, c->model_names[j], gr->quality_test[j], ref->quality);
			double mean = mtb ? gr->cost_all[j] / (double)gr->n : gr->cost_test[j] / (double)gr->n_test;
			double want = ref->cost_total_usd / per_query_n;
			cr_assert(fabs(mean / want - 1) <= 0.15, "%s %s: cost per query %.3g, Table 1 %.3g", gr->name,
				  c->model_names[j], mean, want);
		}
		const rbe_gen_cell *oref = rbe_gen_table1_lookup("oracle", gr->name);
		cr_assert(fabs(gr->oracle_quality_test - oref->quality) <= 0.03, "%s oracle %.4f, Table 1 %.3f",
			  gr->name, gr->oracle_quality_test, oref->quality);
		if (mtb)
			cr_assert(fabs(gr->oracle_quality_all - oref->quality) <= 0.03);
		cr_assert(fabs(info.task[t].oracle_got - oref->quality) <= 0.03);
		cr_assert(info.task[t].noise >= 0);
	}
	/* the report prints one oracle row per task */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	rbe_gen_calib_print(c, &info, f);
	fclose(f);
	size_t oracles = 0;
	for (char *p = buf; (p = strstr(p, " oracle ")); p++)
		oracles++;
	cr_assert_eq(oracles, RBE_GEN_PAPER_TASKS, "%s", buf);
	free(buf);
	rbe_gen_calib_free(c);
	rbe_dataset_free(ds);
}

/* Errors must be correlated as on real data: the oracle is far below "any model right". */
Test(gen, errors_are_correlated)
{
	rbe_dataset *ds = build_demo(NULL);
	const uint32_t m = ds->n_models;
	/* grade-school-math: best model 0.664, oracle 0.748; independent errors would give ~1 */
	size_t n = 0, all_wrong = 0;
	for (size_t i = 0; i < ds->n; i++) {
		if (strcmp(ds->eval_names[ds->eval[i]], "grade-school-math"))
			continue;
		int any = 0;
		for (uint32_t j = 0; j < m; j++)
			any |= ds->quality[i * m + j] > 0;
		n++;
		all_wrong += !any;
	}
	cr_assert_eq(n, 7450);
	cr_assert_gt((double)all_wrong / (double)n, 0.15);
	rbe_dataset_free(ds);
}

/* ---- determinism ---- */

Test(gen, same_seed_same_bytes_cli, .timeout = 300)
{
	make_tmpdir();
	char a[300], b[300], c[300];
	tmp_path(a, sizeof(a), "a.rbds");
	tmp_path(b, sizeof(b), "b.rbds");
	tmp_path(c, sizeof(c), "c.rbds");
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--preset", "routerbench", "--seed", "7", "-o", a, NULL}), 0);
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--seed", "7", "-q", "-o", b, NULL}), 0);
	size_t errlen = 0;
	free(read_tmp("stderr", &errlen));
	cr_assert_eq(errlen, 0, "--quiet still printed");
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--seed", "8", "-q", "-o", c, NULL}), 0);
	char ha[65], hb[65], hc[65];
	file_sha("a.rbds", ha);
	file_sha("b.rbds", hb);
	file_sha("c.rbds", hc);
	cr_assert_str_eq(ha, hb, "same seed, different bytes");
	cr_assert_str_neq(ha, hc, "different seeds, same bytes");

	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(a, &ds, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 34778);
	cr_assert_eq(ds->n_models, 11);
	rbe_dataset_free(ds);
	remove_tmpdir();
}

Test(gen, same_seed_same_bytes_synthetic_with_responses)
{
	make_tmpdir();
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	o.preset = RBE_GEN_SYNTHETIC;
	o.n_prompts = 3000;
	o.n_models = 13;
	o.n_tasks = 4;
	o.responses = 1;
	o.seed = 99;
	const char *names[] = {"s1.rbds", "s2.rbds", "s3.rbds"};
	for (int k = 0; k < 3; k++) {
		if (k == 2)
			o.seed = 100;
		rbe_dataset *ds = build(&o, NULL);
		cr_assert_not_null(ds->responses);
		char path[300];
		tmp_path(path, sizeof(path), names[k]);
		rbe_error e = {0};
		cr_assert_eq(rbe_rbds_write(ds, path, &e), 0, "%s", e.msg);
		rbe_dataset_free(ds);
	}
	char h1[65], h2[65], h3[65];
	file_sha(names[0], h1);
	file_sha(names[1], h2);
	file_sha(names[2], h3);
	cr_assert_str_eq(h1, h2);
	cr_assert_str_neq(h1, h3);
	remove_tmpdir();
}

/* ---- the embedded table is the reference file ---- */

Test(gen, embedded_table_matches_reference_json)
{
	const char *shared = getenv("RB_SHARED_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/reference/routerbench-paper.json", shared ? shared : "../shared");
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	if (!root)
		cr_skip_test("reference table absent (%s: %s); skipping the comparison", path, err.text);
	json_t *t1 = json_object_get(root, "table1");
	cr_assert(json_is_object(t1));
	cr_assert_eq(json_object_size(t1), RBE_GEN_PAPER_MODELS + 1);
	const char *model;
	json_t *row;
	int j = 0;
	json_object_foreach(t1, model, row) {
		int oracle = !strcmp(model, "oracle");
		int r = oracle ? RBE_GEN_PAPER_MODELS : j;
		if (!oracle) {
			cr_assert_lt(j, RBE_GEN_PAPER_MODELS);
			cr_assert_str_eq(rbe_gen_paper_models[j], model, "model order differs at %d", j);
			j++;
		}
		cr_assert_eq(json_object_size(row), RBE_GEN_PAPER_TASKS);
		const char *task;
		json_t *cell;
		int t = 0;
		json_object_foreach(row, task, cell) {
			cr_assert_str_eq(rbe_gen_paper_tasks[t], task, "%s: task order differs at %d", model, t);
			double q = json_number_value(json_object_get(cell, "quality"));
			double cost = json_number_value(json_object_get(cell, "cost_total_usd"));
			cr_assert_eq(rbe_gen_table1[r][t].quality, q, "%s %s quality", model, task);
			cr_assert_eq(rbe_gen_table1[r][t].cost_total_usd, cost, "%s %s cost", model, task);
			t++;
		}
	}
	cr_assert_eq(j, RBE_GEN_PAPER_MODELS);

	json_t *prices = json_object_get(root, "prices_usd_per_1m_tokens");
	cr_assert_eq(json_object_size(prices), RBE_GEN_PAPER_MODELS);
	for (j = 0; j < RBE_GEN_PAPER_MODELS; j++) {
		json_t *p = json_object_get(prices, rbe_gen_paper_models[j]);
		cr_assert_not_null(p, "%s has no price", rbe_gen_paper_models[j]);
		cr_assert_eq(rbe_gen_paper_prices[j][0], json_number_value(json_object_get(p, "prompt")));
		cr_assert_eq(rbe_gen_paper_prices[j][1], json_number_value(json_object_get(p, "completion")));
	}

	json_t *counts = json_object_get(root, "released_0shot_counts_per_task");
	cr_assert_eq(json_object_size(counts), RBE_GEN_PAPER_TASKS);
	const char *key;
	json_t *v;
	size_t total = 0;
	json_object_foreach(counts, key, v) {
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(key, " "), key);
		int t = rbe_gen_paper_task_index(name);
		cr_assert_geq(t, 0, "unknown task %s", name);
		cr_assert_eq(rbe_gen_paper_counts[t], (size_t)json_integer_value(v), "%s", name);
		total += rbe_gen_paper_counts[t];
	}
	cr_assert_eq(total, 34778);
	json_decref(root);
}

/* ---- scale mode ---- */

Test(gen, synthetic_shape_via_cli, .timeout = 300)
{
	make_tmpdir();
	char path[300];
	tmp_path(path, sizeof(path), "scaled.rbds");
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--prompts", "20000", "--models", "16", "--tasks", "5",
						"--seed", "3", "-q", "-o", path, NULL}),
		     0);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 20000);
	cr_assert_eq(ds->n_models, 16);
	cr_assert_eq(ds->n_evals, 5);
	for (uint32_t j = 0; j < 11; j++)
		cr_assert_str_eq(ds->model_names[j], rbe_gen_paper_models[j]);
	char name[32];
	for (uint32_t j = 11; j < 16; j++) {
		snprintf(name, sizeof(name), "model-%u", j + 1);
		cr_assert_str_eq(ds->model_names[j], name);
	}
	size_t count[5] = {0};
	for (uint32_t k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "task-%u", k + 1);
		cr_assert_str_eq(ds->eval_names[k], name);
	}
	const uint32_t m = ds->n_models;
	double *qsum = calloc(m, sizeof(double));
	for (size_t i = 0; i < ds->n; i++) {
		if (i)
			cr_assert_geq(ds->eval[i], ds->eval[i - 1]);
		count[ds->eval[i]]++;
		cr_assert_gt(ds->prompt_tokens[i], 0);
		for (uint32_t j = 0; j < m; j++) {
			float q = ds->quality[i * m + j];
			cr_assert(q == 0.0f || q == 1.0f);
			qsum[j] += q;
			cr_assert(ds->cost[i * m + j] > 0 && isfinite(ds->cost[i * m + j]));
			cr_assert_gt(ds->completion_tokens[i * m + j], 0);
		}
	}
	for (uint32_t k = 0; k < 5; k++)
		cr_assert_eq(count[k], 4000);
	for (uint32_t j = 0; j < m; j++) {
		double mean = qsum[j] / (double)ds->n;
		cr_assert(mean > 0.05 && mean < 0.95, "%s mean quality %.3f", ds->model_names[j], mean);
	}
	free(qsum);
	cr_assert_str_eq(ds->sample_ids[4000], "task-2.gen.0");
	rbe_dataset_free(ds);
	remove_tmpdir();
}

/* ---- the text carries the signal a text-based router needs ---- */

/* For one task: is there a word whose prompts have a different best model than the rest, by
 * more than 4 standard errors? */
static int word_signal(const rbe_dataset *ds, const char *group_prefix, char *found, size_t found_len)
{
	const uint32_t m = ds->n_models;
	rbe_strmap *words = rbe_strmap_new();
	size_t n_words = 0, cap = 0, n_task = 0;
	size_t *df = NULL;
	/* document frequency per distinct word */
	for (size_t i = 0; i < ds->n; i++) {
		if (strncmp(ds->eval_names[ds->eval[i]], group_prefix, strlen(group_prefix)))
			continue;
		n_task++;
		char *text = rbe_xstrdup(ds->prompts[i]), *save = NULL;
		rbe_strmap *seen = rbe_strmap_new();
		for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (rbe_strmap_put(seen, w, 1) >= 0)
				continue;
			long k = rbe_strmap_get(words, w);
			if (k < 0) {
				k = (long)n_words++;
				rbe_strmap_put(words, w, k);
				if (n_words > cap) {
					cap = cap ? cap * 2 : 256;
					df = realloc(df, cap * sizeof(size_t));
				}
				df[k] = 0;
			}
			df[k]++;
		}
		rbe_strmap_free(seen);
		free(text);
	}
	double *qin = calloc(n_words * m, sizeof(double)), *qall = calloc(m, sizeof(double));
	for (size_t i = 0; i < ds->n; i++) {
		if (strncmp(ds->eval_names[ds->eval[i]], group_prefix, strlen(group_prefix)))
			continue;
		for (uint32_t j = 0; j < m; j++)
			qall[j] += ds->quality[i * m + j];
		char *text = rbe_xstrdup(ds->prompts[i]), *save = NULL;
		rbe_strmap *seen = rbe_strmap_new();
		for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (rbe_strmap_put(seen, w, 1) >= 0)
				continue;
			long k = rbe_strmap_get(words, w);
			for (uint32_t j = 0; j < m; j++)
				qin[(size_t)k * m + j] += ds->quality[i * m + j];
		}
		rbe_strmap_free(seen);
		free(text);
	}
	int hits = 0;
	/* recover each word's text by scanning prompts again only for the reported one */
	long hit_word = -1;
	for (size_t k = 0; k < n_words; k++) {
		size_t a = df[k], b = n_task - df[k];
		if (a < 100 || b < 100)
			continue;
		uint32_t best_a = 0, best_b = 0;
		for (uint32_t j = 0; j < m; j++) {
			double in = qin[k * m + j] / (double)a, out = (qall[j] - qin[k * m + j]) / (double)b;
			if (in > qin[k * m + best_a] / (double)a)
				best_a = j;
			if (out > (qall[best_b] - qin[k * m + best_b]) / (double)b)
				best_b = j;
		}
		if (best_a == best_b)
			continue;
		/* on the word's prompts, its best model beats the others' best by > 4 standard errors */
		double qa = qin[k * m + best_a] / (double)a, qb = qin[k * m + best_b] / (double)a;
		double se = sqrt((qa * (1 - qa) + qb * (1 - qb)) / (double)a);
		if (qa - qb > 4 * se) {
			hits++;
			if (hit_word < 0)
				hit_word = (long)k;
		}
	}
	if (hit_word >= 0) {
		/* find the word's spelling */
		for (size_t i = 0; i < ds->n && !found[0]; i++) {
			if (strncmp(ds->eval_names[ds->eval[i]], group_prefix, strlen(group_prefix)))
				continue;
			char *text = rbe_xstrdup(ds->prompts[i]), *save = NULL;
			for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save))
				if (rbe_strmap_get(words, w) == hit_word) {
					snprintf(found, found_len, "%s", w);
					break;
				}
			free(text);
		}
	}
	free(df);
	free(qin);
	free(qall);
	rbe_strmap_free(words);
	return hits;
}

Test(gen, prompt_words_predict_the_best_model, .timeout = 300)
{
	rbe_dataset *ds = build_demo(NULL);
	char word[64] = "";
	int hits = word_signal(ds, "mmlu-", word, sizeof(word));
	cr_log_info("mmlu: %d words with a different best model, e.g. '%s'", hits, word);
	cr_assert_geq(hits, 1, "no prompt word separates the best model on mmlu");
	rbe_dataset_free(ds);

	/* the synthetic preset has the same structure */
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	o.preset = RBE_GEN_SYNTHETIC;
	o.n_prompts = 20000;
	o.n_models = 8;
	o.n_tasks = 2;
	ds = build(&o, NULL);
	word[0] = '\0';
	hits = word_signal(ds, "task-1", word, sizeof(word));
	cr_log_info("synthetic task-1: %d words, e.g. '%s'", hits, word);
	cr_assert_geq(hits, 1, "no prompt word separates the best model on a synthetic task");
	rbe_dataset_free(ds);
}

/* Harder prompts are longer and cost more: the text reflects difficulty too. */
Test(gen, longer_prompts_are_harder)
{
	rbe_dataset *ds = build_demo(NULL);
	const uint32_t m = ds->n_models;
	double q_short = 0, q_long = 0;
	size_t n_short = 0, n_long = 0;
	for (size_t i = 0; i < ds->n; i++) {
		if (strcmp(ds->eval_names[ds->eval[i]], "hellaswag"))
			continue;
		size_t words = 1;
		for (const char *p = ds->prompts[i]; *p; p++)
			words += *p == ' ';
		double q = 0;
		for (uint32_t j = 0; j < m; j++)
			q += ds->quality[i * m + j] / m;
		if (words <= 24)
			q_short += q, n_short++;
		else if (words >= 32)
			q_long += q, n_long++;
	}
	cr_assert(n_short > 500 && n_long > 500, "%zu short, %zu long", n_short, n_long);
	cr_assert_gt(q_short / n_short, q_long / n_long + 0.05, "short %.3f, long %.3f", q_short / n_short,
		     q_long / n_long);
	rbe_dataset_free(ds);
}

/* ---- options ---- */

static void expect_usage(const char *const *args, const char *what)
{
	cr_assert_eq(run_rbctl(args), 2, "%s: want exit 2", what);
	size_t len = 0;
	char *err = read_tmp("stderr", &len);
	cr_assert_gt(len, 0, "%s: no message", what);
	cr_assert_not_null(strstr(err, "rbctl gen"), "%s: %s", what, err);
	free(err);
}

Test(gen, bad_options_exit_2)
{
	make_tmpdir();
	char path[300];
	tmp_path(path, sizeof(path), "never.rbds");
	expect_usage((const char *[]){"gen", "--prompts", "0", "-o", path, NULL}, "--prompts 0");
	expect_usage((const char *[]){"gen", "--models", "0", "-o", path, NULL}, "--models 0");
	expect_usage((const char *[]){"gen", "--tasks", "0", "-o", path, NULL}, "--tasks 0");
	expect_usage((const char *[]){"gen", "--preset", "nope", "-o", path, NULL}, "unknown preset");
	expect_usage((const char *[]){"gen", "--prompts", "-5", "-o", path, NULL}, "negative prompts");
	expect_usage((const char *[]){"gen", "--prompts", "10", "--tasks", "11", "-o", path, NULL}, "tasks > prompts");
	expect_usage((const char *[]){"gen", "--preset", "routerbench", "--models", "3", "-o", path, NULL},
		     "routerbench with a size");
	expect_usage((const char *[]){"gen", "--train-fraction", "1.5", "-o", path, NULL}, "fraction");
	expect_usage((const char *[]){"gen", "--seed", "x", "-o", path, NULL}, "seed");
	expect_usage((const char *[]){"gen", "--bogus", "-o", path, NULL}, "unknown option");
	expect_usage((const char *[]){"gen", NULL}, "no -o");
	expect_usage((const char *[]){"gen", "-o", NULL}, "-o without a value");
	struct stat st;
	cr_assert_neq(stat(path, &st), 0, "a failed run left a file");
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--help", NULL}), 0);
	size_t len = 0;
	char *out = read_tmp("stdout", &len);
	cr_assert_not_null(strstr(out, "--prompts"));
	free(out);
	remove_tmpdir();
}

Test(gen, api_rejects_bad_sizes)
{
	rbe_gen_opts o;
	rbe_gen_opts_init(&o);
	o.preset = RBE_GEN_SYNTHETIC;
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	o.n_prompts = 0;
	cr_assert_eq(rbe_gen_build(&o, &ds, NULL, &e), -EINVAL);
	cr_assert(strlen(e.msg) > 0);
	o.n_prompts = 10;
	o.n_models = 0;
	cr_assert_eq(rbe_gen_build(&o, &ds, NULL, &e), -EINVAL);
	o.n_models = 2;
	o.n_tasks = 11;
	cr_assert_eq(rbe_gen_build(&o, &ds, NULL, &e), -EINVAL);
	o.n_tasks = 2;
	o.train_fraction = 1.0;
	cr_assert_eq(rbe_gen_build(&o, &ds, NULL, &e), -EINVAL);
	cr_assert_null(ds);
	rbe_gen_preset p;
	cr_assert_eq(rbe_gen_preset_parse("routerbench", &p), 0);
	cr_assert_eq(p, RBE_GEN_ROUTERBENCH);
	cr_assert_eq(rbe_gen_preset_parse("synthetic", &p), 0);
	cr_assert_eq(p, RBE_GEN_SYNTHETIC);
	cr_assert_eq(rbe_gen_preset_parse("paper", &p), -EINVAL);
}

Test(gen, report_on_stdout, .timeout = 300)
{
	make_tmpdir();
	char path[300];
	tmp_path(path, sizeof(path), "r.rbds");
	cr_assert_eq(run_rbctl((const char *[]){"gen", "--report", "-q", "-o", path, NULL}), 0);
	size_t len = 0;
	char *out = read_tmp("stdout", &len);
	cr_assert_not_null(strstr(out, "grade-school-math  oracle"), "%s", out);
	cr_assert_not_null(strstr(out, "gpt-4-1106-preview"));
	cr_assert_not_null(strstr(out, "noise_lambda="));
	free(out);
	remove_tmpdir();
}
