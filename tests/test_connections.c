/* test_connections.c — rbd's bounds on its clients, against a real rbd: memory per connection
 * and in total, callers in no team closed at accept, idle connections, the log limiter, a full
 * state directory. No per-test .timeout (see test_daemon.c): the suite's bounds them. */
#include <criterion/criterion.h>
#include <grp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

/* GCC sees the harness's copy_file inlined with paths that could, in principle, be cut. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "daemon_harness.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "daemon/log.h"

#define MiB (1024L * 1024L)

/* A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"). */
static long proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	long v = -1;
	size_t n = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	cr_assert_geq(v, 0, "no %s in %s", field, path);
	return v;
}

/* A raw connection: the tests write and read frames themselves, or not at all. */
static int raw_connect(const char *sock)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect %s: %s", sock, strerror(errno));
	/* A send that cannot go on for 2 s means rbd stopped reading this connection. */
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send all of text (len bytes, its NUL included); 0, or -1 once rbd no longer takes it. */
static int send_all(int fd, const char *text, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = send(fd, text + done, len - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* One call frame, its NUL included in *len. Owned. */
static char *frame(const char *method, json_t *params /* stolen */, size_t *len)
{
	json_t *call = json_pack("{ssso}", "method", method, "parameters", params ? params : json_object());
	char *text = json_dumps(call, JSON_COMPACT);
	json_decref(call);
	*len = strlen(text) + 1;
	return text;
}

/* The next message rbd sent on fd (owned), or NULL at the end of the connection. Waits up to
 * timeout_ms for it. */
static json_t *read_message(int fd, int timeout_ms)
{
	char *buf = NULL;
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		char ch;
		ssize_t n = recv(fd, &ch, 1, 0);
		if (n <= 0)
			break;
		if (ch == '\0') {
			json_t *j = json_loadb(buf ? buf : "", len, 0, NULL);
			free(buf);
			cr_assert_not_null(j, "rbd sent a message that is not JSON");
			return j;
		}
		buf = realloc(buf, len + 1);
		buf[len++] = ch;
	}
	free(buf);
	return NULL;
}

/* Whether rbd closed fd (end of file seen within timeout_ms, after any messages). */
static int closed_by_rbd(int fd, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 50) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 50) > 0) {
			char buf[4096];
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				return 1;
		}
	}
	return 0;
}

static int job_state_is(const rbd_proc *d, int64_t id, const char *state)
{
	json_t *j = call_ok(d, "Status", json_pack("{sI}", "id", (json_int_t)id));
	int ok = !strcmp(jstr(j, "state"), state);
	json_decref(j);
	return ok;
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("rbd's test team is uid 0, and switching uid needs root (CI runs the tests as root)");
}

/* ---- memory ---- */

#define BUFFERED_MIB 32L
#define SLACK_MIB 40L /* read buffers, one partial call per connection, malloc's own overhead */

/* 16 clients pipeline calls behind a pending Wait and never read; 16 more flood calls whose
 * replies they never read. Before the bounds, rbd kept every byte (about 1 GiB); now its
 * resident memory stays within max_buffered and some slack, comes back when they go, and a
 * client that behaves is served all along. */
