/* rbd_main.c — the routerbench daemon: reads its config, serves jobs until SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "lib/options.h"
#include "rb/router.h"
#include "rb/version.h"
#include "rb_config.h"
#include "daemon/server.h"
#include "proto/workerproto.h"

/* What rbd was asked for on its command line. */
typedef struct rbd_args {
	const char *config, *worker;
	int foreground, verbose, check, version;
} rbd_args;

static void usage(FILE *out, const rbe_opt *opts)
{
	fprintf(out, "usage: rbd --config FILE [--foreground] [--worker PATH] [-v]\n"
		     "\n"
		     "The routerbench evaluation server: holds the configured datasets in shared memory,\n"
		     "offers the router plugins of its plugin directory, and runs the jobs rbctl submits\n"
		     "(docs/protocol.md) in isolated rbd-worker processes.\n"
		     "\n"
		     "options:\n");
	rbe_opts_help(out, opts);
	fprintf(out, "\n"
		     "signals: SIGHUP reloads the config, datasets and plugins (a bad config is reported and\n"
		     "the running one stays); SIGTERM stops gracefully (running jobs get shutdown_grace to\n"
		     "finish, the rest stay queued on disk).\n"
		     "exit status: 0 stopped normally, 1 could not start (bad config, state directory, socket),\n"
		     "2 usage error\n");
}

/* Read the command line into a: -1 to go on, else the exit status (0 after --help or
 * --version, 2 after a usage error). */
static int rbd_options(int argc, char **argv, rbd_args *a)
{
	rbe_opt opts[] = {
		RBE_OPT_STRING("config", 'c', &a->config, "FILE", "configuration (conf/rbd.ini is an annotated example)"),
		RBE_OPT_FLAG("foreground", 'f', &a->foreground,
			     "stay attached to the terminal and log to standard error\n"
			     "(without it rbd detaches once it listens, and logs to\n"
			     "STATE_DIR/rbd.log; a start-up error is still printed here)"),
		RBE_OPT_STRING("worker", 0, &a->worker, "PATH", "the rbd-worker binary (default: beside rbd, then the installed one)"),
		RBE_OPT_FLAG("verbose", 'v', &a->verbose, "log every job's start and end"),
		RBE_OPT_FLAG("check", 0, &a->check, "read and check the config, then exit"),
		RBE_OPT_FLAG("version", 0, &a->version, "print the version and exit"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	rbe_error e = {0};
	int first, rc = rbe_opts_parse(opts, argc, argv, &first, &e);
	if (rc == RBE_OPTS_HELP) {
		usage(stdout, opts);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "rbd: %s%s\n", e.msg, rc == -ENOENT ? " (rbd --help lists them)" : "");
		return 2;
	}
	if (a->version) {
		printf("rbd %s (router ABI %d.%d, protocol %s)\n", RB_VERSION_STRING, RB_ABI_MAJOR, RB_ABI_MINOR,
		       "io.routerbench.v1");
		return 0;
	}
	if (first < argc || !a->config) {
		if (first < argc)
			fprintf(stderr, "rbd: unexpected argument '%s'\n", argv[first]);
		else
			fprintf(stderr, "rbd: --config FILE is required\n");
		usage(stderr, opts);
		return 2;
	}
	if (a->verbose)
		rbd_log_set_level(RBD_LOG_DEBUG);
	return -1;
}

/* rbd-worker beside this binary (build tree, or an install into one directory), else the
 * libexec one chosen at build time. */
static char *find_worker(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			snprintf(slash + 1, sizeof(self) - (size_t)(slash + 1 - self), "rbd-worker");
			if (access(self, X_OK) == 0)
				return rbe_xstrdup(self);
		}
	}
	return rbe_xstrdup(RBD_INSTALLED_WORKER);
}

typedef struct signals {
	uv_signal_t term, intr, hup;
	rbd_server *server;
} signals;

