/* server.c — rbd's life: start (state directory, job store, datasets, plugin registry), reload, stop. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server_internal.h"
#include "lib/kernel_support.h"

/* dir/name, owned. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = rbe_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

double rbd_wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- datasets ---- */

rbd_shmds *rbd_dataset_find(rbd_server *s, const char *name)
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

/* ---- the sandbox the kernel offers ---- */

/* [sandbox] enabled asks for layers rbd-worker builds from kernel features: each missing one is
 * a refusal to start (or to reload), never a silent downgrade. */
static int sandbox_check(const rbd_config *cfg, rbe_error *e)
{
	if (!cfg->sandbox_enabled) {
		rbd_log(RBD_LOG_WARN, "%s: [sandbox] enabled = false: jobs run without Landlock, seccomp or job users "
			"(the administrator's choice)", cfg->path);
		return 0;
	}
	rbe_sandbox_support k;
	rbe_sandbox_support_probe(&k);
	if (k.landlock_abi < 1 && cfg->sandbox_require_landlock)
		return rbe_fail(e, -ENOTSUP,
				"%s: the kernel offers no Landlock, which [sandbox] needs to confine jobs' files; "
				"enable it (CONFIG_SECURITY_LANDLOCK, lsm=...,landlock), or set require_landlock = false "
				"(or enabled = false to run jobs unconfined) in [sandbox]",
				cfg->path);
	if (!k.seccomp)
		return rbe_fail(e, -ENOTSUP,
				"%s: the kernel offers no seccomp, which [sandbox] needs to confine jobs' system "
				"calls; enable it (CONFIG_SECCOMP_FILTER), or set enabled = false in [sandbox] to run "
				"jobs unconfined",
				cfg->path);
	if (k.landlock_abi < 1)
		rbd_log(RBD_LOG_WARN, "%s: the kernel offers no Landlock; jobs' files are not confined "
			"([sandbox] require_landlock = false)", cfg->path);
	if (cfg->sandbox_uid_count && geteuid() != 0)
		rbd_log(RBD_LOG_WARN, "%s: [sandbox] job_users is set, but rbd does not run as root: jobs run as "
			"rbd's own user", cfg->path);
	return 0;
}

/* ---- starting ---- */

static void registry_ready(void *ctx)
{
	rbd_server *s = ctx;
	rbe_error e = {0};
	if (s->shutting_down)
		return;
	if (rbd_listen(s, &e) < 0) {
		rbd_log(RBD_LOG_ERR, "%s", e.msg);
		s->exit_status = 1;
		if (s->ready)
			s->ready(s->ready_ctx, e.msg);
		rbd_server_shutdown(s);
		return;
	}
	if (s->ready)
		s->ready(s->ready_ctx, NULL);
	rbd_schedule(s);
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
	rbd_jobmem_add(s, row->id, row->team, row->uid, row->router_sha256);
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
	s->started_at = rbd_wall_now();
	s->sched = rbd_sched_new();
	int rc = 0;
	size_t n_requeued = 0;
	char *path = NULL;
	if ((rc = sandbox_check(cfg, e)) < 0)
		goto fail;
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
	if ((rc = sandbox_check(cfg, e)) < 0) {
		rbd_config_free(cfg);
		return rc;
	}
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
	rbd_schedule(s);
	return 0;
}

/* ---- jobs whose end was lost ---- */

typedef struct orphan_list {
	rbd_server *s;
	int64_t *ids;
	size_t n;
} orphan_list;

static int orphan_visit(void *ctx, const rbd_job_row *row)
{
	orphan_list *o = ctx;
	if (!rbd_jobmem_find(o->s, row->id)) {
		o->ids = rbe_xrealloc(o->ids, (o->n + 1) * sizeof(*o->ids));
		o->ids[o->n++] = row->id;
	}
	return 0;
}

/* Failed rather than run again: how the run ended (a result, a cancel) is not known any more. */
void rbd_reconcile(rbd_server *s)
{
	if (!s->orphans || s->shutting_down)
		return;
	orphan_list o = {s, NULL, 0};
	rbe_error e = {0};
	int rc = rbd_jobstore_list(s->store, NULL, 0, orphan_visit, &o, &e);
	for (size_t i = 0; rc == 0 && i < o.n; i++) {
		rc = rbd_jobstore_finish(s->store, o.ids[i], RBD_JOB_FAILED, NULL,
					 "rbd could not store how this job ended (its state directory was full or "
					 "failing); it was not run again: submit it again",
					 rbd_wall_now(), &e);
		if (rc == 0) {
			rbd_log(RBD_LOG_WARN, "job %lld: its end could not be stored; marked failed now that the store "
				"takes writes again", (long long)o.ids[i]);
			rbd_notify(s, o.ids[i]);
		}
	}
	if (rc < 0)
		rbd_log_limited("store retry", RBD_LOG_ERR, "jobs whose end was not stored: still cannot store: %s",
				e.msg);
	else
		s->orphans = 0;
	free(o.ids);
}

/* ---- stopping ---- */

static void registry_closed(void *ctx)
{
	rbd_server *s = ctx;
	rbd_registry_free(s->registry);
	s->registry = NULL;
}

void rbd_maybe_stopped(rbd_server *s)
{
	if (!s->shutting_down || rbd_running_jobs(s) > 0 || s->closed)
		return;
	/* Every worker is gone: close the connections, then the rest. */
	rbd_conns_close(s);
	if (s->conns)
		return;
	s->closed = 1;
	rbd_conns_stop_sweep(s);
	if (!uv_is_closing((uv_handle_t *)&s->grace))
		uv_close((uv_handle_t *)&s->grace, NULL);
	if (s->registry)
		rbd_registry_close(s->registry, registry_closed, s);
	rbd_log(RBD_LOG_INFO, "stopped; %zu jobs stay queued for the next start", rbd_sched_queued(s->sched, NULL));
}

static void grace_over(uv_timer_t *t)
{
	rbd_server *s = t->data;
	rbd_log(RBD_LOG_INFO, "shutdown grace over: stopping %zu running jobs (they stay queued)", rbd_running_jobs(s));
	rbd_stop_running(s);
}

void rbd_server_shutdown(rbd_server *s)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	rbd_log(RBD_LOG_INFO, "stopping: no new connections; %zu running jobs get %g s to finish", rbd_running_jobs(s),
		s->cfg->shutdown_grace_seconds);
	if (s->listening) {
		uv_close((uv_handle_t *)&s->listener, NULL);
		s->listening = 0;
		if (s->socket_path)
			unlink(s->socket_path);
	}
	if (rbd_running_jobs(s))
		uv_timer_start(&s->grace, grace_over, (uint64_t)(s->cfg->shutdown_grace_seconds * 1000), 0);
	rbd_maybe_stopped(s);
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
		rbd_jobmem_remove(s, s->jobs);
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