Test(connections, memory_stays_bounded_and_comes_back)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra),
		 "workers = 1\nmax_buffered = %ldM\nmax_connections_per_uid = 64\nidle_timeout = 0\n", BUFFERED_MIB);
	if (RB_TEST_ASAN) {
		/* ASan keeps freed memory in quarantine, which would count as rbd's. */
		char opts[512];
		const char *old = getenv("ASAN_OPTIONS");
		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0", old ? old : "", old && *old ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	rbd_proc_start(&d);
	int64_t id = submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "hang"));
	cr_assert(POLL_UNTIL(job_state_is(&d, id, "running"), 10000));
	long base = proc_kib(d.pid, "VmRSS");

	/* Calls of 900 KiB (under max_message): 8 of them stay under max_output_queue (8 MiB) per
	 * connection, so only the total stops them. */
	size_t big_len;
	char pad[900 * 1024];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	char *big = frame("io.routerbench.v1.GetInfo", json_pack("{ss}", "pad", pad), &big_len);
	size_t wait_len;
	char *wait = frame("io.routerbench.v1.Wait", json_pack("{sI}", "id", (json_int_t)id), &wait_len);
	int fds[32];
	for (int i = 0; i < 16; i++) {
		fds[i] = raw_connect(d.sock);
		if (send_all(fds[i], wait, wait_len) < 0)
			continue;
		for (int k = 0; k < 8 && send_all(fds[i], big, big_len) == 0; k++)
			;
	}
	long hwm_backlog = proc_kib(d.pid, "VmHWM");
	/* Told why, those that went past the total. */
	int told = 0;
	for (int i = 0; i < 16; i++) {
		json_t *m = read_message(fds[i], 200);
		if (m && !strcmp(jstr(m, "error"), RBW_ERR_QUOTA_EXCEEDED)) {
			cr_assert_str_eq(jstr(json_object_get(m, "parameters"), "cap"), "max_buffered");
			told++;
		}
		json_decref(m);
	}
	cr_assert_geq(told, 16 - (int)(BUFFERED_MIB * 1024 / (8 * 900)) - 1, "only %d connections were told", told);
	json_t *info = call_ok(&d, "GetInfo", NULL);
	json_decref(info);

	/* Replies nobody reads: about 6 MiB of them per connection. */
	size_t small_len;
	char *small = frame("io.routerbench.v1.GetInfo", NULL, &small_len);
	size_t n_small = 14000;
	char *many = malloc(small_len * n_small);
	for (size_t k = 0; k < n_small; k++)
		memcpy(many + k * small_len, small, small_len);
	for (int i = 16; i < 32; i++) {
		fds[i] = raw_connect(d.sock);
		send_all(fds[i], many, small_len * n_small);
	}
	info = call_ok(&d, "GetInfo", NULL);
	json_decref(info);
	long hwm = proc_kib(d.pid, "VmHWM");
	cr_log_info("rbd VmRSS at start %ld KiB; VmHWM after the pipelined calls %ld KiB (+%ld), after the "
		    "unread replies %ld KiB (+%ld); %d connections told QuotaExceeded",
		    base, hwm_backlog, hwm_backlog - base, hwm, hwm - base, told);
	fprintf(stderr, "rbd VmRSS at start %ld KiB; VmHWM after pipelined calls +%ld KiB, after unread replies +%ld KiB\n",
		base, hwm_backlog - base, hwm - base);
	cr_assert_leq(hwm - base, (BUFFERED_MIB + SLACK_MIB) * 1024, "rbd grew by %ld KiB with max_buffered %ld MiB",
		      hwm - base, BUFFERED_MIB);

	for (int i = 0; i < 32; i++)
		close(fds[i]);
	/* Everything they held goes back: the buffers are freed and handed back to the system. */
	int back = POLL_UNTIL(proc_kib(d.pid, "VmRSS") - base < 8 * 1024, 15000);
	long after = proc_kib(d.pid, "VmRSS");
	fprintf(stderr, "rbd VmRSS after the clients closed: %ld KiB (+%ld)\n", after, after - base);
	if (!RB_TEST_ASAN) /* ASan keeps freed memory in quarantine */
		cr_assert(back, "rbd still holds %ld KiB more than at start", after - base);
	info = call_ok(&d, "GetInfo", NULL);
	json_decref(info);
	json_decref(call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)id)));
	free(many);
	free(small);
	free(big);
	free(wait);
	rbd_proc_finish(&d);
}

/* ---- callers in no team ---- */

#define UID_A 40001
#define UID_NOBODY 40007