static void on_signal(uv_signal_t *h, int sig)
{
	signals *sg = h->data;
	if (sig == SIGHUP) {
		rbe_error e = {0};
		rbd_log(RBD_LOG_INFO, "SIGHUP: reloading");
		if (rbd_server_reload(sg->server, &e) < 0)
			rbd_log(RBD_LOG_ERR, "reload refused, the running configuration stays: %s", e.msg);
		return;
	}
	rbd_log(RBD_LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	uv_close((uv_handle_t *)&sg->term, NULL);
	uv_close((uv_handle_t *)&sg->intr, NULL);
	uv_close((uv_handle_t *)&sg->hup, NULL);
	rbd_server_shutdown(sg->server);
}

/* Without --foreground: the parent waits until the detached server listens (or says why it
 * cannot), so `rbd --config F && rbctl ...` works and a start-up error reaches the terminal. */
static int ready_fd = -1;

/* Tell the waiting parent: one byte 1 for "listening", else the reason. */
static void tell_parent(void *ctx, const char *msg)
{
	(void)ctx;
	if (ready_fd < 0)
		return;
	const char ok = 1;
	ssize_t w = msg ? write(ready_fd, msg, strlen(msg)) : write(ready_fd, &ok, 1);
	(void)w; /* a parent that is gone does not care */
	close(ready_fd);
	ready_fd = -1;
}

/* Report a start-up failure: to the log, and to the waiting parent. */
static int start_failed(const char *msg)
{
	fprintf(stderr, "rbd: %s\n", msg);
	tell_parent(NULL, msg);
	return 1;
}

/* Detach: fork, new session, standard streams to the log file. Before the loop exists, so no
 * thread is running. The parent stays until the child reports through a pipe. */
static int detach(const char *state_dir)
{
	char path[PATH_MAX];
	if (mkdir(state_dir, 0750) < 0 && errno != EEXIST) {
		fprintf(stderr, "rbd: state directory %s: %s\n", state_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/rbd.log", state_dir);
	FILE *log = fopen(path, "a");
	int fds[2];
	if (!log || pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "rbd: %s: %s\n", log ? "pipe" : path, strerror(errno));
		if (log)
			fclose(log);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rbd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		char msg[1200];
		size_t len = 0;
		ssize_t r;
		while (len < sizeof(msg) - 1 && (r = read(fds[0], msg + len, sizeof(msg) - 1 - len)) != 0)
			if (r > 0)
				len += (size_t)r;
			else if (errno != EINTR)
				break;
		msg[len] = '\0';
		if (len == 1 && msg[0] == 1)
			_exit(0);
		fprintf(stderr, "rbd: %s (log: %s)\n", len ? msg : "the server stopped while starting", path);
		_exit(1);
	}
	close(fds[0]);
	ready_fd = fds[1];
	setsid();
	if (!freopen("/dev/null", "r", stdin)) {
		/* keep the inherited stdin */
	}
	dup2(fileno(log), 1);
	dup2(fileno(log), 2);
	fclose(log);
	return 0;
}

int main(int argc, char **argv)
{
	rbd_args a = {0};
	int status = rbd_options(argc, argv, &a);
	if (status >= 0)
		return status;
	const char *config_path = a.config;
	char *worker = a.worker ? rbe_xstrdup(a.worker) : NULL;
	int foreground = a.foreground, check = a.check;
	rbd_config *cfg = NULL;
	rbe_error e = {0};
	if (rbd_config_load(config_path, &cfg, &e) < 0) {
		fprintf(stderr, "rbd: %s\n", e.msg);
		free(worker);
		return 1;
	}
	if (check) {
		printf("%s: ok (%zu datasets, %zu teams)\n", cfg->path, cfg->n_datasets, cfg->n_teams);
		rbd_config_free(cfg);
		free(worker);
		return 0;
	}
	if (!worker)
		worker = find_worker();
	if (access(worker, X_OK) < 0) {
		fprintf(stderr, "rbd: worker %s: %s (use --worker PATH)\n", worker, strerror(errno));
		rbd_config_free(cfg);
		free(worker);
		return 1;
	}
	if (!foreground && detach(cfg->state_dir) < 0) {
		rbd_config_free(cfg);
		free(worker);
		return 1;
	}
	/* A client that goes away mid-write must not kill rbd. */
	signal(SIGPIPE, SIG_IGN);
	/* Workers inherit it and check they are still rbd's (proto/workerproto.h). */
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv(RBW_WORKER_PARENT_ENV, pid, 1);

	uv_loop_t loop;
	uv_loop_init(&loop);
	rbd_server *server = NULL;
	if (rbd_server_start(&loop, cfg, worker, tell_parent, NULL, &server, &e) < 0) {
		start_failed(e.msg);
		rbd_config_free(cfg);
		free(worker);
		uv_loop_close(&loop);
		return 1;
	}
	signals sg = {.server = server};
	uv_signal_init(&loop, &sg.term);
	uv_signal_init(&loop, &sg.intr);
	uv_signal_init(&loop, &sg.hup);
	sg.term.data = sg.intr.data = sg.hup.data = &sg;
	uv_signal_start(&sg.term, on_signal, SIGTERM);
	uv_signal_start(&sg.intr, on_signal, SIGINT);
	uv_signal_start(&sg.hup, on_signal, SIGHUP);
	/* Signal handles alone do not keep rbd alive: the loop ends once the server has closed. */
	uv_unref((uv_handle_t *)&sg.term);
	uv_unref((uv_handle_t *)&sg.intr);
	uv_unref((uv_handle_t *)&sg.hup);
	rbd_log(RBD_LOG_INFO, "rbd %s starting with %s", RB_VERSION_STRING, config_path);

	uv_run(&loop, UV_RUN_DEFAULT);

	status = rbd_server_exit_status(server);
	if (!uv_is_closing((uv_handle_t *)&sg.term)) {
		uv_close((uv_handle_t *)&sg.term, NULL);
		uv_close((uv_handle_t *)&sg.intr, NULL);
		uv_close((uv_handle_t *)&sg.hup, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	rbd_server_free(server);
	int rc = uv_loop_close(&loop);
	if (rc != 0)
		rbd_log(RBD_LOG_WARN, "event loop closed with handles open: %s", uv_strerror(rc));
	free(worker);
	return status;
}
