/* test_knn.c — the knn router: exact neighbour means and ties on hand-made views, a brute-force
 * cross-check, duplicated prompts through the engine, parameters, threads and test isolation. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "helpers.h"
#include "rb/rng.h"
#include "data/split.h"

/* ---- the plugin called directly, so that q̂ itself can be checked ---- */

/* q̂ of the router built with `setting` on train, for the queries (owned result: free). */
static float *predict_with(const char *setting, const rb_view *train, const rb_view *queries, uint32_t threads)
{
	direct d;
	int rc = direct_create(&d, "knn", setting, train, threads);
	cr_assert_eq(rc, 0, "create: %s", d.err);
	float *q_hat = calloc(queries->n * train->n_models, sizeof(float));
	double *c_hat = calloc(queries->n * train->n_models, sizeof(double));
	int has_cost = -1;
	cr_assert_eq(d.plugin->router->predict(d.state, queries, q_hat, c_hat, &has_cost), 0);
	cr_assert_eq(has_cost, 0, "cost=mean leaves ĉ to the host");
	free(c_hat);
	direct_free(&d);
	return q_hat;
}

/* Six train prompts in 2-D: unit, unit, not unit, opposite, zero, and a copy of the first. */
static const float hand_x[6][2] = {{1, 0}, {0, 1}, {2, 2}, {-1, 0}, {0, 0}, {1, 0}};
static const float hand_q[6][2] = {{0.0f, 1.0f}, {0.1f, 0.9f}, {0.2f, 0.8f}, {0.3f, 0.7f}, {0.4f, 0.6f}, {0.5f, 0.5f}};
static const double hand_c[6][2] = {{0}};
static const char *two_models[2] = {"A", "B"};

static rb_view hand_train(void)
{
	return (rb_view){.n = 6, .n_models = 2, .model_names = two_models, .quality = &hand_q[0][0],
			 .cost = &hand_c[0][0], .feature_dim = 2, .features = &hand_x[0][0], .feature_name = "tfidf"};
}

static rb_view query_view(size_t n, uint32_t n_models, uint32_t dim, const float *x)
{
	return (rb_view){.n = n, .n_models = n_models, .model_names = two_models, .feature_dim = dim, .features = x,
			 .feature_name = "tfidf"};
}

/* Mean of model 0's quality (row r has r/10) over the listed train rows. */
static double mean_a(const int *rows, int n)
{
	double s = 0;
	for (int k = 0; k < n; k++)
		s += hand_q[rows[k]][0];
	return s / n;
}

Test(knn, q_hat_is_the_exact_neighbour_mean)
{
	rb_view train = hand_train();
	/* (3, 1): cosines 0.949 (rows 0 and 5, tied), 0.894 (row 2, not unit length), 0.316 (row 1),
	 * 0 (row 4, zero), −0.949 (row 3). (0, 0): every similarity is 0, so the earliest rows win.
	 * (−2, 0): 1 (row 3), then 0 for rows 1 and 4 (tied; row 1 is earlier), then row 2. */
	static const float qx[3][2] = {{3, 1}, {0, 0}, {-2, 0}};
	rb_view queries = query_view(3, 2, 2, &qx[0][0]);
	static const struct {
		const char *setting;
		int rows[3][6];
		int n;
	} cases[] = {
		{"k=1", {{0}, {0}, {3}}, 1},
		{"k=2", {{0, 5}, {0, 1}, {3, 1}}, 2},
		{"k=3", {{0, 5, 2}, {0, 1, 2}, {3, 1, 4}}, 3},
		{"k=5", {{0, 5, 2, 1, 4}, {0, 1, 2, 3, 4}, {3, 1, 4, 2, 0}}, 5},
		{"k=6", {{0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}}, 6},
		{"k=10000", {{0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}}, 6}, /* k > train: all */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		float *q_hat = predict_with(cases[c].setting, &train, &queries, 1);
		for (int i = 0; i < 3; i++) {
			double a = mean_a(cases[c].rows[i], cases[c].n);
			cr_assert_float_eq(q_hat[i * 2], a, 1e-6, "%s query %d model A: %g, expected %g", cases[c].setting,
					   i, q_hat[i * 2], a);
			cr_assert_float_eq(q_hat[i * 2 + 1], 1.0 - a, 1e-6, "%s query %d model B", cases[c].setting, i);
		}
		free(q_hat);
	}
}

