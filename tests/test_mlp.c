/* test_mlp.c — the mlp router: learns an easy mapping, is reproducible, refuses bad parameters,
 * and never looks at test outcomes. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "helpers.h"
#include "eval/params.h"
#include "data/split.h"

#define D 6
#define M 3
/* Small, quick settings that solve the toy problem. */
#define FAST "epochs=80", "batch_size=16", "learning_rate=0.01"

static const char *models[M] = {"A", "B", "C"};
static const double model_cost[M] = {0.002, 0.003, 0.001};

/* Deterministic noise in [0, 1). */
static float noise(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (float)(*s >> 40) / (float)(1u << 24);
}

/* Prompt i of the toy problem: cluster i % 2 lights up feature 0 or 1; the rest is noise, with
 * some exact zeros. A is right on cluster 0, B on cluster 1, C (cheapest) never. */
static void toy_prompt(size_t i, float *x, float *q)
{
	uint64_t s = 0x9e3779b97f4a7c15ull * (i + 1);
	int cluster = (int)(i % 2);
	for (int k = 0; k < D; k++)
		x[k] = k == 3 ? 0.0f : 0.2f * noise(&s);
	x[cluster] = 0.8f + 0.4f * noise(&s);
	q[0] = cluster == 0;
	q[1] = cluster == 1;
	q[2] = 0;
}

/* n prompts of task "t" with features ("toy"). flip_test swaps A's and B's scores on the prompts
 * the paper split (seed 42, 0.7) puts in the test part. */
static rbe_dataset *toy_dataset(size_t n, int with_features, int with_tokens, int flip_test)
{
	rbe_builder *b = rbe_builder_new(M, models);
	if (with_features)
		rbe_builder_want_features(b, D, "toy");
	if (with_tokens)
		rbe_builder_want_tokens(b);
	uint8_t *is_train = malloc(n);
	rbe_split_assign(n, 42, 0.7, is_train);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t.%zu", i);
		float x[D], q[M];
		toy_prompt(i, x, q);
		if (flip_test && !is_train[i]) {
			float tmp = q[0];
			q[0] = q[1];
			q[1] = tmp;
		}
		const uint32_t completion[M] = {20, 30, 40};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = model_cost,
				   .prompt_tokens = (uint32_t)(10 + i % 7), .completion_tokens = completion,
				   .features = with_features ? x : NULL};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	free(is_train);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static json_t *evaluate_split(const rbe_dataset *ds, const char *const *settings, size_t n, uint32_t threads,
			      double train_fraction, rbe_error *e)
{
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.threads = threads;
	o.train_fraction = train_fraction;
	return run_router(builtin_plugin("mlp"), ds, settings, n, &o, e);
}

