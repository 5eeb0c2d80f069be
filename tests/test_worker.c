/* test_worker.c — rbd-worker as rbd drives it (job on a pipe, sealed dataset on fd 3, messages
 * back), its probe mode, crash and limit reporting, and the shared-memory datasets (shmds). */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "helpers.h"
#include "daemon/shm_datasets.h"

#define MiB ((uint64_t)1 << 20)

static const char *worker_path(void)
{
	return env_or("RBD_WORKER", "build/rbd-worker");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -r dir: each test leaves /tmp as it found it. */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A small generated dataset, DIR/demo.rbds (DIR fresh per call, so tests share nothing). */
static char *make_dataset(char *dir_out, size_t dir_len)
{
	snprintf(dir_out, dir_len, "%s", make_temp_dir());
	static char path[512];
	snprintf(path, sizeof(path), "%s/demo.rbds", dir_out);
	gen_synthetic(path, "600", "4", "2", NULL, NULL);
	return path;
}

static rbd_shmds *load_shmds(const char *name, const char *file, const char *scratch)
{
	rbd_dataset_conf conf = {.name = (char *)name, .file = (char *)file};
	rbd_shmds *d = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_shmds_load(&conf, 7, scratch, &d, &e), 0, "%s", e.msg);
	return d;
}

/* Start the worker with args, stdin a pipe fed job_text (then closed), ds_fd (or -1) as fd 3 and
 * stdout a pipe whose read end goes to *out_fd. No Criterion assertions: an intermediate process
 * uses it too. Returns the pid or -1. */
static pid_t start_worker(const char *mode, const char *arg, const char *job_text, int ds_fd, int *out_fd)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* fd 3 first: the pipes may sit on low numbers, and dup2 onto 3 must not clobber them. */
		int ds = ds_fd >= 0 ? fcntl(ds_fd, F_DUPFD_CLOEXEC, 10) : -1;
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(120);
		if (ds >= 0) {
			if (dup2(ds, 3) < 0)
				_exit(121);
		} else {
			close(3);
		}
		char *argv[] = {(char *)worker_path(), (char *)mode, (char *)arg, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	size_t len = job_text ? strlen(job_text) : 0, put = 0;
	while (put < len) {
		ssize_t w = write(in[1], job_text + put, len - put);
		if (w <= 0)
			break;
		put += (size_t)w;
	}
	close(in[1]);
	*out_fd = out[0];
	return pid;
}

typedef struct worker_run {
	int status;    /* wait status */
	char *raw;     /* everything written to stdout (owned) */
	size_t len;
	json_t **msgs; /* the NUL-terminated messages, parsed */
	size_t n_msgs;
	double seconds; /* from start to exit */
} worker_run;

static void worker_run_free(worker_run *w)
{
	for (size_t k = 0; k < w->n_msgs; k++)
		json_decref(w->msgs[k]);
	free(w->msgs);
	free(w->raw);
}

