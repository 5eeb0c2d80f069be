/* methods.c — rbd's methods (docs/protocol.md): one handler each, their table, and dispatch by it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/server_internal.h"
#include "eval/jobspec.h"
#include "rb/router.h"
#include "rb/version.h"

/* ---- the job a call names ---- */

/* A job the caller may see: its team's, or any for an administrator. -ENOENT otherwise (another
 * team's job answers exactly like a missing one); other errors come from the store (e). */
static int visible_job(conn *c, int64_t id, rbd_job_row *row, rbe_error *e)
{
	int rc = rbd_jobstore_get(c->s->store, id, row, e);
	if (rc < 0)
		return rc;
	if (rbd_caller_admin(c))
		return 0;
	const rbd_team_conf *t = rbd_caller_team(c);
	if (t && !strcmp(t->name, row->team))
		return 0;
	rbd_job_row_clear(row);
	return -ENOENT;
}

/* The job a call names, when the caller may see it; otherwise the error is answered and -1
 * returned. *row (owned strings) is filled on success. */
static int lookup_job(conn *c, const json_t *params, int64_t *id, rbd_job_row *row)
{
	rbe_error e = {0};
	if (rbw_param_int(params, "id", 1, 1, INT64_MAX, id, &e) < 0) {
		rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "id"), "%s", e.msg);
		return -1;
	}
	int rc = visible_job(c, *id, row, &e);
	if (rc == -ENOENT)
		rbd_reply_error(c, RBW_ERR_NO_SUCH_JOB, json_pack("{sI}", "id", (json_int_t)*id), "no such job: %lld",
				(long long)*id);
	else if (rc < 0)
		rbd_reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
	return rc < 0 ? -1 : 0;
}

/* ---- GetInfo ---- */

static void m_get_info(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbd_server *s = c->s;
	const rbd_team_conf *t = rbd_caller_team(c);
	json_t *o = json_pack("{ss s{sisi} ss si sI sI so sb sI sI sI sI ss sI sf}", "version", RB_VERSION_STRING, "abi", "major",
			      RB_ABI_MAJOR, "minor", RB_ABI_MINOR, "protocol", RBW_PROTO_INTERFACE,
			      "protocol_version", RBW_PROTO_VERSION, "uid", (json_int_t)c->uid, "gid",
			      (json_int_t)c->gid, "team", rbd_opt_string(t ? t->name : NULL), "admin", rbd_caller_admin(c),
			      "workers", (json_int_t)s->cfg->workers, "running", (json_int_t)rbd_running_jobs(s), "queued",
			      (json_int_t)rbd_sched_queued(s->sched, NULL), "max_message",
			      (json_int_t)s->cfg->max_message, "config", s->cfg->path, "generation",
			      (json_int_t)s->generation, "started_at", s->started_at);
	rbd_reply(c, o, 0);
}

/* ---- Submit ---- */

/* {"parameter": the job member a jobspec message names ("job member 'seed' ..."), else fallback}. */
static json_t *invalid_member(const char *msg, const char *fallback)
{
	char name[128];
	const char *member = rbe_jobspec_error_member(msg, name, sizeof(name));
	return json_pack("{ss}", "parameter", member ? member : fallback);
}

/* The job as a whole: dataset and router named, every member valid, threads within the server's
 * limit. *spec owned on success; otherwise the error is answered and -1 returned. */
static int submit_parse(conn *c, const json_t *params, const char **dataset, const char **router, rbe_jobspec **spec)
{
	rbd_server *s = c->s;
	rbe_error e = {0};
	if (s->shutting_down) {
		rbd_reply_error(c, RBW_ERR_SHUTTING_DOWN, NULL, "rbd is stopping; submit again when it is back");
		return -1;
	}
	if (rbw_param_string(params, "dataset", 1, dataset, &e) < 0 ||
	    rbw_param_string(params, "router", 1, router, &e) < 0) {
		rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER,
				json_pack("{ss}", "parameter", *dataset ? "router" : "dataset"), "%s", e.msg);
		return -1;
	}
	if (rbe_jobspec_parse(params, spec, &e) < 0) {
		rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, invalid_member(e.msg, "job"), "%s", e.msg);
		return -1;
	}
	/* CPU threads are the server's to share out: a job may ask for fewer, never more. */
	json_int_t threads = json_integer_value(json_object_get(params, "threads"));
	if (threads > (json_int_t)s->cfg->job_threads) {
		rbe_jobspec_free(*spec);
		*spec = NULL;
		rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "threads"),
				"job member 'threads' is %lld; this server allows at most %u per job ([limits] threads)",
				(long long)threads, s->cfg->job_threads);
		return -1;
	}
	return 0;
}

