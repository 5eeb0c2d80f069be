/* server.c — rbd: connections, the protocol's methods, jobs from submission to result. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/fairsched.h"
#include "eval/jobspec.h"
#include "daemon/jobstore.h"
#include "proto/proto.h"
#include "rb/router.h"
#include "rb/version.h"
#include "daemon/registry.h"
#include "daemon/runner.h"
#include "daemon/server.h"
#include "daemon/shm_datasets.h"
#include "daemon/uvutil.h"

#define MAX_GROUPS 64
#define GROUP_CACHE_SIZE 64         /* callers whose supplementary groups are remembered */
#define GROUP_CACHE_SECONDS 60.0
#define MAX_BACKLOG 64              /* calls pipelined behind a pending Wait */
#define PROGRESS_INTERVAL 0.1       /* seconds between streamed progress replies */

typedef struct conn conn;

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
	char *cancel_reason;
	struct job_mem *next;
} job_mem;

struct conn {
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
	group_cache_entry group_cache[GROUP_CACHE_SIZE];
	int shutting_down, closed;
	int exit_status; /* for rbd's main: 1 when rbd could not serve */
	rbd_server_ready_fn ready;
	void *ready_ctx;
	double started_at;
};

/* dir/name, owned. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = rbe_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- jobs in memory ---- */

/* Jobs with a worker: the scheduler counts what it handed out until each is finished. */
static size_t running_jobs(const rbd_server *s)
{
	return rbd_sched_running(s->sched, NULL);
}

