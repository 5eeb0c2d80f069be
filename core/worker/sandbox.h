/* sandbox.h — lock the calling process down before it loads a team's router: its own uid,
 * no new privileges, not dumpable, only the kept descriptors, Landlock, seccomp
 * (docs/security.md says what each layer stops). */
#ifndef WORKER_SANDBOX_H
#define WORKER_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/util.h"

typedef struct worker_sandbox_opts {
	/* Files the router may read (and map executable): its own plugin copy, say. Borrowed. */
	const char *const *read_paths;
	size_t n_read_paths;
	/* Descriptors the router keeps (its channel to the evaluator); every other one above 2 is
	 * closed. Borrowed. */
	const int *keep_fds;
	size_t n_keep_fds;
	/* When the caller is root and uid is not 0: switch to uid/gid (a per-job user) and drop
	 * every supplementary group. Ignored when not root. */
	uid_t uid;
	gid_t gid;
	int allow_exec;     /* 1: execve stays allowed (a router that runs a program) */
	int need_landlock;  /* 1: fail when the kernel has no Landlock, instead of going on without */
} worker_sandbox_opts;

/* Apply every layer to the calling process, in an order where no layer stops the next from
 * being installed. Irreversible. 0, or -errno with e naming the layer that failed; on failure
 * the process is left partly locked and must exit. Call it single-threaded. */
int worker_sandbox_enter(const worker_sandbox_opts *o, rbe_error *e);

#endif
