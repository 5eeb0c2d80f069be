/* runner.c — one job in one rbd-worker process group: spawn, progress, limits, and how it ended. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "proto/proto.h"
#include "daemon/runner.h"
#include "daemon/uvutil.h"
#include "proto/workerproto.h"

/* Room for the {"result": ...} wrapper and the small messages around the result itself. */
#define MESSAGE_SLACK ((size_t)64 << 10)
/* After the worker exits, at most this much more is read from each pipe: what it wrote before
 * exiting is in the pipe's buffer; a writer it left behind outside its group is not waited for. */
#define DRAIN_LIMIT ((size_t)4 << 20)
#define N_HANDLES 6 /* in, out, err, wall, grace, delay; the process handle once spawned */

struct rbd_run {
	int64_t id;
	char *team;
	rbd_run_limits limits;
	rbd_run_callbacks cb;
	rbd_shmds *dataset;
	char *worker_path, *plugin_path;
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t wall, grace, delay;
	uv_write_t write_req;
	char *job_text;
	rbw_msgbuf msgs;
	char phase[64], task[256];
	double fraction;
	char *result;       /* {"result": ...} member, compact text */
	char *error;        /* {"error": "..."} */
	int error_router_fault; /* {"error": ..., "router_fault": true} */
	int crash_signal;   /* from the worker's own crash message */
	uint64_t crash_vm;
	int64_t exit_status;
	int term_signal;
	char *output;       /* the worker's stderr, up to RBD_RUN_OUTPUT_LIMIT */
	size_t output_len;
	uint64_t output_total;
	char spawn_error[sizeof(((rbe_error *)0)->msg)];
	int spawned, exited, timed_out, cancelled, stopped, killing, oversize, spawn_failed, closing;
	int sandboxed; /* the router runs in the sandbox, which keeps its children in its group */
	int open_handles;
};

const char *rbd_run_phase(const rbd_run *r) { return r->phase; }
const char *rbd_run_task(const rbd_run *r) { return r->task; }
double rbd_run_fraction(const rbd_run *r) { return r->fraction; }

/* "in predict (task mmlu)", or "while loading the plugin" before the first call into it. */
static void where(const rbd_run *r, char *buf, size_t len)
{
	if (!*r->phase)
		snprintf(buf, len, "while loading the plugin");
	else if (*r->task)
		snprintf(buf, len, "in %s (task %s)", r->phase, r->task);
	else
		snprintf(buf, len, "in %s", r->phase);
}

/* The phases in which the worker is inside a router call (core/eval/eval.c's progress). */
static int router_phase(const char *phase)
{
	static const char *const phases[] = {"create", "predict", "n_points", "describe_point", "decide", "destroy"};
	for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++)
		if (!strcmp(phase, phases[k]))
			return 1;
	return 0;
}

/* Whether the crash counts toward quarantine. The worker's final message decides: an
 * {"error": ..., "router_fault": true} does. Until the evaluator says so itself, a
 * {"crash": ...} report counts only when it came from a router call and from a signal the
 * router raises by faulting (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGXCPU): SIGABRT is how the host
 * ends on a failed allocation (which job parameters can provoke), and SIGKILL/SIGTERM come from
 * outside (an operator, the OOM killer, rbd itself). A worker that dies of a signal without a
 * crash message, and any job rbd cancelled, timed out or stopped, never counts. */
static int router_fault(const rbd_run *r)
{
	if (r->error_router_fault)
		return 1;
	int s = r->crash_signal;
	return s && s != SIGABRT && s != SIGKILL && s != SIGTERM && router_phase(r->phase);
}