/* Read fd to EOF, at most timeout_s seconds. Owned result. */
static char *read_until_eof(int fd, int timeout_s, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	double deadline = rbe_now() + timeout_s;
	for (;;) {
		int left_ms = (int)((deadline - rbe_now()) * 1000);
		if (left_ms <= 0)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, left_ms) <= 0)
			continue;
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Run a job to its end (killing the worker after timeout_s) and collect its messages. */
static worker_run run_worker(const char *job_text, int ds_fd, int timeout_s)
{
	int out_fd;
	double t0 = rbe_now();
	pid_t pid = start_worker("--job", NULL, job_text, ds_fd, &out_fd);
	cr_assert_gt(pid, 0, "cannot start %s", worker_path());
	worker_run w = {0};
	w.raw = read_until_eof(out_fd, timeout_s, &w.len);
	close(out_fd);
	int st = 0;
	for (int waited_ms = 0; waitpid(pid, &st, WNOHANG) == 0; waited_ms += 20) {
		if (waited_ms > 5000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			cr_assert_fail("rbd-worker did not finish in time");
		}
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	w.status = st;
	w.seconds = rbe_now() - t0;
	cr_assert(w.len == 0 || w.raw[w.len - 1] == '\0', "the last message is not NUL-terminated: %s", w.raw);
	for (size_t off = 0; off < w.len;) {
		size_t n = strlen(w.raw + off);
		json_error_t jerr;
		json_t *m = json_loadb(w.raw + off, n, 0, &jerr);
		cr_assert_not_null(m, "message is not JSON (%s): %s", jerr.text, w.raw + off);
		cr_assert(json_is_object(m));
		w.msgs = realloc(w.msgs, (w.n_msgs + 1) * sizeof(json_t *));
		w.msgs[w.n_msgs++] = m;
		off += n + 1;
	}
	return w;
}

/* The job message rbd would send; settings (NULL-terminated) and limits (NULL: none) optional. */
static char *job_text(const char *plugin, const char *const *settings, json_t *limits)
{
	json_t *job = json_pack("{ssss}", "dataset", "demo", "router", "x");
	if (settings) {
		json_t *s = json_array();
		for (size_t k = 0; settings[k]; k++)
			json_array_append_new(s, json_string(settings[k]));
		json_object_set_new(job, "settings", s);
	}
	json_t *msg = json_pack("{sssssO}", "dataset_name", "demo", "plugin", plugin, "job", job);
	json_decref(job);
	if (limits)
		json_object_set_new(msg, "limits", limits);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}

static const char *str_member(json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

/* The message with key, counting from the end (0: last), or NULL. */
static json_t *find_last(const worker_run *w, const char *key)
{
	for (size_t k = w->n_msgs; k-- > 0;)
		if (json_object_get(w->msgs[k], key))
			return w->msgs[k];
	return NULL;
}

static char *dump_without_timing(json_t *result)
{
	json_t *copy = json_deep_copy(result);
	json_object_del(copy, "timing");
	char *s = json_dumps(copy, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	json_decref(copy);
	return s;
}

/* Run a job on a fresh generated dataset, which is gone again when this returns. */
static worker_run run_on_demo(const char *job, int timeout_s)
{
	char dir[256];
	rbd_shmds *d = load_shmds("demo", make_dataset(dir, sizeof(dir)), dir);
	worker_run w = run_worker(job, d->fd, timeout_s);
	rbd_shmds_unref(d);
	remove_tree(dir);
	return w;
}

/* Run the plugin's job (settings and limits as job_text takes them) on a fresh dataset. */
static worker_run run_plugin(const char *plugin, const char *const *settings, json_t *limits, int timeout_s)
{
	char *job = job_text(plugin, settings, limits);
	worker_run w = run_on_demo(job, timeout_s);
	free(job);
	return w;
}

Test(worker, random_job_matches_rbctl_run_byte_for_byte)
{
	char dir[256];
	const char *path = make_dataset(dir, sizeof(dir));
	rbd_shmds *d = load_shmds("demo", path, dir);
	char *job = job_text(builtin_plugin("random"), NULL, json_pack("{sisi}", "threads", 2, "address_space", 0));
	worker_run w = run_worker(job, d->fd, 120);
	cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0, "status 0x%x", w.status);
	json_t *last = w.msgs[w.n_msgs - 1];
	cr_assert_not_null(json_object_get(last, "result"), "last message: %s", w.raw + w.len - 200);
	cr_assert_eq(json_object_size(last), 1);

	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "random", "--json", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *expected = json_loads(r.out, 0, NULL);
	cr_assert_not_null(expected);
	/* rbctl's own printing survives a load and a dump unchanged: what rbd stores and rbctl
	 * prints again is what rbctl run prints. */
	char *again = json_dumps(expected, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	cr_assert_eq(strlen(r.out), strlen(again) + 1);
	cr_assert_eq(strncmp(r.out, again, strlen(again)), 0, "rbctl's JSON does not round-trip");
	char *want = dump_without_timing(expected), *got = dump_without_timing(json_object_get(last, "result"));
	cr_assert_str_eq(got, want, "the worker's result differs from rbctl run's");
	/* And literally: the worker's compact message, loaded (as `last` was) and printed as rbctl
	 * prints, with rbctl's timing figures in place of the worker's, is rbctl run's output. */
	json_t *res = json_deep_copy(json_object_get(last, "result"));
	cr_assert_not_null(json_object_get(res, "timing"), "the worker's result has timing too");
	json_object_set(res, "timing", json_object_get(expected, "timing"));
	char *printed = json_dumps(res, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	cr_assert_eq(strlen(r.out), strlen(printed) + 1);
	cr_assert_eq(strncmp(r.out, printed, strlen(printed)), 0, "rbd's printing of the result differs from rbctl run's");
	free(printed);
	json_decref(res);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(expected, "dataset"), "name")), "demo");
	free(again);
	free(want);
	free(got);
	json_decref(expected);
	cmd_free(&r);
	worker_run_free(&w);
	free(job);
	rbd_shmds_unref(d);
	remove_tree(dir);
}

Test(worker, progress_names_each_phase_before_the_router_runs)
{
	/* A CPU budget above the job's own cap (1024 threads) is clamped, not refused. */
	worker_run w = run_plugin(fixture_plugin("good_predictive"), NULL, json_pack("{si}", "threads", 5000), 120);
	cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0, "status 0x%x", w.status);
	cr_assert_not_null(json_object_get(w.msgs[w.n_msgs - 1], "result"));
	long first_create = -1, first_predict = -1;
	double last_fraction = 0;
	char create_task[64] = "";
	for (size_t k = 0; k + 1 < w.n_msgs; k++) {
		json_t *m = w.msgs[k];
		const char *phase = str_member(m, "phase"), *task = str_member(m, "task");
		cr_assert(phase && task && json_is_number(json_object_get(m, "fraction")), "bad progress message");
		cr_assert_eq(json_object_size(m), 3);
		double f = json_number_value(json_object_get(m, "fraction"));
		cr_assert(f >= last_fraction && f <= 1.0, "fraction %g after %g", f, last_fraction);
		last_fraction = f;
		if (!strcmp(phase, "create")) {
			snprintf(create_task, sizeof(create_task), "%s", task);
			if (first_create < 0)
				first_create = (long)k;
		}
		if (!strcmp(phase, "predict")) {
			cr_assert_str_eq(task, create_task, "predict for a task not created");
			if (first_predict < 0)
				first_predict = (long)k;
		}
	}
	cr_assert(first_create >= 0 && first_predict > first_create, "create %ld, predict %ld", first_create,
		  first_predict);
	cr_assert_float_eq(last_fraction, 1.0, 1e-12);
	cr_assert_str_eq(str_member(w.msgs[w.n_msgs - 2], "phase"), "done");
	worker_run_free(&w);
}

