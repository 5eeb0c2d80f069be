/* test_runner.c — rbd running jobs in real rbd-worker process groups: children left holding the
 * pipes, results over the size limit or invalid, router output bounded, quarantine counted only
 * for the router's own faults and per team, damaged job stores, retries capped. */
#include <dirent.h>
#include <grp.h>
#include <sqlite3.h>

#include "daemon_harness.h"

#define MiB ((uint64_t)1 << 20)
#define UID_B 40012

/* ---- processes ---- */

/* A /proc file (its size reads as 0, so not slurp_file), or NULL when it cannot be read: the
 * process may be gone. Owned. */
static char *read_proc(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1);
	for (ssize_t n; buf && (n = read(fd, buf + len, cap - len)) > 0;) {
		len += (size_t)n;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Processes (other than this one) that map a file whose path contains needle: rbd's workers map
 * their router from the store in the test's directory, and so do children they fork. */
static size_t procs_mapping(const char *needle)
{
	size_t n = 0;
	DIR *d = opendir("/proc");
	cr_assert_not_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
		char *maps = read_proc(path);
		n += maps && strstr(maps, needle);
		free(maps);
	}
	closedir(d);
	return n;
}

/* A /proc/PID/status field in KiB ("VmHWM"), or -1. */
static long status_kib(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	char *st = read_proc(path);
	const char *p = st ? strstr(st, field) : NULL;
	long v = p ? strtol(p + strlen(field) + 1, NULL, 10) : -1;
	free(st);
	return v;
}

/* The pid of a worker of rbd (a child named rbd-worker), or 0. */
static pid_t worker_of(const rbd_proc *d)
{
	pid_t found = 0;
	DIR *dir = opendir("/proc");
	cr_assert_not_null(dir);
	struct dirent *de;
	while (!found && (de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		char *stat = read_proc(path);
		const char *close_paren = stat ? strrchr(stat, ')') : NULL;
		int ppid = 0;
		if (close_paren && sscanf(close_paren + 2, "%*c %d", &ppid) == 1 && ppid == d->pid &&
		    strstr(stat, "(rbd-worker)"))
			found = (pid_t)pid;
		free(stat);
	}
	closedir(dir);
	return found;
}

/* Processes that run a router of d's: a worker, its router process, whatever they forked. */
static size_t router_procs(const rbd_proc *d)
{
	char store[400];
	snprintf(store, sizeof(store), "%s/plugins/", d->state);
	return procs_mapping(store);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- calls ---- */

static json_t *job_of(const char *router)
{
	return json_pack("{sssssi}", "dataset", "small", "router", router, "bootstrap", 0);
}

static json_t *status_of(const rbd_proc *d, int64_t id)
{
	return call_ok(d, "Status", json_pack("{sI}", "id", (json_int_t)id));
}

static int is_state(const rbd_proc *d, int64_t id, const char *state)
{
	json_t *s = status_of(d, id);
	int ok = !strcmp(jstr(s, "state"), state);
	json_decref(s);
	return ok;
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("switching uid needs root (CI runs the tests as root)");
}

/* Team b's job of router runs to the end while something else holds a worker: its final job
 * object (owned). */
static json_t *team_b_job(const rbd_proc *d, const char *router)
{
	json_t *r = call_as(d, UID_B, UID_B, "Submit", job_of(router));
	cr_assert(json_is_null(json_object_get(r, "error")), "%s", json_dumps(r, 0));
	json_int_t id = json_integer_value(json_object_get(json_object_get(r, "parameters"), "id"));
	json_decref(r);
	json_t *w = call_as(d, UID_B, UID_B, "Wait", json_pack("{sI}", "id", id));
	json_t *job = json_incref(json_object_get(w, "parameters"));
	json_decref(w);
	return job;
}

static void with_team_b(rbd_proc *d)
{
	snprintf(d->extra, sizeof(d->extra), "[team.b]\nmembers = %d\n", UID_B);
}

/* ---- 1. a worker's process group ---- */

/* A router's child holds the worker's pipes forever; the job still ends when the worker does,
 * and the child goes with it. */
Test(runner, child_holding_the_pipes_does_not_keep_a_job_open)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"orphan", NULL});
	snprintf(d.limits, sizeof(d.limits), "wall_time = 120\n");
	rbd_proc_start(&d);
	json_t *job = wait_final(&d, submit_ok(&d, job_of("orphan")));
	cr_assert_str_eq(jstr(job, "state"), "done", "reason: %s", jstr(job, "reason"));
	json_decref(job);
	cr_assert(POLL_UNTIL(router_procs(&d) == 0, 10000), "a process of the worker's group survived");
	rbd_proc_finish(&d);
}

