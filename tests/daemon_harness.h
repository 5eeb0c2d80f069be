/* daemon_harness.h — real rbd processes for the tests: a temporary state directory, socket,
 * plugin directory and config; start, call, kill -9, restart, stop. */
#ifndef RB_DAEMON_HARNESS_H
#define RB_DAEMON_HARNESS_H

#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "proto/client.h"

#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#define RB_TEST_ASAN 1
#else
#define RB_TEST_ASAN 0
#endif

typedef struct rbd_proc {
	pid_t pid;
	char dir[256];
	char sock[320], config[320], plugins[320], state[320], log[320], data[320];
	char extra[4096]; /* appended to the generated config: teams, limits, datasets */
	char server_extra[1024]; /* lines added to [server] */
	char limits[1024];       /* lines of [limits] */
	char team_extra[256];    /* lines added to [team.alpha], root's team */
} rbd_proc;

static inline void copy_file(const char *from, const char *to)
{
	char *data = NULL;
	size_t len = 0;
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(from, &data, &len, &e), 0, "%s", e.msg);
	char tmp[700]; /* room for any path install_router makes, and ".tmp" */
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	FILE *f = fopen(tmp, "wb");
	cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	/* Installed by rename, as the docs tell users to. */
	cr_assert_eq(rename(tmp, to), 0);
	free(data);
}

/* Put router NAME (a built-in, else a test fixture) into the plugin directory. */
static inline void install_router(rbd_proc *d, const char *name)
{
	char from[4096], to[600];
	snprintf(from, sizeof(from), "%s", builtin_plugin(name));
	if (access(from, R_OK) < 0)
		snprintf(from, sizeof(from), "%s", fixture_plugin(name));
	snprintf(to, sizeof(to), "%s/%s.so", d->plugins, name);
	copy_file(from, to);
}

/* A fresh directory with a small dataset (2 tasks x 4 models) and the given routers. */
static inline void rbd_proc_init(rbd_proc *d, const char *const *routers)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", make_temp_dir());
	chmod(d->dir, 0755); /* other uids reach the socket in the team tests */
	snprintf(d->sock, sizeof(d->sock), "%s/rbd.sock", d->dir);
	snprintf(d->config, sizeof(d->config), "%s/rbd.ini", d->dir);
	snprintf(d->plugins, sizeof(d->plugins), "%s/routers", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/rbd.log", d->dir);
	snprintf(d->data, sizeof(d->data), "%s/small.rbds", d->dir);
	cr_assert_eq(mkdir(d->plugins, 0755), 0);
	gen_synthetic(d->data, "600", "4", "2", "3", NULL);
	for (size_t i = 0; routers && routers[i]; i++)
		install_router(d, routers[i]);
}

/* Whether lines (a test's overrides) set key. */
static inline int sets_key(const char *lines, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = lines; (p = strstr(p, key)); p += n)
		if ((p == lines || p[-1] == '\n') && (p[n] == ' ' || p[n] == '='))
			return 1;
	return 0;
}

/* Defaults for the tests, each left out when the test sets the key itself. */
static inline void default_key(FILE *f, const char *overrides, const char *key, const char *value)
{
	if (!sets_key(overrides, key))
		fprintf(f, "%s = %s\n", key, value);
}

static inline void rbd_proc_write_config(rbd_proc *d)
{
	FILE *f = fopen(d->config, "w");
	cr_assert_not_null(f);
	fprintf(f, "[server]\nsocket = %s\nstate_dir = %s\nplugin_dir = %s\n", d->sock, d->state, d->plugins);
	default_key(f, d->server_extra, "socket_mode", "0666");
	default_key(f, d->server_extra, "workers", "2");
	default_key(f, d->server_extra, "rescan_interval", "1");
	default_key(f, d->server_extra, "shutdown_grace", "20");
	fprintf(f, "%s\n[limits]\n", d->server_extra);
	default_key(f, d->limits, "wall_time", "60");
	default_key(f, d->limits, "kill_grace", "1");
	default_key(f, d->limits, "threads", "1");
	/* AddressSanitizer reserves terabytes of address space up front: no RLIMIT_AS there. */
	default_key(f, d->limits, "address_space", RB_TEST_ASAN ? "0" : "2G");
	fprintf(f, "%s\n[dataset.small]\nfile = %s\n\n[team.alpha]\nmembers = 0\n%s\n%s\n", d->limits, d->data,
		d->team_extra, d->extra);
	fclose(f);
}