static job_mem *job_find(rbd_server *s, int64_t id)
{
	for (job_mem *j = s->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static job_mem *job_add(rbd_server *s, int64_t id, const char *team, uint32_t uid, const char *router_sha)
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

static void job_remove(rbd_server *s, job_mem *j)
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

static size_t team_active(rbd_server *s, const char *team)
{
	size_t n = 0;
	for (job_mem *j = s->jobs; j; j = j->next)
		n += !strcmp(j->team, team);
	return n;
}

static json_t *opt_string(const char *v)
{
	return v ? json_string(v) : json_null();
}

/* The job object of docs/protocol.md. */
static json_t *job_json(rbd_server *s, const rbd_job_row *row)
{
	json_t *o = json_pack("{sI ss sI ss ss ss ss ss sf sf sf sI}", "id", (json_int_t)row->id, "team", row->team, "uid",
			      (json_int_t)row->uid, "state", rbd_job_state_name(row->state), "dataset", row->dataset,
			      "router", row->router, "router_sha256", row->router_sha256, "dataset_sha256",
			      row->dataset_sha256 ? row->dataset_sha256 : "", "submitted_at", row->submitted_at,
			      "started_at", row->started_at, "finished_at", row->finished_at, "attempts",
			      (json_int_t)row->attempts);
	job_mem *j = job_find(s, row->id);
	if (j && j->run && row->state == RBD_JOB_RUNNING)
		json_object_set_new(o, "progress",
				    json_pack("{sssssf}", "phase", rbd_run_phase(j->run), "task", rbd_run_task(j->run),
					      "fraction", rbd_run_fraction(j->run)));
	json_object_set_new(o, "reason", opt_string(row->reason));
	return o;
}

/* ---- connections: output ---- */

typedef struct write_req {
	uv_write_t req;
	char *text;
} write_req;

static void conn_closed(uv_handle_t *h);
static void conn_drop(conn *c, const char *why);

static void write_done(uv_write_t *req, int status)
{
	write_req *w = (write_req *)req;
	(void)status;
	free(w->text);
	free(w);
}

/* Queue text (owned, NUL included in len). A client that lets more than max_output_queue bytes
 * pile up is dropped, never waited for. */
static void conn_send(conn *c, char *text, size_t len)
{
	if (c->closing) {
		free(text);
		return;
	}
	/* Measured before this message, so one large reply (a result) still goes to a reader. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > c->s->cfg->max_output_queue) {
		free(text);
		conn_drop(c, "it stopped reading its replies");
		return;
	}
	write_req *w = rbe_xcalloc(1, sizeof(*w));
	w->text = text;
	uv_buf_t buf = uv_buf_init(text, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, write_done) < 0) {
		free(text);
		free(w);
		conn_drop(c, "a write failed");
	}
}

static void reply(conn *c, json_t *params, int continues)
{
	size_t len;
	char *text = rbw_msg_reply(params, continues, &len);
	json_decref(params);
	conn_send(c, text, len);
}

/* params stolen; message printf-style. */
static void reply_error(conn *c, const char *error, json_t *params, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reply_error(conn *c, const char *error, json_t *params, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t len;
	char *text = rbw_msg_error(error, params, msg, &len);
	conn_send(c, text, len);
}

static void conn_drop(conn *c, const char *why)
{
	if (c->closing)
		return;
	rbd_log(RBD_LOG_WARN, "dropping the connection of uid %u: %s", (unsigned)c->uid, why);
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* Close after what is queued has been written (shutdown flushes, then the close). */
static void shutdown_done(uv_shutdown_t *req, int status)
{
	(void)status;
	conn *c = req->data;
	free(req);
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_finish(conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_shutdown_t *req = rbe_xcalloc(1, sizeof(*req));
	req->data = c;
	if (uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_done) < 0) {
		free(req);
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
	}
}

/* ---- who calls ---- */

static const rbd_team_conf *caller_team(const conn *c)
{
	return rbd_config_team_of(c->s->cfg, c->uid, c->gid, c->groups, c->n_groups);
}

static int caller_admin(const conn *c)
{
	return rbd_config_is_admin(c->s->cfg, c->uid, c->gid, c->groups, c->n_groups);
}

/* A job the caller may see: its team's, or any for an administrator. -ENOENT otherwise (another
 * team's job answers exactly like a missing one); other errors come from the store (e). */
static int visible_job(conn *c, int64_t id, rbd_job_row *row, rbe_error *e)
{
	int rc = rbd_jobstore_get(c->s->store, id, row, e);
	if (rc < 0)
		return rc;
	if (caller_admin(c))
		return 0;
	const rbd_team_conf *t = caller_team(c);
	if (t && !strcmp(t->name, row->team))
		return 0;
	rbd_job_row_clear(row);
	return -ENOENT;
}

static int get_id(conn *c, const json_t *params, int64_t *id)
{
	rbe_error e = {0};
	if (rbw_param_int(params, "id", 1, 1, INT64_MAX, id, &e) < 0) {
		reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "id"), "%s", e.msg);
		return -1;
	}
	return 0;
}

/* The job a call names, when the caller may see it; otherwise the error is answered and -1
 * returned. *row (owned strings) is filled on success. */
static int lookup_job(conn *c, const json_t *params, int64_t *id, rbd_job_row *row)
{
	if (get_id(c, params, id) < 0)
		return -1;
	rbe_error e = {0};
	int rc = visible_job(c, *id, row, &e);
	if (rc == -ENOENT)
		reply_error(c, RBW_ERR_NO_SUCH_JOB, json_pack("{sI}", "id", (json_int_t)*id), "no such job: %lld",
			    (long long)*id);
	else if (rc < 0)
		reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
	return rc < 0 ? -1 : 0;
}

/* ---- datasets ---- */

static rbd_shmds *dataset_find(rbd_server *s, const char *name)
{
	for (size_t i = 0; i < s->n_datasets; i++)
		if (!strcmp(s->datasets[i]->name, name))
			return s->datasets[i];
	return NULL;
}

static int datasets_load(const rbd_config *cfg, uint64_t generation, rbd_shmds ***out, size_t *n_out, rbe_error *e)
{
	size_t n = cfg->n_datasets;
	rbd_shmds **v = rbe_xcalloc(n ? n : 1, sizeof(*v));
	char *scratch = join(cfg->state_dir, "datasets");
	if (mkdir(scratch, 0755) < 0 && errno != EEXIST) {
		int rc = rbe_fail(e, -errno, "%s: %s", scratch, strerror(errno));
		free(scratch);
		free(v);
		return rc;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		double t0 = rbe_now();
		rc = rbd_shmds_load(&cfg->datasets[i], generation, scratch, &v[i], e);
		if (rc == 0)
			rbd_log(RBD_LOG_INFO, "dataset %s: %zu prompts x %u models, %.1f MiB in shared memory (%.2f s)",
				v[i]->name, v[i]->ds->n, v[i]->ds->n_models, v[i]->bytes / 1048576.0, rbe_now() - t0);
	}
	free(scratch);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			rbd_shmds_unref(v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return 0;
}

static void datasets_release(rbd_shmds **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rbd_shmds_unref(v[i]);
	free(v);
}

/* ---- running jobs ---- */

static void schedule(rbd_server *s);
static void notify(rbd_server *s, int64_t id);
static void maybe_stopped(rbd_server *s);

static void finish_job(rbd_server *s, job_mem *j, rbd_job_state state, const char *result, const char *reason)
{
	rbe_error e = {0};
	if (rbd_jobstore_finish(s->store, j->id, state, result, reason, wall_now(), &e) < 0)
		rbd_log(RBD_LOG_ERR, "job %lld: %s", (long long)j->id, e.msg);
	int64_t id = j->id;
	job_remove(s, j);
	notify(s, id);
}

static void run_progress(void *ctx, int64_t id, const char *phase, const char *task, double fraction)
{
	(void)phase;
	(void)task;
	(void)fraction;
	notify(ctx, id);
}

static void run_done(void *ctx, int64_t id, rbd_run_outcome outcome, char *result, const char *reason)
{
	rbd_server *s = ctx;
	job_mem *j = job_find(s, id);
	rbe_require(j && j->run);
	j->run = NULL;
	rbd_sched_finished(s->sched, j->team);
	rbe_error e = {0};
	switch (outcome) {
	case RBD_RUN_DONE:
		rbd_log(RBD_LOG_INFO, "job %lld done", (long long)id);
		finish_job(s, j, RBD_JOB_DONE, result, NULL);
		break;
	case RBD_RUN_CANCELLED:
		rbd_log(RBD_LOG_INFO, "job %lld cancelled while running", (long long)id);
		finish_job(s, j, RBD_JOB_CANCELLED, NULL, j->cancel_reason ? j->cancel_reason : reason);
		break;
	case RBD_RUN_STOPPED:
		/* rbd is stopping: the job stays on disk as queued and runs again at the next start. */
		if (rbd_jobstore_requeue(s->store, id, &e) < 0)
			rbd_log(RBD_LOG_ERR, "job %lld: %s", (long long)id, e.msg);
		rbd_log(RBD_LOG_INFO, "job %lld interrupted; queued again for the next start", (long long)id);
		job_remove(s, j);
		break;
	case RBD_RUN_CRASHED:
		rbd_registry_report_crash(s->registry, j->router_sha, reason);
		/* fall through */
	case RBD_RUN_FAILED:
	case RBD_RUN_TIMED_OUT:
		rbd_log(RBD_LOG_INFO, "job %lld failed: %s", (long long)id, reason);
		finish_job(s, j, RBD_JOB_FAILED, NULL, reason);
		break;
	}
	free(result);
	if (s->shutting_down)
		maybe_stopped(s);
	else
		schedule(s);
}

static void start_job(rbd_server *s, int64_t id)
{
	job_mem *j = job_find(s, id);
	rbe_require(j);
	rbd_job_row row = {0};
	rbe_error e = {0};
	char reason[1200] = "";
	rbd_shmds *ds = NULL;
	char *plugin_path = NULL;
	if (rbd_jobstore_get(s->store, id, &row, &e) < 0) {
		snprintf(reason, sizeof(reason), "cannot read the job: %s", e.msg);
	} else if (!(ds = dataset_find(s, row.dataset))) {
		snprintf(reason, sizeof(reason), "dataset '%s' is no longer configured", row.dataset);
	} else {
		plugin_path = rbd_registry_store_path(s->registry, row.router_sha256);
		if (access(plugin_path, R_OK) < 0)
			snprintf(reason, sizeof(reason), "router file %s is gone from the store: %s", plugin_path,
				 strerror(errno));
	}
	if (!*reason && rbd_jobstore_start(s->store, id, wall_now(), &e) < 0)
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
		finish_job(s, j, RBD_JOB_FAILED, NULL, reason);
	} else {
		j->state = RBD_JOB_RUNNING;
		rbd_log(RBD_LOG_DEBUG, "job %lld started (%s on %s)", (long long)id, row.router, row.dataset);
		notify(s, id);
	}
	rbd_job_row_clear(&row);
	free(plugin_path);
}

static void schedule(rbd_server *s)
{
	int64_t id;
	const char *team;
	while (!s->shutting_down && running_jobs(s) < s->cfg->workers && rbd_sched_next(s->sched, &id, &team))
		start_job(s, id);
}

/* ---- waiting ---- */

static void conn_process_backlog(conn *c);

/* Tell every connection waiting on id what changed: progress (streamed, at most every
 * PROGRESS_INTERVAL unless the phase changed) or the final state. */
static void notify(rbd_server *s, int64_t id)
{
	json_t *obj = NULL;
	int final = 0;
	for (conn *c = s->conns; c; c = c->next) {
		if (c->closing || c->wait_id != id)
			continue;
		if (!obj) {
			rbd_job_row row = {0};
			rbe_error e = {0};
			if (rbd_jobstore_get(s->store, id, &row, &e) < 0)
				return;
			final = rbd_job_state_final(row.state);
			obj = job_json(s, &row);
			rbd_job_row_clear(&row);
		}
		if (final) {
			c->wait_id = 0;
			reply(c, json_incref(obj), 0);
			conn_process_backlog(c);
			continue;
		}
		if (!c->wait_more)
			continue;
		const char *phase = json_string_value(json_object_get(json_object_get(obj, "progress"), "phase"));
		double now = rbe_now();
		if (now - c->last_progress < PROGRESS_INTERVAL && phase && !strcmp(phase, c->last_phase))
			continue;
		c->last_progress = now;
		snprintf(c->last_phase, sizeof(c->last_phase), "%s", phase ? phase : "");
		reply(c, json_incref(obj), 1);
	}
	json_decref(obj);
}

/* ---- methods ---- */

static void m_get_info(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbd_server *s = c->s;
	const rbd_team_conf *t = caller_team(c);
	json_t *o = json_pack("{ss s{sisi} ss si sI sI so sb sI sI sI sI ss sI sf}", "version", RB_VERSION_STRING, "abi", "major",
			      RB_ABI_MAJOR, "minor", RB_ABI_MINOR, "protocol", RBW_PROTO_INTERFACE,
			      "protocol_version", RBW_PROTO_VERSION, "uid", (json_int_t)c->uid, "gid",
			      (json_int_t)c->gid, "team", opt_string(t ? t->name : NULL), "admin", caller_admin(c),
			      "workers", (json_int_t)s->cfg->workers, "running", (json_int_t)running_jobs(s), "queued",
			      (json_int_t)rbd_sched_queued(s->sched, NULL), "max_message",
			      (json_int_t)s->cfg->max_message, "config", s->cfg->path, "generation",
			      (json_int_t)s->generation, "started_at", s->started_at);
	reply(c, o, 0);
}

/* {"parameter": the job member a jobspec message names ("job member 'seed' ..."), else fallback}. */
static json_t *invalid_member(const char *msg, const char *fallback)
{
	char name[128];
	const char *member = rbe_jobspec_error_member(msg, name, sizeof(name));
	return json_pack("{ss}", "parameter", member ? member : fallback);
}

static void m_submit(conn *c, const json_t *params, int more)
{
	(void)more;
	rbd_server *s = c->s;
	rbe_error e = {0};
	if (s->shutting_down) {
		reply_error(c, RBW_ERR_SHUTTING_DOWN, NULL, "rbd is stopping; submit again when it is back");
		return;
	}
	const rbd_team_conf *team = caller_team(c);
	if (!team) {
		reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "uid %u is in no team of %s; ask an administrator",
			    (unsigned)c->uid, s->cfg->path);
		return;
	}
	const char *dataset = NULL, *router = NULL;
	if (rbw_param_string(params, "dataset", 1, &dataset, &e) < 0 ||
	    rbw_param_string(params, "router", 1, &router, &e) < 0) {
		reply_error(c, RBW_ERR_INVALID_PARAMETER,
			    json_pack("{ss}", "parameter", dataset ? "router" : "dataset"), "%s", e.msg);
		return;
	}
	rbe_jobspec *spec = NULL;
	if (rbe_jobspec_parse(params, &spec, &e) < 0) {
		reply_error(c, RBW_ERR_INVALID_PARAMETER, invalid_member(e.msg, "job"), "%s", e.msg);
		return;
	}
	/* CPU threads are the server's to share out: a job may ask for fewer, never more. */
	json_int_t threads = json_integer_value(json_object_get(params, "threads"));
	if (threads > (json_int_t)s->cfg->job_threads) {
		rbe_jobspec_free(spec);
		reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "threads"),
			    "job member 'threads' is %lld; this server allows at most %u per job ([limits] threads)",
			    (long long)threads, s->cfg->job_threads);
		return;
	}
	rbd_shmds *ds = dataset_find(s, dataset);
	const rbd_router_entry *en = rbd_registry_find(s->registry, router);
	if (!ds) {
		reply_error(c, RBW_ERR_NO_SUCH_DATASET, json_pack("{ss}", "dataset", dataset),
			    "no dataset named '%s' (rbctl datasets lists them)", dataset);
	} else if (!en) {
		reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ss}", "router", router),
			    "no router named '%s' in %s (rbctl routers lists them)", router, s->cfg->plugin_dir);
	} else if (en->state != RBD_ROUTER_OK) {
		reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ssss}", "router", router, "reason", en->reason),
			    "router '%s' cannot be used: %s", router, en->reason);
	} else if (rbe_jobspec_check(spec, &en->plugin, ds->ds, &e) < 0) {
		reply_error(c, RBW_ERR_INVALID_PARAMETER, invalid_member(e.msg, "settings"), "%s", e.msg);
	} else if (team->max_queued && team_active(s, team->name) >= team->max_queued) {
		reply_error(c, RBW_ERR_QUOTA_EXCEEDED,
			    json_pack("{sssssI}", "team", team->name, "cap", "max_queued", "limit",
				      (json_int_t)team->max_queued),
			    "team %s has %u jobs queued or running, its cap max_queued = %u", team->name,
			    team->max_queued, team->max_queued);
	} else {
		char *text = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(17));
		rbd_job_row row = {
			.team = (char *)team->name,
			.uid = c->uid,
			.state = RBD_JOB_QUEUED,
			.dataset = (char *)dataset,
			.dataset_sha256 = ds->sha256,
			.router = (char *)router,
			.router_sha256 = (char *)en->sha256,
			.spec = text,
			.submitted_at = wall_now(),
		};
		if (rbd_jobstore_insert(s->store, &row, &row.id, &e) < 0) {
			reply_error(c, RBW_ERR_INTERNAL, NULL, "the job could not be stored: %s", e.msg);
		} else {
			job_add(s, row.id, team->name, c->uid, en->sha256);
			rbd_sched_push(s->sched, team->name, row.id);
			rbd_log(RBD_LOG_DEBUG, "job %lld submitted by uid %u (team %s): %s on %s", (long long)row.id,
				(unsigned)c->uid, team->name, router, dataset);
			reply(c, job_json(s, &row), 0);
			schedule(s);
		}
		free(text);
	}
	rbe_jobspec_free(spec);
}