Test(runner, wall_clock_limit_ends_a_job_whose_child_holds_the_pipes)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"orphan", NULL});
	snprintf(d.limits, sizeof(d.limits), "wall_time = 2\n");
	rbd_proc_start(&d);
	json_t *spec = job_of("orphan");
	json_object_set_new(spec, "settings", json_pack("[s]", "mode=hang"));
	int64_t id = submit_ok(&d, spec);
	cr_assert(POLL_UNTIL(router_procs(&d) >= 2, 20000), "the worker and its child run");
	json_t *job = wait_final(&d, id);
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), "router timed out after 2 s in predict"), "%s", jstr(job, "reason"));
	json_decref(job);
	cr_assert(POLL_UNTIL(router_procs(&d) == 0, 10000), "a process of the worker's group survived");
	rbd_proc_finish(&d);
}

Test(runner, cancel_ends_a_job_whose_child_holds_the_pipes_and_others_still_run)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"orphan", "random", NULL});
	snprintf(d.limits, sizeof(d.limits), "wall_time = 600\n");
	with_team_b(&d);
	rbd_proc_start(&d);
	json_t *spec = job_of("orphan");
	json_object_set_new(spec, "settings", json_pack("[s]", "mode=hang"));
	int64_t id = submit_ok(&d, spec);
	cr_assert(POLL_UNTIL(router_procs(&d) >= 2, 20000), "the worker and its child run");
	/* Another team's job runs on the other worker meanwhile. */
	json_t *other = team_b_job(&d, "random");
	cr_assert_str_eq(jstr(other, "state"), "done", "%s", jstr(other, "reason"));
	json_decref(other);
	json_t *c = call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)id));
	cr_assert_str_eq(jstr(c, "state"), "cancelled");
	json_decref(c);
	cr_assert(POLL_UNTIL(router_procs(&d) == 0, 10000), "a process of the worker's group survived");
	rbd_proc_finish(&d);
}

/* ---- fake workers ---- */

