/* plugin.c — load a router plugin and refuse anything that does not match our ABI. */
#include "eval/plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/params.h"
#include "rb_config.h"

/* Fields are fixed-width so their layout is the compiler's no more than it must be: what a 1.1
 * plugin wrote must be where this host reads it (tests/test_plugin.c also compares against the
 * frozen 1.1 headers at run time). */
#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(rb_abi_stamp) == 28, "rb_abi_stamp changed size");
_Static_assert(offsetof(rb_param_spec, type) == 8 && offsetof(rb_param_spec, min) == 24 &&
		       offsetof(rb_param_spec, help) == 40 && RB_PARAM_SPEC_SIZE_1_1 == 48,
	       "rb_param_spec 1.1 fields moved");
_Static_assert(sizeof(rb_param_value) == 56 && offsetof(rb_param_value, i) == 8 &&
		       offsetof(rb_param_value, model) == 32 && offsetof(rb_param_value, list_len) == 48,
	       "rb_param_value changed layout");
/* param_value_size sits in what was a 1.1 descriptor's tail padding: hence the minor checks. */
_Static_assert(offsetof(rb_router, name) == 32 && offsetof(rb_router, kind) == 56 &&
		       offsetof(rb_router, params) == 64 && offsetof(rb_router, create) == 80 &&
		       RB_ROUTER_SIZE_1_0 == 136 && offsetof(rb_router, param_value_size) == 140 &&
		       sizeof(rb_router) == 144,
	       "rb_router 1.1 fields moved");
_Static_assert(sizeof(rb_host_api) == 32 && sizeof(rb_view) == 96 && sizeof(rb_create_args) == 48,
	       "host structs changed size");
#endif

const char *rbe_router_kind_name(uint32_t kind)
{
	switch (kind) {
	case RB_ROUTER_PREDICTIVE:
		return "predictive";
	case RB_ROUTER_POLICY:
		return "policy";
	}
	return "unknown";
}

static int hash_file(const char *path, uint8_t out[32], rbe_error *e)
{
	char *data;
	size_t len;
	int r = rbe_read_file(path, &data, &len, e);
	if (r < 0)
		return r;
	rbe_sha256_buf(data, len, out);
	free(data);
	return 0;
}

#define REBUILD_HINT "rebuild it against routerbench " RB_VERSION_STRING " headers (router ABI %d.%d)"

/* Check the stamp: version first, then the first field that differs, with a hint. */
static int check_stamp(const char *path, const char *entry, const rb_abi_stamp *s, rbe_error *e)
{
	if (s->magic != RB_ROUTER_MAGIC)
		return rbe_fail(e, -ENOEXEC,
				"%s: %s() did not return a router descriptor (bad magic 0x%08x); "
				"declare the router with RB_ROUTER_DEFINE",
				path, entry, s->magic);
	if (s->abi_major != RB_ABI_MAJOR)
		return rbe_fail(e, -ENOEXEC, "%s: built for router ABI %u.%u, this host speaks %d.%d; " REBUILD_HINT,
				path, s->abi_major, s->abi_minor, RB_ABI_MAJOR, RB_ABI_MINOR, RB_ABI_MAJOR,
				RB_ABI_MINOR);
	if (s->pointer_size != sizeof(void *))
		return rbe_fail(e, -ENOEXEC, "%s: built for %u-byte pointers, this host uses %zu; " REBUILD_HINT,
				path, s->pointer_size, sizeof(void *), RB_ABI_MAJOR, RB_ABI_MINOR);
	if (s->stamp_size != sizeof(rb_abi_stamp))
		return rbe_fail(e, -ENOEXEC, "%s: ABI stamp is %u bytes, expected %zu; " REBUILD_HINT, path,
				s->stamp_size, sizeof(rb_abi_stamp), RB_ABI_MAJOR, RB_ABI_MINOR);
	/* Structs grow only by appending: the plugin's descriptor must hold at least our fields,
	 * and the structs we hand it must be at least as large as it expects. */
	if (s->router_size < RB_ROUTER_SIZE_1_0)
		return rbe_fail(e, -ENOEXEC, "%s: router descriptor is %u bytes, expected at least %zu; " REBUILD_HINT,
				path, s->router_size, RB_ROUTER_SIZE_1_0, RB_ABI_MAJOR, RB_ABI_MINOR);
	if (s->host_api_size > sizeof(rb_host_api) || s->view_size > sizeof(rb_view))
		return rbe_fail(e, -ENOEXEC,
				"%s: built against newer routerbench headers (ABI %u.%u) than this host (%d.%d); "
				"upgrade routerbench or " REBUILD_HINT,
				path, s->abi_major, s->abi_minor, RB_ABI_MAJOR, RB_ABI_MINOR, RB_ABI_MAJOR,
				RB_ABI_MINOR);
	/* Specs are read with the plugin's stride: 1.1 ones lack the flags and keep loading. */
	if (s->param_spec_size < RB_PARAM_SPEC_SIZE_1_1)
		return rbe_fail(e, -ENOEXEC, "%s: parameter spec is %u bytes, expected at least %zu; " REBUILD_HINT,
				path, s->param_spec_size, RB_PARAM_SPEC_SIZE_1_1, RB_ABI_MAJOR, RB_ABI_MINOR);
	return 0;
}