static void m_status(conn *c, const json_t *params, int more)
{
	(void)more;
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	reply(c, job_json(c->s, &row), 0);
	rbd_job_row_clear(&row);
}

static void m_wait(conn *c, const json_t *params, int more)
{
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	if (rbd_job_state_final(row.state)) {
		reply(c, job_json(c->s, &row), 0);
	} else {
		c->wait_id = id;
		c->wait_more = more;
		c->last_progress = rbe_now();
		*c->last_phase = '\0';
		if (more)
			reply(c, job_json(c->s, &row), 1);
	}
	rbd_job_row_clear(&row);
}

static void m_cancel(conn *c, const json_t *params, int more)
{
	(void)more;
	rbd_server *s = c->s;
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	job_mem *j = job_find(s, id);
	char reason[128];
	snprintf(reason, sizeof(reason), "cancelled by uid %u", (unsigned)c->uid);
	if (!j || rbd_job_state_final(row.state)) {
		reply(c, job_json(s, &row), 0);
	} else if (j->run) {
		/* The reply waits until the worker is gone and the job is final. */
		free(j->cancel_reason);
		j->cancel_reason = rbe_xstrdup(reason);
		c->wait_id = id;
		c->wait_more = 0;
		rbd_log(RBD_LOG_INFO, "job %lld: %s; stopping its worker", (long long)id, reason);
		rbd_run_cancel(j->run);
	} else {
		rbd_sched_remove(s->sched, id);
		rbd_log(RBD_LOG_INFO, "job %lld: %s while queued", (long long)id, reason);
		finish_job(s, j, RBD_JOB_CANCELLED, NULL, reason);
		rbd_job_row_clear(&row);
		rbe_error e = {0};
		if (rbd_jobstore_get(s->store, id, &row, &e) < 0)
			return reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
		reply(c, job_json(s, &row), 0);
	}
	rbd_job_row_clear(&row);
}