/* rbd as the harness starts it, with extra arguments; returns when it answers. */
static void start_with(rbd_proc *d, const char *const *extra)
{
	rbd_proc_write_config(d);
	int log_fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert(log_fd >= 0);
	const char *argv[16] = {env_or("RBD", "build/rbd"), "--config", d->config, "--foreground", "-v"};
	size_t n = 5;
	for (size_t i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = fork();
	cr_assert(d->pid >= 0);
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(log_fd);
	rbw_client *c = rbd_connect_retry(d->sock, 20000);
	cr_assert_not_null(c, "rbd did not come up");
	rbw_client_close(c);
}

/* Start rbd with a worker that probes as the real one does ($REAL) and runs each job with the
 * shell text job (the job message on its standard input, messages out on its standard output):
 * what a worker gone wrong, or a future one, can send. */
static void start_with_fake_worker(rbd_proc *d, const char *job)
{
	char fake[400];
	snprintf(fake, sizeof(fake), "%s/fake-worker", d->dir);
	FILE *f = fopen(fake, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\nREAL='%s'\n[ \"$1\" = --job ] || exec \"$REAL\" \"$@\"\n%s\n",
		env_or("RBD_WORKER", "build/rbd-worker"), job);
	fclose(f);
	chmod(fake, 0755);
	start_with(d, (const char *const[]){"--worker", fake, NULL});
}

/* ---- 2. the result's size ---- */

/* For the tests that measure rbd's memory: AddressSanitizer keeps freed memory resident in its
 * quarantine (256 MiB), which would measure the sanitizer, not rbd. */
static void asan_without_quarantine(void)
{
	if (!RB_TEST_ASAN)
		return;
	const char *old = getenv("ASAN_OPTIONS");
	char opts[1024];
	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=0", old ? old : "", old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}

/* A worker that sends a 100 MB message for the job with seed 7, and runs the others for real
 * (so another team's job runs beside it; exec'd from the shell, so rbd stays its parent). */
static const char big_worker[] =
	"job=$(tr -d '\\000')\n"
	"case \"$job\" in\n"
	"*'\"seed\":7'*) printf '{\"result\": \"'; head -c 100000000 /dev/zero | tr '\\000' x; printf '\"}\\000';;\n"
	"*) printf '%s' \"$job\" >\"$0.$$\"; exec \"$REAL\" --job <\"$0.$$\";;\n"
	"esac";

Test(runner, oversized_result_fails_the_job_and_rbd_does_not_buffer_it)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	snprintf(d.limits, sizeof(d.limits), "max_result = 16M\n");
	with_team_b(&d);
	asan_without_quarantine();
	start_with_fake_worker(&d, big_worker);
	long before = status_kib(d.pid, "VmHWM:");
	json_t *spec = job_of("random");
	json_object_set_new(spec, "seed", json_integer(7));
	int64_t id = submit_ok(&d, spec);
	json_t *other = team_b_job(&d, "random");
	cr_assert_str_eq(jstr(other, "state"), "done", "%s", jstr(other, "reason"));
	json_decref(other);
	json_t *job = wait_final(&d, id);
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert_str_eq(jstr(job, "reason"), "result larger than 16777216 bytes (the limit max_result)");
	json_decref(job);
	/* The 100 MB message was never held: rbd's peak stays within max_result + 64 MiB (a
	 * sanitizer's own overhead allowed for). */
	long peak = status_kib(d.pid, "VmHWM:");
	fprintf(stderr, "rbd VmHWM: %ld KiB before, %ld KiB after a 100 MB result with max_result = 16M\n", before,
		peak);
	cr_assert_gt(peak, 0);
	cr_assert_lt((uint64_t)peak << 10, (16 * MiB + 64 * MiB) * (RB_TEST_ASAN ? 3 : 2) / 2, "rbd's peak RSS %ld KiB",
		     peak);
	cr_assert(POLL_UNTIL(router_procs(&d) == 0, 10000), "a process of the worker's group survived");
	rbd_proc_finish(&d);
}

/* With the default max_result (64 MiB): the job fails, and rbd's peak is its size before plus
 * at most the limit and 64 MiB. */
Test(runner, default_max_result_bounds_what_rbd_holds)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	asan_without_quarantine();
	start_with_fake_worker(&d, big_worker);
	long before = status_kib(d.pid, "VmHWM:");
	json_t *spec = job_of("random");
	json_object_set_new(spec, "seed", json_integer(7));
	json_t *job = wait_final(&d, submit_ok(&d, spec));
	cr_assert_str_eq(jstr(job, "reason"), "result larger than 67108864 bytes (the limit max_result)");
	json_decref(job);
	long peak = status_kib(d.pid, "VmHWM:");
	fprintf(stderr, "rbd VmHWM: %ld KiB before, %ld KiB after a 100 MB result with the default max_result\n",
		before, peak);
	cr_assert_gt(peak, 0);
	cr_assert_lt((uint64_t)peak << 10, (64 * MiB + 64 * MiB) * (RB_TEST_ASAN ? 3 : 2) / 2, "rbd's peak RSS %ld KiB",
		     peak);
	rbd_proc_finish(&d);
}

/* ---- 3. the result is validated ---- */

Test(runner, result_that_does_not_validate_fails_the_job)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	start_with_fake_worker(&d, "cat >/dev/null\nprintf '{\"result\":{\"schema\":\"not-a-result\",\"tasks\":1}}\\000'");
	json_t *job = wait_final(&d, submit_ok(&d, job_of("random")));
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), "the worker's result is invalid: job "), "%s", jstr(job, "reason"));
	cr_assert(strstr(jstr(job, "reason"), "not a routerbench result"), "%s", jstr(job, "reason"));
	json_decref(job);
	rbd_proc_finish(&d);
}

