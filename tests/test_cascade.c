/* test_cascade.c — the cascade router: ordering, budget, judge, threshold quantile, curves, seeds. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "helpers.h"
#include "data/split.h"

#define EPS 1e-12

/* A deterministic stream for test data (no dependence on the router's generator). */
static uint64_t lcg_next(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

/* Five models, dearest not last in dataset order: cheapest is "b", then "e", "d", "a", "c".
 * Scores are 0/1 at random (so the default 0.95 quantile threshold is 1); costs vary by prompt. */
#define RAND_M 5
static const char *rand_models[RAND_M] = {"a", "b", "c", "d", "e"};
static const double rand_base_cost[RAND_M] = {0.05, 0.001, 0.2, 0.01, 0.003};

static rbe_dataset *random_dataset(size_t n, uint64_t seed)
{
	rbe_builder *b = rbe_builder_new(RAND_M, rand_models);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t.%zu", i);
		float q[RAND_M];
		double c[RAND_M];
		for (int j = 0; j < RAND_M; j++) {
			q[j] = (float)(lcg_next(&seed) % 2);
			c[j] = rand_base_cost[j] * (0.5 + (double)(lcg_next(&seed) % 1000) / 1000.0);
		}
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

/* The worked example of docs/metrics.md: 13 prompts split 9/4 by the paper split (seed 42);
 * test rows below, train rows (0, 1, 0.5); cost per prompt A 0.001, B 0.01, C 0.1. */
static const float ex_q[4][3] = {{1, 1, 1}, {0, 1, 1}, {0, 0, 1}, {0, 0, 0}};
static const double ex_c[3] = {0.001, 0.01, 0.1};

static rbe_dataset *worked_example(void)
{
	const char *models[3] = {"A", "B", "C"};
	rbe_builder *b = rbe_builder_new(3, models);
	uint8_t is_train[13];
	rbe_split_assign(13, 42, 0.7, is_train);
	int next_test = 0;
	for (int i = 0; i < 13; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t.%d", i);
		float q[3] = {0, 1, 0.5f};
		if (!is_train[i])
			memcpy(q, ex_q[next_test++], sizeof(q));
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "prompt", .quality = q, .cost = ex_c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	cr_assert_eq(next_test, 4);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

/* Evaluate with the given settings; NULL on failure (parse or evaluation) with e filled. */
static json_t *run_cascade(const rbe_dataset *ds, const char *const *settings, size_t n_settings,
			   const rbe_eval_opts *o, rbe_error *e)
{
	return run_router(builtin_plugin("cascade"), ds, settings, n_settings, o, e);
}

static json_t *run_ok(const rbe_dataset *ds, const char *const *settings, size_t n_settings, const rbe_eval_opts *o)
{
	rbe_error e = {0};
	json_t *r = run_cascade(ds, settings, n_settings, o, &e);
	cr_assert_not_null(r, "cascade failed: %s", e.msg);
	return r;
}

static json_t *get(json_t *root, const char *path)
{
	json_t *cur = root;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
	cr_assert_not_null(cur, "no %s in the result", path);
	return cur;
}

static double atf(json_t *root, const char *fmt, int k)
{
	char path[256];
	snprintf(path, sizeof(path), fmt, k);
	return json_at(root, path);
}

Test(cascade, eps0_unlimited_budget_reaches_the_oracle_quality)
{
	rbe_dataset *ds = random_dataset(400, 7);
	const char *set[] = {"budgets=1e9", "error_rates=0"};
	json_t *r = run_ok(ds, set, 2, NULL);
	double oracle = json_at(r, "tasks/t/oracle/quality");
	cr_assert_gt(oracle, 0.9, "five coin flips: almost every prompt has a correct model");
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/quality"), oracle, EPS);
	/* It pays at least what the oracle pays: it also pays for the cheaper models it rejected. */
	cr_assert_geq(json_at(r, "tasks/t/router/points/0/cost_total"), json_at(r, "tasks/t/oracle/cost_total") - EPS);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(cascade, tiny_budget_always_answers_with_the_cheapest_model)
{
	rbe_dataset *ds = random_dataset(200, 11);
	const char *set[] = {"budgets=0,1e-9"};
	json_t *r = run_ok(ds, set, 1, NULL);
	size_t n_points = json_array_size(get(r, "tasks/t/router/points"));
	cr_assert_eq(n_points, 2 * 8, "2 budgets × the 8 default error rates");
	for (int p = 0; p < (int)n_points; p++) {
		cr_assert_float_eq(atf(r, "tasks/t/router/points/%d/share/b", p), 1.0, EPS, "point %d", p);
		cr_assert_float_eq(atf(r, "tasks/t/router/points/%d/cost_total", p), json_at(r, "tasks/t/llms/b/cost_total"),
				   EPS);
		cr_assert_float_eq(atf(r, "tasks/t/router/points/%d/quality", p), json_at(r, "tasks/t/llms/b/quality"), EPS);
	}
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(cascade, equal_mean_costs_keep_dataset_order)
{
	const char *models[3] = {"dear", "first", "second"};
	rbe_builder *b = rbe_builder_new(3, models);
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i);
		float q[3] = {1, 0, 1};
		double c[3] = {1.0, 0.5, 0.5};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	/* Budget 0: only the first of the chain. Budget 1.2: "first" (rejected, score 0) then
	 * "second" (0.5 + 0.5 <= 1.2, accepted); "dear" would need 2.0. */
	const char *set[] = {"budgets=0,1.2", "error_rates=0"};
	json_t *r = run_ok(ds, set, 2, NULL);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/first"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/share/second"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/quality"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/cost_mean"), 1.0, EPS, "paid for first and second");
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(cascade, worked_example_by_hand_eps0_and_eps1)
{
	rbe_dataset *ds = worked_example();
	const char *set[] = {"budgets=1e9,0.02", "error_rates=0,1", "threshold=0.5"};
	json_t *r = run_ok(ds, set, 3, NULL);
	/* Point order: ε-major. 0: (1e9, 0), 1: (0.02, 0), 2: (1e9, 1), 3: (0.02, 1). */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/param/max_cost_per_response"), 1e9, 0);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/param/judge_error_rate"), 1, 0);

	/* ε = 0, unlimited: 1 → A (0.001); 2 → A, B (0.011); 3 → A, B, C (0.111); 4 → all
	 * rejected, C is final (0.111). Quality 3/4 = the oracle's. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/quality"), 0.75, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/cost_total"), 0.234, EPS);
	/* ε = 0, budget 0.02 (B fits after A: 0.011; C never): 1 → A; 2 → B; 3, 4 → B final. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/quality"), 0.5, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/cost_total"), 0.001 + 3 * 0.011, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/share/B"), 0.75, EPS);

	/* ε = 1: every verdict flipped. 1: A right → rejected, B right → rejected, C final
	 * (0.111, quality 1); 2, 3, 4: A wrong → accepted (0.001 each, quality 0). */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/quality"), 0.25, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/cost_total"), 0.114, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/share/A"), 0.75, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/share/C"), 0.25, EPS);
	/* ε = 1, budget 0.02: prompt 1 stops at B (C does not fit): 0.011, quality 1. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/3/quality"), 0.25, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/3/cost_total"), 0.014, EPS);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(cascade, a_prompt_calling_two_models_costs_both_at_its_real_prices)
{
	/* train_fraction 0.99: 13 prompts → 12 train, 1 test. The test prompt's prices differ from
	 * the train means, so the charge must come from the host's real costs. */
	const char *models[3] = {"A", "B", "C"};
	uint8_t is_train[13];
	rbe_split_assign(13, 42, 0.99, is_train);
	rbe_builder *b = rbe_builder_new(3, models);
	int n_test = 0;
	for (int i = 0; i < 13; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t.%d", i);
		float q_train[3] = {0, 1, 0.5f}, q_test[3] = {0, 1, 1};
		double c_test[3] = {0.002, 0.03, 0.5};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = is_train[i] ? q_train : q_test,
				   .cost = is_train[i] ? ex_c : c_test};
		n_test += !is_train[i];
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	cr_assert_eq(n_test, 1);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.train_fraction = 0.99;
	/* Budget 1e9: A (score 0, rejected) then B (accepted): 0.002 + 0.03. Budget 0.005: B's mean
	 * train cost 0.01 does not fit after A's 0.001, so A alone: 0.002. */
	const char *set[] = {"budgets=1e9,0.005", "error_rates=0", "threshold=0.5"};
	json_t *r = run_ok(ds, set, 3, &o);
	cr_assert_eq(json_at(r, "tasks/t/n_test"), 1);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/cost_total"), 0.032, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/quality"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/B"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/cost_total"), 0.002, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/quality"), 0.0, EPS);
	json_decref(r);
	rbe_dataset_free(ds);
}

