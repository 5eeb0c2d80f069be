/* test_eval.c — the engine on the worked example of docs/metrics.md and on misbehaving routers. */
#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "helpers.h"
#include "data/split.h"

#define EPS 1e-12

/* Worked example: 4 test prompts × 3 models (docs/metrics.md), placed where the paper split
 * (seed 42, 0.7) puts the test part of a 13-prompt task; train prompts favour model B. */
static const float ex_q[4][3] = {{1, 1, 1}, {0, 1, 1}, {0, 0, 1}, {0, 0, 0}};
static const double ex_c[3] = {0.001, 0.01, 0.1};

static rbe_dataset *worked_example(int with_second_task)
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
	cr_assert_eq(next_test, 4, "13 prompts split 9/4");
	for (int i = 0; with_second_task && i < 10; i++) {
		char id[32];
		snprintf(id, sizeof(id), "u.%d", i);
		float q[3] = {1, 1, 1};
		rbe_sample_in s = {.sample_id = id, .eval_name = "u", .prompt = "other", .quality = q, .cost = ex_c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static json_t *evaluate(rbe_dataset *ds, const char *plugin_path, const char *setting, const rbe_eval_opts *o,
			rbe_error *e)
{
	const char *settings[1] = {setting};
	return run_router(plugin_path, ds, settings, setting ? 1 : 0, o, e);
}

Test(eval, worked_example_llms_oracle_zero)
{
	rbe_dataset *ds = worked_example(0);
	rbe_error e = {0};
	json_t *r = evaluate(ds, builtin_plugin("single"), "model=B", NULL, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_str_eq(json_string_value(json_object_get(r, "schema")), "routerbench.result/1");
	cr_assert_eq(json_at(r, "tasks/t/n_test"), 4);
	cr_assert_eq(json_at(r, "tasks/t/n_train"), 9);
	cr_assert_float_eq(json_at(r, "tasks/t/llms/A/quality"), 0.25, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/llms/A/cost_total"), 0.004, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/llms/B/cost_mean"), 0.01, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/llms/C/quality"), 0.75, EPS);
	/* Oracle: A, B, C, and nobody for the prompt no model answers. */
	cr_assert_float_eq(json_at(r, "tasks/t/oracle/quality"), 0.75, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/oracle/cost_total"), 0.111, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/zero/aiq"), 0.2385 / 0.396, 1e-12);
	cr_assert_float_eq(json_at(r, "tasks/t/zero/aiq_code"), 0.2385 / 0.4, 1e-12);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(json_object_get(json_object_get(r, "tasks"), "t"), "zero"), "ndch")),
		     3);
	/* The single router's one point is model B's point; all prompts go to B. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/quality"), 0.5, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/cost_total"), 0.04, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/share/B"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/max_quality/quality"), 0.5, EPS);
	/* One task: overall equals it. */
	cr_assert_float_eq(json_at(r, "overall/zero/aiq"), json_at(r, "tasks/t/zero/aiq"), 0);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(eval, random_router_is_seeded_and_reports_exact_expectation)
{
	rbe_dataset *ds = worked_example(0);
	rbe_error e = {0};
	json_t *r1 = evaluate(ds, builtin_plugin("random"), NULL, NULL, &e);
	json_t *r2 = evaluate(ds, builtin_plugin("random"), NULL, NULL, &e);
	cr_assert_not_null(r1, "%s", e.msg);
	cr_assert(json_equal(json_object_get(r1, "tasks"), json_object_get(r2, "tasks")), "same seed, same result");
	/* Expectation = per-prompt mean over models: quality (0.25+0.5+0.75)/3, cost 4·0.111/3. */
	cr_assert_float_eq(json_at(r1, "tasks/t/router/points/0/expected/quality"), 0.5, 1e-12);
	cr_assert_float_eq(json_at(r1, "tasks/t/router/points/0/expected/cost_total"), 0.444 / 3, 1e-12);
	double shares = json_at(r1, "tasks/t/router/share/A") + json_at(r1, "tasks/t/router/share/B") +
			json_at(r1, "tasks/t/router/share/C");
	cr_assert_float_eq(shares, 1.0, 1e-12);
	json_decref(r1);
	json_decref(r2);
	rbe_dataset_free(ds);
}

