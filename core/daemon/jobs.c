/* jobs.c — rbd's unfinished jobs: the table in memory, scheduling onto workers, how each ended. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server_internal.h"
#include "report/result_schema.h"

#define RETRY_DELAY_MAX 60.0 /* seconds */

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

/* rbd_finish_job with the router's output kept in the job store (NULL: none). */
static void finish_job(rbd_server *s, job_mem *j, rbd_job_state state, const char *result, const char *reason,
		       const char *output)
{
	rbe_error e = {0};
	if (rbd_jobstore_finish_output(s->store, j->id, state, result, reason, output && *output ? output : NULL,
				       rbd_wall_now(), &e) < 0)
		rbd_log(RBD_LOG_ERR, "job %lld (team %s): %s", (long long)j->id, j->team, e.msg);
	int64_t id = j->id;
	rbd_jobmem_remove(s, j);
	rbd_notify(s, id);
}

void rbd_finish_job(rbd_server *s, job_mem *j, rbd_job_state state, const char *result, const char *reason)
{
	finish_job(s, j, state, result, reason, NULL);
}

char *rbd_quarantine_reason(rbd_server *s, const char *router_sha, const char *team)
{
	uint32_t faults = 0;
	char *last = NULL;
	rbe_error e = {0};
	if (rbd_jobstore_faults(s->store, router_sha, team, &faults, &last, &e) < 0) {
		rbd_log(RBD_LOG_ERR, "%s", e.msg);
		return NULL;
	}
	char *reason = NULL;
	if (faults >= s->cfg->quarantine_after) {
		size_t n = (last ? strlen(last) : 0) + 200;
		reason = rbe_xmalloc(n);
		snprintf(reason, n, "quarantined after %u crashes of team %s's jobs (last: %s); replace the file to clear it",
			 faults, team, last ? last : "?");
	}
	free(last);
	return reason;
}

void rbd_routers_mark_quarantined(rbd_server *s, json_t *list, const char *team)
{
	size_t k;
	json_t *router;
	json_array_foreach(json_object_get(list, "routers"), k, router) {
		const char *sha = json_string_value(json_object_get(router, "sha256"));
		char *reason = NULL;
		if (sha && !strcmp(json_string_value(json_object_get(router, "state")) ?: "", "ok") &&
		    (reason = rbd_quarantine_reason(s, sha, team))) {
			json_object_set_new(router, "state", json_string("quarantined"));
			json_object_set_new(router, "reason", json_string(reason));
			free(reason);
		}
	}
}

/* ---- a worker reports ---- */

static void run_progress(void *ctx, int64_t id, const char *phase, const char *task, double fraction)
{
	(void)phase;
	(void)task;
	(void)fraction;
	rbd_notify(ctx, id);
}

/* A result is stored only once it parses and validates against docs/result.schema.json: a
 * worker (or whatever runs as one) cannot make rbd serve a document clients would refuse. */
static int result_valid(const job_mem *j, const char *result, char *reason, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loads(result, 0, &jerr);
	rbe_error e = {0};
	char what[64];
	snprintf(what, sizeof(what), "job %lld result", (long long)j->id);
	int rc = doc ? rbr_result_check(doc, what, &e) : rbe_fail(&e, -EINVAL, "%s: not JSON: %s", what, jerr.text);
	json_decref(doc);
	if (rc < 0)
		snprintf(reason, size, "the worker's result is invalid: %s", e.msg);
	return rc == 0;
}

/* A fault of the router itself: counted for its content and the job's team, in the job store. */
static void count_fault(rbd_server *s, const job_mem *j, const char *reason)
{
	uint32_t faults = 0;
	rbe_error e = {0};
	if (rbd_jobstore_add_fault(s->store, j->router_sha, j->team, reason, &faults, &e) < 0) {
		rbd_log(RBD_LOG_ERR, "job %lld (team %s): %s", (long long)j->id, j->team, e.msg);
		return;
	}
	if (faults == s->cfg->quarantine_after)
		rbd_log(RBD_LOG_WARN, "router sha256 %.12s quarantined for team %s after %u crashes (last: %s)",
			j->router_sha, j->team, faults, reason);
}

