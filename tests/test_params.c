/* test_params.c — router parameters are checked against the schema before anything runs. */
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
	cr_assert_eq(rbe_params_parse(p, ds, ok, 1, &params, NULL), 0);
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
	cr_assert_eq(rbe_params_parse(p, ds, NULL, 0, &params, NULL), 0);
	cr_assert_eq(params->values[0].i, 0, "poison defaults to false");
	cr_assert_eq(params->values[1].i, 1, "k defaults to 1");
	rbe_params_free(params);
	expect_error(p, ds, "k=0", "parameter 'k': 0 is out of range [1, 100]");
	expect_error(p, ds, "k=abc", "parameter 'k': 'abc' is not an integer");
	expect_error(p, ds, "k=2.5", "is not an integer");
	expect_error(p, ds, "poison=maybe", "is not true or false");
	const char *twice[2] = {"k=2", "k=3"};
	rbe_error e;
	cr_assert_lt(rbe_params_parse(p, ds, twice, 2, &params, &e), 0);
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