static void m_result(conn *c, const json_t *params, int more)
{
	(void)more;
	int64_t id;
	rbd_job_row row = {0};
	rbe_error e = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	if (row.state == RBD_JOB_DONE) {
		char *text = NULL;
		if (rbd_jobstore_result(c->s->store, id, &text, &e) < 0) {
			reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
		} else {
			/* The stored text goes out as it is: no parse and re-encode of a large document. */
			size_t n = strlen(text) + 96;
			char *msg = rbe_xmalloc(n);
			int len = snprintf(msg, n, "{\"parameters\":{\"id\":%lld,\"result\":%s}}", (long long)id, text);
			conn_send(c, msg, (size_t)len + 1);
			free(text);
		}
	} else if (!rbd_job_state_final(row.state)) {
		reply_error(c, RBW_ERR_JOB_NOT_FINISHED,
			    json_pack("{sIss}", "id", (json_int_t)id, "state", rbd_job_state_name(row.state)),
			    "job %lld is %s; rbctl submit --wait or Wait follows it", (long long)id,
			    rbd_job_state_name(row.state));
	} else {
		reply_error(c, RBW_ERR_JOB_FAILED,
			    json_pack("{sIssso}", "id", (json_int_t)id, "state", rbd_job_state_name(row.state), "reason",
				      opt_string(row.reason)),
			    "job %lld %s: %s", (long long)id, rbd_job_state_name(row.state),
			    row.reason ? row.reason : "no reason recorded");
	}
	rbd_job_row_clear(&row);
}