/* Commit the checked job to disk, then queue it and answer: an acknowledged job survives a crash. */
static void submit_store(conn *c, const json_t *params, const rbd_team_conf *team, rbd_shmds *ds,
			 const rbd_router_entry *en)
{
	rbd_server *s = c->s;
	rbe_error e = {0};
	const char *dataset = json_string_value(json_object_get(params, "dataset"));
	const char *router = json_string_value(json_object_get(params, "router"));
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
		.submitted_at = rbd_wall_now(),
	};
	if (rbd_jobstore_insert(s->store, &row, &row.id, &e) < 0) {
		rbd_reply_error(c, RBW_ERR_INTERNAL, NULL, "the job could not be stored: %s", e.msg);
	} else {
		rbd_jobmem_add(s, row.id, team->name, c->uid, en->sha256);
		rbd_sched_push(s->sched, team->name, row.id);
		rbd_log(RBD_LOG_DEBUG, "job %lld submitted by uid %u (team %s): %s on %s", (long long)row.id,
			(unsigned)c->uid, team->name, router, dataset);
		rbd_reply(c, rbd_job_json(s, &row), 0);
		rbd_schedule(s);
	}
	free(text);
}

static void m_submit(conn *c, const json_t *params, int more)
{
	(void)more;
	rbd_server *s = c->s;
	rbe_error e = {0};
	const rbd_team_conf *team = rbd_caller_team(c); /* RBD_CALLER_MEMBER: dispatch made sure */
	const char *dataset = NULL, *router = NULL;
	rbe_jobspec *spec = NULL;
	char why[600], *quarantined = NULL;
	if (submit_parse(c, params, &dataset, &router, &spec) < 0)
		return;
	rbd_shmds *ds = rbd_dataset_find(s, dataset);
	const rbd_router_entry *en = rbd_registry_find(s->registry, router);
	if (!ds) {
		rbd_reply_error(c, RBW_ERR_NO_SUCH_DATASET, json_pack("{ss}", "dataset", dataset),
				"no dataset named '%s' (rbctl datasets lists them)", dataset);
	} else if (!en && rbd_registry_conflict(s->registry, router, why, sizeof(why))) {
		rbd_reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ssss}", "router", router, "reason", why), "%s",
				why);
	} else if (!en) {
		rbd_reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ss}", "router", router),
				"no router named '%s' in %s (rbctl routers lists them)", router, s->cfg->plugin_dir);
	} else if (en->state != RBD_ROUTER_OK) {
		rbd_reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ssss}", "router", router, "reason", en->reason),
				"router '%s' cannot be used: %s", router, en->reason);
	} else if ((quarantined = rbd_quarantine_reason(s, en->sha256, team->name))) {
		rbd_reply_error(c, RBW_ERR_NO_SUCH_ROUTER, json_pack("{ssss}", "router", router, "reason", quarantined),
				"router '%s' cannot be used: %s", router, quarantined);
	} else if (rbe_jobspec_check(spec, en->schema, ds->ds, &e) < 0) {
		rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, invalid_member(e.msg, "settings"), "%s", e.msg);
	} else if (team->max_queued && rbd_team_active(s, team->name) >= team->max_queued) {
		rbd_reply_error(c, RBW_ERR_QUOTA_EXCEEDED,
				json_pack("{sssssI}", "team", team->name, "cap", "max_queued", "limit",
					  (json_int_t)team->max_queued),
				"team %s has %u jobs queued or running, its cap max_queued = %u", team->name,
				team->max_queued, team->max_queued);
	} else {
		submit_store(c, params, team, ds, en);
	}
	free(quarantined);
	rbe_jobspec_free(spec);
}

/* ---- one job ---- */

static void m_status(conn *c, const json_t *params, int more)
{
	(void)more;
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	rbd_reply(c, rbd_job_json(c->s, &row), 0);
	rbd_job_row_clear(&row);
}

