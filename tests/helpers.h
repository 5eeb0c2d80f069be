/* helpers.h — shared by the test suites: paths from the environment, temp dirs, small datasets. */
#ifndef RB_TEST_HELPERS_H
#define RB_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"

static inline const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* Path of a fixture plugin built beside the tests, or of a built-in router. */
static inline char *fixture_plugin(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s.so", env_or("RB_TEST_PLUGIN_DIR", "build/tests"), name);
	return path;
}

static inline char *builtin_plugin(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s.so", env_or("RB_PLUGIN_DIR", "build/plugins"), name);
	return path;
}

static inline rbd_plugin *load_or_fail(const char *path)
{
	rbd_plugin *p = NULL;
	rbd_error e = {0};
	cr_assert_eq(rbd_plugin_load(path, &p, &e), 0, "loading %s: %s", path, e.msg);
	return p;
}

static inline char *make_temp_dir(void)
{
	static char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/rbtest.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

#endif
