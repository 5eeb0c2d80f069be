/* registry.h — the routers rbd offers: watches the plugin directory, probes each new or changed
 * .so in an rbd-worker subprocess (never in rbd), keeps a content-addressed copy per sha256,
 * (quarantine of a router that keeps crashing is per team, in the job store: jobs.c). */
#ifndef RBD_REGISTRY_H
#define RBD_REGISTRY_H

#include <jansson.h>
#include <uv.h>

#include "eval/params.h"

typedef enum rbd_router_state {
	RBD_ROUTER_OK = 0,
	RBD_ROUTER_REJECTED = 1,    /* the probe refused it (reason: the loader's message) */
	RBD_ROUTER_QUARANTINED = 2, /* listed so for a team whose jobs it crashed too often (jobs.c) */
} rbd_router_state;

/* One probed file content, by sha256. Owned by the registry; valid until rbd_registry_free
 * (entries are never freed earlier, so a pointer held by a job stays valid). */
typedef struct rbd_router_entry {
	char sha256[65];
	char *file;        /* the file in the plugin directory it was last seen as */
	char *store_path;  /* the content-addressed copy workers load */
	rbd_router_state state;
	char *reason;      /* rejected / quarantined: why */
	json_t *info;      /* the probe's router object (name, version, kind, summary, params); NULL if rejected */
	const char *name;  /* the router's name, borrowed from info; NULL if rejected */
	/* The parameter schema the probe described (the worker built it from the descriptor), so
	 * job settings are checked in rbd by the code rbd-worker runs, without loading the plugin. */
	rbe_param_schema *schema;
} rbd_router_entry;

typedef struct rbd_registry rbd_registry;

typedef struct rbd_registry_opts {
	const char *plugin_dir;  /* watched */
	const char *store_dir;   /* content-addressed copies: STORE/<sha256>.so (created) */
	const char *worker_path; /* rbd-worker */
	double rescan_seconds;   /* periodic rescan, besides inotify */
	unsigned quarantine_after;
} rbd_registry_opts;

/* Start watching; the first scan begins at once. ready (may be NULL) is called once, when the
 * first scan's probes have all ended. Owned: rbd_registry_close then rbd_registry_free. */
int rbd_registry_start(uv_loop_t *loop, const rbd_registry_opts *o, void (*ready)(void *), void *ctx,
		       rbd_registry **out, rbe_error *e);
/* New options (a reload): a changed directory is watched from now on; rescans at once. */
int rbd_registry_update(rbd_registry *r, const rbd_registry_opts *o, rbe_error *e);
void rbd_registry_rescan(rbd_registry *r);

/* The router registered under name (its file is in the plugin directory now), in any state;
 * NULL when no file offers that name, or when two or more do (rbd_registry_conflict). */
const rbd_router_entry *rbd_registry_find(const rbd_registry *r, const char *name);
/* Whether two or more files declare the router name; if so, why (naming two of them) is put in
 * why, and neither is used. */
int rbd_registry_conflict(const rbd_registry *r, const char *name, char *why, size_t size);
/* The store copy of sha256 (for a job pinned to it): path owned by the caller (free). */
char *rbd_registry_store_path(const rbd_registry *r, const char *sha256);

/* {"routers": [...]} as ListRouters answers (docs/protocol.md). Owned reference. */
json_t *rbd_registry_list(const rbd_registry *r);

/* Stop watching and kill running probes; cb runs when every handle is closed. */
void rbd_registry_close(rbd_registry *r, void (*cb)(void *), void *ctx);
void rbd_registry_free(rbd_registry *r); /* accepts NULL; only after close's cb */

#endif