/* Why the worker died on its own (no cancel, stop, limit or result). */
static void crash_reason(const rbd_run *r, const char *at, char *reason, size_t size)
{
	char sig[32];
	int s = r->term_signal ? r->term_signal : r->crash_signal;
	/* Under RLIMIT_AS a failed allocation surfaces as whatever the router does next (usually a
	 * SIGSEGV on the NULL pointer): the worker's address space tells. A large request fails with
	 * the whole last chunk still unused, hence the margin. */
	uint64_t limit = r->limits.address_space;
	int out_of_memory = s && limit && (r->crash_vm >= limit / 4 * 3 || limit - r->crash_vm < (128u << 20));
	if (out_of_memory)
		snprintf(reason, size, "router exceeded the memory limit (%llu MiB) %s: %s",
			 (unsigned long long)(r->limits.address_space >> 20), at, rbe_signal_name(s, sig));
	else if (s == SIGXCPU)
		snprintf(reason, size, "router exceeded the CPU time limit (%llu s) %s",
			 (unsigned long long)r->limits.cpu_seconds, at);
	else if (s)
		snprintf(reason, size, "router crashed: %s %s", rbe_signal_name(s, sig), at);
	else if (r->exit_status != 0)
		snprintf(reason, size, "router exited with status %lld %s", (long long)r->exit_status, at);
	else
		snprintf(reason, size, "worker ended without a result %s", at);
}

static rbd_run_outcome outcome_of(rbd_run *r, char *reason, size_t size)
{
	char at[400];
	where(r, at, sizeof(at));
	if (r->result)
		return RBD_RUN_DONE;
	if (r->oversize) {
		snprintf(reason, size, "result larger than %llu bytes (the limit max_result)",
			 (unsigned long long)r->limits.max_result);
		return RBD_RUN_FAILED;
	}
	if (r->cancelled) {
		snprintf(reason, size, "cancelled");
		return RBD_RUN_CANCELLED;
	}
	if (r->stopped) {
		snprintf(reason, size, "interrupted by rbd stopping %s", at);
		return RBD_RUN_STOPPED;
	}
	if (r->timed_out) {
		snprintf(reason, size, "router timed out after %g s %s (wall-clock limit)", r->limits.wall_seconds, at);
		return RBD_RUN_TIMED_OUT;
	}
	if (r->spawn_failed) {
		snprintf(reason, size, "%s", r->spawn_error);
		return RBD_RUN_FAILED;
	}
	if (r->error) {
		snprintf(reason, size, "%s", r->error);
		return r->error_router_fault ? RBD_RUN_CRASHED : RBD_RUN_FAILED;
	}
	crash_reason(r, at, reason, size);
	return RBD_RUN_CRASHED;
}

static void run_free(rbd_run *r)
{
	rbd_shmds_unref(r->dataset);
	rbw_msgbuf_free(&r->msgs);
	free(r->error);
	free(r->result);
	free(r->output);
	free(r->job_text);
	free(r->worker_path);
	free(r->plugin_path);
	free(r->team);
	free(r);
}

static void run_closed(uv_handle_t *h)
{
	rbd_run *r = h->data;
	if (--r->open_handles > 0)
		return;
	char reason[1024] = "";
	rbd_run_end end = {.outcome = outcome_of(r, reason, sizeof(reason)), .reason = reason};
	if (end.outcome == RBD_RUN_DONE) {
		end.result = r->result;
		r->result = NULL;
	}
	end.router_fault = end.outcome == RBD_RUN_CRASHED && router_fault(r);
	if (r->output_total > r->output_len) {
		r->output = rbe_xrealloc(r->output, r->output_len + sizeof(RBD_RUN_OUTPUT_MARK));
		memcpy(r->output + r->output_len, RBD_RUN_OUTPUT_MARK, sizeof(RBD_RUN_OUTPUT_MARK));
	}
	end.output = r->output ? r->output : "";
	if (r->output_total)
		rbd_log(RBD_LOG_DEBUG, "job %lld (team %s): the router wrote %llu bytes to its standard error (kept with "
				       "the job%s)",
			(long long)r->id, r->team, (unsigned long long)r->output_total,
			r->output_total > r->output_len ? ", truncated" : "");
	rbd_run_callbacks cb = r->cb;
	int64_t id = r->id;
	cb.done(cb.ctx, id, &end);
	free(end.result);
	run_free(r);
}

static void close_one(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, run_closed);
}

static void close_all(rbd_run *r)
{
	if (r->closing)
		return;
	r->closing = 1;
	if (r->spawned)
		close_one((uv_handle_t *)&r->proc);
	close_one((uv_handle_t *)&r->out);
	close_one((uv_handle_t *)&r->err);
	close_one((uv_handle_t *)&r->wall);
	close_one((uv_handle_t *)&r->grace);
	close_one((uv_handle_t *)&r->delay);
	close_one((uv_handle_t *)&r->in);
}

