/* worker_main.c — rbd-worker: runs one evaluation job, or probes one router plugin, for rbd in a
 * process of its own, speaking the protocol of core/proto/workerproto.h. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "eval/jobspec.h"
#include "proto/proto.h"
#include "eval/plugin.h"
#include "rb/version.h"
#include "data/rbds_format.h"
#include "proto/workerproto.h"
#include "worker/router_chan.h"
#include "worker/router_client.h"
#include "worker/worker.h"

/* A job message is a few kilobytes; anything near this is a bug on the sending side. */
#define MAX_JOB_BYTES ((size_t)16 << 20)
/* Progress messages that only move "fraction" are sent at most this often. */
#define PROGRESS_INTERVAL_S 0.1
#define EXIT_USAGE 2

/* ---- state the fatal-signal handler reads: set up before any router code runs ---- */

/* Where messages go. Not fd 1 itself: fd 1 is pointed at stderr so that a router printing to
 * standard output cannot corrupt the message stream. */
static int msg_fd = -1;
static uint64_t page_size = 4096;
static int statm_fd = -1; /* fallback when open() fails in the handler (e.g. RLIMIT_NOFILE hit) */
static atomic_flag crash_reported = ATOMIC_FLAG_INIT;
/* In the router process: where its crash is reported instead (the evaluator reads it). */
static rch_header *crash_sink;
/* The handler must run even when a router overflowed its stack or exhausted memory: its own
 * stack is static, mapped before any limit is set. */
static char alt_stack[64 * 1024] __attribute__((aligned(16)));

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU};


/* Decimal digits of v at p; returns how many. Async-signal-safe (no stdio). */
static size_t format_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t k = 0; k < n; k++)
		p[k] = tmp[n - 1 - k];
	return n;
}

static size_t append(char *p, const char *s)
{
	size_t n = strlen(s); /* strlen is async-signal-safe (POSIX.1-2016) */
	memcpy(p, s, n);
	return n;
}

/* The process's virtual size now: the first field of /proc/self/statm, in pages. */
static uint64_t vm_bytes_now(void)
{
	char buf[128];
	ssize_t got = -1;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, buf, sizeof(buf));
		close(fd);
	} else if (statm_fd >= 0) {
		got = pread(statm_fd, buf, sizeof(buf), 0);
	}
	uint64_t pages = 0;
	for (ssize_t k = 0; k < got && buf[k] >= '0' && buf[k] <= '9'; k++)
		pages = pages * 10 + (uint64_t)(buf[k] - '0');
	return pages * page_size;
}

volatile sig_atomic_t worker_router_pgid;

