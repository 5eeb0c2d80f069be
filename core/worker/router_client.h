/* router_client.h — the evaluator's side of a job's router process: start it (sandboxed, in its
 * own process group), call it through eval's router interface, end it and everything it left. */
#ifndef WORKER_ROUTER_CLIENT_H
#define WORKER_ROUTER_CLIENT_H

#include <stdint.h>

#include "eval/plugin.h"
#include "lib/util.h"
#include "worker/worker.h"

typedef struct worker_router worker_router;

typedef struct worker_router_conf {
	const char *plugin; /* the plugin file (borrowed) */
	worker_limits limits;
	worker_sandbox_conf sandbox;
	uint32_t n_models; /* of the dataset: sizes the shared output area for one predict batch */
} worker_router_conf;

/* Start the router process and wait until it has loaded the plugin. *out (owned: stop with
 * worker_router_stop, even on failure when *out was set) describes the router as an
 * rbe_plugin whose calls go to that process (borrowed from *out). Errors: the loader's
 * message (a plugin refused) or the router's death, which worker_router_blame explains. */
int worker_router_start(const worker_router_conf *c, worker_router **out, rbe_plugin **plugin, rbe_error *e);

/* When the router is to blame for the job's failure (it died, broke the protocol or returned
 * invalid output), 1, with what it did in msg ("" when the evaluation's own message says it
 * best); at names where ("in predict (task mmlu)"). Else 0. */
int worker_router_blame(worker_router *r, const char *at, char *msg, size_t len);

/* Whether a request found the router process gone or out of protocol: nothing more runs in it. */
int worker_router_lost(const worker_router *r);

/* End the router process and every process of its group, then forward what is left of its
 * standard error (bounded). Accepts NULL. */
void worker_router_stop(worker_router *r);

#endif