static void run_done(void *ctx, int64_t id, rbd_run_end *end)
{
	rbd_server *s = ctx;
	job_mem *j = rbd_jobmem_find(s, id);
	rbe_require(j && j->run);
	j->run = NULL;
	rbd_sched_finished(s->sched, j->team);
	rbe_error e = {0};
	char invalid[1200];
	const char *reason = end->reason;
	rbd_run_outcome outcome = end->outcome;
	if (outcome == RBD_RUN_DONE && !result_valid(j, end->result, invalid, sizeof(invalid))) {
		outcome = RBD_RUN_FAILED;
		reason = invalid;
	}
	switch (outcome) {
	case RBD_RUN_DONE:
		rbd_log(RBD_LOG_INFO, "job %lld (team %s) done", (long long)id, j->team);
		finish_job(s, j, RBD_JOB_DONE, end->result, NULL, end->output);
		break;
	case RBD_RUN_CANCELLED:
		rbd_log(RBD_LOG_INFO, "job %lld (team %s) cancelled while running", (long long)id, j->team);
		finish_job(s, j, RBD_JOB_CANCELLED, NULL, j->cancel_reason ? j->cancel_reason : reason, end->output);
		break;
	case RBD_RUN_STOPPED:
		/* rbd is stopping: the job stays on disk as queued and runs again at the next start. */
		if (rbd_jobstore_requeue(s->store, id, &e) < 0)
			rbd_log(RBD_LOG_ERR, "job %lld (team %s): %s", (long long)id, j->team, e.msg);
		rbd_log(RBD_LOG_INFO, "job %lld (team %s) interrupted; queued again for the next start", (long long)id,
			j->team);
		rbd_jobmem_remove(s, j);
		break;
	case RBD_RUN_CRASHED:
		if (end->router_fault)
			count_fault(s, j, reason);
		/* fall through */
	case RBD_RUN_FAILED:
	case RBD_RUN_TIMED_OUT:
		rbd_log(RBD_LOG_INFO, "job %lld (team %s) failed: %s", (long long)id, j->team, reason);
		finish_job(s, j, RBD_JOB_FAILED, NULL, reason, end->output);
		break;
	}
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

/* Seconds to wait before the next start of a job already started `attempts` times: 1, 2, 4 ...
 * capped, so a job that brings rbd down does not do so in a tight loop. */
static double retry_delay(uint32_t attempts)
{
	if (attempts == 0)
		return 0;
	return attempts > 7 ? RETRY_DELAY_MAX : fmin((double)(1u << (attempts - 1)), RETRY_DELAY_MAX);
}

/* Why row cannot start now ("" when it can): a damaged row, too many interruptions, quarantine,
 * or what it needs gone. */
static void check_startable(rbd_server *s, const rbd_job_row *row, rbd_shmds **ds, char **plugin_path, char *reason,
			    size_t size)
{
	rbe_error e = {0};
	char *q;
	if (rbd_jobstore_spec_check(s->store, row, &e) < 0) {
		snprintf(reason, size, "%s", e.msg);
	} else if (row->attempts >= s->cfg->job_max_attempts) {
		snprintf(reason, size, "interrupted %u times (rbd stopped or died while it ran; max_attempts = %u)",
			 row->attempts, s->cfg->job_max_attempts);
	} else if ((q = rbd_quarantine_reason(s, row->router_sha256, row->team))) {
		snprintf(reason, size, "router '%s' cannot be used: %s", row->router, q);
		free(q);
	} else {
		check_runnable(s, row, ds, plugin_path, reason, size);
	}
}

/* The lowest uid of [sandbox] job_users that no running job's router has: jobs never share a
 * user. 0 when none is configured, rbd is not root, or every one is taken (then the router
 * still runs sandboxed, as rbd's user). */
static uint32_t free_job_user(const rbd_server *s)
{
	const rbd_config *cfg = s->cfg;
	if (!cfg->sandbox_enabled || !cfg->sandbox_uid_count || geteuid() != 0)
		return 0;
	for (uint32_t k = 0; k < cfg->sandbox_uid_count; k++) {
		uint32_t uid = cfg->sandbox_uid_first + k;
		int taken = 0;
		for (const job_mem *j = s->jobs; j && !taken; j = j->next)
			taken = j->run && j->job_user == uid;
		if (!taken)
			return uid;
	}
	return 0;
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
		check_startable(s, &row, &ds, &plugin_path, reason, sizeof(reason));
	if (!*reason && rbd_jobstore_start(s->store, id, rbd_wall_now(), &e) < 0)
		snprintf(reason, sizeof(reason), "cannot mark the job running: %s", e.msg);
	if (!*reason) {
		const rbd_config *cfg = s->cfg;
		rbd_run_args a = {
			.id = id,
			.team = j->team,
			.worker_path = s->worker_path,
			.plugin_path = plugin_path,
			.job_json = row.spec,
			.dataset = ds,
			.limits = {cfg->job_wall_seconds, cfg->kill_grace_seconds, cfg->job_address_space,
				   cfg->job_cpu_seconds, cfg->job_open_files, cfg->job_threads, cfg->job_max_result},
			.delay_seconds = retry_delay(row.attempts),
			.cb = {s, run_progress, run_done},
			.sandbox = {cfg->sandbox_enabled, cfg->sandbox_require_landlock, free_job_user(s)},
		};
		j->job_user = a.sandbox.uid;
		if (a.delay_seconds > 0)
			rbd_log(RBD_LOG_INFO, "job %lld (team %s): attempt %u of %u in %g s", (long long)id, j->team,
				row.attempts + 1, cfg->job_max_attempts, a.delay_seconds);
		if (rbd_run_start(s->loop, &a, &j->run, &e) < 0)
			snprintf(reason, sizeof(reason), "%s", e.msg);
	}
	if (*reason) {
		rbd_log(RBD_LOG_ERR, "job %lld (team %s) cannot start: %s", (long long)id, j->team, reason);
		rbd_sched_finished(s->sched, j->team);
		rbd_finish_job(s, j, RBD_JOB_FAILED, NULL, reason);
	} else {
		j->state = RBD_JOB_RUNNING;
		rbd_log(RBD_LOG_DEBUG, "job %lld (team %s) started (%s on %s)", (long long)id, j->team, row.router,
			row.dataset);
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