/* The router process failed: the evaluator answers with an error naming what it did, where, and
 * that the router is to blame; no result, and the worker itself exits 0. */
static void expect_router_fault(const worker_run *w, const char *needle)
{
	cr_assert(WIFEXITED(w->status) && WEXITSTATUS(w->status) == 0, "status 0x%x: %s", w->status, w->raw);
	json_t *last = w->msgs[w->n_msgs - 1];
	const char *msg = str_member(last, "error");
	cr_assert(msg && strstr(msg, needle), "error lacks '%s': %s", needle, w->raw);
	cr_assert(json_is_true(json_object_get(last, "router_fault")), "no router_fault: %s", w->raw);
	cr_assert_null(find_last(w, "result"));
	cr_assert_null(find_last(w, "crash"), "a router crash is not the worker's crash");
}

static void expect_segv_in(const char *setting, const char *phase)
{
	worker_run w = run_plugin(fixture_plugin("crash"), setting ? (const char *[]){setting, NULL} : NULL, NULL, 60);
	char needle[64];
	snprintf(needle, sizeof(needle), "router crashed: SIGSEGV in %s (task ", phase);
	expect_router_fault(&w, needle);
	worker_run_free(&w);
}

Test(worker, crash_in_predict_is_reported_and_kills_by_sigsegv)
{
	expect_segv_in(NULL, "predict");
}

