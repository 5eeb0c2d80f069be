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
	RBD_RUN_FAILED,    /* the engine refused (bad output, bad options, result too large): reason */
	RBD_RUN_CRASHED,   /* the worker died (signal, exit, memory, CPU): reason */
	RBD_RUN_TIMED_OUT, /* wall-clock limit: reason */
	RBD_RUN_CANCELLED, /* rbd_run_cancel */
	RBD_RUN_STOPPED,   /* rbd_run_stop (shutdown): the job should be queued again */
} rbd_run_outcome;

typedef struct rbd_run_limits {
	double wall_seconds, kill_grace_seconds;
	uint64_t address_space, cpu_seconds, open_files;
	uint32_t threads;
	uint64_t max_result; /* bytes of the worker's result message; over it the job fails */
} rbd_run_limits;

/* How a run ended, for the done callback. */
typedef struct rbd_run_end {
	rbd_run_outcome outcome;
	char *result;       /* DONE: the result document (compact JSON); borrowed for the call */
	const char *reason; /* borrowed */
	/* The worker's standard error (the router's own output), at most RBD_RUN_OUTPUT_LIMIT
	 * bytes and a truncation marker; "" when it wrote none. Borrowed. */
	const char *output;
	/* The worker said the router is at fault (see runner.c: router_fault), so the crash
	 * counts toward quarantine. Never set for a kill by rbd or from outside. */
	int router_fault;
} rbd_run_end;

/* A job's stored router output: this much, then RBD_RUN_OUTPUT_MARK. */
#define RBD_RUN_OUTPUT_LIMIT ((size_t)1 << 20)
#define RBD_RUN_OUTPUT_MARK "\n[output truncated after 1 MiB]\n"

typedef struct rbd_run_callbacks {
	void *ctx;
	/* Strings borrowed for the call. */
	void (*progress)(void *ctx, int64_t id, const char *phase, const char *task, double fraction);
	/* Once, after the worker's process group is gone and every handle closed; the run is
	 * freed after it returns. */
	void (*done)(void *ctx, int64_t id, rbd_run_end *end);
} rbd_run_callbacks;

typedef struct rbd_run_args {
	int64_t id;
	const char *team;         /* for log lines */
	const char *worker_path;
	const char *plugin_path;  /* store copy */
	const char *job_json;     /* the Submit parameters (text) */
	rbd_shmds *dataset;       /* referenced while the job runs */
	rbd_run_limits limits;
	double delay_seconds;     /* wait this long before spawning (retry backoff); 0: at once */
	/* How the worker confines the router (core/proto/workerproto.h "sandbox"): uid 0 = no
	 * switch to a job user. */
	struct {
		int enabled, need_landlock;
		uint32_t uid;
	} sandbox;
	rbd_run_callbacks cb;
} rbd_run_args;

/* Start the worker, in a process group (session) of its own. Everything in args is copied or
 * referenced. On failure nothing runs and no callback is made; a worker that cannot be started
 * after a delay is reported by done (FAILED). The run ends when the worker process exits: its
 * whole group is killed then, and what is already in its pipes is read (bounded), so a child
 * it left behind holding them cannot keep the job open. */
int rbd_run_start(uv_loop_t *loop, const rbd_run_args *args, rbd_run **out, rbe_error *e);
/* Stop the job: TERM to the worker's group, then KILL after the grace. done reports CANCELLED / STOPPED unless the
 * job had already finished. */
void rbd_run_cancel(rbd_run *r);
void rbd_run_stop(rbd_run *r);
/* Where the worker is: the last phase and task it reported ("" before any). Borrowed. */
const char *rbd_run_phase(const rbd_run *r);
const char *rbd_run_task(const rbd_run *r);
double rbd_run_fraction(const rbd_run *r);

#endif
