/* test_plugin.c — the loader accepts good routers and rejects bad ones with a useful message;
 * plugins built against older headers (the frozen 1.1 ones, a 1.0 stamp) keep loading and
 * giving the same results. */
#include <dlfcn.h>
#include <string.h>

#include "eval/jobspec.h"
#include "helpers.h"

static void expect_reject(const char *path, const char *needle)
{
	rbe_plugin *p = NULL;
	rbe_error e = {0};
	cr_assert_lt(rbe_plugin_load(path, &p, &e), 0, "%s should be refused", path);
	cr_assert_null(p);
	cr_assert(strstr(e.msg, needle), "message for %s lacks '%s': %s", path, needle, e.msg);
	cr_assert(strstr(e.msg, path), "message must name the file: %s", e.msg);
}

Test(plugin, builtin_routers_load_with_their_schema)
{
	rbe_plugin *p = load_or_fail(builtin_plugin("single"));
	cr_assert_str_eq(p->router->name, "single");
	cr_assert_eq(p->router->kind, RB_ROUTER_POLICY);
	cr_assert_eq(p->router->n_params, 1);
	cr_assert_str_eq(rbe_plugin_param(p, 0)->name, "model");
	rbe_plugin_free(p);
	p = load_or_fail(builtin_plugin("random"));
	cr_assert_str_eq(p->router->name, "random");
	cr_assert_not_null(p->router->distribution);
	rbe_plugin_free(p);
}

Test(plugin, wrong_abi_major_names_versions_and_rebuild_hint)
{
	expect_reject(fixture_plugin("wrong_abi"), "built for router ABI 99.");
	expect_reject(fixture_plugin("wrong_abi"), "rebuild it against routerbench");
}

Test(plugin, wrong_magic_is_not_a_descriptor)
{
	expect_reject(fixture_plugin("wrong_magic"), "bad magic 0xdeadbeef");
}

Test(plugin, missing_entry_symbol_keeps_dlerror_text)
{
	expect_reject(fixture_plugin("no_entry"), "no exported rb_router_entry_v1() nor rb_router_entry()");
	expect_reject(fixture_plugin("no_entry"), "undefined symbol");
}

Test(plugin, missing_or_non_elf_file)
{
	rbe_plugin *p = NULL;
	rbe_error e = {0};
	cr_assert_lt(rbe_plugin_load("/nonexistent/x.so", &p, &e), 0);
	cr_assert(strstr(e.msg, "/nonexistent/x.so"));
	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof(path), "%s/text.so", dir);
	FILE *f = fopen(path, "w");
	fputs("not an ELF file\n", f);
	fclose(f);
	expect_reject(path, "cannot load");
	unlink(path);
	rmdir(dir);
}

Test(plugin, resolve_by_name_and_path)
{
	const char *dirs[] = {"/nonexistent", env_or("RB_PLUGIN_DIR", "build/plugins"), NULL};
	char *path = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_plugin_resolve("random", dirs, &path, &e), 0, "%s", e.msg);
	cr_assert(strstr(path, "/random.so"));
	free(path);
	cr_assert_lt(rbe_plugin_resolve("nosuchrouter", dirs, &path, &e), 0);
	cr_assert(strstr(e.msg, "no router 'nosuchrouter'"), "%s", e.msg);
	cr_assert(strstr(e.msg, "/nonexistent"), "lists the directories searched: %s", e.msg);
	cr_assert_lt(rbe_plugin_resolve("Bad Name", dirs, &path, &e), 0);
	cr_assert_eq(rbe_plugin_resolve(fixture_plugin("good_predictive"), dirs, &path, &e), 0);
	free(path);
}

Test(plugin, builtin_routers_export_the_versioned_entry_only)
{
	const char *names[] = {"single", "random", "knn", "linear", "mlp", "cascade"};
	for (size_t k = 0; k < 6; k++) {
		rbe_plugin *p = load_or_fail(builtin_plugin(names[k]));
		cr_assert_str_eq(p->entry_symbol, "rb_router_entry_v1", "%s", names[k]);
		cr_assert_null(dlsym(p->handle, "rb_router_entry"), "%s exports the unversioned entry", names[k]);
		cr_assert_eq(p->router->stamp.abi_minor, RB_ABI_MINOR);
		cr_assert_eq(p->router->param_value_size, sizeof(rb_param_value));
		rbe_plugin_free(p);
	}
}