typedef struct list_ctx {
	rbd_server *s;
	json_t *jobs;
} list_ctx;

static int list_visit(void *ctx, const rbd_job_row *row)
{
	list_ctx *l = ctx;
	json_array_append_new(l->jobs, job_json(l->s, row));
	return 0;
}

static void m_list_jobs(conn *c, const json_t *params, int more)
{
	(void)more;
	rbe_error e = {0};
	int all = 0;
	if (rbw_param_bool(params, "all", 0, &all, &e) < 0)
		return reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "all"), "%s", e.msg);
	const rbd_team_conf *t = caller_team(c);
	int admin = caller_admin(c);
	if (!t && !admin)
		return reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "uid %u is in no team", (unsigned)c->uid);
	list_ctx l = {c->s, json_array()};
	if (rbd_jobstore_list(c->s->store, admin ? NULL : t->name, all, list_visit, &l, &e) < 0) {
		json_decref(l.jobs);
		return reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
	}
	reply(c, json_pack("{so}", "jobs", l.jobs), 0);
}

static void m_list_routers(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	reply(c, rbd_registry_list(c->s->registry), 0);
}

static void m_list_datasets(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbd_server *s = c->s;
	json_t *list = json_array();
	for (size_t i = 0; i < s->n_datasets; i++) {
		const rbd_shmds *d = s->datasets[i];
		json_t *models = json_array(), *tasks = json_array();
		for (uint32_t m = 0; m < d->ds->n_models; m++)
			json_array_append_new(models, json_string(d->ds->model_names[m]));
		for (uint32_t t = 0; t < d->ds->n_evals; t++)
			json_array_append_new(tasks, json_string(d->ds->eval_names[t]));
		json_array_append_new(list, json_pack("{ss sI ss sI so so sI ss}", "name", d->name, "generation",
						      (json_int_t)d->generation, "sha256", d->sha256, "prompts",
						      (json_int_t)d->ds->n, "models", models, "tasks", tasks, "bytes",
						      (json_int_t)d->bytes, "source", d->source));
	}
	reply(c, json_pack("{so}", "datasets", list), 0);
}

static void m_reload(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbe_error e = {0};
	if (!caller_admin(c))
		return reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "Reload is for administrators (admin_group)");
	if (rbd_server_reload(c->s, &e) < 0)
		return reply_error(c, RBW_ERR_CONFIG_INVALID, NULL, "%s", e.msg);
	reply(c, json_pack("{sI}", "generation", (json_int_t)c->s->generation), 0);
}

static const char *const no_params[] = {NULL}, *const id_param[] = {"id", NULL}, *const all_param[] = {"all", NULL};

static const struct {
	const char *name;
	void (*fn)(conn *c, const json_t *params, int more);
	int needs_team;           /* callers in no team (and not administrators) are refused */
	const char *const *known; /* the parameters it takes; NULL: the method checks them (Submit) */
} methods[] = {
	{RBW_PROTO_INTERFACE ".GetInfo", m_get_info, 0, no_params},
	{RBW_PROTO_INTERFACE ".Submit", m_submit, 1, NULL},
	{RBW_PROTO_INTERFACE ".Status", m_status, 1, id_param},
	{RBW_PROTO_INTERFACE ".Wait", m_wait, 1, id_param},
	{RBW_PROTO_INTERFACE ".Cancel", m_cancel, 1, id_param},
	{RBW_PROTO_INTERFACE ".Result", m_result, 1, id_param},
	{RBW_PROTO_INTERFACE ".ListJobs", m_list_jobs, 1, all_param},
	{RBW_PROTO_INTERFACE ".ListRouters", m_list_routers, 0, no_params},
	{RBW_PROTO_INTERFACE ".ListDatasets", m_list_datasets, 0, no_params},
	{RBW_PROTO_INTERFACE ".Reload", m_reload, 0, no_params},
};