Test(worker, crash_in_create_is_attributed_to_create)
{
	expect_segv_in("where=create", "create");
}

Test(worker, router_calling_exit_leaves_status_3_and_no_answer)
{
	worker_run w = run_plugin(fixture_plugin("exit_router"), NULL, NULL, 60);
	expect_router_fault(&w, "router exited with status 3 in predict (task ");
	cr_assert_str_eq(str_member(w.msgs[w.n_msgs - 2], "phase"), "predict");
	worker_run_free(&w);
}

Test(worker, nan_prediction_is_an_error_naming_nan)
{
	worker_run w = run_plugin(fixture_plugin("nan_router"), NULL, NULL, 60);
	cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0, "status 0x%x", w.status);
	const char *msg = str_member(w.msgs[w.n_msgs - 1], "error");
	cr_assert_not_null(msg, "no error message: %s", w.raw);
	cr_assert(strstr(msg, "router 'nan_router'") && strstr(msg, "predict returned NaN") && strstr(msg, "for prompt "),
		  "%s", msg);
	cr_assert(json_is_true(json_object_get(w.msgs[w.n_msgs - 1], "router_fault")), "%s", w.raw);
	cr_assert_null(find_last(&w, "result"));
	worker_run_free(&w);
}

Test(worker, memory_hog_dies_at_the_address_space_limit)
{
	uint64_t limit = 512 * MiB;
	json_t *limits = json_pack("{sI}", "address_space", (json_int_t)limit);
	worker_run w = run_plugin(fixture_plugin("hog"), NULL, limits, 60);
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer reserves terabytes of shadow address space at start: no process of an
	 * ASan build lives under RLIMIT_AS, and the worker says so rather than dying obscurely. */
	cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0, "status 0x%x", w.status);
	const char *msg = str_member(w.msgs[w.n_msgs - 1], "error");
	cr_assert(msg && strstr(msg, "AddressSanitizer"), "%s", w.raw);
	worker_run_free(&w);
	cr_skip_test("RLIMIT_AS cannot be tested under AddressSanitizer");
#endif
	/* The limit holds the router process; the evaluator sees it die near the limit. */
	expect_router_fault(&w, "router exceeded the memory limit (512 MiB) in predict (task ");
	worker_run_free(&w);
}

Test(worker, spinning_router_is_stopped_by_the_cpu_limit)
{
	worker_run w = run_plugin(fixture_plugin("hang"), NULL, json_pack("{si}", "cpu_seconds", 1), 60);
	cr_assert_lt(w.seconds, 30.0);
	/* SIGXCPU, or the kernel's SIGKILL a second later when the router blocks it. */
	const char *msg = str_member(w.msgs[w.n_msgs - 1], "error");
	cr_assert(msg && (strstr(msg, "router exceeded the CPU time limit (1 s) in predict (task ") ||
			  strstr(msg, "router crashed: SIGKILL in predict (task ")),
		  "%s", w.raw);
	expect_router_fault(&w, "in predict (task ");
	worker_run_free(&w);
}

static void expect_job_error(const char *text, int with_dataset, const char *needle)
{
	worker_run w = with_dataset ? run_on_demo(text, 60) : run_worker(text, -1, 60);
	cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0, "status 0x%x", w.status);
	cr_assert_eq(w.n_msgs, 1, "%s", w.raw);
	const char *msg = str_member(w.msgs[0], "error");
	cr_assert(msg && strstr(msg, needle), "error lacks '%s': %s", needle, w.raw);
	worker_run_free(&w);
}