static json_t *evaluate(const rbe_dataset *ds, const char *const *settings, size_t n, uint32_t threads,
			rbe_error *e)
{
	return evaluate_split(ds, settings, n, threads, 0.7, e);
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

Test(mlp, learns_a_separable_mapping)
{
	rbe_dataset *ds = toy_dataset(200, 1, 0, 0);
	const char *one_layer[] = {"hidden=16", FAST};
	const char *two_layers[] = {"hidden=16,8", FAST};
	const char *const *cases[] = {one_layer, two_layers};
	for (int c = 0; c < 2; c++) {
		rbe_error e = {0};
		json_t *r = evaluate(ds, cases[c], 4, 2, &e);
		cr_assert_not_null(r, "%s", e.msg);
		/* λ = 1e9 (the last paper value): the predicted best model for every prompt, which is
		 * the oracle's choice; the oracle here is perfect. */
		cr_assert_float_eq(json_at(r, "tasks/t/oracle/quality"), 1.0, 1e-12);
		cr_assert_float_eq(json_at(r, "tasks/t/router/points/31/quality"), json_at(r, "tasks/t/oracle/quality"), 1e-12,
				   "%s: routed quality at λ = 1e9", cases[c][0]);
		cr_assert_float_eq(json_at(r, "tasks/t/router/points/31/cost_total"), json_at(r, "tasks/t/oracle/cost_total"),
				   1e-12);
		/* λ → 0: the cheapest model, C, everywhere. */
		cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/C"), 1.0, 1e-12);
		cr_assert_gt(json_at(r, "tasks/t/router/aiq"), json_at(r, "tasks/t/zero/aiq"), "%s beats the zero router",
			     cases[c][0]);
		json_decref(r);
	}
	rbe_dataset_free(ds);
}

Test(mlp, same_seed_same_result_at_any_thread_count)
{
	rbe_dataset *ds = toy_dataset(200, 1, 0, 0);
	const char *settings[] = {"hidden=16,8", FAST};
	rbe_error e = {0};
	json_t *r1 = evaluate(ds, settings, 4, 1, &e);
	cr_assert_not_null(r1, "%s", e.msg);
	json_t *r2 = evaluate(ds, settings, 4, 2, &e);
	cr_assert_not_null(r2, "%s", e.msg);
	cr_assert(json_equal(get(r1, "tasks"), get(r2, "tasks")), "same seed, same tasks block");
	json_decref(r1);
	json_decref(r2);
	rbe_dataset_free(ds);
}

/* Drive the plugin directly, as the host does, to see q̂ itself. */
static void test_log(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static float *direct_predict(const rbe_plugin *p, const rbe_params *params, uint64_t seed, uint32_t threads,
			     size_t n_train, size_t n_query)
{
	float *x = malloc((n_train + n_query) * D * sizeof(float));
	float *q = malloc((n_train + n_query) * M * sizeof(float));
	double *c = malloc(n_train * M * sizeof(double));
	for (size_t i = 0; i < n_train + n_query; i++)
		toy_prompt(i, x + i * D, q + i * M);
	for (size_t i = 0; i < n_train * M; i++)
		c[i] = model_cost[i % M];
	rb_view train = {.n = n_train, .n_models = M, .model_names = models, .quality = q, .cost = c,
			 .feature_dim = D, .features = x, .feature_name = "toy"};
	rb_view query = {.n = n_query, .n_models = M, .model_names = models, .feature_dim = D,
			 .features = x + n_train * D, .feature_name = "toy"};
	rb_host_api host = {.size = sizeof(host), .abi_minor = RB_ABI_MINOR, .log = test_log, .threads = threads};
	rb_create_args args = {.size = sizeof(args), .host = &host, .params = params->values, .train = &train,
			       .seed = seed, .task = "t"};
	void *state = NULL;
	char err[512] = "";
	cr_assert_eq(p->router->create(&args, &state, err, sizeof(err)), 0, "create: %s", err);
	float *q_hat = calloc(n_query * M, sizeof(float));
	double *c_hat = calloc(n_query * M, sizeof(double));
	int has_cost = -1;
	cr_assert_eq(p->router->predict(state, &query, q_hat, c_hat, &has_cost), 0);
	cr_assert_eq(has_cost, 0, "cost=mean leaves costs to the host");
	p->router->destroy(state);
	/* Every query goes to the right model by q̂. */
	for (size_t i = 0; i < n_query; i++) {
		const float *row = q_hat + i * M;
		int right = (int)((n_train + i) % 2);
		cr_assert_gt(row[right], row[1 - right], "query %zu: %f vs %f", i, row[right], row[1 - right]);
		cr_assert_gt(row[right], row[2]);
		for (int j = 0; j < M; j++)
			cr_assert(row[j] >= 0 && row[j] <= 1);
	}
	free(x);
	free(q);
	free(c);
	free(c_hat);
	return q_hat;
}

Test(mlp, seed_decides_the_weights)
{
	rbe_plugin *p = load_or_fail(builtin_plugin("mlp"));
	const char *settings[] = {"hidden=16,8", FAST};
	rbe_params *params = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_params_parse(p->schema, NULL, settings, 4, &params, &e), 0, "%s", e.msg);
	size_t nq = 300; /* several predict blocks, so two threads really split them */
	float *a = direct_predict(p, params, 7, 1, 140, nq);
	float *b = direct_predict(p, params, 7, 2, 140, nq);
	float *c = direct_predict(p, params, 8, 2, 140, nq);
	cr_assert(memcmp(a, b, nq * M * sizeof(float)) == 0, "same seed: bit-identical q̂ on 1 and 2 threads");
	cr_assert(memcmp(a, c, nq * M * sizeof(float)) != 0, "another seed: other weights");
	double diff = 0;
	for (size_t k = 0; k < nq * M; k++)
		diff = fmax(diff, fabs(a[k] - c[k]));
	cr_assert_lt(diff, 0.5, "…but only slightly other predictions (max |Δq̂| = %g)", diff);
	free(a);
	free(b);
	free(c);
	rbe_params_free(params);
	rbe_plugin_free(p);
}

Test(mlp, never_reads_test_quality)
{
	/* Same train part, opposite test outcomes: decisions (shares per λ) must not move. */
	rbe_dataset *ds = toy_dataset(200, 1, 0, 0), *flipped = toy_dataset(200, 1, 0, 1);
	const char *settings[] = {"hidden=16", FAST};
	rbe_error e = {0};
	json_t *r1 = evaluate(ds, settings, 4, 2, &e);
	cr_assert_not_null(r1, "%s", e.msg);
	json_t *r2 = evaluate(flipped, settings, 4, 2, &e);
	cr_assert_not_null(r2, "%s", e.msg);
	cr_assert_float_eq(json_at(r2, "tasks/t/router/points/31/quality"), 0.0, 1e-12, "routed by the train part");
	for (int k = 0; k < RBE_PAPER_LAMBDA_COUNT; k++) {
		char path[64];
		snprintf(path, sizeof(path), "tasks/t/router/points/%d/share", k);
		cr_assert(json_equal(get(r1, path), get(r2, path)), "point %d: same decisions", k);
	}
	json_decref(r1);
	json_decref(r2);
	rbe_dataset_free(ds);
	rbe_dataset_free(flipped);
}

Test(mlp, token_cost_model)
{
	rbe_dataset *ds = toy_dataset(60, 1, 1, 0);
	const char *settings[] = {"hidden=4", "epochs=2", "cost=tokens"};
	rbe_error e = {0};
	json_t *r = evaluate(ds, settings, 3, 2, &e);
	cr_assert_not_null(r, "%s", e.msg);
	/* Costs are flat per model, so the fitted ĉ is the model's price: λ → 0 picks C. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/C"), 1.0, 1e-12);
	json_decref(r);
	rbe_dataset_free(ds);

	ds = toy_dataset(60, 1, 0, 0);
	cr_assert_null(evaluate(ds, settings, 3, 2, &e));
	cr_assert(strstr(e.msg, "cost=tokens needs prompt token counts"), "%s", e.msg);
	rbe_dataset_free(ds);
}

Test(mlp, tiny_train_parts)
{
	/* 20 prompts: train fraction 0.04 leaves no train prompt (the network keeps its initial
	 * weights), 0.1 leaves 2, fewer than a batch. */
	rbe_dataset *ds = toy_dataset(20, 1, 0, 0);
	const char *settings[] = {"hidden=4,4", "epochs=3"};
	double fractions[] = {0.04, 0.1};
	for (int k = 0; k < 2; k++) {
		rbe_error e = {0};
		json_t *r = evaluate_split(ds, settings, 2, 2, fractions[k], &e);
		cr_assert_not_null(r, "%s", e.msg);
		cr_assert_eq(json_at(r, "tasks/t/n_train"), k == 0 ? 0 : 2);
		json_decref(r);
	}
	rbe_dataset_free(ds);
}

static void expect_schema_error(const char *setting, const char *needle)
{
	rbe_dataset *ds = toy_dataset(20, 1, 0, 0);
	expect_param_refused(builtin_plugin("mlp"), ds, setting, needle);
	rbe_dataset_free(ds);
}

static void expect_create_error(const char *setting, int with_features, const char *needle)
{
	rbe_dataset *ds = toy_dataset(20, with_features, 0, 0);
	rbe_error e = {0};
	const char *settings[1] = {setting};
	json_t *r = evaluate(ds, settings, 1, 1, &e);
	cr_assert_null(r, "%s accepted", setting);
	cr_assert(strstr(e.msg, "router 'mlp' failed in create for task t: "), "%s", e.msg);
	cr_assert(strstr(e.msg, needle), "%s: message lacks '%s': %s", setting, needle, e.msg);
	rbe_dataset_free(ds);
}

Test(mlp, bad_parameters_are_refused)
{
	expect_schema_error("epochs=0", "parameter 'epochs': 0 is out of range [1, 10000]");
	expect_schema_error("epochs=many", "parameter 'epochs': 'many' is not");
	expect_schema_error("learning_rate=-1", "parameter 'learning_rate': -1 is out of range");
	expect_schema_error("batch_size=0", "parameter 'batch_size': 0 is out of range");
	expect_schema_error("l2=2", "parameter 'l2': 2 is out of range [0, 1]");
	expect_schema_error("depth=3", "router 'mlp' has no parameter 'depth'");

	expect_create_error("hidden=", 1, "parameter 'hidden' is empty");
	expect_create_error("hidden=0", 1, "parameter 'hidden': layer width 0 in '0' is out of range 1..4096");
	expect_create_error("hidden=100,5000", 1, "layer width 5000 in '100,5000' is out of range 1..4096");
	expect_create_error("hidden=100,100,100", 1, "parameter 'hidden': '100,100,100' has 3 layers; at most 2");
	expect_create_error("hidden=abc", 1, "parameter 'hidden': 'abc' is not a list of layer widths");
	expect_create_error("hidden=100,", 1, "parameter 'hidden': '100,' is not a list of layer widths");
	expect_create_error("feature=embedding", 1, "feature 'embedding' requested but the dataset's features are 'toy'");
	expect_create_error("cost=median", 1, "parameter 'cost': 'median' is neither 'mean' nor 'tokens'");
	expect_create_error("epochs=1", 0, "the dataset has no prompt features");
}