static void dispatch(conn *c, const char *text, size_t len)
{
	rbw_call call = {0};
	rbe_error e = {0};
	if (rbw_call_parse(text, len, &call, &e) < 0)
		return reply_error(c, RBW_ERR_INVALID_MESSAGE, NULL, "%s", e.msg);
	size_t i;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(call.method, methods[i].name))
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		reply_error(c, RBW_ERR_METHOD_NOT_FOUND, json_pack("{ss}", "method", call.method),
			    "unknown method '%s' (docs/protocol.md lists them)", call.method);
	else if (methods[i].needs_team && !caller_team(c) && !caller_admin(c))
		reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "uid %u is in no team of %s; ask an administrator",
			    (unsigned)c->uid, c->s->cfg->path);
	else if (methods[i].known && rbw_param_check_known(call.parameters, methods[i].known, &e) < 0)
		reply_error(c, RBW_ERR_INVALID_PARAMETER, NULL, "%s: %s", methods[i].name, e.msg);
	else
		methods[i].fn(c, call.parameters, call.more);
	rbw_call_clear(&call);
}

/* ---- connections: input ---- */

static int on_message(void *ctx, const char *text, size_t len)
{
	conn *c = ctx;
	if (c->closing)
		return -ECANCELED;
	if (c->wait_id) {
		/* Replies go out in call order: later calls wait behind the pending one. */
		if (c->n_backlog >= MAX_BACKLOG) {
			conn_drop(c, "too many calls pipelined behind a Wait");
			return -ECANCELED;
		}
		c->backlog = rbe_xrealloc(c->backlog, (c->n_backlog + 1) * sizeof(char *));
		c->backlog[c->n_backlog++] = rbe_xstrdup(text);
		return 0;
	}
	dispatch(c, text, len);
	return 0;
}

static void conn_process_backlog(conn *c)
{
	while (c->n_backlog && !c->wait_id && !c->closing) {
		char *text = c->backlog[0];
		memmove(c->backlog, c->backlog + 1, --c->n_backlog * sizeof(char *));
		dispatch(c, text, strlen(text));
		free(text);
	}
	if (c->eof && !c->wait_id && !c->n_backlog)
		conn_finish(c);
}

static void conn_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
	conn *c = stream->data;
	if (n > 0) {
		int rc = rbw_msgbuf_feed(&c->in, buf->base, (size_t)n, on_message, c);
		if (rc == -EMSGSIZE) {
			reply_error(c, RBW_ERR_MESSAGE_TOO_LARGE,
				    json_pack("{sI}", "limit", (json_int_t)c->s->cfg->max_message),
				    "message longer than the limit of %llu bytes; closing the connection",
				    (unsigned long long)c->s->cfg->max_message);
			conn_finish(c);
		}
	}
	free(buf->base);
	if (n < 0 && !c->closing) {
		if (n == UV_EOF && (c->wait_id || c->n_backlog)) {
			/* A client may send its calls and shut its side; it still gets the replies. */
			c->eof = 1;
			uv_read_stop(stream);
		} else {
			c->closing = 1;
			uv_close((uv_handle_t *)&c->pipe, conn_closed);
		}
	}
}

static void conn_closed(uv_handle_t *h)
{
	conn *c = h->data;
	rbd_server *s = c->s;
	for (conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->n_conns--;
	for (size_t i = 0; i < c->n_backlog; i++)
		free(c->backlog[i]);
	free(c->backlog);
	rbw_msgbuf_free(&c->in);
	free(c);
	if (s->shutting_down)
		maybe_stopped(s);
}

static void peer_identity(conn *c)
{
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
	/* Supplementary groups from the group database (the kernel hands over uid and gid only).
	 * The lookup may go over the network (NSS), and it runs on the loop: remember each answer
	 * for a minute, so a busy client does not stall everyone on every connection. */
	group_cache_entry *g = &c->s->group_cache[c->uid % GROUP_CACHE_SIZE];
	double now = rbe_now();
	if (g->valid && g->uid == c->uid && g->gid == c->gid && now - g->at < GROUP_CACHE_SECONDS) {
		memcpy(c->groups, g->groups, g->n * sizeof(gid_t));
		c->n_groups = g->n;
		return;
	}
	struct passwd pw, *found = NULL;
	char buf[4096];
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &found) == 0 && found) {
		int n = MAX_GROUPS;
		if (getgrouplist(found->pw_name, c->gid, c->groups, &n) >= 0)
			c->n_groups = (size_t)n;
	}
	*g = (group_cache_entry){.valid = 1, .uid = c->uid, .gid = c->gid, .n = c->n_groups, .at = now};
	memcpy(g->groups, c->groups, c->n_groups * sizeof(gid_t));
}

