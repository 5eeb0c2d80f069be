/* runner.c — one job in one rbd-worker process: spawn, progress, limits, and how it ended. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "proto/proto.h"
#include "daemon/runner.h"
#include "daemon/uvutil.h"
#include "proto/workerproto.h"

/* Results with every decision kept can be large; anything past this is a broken worker. */
#define WORKER_OUTPUT_LIMIT ((size_t)1 << 30)

struct rbd_run {
	int64_t id;
	rbd_run_limits limits;
	rbd_run_callbacks cb;
	rbd_shmds *dataset;
	uv_process_t proc;
	uv_pipe_t in, out;
	uv_timer_t wall, grace;
	uv_write_t write_req;
	char *job_text;
	rbw_msgbuf msgs;
	char phase[64], task[256];
	double fraction;
	char *result;       /* {"result": ...} member, compact text */
	char *error;        /* {"error": "..."} */
	int crash_signal;   /* from the worker's own crash message */
	uint64_t crash_vm;
	int64_t exit_status;
	int term_signal;
	int exited, eof, timed_out, cancelled, stopped, killing, spawn_failed;
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

static void run_closed(uv_handle_t *h)
{
	rbd_run *r = h->data;
	if (--r->open_handles > 0)
		return;
	if (r->spawn_failed) {
		rbw_msgbuf_free(&r->msgs);
		free(r->job_text);
		free(r);
		return;
	}
	char at[400], reason[1024] = "", sig[32];
	rbd_run_outcome outcome;
	char *result = NULL;
	where(r, at, sizeof(at));
	if (r->result) {
		outcome = RBD_RUN_DONE;
		result = r->result;
		r->result = NULL;
	} else if (r->cancelled) {
		outcome = RBD_RUN_CANCELLED;
		snprintf(reason, sizeof(reason), "cancelled");
	} else if (r->stopped) {
		outcome = RBD_RUN_STOPPED;
		snprintf(reason, sizeof(reason), "interrupted by rbd stopping %s", at);
	} else if (r->timed_out) {
		outcome = RBD_RUN_TIMED_OUT;
		snprintf(reason, sizeof(reason), "router timed out after %g s %s (wall-clock limit)", r->limits.wall_seconds,
			 at);
	} else if (r->error) {
		outcome = RBD_RUN_FAILED;
		snprintf(reason, sizeof(reason), "%s", r->error);
	} else {
		outcome = RBD_RUN_CRASHED;
		int s = r->term_signal ? r->term_signal : r->crash_signal;
		/* Under RLIMIT_AS a failed allocation surfaces as whatever the router does next
		 * (usually a SIGSEGV on the NULL pointer): the worker's address space tells. A large
		 * request fails with the whole last chunk still unused, hence the margin. */
		uint64_t limit = r->limits.address_space;
		int out_of_memory = s && limit && (r->crash_vm >= limit / 4 * 3 || limit - r->crash_vm < (128u << 20));
		if (out_of_memory)
			snprintf(reason, sizeof(reason), "router exceeded the memory limit (%llu MiB) %s: %s",
				 (unsigned long long)(r->limits.address_space >> 20), at, rbe_signal_name(s, sig));
		else if (s == SIGXCPU)
			snprintf(reason, sizeof(reason), "router exceeded the CPU time limit (%llu s) %s",
				 (unsigned long long)r->limits.cpu_seconds, at);
		else if (s)
			snprintf(reason, sizeof(reason), "router crashed: %s %s", rbe_signal_name(s, sig), at);
		else if (r->exit_status != 0)
			snprintf(reason, sizeof(reason), "router exited with status %lld %s", (long long)r->exit_status, at);
		else
			snprintf(reason, sizeof(reason), "worker ended without a result %s", at);
	}
	rbd_run_callbacks cb = r->cb;
	int64_t id = r->id;
	rbd_shmds_unref(r->dataset);
	rbw_msgbuf_free(&r->msgs);
	free(r->error);
	free(r->result);
	free(r->job_text);
	free(r);
	cb.done(cb.ctx, id, outcome, result, reason);
}

static void close_all(rbd_run *r)
{
	uv_close((uv_handle_t *)&r->proc, run_closed);
	uv_close((uv_handle_t *)&r->out, run_closed);
	uv_close((uv_handle_t *)&r->wall, run_closed);
	uv_close((uv_handle_t *)&r->grace, run_closed);
	if (!uv_is_closing((uv_handle_t *)&r->in))
		uv_close((uv_handle_t *)&r->in, run_closed);
}

static void maybe_finish(rbd_run *r)
{
	if (r->exited && r->eof)
		close_all(r);
}

static int on_message(void *ctx, const char *text, size_t len)
{
	rbd_run *r = ctx;
	json_error_t jerr;
	json_t *m = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(m)) {
		rbd_log(RBD_LOG_WARN, "job %lld: unreadable worker message: %s", (long long)r->id, jerr.text);
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
	} else if ((v = json_object_get(m, "crash"))) {
		r->crash_signal = (int)json_integer_value(json_object_get(v, "signal"));
		r->crash_vm = (uint64_t)json_integer_value(json_object_get(v, "vm_bytes"));
	}
	json_decref(m);
	return 0;
}

