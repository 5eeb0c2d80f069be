/* fairsched.h — the fair queue: FIFO per team, teams take turns, per-team running caps. */
#ifndef RBD_FAIRSCHED_H
#define RBD_FAIRSCHED_H

#include <stddef.h>
#include <stdint.h>

typedef struct rbd_sched rbd_sched;

rbd_sched *rbd_sched_new(void); /* owned: rbd_sched_free; aborts on ENOMEM */
void rbd_sched_free(rbd_sched *s); /* accepts NULL */

/* A team's cap on running jobs (0: no cap). Teams are created on first mention. */
void rbd_sched_set_running_cap(rbd_sched *s, const char *team, uint32_t max_running);

/* Append a queued job at the end of its team's queue. An id already queued aborts: it would run
 * twice. */
void rbd_sched_push(rbd_sched *s, const char *team, int64_t id);

/* Take a queued job out of the queue (cancel). 0, or -ENOENT when not queued here. */
int rbd_sched_remove(rbd_sched *s, int64_t id);

/* The next job to run: teams with queued jobs and running below their cap take turns in a
 * fixed rotation that resumes after the team served last. Returns 1 with *id and *team
 * (borrowed, valid until rbd_sched_free) and counts the job as running for its team; 0 when
 * nothing can run. A team that becomes able to run (a job queued while it had none, a job
 * finished under its cap, a cap raised) joins the rotation at the end of the current round, just
 * before the team due next. O(1). */
int rbd_sched_next(rbd_sched *s, int64_t *id, const char **team);

/* A job that rbd_sched_next handed out has finished (any way). Aborts when the team has none
 * running: the caller's bookkeeping is broken. */
void rbd_sched_finished(rbd_sched *s, const char *team);

size_t rbd_sched_queued(const rbd_sched *s, const char *team); /* team NULL: all teams */
size_t rbd_sched_running(const rbd_sched *s, const char *team);

#endif