/* Brute force in double: the k rows of highest cosine, ties to the earlier row. */
static void reference_knn(const float *train, size_t n_train, const float *quality, uint32_t M, const float *x,
			  uint32_t dim, uint32_t k, double *out)
{
	double *sim = malloc(n_train * sizeof(double));
	uint8_t *taken = calloc(n_train, 1);
	double nx = 0;
	for (uint32_t d = 0; d < dim; d++)
		nx += (double)x[d] * x[d];
	for (size_t r = 0; r < n_train; r++) {
		double dot = 0, nr = 0;
		for (uint32_t d = 0; d < dim; d++) {
			dot += (double)x[d] * train[r * dim + d];
			nr += (double)train[r * dim + d] * train[r * dim + d];
		}
		sim[r] = nx > 0 && nr > 0 ? dot / sqrt(nx * nr) : 0.0;
	}
	uint32_t kk = k < n_train ? k : (uint32_t)n_train;
	for (uint32_t j = 0; j < M; j++)
		out[j] = 0;
	for (uint32_t t = 0; t < kk; t++) {
		size_t best = n_train;
		for (size_t r = 0; r < n_train; r++)
			if (!taken[r] && (best == n_train || sim[r] > sim[best]))
				best = r;
		taken[best] = 1;
		for (uint32_t j = 0; j < M; j++)
			out[j] += quality[best * M + j] / kk;
	}
	free(sim);
	free(taken);
}

Test(knn, matches_brute_force_across_blocks_and_threads)
{
	/* Sizes off every internal multiple (panel 8, quad 4, tile 64, block 512 rows), some
	 * zero rows, rows of any length. */
	enum { N_TRAIN = 1301, N_Q = 151, DIM = 37, M = 3, K = 7 };
	float *x = malloc(N_TRAIN * DIM * sizeof(float)), *q = malloc(N_Q * DIM * sizeof(float));
	float *quality = malloc(N_TRAIN * M * sizeof(float));
	double *cost = calloc(N_TRAIN * M, sizeof(double));
	rb_rng rng;
	rb_rng_seed(&rng, 7);
	for (size_t i = 0; i < N_TRAIN * DIM; i++)
		x[i] = (float)(rb_rng_uniform(&rng) * 4 - 2);
	for (size_t i = 0; i < N_Q * DIM; i++)
		q[i] = (float)(rb_rng_uniform(&rng) - 0.5);
	for (size_t i = 0; i < N_TRAIN * M; i++)
		quality[i] = (float)rb_rng_below(&rng, 2);
	memset(x + 100 * DIM, 0, DIM * sizeof(float));
	memset(q + 5 * DIM, 0, DIM * sizeof(float));
	const char *names[M] = {"a", "b", "c"};
	rb_view train = {.n = N_TRAIN, .n_models = M, .model_names = names, .quality = quality, .cost = cost,
			 .feature_dim = DIM, .features = x, .feature_name = "tfidf"};
	rb_view queries = query_view(N_Q, M, DIM, q);
	queries.model_names = names;
	float *one = predict_with("k=7", &train, &queries, 1);
	float *two = predict_with("k=7", &train, &queries, 2);
	cr_assert_eq(memcmp(one, two, N_Q * M * sizeof(float)), 0, "threads must not change q̂");
	for (size_t i = 0; i < N_Q; i++) {
		double ref[M];
		reference_knn(x, N_TRAIN, quality, M, q + i * DIM, DIM, K, ref);
		for (uint32_t j = 0; j < M; j++)
			cr_assert_float_eq(one[i * M + j], ref[j], 1e-6, "query %zu model %u: %g vs %g", i, j,
					   one[i * M + j], ref[j]);
	}
	free(one);
	free(two);
	free(x);
	free(q);
	free(quality);
	free(cost);
}

Test(knn, cost_tokens_predicts_the_per_token_form)
{
	rb_view train = hand_train();
	static const uint32_t tokens[6] = {10, 20, 30, 40, 50, 60};
	static const double cost[6][2] = {{0.011, 2}, {0.021, 2}, {0.031, 2}, {0.041, 2}, {0.051, 2}, {0.061, 2}};
	train.cost = &cost[0][0];
	train.prompt_tokens = tokens;
	static const float qx[2][2] = {{1, 1}, {0, 1}};
	static const uint32_t q_tokens[2] = {100, 5};
	rb_view queries = query_view(2, 2, 2, &qx[0][0]);
	queries.prompt_tokens = q_tokens;
	direct d;
	cr_assert_eq(direct_create(&d, "knn", "cost=tokens", &train, 2), 0, "%s", d.err);
	float q_hat[4];
	double c_hat[4];
	int has_cost = 0;
	cr_assert_eq(d.plugin->router->predict(d.state, &queries, q_hat, c_hat, &has_cost), 0);
	cr_assert_eq(has_cost, 1);
	/* Model A: 0.001 + 0.001·tokens exactly; model B: constant. */
	cr_assert_float_eq(c_hat[0], 0.101, 1e-12);
	cr_assert_float_eq(c_hat[1], 2.0, 1e-12);
	cr_assert_float_eq(c_hat[2], 0.006, 1e-12);
	direct_free(&d);
}