/* The order of rb_fixture_layout_1_1 in tests/plugins/abi11_predictive.c. */
static const size_t layout_now[] = {
	sizeof(rb_abi_stamp),
	offsetof(rb_abi_stamp, router_size),
	offsetof(rb_abi_stamp, param_spec_size),
	RB_PARAM_SPEC_SIZE_1_1,
	offsetof(rb_param_spec, type),
	offsetof(rb_param_spec, default_value),
	offsetof(rb_param_spec, min),
	offsetof(rb_param_spec, max),
	offsetof(rb_param_spec, help),
	sizeof(rb_param_value),
	offsetof(rb_param_value, i),
	offsetof(rb_param_value, r),
	offsetof(rb_param_value, s),
	offsetof(rb_param_value, model),
	offsetof(rb_param_value, list),
	offsetof(rb_param_value, list_len),
	sizeof(rb_view),
	offsetof(rb_view, quality),
	offsetof(rb_view, features),
	offsetof(rb_view, feature_name),
	sizeof(rb_host_api),
	offsetof(rb_host_api, log),
	offsetof(rb_host_api, call),
	offsetof(rb_host_api, threads),
	sizeof(rb_create_args),
	offsetof(rb_create_args, params),
	offsetof(rb_create_args, seed),
	offsetof(rb_create_args, task),
	sizeof(rb_router), /* 1.2's param_value_size took 1.1's tail padding */
	offsetof(rb_router, name),
	offsetof(rb_router, kind),
	offsetof(rb_router, params),
	offsetof(rb_router, n_params),
	offsetof(rb_router, create),
	offsetof(rb_router, predict),
	offsetof(rb_router, decide),
	offsetof(rb_router, distribution),
	offsetof(rb_router, ignores),
};

Test(plugin, abi11_plugin_loads_by_the_old_entry_with_the_same_layout)
{
	rbe_plugin *p = load_or_fail(fixture_plugin("abi11_predictive"));
	cr_assert_str_eq(p->entry_symbol, "rb_router_entry");
	cr_assert_eq(p->router->stamp.abi_minor, 1);
	cr_assert_eq(p->schema->value_stride, sizeof(rb_param_value));
	const size_t *old = dlsym(p->handle, "rb_fixture_layout_1_1");
	cr_assert_not_null(old);
	size_t n = sizeof(layout_now) / sizeof(layout_now[0]);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(old[k], layout_now[k], "layout item %zu: 1.1 has %zu, now %zu", k, old[k], layout_now[k]);
	cr_assert_eq(old[n], (size_t)-1, "the 1.1 table has more items than this test");
	rbe_plugin_free(p);
}

