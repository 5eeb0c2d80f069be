/* test_linear.c — the linear (ridge) router: recovers a known linear relation, ranks models,
 * shrinks to the train means, clips, survives a singular system; parameters and threads. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "helpers.h"
#include "rb/rng.h"
#include "data/split.h"

/* ---- the plugin called directly, so that q̂ itself can be checked ---- */

/* q̂ of the router built with `setting` (owned result: free). */
static float *predict_with(const char *setting, const rb_view *train, const rb_view *queries, uint32_t threads)
{
	direct d;
	cr_assert_eq(direct_create(&d, "linear", setting, train, threads), 0, "create: %s", d.err);
	float *q_hat = calloc(queries->n * train->n_models, sizeof(float));
	double *c_hat = calloc(queries->n * train->n_models, sizeof(double));
	int has_cost = -1;
	cr_assert_eq(d.plugin->router->predict(d.state, queries, q_hat, c_hat, &has_cost), 0);
	cr_assert_eq(has_cost, 0, "cost=mean leaves ĉ to the host");
	free(c_hat);
	direct_free(&d);
	return q_hat;
}

/* A known relation: y_j(x) = 0.5 + Σ_d W[j][d]·x_d, with x in [−1, 1]^D and small weights so y
 * stays inside [0, 1] (no clipping). */
enum { REL_D = 6, REL_M = 3 };
static const double rel_w[REL_M][REL_D] = {
	{0.05, -0.03, 0.02, 0.0, 0.04, -0.01},
	{-0.02, 0.06, 0.0, 0.03, -0.04, 0.02},
	{0.01, 0.01, -0.05, -0.03, 0.02, 0.05},
};
static const double rel_b[REL_M] = {0.5, 0.45, 0.55};
static const char *rel_models[REL_M] = {"a", "b", "c"};

static double rel_y(int j, const float *x)
{
	double y = rel_b[j];
	for (int d = 0; d < REL_D; d++)
		y += rel_w[j][d] * x[d];
	return y;
}

typedef struct rel_data {
	size_t n;
	float *x, *q;
	double *c;
	rb_view v;
} rel_data;

/* n rows of the relation; zero_column ≥ 0 forces that feature to 0 everywhere. */
static void rel_make(rel_data *r, size_t n, uint64_t seed, int zero_column)
{
	r->n = n;
	r->x = malloc(n * REL_D * sizeof(float));
	r->q = malloc(n * REL_M * sizeof(float));
	r->c = calloc(n * REL_M, sizeof(double));
	rb_rng rng;
	rb_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++) {
		for (int d = 0; d < REL_D; d++)
			r->x[i * REL_D + d] = d == zero_column ? 0.0f : (float)(rb_rng_uniform(&rng) * 2 - 1);
		for (int j = 0; j < REL_M; j++)
			r->q[i * REL_M + j] = (float)rel_y(j, r->x + i * REL_D);
	}
	r->v = (rb_view){.n = n, .n_models = REL_M, .model_names = rel_models, .quality = r->q, .cost = r->c,
			 .feature_dim = REL_D, .features = r->x, .feature_name = "tfidf"};
}

static rb_view rel_queries(const rel_data *r)
{
	rb_view q = r->v;
	q.quality = NULL;
	q.cost = NULL;
	return q;
}

static void rel_free(rel_data *r)
{
	free(r->x);
	free(r->q);
	free(r->c);
}

Test(linear, recovers_a_known_linear_relation)
{
	rel_data train, test;
	rel_make(&train, 500, 1, -1);
	rel_make(&test, 97, 2, -1);
	rb_view queries = rel_queries(&test);
	float *q_hat = predict_with("alpha=0", &train.v, &queries, 2);
	for (size_t i = 0; i < test.n; i++)
		for (int j = 0; j < REL_M; j++)
			cr_assert_float_eq(q_hat[i * REL_M + j], rel_y(j, test.x + i * REL_D), 1e-5,
					   "query %zu model %d: %g vs %g", i, j, q_hat[i * REL_M + j],
					   rel_y(j, test.x + i * REL_D));
	free(q_hat);
	/* A small ridge only nudges the weights. */
	q_hat = predict_with("alpha=0.01", &train.v, &queries, 2);
	for (size_t i = 0; i < test.n; i++)
		for (int j = 0; j < REL_M; j++)
			cr_assert_float_eq(q_hat[i * REL_M + j], rel_y(j, test.x + i * REL_D), 1e-3);
	free(q_hat);
	rel_free(&train);
	rel_free(&test);
}

