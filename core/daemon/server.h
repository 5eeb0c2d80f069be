/* server.h — rbd itself: the socket, the methods of docs/protocol.md, jobs from submission to
 * result, reloads and the graceful stop. Everything runs on one libuv loop thread. */
#ifndef RBD_SERVER_H
#define RBD_SERVER_H

#include <uv.h>

#include "daemon/config.h"

typedef struct rbd_server rbd_server;

/* Called once: listening (msg NULL) or not able to (msg says why; rbd then stops). It may run
 * before rbd_server_start returns. */
typedef void (*rbd_server_ready_fn)(void *ctx, const char *msg);

/* Open the state directory (lock, job store, crash recovery), load the datasets into shared
 * memory, start the plugin registry and, once its first scan is probed, listen. cfg becomes the
 * server's. Errors name the file or directory. Owned: rbd_server_free after the loop ends. */
int rbd_server_start(uv_loop_t *loop, rbd_config *cfg, const char *worker_path, rbd_server_ready_fn ready,
		     void *ready_ctx, rbd_server **out, rbe_error *e);

/* Re-read the config file, then the datasets and the plugin directory (SIGHUP, Reload). On any
 * error the running configuration stays and e says what is wrong. */
int rbd_server_reload(rbd_server *s, rbe_error *e);

/* SIGTERM: stop accepting, let running jobs finish within shutdown_grace, stop the rest (they
 * stay queued on disk), close everything; the loop then ends. */
void rbd_server_shutdown(rbd_server *s);

/* 0, or 1 when rbd stopped because it could not serve (e.g. the socket could not be bound). */
int rbd_server_exit_status(const rbd_server *s);

void rbd_server_free(rbd_server *s); /* accepts NULL */

#endif