Test(worker, bad_job_messages_are_answered_with_an_error)
{
	expect_job_error("{not json", 0, "not JSON");
	expect_job_error("", 0, "not JSON");
	expect_job_error("[1]", 0, "must be a JSON object");
	expect_job_error("{\"dataset_name\":\"demo\",\"plugin\":\"x.so\",\"job\":{},\"extra\":1}", 0,
			 "unknown member 'extra'");
	expect_job_error("{\"dataset_name\":\"demo\",\"plugin\":\"x.so\",\"job\":{},\"limits\":{\"cpu_seconds\":-1}}", 0,
			 "limits.cpu_seconds");
	expect_job_error("{\"dataset_name\":\"demo\",\"plugin\":\"x.so\",\"job\":{}}", 0, "fd 3");
	char *job = job_text(fixture_plugin("good_predictive"), (const char *[]){"k=1000", NULL}, NULL);
	expect_job_error(job, 1, "parameter 'k': 1000 is out of range");
	free(job);
	job = job_text(fixture_plugin("missing_symbol"), NULL, NULL);
	expect_job_error(job, 1, "undefined symbol");
	free(job);
}

/* rbd-worker's exit status with up to two arguments (NULL: fewer), its stdout and stderr going
 * to out_path and err_path. */
static int worker_cli(const char *out_path, const char *err_path, int timeout_s, const char *arg1, const char *arg2)
{
	char *argv[] = {(char *)worker_path(), (char *)arg1, (char *)arg2, NULL};
	return spawn_wait(argv, out_path, err_path, timeout_s);
}

/* Probe answer for a plugin (parsed), after checking the exit status. */
static json_t *probe(const char *plugin)
{
	char out_path[] = "/tmp/rbtest.probe.XXXXXX", err_path[] = "/tmp/rbtest.perr.XXXXXX";
	close(mkstemp(out_path));
	close(mkstemp(err_path));
	int status = worker_cli(out_path, err_path, 30, "--probe", plugin);
	char *out = slurp_file(out_path);
	unlink(out_path);
	unlink(err_path);
	cr_assert_eq(status, 0, "probe %s: status %d", plugin, status);
	json_error_t jerr;
	json_t *answer = json_loads(out, 0, &jerr);
	cr_assert_not_null(answer, "probe answer is not JSON (%s): %s", jerr.text, out);
	free(out);
	return answer;
}

static void expect_probe_refused(const char *plugin, const char *needle)
{
	json_t *a = probe(plugin);
	cr_assert(json_is_false(json_object_get(a, "ok")));
	const char *reason = str_member(a, "reason");
	cr_assert(reason && strstr(reason, needle), "%s: reason lacks '%s': %s", plugin, needle, reason);
	cr_assert_eq(json_object_size(a), 2);
	json_decref(a);
}