Test(linear, huge_alpha_shrinks_to_the_train_means_intercept_unpenalised)
{
	rel_data train, test;
	rel_make(&train, 300, 3, -1);
	rel_make(&test, 20, 4, -1);
	double mean[REL_M] = {0};
	for (size_t i = 0; i < train.n; i++)
		for (int j = 0; j < REL_M; j++)
			mean[j] += train.q[i * REL_M + j] / (double)train.n;
	rb_view queries = rel_queries(&test);
	float *q_hat = predict_with("alpha=1e6", &train.v, &queries, 1);
	for (size_t i = 0; i < test.n; i++)
		for (int j = 0; j < REL_M; j++)
			cr_assert_float_eq(q_hat[i * REL_M + j], mean[j], 1e-4, "query %zu model %d", i, j);
	free(q_hat);
	rel_free(&train);
	rel_free(&test);
}

Test(linear, predictions_are_clipped_to_the_unit_interval)
{
	rel_data train;
	rel_make(&train, 200, 5, -1);
	/* Far outside the train range the relation leaves [0, 1] in both directions. */
	float qx[2][REL_D];
	for (int d = 0; d < REL_D; d++) {
		qx[0][d] = (float)(100.0 * (rel_w[0][d] > 0 ? 1 : -1));
		qx[1][d] = -qx[0][d];
	}
	rb_view queries = rel_queries(&train);
	queries.n = 2;
	queries.features = &qx[0][0];
	float *q_hat = predict_with("alpha=0", &train.v, &queries, 1);
	cr_assert_eq(q_hat[0], 1.0f, "model a far above 1 is clipped to 1, got %g", q_hat[0]);
	cr_assert_eq(q_hat[REL_M], 0.0f, "model a far below 0 is clipped to 0, got %g", q_hat[REL_M]);
	for (int k = 0; k < 2 * REL_M; k++)
		cr_assert(q_hat[k] >= 0.0f && q_hat[k] <= 1.0f);
	free(q_hat);
	rel_free(&train);
}

Test(linear, singular_system_with_alpha_zero_still_fits)
{
	/* Feature 2 is 0 everywhere, so XᵀX is singular at α = 0; the router adds the smallest
	 * working ridge and the other weights still come out right. */
	rel_data train, test;
	rel_make(&train, 300, 6, 2);
	rel_make(&test, 50, 7, 2);
	rb_view queries = rel_queries(&test);
	float *q_hat = predict_with("alpha=0", &train.v, &queries, 2);
	for (size_t i = 0; i < test.n; i++)
		for (int j = 0; j < REL_M; j++)
			cr_assert_float_eq(q_hat[i * REL_M + j], rel_y(j, test.x + i * REL_D), 1e-5);
	free(q_hat);
	/* A train split of one prompt: no variance at all, q̂ is that prompt's quality. */
	train.v.n = 1;
	q_hat = predict_with("alpha=0", &train.v, &queries, 1);
	for (int j = 0; j < REL_M; j++)
		cr_assert_float_eq(q_hat[j], train.q[j], 1e-6);
	free(q_hat);
	rel_free(&train);
	rel_free(&test);
}

Test(linear, thread_count_does_not_change_q_hat)
{
	/* Dimension odd and above the two-rows-per-item pairing, so every Gram row split is hit. */
	enum { N = 700, D = 33, M = 4, NQ = 211 };
	float *x = malloc(N * D * sizeof(float)), *q = malloc(N * M * sizeof(float));
	double *c = calloc(N * M, sizeof(double));
	rb_rng rng;
	rb_rng_seed(&rng, 9);
	for (size_t i = 0; i < N * D; i++)
		x[i] = (float)rb_rng_uniform(&rng);
	for (size_t i = 0; i < N * M; i++)
		q[i] = (float)rb_rng_uniform(&rng);
	const char *names[M] = {"a", "b", "c", "d"};
	rb_view train = {.n = N, .n_models = M, .model_names = names, .quality = q, .cost = c, .feature_dim = D,
			 .features = x, .feature_name = "tfidf"};
	rb_view queries = train;
	queries.n = NQ;
	queries.quality = NULL;
	queries.cost = NULL;
	float *one = predict_with(NULL, &train, &queries, 1);
	float *two = predict_with(NULL, &train, &queries, 2);
	cr_assert_eq(memcmp(one, two, NQ * M * sizeof(float)), 0);
	free(one);
	free(two);
	free(x);
	free(q);
	free(c);
}