/* Every process of session sid but its leader, by /proc: the worker may put what it starts in
 * process groups of its own (the router process does), and those are still in its session. */
static void kill_session_members(pid_t sid, int sig)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end, path[64], stat[512];
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == sid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		if (n <= 0)
			continue;
		stat[n] = '\0';
		/* "pid (comm) state ppid pgrp session ...": comm may hold anything but ends at the last ')'. */
		const char *p = strrchr(stat, ')');
		int ppid, pgrp, session;
		if (p && sscanf(p + 1, " %*c %d %d %d", &ppid, &pgrp, &session) == 3 && session == sid)
			kill((pid_t)pid, sig);
	}
	closedir(d);
}

/* The worker and everything it started: it leads its own session (UV_PROCESS_DETACHED), and its
 * group; other groups in the session are found through /proc. */
static void kill_group(rbd_run *r, int sig)
{
	if (!r->spawned || r->proc.pid <= 0)
		return;
	if (kill(-r->proc.pid, sig) < 0 && errno != ESRCH)
		rbd_log(RBD_LOG_WARN, "job %lld (team %s): cannot signal worker group %d: %s", (long long)r->id, r->team,
			r->proc.pid, strerror(errno));
	kill_session_members(r->proc.pid, sig);
}

static int on_message(void *ctx, const char *text, size_t len)
{
	rbd_run *r = ctx;
	json_error_t jerr;
	json_t *m = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(m)) {
		rbd_log(RBD_LOG_WARN, "job %lld (team %s): unreadable worker message: %s", (long long)r->id, r->team,
			jerr.text);
		json_decref(m);
		return 0;
	}
	json_t *v;
	if ((v = json_object_get(m, "phase"))) {
		snprintf(r->phase, sizeof(r->phase), "%s", json_string_value(v) ? json_string_value(v) : "");
		const char *task = json_string_value(json_object_get(m, "task"));
		snprintf(r->task, sizeof(r->task), "%s", task ? task : "");
		r->fraction = json_number_value(json_object_get(m, "fraction"));
		if (r->cb.progress)
			r->cb.progress(r->cb.ctx, r->id, r->phase, r->task, r->fraction);
	} else if ((v = json_object_get(m, "result"))) {
		free(r->result);
		r->result = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
	} else if ((v = json_object_get(m, "error"))) {
		free(r->error);
		r->error = rbe_xstrdup(json_string_value(v) ? json_string_value(v) : "the worker reported an error");
		r->error_router_fault = json_is_true(json_object_get(m, "router_fault"));
	} else if ((v = json_object_get(m, "crash"))) {
		r->crash_signal = (int)json_integer_value(json_object_get(v, "signal"));
		r->crash_vm = (uint64_t)json_integer_value(json_object_get(v, "vm_bytes"));
	}
	json_decref(m);
	return 0;
}

static void feed_out(rbd_run *r, const char *data, size_t n)
{
	if (r->oversize || rbw_msgbuf_feed(&r->msgs, data, n, on_message, r) != -EMSGSIZE)
		return;
	/* Stop buffering at the limit: the rest of the message is never read. */
	r->oversize = 1;
	rbw_msgbuf_free(&r->msgs);
	rbd_log(RBD_LOG_WARN, "job %lld (team %s): worker message over %llu bytes; killing it", (long long)r->id,
		r->team, (unsigned long long)r->limits.max_result);
	uv_read_stop((uv_stream_t *)&r->out);
	kill_group(r, SIGKILL);
}

/* The first RBD_RUN_OUTPUT_LIMIT bytes are kept; the rest is read and counted, so the router
 * never blocks on a full pipe. NUL bytes become '?' (the output is stored as text). */
static void feed_err(rbd_run *r, const char *data, size_t n)
{
	r->output_total += n;
	size_t room = RBD_RUN_OUTPUT_LIMIT - r->output_len, take = n < room ? n : room;
	if (!take)
		return;
	if (!r->output)
		r->output = rbe_xmalloc(RBD_RUN_OUTPUT_LIMIT + 1);
	for (size_t k = 0; k < take; k++)
		r->output[r->output_len + k] = data[k] ? data[k] : '?';
	r->output_len += take;
	r->output[r->output_len] = '\0';
}