/* ---- through the engine ---- */

static json_t *evaluate(rbe_dataset *ds, const char *const *settings, size_t n_settings, const rbe_eval_opts *o,
			rbe_error *e)
{
	return run_router(builtin_plugin("knn"), ds, settings, n_settings, o, e);
}

static json_t *evaluate1(rbe_dataset *ds, const char *setting, const rbe_eval_opts *o, rbe_error *e)
{
	const char *settings[1] = {setting};
	return evaluate(ds, settings, setting ? 1 : 0, o, e);
}

enum { DS_DIM = 12, DS_M = 3 };
static const char *ds_models[DS_M] = {"small", "mid", "large"};
static const double ds_cost[DS_M] = {0.001, 0.002, 0.004};

/* Options of synth(): which outcomes to perturb, and which sections to carry. */
typedef struct synth_opts {
	int tokens;           /* carry prompt token counts */
	int features;         /* carry features (named "tfidf") */
	int perturb_t_test;   /* change every test quality of task t */
	int perturb_u_train;  /* change every train quality of task u */
} synth_opts;

/* Two tasks, t and u, of n prompts each. A prompt's features are a noisy copy of one of DS_M
 * centres, and the model of the same index answers it best, so neighbours carry signal. */
static rbe_dataset *synth(size_t n, const synth_opts *so)
{
	rbe_builder *b = rbe_builder_new(DS_M, ds_models);
	if (so->tokens)
		rbe_builder_want_tokens(b);
	if (so->features)
		rbe_builder_want_features(b, DS_DIM, "tfidf");
	uint8_t *is_train = malloc(n);
	rbe_split_assign(n, 42, 0.7, is_train);
	rb_rng rng;
	rb_rng_seed(&rng, 11);
	for (int task = 0; task < 2; task++) {
		for (size_t i = 0; i < n; i++) {
			char id[32];
			snprintf(id, sizeof(id), "%c.%zu", "tu"[task], i);
			uint32_t centre = (uint32_t)rb_rng_below(&rng, DS_M);
			float x[DS_DIM], q[DS_M];
			for (int d = 0; d < DS_DIM; d++)
				x[d] = (float)(rb_rng_uniform(&rng) * 0.6 + (d % DS_M == (int)centre ? 1.0 : 0.0));
			for (int j = 0; j < DS_M; j++)
				q[j] = j == (int)centre ? 1.0f : (float)(rb_rng_uniform(&rng) < 0.3);
			if ((so->perturb_t_test && task == 0 && !is_train[i]) ||
			    (so->perturb_u_train && task == 1 && is_train[i]))
				for (int j = 0; j < DS_M; j++)
					q[j] = 1.0f - q[j];
			uint32_t completion[DS_M] = {7, 8, 9};
			rbe_sample_in s = {.sample_id = id, .eval_name = task ? "u" : "t", .prompt = "p", .quality = q,
					   .cost = ds_cost, .prompt_tokens = (uint32_t)(5 + i % 50),
					   .completion_tokens = completion, .features = x};
			cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
		}
	}
	free(is_train);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static json_t *tasks_block(json_t *r)
{
	return json_object_get(r, "tasks");
}

Test(knn, k1_routes_a_duplicated_prompt_to_its_twins_best_model)
{
	/* One task; every test prompt's features equal those of one train prompt, whose best model
	 * (strictly) is known. The test prompt scores 1 on exactly that model, so at λ = 1e9 the
	 * router's quality is 1 only if every test prompt went to its twin's best model. */
	enum { N = 200, DIM = 9, M = 4 };
	const char *models[M] = {"m0", "m1", "m2", "m3"};
	const double cost[M] = {0.001, 0.001, 0.001, 0.001};
	uint8_t is_train[N];
	rbe_split_assign(N, 42, 0.7, is_train);
	size_t train_rows[N], n_train = 0;
	for (size_t i = 0; i < N; i++)
		if (is_train[i])
			train_rows[n_train++] = i;
	rb_rng rng;
	rb_rng_seed(&rng, 3);
	float x[N][DIM], q[N][M];
	uint32_t best[N];
	for (size_t i = 0; i < N; i++) {
		for (int d = 0; d < DIM; d++)
			x[i][d] = (float)(rb_rng_uniform(&rng) * 2 - 1);
		best[i] = (uint32_t)rb_rng_below(&rng, M);
		for (int j = 0; j < M; j++)
			q[i][j] = j == (int)best[i] ? 1.0f : 0.5f * (float)rb_rng_uniform(&rng);
	}
	size_t expected[M] = {0}, n_test = 0;
	for (size_t i = 0; i < N; i++) {
		if (is_train[i])
			continue;
		size_t twin = train_rows[rb_rng_below(&rng, n_train)];
		memcpy(x[i], x[twin], sizeof(x[i]));
		for (int j = 0; j < M; j++)
			q[i][j] = j == (int)best[twin] ? 1.0f : 0.0f;
		expected[best[twin]]++;
		n_test++;
	}
	rbe_builder *b = rbe_builder_new(M, models);
	rbe_builder_want_features(b, DIM, "tfidf");
	for (size_t i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%zu", i);
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q[i], .cost = cost,
				   .features = x[i]};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);

	double lambdas[1] = {1e9};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.lambdas = lambdas;
	o.n_lambdas = 1;
	rbe_error e = {0};
	json_t *r = evaluate1(ds, "k=1", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_eq(json_at(r, "tasks/t/n_test"), (double)n_test);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/quality"), 1.0, 1e-12);
	for (int j = 0; j < M; j++) {
		char path[64];
		snprintf(path, sizeof(path), "tasks/t/router/points/0/share/%s", models[j]);
		cr_assert_float_eq(json_at(r, path), (double)expected[j] / (double)n_test, 1e-12);
	}
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(knn, neighbours_beat_the_zero_router_on_clustered_prompts)
{
	rbe_dataset *ds = synth(300, &(synth_opts){.features = 1});
	rbe_error e = {0};
	json_t *r = evaluate1(ds, "k=5", NULL, &e);
	cr_assert_not_null(r, "%s", e.msg);
	/* Each cluster's best model is recoverable from the neighbours: well above any single model. */
	cr_assert_gt(json_at(r, "tasks/t/router/max_quality/quality"), json_at(r, "tasks/t/llms/large/quality") + 0.2);
	cr_assert_gt(json_at(r, "tasks/t/router/aiq"), json_at(r, "tasks/t/zero/aiq"));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "router"), "version")), "1.0");
	json_decref(r);
	rbe_dataset_free(ds);
}