/* ---- 4. the router's own output ---- */

/* The stored output of job id: its length, and whether it ends with the marker. */
static char *stored_text(const rbd_proc *d, int64_t id);

/* The length of a job's stored router output; *marked: it ends with the truncation marker. */
static long stored_output(const rbd_proc *d, int64_t id, int *marked)
{
	char *text = stored_text(d, id);
	long len = (long)strlen(text);
	const char *marker = "[output truncated after 1 MiB]\n";
	*marked = len > 40 && !strcmp(text + len - strlen(marker), marker);
	free(text);
	return len;
}

Test(runner, router_output_is_kept_per_job_and_bounded)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"noisy", NULL});
	asan_without_quarantine();
	rbd_proc_start(&d);
	long log_before = file_size(d.log);
	json_t *job = wait_final(&d, submit_ok(&d, job_of("noisy")));
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	int64_t id = json_integer_value(json_object_get(job, "id"));
	json_decref(job);
	int marked = 0;
	long len = stored_output(&d, id, &marked);
	cr_assert(marked, "the stored output ends with the truncation marker");
	cr_assert_leq(len, (long)(MiB + strlen("\n[output truncated after 1 MiB]\n")), "stored %ld bytes", len);
	cr_assert_geq(len, (long)MiB);
	long grew = file_size(d.log) - log_before;
	long peak = status_kib(d.pid, "VmHWM:");
	fprintf(stderr, "1 GB on a router's stderr: stored %ld bytes, rbd's log grew %ld bytes, rbd VmHWM %ld KiB\n",
		len, grew, peak);
	cr_assert_lt(grew, 4096, "rbd's log grew by %ld bytes", grew);
	cr_assert_lt((uint64_t)peak << 10, 64 * MiB, "rbd's peak RSS %ld KiB", peak);
	/* The log's lines about the job name it and its team. */
	char *log = slurp_file(d.log);
	char needle[64];
	snprintf(needle, sizeof(needle), "job %lld (team alpha) done", (long long)id);
	cr_assert(log && strstr(log, needle), "%s", log);
	free(log);
	rbd_proc_finish(&d);
}

/* ---- 5. quarantine ---- */

static void submit_and_fail(const rbd_proc *d, const char *router, const char *reason)
{
	json_t *job = wait_final(d, submit_ok(d, job_of(router)));
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), reason), "%s", jstr(job, "reason"));
	json_decref(job);
}

static const char *listed_state(const rbd_proc *d, const char *name, char *buf, size_t size)
{
	json_t *list = call_ok(d, "ListRouters", NULL);
	json_t *r;
	size_t i;
	snprintf(buf, size, "(not listed)");
	json_array_foreach(json_object_get(list, "routers"), i, r)
		if (!strcmp(jstr(r, "name"), name))
			snprintf(buf, size, "%s", jstr(r, "state"));
	json_decref(list);
	return buf;
}

/* The worker itself aborting in a router phase (the host's failed allocation, as a job with huge
 * parameters once provoked) is no fault of the built-in router: no quarantine, for anyone. A
 * crash report of a fault signal in a router phase does count (the rule for workers that run
 * the router in their own process). */