static void out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	rbd_run *r = s->data;
	if (n > 0)
		feed_out(r, buf->base, (size_t)n);
	free(buf->base);
	if (n < 0)
		uv_read_stop(s);
}

static void err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	rbd_run *r = s->data;
	if (n > 0)
		feed_err(r, buf->base, (size_t)n);
	free(buf->base);
	if (n < 0)
		uv_read_stop(s);
}

/* What is already in the pipe, read now and bounded: nothing waits for an EOF that a child the
 * worker left behind could withhold. */
static void drain(rbd_run *r, uv_pipe_t *p, void (*feed)(rbd_run *, const char *, size_t))
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)p, &fd) < 0)
		return;
	uv_read_stop((uv_stream_t *)p);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	static char buf[64 << 10];
	for (size_t total = 0; total < DRAIN_LIMIT;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		feed(r, buf, (size_t)n);
		total += (size_t)n;
	}
}

static void worker_exited(uv_process_t *p, int64_t status, int sig)
{
	rbd_run *r = p->data;
	r->exited = 1;
	r->exit_status = status;
	r->term_signal = sig;
	uv_timer_stop(&r->wall);
	uv_timer_stop(&r->grace);
	/* The job ends with the worker process: whatever it left running goes with it. A worker
	 * that ended by itself has killed its router's group, and the sandbox keeps the router's
	 * children in that group: then its own group is all that is left, and the /proc walk (a
	 * read of every process's stat, on the loop) is needed only otherwise. */
	if (status == 0 && sig == 0 && r->sandboxed)
		kill(-r->proc.pid, SIGKILL);
	else
		kill_group(r, SIGKILL);
	drain(r, &r->out, feed_out);
	drain(r, &r->err, feed_err);
	close_all(r);
}

static void grace_fire(uv_timer_t *t)
{
	rbd_run *r = t->data;
	if (!r->exited)
		kill_group(r, SIGKILL);
}

/* TERM first so a worker can leave cleanly; KILL when it does not within the grace. A run still
 * waiting to spawn just ends. */
static void terminate(rbd_run *r)
{
	if (r->exited || r->killing || r->closing)
		return;
	r->killing = 1;
	if (!r->spawned) {
		close_all(r);
		return;
	}
	kill_group(r, SIGTERM);
	uv_timer_start(&r->grace, grace_fire, (uint64_t)(r->limits.kill_grace_seconds * 1000), 0);
}

static void wall_fire(uv_timer_t *t)
{
	rbd_run *r = t->data;
	r->timed_out = 1;
	terminate(r);
}

void rbd_run_cancel(rbd_run *r)
{
	if (!r->exited && !r->result)
		r->cancelled = 1;
	terminate(r);
}

void rbd_run_stop(rbd_run *r)
{
	if (!r->exited && !r->result)
		r->stopped = 1;
	terminate(r);
}

static void in_written(uv_write_t *w, int status)
{
	rbd_run *r = w->data;
	(void)status; /* a worker that died before reading is reported by its exit */
	close_one((uv_handle_t *)&r->in);
}

static int spawn_worker(rbd_run *r, rbe_error *e)
{
	char *args[] = {r->worker_path, "--job", NULL};
	uv_stdio_container_t stdio[4] = {
		{.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->err},
		{.flags = UV_INHERIT_FD, .data.fd = r->dataset->fd},
	};
	uv_process_options_t opts = {
		.exit_cb = worker_exited,
		.file = r->worker_path,
		.args = args,
		.stdio_count = RBW_WORKER_DATASET_FD + 1,
		.stdio = stdio,
		/* setsid(): the worker leads a group rbd can kill whole. */
		.flags = UV_PROCESS_DETACHED,
	};
	int rc = uv_spawn(r->loop, &r->proc, &opts);
	if (rc < 0)
		return rbe_fail(e, rc, "cannot start %s: %s", r->worker_path, uv_strerror(rc));
	r->spawned = 1;
	r->open_handles++;
	rbd_log(RBD_LOG_DEBUG, "job %lld (team %s): worker pid %d", (long long)r->id, r->team, r->proc.pid);
	uv_buf_t buf = uv_buf_init(r->job_text, (unsigned)strlen(r->job_text));
	uv_write(&r->write_req, (uv_stream_t *)&r->in, &buf, 1, in_written);
	uv_read_start((uv_stream_t *)&r->out, rbd_uv_alloc, out_read);
	uv_read_start((uv_stream_t *)&r->err, rbd_uv_alloc, err_read);
	if (r->limits.wall_seconds > 0)
		uv_timer_start(&r->wall, wall_fire, (uint64_t)(r->limits.wall_seconds * 1000), 0);
	return 0;
}