/* Connect, retrying while rbd comes up (it listens once its plugin probes are done). */
static inline rbw_client *rbd_connect_retry(const char *sock, int timeout_ms)
{
	rbw_client *c = NULL;
	rbe_error e = {0};
	for (int t = 0; t < timeout_ms; t += 20) {
		if (rbw_client_open(sock, &c, &e) == 0)
			return c;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	return NULL;
}

static inline void rbd_proc_start(rbd_proc *d)
{
	if (access(d->config, R_OK) < 0)
		rbd_proc_write_config(d);
	int log_fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert(log_fd >= 0);
	char *argv[] = {(char *)env_or("RBD", "build/rbd"), "--config", d->config, "--foreground", "-v", NULL};
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		/* A failed assertion ends the test without cleanup: rbd must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(log_fd);
	rbw_client *c = rbd_connect_retry(d->sock, 20000);
	if (!c) {
		char *log = slurp_file(d->log);
		cr_assert_fail("rbd did not come up; its log:\n%s", log ? log : "");
	}
	rbw_client_close(c);
}

/* SIGTERM and wait (up to timeout_s); returns the exit status, 128 + signal, or -1. */
static inline int rbd_proc_stop(rbd_proc *d, int timeout_s)
{
	if (d->pid <= 0)
		return 0;
	kill(d->pid, SIGTERM);
	int st = 0;
	for (int ms = 0; ms < timeout_s * 1000; ms += 20) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	return -1;
}

static inline void rbd_proc_kill9(rbd_proc *d)
{
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

static inline void rbd_proc_cleanup(rbd_proc *d)
{
	if (d->pid > 0)
		rbd_proc_kill9(d);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d->dir);
}

/* The end of a test: rbd stops cleanly on SIGTERM (exit 0), and its directory goes. */
static inline void rbd_proc_finish(rbd_proc *d)
{
	cr_assert_eq(rbd_proc_stop(d, 30), 0, "rbd exits 0 after SIGTERM; its log: %s", d->log);
	rbd_proc_cleanup(d);
}

/* One call on a fresh connection; the reply is owned by the caller (rbw_reply_clear). */
static inline rbw_reply call(const rbd_proc *d, const char *method, json_t *params /* stolen */)
{
	rbw_client *c = rbd_connect_retry(d->sock, 5000);
	cr_assert_not_null(c, "cannot connect to %s", d->sock);
	rbw_reply r = {0};
	rbe_error e = {0};
	char full[128];
	snprintf(full, sizeof(full), "io.routerbench.v1.%s", method);
	cr_assert_eq(rbw_client_call(c, full, params, &r, &e), 0, "%s: %s", method, e.msg);
	json_decref(params);
	rbw_client_close(c);
	return r;
}

/* A call that must succeed; returns its parameters (owned reference). */
static inline json_t *call_ok(const rbd_proc *d, const char *method, json_t *params)
{
	rbw_reply r = call(d, method, params);
	cr_assert_null(r.error, "%s failed: %s %s", method, r.error,
		       json_string_value(json_object_get(r.parameters, "message")));
	json_t *p = json_incref(r.parameters);
	rbw_reply_clear(&r);
	return p;
}

static inline int64_t submit_ok(const rbd_proc *d, json_t *job)
{
	json_t *p = call_ok(d, "Submit", job);
	int64_t id = json_integer_value(json_object_get(p, "id"));
	cr_assert_gt(id, 0);
	json_decref(p);
	return id;
}

/* Wait for a job to be final; returns the job object (owned). */
static inline json_t *wait_final(const rbd_proc *d, int64_t id)
{
	return call_ok(d, "Wait", json_pack("{sI}", "id", (json_int_t)id));
}

static inline const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Poll until pred holds or timeout; returns whether it held. */
#define POLL_UNTIL(pred, timeout_ms)                                                              \
	({                                                                                          \
		int ok_ = 0;                                                                        \
		for (int t_ = 0; t_ < (timeout_ms); t_ += 50) {                                     \
			if ((pred)) {                                                               \
				ok_ = 1;                                                            \
				break;                                                              \
			}                                                                           \
			nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);                   \
		}                                                                                   \
		ok_;                                                                                \
	})

/* One call made by a child process running as uid/gid; the reply comes back through a pipe. */
static inline json_t *call_as(const rbd_proc *d, uid_t uid, gid_t gid, const char *method, json_t *params)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(90);
		rbw_client *c = NULL;
		rbe_error e = {0};
		rbw_reply r = {0};
		char full[128];
		snprintf(full, sizeof(full), "io.routerbench.v1.%s", method);
		if (rbw_client_open(d->sock, &c, &e) < 0 || rbw_client_call(c, full, params, &r, &e) < 0)
			_exit(91);
		json_t *out = json_pack("{ss?so}", "error", r.error, "parameters", json_incref(r.parameters));
		char *text = json_dumps(out, JSON_COMPACT);
		if (write(fds[1], text, strlen(text)) < 0)
			_exit(92);
		_exit(0);
	}
	close(fds[1]);
	json_decref(params);
	json_t *out = json_loadfd(fds[0], 0, NULL);
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child as uid %u failed (%d)", (unsigned)uid, st);
	return out;
}

#endif