/* Kill the router's group, then die of sig. */
static void on_term_signal(int sig)
{
	if (worker_router_pgid > 0)
		kill(-(pid_t)worker_router_pgid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

void worker_install_term_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Report the fatal signal, then die of it, so rbd sees both the message and the signal in the
 * exit status. Only async-signal-safe calls from here on. */
static void on_fatal_signal(int sig)
{
	int saved_errno = errno;
	if (worker_router_pgid > 0)
		kill(-(pid_t)worker_router_pgid, SIGKILL);
	/* Several threads may fault at once: one report is enough. */
	int first = !atomic_flag_test_and_set(&crash_reported);
	if (first && crash_sink) {
		atomic_store(&crash_sink->crash_vm, vm_bytes_now());
		atomic_store(&crash_sink->crash_signal, sig);
	} else if (first && msg_fd >= 0) {
		char msg[128];
		size_t n = 0;
		n += append(msg + n, "{\"crash\":{\"signal\":");
		n += format_u64(msg + n, (uint64_t)sig);
		n += append(msg + n, ",\"vm_bytes\":");
		n += format_u64(msg + n, vm_bytes_now());
		n += append(msg + n, "}}");
		msg[n++] = '\0';
		rbe_write_all(msg_fd, msg, n);
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	/* The signal is blocked while its handler runs: raise it, then unblock it, and the default
	 * action (termination) happens here rather than by re-faulting on return. */
	raise(sig);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	errno = saved_errno;
}

void worker_crash_sink(struct rch_header *h)
{
	crash_sink = h;
}

int worker_statm_fd(void)
{
	return statm_fd;
}

void worker_install_fatal_handlers(void)
{
	stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack), .ss_flags = 0};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	/* No second async report (SIGXCPU) while the first is being written. */
	for (size_t k = 0; k < sizeof(fatal_signals) / sizeof(fatal_signals[0]); k++)
		sigaddset(&sa.sa_mask, fatal_signals[k]);
	sigset_t unblock;
	sigemptyset(&unblock);
	for (size_t k = 0; k < sizeof(fatal_signals) / sizeof(fatal_signals[0]); k++) {
		sigaction(fatal_signals[k], &sa, NULL);
		sigaddset(&unblock, fatal_signals[k]);
	}
	/* A mask inherited from the spawner must not hold SIGXCPU back until the hard limit. */
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* Ask the kernel to kill us when rbd dies. The death signal is tied to the thread that spawned
 * us; rbd spawns from its single loop thread. If rbd died before the prctl took effect, we have
 * been reparented already: nobody will read our output, so stop now. */
static void die_with_parent(void)
{
	/* rbd names itself in RBW_PARENT_PID: a worker whose rbd died before this line ran (it
	 * already has another parent) must not go on either. */
	const char *named = getenv(RBW_WORKER_PARENT_ENV);
	pid_t parent = named ? (pid_t)atol(named) : getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
}

/* fd 1 becomes a private descriptor for messages; fd 1 itself then points at stderr. */
static int take_stdout(void)
{
	int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return -1;
	return fd;
}

/* ---- messages ---- */

/* One message: compact JSON, NUL-terminated, numbers with 17 significant digits so that every
 * double survives rbd's storage and rbctl's printing byte for byte. Consumes msg. */
static int send_message(json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(msg);
	if (!text)
		return -ENOMEM;
	/* A message must not be interleaved with a crash report from SIGXCPU; the synchronous
	 * signals cannot happen inside write(). */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGXCPU);
	sigprocmask(SIG_BLOCK, &block, &old);
	int rc = rbe_write_all(msg_fd, text, strlen(text) + 1) < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(text);
	return rc;
}

static int send_error(const char *message)
{
	return send_message(json_pack("{so}", "error", rbw_json_text(message)));
}

typedef struct progress_state {
	char *phase, *task; /* last sent */
	double fraction;
	double sent_at;
	const worker_router *router; /* once it is lost, the phase it was lost in stays the last */
} progress_state;

/* Sent before every router call that changes phase or task, so that a crash report follows the
 * phase it happened in; updates that only move the fraction are throttled. */
static void on_progress(void *ctx, const char *phase, const char *task, double fraction)
{
	progress_state *ps = ctx;
	if (worker_router_lost(ps->router))
		return;
	if (!task)
		task = "";
	double now = rbe_now();
	int changed = !ps->phase || strcmp(ps->phase, phase) != 0 || strcmp(ps->task, task) != 0;
	if (!changed && (fraction == ps->fraction || now - ps->sent_at < PROGRESS_INTERVAL_S))
		return;
	if (changed) {
		free(ps->phase);
		free(ps->task);
		ps->phase = rbe_xstrdup(phase);
		ps->task = rbe_xstrdup(task);
	}
	ps->fraction = fraction;
	ps->sent_at = now;
	send_message(json_pack("{sososf}", "phase", rbw_json_text(phase), "task", rbw_json_text(task), "fraction",
			       fraction));
}

/* ---- job ---- */

/* All of fd until EOF, at most max bytes. Owned result (free), NUL-terminated. */
static int read_all(int fd, size_t max, char **out, size_t *len, rbe_error *e)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = rbe_xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				return rbe_fail(e, -EMSGSIZE, "the job message is larger than %zu bytes", max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = rbe_xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(buf);
			return rbe_fail(e, -err, "reading the job from standard input: %s", strerror(err));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static const char *const job_members[] = {"dataset_name", "plugin", "job", "limits", "sandbox"};
static const char *const sandbox_members[] = {"enabled", "uid", "gid", "need_landlock"};
static const char *const limit_members[] = {"address_space", "cpu_seconds", "open_files", "threads"};

/* Every member of obj is one of names: rbd and this worker are built together, so an unknown
 * member means the two disagree about the protocol. */
static int check_members(const json_t *obj, const char *what, const char *const *names, size_t n, rbe_error *e)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		size_t k = 0;
		while (k < n && strcmp(key, names[k]) != 0)
			k++;
		if (k == n)
			return rbe_fail(e, -EINVAL, "worker protocol: unknown member '%s' in %s", key, what);
	}
	return 0;
}