static void m_wait(conn *c, const json_t *params, int more)
{
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	char why[1400];
	if (rbd_job_state_final(row.state)) {
		rbd_reply(c, rbd_job_json(c->s, &row), 0);
	} else if (rbd_job_lost(c->s, id, why, sizeof(why))) {
		rbd_reply_error(c, RBW_ERR_INTERNAL, json_pack("{sI}", "id", (json_int_t)id), "%s", why);
	} else {
		c->wait_id = id;
		c->wait_more = more;
		c->last_progress = rbe_now();
		*c->last_phase = '\0';
		if (more)
			rbd_reply(c, rbd_job_json(c->s, &row), 1);
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
	job_mem *j = rbd_jobmem_find(s, id);
	char reason[128];
	snprintf(reason, sizeof(reason), "cancelled by uid %u", (unsigned)c->uid);
	if (!j || rbd_job_state_final(row.state)) {
		rbd_reply(c, rbd_job_json(s, &row), 0);
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
		rbd_finish_job(s, j, RBD_JOB_CANCELLED, NULL, reason);
		rbd_job_row_clear(&row);
		rbe_error e = {0};
		if (rbd_jobstore_get(s->store, id, &row, &e) < 0)
			return rbd_reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
		rbd_reply(c, rbd_job_json(s, &row), 0);
	}
	rbd_job_row_clear(&row);
}

/* The stored text goes out as it is: no parse and re-encode of a large document. */
static void send_result(conn *c, int64_t id)
{
	char *text = NULL;
	rbe_error e = {0};
	if (rbd_jobstore_result(c->s->store, id, &text, &e) < 0)
		return rbd_reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
	size_t n = strlen(text) + 96;
	char *msg = rbe_xmalloc(n);
	int len = snprintf(msg, n, "{\"parameters\":{\"id\":%lld,\"result\":%s}}", (long long)id, text);
	rbd_conn_send(c, msg, (size_t)len + 1);
	free(text);
}

static void m_result(conn *c, const json_t *params, int more)
{
	(void)more;
	int64_t id;
	rbd_job_row row = {0};
	if (lookup_job(c, params, &id, &row) < 0)
		return;
	if (row.state == RBD_JOB_DONE) {
		send_result(c, id);
	} else if (!rbd_job_state_final(row.state)) {
		rbd_reply_error(c, RBW_ERR_JOB_NOT_FINISHED,
				json_pack("{sIss}", "id", (json_int_t)id, "state", rbd_job_state_name(row.state)),
				"job %lld is %s; rbctl submit --wait or Wait follows it", (long long)id,
				rbd_job_state_name(row.state));
	} else {
		rbd_reply_error(c, RBW_ERR_JOB_FAILED,
				json_pack("{sIssso}", "id", (json_int_t)id, "state", rbd_job_state_name(row.state),
					  "reason", rbd_opt_string(row.reason)),
				"job %lld %s: %s", (long long)id, rbd_job_state_name(row.state),
				row.reason ? row.reason : "no reason recorded");
	}
	rbd_job_row_clear(&row);
}

/* ---- lists ---- */

typedef struct list_ctx {
	rbd_server *s;
	json_t *jobs;
} list_ctx;

static int list_visit(void *ctx, const rbd_job_row *row)
{
	list_ctx *l = ctx;
	json_array_append_new(l->jobs, rbd_job_json(l->s, row));
	return 0;
}

static void m_list_jobs(conn *c, const json_t *params, int more)
{
	(void)more;
	rbe_error e = {0};
	int all = 0;
	if (rbw_param_bool(params, "all", 0, &all, &e) < 0)
		return rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, json_pack("{ss}", "parameter", "all"), "%s", e.msg);
	/* RBD_CALLER_TEAM: an administrator, or the caller has a team. */
	const char *team = rbd_caller_admin(c) ? NULL : rbd_caller_team(c)->name;
	list_ctx l = {c->s, json_array()};
	if (rbd_jobstore_list(c->s->store, team, all, list_visit, &l, &e) < 0) {
		json_decref(l.jobs);
		return rbd_reply_error(c, RBW_ERR_INTERNAL, NULL, "%s", e.msg);
	}
	rbd_reply(c, json_pack("{so}", "jobs", l.jobs), 0);
}

static void m_list_routers(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	json_t *list = rbd_registry_list(c->s->registry);
	const rbd_team_conf *team = rbd_caller_team(c);
	if (team)
		rbd_routers_mark_quarantined(c->s, list, team->name);
	rbd_reply(c, list, 0);
}

static json_t *dataset_json(const rbd_shmds *d)
{
	json_t *models = json_array(), *tasks = json_array();
	for (uint32_t m = 0; m < d->ds->n_models; m++)
		json_array_append_new(models, json_string(d->ds->model_names[m]));
	for (uint32_t t = 0; t < d->ds->n_evals; t++)
		json_array_append_new(tasks, json_string(d->ds->eval_names[t]));
	return json_pack("{ss sI ss sI so so sI ss}", "name", d->name, "generation", (json_int_t)d->generation, "sha256",
			 d->sha256, "prompts", (json_int_t)d->ds->n, "models", models, "tasks", tasks, "bytes",
			 (json_int_t)d->bytes, "source", d->source);
}