Test(linear, cost_tokens_predicts_the_per_token_form)
{
	rel_data train;
	rel_make(&train, 40, 8, -1);
	uint32_t *tokens = malloc(train.n * sizeof(uint32_t));
	for (size_t i = 0; i < train.n; i++) {
		tokens[i] = (uint32_t)(10 + 3 * i);
		train.c[i * REL_M + 0] = 0.002 + 1e-5 * tokens[i];
		train.c[i * REL_M + 1] = 0.5;
		train.c[i * REL_M + 2] = 2e-4 * tokens[i];
	}
	train.v.prompt_tokens = tokens;
	rb_view queries = rel_queries(&train);
	queries.n = 2;
	static const uint32_t q_tokens[2] = {1000, 0};
	queries.prompt_tokens = q_tokens;
	direct d;
	cr_assert_eq(direct_create(&d, "linear", "cost=tokens", &train.v, 2), 0, "%s", d.err);
	float q_hat[2 * REL_M];
	double c_hat[2 * REL_M];
	int has_cost = 0;
	cr_assert_eq(d.plugin->router->predict(d.state, &queries, q_hat, c_hat, &has_cost), 0);
	cr_assert_eq(has_cost, 1);
	cr_assert_float_eq(c_hat[0], 0.012, 1e-12);
	cr_assert_float_eq(c_hat[1], 0.5, 1e-12);
	cr_assert_float_eq(c_hat[2], 0.2, 1e-12);
	cr_assert_float_eq(c_hat[REL_M], 0.002, 1e-12);
	direct_free(&d);
	free(tokens);
	rel_free(&train);
}

/* ---- through the engine ---- */

static json_t *evaluate(rbe_dataset *ds, const char *const *settings, size_t n_settings, const rbe_eval_opts *o,
			rbe_error *e)
{
	return run_router(builtin_plugin("linear"), ds, settings, n_settings, o, e);
}

static json_t *evaluate1(rbe_dataset *ds, const char *setting, const rbe_eval_opts *o, rbe_error *e)
{
	const char *settings[1] = {setting};
	return evaluate(ds, settings, setting ? 1 : 0, o, e);
}

enum { PERTURB_U_TRAIN = 1, PERTURB_T_TEST = 2 };

/* Tasks t and u of n prompts each, qualities from the known relation; optionally with tokens,
 * and with some outcomes perturbed (PERTURB_*). */
