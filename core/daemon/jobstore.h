/* jobstore.h — durable jobs: one SQLite database (WAL) in rbd's state directory. */
#ifndef RBD_JOBSTORE_H
#define RBD_JOBSTORE_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/util.h"

typedef enum rbd_job_state {
	RBD_JOB_QUEUED = 0,
	RBD_JOB_RUNNING = 1,
	RBD_JOB_DONE = 2,
	RBD_JOB_FAILED = 3,
	RBD_JOB_CANCELLED = 4,
} rbd_job_state;

const char *rbd_job_state_name(rbd_job_state s); /* "queued", "running", "done", "failed", "cancelled" */
static inline int rbd_job_state_final(rbd_job_state s) { return s >= RBD_JOB_DONE; }

/* One job as stored. Strings owned by the row (rbd_job_row_clear). */
typedef struct rbd_job_row {
	int64_t id;             /* assigned by insert, increasing, never reused */
	char *team;             /* team name of the submitter */
	uint32_t uid;           /* submitter's uid */
	rbd_job_state state;
	char *dataset;          /* dataset name */
	char *dataset_sha256;   /* hex of the dataset generation it was submitted against */
	char *router;           /* router name */
	char *router_sha256;    /* hex: the plugin copy the job is pinned to */
	char *spec;             /* the Submit parameters as JSON text */
	char *reason;           /* why it failed or was cancelled; NULL otherwise */
	double submitted_at;    /* Unix time, seconds */
	double started_at;      /* 0 when never started */
	double finished_at;     /* 0 when not finished */
	uint32_t attempts;      /* how many times a worker started it */
} rbd_job_row;

void rbd_job_row_clear(rbd_job_row *r); /* frees the strings, zeroes the row */

typedef struct rbd_jobstore rbd_jobstore;

/* Open or create path (WAL, foreign keys on, schema versioned with user_version and migrated
 * from older versions; a newer or foreign schema, or a file failing PRAGMA quick_check, is
 * refused with a message naming the file). Owned: rbd_jobstore_close. */
int rbd_jobstore_open(const char *path, rbd_jobstore **out, rbe_error *e);
void rbd_jobstore_close(rbd_jobstore *js); /* accepts NULL */

/* Store a new queued job (row->id, state, started_at, finished_at, attempts, reason ignored)
 * and commit with synchronous=FULL before returning: the job is durable when this returns 0.
 * *id receives the new id. */
int rbd_jobstore_insert(rbd_jobstore *js, const rbd_job_row *row, int64_t *id, rbe_error *e);

/* queued → running, attempts += 1, started_at = now. -ESTALE when the job is not queued. */
int rbd_jobstore_start(rbd_jobstore *js, int64_t id, double now, rbe_error *e);

/* running|queued → final state (done, failed or cancelled) with the result JSON text (done
 * only; NULL otherwise) and reason (failed/cancelled). A job already final is never altered:
 * -ESTALE. */
int rbd_jobstore_finish(rbd_jobstore *js, int64_t id, rbd_job_state state, const char *result, const char *reason,
			double now, rbe_error *e);

/* rbd_jobstore_finish, also storing output (the router's own output, text; NULL: none). */
int rbd_jobstore_finish_output(rbd_jobstore *js, int64_t id, rbd_job_state state, const char *result,
			       const char *reason, const char *output, double now, rbe_error *e);

/* The stored router output of job id (owned: free; NULL when none). -ENOENT: no such job. */
int rbd_jobstore_output(rbd_jobstore *js, int64_t id, char **text, rbe_error *e);

/* -EBADMSG with "stored job is damaged: ..." when row's spec is not JSON. */
int rbd_jobstore_spec_check(rbd_jobstore *js, const rbd_job_row *row, rbe_error *e);

/* Count one router fault of router content sha256 for team (kept across restarts); *faults
 * gets the new count. */
int rbd_jobstore_add_fault(rbd_jobstore *js, const char *sha256, const char *team, const char *reason,
			   uint32_t *faults, rbe_error *e);
/* The faults counted so far (0 when none) and the last one's reason (owned; NULL allowed). */
int rbd_jobstore_faults(rbd_jobstore *js, const char *sha256, const char *team, uint32_t *faults, char **last_reason,
			rbe_error *e);

/* running → queued (a worker was interrupted by a daemon stop): attempts is kept. */
int rbd_jobstore_requeue(rbd_jobstore *js, int64_t id, rbe_error *e);

/* -ENOENT when there is no such job. *out filled (owned strings) on success. */
int rbd_jobstore_get(rbd_jobstore *js, int64_t id, rbd_job_row *out, rbe_error *e);

/* The stored result text of a done job (owned: free). -ENOENT when none; -EBADMSG ("stored job
 * is damaged: ...") when the stored text is not JSON: it is never handed out. */
int rbd_jobstore_result(rbd_jobstore *js, int64_t id, char **json_text, rbe_error *e);

/* Visit jobs in id order. team NULL: every team. include_final 0: queued and running only.
 * The row is borrowed for the callback; a non-zero return stops the walk and is returned. */
typedef int (*rbd_job_visit_fn)(void *ctx, const rbd_job_row *row);
int rbd_jobstore_list(rbd_jobstore *js, const char *team, int include_final, rbd_job_visit_fn fn, void *ctx,
		      rbe_error *e);

/* At startup after a crash or stop: every running job becomes queued again (attempts kept).
 * *n_requeued gets how many. */
int rbd_jobstore_recover(rbd_jobstore *js, size_t *n_requeued, rbe_error *e);

/* The state named name ("queued", ...): 0, or -EINVAL with *out untouched. */
int rbd_job_state_parse(const char *name, rbd_job_state *out);

#endif
