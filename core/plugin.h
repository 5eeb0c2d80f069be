/* plugin.h — loading a router .so: dlopen, ABI stamp check, descriptor validation. */
#ifndef RBD_PLUGIN_H
#define RBD_PLUGIN_H

#include <stdint.h>

#include "rb/router.h"
#include "util.h"

typedef struct rbd_plugin {
	const rb_router *router; /* borrowed from the loaded object */
	char *path;              /* owned */
	uint8_t sha256[32];      /* of the file as loaded */
	void *handle;            /* never dlclosed: a mapped .so stays mapped (STYLE.md) */
} rbd_plugin;

/* Load and validate the router at path (RTLD_NOW | RTLD_LOCAL). Errors name the file and say
 * what to rebuild. Owned result: rbd_plugin_free. */
int rbd_plugin_load(const char *path, rbd_plugin **out, rbd_error *e);
void rbd_plugin_free(rbd_plugin *p);

/* RB_IGNORES_* bits the router declared (0 for routers built against ABI 1.0). */
uint32_t rbd_plugin_ignores(const rbd_plugin *p);

/* The i-th parameter spec, read with the plugin's own struct size as the stride. */
const rb_param_spec *rbd_plugin_param(const rbd_plugin *p, uint32_t i);

/* Resolve a router name to a file: NAME containing '/' or ending in ".so" is a path; otherwise
 * NAME.so is searched in dirs (NULL-terminated, in order). Owned result (free). */
int rbd_plugin_resolve(const char *name, const char *const *dirs, char **path, rbd_error *e);

/* The default search path for rbctl: $RB_PLUGIN_DIR (colon-separated), the "plugins" folder
 * beside the running executable (the build tree), the installed plugin directory.
 * Owned NULL-terminated array: rbd_strv_free. */
char **rbd_plugin_default_dirs(const char *const *extra_dirs);
void rbd_strv_free(char **v);

const char *rbd_router_kind_name(rb_router_kind k);

#endif