Test(runner, host_abort_does_not_count_toward_quarantine)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "quarantine_after = 1\n");
	start_with_fake_worker(&d, "job=$(tr -d '\\000')\n"
				   "printf '{\"phase\":\"predict\",\"task\":\"t\",\"fraction\":0.5}\\000'\n"
				   "case \"$job\" in *'\"seed\":11'*) sig=11;; *) sig=6;; esac\n"
				   "printf '{\"crash\":{\"signal\":%d,\"vm_bytes\":4096}}\\000' $sig\n"
				   "kill -$sig $$");
	for (int i = 0; i < 3; i++)
		submit_and_fail(&d, "random", "router crashed: SIGABRT in predict (task t)");
	char st[32];
	cr_assert_str_eq(listed_state(&d, "random", st, sizeof(st)), "ok");
	json_t *spec = job_of("random");
	json_object_set_new(spec, "seed", json_integer(11));
	json_t *job = wait_final(&d, submit_ok(&d, spec));
	cr_assert(strstr(jstr(job, "reason"), "router crashed: SIGSEGV in predict (task t)"), "%s", jstr(job, "reason"));
	json_decref(job);
	cr_assert_str_eq(listed_state(&d, "random", st, sizeof(st)), "quarantined");
	rbd_proc_finish(&d);
}

Test(runner, outside_kill9_of_a_worker_does_not_count_toward_quarantine)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "quarantine_after = 1\n");
	rbd_proc_start(&d);
	for (int i = 0; i < 2; i++) {
		int64_t id = submit_ok(&d, job_of("hang"));
		pid_t w = 0;
		cr_assert(POLL_UNTIL((w = worker_of(&d)) > 0 && is_state(&d, id, "running"), 20000));
		cr_assert_eq(kill(w, SIGKILL), 0);
		json_t *job = wait_final(&d, id);
		cr_assert_str_eq(jstr(job, "state"), "failed");
		cr_assert(strstr(jstr(job, "reason"), "SIGKILL"), "%s", jstr(job, "reason"));
		json_decref(job);
	}
	char st[32];
	cr_assert_str_eq(listed_state(&d, "hang", st, sizeof(st)), "ok");
	rbd_proc_finish(&d);
}

Test(runner, crashing_router_is_quarantined_for_its_team_only_and_across_restarts)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"crash", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "quarantine_after = 2\n");
	with_team_b(&d);
	rbd_proc_start(&d);
	for (int i = 0; i < 2; i++)
		submit_and_fail(&d, "crash", "router crashed: SIGSEGV in predict");
	char st[32];
	for (int round = 0; round < 2; round++) {
		/* alpha's third job is refused; b's is accepted and runs (and crashes on its own). */
		cr_assert_str_eq(listed_state(&d, "crash", st, sizeof(st)), "quarantined", "round %d", round);
		rbw_reply rep = call(&d, "Submit", job_of("crash"));
		cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
		cr_assert(strstr(rbw_reply_message(&rep), "quarantined after 2 crashes of team alpha's jobs"), "%s",
			  rbw_reply_message(&rep));
		rbw_reply_clear(&rep);
		json_t *other = team_b_job(&d, "crash");
		cr_assert_str_eq(jstr(other, "state"), "failed");
		json_decref(other);
		/* The count is kept in the job store: a restart does not forget it. */
		cr_assert_eq(rbd_proc_stop(&d, 30), 0);
		rbd_proc_start(&d);
	}
	rbd_proc_finish(&d);
}

/* ---- 7, 8. the job store at start, retries ---- */