int worker_parse_limits(const json_t *limits, worker_limits *out, rbe_error *e)
{
	memset(out, 0, sizeof(*out));
	if (!limits || json_is_null(limits))
		return 0;
	if (!json_is_object(limits))
		return rbe_fail(e, -EINVAL, "worker protocol: \"limits\" must be an object");
	int rc = check_members(limits, "\"limits\"", limit_members, 4, e);
	if (rc < 0)
		return rc;
	uint64_t *dst[4] = {&out->address_space, &out->cpu_seconds, &out->open_files, &out->threads};
	for (size_t k = 0; k < 4; k++) {
		const json_t *v = json_object_get(limits, limit_members[k]);
		if (!v || json_is_null(v))
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return rbe_fail(e, -EINVAL, "worker protocol: limits.%s must be an integer >= 0", limit_members[k]);
		*dst[k] = (uint64_t)json_integer_value(v);
	}
	return 0;
}

/* soft = value, hard = value + hard_extra, never above the hard limit we inherited (an
 * unprivileged process cannot raise it). 0 means no limit. */
static int set_limit(int resource, const char *name, uint64_t value, uint64_t hard_extra, rbe_error *e)
{
	if (value == 0)
		return 0;
	struct rlimit cur, want;
	if (getrlimit(resource, &cur) != 0)
		return rbe_fail(e, -errno, "getrlimit(%s): %s", name, strerror(errno));
	want.rlim_cur = (rlim_t)value;
	want.rlim_max = (rlim_t)(value + hard_extra);
	if (cur.rlim_max != RLIM_INFINITY && want.rlim_max > cur.rlim_max)
		want.rlim_max = cur.rlim_max;
	if (want.rlim_cur > want.rlim_max)
		want.rlim_cur = want.rlim_max;
	if (setrlimit(resource, &want) != 0)
		return rbe_fail(e, -errno, "setrlimit(%s, %llu): %s", name, (unsigned long long)value, strerror(errno));
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_UNDER_ASAN 1
#endif
#endif

int worker_apply_limits(const worker_limits *l, rbe_error *e)
{
	int rc;
#ifdef WORKER_UNDER_ASAN
	/* AddressSanitizer has reserved terabytes of shadow address space already: under any
	 * RLIMIT_AS its next mmap fails and it dies with a bare "Failed to mmap". Say so instead. */
	if (l->address_space)
		return rbe_fail(e, -EINVAL,
				"this rbd-worker is built with AddressSanitizer, which cannot run under an address-space "
				"limit; set [limits] address_space = 0 for sanitizer builds");
#endif
	if ((rc = set_limit(RLIMIT_AS, "RLIMIT_AS", l->address_space, 0, e)) < 0 ||
	    /* One second between SIGXCPU (reported by the handler) and the kernel's SIGKILL, for a
	     * router that blocks or ignores SIGXCPU. */
	    (rc = set_limit(RLIMIT_CPU, "RLIMIT_CPU", l->cpu_seconds, 1, e)) < 0 ||
	    (rc = set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", l->open_files, 0, e)) < 0)
		return rc;
	return 0;
}

/* "sandbox" (absent: enabled, no uid switch, Landlock when the kernel has it). */
static int parse_sandbox(const json_t *sb, worker_sandbox_conf *out, rbe_error *e)
{
	*out = (worker_sandbox_conf){.enabled = 1};
	if (!sb || json_is_null(sb))
		return 0;
	if (!json_is_object(sb))
		return rbe_fail(e, -EINVAL, "worker protocol: \"sandbox\" must be an object");
	int rc = check_members(sb, "\"sandbox\"", sandbox_members, 4, e);
	if (rc < 0)
		return rc;
	const json_t *en = json_object_get(sb, "enabled"), *ll = json_object_get(sb, "need_landlock");
	const json_t *uid = json_object_get(sb, "uid"), *gid = json_object_get(sb, "gid");
	if ((en && !json_is_boolean(en)) || (ll && !json_is_boolean(ll)))
		return rbe_fail(e, -EINVAL, "worker protocol: sandbox.enabled and sandbox.need_landlock are booleans");
	if ((uid && (!json_is_integer(uid) || json_integer_value(uid) < 0 || json_integer_value(uid) > UINT32_MAX - 1)) ||
	    (gid && (!json_is_integer(gid) || json_integer_value(gid) < 0 || json_integer_value(gid) > UINT32_MAX - 1)))
		return rbe_fail(e, -EINVAL, "worker protocol: sandbox.uid and sandbox.gid must be ids >= 0");
	out->enabled = !en || json_is_true(en);
	out->need_landlock = json_is_true(ll);
	out->uid = uid ? (uid_t)json_integer_value(uid) : 0;
	out->gid = gid ? (gid_t)json_integer_value(gid) : 0;
	return 0;
}

/* Where the router was when it failed, as rbd words it. */
static void where(const progress_state *ps, char *buf, size_t len)
{
	if (!ps->phase || !*ps->phase)
		snprintf(buf, len, "while loading the plugin");
	else if (ps->task && *ps->task)
		snprintf(buf, len, "in %s (task %s)", ps->phase, ps->task);
	else
		snprintf(buf, len, "in %s", ps->phase);
}

/* Run the job described by msg; *result (owned) on success. When the router process is to
 * blame for a failure, *fault is set (and e says what it did). */
static int run_job(const json_t *msg, json_t **result, int *fault, rbe_error *e)
{
	if (!json_is_object(msg))
		return rbe_fail(e, -EINVAL, "worker protocol: the job message must be a JSON object");
	int rc = check_members(msg, "the job message", job_members, 5, e);
	if (rc < 0)
		return rc;
	const json_t *name = json_object_get(msg, "dataset_name"), *plugin_path = json_object_get(msg, "plugin");
	const json_t *job = json_object_get(msg, "job");
	if (!json_is_string(name) || json_string_length(name) == 0 || !json_is_string(plugin_path) ||
	    json_string_length(plugin_path) == 0 || !json_is_object(job))
		return rbe_fail(e, -EINVAL,
				"worker protocol: the job message needs \"dataset_name\" and \"plugin\" (strings) and \"job\" (an object)");
	worker_router_conf conf = {.plugin = json_string_value(plugin_path)};
	if ((rc = worker_parse_limits(json_object_get(msg, "limits"), &conf.limits, e)) < 0 ||
	    (rc = parse_sandbox(json_object_get(msg, "sandbox"), &conf.sandbox, e)) < 0)
		return rc;

	/* "NAME.rbds": the reader names the dataset by the stem of its display name, and NAME may
	 * hold dots. The sha256 was checked by rbd when it filled the sealed memfd. */
	char *display = NULL;
	if (asprintf(&display, "%s.rbds", json_string_value(name)) < 0)
		rbe_require(!"out of memory");
	rbe_dataset *ds = NULL;
	rc = rbe_rbds_open_fd_ex(RBW_WORKER_DATASET_FD, display, RBE_RBDS_TRUST_HASH | RBE_RBDS_TRUST_VALUES, &ds, e);
	free(display);
	if (rc < 0)
		return rbe_error_prefix(e, "dataset on fd %d", RBW_WORKER_DATASET_FD);
	/* The mapping outlives the descriptor; the router process never gets it. */
	close(RBW_WORKER_DATASET_FD);
	conf.n_models = ds->n_models;

	rbe_plugin *plugin = NULL;
	rbe_jobspec *spec = NULL;
	worker_router *router = NULL;
	json_t *job_copy = json_copy((json_t *)job);
	/* The daemon's CPU budget is the default; a job may ask for fewer or more threads itself. */
	if (conf.limits.threads && !json_object_get(job_copy, "threads"))
		json_object_set_new(job_copy, "threads",
				    json_integer(conf.limits.threads > 1024 ? 1024 : (json_int_t)conf.limits.threads));
	progress_state ps = {0};
	/* The job first: a job refused for its own members runs no router code at all. The router
	 * runs in a process of its own (router_client.h); this one only evaluates. */
	if ((rc = rbe_jobspec_parse(job_copy, &spec, e)) == 0 &&
	    (rc = worker_router_start(&conf, &router, &plugin, e)) == 0) {
		ps.router = router;
		rc = rbe_jobspec_run(spec, ds, plugin, on_progress, &ps, result, e);
	}
	char at[400], blame[1024];
	where(&ps, at, sizeof(at));
	if (worker_router_blame(router, at, blame, sizeof(blame))) {
		*fault = 1;
		if (*blame)
			rbe_fail(e, -EIO, "%s", blame);
		if (rc == 0) {
			json_decref(*result);
			*result = NULL;
			rc = -EIO;
		}
	}
	worker_router_stop(router);
	free(ps.phase);
	free(ps.task);
	rbe_jobspec_free(spec);
	json_decref(job_copy);
	rbe_dataset_free(ds);
	return rc;
}

static int job_main(void)
{
	die_with_parent();
	if ((msg_fd = take_stdout()) < 0) {
		fprintf(stderr, "rbd-worker: cannot set up the message descriptor: %s\n", strerror(errno));
		return 1;
	}
	worker_install_fatal_handlers();
	worker_install_term_handlers();
	/* The evaluator holds every outcome: no process of its uid may read its memory. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	rbe_error e = {0};
	char *text = NULL;
	size_t len = 0;
	json_t *msg = NULL, *result = NULL;
	int fault = 0;
	int rc = read_all(STDIN_FILENO, MAX_JOB_BYTES, &text, &len, &e);
	/* Nothing more comes on stdin; the router process gets EOF, not rbd's pipe. */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (rc == 0) {
		json_error_t jerr;
		msg = json_loadb(text, len, 0, &jerr);
		if (!msg)
			rc = rbe_fail(&e, -EINVAL, "worker protocol: the job message is not JSON: %s (line %d, column %d)",
				      jerr.text, jerr.line, jerr.column);
	}
	free(text);
	if (rc == 0)
		rc = run_job(msg, &result, &fault, &e);
	json_decref(msg);
	int sent;
	if (rc == 0)
		sent = send_message(json_pack("{so}", "result", result));
	else if (fault)
		sent = send_message(json_pack("{sosb}", "error", rbw_json_text(e.msg), "router_fault", 1));
	else
		sent = send_error(e.msg);
	if (rc == 0 && sent == -ENOMEM)
		sent = send_error("the result cannot be encoded as JSON");
	return sent < 0 ? 1 : 0;
}

/* ---- probe ---- */

/* The plugin is loaded in a child, sandboxed, answering on a pipe of its own: whatever it prints
 * or however it exits cannot pass for the answer. */
static int probe_main(const char *path)
{
	die_with_parent();
	int out_fd = take_stdout();
	if (out_fd < 0) {
		fprintf(stderr, "rbd-worker: cannot set up the output descriptor: %s\n", strerror(errno));
		return 1;
	}
	int answer_pipe[2];
	if (pipe2(answer_pipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "rbd-worker: pipe: %s\n", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rbd-worker: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if (dup2(answer_pipe[1], 3) < 0)
			_exit(126);
		syscall(SYS_close_range, 4, ~0U, 0);
		execl("/proc/self/exe", "rbd-worker", "--probe-load", path, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(answer_pipe[1]);
	/* Read while the child runs (its answer may exceed a pipe's buffer), until it is gone;
	 * never until EOF, which a process it forked could hold back. Then its group ends too. */
	size_t cap = 1 << 16, len = 0, max = (size_t)1 << 20;
	char *answer = rbe_xmalloc(cap + 1);
	int st = 0;
	fcntl(answer_pipe[0], F_SETFL, O_NONBLOCK);
	for (int done = 0;;) {
		struct pollfd p = {.fd = answer_pipe[0], .events = POLLIN};
		poll(&p, 1, 20);
		ssize_t r;
		while (len < max && (r = read(answer_pipe[0], answer + len, cap - len)) > 0)
			if ((len += (size_t)r) == cap && cap < max)
				answer = rbe_xrealloc(answer, (cap *= 2) + 1);
		if (done)
			break;
		done = waitpid(pid, &st, WNOHANG) == pid; /* one more read after it ended */
	}
	answer[len] = '\0';
	kill(-pid, SIGKILL);
	close(answer_pipe[0]);
	if (WIFSIGNALED(st)) {
		/* rbd reports the signal of the probe itself, as when the load ran in this process. */
		free(answer);
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
		return 1;
	}
	json_t *parsed = answer && len ? json_loadb(answer, len, 0, NULL) : NULL;
	free(answer);
	if (!parsed || WEXITSTATUS(st) != 0) {
		char reason[128];
		snprintf(reason, sizeof(reason), "the plugin exited while loading (status %d)", WEXITSTATUS(st));
		json_decref(parsed);
		parsed = json_pack("{sbss}", "ok", 0, "reason", reason);
	}
	char *text = parsed ? json_dumps(parsed, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(parsed);
	if (!text) {
		fprintf(stderr, "rbd-worker: cannot encode the probe answer for %s\n", path);
		return 1;
	}
	size_t n = strlen(text);
	text = rbe_xrealloc(text, n + 2);
	text[n] = '\n'; /* one line, easy to read with any JSON reader */
	int rc = rbe_write_all(out_fd, text, n + 1);
	free(text);
	return rc < 0 ? 1 : 0;
}

/* ---- command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rbd-worker --job            (job JSON on stdin, dataset on fd 3, messages on stdout)\n"
		"       rbd-worker --probe FILE.so  (describe a router plugin as one JSON object)\n"
		"\n"
		"Runs one evaluation job, or probes one router plugin, for the routerbench daemon rbd,\n"
		"which starts it; core/proto/workerproto.h describes the protocol. Not meant to be run by hand:\n"
		"use `rbctl run` for an evaluation in one process.\n"
		"\n"
		"  --job           run the job: a JSON object {\"dataset_name\", \"plugin\", \"job\", \"limits\"}\n"
		"                  read from standard input; NUL-terminated JSON messages (progress, crash,\n"
		"                  then result or error) written to standard output\n"
		"  --probe FILE    load FILE as a router plugin and print {\"ok\": true, \"router\": {...}} or\n"
		"                  {\"ok\": false, \"reason\": \"...\"}\n"
		"  -h, --help      this text\n"
		"  --version       print the version\n"
		"\n"
		"The router runs in a sandboxed process of its own (--router, started by --job); a probe\n"
		"loads the plugin in a sandboxed child (--probe-load). Neither is meant to be run by hand.\n"
		"\n"
		"exit status: 0 answered (result, error or probe), 2 usage error; killed by a signal when the\n"
		"worker itself crashed, or a probe's plugin crashed while loading\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rbd-worker: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(rbd-worker --help for usage)\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	/* A fixed threshold: large arrays live in their own mappings and go back to the kernel when
	 * freed (glibc would otherwise raise the threshold after the first such free and keep later
	 * ones in the heap), so an extra worker costs what it really holds. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	long ps = sysconf(_SC_PAGESIZE);
	if (ps > 0)
		page_size = (uint64_t)ps;
	statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (argc < 2)
		return usage_error("%s", "no mode given: --job or --probe FILE");
	const char *mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(mode, "--version")) {
		printf("rbd-worker %s (router ABI %d.%d)\n", RB_VERSION_STRING, RB_ABI_MAJOR, RB_ABI_MINOR);
		return 0;
	}
	if (!strcmp(mode, "--job")) {
		if (argc != 2)
			return usage_error("unexpected argument '%s' after --job", argv[2]);
		return job_main();
	}
	/* Internal modes: the processes a job or a probe starts of this program. */
	if (!strcmp(mode, "--router") && argc == 3)
		return worker_router_main(argv[2]);
	if (!strcmp(mode, "--probe-load") && argc == 3) {
		worker_install_fatal_handlers();
		return worker_probe_load_main(argv[2]);
	}
	if (!strcmp(mode, "--probe")) {
		if (argc != 3)
			return usage_error("%s", argc < 3 ? "--probe needs a plugin file" : "--probe takes one plugin file");
		return probe_main(argv[2]);
	}
	return usage_error("unknown argument '%s'", mode);
}