/* 3 models (A cheapest, C dearest) over 40 prompts of task t, qualities varying per prompt. */
static rbe_dataset *three_models(void)
{
	const char *models[3] = {"A", "B", "C"};
	rbe_builder *b = rbe_builder_new(3, models);
	const double c[3] = {0.001, 0.01, 0.1};
	for (int i = 0; i < 40; i++) {
		char id[16];
		snprintf(id, sizeof(id), "t.%d", i);
		float q[3] = {(float)(i % 3 == 0), (float)(i % 2 == 0), (float)(i % 5 != 4)};
		rbe_sample_in s = {.sample_id = id, .eval_name = "t", .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

static json_t *run_one(const char *path, const rbe_dataset *ds, const char *setting)
{
	rbe_error e = {0};
	const char *settings[1] = {setting};
	json_t *r = run_router(path, ds, settings, setting ? 1 : 0, NULL, &e);
	cr_assert_not_null(r, "%s: %s", path, e.msg);
	return r;
}

Test(plugin, abi11_predictive_runs_as_its_current_twin)
{
	rbe_dataset *ds = three_models();
	json_t *now = run_one(fixture_plugin("good_predictive"), ds, NULL);
	/* bias is unbounded under 1.1's convention, and shifts every model alike. */
	json_t *old = run_one(fixture_plugin("abi11_predictive"), ds, "bias=-3");
	json_t *tasks_now = json_object_get(now, "tasks"), *tasks_old = json_object_get(old, "tasks");
	cr_assert(json_object_size(json_object_get(json_object_get(tasks_now, "t"), "router")) > 0);
	cr_assert(json_equal(tasks_now, tasks_old), "the 1.1 build decides differently");
	cr_assert_float_eq(json_at(old, "router/params/bias"), -3, 0);
	json_decref(now);
	json_decref(old);
	rbe_dataset_free(ds);
}

Test(plugin, abi11_policy_calls_models_through_the_host)
{
	rbe_dataset *ds = three_models();
	json_t *single = run_one(builtin_plugin("single"), ds, "model=B");
	json_t *old = run_one(fixture_plugin("abi11_policy"), ds, "model=B");
	cr_assert_float_eq(json_at(old, "tasks/t/router/points/0/quality"), json_at(single, "tasks/t/router/points/0/quality"),
			   0);
	cr_assert_float_eq(json_at(old, "tasks/t/router/points/0/cost_total"),
			   json_at(single, "tasks/t/router/points/0/cost_total"), 0);
	/* Point 1 asks every model: the oracle's quality, and every model's cost. */
	cr_assert_float_eq(json_at(old, "tasks/t/router/points/1/quality"), json_at(old, "tasks/t/oracle/quality"), 1e-12);
	double all = json_at(old, "tasks/t/llms/A/cost_total") + json_at(old, "tasks/t/llms/B/cost_total") +
		     json_at(old, "tasks/t/llms/C/cost_total");
	cr_assert_float_eq(json_at(old, "tasks/t/router/points/1/cost_total"), all, 1e-12);
	cr_assert_gt(json_at(old, "tasks/t/router/points/1/quality"), json_at(old, "tasks/t/router/points/0/quality"));
	json_decref(single);
	json_decref(old);
	rbe_dataset_free(ds);
}

Test(plugin, abi11_plugin_through_rbctl_run)
{
	char *dir = make_temp_dir();
	char ds[512];
	snprintf(ds, sizeof(ds), "%s/d.rbds", dir);
	gen_synthetic(ds, "60", "3", "2", "5", NULL);
	char good[4096];
	snprintf(good, sizeof(good), "%s", fixture_plugin("good_predictive"));
	const char *a[] = {"run", "--dataset", ds, "--router", good, "--bootstrap", "20", "--json", NULL};
	const char *b[] = {"run", "--dataset", ds, "--router", fixture_plugin("abi11_predictive"), "--set", "bias=0.5",
			   "--bootstrap", "20", "--json", NULL};
	cmd_result ra = rbctl_cmd(a), rb = rbctl_cmd(b);
	cr_assert_eq(ra.status, 0, "%s", ra.err);
	cr_assert_eq(rb.status, 0, "%s", rb.err);
	json_t *ja = json_loads(ra.out, 0, NULL), *jb = json_loads(rb.out, 0, NULL);
	cr_assert(ja && jb);
	cr_assert_eq(json_object_size(json_object_get(ja, "tasks")), 2);
	cr_assert(json_equal(json_object_get(ja, "tasks"), json_object_get(jb, "tasks")));
	cr_assert(json_equal(json_object_get(ja, "overall"), json_object_get(jb, "overall")));
	const char *c[] = {"run", "--dataset", ds, "--router", fixture_plugin("abi11_predictive"), "--set", "zero=1", NULL};
	cmd_result rc = rbctl_cmd(c);
	cr_assert_neq(rc.status, 0);
	cr_assert(strstr(rc.err, "parameter 'zero': 1 is out of range [0, 0]"), "%s", rc.err);
	json_decref(ja);
	json_decref(jb);
	cmd_free(&ra);
	cmd_free(&rb);
	cmd_free(&rc);
	unlink(ds);
	rmdir(dir);
}

Test(plugin, abi10_descriptor_fields_past_its_size_are_not_read)
{
	rbe_plugin *p = load_or_fail(fixture_plugin("abi10_compat"));
	cr_assert_str_eq(p->entry_symbol, "rb_router_entry");
	cr_assert_eq(rbe_plugin_ignores(p), 0, "ignores lies past a 1.0 descriptor");
	cr_assert_eq(p->schema->value_stride, sizeof(rb_param_value));
	cr_assert(!p->schema->params[0].has_min && !p->schema->params[0].has_max, "1.0 bounds: min > max is none");
	rbe_plugin_free(p);
	rbe_dataset *ds = three_models();
	json_t *r = run_one(fixture_plugin("abi10_compat"), ds, "k=1000");
	cr_assert_float_eq(json_at(r, "router/params/k"), 1000, 0);
	json_decref(r);
	rbe_dataset_free(ds);
}

Test(plugin, defaults_are_checked_at_load)
{
	expect_reject(fixture_plugin("bad_default"),
		      "router 'bad_default' default: parameter 'k': 500 is out of range [1, 100]");
	expect_reject(fixture_plugin("bad_default_type"),
		      "router 'bad_default_type' default: parameter 'rate': 'fast' is not a number");
}

Test(plugin, parameter_values_use_the_plugin_stride)
{
	rbe_plugin *p = load_or_fail(fixture_plugin("wide_values"));
	cr_assert_gt(p->schema->value_stride, sizeof(rb_param_value));
	rbe_params *params = NULL;
	rbe_error e = {0};
	const char *settings[] = {"k=9", "r=0.75", "s=hello"};
	cr_assert_eq(rbe_params_parse(p->schema, NULL, settings, 3, &params, &e), 0, "%s", e.msg);
	cr_assert_not_null(params->strided);
	cr_assert_eq(params->values[1].r, 0.75);
	rbe_dataset *ds = three_models();
	json_t *r = NULL;
	rbe_eval_opts o;
	rbe_eval_opts_default(&o);
	o.bootstrap_resamples = 0;
	cr_assert_eq(rbe_evaluate(ds, p, params, &o, &r, &e), 0, "%s", e.msg);
	const struct {
		int64_t k;
		double r;
		char s[32];
		double appended_sum;
	} *seen = dlsym(p->handle, "rb_fixture_wide_seen");
	cr_assert_not_null(seen);
	cr_assert_eq(seen->k, 9);
	cr_assert_eq(seen->r, 0.75);
	cr_assert_str_eq(seen->s, "hello");
	cr_assert_eq(seen->appended_sum, 0);
	json_decref(r);
	rbe_params_free(params);
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
}

Test(plugin, docs_example_is_a_real_router)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/plugins.md", env_or("RB_SOURCE_ROOT", "."));
	char *doc = slurp_file(path);
	snprintf(path, sizeof(path), "%s/tests/plugins/minimal.c", env_or("RB_SOURCE_ROOT", "."));
	char *src = slurp_file(path);
	cr_assert(strstr(doc, src), "docs/plugins.md must show tests/plugins/minimal.c verbatim");
	free(doc);
	free(src);
	rbe_dataset *ds = three_models();
	json_t *r = run_one(fixture_plugin("minimal"), ds, NULL);
	cr_assert_float_eq(json_at(r, "tasks/t/router/share/A"), 1.0, 0);
	json_decref(r);
	r = run_one(fixture_plugin("minimal"), ds, "rank=2");
	cr_assert_float_eq(json_at(r, "tasks/t/router/share/C"), 1.0, 0);
	json_decref(r);
	rbe_error e = {0};
	const char *settings[1] = {"rank=3"};
	cr_assert_null(run_router(fixture_plugin("minimal"), ds, settings, 1, NULL, &e));
	cr_assert(strstr(e.msg, "rank 3, but there are 3 models"), "%s", e.msg);
	rbe_dataset_free(ds);
}