static void db_exec(const rbd_proc *d, const char *sql_text)
{
	char db_path[400];
	snprintf(db_path, sizeof(db_path), "%s/jobs.db", d->state);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	char *err = NULL;
	cr_assert_eq(sqlite3_exec(db, sql_text, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql_text, err);
	sqlite3_close(db);
}

/* Starts rbd expecting it to refuse: its exit status; its log in d->log. */
static int start_refused(rbd_proc *d)
{
	int log_fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert(log_fd >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		execl(env_or("RBD", "build/rbd"), "rbd", "--config", d->config, "--foreground", (char *)NULL);
		_exit(127);
	}
	close(log_fd);
	int st = 0;
	for (int ms = 0; ms < 30000; ms += 20) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

Test(runner, damaged_job_database_is_refused_at_start)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	rbd_proc_start(&d);
	/* Enough rows for the table to span several pages. */
	for (int i = 0; i < 60; i++) {
		json_t *job = job_of("random");
		json_object_set_new(job, "tasks", json_pack("[s]", "task-that-pads-the-row-with-a-fairly-long-name-"
								   "so-the-table-takes-up-more-than-a-couple-pages"));
		rbw_reply r = call(&d, "Submit", job);
		rbw_reply_clear(&r);
	}
	cr_assert_eq(rbd_proc_stop(&d, 60), 0);
	char db_path[400];
	snprintf(db_path, sizeof(db_path), "%s/jobs.db", d.state);
	long size = file_size(db_path);
	cr_assert_geq(size, 4 * 4096, "jobs.db has %ld bytes", size);
	/* Overwrite pages in the middle. */
	int fd = open(db_path, O_WRONLY);
	cr_assert(fd >= 0);
	char junk[4096];
	memset(junk, 0xA5, sizeof(junk));
	for (long off = 4096; off < size - 4096; off += 2 * 4096)
		cr_assert_eq(pwrite(fd, junk, sizeof(junk), off), (ssize_t)sizeof(junk));
	close(fd);
	long log_before = file_size(d.log);
	cr_assert_neq(start_refused(&d), 0, "rbd refuses to start");
	char *log = slurp_file(d.log);
	cr_assert(strstr(log + log_before, db_path) && strstr(log + log_before, "damaged"), "%s", log + log_before);
	free(log);
	rbd_proc_cleanup(&d);
}

Test(runner, damaged_rows_fail_their_job_and_retries_are_capped)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", "random", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\n");
	rbd_proc_start(&d);
	int64_t done = submit_ok(&d, job_of("random"));
	json_t *job = wait_final(&d, done);
	cr_assert_str_eq(jstr(job, "state"), "done");
	json_decref(job);
	int64_t hung = submit_ok(&d, job_of("hang"));
	int64_t damaged = submit_ok(&d, job_of("random"));
	int64_t retried = submit_ok(&d, job_of("random"));
	cr_assert(POLL_UNTIL(is_state(&d, hung, "running"), 20000));
	rbd_proc_kill9(&d);
	char sql_text[1024];
	/* The running job was interrupted as many times as max_attempts allows; another was
	 * interrupted once; one row's parameters and one stored result are damaged. */
	snprintf(sql_text, sizeof(sql_text),
		 "UPDATE jobs SET attempts = 3 WHERE id = %lld; UPDATE jobs SET attempts = 1 WHERE id = %lld;"
		 "UPDATE jobs SET spec = '{\"dataset\": \"small\", ' WHERE id = %lld;"
		 "DROP TRIGGER jobs_final_is_final; UPDATE jobs SET result = '{\"schema\": ' WHERE id = %lld;",
		 (long long)hung, (long long)retried, (long long)damaged, (long long)done);
	db_exec(&d, sql_text);
	rbd_proc_start(&d);
	job = wait_final(&d, hung);
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), "interrupted 3 times"), "%s", jstr(job, "reason"));
	json_decref(job);
	job = wait_final(&d, damaged);
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), "stored job is damaged"), "%s", jstr(job, "reason"));
	json_decref(job);
	job = wait_final(&d, retried);
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	cr_assert_eq(json_integer_value(json_object_get(job, "attempts")), 2);
	json_decref(job);
	rbw_reply rep = call(&d, "Result", json_pack("{sI}", "id", (json_int_t)done));
	cr_assert_not_null(rep.error, "a damaged result is not served");
	cr_assert(strstr(rbw_reply_message(&rep), "stored job is damaged"), "%s", rbw_reply_message(&rep));
	rbw_reply_clear(&rep);
	char *log = slurp_file(d.log);
	char needle[64];
	snprintf(needle, sizeof(needle), "job %lld (team alpha): attempt 2 of 3 in 1 s", (long long)retried);
	cr_assert(log && strstr(log, needle), "the retry waited: %s", log);
	free(log);
	/* A new job still runs. */
	job = wait_final(&d, submit_ok(&d, job_of("random")));
	cr_assert_str_eq(jstr(job, "state"), "done");
	json_decref(job);
	rbd_proc_finish(&d);
}

