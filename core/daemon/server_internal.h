/* server_internal.h — what server.c, connections.c, methods.c and jobs.c share: the server and
 * connection structs and the calls between them. Private to rbd; everything runs on the loop. */
#ifndef RBD_SERVER_INTERNAL_H
#define RBD_SERVER_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/config.h"
#include "daemon/fairsched.h"
#include "daemon/jobstore.h"
#include "daemon/methods.h"
#include "daemon/registry.h"
#include "daemon/runner.h"
#include "daemon/server.h"
#include "daemon/shm_datasets.h"
#include "proto/proto.h"

#define MAX_GROUPS 64
#define GROUP_CACHE_SIZE 64         /* callers whose supplementary groups are remembered */
#define GROUP_CACHE_SECONDS 60.0
#define MAX_BACKLOG 64              /* calls pipelined behind a pending Wait */
#define PROGRESS_INTERVAL 0.1       /* seconds between streamed progress replies */

typedef struct rbd_conn conn;

typedef struct group_cache_entry {
	int valid;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t n;
	double at;
} group_cache_entry;

/* A job that is not final yet, as the loop knows it. */
typedef struct job_mem {
	int64_t id;
	char *team;
	uint32_t uid;
	rbd_job_state state;
	char *router_sha;
	rbd_run *run;       /* while running */
	uint32_t job_user;  /* while running: the uid its router runs as ([sandbox] job_users), or 0 */
	char *cancel_reason;
	struct job_mem *next;
} job_mem;

struct rbd_conn {
	uv_pipe_t pipe;
	rbd_server *s;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t n_groups;
	rbw_msgbuf in;
	char **backlog; /* calls received while one is pending (owned texts) */
	size_t n_backlog;
	int64_t wait_id; /* > 0: a Wait (or Cancel of a running job) is pending */
	int wait_more;
	double last_progress;
	char last_phase[64];
	int eof;     /* the client shut its sending side: close once the pending replies are out */
	int closing;
	int refused;           /* in no team and no administrator: told so, then closed */
	double last_active;    /* monotonic: the last call received or reply sent */
	double finishing_at;   /* monotonic: when a flush-then-close began (0: not begun) */
	/* Bytes this connection holds, counted in rbd_server.buffered. */
	size_t out_bytes;      /* replies queued, not yet written */
	size_t in_bytes;       /* a partial call in the input buffer */
	size_t backlog_bytes;  /* calls waiting behind a pending one */
	conn *next;
};

struct rbd_server {
	uv_loop_t *loop;
	rbd_config *cfg;
	char *worker_path;
	char *socket_path; /* the one bound (a reload does not move it) */
	int lock_fd;
	uv_pipe_t listener;
	int listening;
	uv_timer_t grace;
	rbd_jobstore *store;
	rbd_sched *sched;
	rbd_registry *registry;
	rbd_shmds **datasets;
	size_t n_datasets;
	uint64_t generation;
	job_mem *jobs;
	conn *conns;
	size_t n_conns;
	size_t n_refused;   /* of n_conns: non-members being told why and closed (count for no cap) */
	uint64_t buffered;  /* bytes every connection holds together (max_buffered bounds it) */
	uint64_t buffered_peak; /* since memory was last handed back to the system */
	uv_timer_t sweep;   /* closes idle connections and ones that never drain */
	int sweep_on;
	int orphans;        /* a job's end could not be stored: the store has it unfinished, memory not */
	group_cache_entry group_cache[GROUP_CACHE_SIZE];
	int shutting_down, closed;
	int exit_status; /* for rbd's main: 1 when rbd could not serve */
	rbd_server_ready_fn ready;
	void *ready_ctx;
	double started_at;
};

/* ---- server.c ---- */

double rbd_wall_now(void);
rbd_shmds *rbd_dataset_find(rbd_server *s, const char *name); /* borrowed, or NULL */
/* While stopping: once no worker runs, close the connections, then everything else. */
void rbd_maybe_stopped(rbd_server *s);
/* Jobs the store still has queued or running though rbd forgot them (their end could not be
 * stored: a full or failing state directory) are marked failed with a reason, once the store
 * takes writes again. Does nothing unless s->orphans; called periodically. */
void rbd_reconcile(rbd_server *s);

/* ---- jobs.c ---- */

size_t rbd_running_jobs(const rbd_server *s);
job_mem *rbd_jobmem_find(rbd_server *s, int64_t id);
job_mem *rbd_jobmem_add(rbd_server *s, int64_t id, const char *team, uint32_t uid, const char *router_sha);
void rbd_jobmem_remove(rbd_server *s, job_mem *j); /* frees j */
size_t rbd_team_active(rbd_server *s, const char *team); /* its jobs queued or running */
/* Store the final state, forget j (freed) and tell whoever waits on it. */
void rbd_finish_job(rbd_server *s, job_mem *j, rbd_job_state state, const char *result, const char *reason);
/* Why router content router_sha is quarantined for team (owned: free), or NULL when it is not:
 * its router faults counted in the job store reached quarantine_after. */
char *rbd_quarantine_reason(rbd_server *s, const char *router_sha, const char *team);
/* In a ListRouters answer (borrowed), show the routers quarantined for team as such. */
void rbd_routers_mark_quarantined(rbd_server *s, json_t *list, const char *team);
/* Start queued jobs while workers are free. */
void rbd_schedule(rbd_server *s);
/* SIGTERM's grace is over: stop every running worker (the jobs stay queued). */
void rbd_stop_running(rbd_server *s);
json_t *rbd_job_json(rbd_server *s, const rbd_job_row *row); /* new reference */
json_t *rbd_opt_string(const char *v);                        /* v or null; new reference */

/* ---- connections.c ---- */

/* Queue text (owned, NUL included in len) for c. */
void rbd_conn_send(conn *c, char *text, size_t len);
void rbd_reply(conn *c, json_t *params, int continues); /* params stolen */
/* params stolen; message printf-style. */
void rbd_reply_error(conn *c, const char *error, json_t *params, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Close every connection not closing yet (rbd stops). */
void rbd_conns_close(rbd_server *s);
/* Stop the timer that closes idle connections (rbd stops). */
void rbd_conns_stop_sweep(rbd_server *s);
/* Tell every connection waiting on id what changed; a job whose end could not be stored
 * answers its waiters with an error at once. */
void rbd_notify(rbd_server *s, int64_t id);
/* Whether job id ended without the end being stored (see rbd_reconcile); why is for the caller. */
int rbd_job_lost(rbd_server *s, int64_t id, char *why, size_t size);
/* Listen on cfg->socket_path; connections are accepted from then on. */
int rbd_listen(rbd_server *s, rbe_error *e);
const rbd_team_conf *rbd_caller_team(const conn *c); /* borrowed from the config, or NULL */
int rbd_caller_admin(const conn *c);

/* ---- methods.c ---- */

/* Answer one call (text of len bytes); replies go out on c. */
void rbd_dispatch(conn *c, const char *text, size_t len);

#endif