static void m_list_datasets(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbd_server *s = c->s;
	json_t *list = json_array();
	for (size_t i = 0; i < s->n_datasets; i++)
		json_array_append_new(list, dataset_json(s->datasets[i]));
	rbd_reply(c, json_pack("{so}", "datasets", list), 0);
}

/* ---- Reload ---- */

static void m_reload(conn *c, const json_t *params, int more)
{
	(void)params;
	(void)more;
	rbe_error e = {0};
	if (rbd_server_reload(c->s, &e) < 0)
		return rbd_reply_error(c, RBW_ERR_CONFIG_INVALID, NULL, "%s", e.msg);
	rbd_reply(c, json_pack("{sI}", "generation", (json_int_t)c->s->generation), 0);
}

/* ---- the table ---- */

static const char *const no_params[] = {NULL}, *const id_param[] = {"id", NULL}, *const all_param[] = {"all", NULL};

#define METHOD(name) RBW_PROTO_INTERFACE "." name

static const rbd_method methods[] = {
	{METHOD("GetInfo"), m_get_info, no_params, RBD_CALLER_ANYONE},
	{METHOD("Submit"), m_submit, rbe_jobspec_members, RBD_CALLER_MEMBER},
	{METHOD("Status"), m_status, id_param, RBD_CALLER_TEAM},
	{METHOD("Wait"), m_wait, id_param, RBD_CALLER_TEAM},
	{METHOD("Cancel"), m_cancel, id_param, RBD_CALLER_TEAM},
	{METHOD("Result"), m_result, id_param, RBD_CALLER_TEAM},
	{METHOD("ListJobs"), m_list_jobs, all_param, RBD_CALLER_TEAM},
	{METHOD("ListRouters"), m_list_routers, no_params, RBD_CALLER_ANYONE},
	{METHOD("ListDatasets"), m_list_datasets, no_params, RBD_CALLER_ANYONE},
	{METHOD("Reload"), m_reload, no_params, RBD_CALLER_ADMIN},
};

const rbd_method *rbd_methods(size_t *n)
{
	*n = sizeof(methods) / sizeof(methods[0]);
	return methods;
}

/* Whether the caller may call m; if not, the refusal is answered. */
static int caller_allowed(conn *c, const rbd_method *m)
{
	int admin = rbd_caller_admin(c);
	const rbd_team_conf *team = rbd_caller_team(c);
	switch (m->caller) {
	case RBD_CALLER_ANYONE:
		return 1;
	case RBD_CALLER_TEAM:
	case RBD_CALLER_MEMBER:
		if (team || (admin && m->caller == RBD_CALLER_TEAM))
			return 1;
		rbd_reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "uid %u is in no team of %s; ask an administrator",
				(unsigned)c->uid, c->s->cfg->path);
		return 0;
	case RBD_CALLER_ADMIN:
		if (admin)
			return 1;
		rbd_reply_error(c, RBW_ERR_PERMISSION_DENIED, NULL, "%s is for administrators (admin_group)",
				m->name + strlen(RBW_PROTO_INTERFACE "."));
		return 0;
	}
	return 0;
}

/* Whether params has only members m takes; if not, the refusal names the first other one. */
static int params_known(conn *c, const rbd_method *m, const json_t *params)
{
	rbe_error e = {0};
	if (rbw_param_check_known(params, m->params, &e) == 0)
		return 1;
	const char *key;
	json_t *v;
	json_t *named = NULL;
	json_object_foreach((json_t *)params, key, v)
	{
		size_t k = 0;
		while (m->params[k] && strcmp(m->params[k], key))
			k++;
		if (!m->params[k]) {
			named = json_pack("{ss}", "parameter", key);
			break;
		}
	}
	rbd_reply_error(c, RBW_ERR_INVALID_PARAMETER, named, "%s: %s", m->name, e.msg);
	return 0;
}

void rbd_dispatch(conn *c, const char *text, size_t len)
{
	rbw_call call = {0};
	rbe_error e = {0};
	if (rbw_call_parse(text, len, &call, &e) < 0)
		return rbd_reply_error(c, RBW_ERR_INVALID_MESSAGE, NULL, "%s", e.msg);
	const rbd_method *m = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]) && !m; i++)
		if (!strcmp(call.method, methods[i].name))
			m = &methods[i];
	if (!m)
		rbd_reply_error(c, RBW_ERR_METHOD_NOT_FOUND, json_pack("{ss}", "method", call.method),
				"unknown method '%s' (docs/protocol.md lists them)", call.method);
	else if (caller_allowed(c, m) && params_known(c, m, call.parameters))
		m->handler(c, call.parameters, call.more);
	rbw_call_clear(&call);
}
