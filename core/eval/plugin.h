/* plugin.h — loading a router .so: dlopen, ABI stamp check, descriptor validation. */
#ifndef RBE_PLUGIN_H
#define RBE_PLUGIN_H

#include <stdint.h>

#include "rb/router.h"
#include "lib/util.h"

typedef struct rbe_param_schema rbe_param_schema; /* eval/params.h */

typedef struct rbe_plugin {
	const rb_router *router;  /* borrowed from the loaded object */
	rbe_param_schema *schema; /* owned: its parameters, checked at load (defaults included) */
	const char *entry_symbol; /* the entry it was found by: RB_ROUTER_ENTRY_SYMBOL or _LEGACY */
	char *path;               /* owned */
	uint8_t sha256[32];       /* of the file as loaded */
	void *handle;             /* never dlclosed: code or data of it may still be referenced */
	/* NULL: call router in this process. Else the router runs elsewhere and router only
	 * describes it (eval/eval.h); both borrowed. */
	const struct rbe_router_ops *ops;
	void *ops_ctx;
} rbe_plugin;

/* Load and validate the router at path (RTLD_NOW | RTLD_LOCAL): rb_router_entry_v1, else the
 * unversioned entry of 1.0 and 1.1 plugins; stamp; descriptor; parameter schema. Errors name
 * the file and say what to rebuild. Owned result: rbe_plugin_free. */
int rbe_plugin_load(const char *path, rbe_plugin **out, rbe_error *e);
void rbe_plugin_free(rbe_plugin *p);

/* RB_IGNORES_* bits the router declared (0 for routers built against ABI 1.0). */
uint32_t rbe_plugin_ignores(const rbe_plugin *p);

/* The i-th parameter spec as the plugin wrote it, read with its own struct size as the stride
 * (fields past RB_PARAM_SPEC_SIZE_1_1 only per its stamp: prefer p->schema). */
const rb_param_spec *rbe_plugin_param(const rbe_plugin *p, uint32_t i);

/* Resolve a router name to a file: NAME containing '/' or ending in ".so" is a path; otherwise
 * NAME.so is searched in dirs (NULL-terminated, in order). Owned result (free). */
int rbe_plugin_resolve(const char *name, const char *const *dirs, char **path, rbe_error *e);

/* The default search path for rbctl: $RB_PLUGIN_DIR (colon-separated), the "plugins" folder
 * beside the running executable (the build tree), the installed plugin directory.
 * Owned NULL-terminated array: rbe_strv_free. */
char **rbe_plugin_default_dirs(const char *const *extra_dirs);
void rbe_strv_free(char **v);

const char *rbe_router_kind_name(uint32_t kind); /* RB_ROUTER_*: "predictive", "policy", "unknown" */

#endif
