/* plugin.c — load a router plugin and refuse anything that does not match our ABI. */
#include "eval/plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rb_config.h"

const char *rbe_router_kind_name(rb_router_kind k)
{
	switch (k) {
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
static int check_stamp(const char *path, const rb_abi_stamp *s, rbe_error *e)
{
	if (s->magic != RB_ROUTER_MAGIC)
		return rbe_fail(e, -ENOEXEC,
				"%s: rb_router_entry() did not return a router descriptor (bad magic 0x%08x); "
				"start the descriptor with RB_ABI_STAMP",
				path, s->magic);
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
	if (s->param_spec_size < sizeof(rb_param_spec))
		return rbe_fail(e, -ENOEXEC, "%s: parameter spec is %u bytes, expected at least %zu; " REBUILD_HINT,
				path, s->param_spec_size, sizeof(rb_param_spec), RB_ABI_MAJOR, RB_ABI_MINOR);
	return 0;
}

uint32_t rbe_plugin_ignores(const rbe_plugin *p)
{
	/* Read a 1.1 field only when the plugin's descriptor is large enough to hold it. */
	if (p->router->stamp.router_size < offsetof(rb_router, ignores) + sizeof(uint32_t))
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
		return rbe_fail(e, -EINVAL, "%s: router '%s' has unknown kind %d (expected predictive or policy)", path,
				r->name, (int)r->kind);
	}
	if (r->n_params > 256 || (r->n_params && !r->params))
		return rbe_fail(e, -EINVAL, "%s: router '%s' declares %u parameters but no valid table", path, r->name,
				r->n_params);
	for (uint32_t i = 0; i < r->n_params; i++) {
		const rb_param_spec *s = rbe_plugin_param(p, i);
		if (!s->name || !*s->name)
			return rbe_fail(e, -EINVAL, "%s: router '%s' parameter %u has no name", path, r->name, i);
		if (s->type < RB_PARAM_INT || s->type > RB_PARAM_REAL_LIST)
			return rbe_fail(e, -EINVAL, "%s: router '%s' parameter '%s' has unknown type %d", path, r->name,
					s->name, (int)s->type);
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(rbe_plugin_param(p, k)->name, s->name))
				return rbe_fail(e, -EINVAL, "%s: router '%s' declares parameter '%s' twice", path,
						r->name, s->name);
	}
	return 0;
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
	dlerror();
	rb_router_entry_fn entry = (rb_router_entry_fn)dlsym(handle, RB_ROUTER_ENTRY_SYMBOL);
	const char *why = dlerror();
	if (!entry || why)
		return rbe_fail(e, -ENOEXEC,
				"%s: not a router plugin: no exported %s() (%s); define it with RB_EXPORT and "
				REBUILD_HINT,
				path, RB_ROUTER_ENTRY_SYMBOL, why ? why : "symbol is NULL", RB_ABI_MAJOR, RB_ABI_MINOR);
	const rb_router *router = entry();
	if (!router)
		return rbe_fail(e, -ENOEXEC, "%s: %s() returned NULL", path, RB_ROUTER_ENTRY_SYMBOL);
	r = check_stamp(path, &router->stamp, e);
	if (r < 0)
		return r;
	rbe_plugin *p = rbe_xcalloc(1, sizeof(*p));
	p->router = router;
	p->path = rbe_xstrdup(path);
	p->handle = handle;
	memcpy(p->sha256, sha, 32);
	r = check_descriptor(p, e);
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