static void on_connection(uv_stream_t *listener, int status)
{
	rbd_server *s = listener->data;
	if (status < 0) {
		rbd_log(RBD_LOG_WARN, "accept: %s", uv_strerror(status));
		return;
	}
	conn *c = rbe_xcalloc(1, sizeof(*c));
	c->s = s;
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->pipe) < 0) {
		c->closing = 1;
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	rbw_msgbuf_init(&c->in, s->cfg->max_message);
	peer_identity(c);
	size_t same_uid = 0;
	for (conn *o = s->conns; o; o = o->next)
		same_uid += !o->closing && o->uid == c->uid;
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	if (same_uid >= s->cfg->max_connections_per_uid || s->n_conns > s->cfg->max_connections) {
		reply_error(c, RBW_ERR_TOO_MANY_CONNECTIONS,
			    json_pack("{sI}", "limit",
				      (json_int_t)(same_uid >= s->cfg->max_connections_per_uid
							   ? s->cfg->max_connections_per_uid
							   : s->cfg->max_connections)),
			    same_uid >= s->cfg->max_connections_per_uid ? "uid %u has too many connections open"
									: "rbd has too many connections open (uid %u)",
			    (unsigned)c->uid);
		conn_finish(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, rbd_uv_alloc, conn_read);
}

/* ---- the socket ---- */

static int listen_socket(rbd_server *s, rbe_error *e)
{
	const rbd_config *cfg = s->cfg;
	struct sockaddr_un sa;
	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path))
		return rbe_fail(e, -ENAMETOOLONG, "socket path %s is longer than %zu bytes", cfg->socket_path,
				sizeof(sa.sun_path) - 1);
	/* A socket file left by a previous rbd is replaced; the state-directory lock already
	 * proves no other rbd of this configuration runs. */
	struct stat st;
	if (lstat(cfg->socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(cfg->socket_path);
	uv_pipe_init(s->loop, &s->listener, 0);
	s->listener.data = s;
	s->listening = 1;
	int rc = uv_pipe_bind(&s->listener, cfg->socket_path);
	if (rc < 0)
		return rbe_fail(e, rc, "cannot bind %s: %s", cfg->socket_path, uv_strerror(rc));
	if (chmod(cfg->socket_path, cfg->socket_mode) < 0)
		return rbe_fail(e, -errno, "chmod %s: %s", cfg->socket_path, strerror(errno));
	if (cfg->socket_gid != (gid_t)-1 && chown(cfg->socket_path, (uid_t)-1, cfg->socket_gid) < 0)
		return rbe_fail(e, -errno, "chown %s to group %u: %s", cfg->socket_path, (unsigned)cfg->socket_gid,
				strerror(errno));
	rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	if (rc < 0)
		return rbe_fail(e, rc, "cannot listen on %s: %s", cfg->socket_path, uv_strerror(rc));
	s->socket_path = rbe_xstrdup(cfg->socket_path);
	rbd_log(RBD_LOG_INFO, "listening on %s (%u workers, %zu datasets)", cfg->socket_path, cfg->workers,
		s->n_datasets);
	return 0;
}

static void registry_ready(void *ctx)
{
	rbd_server *s = ctx;
	rbe_error e = {0};
	if (s->shutting_down)
		return;
	if (listen_socket(s, &e) < 0) {
		rbd_log(RBD_LOG_ERR, "%s", e.msg);
		s->exit_status = 1;
		if (s->ready)
			s->ready(s->ready_ctx, e.msg);
		rbd_server_shutdown(s);
		return;
	}
	if (s->ready)
		s->ready(s->ready_ctx, NULL);
	schedule(s);
}

static rbd_registry_opts registry_opts(const rbd_config *cfg, const char *worker_path, char **store)
{
	*store = join(cfg->state_dir, "plugins");
	return (rbd_registry_opts){cfg->plugin_dir, *store, worker_path, cfg->rescan_seconds, cfg->quarantine_after};
}

static void apply_caps(rbd_server *s)
{
	for (size_t i = 0; i < s->cfg->n_teams; i++)
		rbd_sched_set_running_cap(s->sched, s->cfg->teams[i].name, s->cfg->teams[i].max_running);
}

static int recover_visit(void *ctx, const rbd_job_row *row)
{
	rbd_server *s = ctx;
	job_add(s, row->id, row->team, row->uid, row->router_sha256);
	rbd_sched_push(s->sched, row->team, row->id);
	return 0;
}

/* One rbd per state directory. A killed rbd's lock can outlive it for a moment (a child it was
 * forking still shares the open file until it execs), so wait up to 5 s before giving up. */
static int lock_state_dir(int fd)
{
	for (int tries = 0;; tries++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || tries == 50)
			return -1;
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
}

int rbd_server_start(uv_loop_t *loop, rbd_config *cfg, const char *worker_path, rbd_server_ready_fn ready,
		     void *ready_ctx, rbd_server **out, rbe_error *e)
{
	rbd_server *s = rbe_xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->ready = ready;
	s->ready_ctx = ready_ctx;
	s->cfg = cfg;
	s->worker_path = rbe_xstrdup(worker_path);
	s->lock_fd = -1;
	s->started_at = wall_now();
	s->sched = rbd_sched_new();
	int rc = 0;
	size_t n_requeued = 0;
	char *path = NULL;
	if (mkdir(cfg->state_dir, 0750) < 0 && errno != EEXIST) {
		rc = rbe_fail(e, -errno, "state directory %s: %s", cfg->state_dir, strerror(errno));
		goto fail;
	}
	path = join(cfg->state_dir, "rbd.lock");
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0 || lock_state_dir(s->lock_fd) < 0) {
		rc = rbe_fail(e, -errno, "%s: %s%s", path, strerror(errno),
			      errno == EWOULDBLOCK ? " (another rbd uses this state directory)" : "");
		goto fail;
	}
	free(path);
	path = join(cfg->state_dir, "jobs.db");
	if ((rc = rbd_jobstore_open(path, &s->store, e)) < 0 || (rc = rbd_jobstore_recover(s->store, &n_requeued, e)) < 0)
		goto fail;
	if ((rc = rbd_jobstore_list(s->store, NULL, 0, recover_visit, s, e)) < 0)
		goto fail;
	if (n_requeued || rbd_sched_queued(s->sched, NULL))
		rbd_log(RBD_LOG_INFO, "recovered %zu queued jobs (%zu were running when rbd last stopped)",
			rbd_sched_queued(s->sched, NULL), n_requeued);
	apply_caps(s);
	if ((rc = datasets_load(cfg, 1, &s->datasets, &s->n_datasets, e)) < 0)
		goto fail;
	s->generation = 1;
	char *store;
	rbd_registry_opts ro = registry_opts(cfg, worker_path, &store);
	rc = rbd_registry_start(loop, &ro, registry_ready, s, &s->registry, e);
	free(store);
	if (rc < 0)
		goto fail;
	uv_timer_init(loop, &s->grace);
	s->grace.data = s;
	free(path);
	*out = s;
	return 0;
fail:
	free(path);
	s->cfg = NULL; /* the caller keeps cfg on failure */
	rbd_server_free(s);
	return rc;
}