static void delay_fire(uv_timer_t *t)
{
	rbd_run *r = t->data;
	rbe_error e = {0};
	if (spawn_worker(r, &e) < 0) {
		snprintf(r->spawn_error, sizeof(r->spawn_error), "%s", e.msg);
		r->spawn_failed = 1;
		close_all(r);
	}
}

static void unstarted_closed(uv_handle_t *h)
{
	rbd_run *r = h->data;
	if (--r->open_handles == 0)
		run_free(r);
}

static char *job_message(const rbd_run_args *a, rbe_error *e)
{
	json_error_t jerr;
	json_t *job = json_loads(a->job_json, 0, &jerr);
	if (!job) {
		rbe_fail(e, -EINVAL, "stored job is damaged: job %lld: its parameters are not JSON: %s", (long long)a->id,
			 jerr.text);
		return NULL;
	}
	json_t *limits = json_pack("{sIsIsIsI}", "address_space", (json_int_t)a->limits.address_space, "cpu_seconds",
				   (json_int_t)a->limits.cpu_seconds, "open_files", (json_int_t)a->limits.open_files,
				   "threads", (json_int_t)a->limits.threads);
	json_t *sandbox = json_pack("{sbsIsIsb}", "enabled", a->sandbox.enabled, "uid", (json_int_t)a->sandbox.uid,
				    "gid", (json_int_t)a->sandbox.uid, "need_landlock", a->sandbox.need_landlock);
	json_t *msg = json_pack("{sssssososo}", "dataset_name", a->dataset->name, "plugin", a->plugin_path, "job", job,
				"limits", limits, "sandbox", sandbox);
	char *text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(msg);
	return text;
}

int rbd_run_start(uv_loop_t *loop, const rbd_run_args *a, rbd_run **out, rbe_error *e)
{
	char *text = job_message(a, e);
	if (!text)
		return -EINVAL;
	rbd_run *r = rbe_xcalloc(1, sizeof(*r));
	r->id = a->id;
	r->team = rbe_xstrdup(a->team ? a->team : "?");
	r->limits = a->limits;
	r->sandboxed = a->sandbox.enabled;
	r->cb = a->cb;
	r->loop = loop;
	r->job_text = text;
	r->worker_path = rbe_xstrdup(a->worker_path);
	r->plugin_path = rbe_xstrdup(a->plugin_path);
	r->dataset = rbd_shmds_ref(a->dataset);
	rbw_msgbuf_init(&r->msgs, (size_t)r->limits.max_result + MESSAGE_SLACK);
	uv_pipe_init(loop, &r->in, 0);
	uv_pipe_init(loop, &r->out, 0);
	uv_pipe_init(loop, &r->err, 0);
	uv_timer_init(loop, &r->wall);
	uv_timer_init(loop, &r->grace);
	uv_timer_init(loop, &r->delay);
	r->open_handles = N_HANDLES;
	r->proc.data = r->in.data = r->out.data = r->err.data = r->wall.data = r->grace.data = r->delay.data =
		r->write_req.data = r;
	if (a->delay_seconds > 0) {
		uv_timer_start(&r->delay, delay_fire, (uint64_t)(a->delay_seconds * 1000), 0);
	} else {
		int rc = spawn_worker(r, e);
		if (rc < 0) {
			/* Nothing ran: the handles still need closing; no callback for a run never started. */
			r->closing = 1;
			uv_handle_t *h[N_HANDLES] = {(uv_handle_t *)&r->in,   (uv_handle_t *)&r->out,
						     (uv_handle_t *)&r->err,  (uv_handle_t *)&r->wall,
						     (uv_handle_t *)&r->grace, (uv_handle_t *)&r->delay};
			for (int k = 0; k < N_HANDLES; k++)
				uv_close(h[k], unstarted_closed);
			return rc;
		}
	}
	*out = r;
	return 0;
}