static void out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	rbd_run *r = s->data;
	if (n > 0 && rbw_msgbuf_feed(&r->msgs, buf->base, (size_t)n, on_message, r) < 0) {
		rbd_log(RBD_LOG_WARN, "job %lld: worker output over the limit; killing it", (long long)r->id);
		uv_process_kill(&r->proc, SIGKILL);
		n = UV_EOF;
	}
	free(buf->base);
	if (n < 0) {
		uv_read_stop(s);
		r->eof = 1;
		maybe_finish(r);
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
	maybe_finish(r);
}

static void grace_fire(uv_timer_t *t)
{
	rbd_run *r = t->data;
	if (!r->exited)
		uv_process_kill(&r->proc, SIGKILL);
}

/* TERM first so a worker can leave cleanly; KILL when it does not within the grace. */
static void terminate(rbd_run *r)
{
	if (r->exited || r->killing)
		return;
	r->killing = 1;
	uv_process_kill(&r->proc, SIGTERM);
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
	if (!uv_is_closing((uv_handle_t *)&r->in))
		uv_close((uv_handle_t *)&r->in, run_closed);
}

int rbd_run_start(uv_loop_t *loop, const rbd_run_args *a, rbd_run **out, rbe_error *e)
{
	json_error_t jerr;
	json_t *job = json_loads(a->job_json, 0, &jerr);
	if (!job)
		return rbe_fail(e, -EINVAL, "job %lld: stored job is not JSON: %s", (long long)a->id, jerr.text);
	json_t *limits = json_pack("{sIsIsIsI}", "address_space", (json_int_t)a->limits.address_space, "cpu_seconds",
				   (json_int_t)a->limits.cpu_seconds, "open_files", (json_int_t)a->limits.open_files,
				   "threads", (json_int_t)a->limits.threads);
	json_t *msg = json_pack("{sssssoso}", "dataset_name", a->dataset->name, "plugin", a->plugin_path, "job", job,
				"limits", limits);
	rbd_run *r = rbe_xcalloc(1, sizeof(*r));
	r->id = a->id;
	r->limits = a->limits;
	r->cb = a->cb;
	r->job_text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(msg);
	rbw_msgbuf_init(&r->msgs, WORKER_OUTPUT_LIMIT);
	uv_pipe_init(loop, &r->in, 0);
	uv_pipe_init(loop, &r->out, 0);
	uv_timer_init(loop, &r->wall);
	uv_timer_init(loop, &r->grace);
	r->proc.data = r->in.data = r->out.data = r->wall.data = r->grace.data = r->write_req.data = r;

	char *args[] = {(char *)a->worker_path, "--job", NULL};
	uv_stdio_container_t stdio[4] = {
		{.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&r->out},
		{.flags = UV_INHERIT_FD, .data.fd = 2},
		{.flags = UV_INHERIT_FD, .data.fd = a->dataset->fd},
	};
	uv_process_options_t opts = {
		.exit_cb = worker_exited,
		.file = a->worker_path,
		.args = args,
		.stdio_count = RBW_WORKER_DATASET_FD + 1,
		.stdio = stdio,
	};
	int rc = uv_spawn(loop, &r->proc, &opts);
	if (rc < 0) {
		rbe_fail(e, rc, "cannot start %s: %s", a->worker_path, uv_strerror(rc));
		/* Nothing ran: the handles still need closing; run_closed frees r without a callback. */
		r->spawn_failed = 1;
		r->open_handles = 5;
		close_all(r);
		return rc;
	}
	r->dataset = rbd_shmds_ref(a->dataset);
	r->open_handles = 5;
	rbd_log(RBD_LOG_DEBUG, "job %lld: worker pid %d", (long long)r->id, r->proc.pid);
	uv_buf_t buf = uv_buf_init(r->job_text, (unsigned)strlen(r->job_text));
	uv_write(&r->write_req, (uv_stream_t *)&r->in, &buf, 1, in_written);
	uv_read_start((uv_stream_t *)&r->out, rbd_uv_alloc, out_read);
	if (r->limits.wall_seconds > 0)
		uv_timer_start(&r->wall, wall_fire, (uint64_t)(r->limits.wall_seconds * 1000), 0);
	*out = r;
	return 0;
}