/* 20 prompts split 10/10. Train prompt k (k = 0..9) scores (k/20, (k+10)/20): the 20 train
 * scores are 0, 0.05, …, 0.95. numpy.quantile(scores, 0.95) = x[18] + 0.05·(x[19] − x[18])
 * = 0.9025 (h = 19·0.95 = 18.05); at 0.5: h = 9.5, 0.475. Other interpolation rules give 0.9
 * (lower, nearest), 0.925 (midpoint) or 0.95 (higher), which the test scores tell apart. */
static const float probe[5] = {0.474f, 0.476f, 0.902f, 0.903f, 0.0f};

static rbe_dataset *quantile_dataset(void)
{
	const char *models[2] = {"cheap", "dear"};
	uint8_t is_train[20];
	rbe_split_assign(20, 42, 0.5, is_train);
	rbe_builder *b = rbe_builder_new(2, models);
	int k_train = 0, k_test = 0;
	for (int i = 0; i < 20; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t.%d", i);
		float q[2];
		if (is_train[i]) {
			q[0] = (float)k_train / 20.0f;
			q[1] = (float)(k_train + 10) / 20.0f;
			k_train++;
		} else {
			q[0] = probe[k_test++ % 5];
			q[1] = 1.0f;
		}
		double c[2] = {0.001, 0.01};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	cr_assert_eq(k_train, 10);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static double cheap_share(const rbe_dataset *ds, const char *setting)
{
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.train_fraction = 0.5;
	const char *set[] = {"budgets=1e9", "error_rates=0", setting};
	json_t *r = run_ok(ds, set, setting ? 3 : 2, &o);
	double share = json_at(r, "tasks/t/router/points/0/share/cheap");
	json_decref(r);
	return share;
}

Test(cascade, threshold_is_the_numpy_linear_quantile_of_the_train_scores)
{
	rbe_dataset *ds = quantile_dataset();
	/* Cheap is accepted when its test score reaches the threshold; each probe is 2 of 10. */
	cr_assert_float_eq(cheap_share(ds, NULL), 0.2, EPS, "0.9025: only 0.903 passes");
	cr_assert_float_eq(cheap_share(ds, "threshold_quantile=0.95"), 0.2, EPS);
	cr_assert_float_eq(cheap_share(ds, "threshold_quantile=0.5"), 0.6, EPS, "0.475: 0.476, 0.902, 0.903");
	cr_assert_float_eq(cheap_share(ds, "threshold_quantile=1"), 0.0, EPS, "the max, 0.95: nothing passes");
	cr_assert_float_eq(cheap_share(ds, "threshold_quantile=0"), 1.0, EPS, "the min, 0: everything passes");
	cr_assert_float_eq(cheap_share(ds, "threshold=0.9"), 0.4, EPS, "an explicit threshold wins");
	rbe_dataset_free(ds);
}

Test(cascade, each_error_rate_is_its_own_curve_with_its_own_aiq)
{
	rbe_dataset *ds = random_dataset(300, 3);
	json_t *r = run_ok(ds, NULL, 0, NULL);
	static const double eps[8] = {0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8};
	json_t *curves = get(r, "tasks/t/router/curves");
	cr_assert_eq(json_array_size(curves), 8);
	cr_assert_eq(json_array_size(get(r, "tasks/t/router/points")), 88);
	for (int k = 0; k < 8; k++) {
		json_t *c = json_array_get(curves, (size_t)k);
		cr_assert_float_eq(json_number_value(json_object_get(c, "curve")), eps[k], 0);
		json_t *idx = json_object_get(c, "points");
		cr_assert_eq(json_array_size(idx), 11);
		for (int b = 0; b < 11; b++)
			cr_assert_eq(json_integer_value(json_array_get(idx, (size_t)b)), k * 11 + b);
		double aiq = json_number_value(json_object_get(c, "aiq"));
		cr_assert(aiq > 0 && aiq <= 1, "curve %d aiq %g", k, aiq);
		cr_assert(json_is_array(json_object_get(c, "ndch")));
		cr_assert(json_is_number(json_object_get(c, "aiq_code")));
	}
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/12/param/max_cost_per_response"), 0.005, 0);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/12/param/judge_error_rate"), 0.01, 0);
	cr_assert(json_at(r, "tasks/t/router/curves/0/aiq") > json_at(r, "tasks/t/router/curves/7/aiq"),
		  "a judge wrong 80%% of the time does worse than a perfect one");
	cr_assert_not_null(get(r, "overall/router/curves/7/aiq"));

	/* One curve: its hull and AIQ are the router's. */
	const char *one[] = {"error_rates=0.1"};
	json_t *r1 = run_ok(ds, one, 1, NULL);
	cr_assert_eq(json_array_size(get(r1, "tasks/t/router/curves")), 1);
	cr_assert_float_eq(json_at(r1, "tasks/t/router/curves/0/aiq"), json_at(r1, "tasks/t/router/aiq"), 0);
	json_decref(r1);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(cascade, same_seed_gives_an_identical_result)
{
	rbe_dataset *ds = random_dataset(300, 5);
	json_t *a = run_ok(ds, NULL, 0, NULL), *b = run_ok(ds, NULL, 0, NULL);
	cr_assert(json_equal(get(a, "tasks"), get(b, "tasks")));
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.seed = 43;
	json_t *c = run_ok(ds, NULL, 0, &o);
	cr_assert_not(json_equal(get(a, "tasks"), get(c, "tasks")));
	json_decref(a);
	json_decref(b);
	json_decref(c);
	rbe_dataset_free(ds);
}

/* Driving the plugin directly, with our own host, to vary the router seed alone and the order
 * in which (point, prompt) pairs are decided. rb_caller is opaque to the plugin: ours is a row. */
struct rb_caller {
	const float *q;
};

static double test_call(rb_caller *caller, uint32_t model)
{
	return model < RAND_M ? caller->q[model] : -1.0;
}

#define DIRECT_N 200

typedef struct cascade_rig {
	rbe_plugin *p;
	rbe_params *params;
	float train_q[DIRECT_N * RAND_M], test_q[DIRECT_N * RAND_M];
	double train_c[DIRECT_N * RAND_M];
	rb_view train, queries;
	rb_host_api host;
} cascade_rig;

static void direct_setup(cascade_rig *d, const char *setting)
{
	memset(d, 0, sizeof(*d));
	d->p = load_or_fail(builtin_plugin("cascade"));
	rbe_error e = {0};
	cr_assert_eq(rbe_params_parse(d->p->schema, NULL, &setting, setting ? 1 : 0, &d->params, &e), 0, "%s", e.msg);
	uint64_t x = 99;
	for (size_t k = 0; k < DIRECT_N * RAND_M; k++) {
		d->train_q[k] = (float)(lcg_next(&x) % 2);
		d->test_q[k] = (float)(lcg_next(&x) % 2);
		d->train_c[k] = rand_base_cost[k % RAND_M];
	}
	d->train = (rb_view){.n = DIRECT_N, .n_models = RAND_M, .model_names = rand_models, .quality = d->train_q,
			     .cost = d->train_c};
	d->queries = (rb_view){.n = DIRECT_N, .n_models = RAND_M, .model_names = rand_models};
	d->host = (rb_host_api){.size = sizeof(rb_host_api), .abi_minor = RB_ABI_MINOR, .call = test_call, .threads = 1};
}

static void direct_teardown(cascade_rig *d)
{
	rbe_params_free(d->params);
	rbe_plugin_free(d->p);
}

/* decisions[point * DIRECT_N + i]; reverse: decide points and prompts last to first. */
static uint32_t direct_decide(cascade_rig *d, uint64_t seed, int reverse, uint32_t *decisions)
{
	const rb_router *r = d->p->router;
	rb_create_args args = {.size = sizeof(args), .host = &d->host, .params = d->params->values,
			       .train = &d->train, .seed = seed, .task = "t"};
	void *state = NULL;
	char err[256] = "";
	cr_assert_eq(r->create(&args, &state, err, sizeof(err)), 0, "%s", err);
	uint32_t P = r->n_points(state);
	for (uint32_t pp = 0; pp < P; pp++) {
		for (size_t ii = 0; ii < DIRECT_N; ii++) {
			uint32_t p = reverse ? P - 1 - pp : pp;
			size_t i = reverse ? DIRECT_N - 1 - ii : ii;
			rb_caller caller = {.q = d->test_q + i * RAND_M};
			cr_assert_eq(r->decide(state, &d->queries, i, p, &caller, &decisions[p * DIRECT_N + i]), 0);
		}
	}
	r->destroy(state);
	return P;
}

Test(cascade, router_seed_alone_changes_noisy_verdicts_and_order_does_not_matter)
{
	cascade_rig d;
	direct_setup(&d, "error_rates=0,0.4");
	uint32_t P = 11 * 2;
	uint32_t *a = calloc(P * DIRECT_N, sizeof(uint32_t)), *b = calloc(P * DIRECT_N, sizeof(uint32_t)),
		 *c = calloc(P * DIRECT_N, sizeof(uint32_t));
	cr_assert_eq(direct_decide(&d, 1, 0, a), P);
	direct_decide(&d, 1, 1, b);
	direct_decide(&d, 2, 0, c);
	cr_assert_arr_eq(a, b, P * DIRECT_N * sizeof(uint32_t), "same seed, any order: same decisions");
	size_t half = (size_t)11 * DIRECT_N;
	cr_assert_arr_eq(a, c, half * sizeof(uint32_t), "ε = 0 draws nothing that matters");
	cr_assert_arr_neq(a + half, c + half, half * sizeof(uint32_t), "ε = 0.4: another seed, other verdicts");
	free(a);
	free(b);
	free(c);
	direct_teardown(&d);
}

Test(cascade, describe_point_is_json_with_a_curve_label)
{
	cascade_rig d;
	direct_setup(&d, "budgets=0.1,100");
	const rb_router *r = d.p->router;
	rb_create_args args = {.size = sizeof(args), .host = &d.host, .params = d.params->values, .train = &d.train,
			       .seed = 1, .task = "t"};
	void *state = NULL;
	char err[256] = "", buf[256];
	cr_assert_eq(r->create(&args, &state, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r->n_points(state), 16);
	cr_assert_eq(r->describe_point(state, 3, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "{\"max_cost_per_response\": 100, \"judge_error_rate\": 0.01, \"curve\": 0.01}");
	cr_assert_lt(r->describe_point(state, 3, buf, 20), 0, "a short buffer is refused");
	cr_assert_lt(r->describe_point(state, 16, buf, sizeof(buf)), 0);
	r->destroy(state);
	r->destroy(NULL);
	direct_teardown(&d);
}

static void expect_refused(const char *setting, const char *needle, double train_fraction)
{
	rbe_dataset *ds = worked_example();
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.train_fraction = train_fraction;
	expect_run_refused(builtin_plugin("cascade"), ds, setting, &o, needle);
	rbe_dataset_free(ds);
}

/* The host's schema check names the offending list item (core/eval/params.c). */
Test(cascade, error_rates_outside_0_1_are_refused_naming_the_item)
{
	expect_refused("error_rates=-0.1", "parameter 'error_rates': item -0.1 is out of range [0, 1]", 0.7);
	expect_refused("error_rates=0,1.5", "parameter 'error_rates': item 1.5 is out of range [0, 1]", 0.7);
}

Test(cascade, bad_parameters_are_refused_with_a_reason)
{
	expect_refused("error_rates=", "parameter 'error_rates': '' is not a comma-separated list of numbers", 0.7);
	expect_refused("budgets=", "parameter 'budgets': '' is not a comma-separated list of numbers", 0.7);
	expect_refused("budgets=0.1,x", "parameter 'budgets': '0.1,x' is not a comma-separated list", 0.7);
	expect_refused("threshold=2", "parameter 'threshold': 2 is out of range [-1, 1]", 0.7);
	expect_refused("threshold_quantile=1.5", "parameter 'threshold_quantile': 1.5 is out of range [0, 1]", 0.7);
	expect_refused("threshold=-0.5",
		       "router 'cascade' failed in create for task t: threshold -0.5: give a score in [0, 1], or -1 "
		       "to use threshold_quantile",
		       0.7);
	expect_refused("budgets=0.1,-1", "budget -1 is negative", 0.7);
	expect_refused("error_rates=0.1,0.2,0.1", "error_rates lists 0.1 twice", 0.7);
	expect_refused("budgets=1,1", "budgets lists 1 twice", 0.7);
	expect_refused(NULL, "task t has no train prompts", 0.05);
}

/* The brief's speed target: the full 11 × 8 grid over ~10k test prompts, well under a second
 * in an optimised build. The bound here is loose so sanitizer builds pass too. */
Test(cascade, full_grid_on_ten_thousand_test_prompts_is_quick, .timeout = 120)
{
	rbe_dataset *ds = random_dataset(33000, 13);
	json_t *r = run_ok(ds, NULL, 0, NULL);
	cr_assert_eq(json_at(r, "tasks/t/n_test"), 9900);
	double route = json_at(r, "timing/route_seconds");
	cr_log_info("cascade: 88 points × 9900 prompts routed in %.3f s", route);
	cr_assert_lt(route, 10.0);
	json_decref(r);
	rbe_dataset_free(ds);
}
