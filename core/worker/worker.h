/* worker.h — what the parts of rbd-worker share: limits, the fatal-signal handler, the sandbox
 * settings of a job, and the two modes that run a team's code (router process, probe load). */
#ifndef WORKER_WORKER_H
#define WORKER_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/util.h"

typedef struct worker_limits {
	uint64_t address_space, cpu_seconds, open_files, threads; /* 0: none */
} worker_limits;

/* The job message's "sandbox" object (core/proto/workerproto.h). */
typedef struct worker_sandbox_conf {
	int enabled;
	uid_t uid; /* 0: no switch */
	gid_t gid;
	int need_landlock;
} worker_sandbox_conf;

/* "limits" (may be NULL) into out; errors name the member. */
int worker_parse_limits(const json_t *limits, worker_limits *out, rbe_error *e);
/* RLIMIT_AS, RLIMIT_CPU (one second of grace before SIGKILL) and RLIMIT_NOFILE on this process. */
int worker_apply_limits(const worker_limits *l, rbe_error *e);

/* Report fatal signals (message on the message descriptor, or into the router channel once
 * worker_crash_sink is set), then die of them. */
void worker_install_fatal_handlers(void);
struct rch_header;
void worker_crash_sink(struct rch_header *h);
/* A descriptor on /proc/self/statm opened at start (the handler's fallback), or -1. */
int worker_statm_fd(void);

/* The process group of the job's router process while it runs (0: none): whatever ends the
 * worker (SIGTERM from rbd, its own crash) kills that group first. */
#include <signal.h>
extern volatile sig_atomic_t worker_router_pgid;
/* SIGTERM, SIGINT, SIGHUP: kill the router's group, then die of the signal. */
void worker_install_term_handlers(void);

/* rbd-worker --router PARENT_PID: the router process (router_proc.c). Exit status. */
int worker_router_main(const char *parent);
/* rbd-worker --probe-load FILE: load FILE in the sandbox, answer on descriptor 3. */
int worker_probe_load_main(const char *path);

#endif