/* GetInfo as uid (= gid), from a child; its parameters (owned). */
static json_t *call_as_uid(const rbd_proc *d, uid_t uid)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		rbw_client *c = NULL;
		rbe_error e = {0};
		rbw_reply r = {0};
		if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0 || rbw_client_open(d->sock, &c, &e) < 0 ||
		    rbw_client_call(c, "io.routerbench.v1.GetInfo", NULL, &r, &e) < 0 || r.error)
			_exit(1);
		char *text = json_dumps(r.parameters, JSON_COMPACT);
		_exit(write(fds[1], text, strlen(text)) < 0);
	}
	close(fds[1]);
	json_t *out = json_loadfd(fds[0], 0, NULL);
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0 && out, "GetInfo as uid %u failed", (unsigned)uid);
	return out;
}

/* As uid UID_NOBODY, open n connections: each must be sent PermissionDenied unasked, then
 * closed. The child says so on ready once all are open (a byte: how many were), and keeps them
 * open until hold is written to. */
static pid_t nobody_connects(const rbd_proc *d, int n, int ready_fd, int hold_fd)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid)
		return pid;
	if (setgroups(0, NULL) < 0 || setgid(UID_NOBODY) < 0 || setuid(UID_NOBODY) < 0)
		_exit(200);
	unsigned char ok = 0;
	rbw_client *conns[64];
	for (int i = 0; i < n; i++) {
		rbe_error e = {0};
		rbw_reply r = {0};
		conns[i] = NULL;
		if (rbw_client_open(d->sock, &conns[i], &e) < 0)
			continue;
		/* Nothing sent: rbd speaks first, with a message rbctl can print. */
		if (rbw_client_recv(conns[i], &r, &e) == 0 && r.error && !strcmp(r.error, RBW_ERR_PERMISSION_DENIED) &&
		    strstr(json_string_value(json_object_get(r.parameters, "message")), "is in no team")) {
			rbw_reply_clear(&r);
			if (rbw_client_recv(conns[i], &r, &e) == -EPIPE)
				ok++;
		}
		rbw_reply_clear(&r);
	}
	char ch;
	if (write(ready_fd, &ok, 1) != 1 || read(hold_fd, &ch, 1) < 0)
		_exit(201);
	for (int i = 0; i < n; i++)
		rbw_client_close(conns[i]);
	_exit(0);
}

Test(connections, callers_in_no_team_are_closed_at_accept)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "max_connections_per_uid = 4\nmax_connections = 8\n");
	snprintf(d.extra, sizeof(d.extra), "[team.a]\nmembers = %d\n", UID_A);
	rbd_proc_start(&d);
	int hold[2], ready[2];
	cr_assert_eq(pipe(hold), 0);
	cr_assert_eq(pipe(ready), 0);
	pid_t child = nobody_connects(&d, 40, ready[1], hold[0]);
	close(hold[0]);
	close(ready[1]);
	unsigned char ok = 0;
	cr_assert_eq(read(ready[0], &ok, 1), 1, "the child as uid %d failed", UID_NOBODY);
	cr_assert_eq(ok, 40, "only %u of 40 connections were told PermissionDenied and closed", ok);
	/* Forty connections of the other uid are open on its side; members still get in, as many
	 * as their own cap allows. */
	rbw_client *mine[4];
	for (int i = 0; i < 4; i++) {
		rbe_error e = {0};
		rbw_reply r = {0};
		cr_assert_eq(rbw_client_open(d.sock, &mine[i], &e), 0, "%s", e.msg);
		cr_assert_eq(rbw_client_call(mine[i], "io.routerbench.v1.GetInfo", NULL, &r, &e), 0, "connection %d: %s", i,
			     e.msg);
		cr_assert_null(r.error, "connection %d: %s", i, r.error);
		rbw_reply_clear(&r);
	}
	for (int i = 0; i < 4; i++)
		rbw_client_close(mine[i]);
	json_t *a = call_as_uid(&d, UID_A);
	cr_assert_str_eq(jstr(a, "team"), "a");
	json_decref(a);
	cr_assert_eq(write(hold[1], "x", 1), 1);
	close(hold[1]);
	close(ready[0]);
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", st);
	/* The refusals are logged, but not forty times. */
	cr_assert_eq(rbd_proc_stop(&d, 30), 0);
	char *log = slurp_file(d.log);
	size_t lines = 0;
	for (const char *p = log; (p = strstr(p, "refused a connection of uid")); p++)
		lines++;
	cr_assert(lines >= 1 && lines <= 10, "%zu log lines about refused connections", lines);
	free(log);
	rbd_proc_cleanup(&d);
}