uint32_t rbe_plugin_ignores(const rbe_plugin *p)
{
	/* Read a 1.1 field only when the plugin's descriptor holds it and its ABI has it. */
	const rb_abi_stamp *s = &p->router->stamp;
	if (s->abi_minor < 1 || s->router_size < offsetof(rb_router, ignores) + sizeof(uint32_t))
		return 0;
	return p->router->ignores;
}

const rb_param_spec *rbe_plugin_param(const rbe_plugin *p, uint32_t i)
{
	return (const rb_param_spec *)((const char *)p->router->params + (size_t)i * p->router->stamp.param_spec_size);
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* The descriptor's own fields (its parameters are the schema's to check). */
static int check_descriptor(const rbe_plugin *p, rbe_error *e)
{
	const rb_router *r = p->router;
	const char *path = p->path;
	if (!valid_name(r->name))
		return rbe_fail(e, -EINVAL, "%s: router name '%s' must be 1-64 characters of [a-z0-9_-]", path,
				r->name ? r->name : "(null)");
	if (!r->version)
		return rbe_fail(e, -EINVAL, "%s: router '%s' has no version", path, r->name);
	if (!r->create || !r->destroy)
		return rbe_fail(e, -EINVAL, "%s: router '%s' has no %s() function; every router needs create and destroy",
				path, r->name, r->create ? "destroy" : "create");
	if (r->kind == RB_ROUTER_PREDICTIVE) {
		if (!r->predict)
			return rbe_fail(e, -EINVAL, "%s: predictive router '%s' has no predict() function", path, r->name);
	} else if (r->kind == RB_ROUTER_POLICY) {
		if (!r->n_points || !r->decide)
			return rbe_fail(e, -EINVAL, "%s: policy router '%s' has no %s() function", path, r->name,
					r->n_points ? "decide" : "n_points");
	} else {
		return rbe_fail(e, -EINVAL, "%s: router '%s' has unknown kind %u (expected predictive or policy)", path,
				r->name, r->kind);
	}
	if (r->n_params > 256 || (r->n_params && !r->params))
		return rbe_fail(e, -EINVAL, "%s: router '%s' declares %u parameters but no valid table", path, r->name,
				r->n_params);
	return 0;
}

/* The versioned entry first, so a later major can keep loading 1.x plugins by theirs; then the
 * unversioned one of 1.0 and 1.1 plugins. On failure *symbol is dlerror's text. */
static rb_router_entry_fn find_entry(void *handle, const char **symbol)
{
	static const char *names[] = {RB_ROUTER_ENTRY_SYMBOL, RB_ROUTER_ENTRY_SYMBOL_LEGACY};
	const char *why = NULL;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		dlerror();
		void *sym = dlsym(handle, names[k]);
		why = dlerror();
		if (sym && !why) {
			*symbol = names[k];
			return (rb_router_entry_fn)sym;
		}
	}
	*symbol = why ? why : "the symbol is NULL";
	return NULL;
}