static void expect_parse_error(rbe_dataset *ds, const char *setting, const char *needle)
{
	expect_param_refused(builtin_plugin("knn"), ds, setting, needle);
}

static void expect_create_error(rbe_dataset *ds, const char *setting, const char *needle)
{
	expect_run_refused(builtin_plugin("knn"), ds, setting, NULL, needle);
}

Test(knn, bad_parameters_are_refused)
{
	rbe_dataset *ds = synth(40, &(synth_opts){.features = 1});
	expect_parse_error(ds, "k=0", "parameter 'k': 0 is out of range [1, 10000]");
	expect_parse_error(ds, "k=10001", "parameter 'k': 10001 is out of range [1, 10000]");
	expect_parse_error(ds, "k=ten", "parameter 'k': 'ten' is not");
	expect_create_error(ds, "cost=bogus", "router 'knn' failed in create for task t: parameter 'cost': 'bogus' is neither 'mean' nor 'tokens'");
	expect_create_error(ds, "cost=tokens", "cost=tokens needs prompt token counts, and the dataset has none");
	expect_create_error(ds, "feature=embedding", "feature 'embedding' requested but the dataset's features are 'tfidf'");
	rbe_dataset_free(ds);
	ds = synth(40, &(synth_opts){.tokens = 1});
	expect_create_error(ds, NULL, "the dataset has no prompt features (feature 'any' requested)");
	rbe_dataset_free(ds);
}