/* ---- idle connections ---- */

Test(connections, idle_connections_time_out)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\nidle_timeout = 1\n");
	rbd_proc_start(&d);
	int64_t id = submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "hang"));
	/* A Wait in progress is not idle, however long it takes. */
	int waiting = raw_connect(d.sock);
	size_t len;
	char *text = frame("io.routerbench.v1.Wait", json_pack("{sI}", "id", (json_int_t)id), &len);
	cr_assert_eq(send_all(waiting, text, len), 0);
	free(text);
	/* A connection that made one call and then nothing. */
	int idle = raw_connect(d.sock);
	text = frame("io.routerbench.v1.GetInfo", NULL, &len);
	cr_assert_eq(send_all(idle, text, len), 0);
	free(text);
	json_t *m = read_message(idle, 5000);
	cr_assert_not_null(m);
	cr_assert_null(json_object_get(m, "error"));
	json_decref(m);
	cr_assert(closed_by_rbd(idle, 15000), "an idle connection stayed open past idle_timeout = 1");
	/* Idle longer than the other by now, and still open. */
	cr_assert_not(closed_by_rbd(waiting, 100), "a connection waiting on a job was closed as idle");
	json_decref(call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)id)));
	m = read_message(waiting, 10000);
	cr_assert_not_null(m, "the Wait got no answer");
	cr_assert_str_eq(jstr(json_object_get(m, "parameters"), "state"), "cancelled");
	json_decref(m);
	close(idle);
	close(waiting);
	rbd_proc_finish(&d);
}

/* ---- the log limiter (in this process) ---- */

static double fake_now;
static double fake_clock(void)
{
	return fake_now;
}

/* Log lines in the captured file that contain needle. */
static size_t count_in(const char *path, const char *needle)
{
	char *text = slurp_file(path);
	size_t n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

Test(connections, log_limiter_suppresses_and_backs_off)
{
	char path[] = "/tmp/rblog.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	int saved = dup(2);
	cr_assert_eq(dup2(fd, 2), 2);
	rbd_log_set_clock(fake_clock);
	rbd_log_set_limit(3, 10);
	fake_now = 100;
	for (int i = 0; i < 100; i++) {
		rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: line %d", i);
		if (i % 10 == 0)
			rbd_log_limited("job 2 output", RBD_LOG_WARN, "job 2: line %d", i);
	}
	fake_now = 111; /* the interval is over: the count of what was held back, then the line */
	rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: later");
	/* That interval was flooded: the next one is twice as long. */
	for (int i = 0; i < 5; i++)
		rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: again %d", i);
	fake_now = 125; /* within 111 + 20 */
	rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: still held");
	fake_now = 132;
	rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: after backoff");
	fake_now = 200; /* a quiet interval forgives */
	rbd_log_limited("job 1 output", RBD_LOG_WARN, "job 1: quiet");
	rbd_log_set_level(RBD_LOG_INFO);
	rbd_log_limited("job 3 output", RBD_LOG_DEBUG, "not logged at this level");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	rbd_log_set_clock(NULL);

	cr_assert_eq(count_in(path, "job 1: line"), 3);
	cr_assert_eq(count_in(path, "job 2: line"), 3, "another kind has its own count");
	cr_assert_eq(count_in(path, "97 similar lines suppressed (job 1 output) in the last 10 s"), 1);
	cr_assert_eq(count_in(path, "job 1: later"), 1);
	cr_assert_eq(count_in(path, "job 1: again"), 2, "3 per interval, 'later' being the first");
	cr_assert_eq(count_in(path, "job 1: still held"), 0);
	cr_assert_eq(count_in(path, "4 similar lines suppressed (job 1 output) in the last 20 s"), 1);
	cr_assert_eq(count_in(path, "job 1: after backoff"), 1);
	cr_assert_eq(count_in(path, "job 1: quiet"), 1);
	cr_assert_eq(count_in(path, "similar lines suppressed"), 2, "nothing was held back before 'quiet'");
	cr_assert_eq(count_in(path, "not logged"), 0);
	unlink(path);
}

/* ---- a full state directory ---- */

/* Fill the filesystem of dir with a file; returns its path (owned). */
static char *fill_up(const char *dir)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/filler", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	static char block[65536];
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 512) > 0)
		;
	close(fd);
	return path;
}

