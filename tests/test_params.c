/* test_params.c — router parameters are checked against the schema before anything runs; the
 * schema is the same whether built from a plugin or from the probe's JSON (rbd). */
#include <string.h>

#include "helpers.h"
#include "eval/params.h"

static rbe_dataset *two_models(void)
{
	const char *models[2] = {"cheap", "dear"};
	rbe_builder *b = rbe_builder_new(2, models);
	float q[2] = {0, 1};
	double c[2] = {1, 2};
	rbe_sample_in s = {.sample_id = "a", .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
	cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static void expect_error(rbe_plugin *p, rbe_dataset *ds, const char *setting, const char *needle)
{
	expect_param_refused(p->path, ds, setting, needle);
}

Test(params, model_parameter_resolves_names)
{
	rbe_dataset *ds = two_models();
	rbe_plugin *p = load_or_fail(builtin_plugin("single"));
	rbe_params *params;
	const char *ok[1] = {"model=dear"};
	cr_assert_eq(rbe_params_parse(p->schema, ds, ok, 1, &params, NULL), 0);
	cr_assert_eq(params->values[0].model, 1);
	cr_assert_str_eq(json_string_value(json_object_get(params->echo, "model")), "dear");
	rbe_params_free(params);
	expect_error(p, ds, "model=gpt-5", "no model 'gpt-5' in the dataset (models: cheap, dear)");
	expect_error(p, ds, NULL, "needs parameter 'model'");
	expect_error(p, ds, "modle=dear", "has no parameter 'modle' (parameters: model)");
	expect_error(p, ds, "model", "expected NAME=VALUE");
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
}

Test(params, types_ranges_and_defaults)
{
	rbe_dataset *ds = two_models();
	rbe_plugin *p = load_or_fail(fixture_plugin("good_predictive"));
	rbe_params *params;
	cr_assert_eq(rbe_params_parse(p->schema, ds, NULL, 0, &params, NULL), 0);
	cr_assert_eq(params->values[0].i, 0, "poison defaults to false");
	cr_assert_eq(params->values[1].i, 1, "k defaults to 1");
	rbe_params_free(params);
	expect_error(p, ds, "k=0", "parameter 'k': 0 is out of range [1, 100]");
	expect_error(p, ds, "k=abc", "parameter 'k': 'abc' is not an integer");
	expect_error(p, ds, "k=2.5", "is not an integer");
	expect_error(p, ds, "poison=maybe", "is not true or false");
	const char *twice[2] = {"k=2", "k=3"};
	rbe_error e;
	cr_assert_lt(rbe_params_parse(p->schema, ds, twice, 2, &params, &e), 0);
	cr_assert(strstr(e.msg, "set twice"));
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
}

Test(params, real_lists)
{
	double *v;
	size_t n;
	rbe_error e;
	cr_assert_eq(rbe_parse_real_list("1e-3, 2,3.5", &v, &n, &e), 0);
	cr_assert_eq(n, 3);
	cr_assert_float_eq(v[0], 1e-3, 1e-15);
	cr_assert_float_eq(v[2], 3.5, 1e-15);
	free(v);
	cr_assert_lt(rbe_parse_real_list("1,x", &v, &n, &e), 0);
	cr_assert(strstr(e.msg, "'x'"));
	cr_assert_lt(rbe_parse_real_list(",", &v, &n, &e), 0);
	cr_assert_lt(rbe_parse_real_list("nan", &v, &n, &e), 0);
}

Test(params, list_item_out_of_range_names_the_item)
{
	rbe_dataset *ds = two_models();
	rbe_plugin *p = load_or_fail(builtin_plugin("cascade"));
	expect_error(p, ds, "error_rates=0.1,-1", "parameter 'error_rates': item -1 is out of range [0, 1]");
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
}

static void expect_accepted(rbe_plugin *p, const char *setting, const char *name, double value)
{
	rbe_params *params = NULL;
	rbe_error e = {0};
	const char *settings[1] = {setting};
	cr_assert_eq(rbe_params_parse(p->schema, NULL, settings, 1, &params, &e), 0, "%s: %s", setting, e.msg);
	json_t *v = json_object_get(params->echo, name);
	cr_assert_float_eq(json_is_array(v) ? json_number_value(json_array_get(v, 0)) : json_number_value(v), value, 0,
			   "%s", setting);
	rbe_params_free(params);
}

Test(params, bounds_flags_one_sided_and_absent)
{
	rbe_plugin *p = load_or_fail(fixture_plugin("bounds"));
	expect_error(p, NULL, "lo=-1", "parameter 'lo': -1 is out of range [0, ∞)");
	expect_accepted(p, "lo=1000000", "lo", 1e6);
	expect_error(p, NULL, "hi=0.5,2", "parameter 'hi': item 2 is out of range (-∞, 1]");
	expect_accepted(p, "hi=-1e9", "hi", -1e9);
	/* min = max = 0 without flags: no bounds (a 1.1 plugin would have meant [0, 0]). */
	expect_accepted(p, "free=-7", "free", -7);
	expect_accepted(p, "free=12345", "free", 12345);
	const rbe_param_def *lo = &p->schema->params[0];
	cr_assert(lo->has_min && !lo->has_max);
	rbe_plugin_free(p);
}

Test(params, abi11_plugin_keeps_its_bounds_convention)
{
	rbe_plugin *p = load_or_fail(fixture_plugin("abi11_predictive"));
	expect_accepted(p, "bias=-1e9", "bias", -1e9); /* min > max: none */
	expect_error(p, NULL, "k=0", "parameter 'k': 0 is out of range [1, 100]");
	expect_error(p, NULL, "zero=0.5", "parameter 'zero': 0.5 is out of range [0, 0]");
	expect_accepted(p, "zero=0", "zero", 0);
	rbe_plugin_free(p);
}

/* rbd checks jobs against the schema read back from the probe's JSON: it must be the same
 * schema, giving the same values and the same refusals. */
static void expect_same_schema_through_json(const char *path, const char *const *settings, size_t n)
{
	rbe_plugin *p = load_or_fail(path);
	json_t *j = rbe_param_schema_json(p->schema);
	char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_t *back_json = json_loads(text, 0, NULL);
	rbe_param_schema *back = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_param_schema_from_json(p->router->name, back_json, &back, &e), 0, "%s: %s", path, e.msg);
	json_t *again = rbe_param_schema_json(back);
	cr_assert(json_equal(j, again), "%s: %s", path, text);
	cr_assert_eq(back->n, p->schema->n);
	for (size_t k = 0; k < n; k++) {
		rbe_params *a = NULL, *b = NULL;
		rbe_error ea = {0}, eb = {0};
		int ra = rbe_params_parse(p->schema, NULL, &settings[k], 1, &a, &ea);
		int rb = rbe_params_parse(back, NULL, &settings[k], 1, &b, &eb);
		cr_assert_eq(ra, rb, "%s %s", path, settings[k]);
		if (ra == 0)
			cr_assert(json_equal(a->echo, b->echo), "%s %s", path, settings[k]);
		else
			cr_assert_str_eq(ea.msg, eb.msg);
		rbe_params_free(a);
		rbe_params_free(b);
	}
	rbe_param_schema_free(back);
	json_decref(again);
	json_decref(back_json);
	free(text);
	json_decref(j);
	rbe_plugin_free(p);
}

Test(params, schema_survives_the_probe_json)
{
	const char *knn[] = {"k=40", "k=0", "k=10001", "feature=tfidf", "cost=tokens", "nope=1"};
	expect_same_schema_through_json(builtin_plugin("knn"), knn, 6);
	const char *cascade[] = {"error_rates=0,0.5", "error_rates=2", "threshold=-1.5", "budgets=-1,5"};
	expect_same_schema_through_json(builtin_plugin("cascade"), cascade, 4);
	const char *mlp[] = {"learning_rate=1e-9", "learning_rate=0.5", "hidden=10", "epochs=x"};
	expect_same_schema_through_json(builtin_plugin("mlp"), mlp, 4);
	const char *lin[] = {"alpha=0", "alpha=-1"};
	expect_same_schema_through_json(builtin_plugin("linear"), lin, 2);
	const char *single[] = {"model=x"};
	expect_same_schema_through_json(builtin_plugin("single"), single, 1);
	const char *bounds[] = {"lo=-1", "lo=3", "hi=2", "free=-5"};
	expect_same_schema_through_json(fixture_plugin("bounds"), bounds, 4);
	const char *old[] = {"zero=1", "bias=-5", "k=101"};
	expect_same_schema_through_json(fixture_plugin("abi11_predictive"), old, 3);
}

Test(params, schema_json_reads_old_bounds_and_refuses_bad_defaults)
{
	rbe_param_schema *s = NULL;
	rbe_error e = {0};
	/* A description from before the flags: min > max meant no bounds. */
	json_t *old = json_loads("[{\"name\":\"n\",\"type\":\"int\",\"default\":\"-3\",\"min\":1,\"max\":0,\"help\":\"\"}]",
				 0, NULL);
	cr_assert_eq(rbe_param_schema_from_json("r", old, &s, &e), 0, "%s", e.msg);
	cr_assert(!s->params[0].has_min && !s->params[0].has_max);
	rbe_param_schema_free(s);
	json_decref(old);
	json_t *bad = json_loads("[{\"name\":\"k\",\"type\":\"int\",\"default\":\"500\",\"min\":1,\"max\":100}]", 0, NULL);
	cr_assert_lt(rbe_param_schema_from_json("r", bad, &s, &e), 0);
	cr_assert(strstr(e.msg, "router 'r' default: parameter 'k': 500 is out of range [1, 100]"), "%s", e.msg);
	json_decref(bad);
	json_t *untyped = json_loads("[{\"name\":\"k\",\"type\":\"integer\"}]", 0, NULL);
	cr_assert_lt(rbe_param_schema_from_json("r", untyped, &s, &e), 0);
	cr_assert(strstr(e.msg, "parameter 0 lacks a name or a known type"), "%s", e.msg);
	json_decref(untyped);
}
