/* jobs.c — rbd's unfinished jobs: the table in memory, scheduling onto workers, how each ended. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server_internal.h"

/* Jobs with a worker: the scheduler counts what it handed out until each is finished. */
size_t rbd_running_jobs(const rbd_server *s)
{
	return rbd_sched_running(s->sched, NULL);
}

job_mem *rbd_jobmem_find(rbd_server *s, int64_t id)
{
	for (job_mem *j = s->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

job_mem *rbd_jobmem_add(rbd_server *s, int64_t id, const char *team, uint32_t uid, const char *router_sha)
{
	job_mem *j = rbe_xcalloc(1, sizeof(*j));
	j->id = id;
	j->team = rbe_xstrdup(team);
	j->uid = uid;
	j->state = RBD_JOB_QUEUED;
	j->router_sha = rbe_xstrdup(router_sha);
	j->next = s->jobs;
	s->jobs = j;
	return j;
}

void rbd_jobmem_remove(rbd_server *s, job_mem *j)
{
	for (job_mem **p = &s->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	free(j->team);
	free(j->router_sha);
	free(j->cancel_reason);
	free(j);
}

size_t rbd_team_active(rbd_server *s, const char *team)
{
	size_t n = 0;
	for (job_mem *j = s->jobs; j; j = j->next)
		n += !strcmp(j->team, team);
	return n;
}

json_t *rbd_opt_string(const char *v)
{
	return v ? json_string(v) : json_null();
}

/* The job object of docs/protocol.md. */
json_t *rbd_job_json(rbd_server *s, const rbd_job_row *row)
{
	json_t *o = json_pack("{sI ss sI ss ss ss ss ss sf sf sf sI}", "id", (json_int_t)row->id, "team", row->team, "uid",
			      (json_int_t)row->uid, "state", rbd_job_state_name(row->state), "dataset", row->dataset,
			      "router", row->router, "router_sha256", row->router_sha256, "dataset_sha256",
			      row->dataset_sha256 ? row->dataset_sha256 : "", "submitted_at", row->submitted_at,
			      "started_at", row->started_at, "finished_at", row->finished_at, "attempts",
			      (json_int_t)row->attempts);
	job_mem *j = rbd_jobmem_find(s, row->id);
	if (j && j->run && row->state == RBD_JOB_RUNNING)
		json_object_set_new(o, "progress",
				    json_pack("{sssssf}", "phase", rbd_run_phase(j->run), "task", rbd_run_task(j->run),
					      "fraction", rbd_run_fraction(j->run)));
	json_object_set_new(o, "reason", rbd_opt_string(row->reason));
	return o;
}

void rbd_finish_job(rbd_server *s, job_mem *j, rbd_job_state state, const char *result, const char *reason)
{
	rbe_error e = {0};
	if (rbd_jobstore_finish(s->store, j->id, state, result, reason, rbd_wall_now(), &e) < 0)
		rbd_log(RBD_LOG_ERR, "job %lld: %s", (long long)j->id, e.msg);
	int64_t id = j->id;
	rbd_jobmem_remove(s, j);
	rbd_notify(s, id);
}

/* ---- a worker reports ---- */

static void run_progress(void *ctx, int64_t id, const char *phase, const char *task, double fraction)
{
	(void)phase;
	(void)task;
	(void)fraction;
	rbd_notify(ctx, id);
}

static void run_done(void *ctx, int64_t id, rbd_run_outcome outcome, char *result, const char *reason)
{
	rbd_server *s = ctx;
	job_mem *j = rbd_jobmem_find(s, id);
	rbe_require(j && j->run);
	j->run = NULL;
	rbd_sched_finished(s->sched, j->team);
	rbe_error e = {0};
	switch (outcome) {
	case RBD_RUN_DONE:
		rbd_log(RBD_LOG_INFO, "job %lld done", (long long)id);
		rbd_finish_job(s, j, RBD_JOB_DONE, result, NULL);
		break;
	case RBD_RUN_CANCELLED:
		rbd_log(RBD_LOG_INFO, "job %lld cancelled while running", (long long)id);
		rbd_finish_job(s, j, RBD_JOB_CANCELLED, NULL, j->cancel_reason ? j->cancel_reason : reason);
		break;
	case RBD_RUN_STOPPED:
		/* rbd is stopping: the job stays on disk as queued and runs again at the next start. */
		if (rbd_jobstore_requeue(s->store, id, &e) < 0)
			rbd_log(RBD_LOG_ERR, "job %lld: %s", (long long)id, e.msg);
		rbd_log(RBD_LOG_INFO, "job %lld interrupted; queued again for the next start", (long long)id);
		rbd_jobmem_remove(s, j);
		break;
	case RBD_RUN_CRASHED:
		rbd_registry_report_crash(s->registry, j->router_sha, reason);
		/* fall through */
	case RBD_RUN_FAILED:
	case RBD_RUN_TIMED_OUT:
		rbd_log(RBD_LOG_INFO, "job %lld failed: %s", (long long)id, reason);
		rbd_finish_job(s, j, RBD_JOB_FAILED, NULL, reason);
		break;
	}
	free(result);
	if (s->shutting_down)
		rbd_maybe_stopped(s);
	else
		rbd_schedule(s);
}

/* ---- starting ---- */

/* What the worker of row needs: its dataset and router file. "" in reason when all is there. */
static void check_runnable(rbd_server *s, const rbd_job_row *row, rbd_shmds **ds, char **plugin_path, char *reason,
			   size_t size)
{
	if (!(*ds = rbd_dataset_find(s, row->dataset))) {
		snprintf(reason, size, "dataset '%s' is no longer configured", row->dataset);
		return;
	}
	*plugin_path = rbd_registry_store_path(s->registry, row->router_sha256);
	if (access(*plugin_path, R_OK) < 0)
		snprintf(reason, size, "router file %s is gone from the store: %s", *plugin_path, strerror(errno));
}

static void start_job(rbd_server *s, int64_t id)
{
	job_mem *j = rbd_jobmem_find(s, id);
	rbe_require(j);
	rbd_job_row row = {0};
	rbe_error e = {0};
	char reason[1200] = "";
	rbd_shmds *ds = NULL;
	char *plugin_path = NULL;
	if (rbd_jobstore_get(s->store, id, &row, &e) < 0)
		snprintf(reason, sizeof(reason), "cannot read the job: %s", e.msg);
	else
		check_runnable(s, &row, &ds, &plugin_path, reason, sizeof(reason));
	if (!*reason && rbd_jobstore_start(s->store, id, rbd_wall_now(), &e) < 0)
		snprintf(reason, sizeof(reason), "cannot mark the job running: %s", e.msg);
	if (!*reason) {
		const rbd_config *cfg = s->cfg;
		rbd_run_args a = {
			.id = id,
			.worker_path = s->worker_path,
			.plugin_path = plugin_path,
			.job_json = row.spec,
			.dataset = ds,
			.limits = {cfg->job_wall_seconds, cfg->kill_grace_seconds, cfg->job_address_space,
				   cfg->job_cpu_seconds, cfg->job_open_files, cfg->job_threads},
			.cb = {s, run_progress, run_done},
		};
		if (rbd_run_start(s->loop, &a, &j->run, &e) < 0)
			snprintf(reason, sizeof(reason), "%s", e.msg);
	}
	if (*reason) {
		rbd_log(RBD_LOG_ERR, "job %lld cannot start: %s", (long long)id, reason);
		rbd_sched_finished(s->sched, j->team);
		rbd_finish_job(s, j, RBD_JOB_FAILED, NULL, reason);
	} else {
		j->state = RBD_JOB_RUNNING;
		rbd_log(RBD_LOG_DEBUG, "job %lld started (%s on %s)", (long long)id, row.router, row.dataset);
		rbd_notify(s, id);
	}
	rbd_job_row_clear(&row);
	free(plugin_path);
}

void rbd_schedule(rbd_server *s)
{
	int64_t id;
	const char *team;
	while (!s->shutting_down && rbd_running_jobs(s) < s->cfg->workers && rbd_sched_next(s->sched, &id, &team))
		start_job(s, id);
}

void rbd_stop_running(rbd_server *s)
{
	for (job_mem *j = s->jobs; j; j = j->next)
		if (j->run)
			rbd_run_stop(j->run);
}
