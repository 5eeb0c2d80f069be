/* test_plugin.c — the loader accepts good routers and rejects bad ones with a useful message. */
#include <string.h>

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
	expect_reject(fixture_plugin("no_entry"), "no exported rb_router_entry()");
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