Test(worker, probe_describes_a_good_plugin_and_refuses_bad_ones)
{
	json_t *a = probe(fixture_plugin("good_predictive"));
	cr_assert(json_is_true(json_object_get(a, "ok")));
	json_t *r = json_object_get(a, "router");
	cr_assert_str_eq(str_member(r, "name"), "good_predictive");
	cr_assert_str_eq(str_member(r, "version"), "test");
	cr_assert_str_eq(str_member(r, "kind"), "predictive");
	cr_assert_str_eq(str_member(r, "summary"), "fixture: predicts train mean quality");
	json_t *params = json_object_get(r, "params");
	cr_assert_eq(json_array_size(params), 2);
	json_t *poison = json_array_get(params, 0), *k = json_array_get(params, 1);
	cr_assert_str_eq(str_member(poison, "name"), "poison");
	cr_assert_str_eq(str_member(poison, "type"), "bool");
	cr_assert_str_eq(str_member(poison, "default"), "false");
	cr_assert_str_eq(str_member(k, "type"), "int");
	cr_assert_str_eq(str_member(k, "default"), "1");
	cr_assert(json_is_number(json_object_get(k, "min")) && json_number_value(json_object_get(k, "min")) == 1);
	cr_assert(json_is_number(json_object_get(k, "max")) && json_number_value(json_object_get(k, "max")) == 100);
	cr_assert_str_eq(str_member(k, "help"), "unused, range-checked");
	json_decref(a);

	a = probe(fixture_plugin("crash"));
	json_t *where = json_array_get(json_object_get(json_object_get(a, "router"), "params"), 0);
	cr_assert_str_eq(str_member(where, "type"), "string");
	cr_assert_str_eq(str_member(where, "default"), "predict");
	json_decref(a);
	a = probe(builtin_plugin("single"));
	json_t *model = json_array_get(json_object_get(json_object_get(a, "router"), "params"), 0);
	cr_assert_str_eq(str_member(model, "type"), "model");
	cr_assert(json_is_null(json_object_get(model, "default")), "a required parameter's default is null");
	json_decref(a);

	expect_probe_refused(fixture_plugin("wrong_abi"), "built for router ABI 99.");
	expect_probe_refused(fixture_plugin("missing_symbol"), "undefined symbol: rb_fixture_function_nobody_defines");
	expect_probe_refused(fixture_plugin("no_entry"), "no exported rb_router_entry_v1() nor rb_router_entry()");
	expect_probe_refused(fixture_plugin("wrong_magic"), "bad magic");
	expect_probe_refused("/nonexistent/router.so", "No such file");
}

Test(worker, usage_errors_exit_2)
{
	char out_path[] = "/tmp/rbtest.use.XXXXXX", err_path[] = "/tmp/rbtest.uerr.XXXXXX";
	close(mkstemp(out_path));
	close(mkstemp(err_path));
	cr_assert_eq(worker_cli(out_path, err_path, 10, NULL, NULL), 2);
	cr_assert_eq(worker_cli(out_path, err_path, 10, "--bogus", NULL), 2);
	char *err = slurp_file(err_path);
	cr_assert(strstr(err, "unknown argument '--bogus'"), "%s", err);
	free(err);
	cr_assert_eq(worker_cli(out_path, err_path, 10, "--probe", NULL), 2);
	cr_assert_eq(worker_cli(out_path, err_path, 10, "--job", "x"), 2);
	cr_assert_eq(worker_cli(out_path, err_path, 10, "--help", NULL), 0);
	char *out = slurp_file(out_path);
	cr_assert(strstr(out, "usage: rbd-worker --job"), "%s", out);
	free(out);
	unlink(out_path);
	unlink(err_path);
}