static rbe_dataset *rel_dataset(size_t n, int features, int tokens, int perturb)
{
	static const double cost[REL_M] = {0.001, 0.002, 0.003};
	rbe_builder *b = rbe_builder_new(REL_M, rel_models);
	if (features)
		rbe_builder_want_features(b, REL_D, "tfidf");
	if (tokens)
		rbe_builder_want_tokens(b);
	uint8_t *is_train = malloc(n);
	rbe_split_assign(n, 42, 0.7, is_train);
	rb_rng rng;
	rb_rng_seed(&rng, 21);
	for (int task = 0; task < 2; task++) {
		for (size_t i = 0; i < n; i++) {
			char id[32];
			snprintf(id, sizeof(id), "%c.%zu", "tu"[task], i);
			float x[REL_D], q[REL_M];
			for (int d = 0; d < REL_D; d++)
				x[d] = (float)(rb_rng_uniform(&rng) * 2 - 1);
			for (int j = 0; j < REL_M; j++)
				q[j] = (float)rel_y(j, x);
			if (((perturb & PERTURB_U_TRAIN) && task == 1 && is_train[i]) ||
			    ((perturb & PERTURB_T_TEST) && task == 0 && !is_train[i]))
				q[0] = 1.0f - q[0];
			uint32_t completion[REL_M] = {1, 2, 3};
			rbe_sample_in s = {.sample_id = id, .eval_name = task ? "u" : "t", .prompt = "p", .quality = q,
					   .cost = cost, .prompt_tokens = (uint32_t)(3 + i % 20),
					   .completion_tokens = completion, .features = x};
			cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
		}
	}
	free(is_train);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

Test(linear, ranks_models_like_the_oracle)
{
	/* Test qualities follow the relation exactly, so routing by the fitted q̂ at λ → ∞ picks each
	 * prompt's best model: the router's top point is the oracle's quality. */
	rbe_dataset *ds = rel_dataset(400, 1, 0, 0);
	double lambdas[2] = {1e-10, 1e9};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.lambdas = lambdas;
	o.n_lambdas = 2;
	rbe_error e = {0};
	json_t *r = evaluate1(ds, "alpha=1e-4", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/quality"), json_at(r, "tasks/t/oracle/quality"), 1e-9);
	cr_assert_float_eq(json_at(r, "tasks/u/router/points/1/quality"), json_at(r, "tasks/u/oracle/quality"), 1e-9);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/a"), 1.0, 1e-12, "λ → 0: the cheapest model");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "router"), "version")), "1.0");
	json_decref(r);
	rbe_dataset_free(ds);
}

static void expect_parse_error(rbe_dataset *ds, const char *setting, const char *needle)
{
	expect_param_refused(builtin_plugin("linear"), ds, setting, needle);
}

static void expect_create_error(rbe_dataset *ds, const char *setting, const char *needle)
{
	expect_run_refused(builtin_plugin("linear"), ds, setting, NULL, needle);
}

Test(linear, bad_parameters_are_refused)
{
	rbe_dataset *ds = rel_dataset(30, 1, 0, 0);
	expect_parse_error(ds, "alpha=-1", "parameter 'alpha': -1 is out of range [0, 1e+06]");
	expect_parse_error(ds, "alpha=2e6", "parameter 'alpha': 2e6 is out of range [0, 1e+06]");
	expect_parse_error(ds, "alpha=lots", "parameter 'alpha': 'lots' is not");
	expect_parse_error(ds, "k=3", "router 'linear' has no parameter 'k'");
	expect_create_error(ds, "cost=bogus",
			    "router 'linear' failed in create for task t: parameter 'cost': 'bogus' is neither 'mean' nor 'tokens'");
	expect_create_error(ds, "cost=tokens", "cost=tokens needs prompt token counts, and the dataset has none");
	expect_create_error(ds, "feature=embedding", "feature 'embedding' requested but the dataset's features are 'tfidf'");
	rbe_dataset_free(ds);
	ds = rel_dataset(30, 0, 1, 0);
	expect_create_error(ds, NULL, "the dataset has no prompt features (feature 'any' requested)");
	rbe_dataset_free(ds);
}

Test(linear, respects_the_feature_parameter_and_reproduces)
{
	rbe_dataset *ds = rel_dataset(300, 1, 1, 0);
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.threads = 1;
	json_t *one = evaluate1(ds, "feature=tfidf", &o, &e);
	cr_assert_not_null(one, "%s", e.msg);
	o.threads = 2;
	json_t *two = evaluate1(ds, "feature=any", &o, &e);
	cr_assert_not_null(two, "%s", e.msg);
	cr_assert(json_equal(json_object_get(one, "tasks"), json_object_get(two, "tasks")),
		  "feature=tfidf is the dataset's set; thread count changes nothing");
	cr_assert_null(evaluate1(ds, "feature=embedding", NULL, &e));
	json_t *tok = evaluate1(ds, "cost=tokens", NULL, &e);
	cr_assert_not_null(tok, "%s", e.msg);
	json_decref(one);
	json_decref(two);
	json_decref(tok);
	rbe_dataset_free(ds);
}

static json_t *task_block(json_t *r, const char *task)
{
	return json_object_get(json_object_get(r, "tasks"), task);
}

Test(linear, never_sees_test_outcomes)
{
	rbe_dataset *base = rel_dataset(200, 1, 0, 0);
	rbe_dataset *flipped_u = rel_dataset(200, 1, 0, PERTURB_U_TRAIN);
	rbe_dataset *flipped_test = rel_dataset(200, 1, 0, PERTURB_T_TEST);
	rbe_error e = {0};
	json_t *r0 = evaluate1(base, NULL, NULL, &e);
	json_t *r1 = evaluate1(flipped_u, NULL, NULL, &e);
	json_t *r2 = evaluate1(flipped_test, NULL, NULL, &e);
	cr_assert(r0 && r1 && r2, "%s", e.msg);
	/* Task u's train outcomes changed: task t's block is untouched. */
	cr_assert(json_equal(task_block(r0, "t"), task_block(r1, "t")));
	cr_assert(!json_equal(task_block(r0, "u"), task_block(r1, "u")));
	/* Task t's test outcomes changed: what the router scores changes, where it routes does not. */
	json_t *p0 = json_object_get(json_object_get(task_block(r0, "t"), "router"), "points");
	json_t *p2 = json_object_get(json_object_get(task_block(r2, "t"), "router"), "points");
	cr_assert_eq(json_array_size(p0), RBE_PAPER_LAMBDA_COUNT);
	for (size_t p = 0; p < json_array_size(p0); p++)
		cr_assert(json_equal(json_object_get(json_array_get(p0, p), "share"),
				     json_object_get(json_array_get(p2, p), "share")),
			  "routing at point %zu depends on test qualities", p);
	cr_assert_neq(json_at(r0, "tasks/t/llms/a/quality"), json_at(r2, "tasks/t/llms/a/quality"));
	json_decref(r0);
	json_decref(r1);
	json_decref(r2);
	rbe_dataset_free(base);
	rbe_dataset_free(flipped_u);
	rbe_dataset_free(flipped_test);
}