/* ---- 6. work bounded at Submit ---- */

Test(runner, submit_refuses_work_the_host_cannot_allocate)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	rbd_proc_start(&d);
	json_t *job = job_of("random");
	json_t *l = json_array();
	for (int i = 0; i < 100000; i++)
		json_array_append_new(l, json_integer(i % 10));
	json_object_set_new(job, "lambdas", l);
	rbw_reply rep = call(&d, "Submit", job);
	cr_assert_str_eq(rep.error, RBW_ERR_INVALID_PARAMETER);
	cr_assert_str_eq(rbw_reply_message(&rep), "job member 'lambdas': 100000 values; at most 4096 are allowed");
	rbw_reply_clear(&rep);
	rbd_proc_finish(&d);
}

/* ---- hostile routers under a real rbd with two teams ---- */

/* The result of a finished job (owned). */
static json_t *result_of_job(const rbd_proc *d, int64_t id)
{
	json_t *r = call_ok(d, "Result", json_pack("{sI}", "id", (json_int_t)id));
	json_t *doc = json_incref(json_object_get(r, "result"));
	json_decref(r);
	cr_assert_not_null(doc, "no result for job %lld", (long long)id);
	return doc;
}

/* Stored router output of a job (owned text). */
static char *stored_text(const rbd_proc *d, int64_t id)
{
	char db_path[400];
	snprintf(db_path, sizeof(db_path), "%s/jobs.db", d->state);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT output FROM jobs WHERE id = ?1", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_int64(q, 1, id);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	const char *text = (const char *)sqlite3_column_text(q, 0);
	char *out = strdup(text ? text : "");
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

/* Team b's routers try rbd's state directory and jobs.db and forge their result; team alpha's
 * job runs beside them. Every attempt is refused, the forged document is never stored, and
 * alpha's job and the store are untouched. */
Test(runner, hostile_routers_of_one_team_reach_nothing_of_rbd_or_the_other_team, .timeout = 240)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hostile_files", "hostile_forge", "random", NULL});
	with_team_b(&d);
	rbd_proc_start(&d);
	int64_t alpha = submit_ok(&d, job_of("random"));
	json_t *spec = job_of("hostile_files");
	char setting[600];
	snprintf(setting, sizeof(setting), "path=%s/jobs.db", d.state);
	json_object_set_new(spec, "settings", json_pack("[s]", setting));
	json_t *files = call_as(&d, UID_B, UID_B, "Submit", spec);
	cr_assert(json_is_null(json_object_get(files, "error")), "%s", json_dumps(files, 0));
	int64_t files_id = json_integer_value(json_object_get(json_object_get(files, "parameters"), "id"));
	json_decref(files);
	json_t *forge = team_b_job(&d, "hostile_forge");
	cr_assert_str_eq(jstr(forge, "state"), "done", "%s", jstr(forge, "reason"));
	int64_t forge_id = json_integer_value(json_object_get(forge, "id"));
	json_decref(forge);
	json_t *job = wait_final(&d, files_id);
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	json_decref(job);
	job = wait_final(&d, alpha);
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	json_decref(job);

	char *out = stored_text(&d, files_id);
	cr_assert(strstr(out, "hostile_files: write denied; list folder denied; read /etc/passwd denied"), "%s", out);
	free(out);
	json_t *doc = result_of_job(&d, forge_id);
	cr_assert_null(json_object_get(doc, "forged"), "the forged result was stored");
	cr_assert_str_eq(jstr(json_object_get(doc, "router"), "name"), "hostile_forge");
	json_decref(doc);
	/* The store still answers for alpha, intact. */
	doc = result_of_job(&d, alpha);
	cr_assert_str_eq(jstr(json_object_get(doc, "router"), "name"), "random");
	json_decref(doc);
	cr_assert(POLL_UNTIL(router_procs(&d) == 0, 10000), "a router process survived its job");
	rbd_proc_finish(&d);
}