Test(eval, predictive_sweep_goes_from_cheapest_to_best_predicted)
{
	rbe_dataset *ds = worked_example(0);
	rbe_error e = {0};
	double lambdas[3] = {1e-10, 0.05, 1e9};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.lambdas = lambdas;
	o.n_lambdas = 3;
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	/* q̂ = train means (0, 1, 0.5); ĉ = train mean costs. λ→0: cheapest (A); λ = 0.05: B
	 * (0.05 − 0.01 > 0 − 0.001); λ→∞: B, the best predicted. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/share/A"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/param"), 1e-10, 0);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/1/share/B"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/share/B"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/2/quality"), 0.5, EPS);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(r, "sweep"), "lambdas")), 3);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(eval, ties_go_to_the_earlier_model)
{
	const char *models[2] = {"first", "second"};
	rbe_builder *b = rbe_builder_new(2, models);
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i);
		float q[2] = {1, 1};
		double c[2] = {0.5, 0.5};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	rbe_error e = {0};
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, NULL, &e);
	cr_assert_not_null(r, "%s", e.msg);
	for (int p = 0; p < RBE_PAPER_LAMBDA_COUNT; p++) {
		char path[64];
		snprintf(path, sizeof(path), "tasks/t/router/points/%d/share/first", p);
		cr_assert_float_eq(json_at(r, path), 1.0, EPS);
	}
	json_decref(r);
	rbe_dataset_free(ds);
}

static void expect_failure(const char *plugin, const char *setting, const char *needle)
{
	rbe_dataset *ds = worked_example(0);
	expect_run_refused(plugin, ds, setting, NULL, needle);
	rbe_dataset_free(ds);
}

Test(eval, invalid_router_output_fails_the_job_with_a_reason)
{
	expect_failure(fixture_plugin("bad_output"), "mode=index", "returned model index 3 for prompt t.");
	expect_failure(fixture_plugin("bad_output"), "mode=fail", "failed in decide for prompt");
	expect_failure(fixture_plugin("bad_output"), "mode=dist", "invalid distribution");
	expect_failure(fixture_plugin("bad_output"), "mode=create", "failed in create for task t: fixture refuses to start");
	expect_failure(fixture_plugin("good_predictive"), "poison=true", "predicted a non-finite quality for prompt t.");
}

Test(eval, nan_prediction_names_router_prompt_and_predict)
{
	/* nan_router predicts NaN for the second query of its batch: the second test prompt. */
	uint8_t is_train[13];
	rbe_split_assign(13, 42, 0.7, is_train);
	int seen = 0, bad = -1;
	for (int i = 0; i < 13 && bad < 0; i++)
		if (!is_train[i] && ++seen == 2)
			bad = i;
	char needle[256];
	snprintf(needle, sizeof(needle),
		 "router 'nan_router' predicted a non-finite quality for prompt t.%d, model A: predict returned NaN", bad);
	expect_failure(fixture_plugin("nan_router"), NULL, needle);
}

Test(eval, tasks_selection_overall_pooling_and_unknown_task)
{
	rbe_dataset *ds = worked_example(1);
	rbe_error e = {0};
	json_t *all = evaluate(ds, builtin_plugin("single"), "model=A", NULL, &e);
	cr_assert_not_null(all, "%s", e.msg);
	/* u: 10 prompts → 3 test prompts, all answered by A. Overall pools 4 + 3. */
	cr_assert_eq(json_at(all, "overall/n_test"), 7);
	cr_assert_float_eq(json_at(all, "overall/llms/A/quality"), (1.0 + 3.0) / 7.0, EPS);
	cr_assert_float_eq(json_at(all, "overall/llms/A/cost_total"), 0.007, EPS);

	const char *only_t[1] = {"t"};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.tasks = only_t;
	o.n_tasks = 1;
	json_t *t = evaluate(ds, builtin_plugin("single"), "model=A", &o, &e);
	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_null(json_object_get(json_object_get(t, "tasks"), "u"));
	cr_assert(json_equal(json_object_get(json_object_get(t, "tasks"), "t"),
			     json_object_get(json_object_get(all, "tasks"), "t")),
		  "a task's block does not depend on which other tasks run");

	const char *bogus[1] = {"nope"};
	o.tasks = bogus;
	cr_assert_null(evaluate(ds, builtin_plugin("single"), "model=A", &o, &e));
	cr_assert(strstr(e.msg, "no task 'nope' in the dataset (tasks: t, u)"), "%s", e.msg);
	json_decref(all);
	json_decref(t);
	rbe_dataset_free(ds);
}