Test(worker, dies_with_its_parent)
{
	char dir[256];
	rbd_shmds *d = load_shmds("demo", make_dataset(dir, sizeof(dir)), dir);
	char *job = job_text(fixture_plugin("hang"), NULL, NULL);
	/* The orphaned worker is reparented to us, so we can reap it and see what killed it. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int pid_pipe[2];
	cr_assert_eq(pipe(pid_pipe), 0);
	pid_t mid = fork();
	cr_assert_geq(mid, 0);
	if (mid == 0) {
		/* The intermediate parent: start the worker, wait until it spins in predict, vanish. */
		int out_fd;
		pid_t w = start_worker("--job", NULL, job, d->fd, &out_fd);
		if (w < 0)
			_exit(1);
		char buf[4096];
		size_t n = 0;
		double deadline = rbe_now() + 30;
		while (!memmem(buf, n, "\"predict\"", 9) && n < sizeof(buf) && rbe_now() < deadline) {
			ssize_t r = read(out_fd, buf + n, sizeof(buf) - n);
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		if (write(pid_pipe[1], &w, sizeof(w)) != sizeof(w))
			_exit(1);
		_exit(0);
	}
	close(pid_pipe[1]);
	pid_t w = -1;
	cr_assert_eq(read(pid_pipe[0], &w, sizeof(w)), (ssize_t)sizeof(w));
	int st = 0;
	cr_assert_eq(waitpid(mid, &st, 0), mid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int gone = 0;
	for (int waited_ms = 0; waited_ms < 3000 && !gone; waited_ms += 20) {
		gone = waitpid(w, &st, WNOHANG) == w;
		if (!gone)
			nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	if (!gone) {
		kill(w, SIGKILL);
		waitpid(w, &st, 0);
	}
	cr_assert(gone, "the worker outlived its parent by 3 s");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status 0x%x", st);
	free(job);
	rbd_shmds_unref(d);
	remove_tree(dir);
}

Test(worker, shmds_image_is_a_sealed_read_only_copy)
{
	char dir[256];
	const char *path = make_dataset(dir, sizeof(dir));
	rbd_shmds *d = load_shmds("demo", path, dir);
	cr_assert_str_eq(d->name, "demo");
	cr_assert_eq(d->generation, 7);
	cr_assert_eq(d->refs, 1);
	cr_assert_str_eq(d->source, path);
	cr_assert_str_eq(d->ds->name, "demo");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(d->bytes, (uint64_t)st.st_size);
	uint8_t sha[32];
	char hex[65];
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_hash(path, sha, &e), 0, "%s", e.msg);
	rbe_hex(sha, 32, hex);
	cr_assert_str_eq(d->sha256, hex);

	int seals = fcntl(d->fd, F_GET_SEALS);
	int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	cr_assert_eq(seals & want, want, "seals 0x%x", seals);
	cr_assert(fcntl(d->fd, F_GETFD) & FD_CLOEXEC, "rbd's copy must not leak into other children");
	/* The bytes are the file's. */
	char *file = malloc((size_t)st.st_size), *mem = malloc((size_t)st.st_size);
	int ffd = open(path, O_RDONLY);
	cr_assert_eq(pread(ffd, file, (size_t)st.st_size, 0), st.st_size);
	close(ffd);
	cr_assert_eq(pread(d->fd, mem, (size_t)st.st_size, 0), st.st_size);
	cr_assert_eq(memcmp(file, mem, (size_t)st.st_size), 0);
	free(file);
	free(mem);
	/* Nobody can change them: not by write, mapping, resizing or removing the seals. */
	errno = 0;
	cr_assert_eq(pwrite(d->fd, "x", 1, 0), -1);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0), MAP_FAILED);
	cr_assert_eq(errno, EPERM);
	cr_assert_eq(ftruncate(d->fd, 0), -1);
	cr_assert_eq(ftruncate(d->fd, st.st_size * 2), -1);
	cr_assert_eq(fcntl(d->fd, F_ADD_SEALS, 0), -1, "F_SEAL_SEAL holds");
	/* A write through a fresh descriptor of the same memfd fails too. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", d->fd);
	int again = open(proc, O_RDWR);
	if (again >= 0) {
		cr_assert_eq(write(again, "x", 1), -1);
		close(again);
	}

	cr_assert_eq(rbd_shmds_ref(d), d);
	cr_assert_eq(d->refs, 2);
	rbd_shmds_unref(d);
	cr_assert_eq(d->refs, 1);
	rbd_shmds_unref(d);
	rbd_shmds_unref(NULL);
	remove_tree(dir);
}

/* rbd_shmds_load of CSV files gives the very image `rbctl import FILES -o NAME.rbds` writes. */
static void expect_import_like_rbctl(const char *name, const char *const *csv_names, size_t n)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", make_temp_dir());
	char out[600], scratch[600], joined[4096] = "";
	char *files[8];
	const char *args[16];
	size_t a = 0;
	args[a++] = "import";
	for (size_t k = 0; k < n; k++) {
		files[k] = malloc(512);
		snprintf(files[k], 512, "%s/import/%s", env_or("RB_TEST_DATA", "tests/data"), csv_names[k]);
		args[a++] = files[k];
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", k ? ", " : "", files[k]);
	}
	files[n] = NULL;
	snprintf(out, sizeof(out), "%s/%s.rbds", dir, name);
	snprintf(scratch, sizeof(scratch), "%s/scratch", dir);
	cr_assert_eq(mkdir(scratch, 0700), 0);
	args[a++] = "-o";
	args[a++] = out;
	args[a++] = "-q";
	args[a] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	uint8_t sha[32];
	char hex[65];
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_hash(out, sha, &e), 0, "%s", e.msg);
	rbe_hex(sha, 32, hex);

	rbd_dataset_conf conf = {.name = (char *)name, .csv = files, .n_csv = n};
	rbd_shmds *d = NULL;
	cr_assert_eq(rbd_shmds_load(&conf, 1, scratch, &d, &e), 0, "%s", e.msg);
	cr_assert_str_eq(d->sha256, hex, "the image differs from `rbctl import`'s");
	cr_assert_str_eq(d->source, joined);
	cr_assert_eq(d->ds->feature_dim, 256);
	cr_assert_str_eq(d->ds->feature_name, "tfidf");
	cr_assert_str_eq(d->ds->name, name);
	int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	cr_assert_eq(fcntl(d->fd, F_GET_SEALS) & want, want);
	rbd_shmds_unref(d);
	for (size_t k = 0; k < n; k++)
		free(files[k]);
	remove_tree(dir);
}