/* Team b's job of router with settings, run to its end; its id. */
static int64_t team_b_run(const rbd_proc *d, const char *router, json_t *settings)
{
	json_t *spec = job_of(router);
	json_object_set_new(spec, "settings", settings);
	json_t *r = call_as(d, UID_B, UID_B, "Submit", spec);
	cr_assert(json_is_null(json_object_get(r, "error")), "%s", json_dumps(r, 0));
	json_int_t id = json_integer_value(json_object_get(json_object_get(r, "parameters"), "id"));
	json_decref(r);
	json_t *job = wait_final(d, id);
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	json_decref(job);
	return id;
}

/* While team alpha's job runs, team b's router goes after alpha's worker (kill, ptrace, pidfd)
 * and searches its own memory, descriptor 3 and the dataset file for the dataset: all in vain,
 * and alpha's worker lives on. */
Test(runner, hostile_router_cannot_touch_another_teams_worker_or_find_the_dataset, .timeout = 240)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", "hostile_kill", "hostile_peek", NULL});
	snprintf(d.limits, sizeof(d.limits), "wall_time = 600\n");
	with_team_b(&d);
	rbd_proc_start(&d);
	int64_t alpha = submit_ok(&d, job_of("hang"));
	cr_assert(POLL_UNTIL(worker_of(&d) != 0 && is_state(&d, alpha, "running"), 20000), "alpha's job runs");
	pid_t victim = worker_of(&d);
	char setting[64];
	snprintf(setting, sizeof(setting), "victim=%d", (int)victim);
	int64_t kill_id = team_b_run(&d, "hostile_kill", json_pack("[s]", setting));
	char *out = stored_text(&d, kill_id);
	cr_assert(strstr(out, "hostile_kill: kill denied; ptrace denied; pidfd_open denied"), "%s", out);
	free(out);
	cr_assert_eq(kill(victim, 0), 0, "alpha's worker %d died", (int)victim);
	cr_assert(is_state(&d, alpha, "running"));

	/* The dataset's first bytes, as the peeking router is told to look for them. */
	unsigned char head[88];
	FILE *f = fopen(d.data, "rb");
	cr_assert(f && fread(head, 1, sizeof(head), f) == sizeof(head));
	fclose(f);
	char path[600], needle[200] = "needle=";
	snprintf(path, sizeof(path), "path=%s", d.data);
	for (size_t k = 0; k < sizeof(head); k++)
		snprintf(needle + 7 + 2 * k, 3, "%02x", head[k]);
	int64_t peek_id = team_b_run(&d, "hostile_peek", json_pack("[ss]", path, needle));
	out = stored_text(&d, peek_id);
	cr_assert(strstr(out, "hits); fd 3 -") && strstr(out, " 0 hits)") && strstr(out, "dataset file denied"), "%s", out);
	free(out);

	json_t *c = call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)alpha));
	cr_assert_str_eq(jstr(c, "state"), "cancelled");
	json_decref(c);
	rbd_proc_finish(&d);
}