int rbe_plugin_load(const char *path, rbe_plugin **out, rbe_error *e)
{
	uint8_t sha[32];
	int r = hash_file(path, sha, e);
	if (r < 0)
		return r;
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return rbe_fail(e, -ENOEXEC, "%s: cannot load: %s", path, dlerror());
	const char *symbol = NULL;
	rb_router_entry_fn entry = find_entry(handle, &symbol);
	if (!entry)
		return rbe_fail(e, -ENOEXEC,
				"%s: not a router plugin: no exported %s() nor %s() (%s); declare the router with "
				"RB_ROUTER_DEFINE and " REBUILD_HINT,
				path, RB_ROUTER_ENTRY_SYMBOL, RB_ROUTER_ENTRY_SYMBOL_LEGACY, symbol, RB_ABI_MAJOR,
				RB_ABI_MINOR);
	const rb_router *router = entry();
	if (!router)
		return rbe_fail(e, -ENOEXEC, "%s: %s() returned NULL", path, symbol);
	r = check_stamp(path, symbol, &router->stamp, e);
	if (r < 0)
		return r;
	rbe_plugin *p = rbe_xcalloc(1, sizeof(*p));
	p->router = router;
	p->entry_symbol = symbol;
	p->path = rbe_xstrdup(path);
	p->handle = handle;
	memcpy(p->sha256, sha, 32);
	r = check_descriptor(p, e);
	if (r == 0 && (r = rbe_param_schema_from_router(router, &p->schema, e)) < 0)
		rbe_error_prefix(e, "%s", path);
	if (r < 0) {
		rbe_plugin_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void rbe_plugin_free(rbe_plugin *p)
{
	if (!p)
		return;
	rbe_param_schema_free(p->schema);
	free(p->path);
	free(p);
}

int rbe_plugin_resolve(const char *name, const char *const *dirs, char **path, rbe_error *e)
{
	size_t len = strlen(name);
	if (strchr(name, '/') || (len > 3 && !strcmp(name + len - 3, ".so"))) {
		if (access(name, R_OK) != 0)
			return rbe_fail(e, -errno, "router file %s: %s", name, strerror(errno));
		*path = rbe_xstrdup(name);
		return 0;
	}
	if (!valid_name(name))
		return rbe_fail(e, -EINVAL, "router name '%s' must be [a-z0-9_-]+ or a path to a .so", name);
	char searched[2048] = "";
	for (size_t i = 0; dirs && dirs[i]; i++) {
		char candidate[PATH_MAX];
		snprintf(candidate, sizeof(candidate), "%s/%s.so", dirs[i], name);
		if (access(candidate, R_OK) == 0) {
			*path = rbe_xstrdup(candidate);
			return 0;
		}
		if (strlen(searched) + strlen(dirs[i]) + 3 < sizeof(searched)) {
			if (*searched)
				strcat(searched, ", ");
			strcat(searched, dirs[i]);
		}
	}
	return rbe_fail(e, -ENOENT, "no router '%s' (looked for %s.so in: %s); `rbctl routers` lists them", name,
			name, *searched ? searched : "no directories");
}

void rbe_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

char **rbe_plugin_default_dirs(const char *const *extra_dirs)
{
	size_t n = 0, cap = 8;
	char **v = rbe_xcalloc(cap, sizeof(char *));
#define PUSH(s)                                                                                    \
	do {                                                                                       \
		if (n + 2 > cap)                                                                   \
			v = rbe_xrealloc(v, (cap *= 2) * sizeof(char *));                          \
		v[n++] = (s);                                                                      \
		v[n] = NULL;                                                                       \
	} while (0)
	for (size_t i = 0; extra_dirs && extra_dirs[i]; i++)
		PUSH(rbe_xstrdup(extra_dirs[i]));
	const char *env = getenv("RB_PLUGIN_DIR");
	if (env && *env) {
		char *copy = rbe_xstrdup(env), *save = NULL;
		for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
			PUSH(rbe_xstrdup(tok));
		free(copy);
	}
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		char beside[PATH_MAX + 16];
		snprintf(beside, sizeof(beside), "%s/plugins", dirname(exe));
		if (access(beside, X_OK) == 0)
			PUSH(rbe_xstrdup(beside));
	}
	PUSH(rbe_xstrdup(RB_INSTALLED_PLUGIN_DIR));
#undef PUSH
	return v;
}