Test(eval, ood_split_trains_on_the_other_tasks)
{
	rbe_dataset *ds = worked_example(1);
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.mode = RBE_SPLIT_OOD;
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_eq(json_at(r, "tasks/t/n_train"), 7, "t trains on u's 7 train prompts");
	cr_assert_eq(json_at(r, "tasks/u/n_train"), 9, "u trains on t's 9 train prompts");
	cr_assert_eq(json_at(r, "overall/n_train"), 16);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "split"), "mode")), "ood");
	/* u's train prompts score 1 everywhere: for t, q̂ ties at λ→∞ go to A, the first model. */
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/31/share/A"), 1.0, EPS);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(eval, bad_options_are_refused)
{
	rbe_dataset *ds = worked_example(0);
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	double neg[1] = {-1};
	o.lambdas = neg;
	o.n_lambdas = 1;
	cr_assert_null(evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e));
	cr_assert(strstr(e.msg, "λ = -1"), "%s", e.msg);
	rbe_eval_opts_default(&o);
	o.train_fraction = 0.05; /* floor(13 · 0.05) = 0 train prompts, all test: allowed */
	json_t *r = evaluate(ds, builtin_plugin("single"), "model=A", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	json_decref(r);
	o.train_fraction = 0.99; /* floor(12.87) = 12 train, 1 test */
	r = evaluate(ds, builtin_plugin("single"), "model=A", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_eq(json_at(r, "tasks/t/n_test"), 1);
	json_decref(r);
	rbe_dataset_free(ds);
}

#include "eval/metrics.h"

Test(eval, overhead_is_charged_on_the_router_axis_only)
{
	rbe_dataset *ds = worked_example(0);
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.overhead_cost_per_query = 0.01;
	json_t *r = evaluate(ds, builtin_plugin("single"), "model=A", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_float_eq(json_at(r, "tasks/t/llms/A/cost_total"), 0.004, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/router/points/0/cost_total"), 0.004 + 4 * 0.01, EPS);
	cr_assert_float_eq(json_at(r, "overhead_cost_per_query"), 0.01, 0);
	rbe_point pt = {0.044, 0.25};
	cr_assert_float_eq(json_at(r, "tasks/t/router/aiq"), rbe_aiq(&pt, 1, 0.004, 0.4), 1e-12);
	json_decref(r);
	o.overhead_cost_per_query = -1;
	cr_assert_null(evaluate(ds, builtin_plugin("single"), "model=A", &o, &e));
	cr_assert(strstr(e.msg, "overhead cost per query -1"), "%s", e.msg);
	rbe_dataset_free(ds);
}

Test(eval, keep_decisions_exports_every_prompt)
{
	rbe_dataset *ds = worked_example(1);
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.keep_decisions = 1;
	json_t *r = evaluate(ds, builtin_plugin("single"), "model=C", &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	json_t *d = json_object_get(json_object_get(json_object_get(r, "tasks"), "t"), "decisions");
	cr_assert_eq(json_array_size(json_object_get(d, "sample_ids")), 4);
	cr_assert_eq(json_array_size(json_object_get(d, "model")), 1, "one array per point");
	cr_assert_eq(json_integer_value(json_array_get(json_array_get(json_object_get(d, "model"), 0), 2)), 2);
	cr_assert_float_eq(json_real_value(json_array_get(json_array_get(json_object_get(d, "cost"), 0), 0)), 0.1, EPS);
	cr_assert_float_eq(json_real_value(json_array_get(json_array_get(json_object_get(d, "llm_quality"), 1), 0)), 0,
			   EPS, "prompt 2: A is wrong");
	json_t *all = json_object_get(json_object_get(r, "overall"), "decisions");
	cr_assert_eq(json_array_size(json_object_get(all, "sample_ids")), 7, "overall pools both tasks");
	json_decref(r);
	rbe_dataset_free(ds);
}

/* 200 prompts: A (0.001) right on even prompts, B (0.01) always right. */
static rbe_dataset *two_model_task(void)
{
	const char *models[2] = {"A", "B"};
	rbe_builder *b = rbe_builder_new(2, models);
	for (int i = 0; i < 200; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		float q[2] = {(float)(i % 2 == 0), 1};
		double c[2] = {0.001, 0.01};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "x", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

Test(eval, calibration_meets_a_budget_and_a_share)
{
	rbe_dataset *ds = two_model_task();
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.target_budget = 0.005; /* only "all to A" fits */
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	/* 140 train prompts: 28 held out for validation, 112 fit the router. */
	cr_assert_eq(json_at(r, "tasks/t/n_train"), 112);
	cr_assert_eq(json_at(r, "tasks/t/calibration/validation/n"), 28);
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/validation/cost_mean"), 0.001, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/test/cost_mean"), 0.001, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/test/share/A"), 1.0, EPS);
	cr_assert(json_is_true(json_object_get(json_object_get(json_object_get(json_object_get(r, "tasks"), "t"),
								"calibration"), "met_on_validation")));
	cr_assert_float_eq(json_at(r, "overall/calibration/test/cost_mean"), 0.001, EPS);
	json_decref(r);

	rbe_eval_opts_default(&o);
	o.target_share_model = "B";
	o.target_share = 1.0;
	r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/test/share/B"), 1.0, EPS);
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/test/quality"), 1.0, EPS);
	json_decref(r);

	o.target_share_model = "Z";
	cr_assert_null(evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e));
	cr_assert(strstr(e.msg, "no model 'Z'"), "%s", e.msg);
	o.target_share_model = "A";
	o.target_budget = 1;
	cr_assert_null(evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e));
	cr_assert(strstr(e.msg, "choose one calibration target"), "%s", e.msg);
	rbe_dataset_free(ds);
}

Test(eval, unreachable_budget_falls_back_to_the_cheapest_point)
{
	rbe_dataset *ds = two_model_task();
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.target_budget = 0.0001; /* below every model */
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert(json_is_false(json_object_get(json_object_get(json_object_get(json_object_get(r, "tasks"), "t"),
								 "calibration"), "met_on_validation")));
	cr_assert_float_eq(json_at(r, "tasks/t/calibration/test/cost_mean"), 0.001, EPS);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(eval, bootstrap_intervals_are_attached_to_every_block)
{
	rbe_dataset *ds = two_model_task();
	rbe_error e = {0};
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.bootstrap_resamples = 300;
	json_t *r = evaluate(ds, fixture_plugin("good_predictive"), NULL, &o, &e);
	cr_assert_not_null(r, "%s", e.msg);
	cr_assert_eq(json_at(r, "bootstrap/resamples"), 300);
	for (int k = 0; k < 2; k++) {
		const char *block = k ? "overall" : "tasks/t";
		char path[128];
		snprintf(path, sizeof(path), "%s/router/aiq", block);
		double aiq = json_at(r, path);
		snprintf(path, sizeof(path), "%s/router/aiq_ci95/0", block);
		double lo = json_at(r, path);
		snprintf(path, sizeof(path), "%s/router/aiq_ci95/1", block);
		double hi = json_at(r, path);
		cr_assert(lo <= aiq && aiq <= hi, "%s: %g in [%g, %g]", block, aiq, lo, hi);
		snprintf(path, sizeof(path), "%s/llms/A/ci95/quality/1", block);
		cr_assert_gt(json_at(r, path), 0.0);
	}
	json_decref(r);
	rbe_dataset_free(ds);
}
