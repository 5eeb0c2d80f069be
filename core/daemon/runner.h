/* runner.h — one job running in its own rbd-worker process: spawn with the dataset's memfd,
 * follow its progress, enforce the wall-clock limit (TERM, grace, KILL), and say precisely how
 * it ended. */
#ifndef RBD_RUNNER_H
#define RBD_RUNNER_H

#include <stdint.h>
#include <uv.h>

#include "daemon/shm_datasets.h"

typedef struct rbd_run rbd_run;

typedef enum rbd_run_outcome {
	RBD_RUN_DONE,      /* result holds the result document (compact JSON) */
	RBD_RUN_FAILED,    /* the engine refused (bad output, bad options): reason */
	RBD_RUN_CRASHED,   /* the worker died in router code (signal, exit, memory, CPU): reason */
	RBD_RUN_TIMED_OUT, /* wall-clock limit: reason */
	RBD_RUN_CANCELLED, /* rbd_run_cancel */
	RBD_RUN_STOPPED,   /* rbd_run_stop (shutdown): the job should be queued again */
} rbd_run_outcome;

typedef struct rbd_run_limits {
	double wall_seconds, kill_grace_seconds;
	uint64_t address_space, cpu_seconds, open_files;
	uint32_t threads;
} rbd_run_limits;

typedef struct rbd_run_callbacks {
	void *ctx;
	/* Strings borrowed for the call. */
	void (*progress)(void *ctx, int64_t id, const char *phase, const char *task, double fraction);
	/* Once, after the worker is gone and every handle closed; the run is freed after it returns.
	 * result: owned by the callee when non-NULL (free). */
	void (*done)(void *ctx, int64_t id, rbd_run_outcome outcome, char *result, const char *reason);
} rbd_run_callbacks;

typedef struct rbd_run_args {
	int64_t id;
	const char *worker_path;
	const char *plugin_path;  /* store copy */
	const char *job_json;     /* the Submit parameters (text) */
	rbd_shmds *dataset;       /* referenced while the job runs */
	rbd_run_limits limits;
	rbd_run_callbacks cb;
} rbd_run_args;

/* Start the worker. Everything in args is copied or referenced. On failure nothing runs and no
 * callback is made. */
int rbd_run_start(uv_loop_t *loop, const rbd_run_args *args, rbd_run **out, rbe_error *e);
/* Stop the job: TERM, then KILL after the grace. done reports CANCELLED / STOPPED unless the
 * job had already finished. */
void rbd_run_cancel(rbd_run *r);
void rbd_run_stop(rbd_run *r);
/* Where the worker is: the last phase and task it reported ("" before any). Borrowed. */
const char *rbd_run_phase(const rbd_run *r);
const char *rbd_run_task(const rbd_run *r);
double rbd_run_fraction(const rbd_run *r);

#endif