int rbd_server_reload(rbd_server *s, rbe_error *e)
{
	rbd_config *cfg = NULL;
	int rc = rbd_config_load(s->cfg->path, &cfg, e);
	if (rc < 0)
		return rc;
	if (strcmp(cfg->state_dir, s->cfg->state_dir)) {
		rc = rbe_fail(e, -EINVAL, "%s: [server] state_dir: changing it needs a restart (now %s)", cfg->path,
			      s->cfg->state_dir);
		rbd_config_free(cfg);
		return rc;
	}
	rbd_shmds **datasets = NULL;
	size_t n = 0;
	if ((rc = datasets_load(cfg, s->generation + 1, &datasets, &n, e)) < 0) {
		rbd_config_free(cfg);
		return rc;
	}
	char *store;
	rbd_registry_opts ro = registry_opts(cfg, s->worker_path, &store);
	rc = rbd_registry_update(s->registry, &ro, e);
	free(store);
	if (rc < 0) {
		datasets_release(datasets, n);
		rbd_config_free(cfg);
		return rc;
	}
	if (strcmp(cfg->socket_path, s->socket_path ? s->socket_path : cfg->socket_path))
		rbd_log(RBD_LOG_WARN, "%s: the socket moves to %s only at the next start", cfg->path, cfg->socket_path);
	/* Running jobs hold references to the old generation's memory until they end. */
	datasets_release(s->datasets, s->n_datasets);
	s->datasets = datasets;
	s->n_datasets = n;
	s->generation++;
	rbd_config_free(s->cfg);
	s->cfg = cfg;
	apply_caps(s);
	rbd_log(RBD_LOG_INFO, "reloaded %s: generation %llu, %zu datasets", cfg->path, (unsigned long long)s->generation,
		n);
	schedule(s);
	return 0;
}

/* ---- stopping ---- */

static void registry_closed(void *ctx)
{
	rbd_server *s = ctx;
	rbd_registry_free(s->registry);
	s->registry = NULL;
}

static void maybe_stopped(rbd_server *s)
{
	if (!s->shutting_down || running_jobs(s) > 0 || s->closed)
		return;
	/* Every worker is gone: close the connections, then the rest. */
	for (conn *c = s->conns; c; c = c->next)
		if (!c->closing) {
			c->closing = 1;
			uv_close((uv_handle_t *)&c->pipe, conn_closed);
		}
	if (s->conns)
		return;
	s->closed = 1;
	if (!uv_is_closing((uv_handle_t *)&s->grace))
		uv_close((uv_handle_t *)&s->grace, NULL);
	if (s->registry)
		rbd_registry_close(s->registry, registry_closed, s);
	rbd_log(RBD_LOG_INFO, "stopped; %zu jobs stay queued for the next start", rbd_sched_queued(s->sched, NULL));
}

static void grace_over(uv_timer_t *t)
{
	rbd_server *s = t->data;
	rbd_log(RBD_LOG_INFO, "shutdown grace over: stopping %zu running jobs (they stay queued)", running_jobs(s));
	for (job_mem *j = s->jobs; j; j = j->next)
		if (j->run)
			rbd_run_stop(j->run);
}

void rbd_server_shutdown(rbd_server *s)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	rbd_log(RBD_LOG_INFO, "stopping: no new connections; %zu running jobs get %g s to finish", running_jobs(s),
		s->cfg->shutdown_grace_seconds);
	if (s->listening) {
		uv_close((uv_handle_t *)&s->listener, NULL);
		s->listening = 0;
		if (s->socket_path)
			unlink(s->socket_path);
	}
	if (running_jobs(s))
		uv_timer_start(&s->grace, grace_over, (uint64_t)(s->cfg->shutdown_grace_seconds * 1000), 0);
	maybe_stopped(s);
}

int rbd_server_exit_status(const rbd_server *s)
{
	return s->exit_status;
}

void rbd_server_free(rbd_server *s)
{
	if (!s)
		return;
	while (s->jobs)
		job_remove(s, s->jobs);
	datasets_release(s->datasets, s->n_datasets);
	rbd_registry_free(s->registry);
	rbd_jobstore_close(s->store);
	rbd_sched_free(s->sched);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	rbd_config_free(s->cfg);
	free(s->worker_path);
	free(s->socket_path);
	free(s);
}