Test(worker, shmds_imports_csv_as_rbctl_import_does)
{
	expect_import_like_rbctl("ab", (const char *[]){"ab.csv"}, 1);
	expect_import_like_rbctl("ord.v2", (const char *[]){"order_a.csv", "order_b.csv"}, 2);
}

Test(worker, shmds_import_errors_name_the_dataset_and_file)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", make_temp_dir());
	char csv[512];
	snprintf(csv, sizeof(csv), "%s/import/bad_cost_negative.csv", env_or("RB_TEST_DATA", "tests/data"));
	char *files[2] = {csv, NULL};
	rbd_dataset_conf conf = {.name = "bad", .csv = files, .n_csv = 1};
	rbd_shmds *d = NULL;
	rbe_error e = {0};
	cr_assert_lt(rbd_shmds_load(&conf, 1, dir, &d, &e), 0);
	cr_assert_null(d);
	cr_assert(!strncmp(e.msg, "dataset bad: ", 13) && strstr(e.msg, csv), "%s", e.msg);
	cr_assert_lt(rbd_shmds_load(&conf, 1, NULL, &d, &e), 0);
	cr_assert(strstr(e.msg, "scratch"), "%s", e.msg);
	remove_tree(dir);
}

Test(worker, shmds_refuses_a_damaged_or_missing_file_naming_it)
{
	char dir[256];
	const char *path = make_dataset(dir, sizeof(dir));
	rbd_shmds *d = NULL;
	rbe_error e = {0};
	rbd_dataset_conf missing = {.name = "gone", .file = "/nonexistent/gone.rbds"};
	cr_assert_lt(rbd_shmds_load(&missing, 1, dir, &d, &e), 0);
	cr_assert_null(d);
	cr_assert(strstr(e.msg, "dataset gone: /nonexistent/gone.rbds: No such file"), "%s", e.msg);

	/* One flipped byte near the end of the body: only the content hash can tell. */
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	int fd = open(path, O_RDWR);
	char c;
	cr_assert_eq(pread(fd, &c, 1, st.st_size - 1), 1);
	c ^= 0x01;
	cr_assert_eq(pwrite(fd, &c, 1, st.st_size - 1), 1);
	close(fd);
	rbd_dataset_conf damaged = {.name = "demo", .file = (char *)path};
	cr_assert_lt(rbd_shmds_load(&damaged, 1, dir, &d, &e), 0);
	cr_assert_null(d);
	cr_assert(strstr(e.msg, "dataset demo: ") && strstr(e.msg, path), "%s", e.msg);

	rbd_dataset_conf neither = {.name = "x"};
	cr_assert_lt(rbd_shmds_load(&neither, 1, dir, &d, &e), 0);
	cr_assert(strstr(e.msg, "dataset x"), "%s", e.msg);
	remove_tree(dir);
}