static size_t jobs_listed(const rbd_proc *d)
{
	json_t *l = call_ok(d, "ListJobs", json_pack("{sb}", "all", 1));
	size_t n = json_array_size(json_object_get(l, "jobs"));
	json_decref(l);
	return n;
}

Test(connections, full_state_directory_keeps_memory_and_store_in_step)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", "hang", NULL});
	cr_assert_eq(mkdir(d.state, 0750), 0);
	if (mount("tmpfs", d.state, "tmpfs", 0, "size=2m") < 0)
		cr_skip_test("cannot mount a 2 MiB tmpfs as the state directory: %s", strerror(errno));
	rbd_proc_start(&d);
	json_t *job = json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0);
	json_t *done = wait_final(&d, submit_ok(&d, json_deep_copy(job)));
	cr_assert_str_eq(jstr(done, "state"), "done");
	json_decref(done);
	int64_t hung = submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "hang"));
	cr_assert(POLL_UNTIL(job_state_is(&d, hung, "running"), 10000));

	char *filler = fill_up(d.state);
	/* A Submit that cannot be stored is answered so, and leaves nothing behind in memory. */
	int refused = 0;
	for (int i = 0; i < 20 && !refused; i++) {
		rbw_reply r = call(&d, "Submit", json_deep_copy(job));
		if (r.error) {
			cr_assert_str_eq(r.error, RBW_ERR_INTERNAL);
			cr_assert(strstr(json_string_value(json_object_get(r.parameters, "message")), "could not be stored"));
			refused = 1;
		} else {
			/* Space the database had kept: the job is real, and finishes. */
			json_t *f = wait_final(&d, json_integer_value(json_object_get(r.parameters, "id")));
			json_decref(f);
		}
		rbw_reply_clear(&r);
	}
	cr_assert(refused, "a full disk never refused a Submit");
	json_t *info = call_ok(&d, "GetInfo", NULL);
	cr_assert_eq(json_integer_value(json_object_get(info, "queued")), 0);
	json_decref(info);
	size_t before = jobs_listed(&d);

	/* A job whose end cannot be stored: its Cancel (which waits for the end) and a Wait are
	 * answered at once, not left hanging. */
	rbw_reply r = call(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)hung));
	cr_assert_str_eq(r.error ? r.error : "(none)", RBW_ERR_INTERNAL);
	cr_assert(strstr(json_string_value(json_object_get(r.parameters, "message")), "could not store how"), "%s",
		  json_string_value(json_object_get(r.parameters, "message")));
	rbw_reply_clear(&r);
	r = call(&d, "Wait", json_pack("{sI}", "id", (json_int_t)hung));
	cr_assert_str_eq(r.error ? r.error : "(none)", RBW_ERR_INTERNAL);
	rbw_reply_clear(&r);

	unlink(filler);
	free(filler);
	/* Once the store takes writes again, the job is failed with a reason. */
	cr_assert(POLL_UNTIL(job_state_is(&d, hung, "failed"), 10000));
	json_t *f = wait_final(&d, hung);
	cr_assert(strstr(jstr(f, "reason"), "could not store how this job ended"), "%s", jstr(f, "reason"));
	json_decref(f);
	json_t *again = wait_final(&d, submit_ok(&d, job));
	cr_assert_str_eq(jstr(again, "state"), "done");
	json_decref(again);
	cr_assert_eq(jobs_listed(&d), before + 1);
	cr_assert_eq(rbd_proc_stop(&d, 30), 0);
	cr_assert_eq(umount2(d.state, MNT_DETACH), 0); /* before the directory is removed */
	rbd_proc_cleanup(&d);
}