Test(knn, respects_the_feature_parameter)
{
	rbe_dataset *ds = synth(120, &(synth_opts){.features = 1, .tokens = 1});
	rbe_error e = {0};
	json_t *any = evaluate1(ds, NULL, NULL, &e);
	cr_assert_not_null(any, "%s", e.msg);
	json_t *named = evaluate1(ds, "feature=tfidf", NULL, &e);
	cr_assert_not_null(named, "%s", e.msg);
	cr_assert(json_equal(tasks_block(any), tasks_block(named)), "feature=tfidf names the features in use");
	cr_assert_null(evaluate1(ds, "feature=embedding", NULL, &e));
	/* cost=tokens changes ĉ, so it runs through the same features. */
	json_t *tok = evaluate1(ds, "cost=tokens", NULL, &e);
	cr_assert_not_null(tok, "%s", e.msg);
	json_decref(any);
	json_decref(named);
	json_decref(tok);
	rbe_dataset_free(ds);
}

Test(knn, same_seed_and_any_thread_count_give_the_same_result)
{
	rbe_dataset *ds = synth(400, &(synth_opts){.features = 1, .tokens = 1});
	rbe_error e = {0};
	const char *settings[2] = {"k=3", "cost=tokens"};
	json_t *r[3];
	for (int i = 0; i < 3; i++) {
		rbe_eval_opts o;
		rbe_eval_opts_default(&o);
		o.threads = i == 0 ? 1 : 2;
		r[i] = evaluate(ds, settings, 2, &o, &e);
		cr_assert_not_null(r[i], "%s", e.msg);
	}
	cr_assert(json_equal(tasks_block(r[0]), tasks_block(r[1])), "1 thread and 2 threads differ");
	cr_assert(json_equal(tasks_block(r[1]), tasks_block(r[2])), "two runs with the same seed differ");
	for (int i = 0; i < 3; i++)
		json_decref(r[i]);
	rbe_dataset_free(ds);
}

Test(knn, never_sees_test_outcomes)
{
	rbe_dataset *base = synth(200, &(synth_opts){.features = 1});
	rbe_dataset *flipped_test = synth(200, &(synth_opts){.features = 1, .perturb_t_test = 1});
	rbe_dataset *flipped_u = synth(200, &(synth_opts){.features = 1, .perturb_u_train = 1});
	rbe_error e = {0};
	json_t *r0 = evaluate1(base, NULL, NULL, &e);
	json_t *r1 = evaluate1(flipped_test, NULL, NULL, &e);
	json_t *r2 = evaluate1(flipped_u, NULL, NULL, &e);
	cr_assert(r0 && r1 && r2, "%s", e.msg);
	/* Task t's test outcomes changed: what the router scores changes, where it routes does not. */
	json_t *p0 = json_object_get(json_object_get(json_object_get(tasks_block(r0), "t"), "router"), "points");
	json_t *p1 = json_object_get(json_object_get(json_object_get(tasks_block(r1), "t"), "router"), "points");
	cr_assert_eq(json_array_size(p0), RBE_PAPER_LAMBDA_COUNT);
	for (size_t p = 0; p < json_array_size(p0); p++)
		cr_assert(json_equal(json_object_get(json_array_get(p0, p), "share"),
				     json_object_get(json_array_get(p1, p), "share")),
			  "routing at point %zu depends on test qualities", p);
	cr_assert_neq(json_at(r0, "tasks/t/router/max_quality/quality"), json_at(r1, "tasks/t/router/max_quality/quality"));
	/* Task u's train outcomes changed: task t's block is untouched. */
	cr_assert(json_equal(json_object_get(tasks_block(r0), "t"), json_object_get(tasks_block(r2), "t")));
	cr_assert(!json_equal(json_object_get(tasks_block(r0), "u"), json_object_get(tasks_block(r2), "u")));
	json_decref(r0);
	json_decref(r1);
	json_decref(r2);
	rbe_dataset_free(base);
	rbe_dataset_free(flipped_test);
	rbe_dataset_free(flipped_u);
}

Test(knn, empty_train_split_predicts_nothing_and_runs)
{
	rbe_dataset *ds = synth(13, &(synth_opts){.features = 1});
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.train_fraction = 0.05; /* floor(13 · 0.05) = 0 train prompts */
	rbe_error e = {0};
	json_t *r = evaluate1(ds, NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_eq(json_at(r, "tasks/t/n_train"), 0);
	/* No neighbours: q̂ = 0 everywhere, so every λ picks the cheapest model. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/31/share/small"), 1.0, 1e-12);
	json_decref(r);
	rbe_dataset_free(ds);
}
