/* test_daemon.c — rbd end to end: real daemons on temporary sockets and state directories,
 * real workers, fixture plugins that crash, hang, hog memory or lie, kill -9, teams. No per-test
 * .timeout: Criterion 2.4 leaks its timer records when timed tests overlap under --jobs 2 (an
 * AddressSanitizer failure); the suite timeout in tests/meson.build bounds them instead. */
#include <dirent.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "daemon_harness.h"

static const char *const basic_routers[] = {"random", "single", NULL};

/* Models of the small synthetic dataset (rbctl gen --models 4). */
#define MODEL0 "WizardLM/WizardLM-13B-V1.2"
#define MODEL1 "mistralai/mistral-7b-chat"

/* A job that takes a while on the small dataset: the bootstrap dominates. */
static json_t *slow_job(void)
{
	return json_pack("{sssss[s]si}", "dataset", "small", "router", "single", "settings", "model=" MODEL0, "bootstrap",
			 60000);
}

static json_t *strip_timing(json_t *result)
{
	json_object_del(result, "timing");
	return result;
}

static char *dump17(const json_t *j)
{
	return json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
}

/* ---- results ---- */

Test(daemon, submit_wait_result_equals_rbctl_run)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	int64_t id = submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 200));
	json_t *job = wait_final(&d, id);
	cr_assert_str_eq(jstr(job, "state"), "done", "reason: %s", jstr(job, "reason"));
	cr_assert_eq(json_integer_value(json_object_get(job, "attempts")), 1);
	json_decref(job);
	json_t *res = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)id));
	json_t *daemon_result = strip_timing(json_incref(json_object_get(res, "result")));
	json_decref(res);

	char router[4096];
	snprintf(router, sizeof(router), "%s", builtin_plugin("random"));
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", d.data, "--router", router, "--bootstrap", "200",
						  "--json", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *local = strip_timing(json_loads(r.out, 0, NULL));
	cr_assert_not_null(local);
	/* Everything but the router file's path and the timing block is the same, byte for byte. */
	json_object_del(json_object_get(daemon_result, "router"), "path");
	json_object_del(json_object_get(local, "router"), "path");
	char *a = dump17(daemon_result), *b = dump17(local);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(daemon_result);
	json_decref(local);
	cmd_free(&r);
	rbd_proc_finish(&d);
}

Test(daemon, rbctl_submit_wait_prints_what_run_prints)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	cmd_result s = rbctl_cmd((const char *[]){"submit", "--socket", d.sock, "--dataset", "small", "--router",
						  "single", "--set", "model=" MODEL1, "--bootstrap", "100", "--wait", NULL});
	cr_assert_eq(s.status, 0, "%s", s.err);
	/* Not a terminal: progress comes as plain lines on stderr. */
	cr_assert(strstr(s.err, "running") || strstr(s.err, "done"), "stderr: %s", s.err);
	char router[4096];
	snprintf(router, sizeof(router), "%s", builtin_plugin("single"));
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", d.data, "--router", router, "--set", "model=" MODEL1,
						  "--bootstrap", "100", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* The table ends with the timing line, the only part that may differ. */
	char *ts = strstr(s.out, "\nfit "), *tr = strstr(r.out, "\nfit ");
	if (ts && tr) {
		*ts = '\0';
		*tr = '\0';
	}
	cr_assert_str_eq(s.out, r.out);
	cmd_free(&s);
	cmd_free(&r);

	cmd_result j = rbctl_cmd((const char *[]){"submit", "--socket", d.sock, "--dataset", "small", "--router", "random",
						  "--json", NULL});
	cr_assert_eq(j.status, 0, "%s", j.err);
	json_t *obj = json_loads(j.out, 0, NULL);
	cr_assert_not_null(obj, "%s", j.out);
	cr_assert_str_eq(jstr(obj, "router"), "random");
	json_decref(obj);
	cmd_free(&j);

	cmd_result bad = rbctl_cmd((const char *[]){"submit", "--socket", d.sock, "--dataset", "small", "--router",
						    "nonesuch", NULL});
	cr_assert_eq(bad.status, 1);
	cr_assert(strstr(bad.err, "nonesuch"), "%s", bad.err);
	cmd_free(&bad);
	rbd_proc_finish(&d);
}

/* ---- misbehaving routers (item 5) ---- */

Test(daemon, broken_routers_fail_only_their_own_job)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", "crash", "hang", "hog", "exit_router", "nan_router",
						"bad_output", NULL});
	snprintf(d.limits, sizeof(d.limits), "wall_time = 4\naddress_space = %s\n", RB_TEST_ASAN ? "0" : "384M");
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 3\nquarantine_after = 100\n");
	rbd_proc_start(&d);
	static const struct {
		const char *router, *setting, *expect;
	} cases[] = {
		{"crash", NULL, "router crashed: SIGSEGV in predict (task "},
		{"crash", "where=create", "router crashed: SIGSEGV in create (task "},
		/* hang ignores SIGTERM: the KILL after the grace ends it */
		{"hang", NULL, "router timed out after 4 s in predict"},
		{"hog", NULL, "router exceeded the memory limit (384 MiB) in predict"},
		{"exit_router", NULL, "router exited with status 3 in predict"},
		{"nan_router", NULL, "NaN"},
		{"bad_output", NULL, "returned model index 4"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	int64_t ids[16], good[16];
	for (size_t i = 0; i < n; i++) {
		if (RB_TEST_ASAN && !strcmp(cases[i].router, "hog"))
			continue; /* no memory limit under AddressSanitizer */
		json_t *job = json_pack("{ssss}", "dataset", "small", "router", cases[i].router);
		if (cases[i].setting)
			json_object_set_new(job, "settings", json_pack("[s]", cases[i].setting));
		ids[i] = submit_ok(&d, job);
		good[i] = submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 50));
	}
	for (size_t i = 0; i < n; i++) {
		if (RB_TEST_ASAN && !strcmp(cases[i].router, "hog"))
			continue;
		json_t *job = wait_final(&d, ids[i]);
		cr_expect_str_eq(jstr(job, "state"), "failed", "%s", cases[i].router);
		cr_expect(strstr(jstr(job, "reason"), cases[i].expect), "%s: reason '%s' lacks '%s'", cases[i].router,
			  jstr(job, "reason"), cases[i].expect);
		json_decref(job);
		job = wait_final(&d, good[i]);
		cr_expect_str_eq(jstr(job, "state"), "done", "good job next to %s: %s", cases[i].router,
				 jstr(job, "reason"));
		json_decref(job);
	}
	/* rbd itself is fine. */
	json_decref(call_ok(&d, "GetInfo", NULL));
	rbd_proc_finish(&d);
}

static json_t *router_listed(const rbd_proc *d, const char *name)
{
	json_t *list = call_ok(d, "ListRouters", NULL);
	json_t *found = NULL, *r;
	size_t i;
	json_array_foreach(json_object_get(list, "routers"), i, r)
		if (!found && !strcmp(jstr(r, "name"), name)) /* two files may list one name */
			found = json_incref(r);
	json_decref(list);
	return found;
}

/* Whether router name is listed in state (and, when not_sha is given, with another sha256). */
static int router_is(const rbd_proc *d, const char *name, const char *state, const char *not_sha)
{
	json_t *x = router_listed(d, name);
	int ok = x && !strcmp(jstr(x, "state"), state) && (!not_sha || strcmp(jstr(x, "sha256"), not_sha));
	json_decref(x);
	return ok;
}

static int job_is(const rbd_proc *d, int64_t id, const char *state)
{
	json_t *s = call_ok(d, "Status", json_pack("{sI}", "id", (json_int_t)id));
	int ok = !strcmp(jstr(s, "state"), state);
	json_decref(s);
	return ok;
}

/* Whether rbd's log holds both needles (b may be NULL). */
static int log_has(const rbd_proc *d, const char *a, const char *b)
{
	char *log = slurp_file(d->log);
	int found = log && strstr(log, a) && (!b || strstr(log, b));
	free(log);
	return found;
}

Test(daemon, rejected_plugins_are_listed_with_the_loader_reason)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", "single", "wrong_abi", "missing_symbol", "no_entry",
						"load_crash", NULL});
	rbd_proc_start(&d);
	static const struct {
		const char *file, *expect;
	} cases[] = {{"wrong_abi", "ABI"},
		     {"missing_symbol", "undefined symbol"},
		     {"no_entry", "rb_router_entry"},
		     {"load_crash", "probe crashed: SIGSEGV while loading the plugin"}};
	for (size_t i = 0; i < 4; i++) {
		json_t *r = router_listed(&d, cases[i].file);
		cr_assert_not_null(r, "%s not listed", cases[i].file);
		cr_expect_str_eq(jstr(r, "state"), "rejected");
		cr_expect(strstr(jstr(r, "reason"), cases[i].expect), "%s: %s", cases[i].file, jstr(r, "reason"));
		json_decref(r);
	}
	json_t *ok = router_listed(&d, "random");
	cr_assert_str_eq(jstr(ok, "state"), "ok");
	cr_assert_str_eq(jstr(ok, "kind"), "policy");
	cr_assert_str_eq(jstr(ok, "version"), "1.0");
	cr_assert_eq(strlen(jstr(ok, "sha256")), 64);
	/* Workers load the content-addressed copy, never the file in the plugin directory. */
	char copy[700];
	snprintf(copy, sizeof(copy), "%s/plugins/%s.so", d.state, jstr(ok, "sha256"));
	cr_assert_eq(access(copy, R_OK), 0, "no store copy at %s", copy);
	json_decref(ok);
	json_t *single = router_listed(&d, "single");
	json_t *param = json_array_get(json_object_get(single, "params"), 0);
	cr_assert_str_eq(jstr(param, "name"), "model");
	cr_assert_str_eq(jstr(param, "type"), "model");
	json_decref(single);
	rbw_reply rep = call(&d, "Submit", json_pack("{ssss}", "dataset", "small", "router", "wrong_abi"));
	cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
	rbw_reply_clear(&rep);
	rbd_proc_finish(&d);
}

/* Append a byte: the ELF loader ignores it, the sha256 changes — "the file changed". */
static void touch_content(const rbd_proc *d, const char *name)
{
	char path[600], tmp[620];
	snprintf(path, sizeof(path), "%s/%s.so", d->plugins, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.new", d->plugins, name);
	char *data = NULL;
	size_t len = 0;
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(path, &data, &len, &e), 0);
	FILE *f = fopen(tmp, "wb");
	fwrite(data, 1, len, f);
	fputc('\n', f);
	fclose(f);
	cr_assert_eq(rename(tmp, path), 0);
	free(data);
}

Test(daemon, crashing_router_is_quarantined_until_its_file_changes)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"crash", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "quarantine_after = 2\n");
	rbd_proc_start(&d);
	for (int i = 0; i < 2; i++) {
		json_t *job = wait_final(&d, submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "crash")));
		cr_assert_str_eq(jstr(job, "state"), "failed");
		json_decref(job);
	}
	json_t *r = router_listed(&d, "crash");
	cr_assert_str_eq(jstr(r, "state"), "quarantined");
	cr_assert(strstr(jstr(r, "reason"), "quarantined after 2 crashes"), "%s", jstr(r, "reason"));
	json_decref(r);
	rbw_reply rep = call(&d, "Submit", json_pack("{ssss}", "dataset", "small", "router", "crash"));
	cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
	cr_assert(strstr(json_string_value(json_object_get(rep.parameters, "message")), "quarantined"));
	rbw_reply_clear(&rep);

	touch_content(&d, "crash");
	cr_assert(POLL_UNTIL(router_is(&d, "crash", "ok", NULL), 10000),
		  "the changed file was not probed again");
	rbd_proc_finish(&d);
}

/* ---- discovery (item 3) ---- */

Test(daemon, router_dropped_in_while_running_becomes_usable)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	rbd_proc_start(&d);
	rbw_reply rep = call(&d, "Submit", json_pack("{sssss[s]}", "dataset", "small", "router", "single", "settings",
						     "model=" MODEL0));
	cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
	rbw_reply_clear(&rep);
	install_router(&d, "single");
	cr_assert(POLL_UNTIL(router_is(&d, "single", "ok", NULL), 5000),
		  "single.so was not picked up");
	json_t *job = wait_final(&d, submit_ok(&d, json_pack("{sssss[s]si}", "dataset", "small", "router", "single",
							      "settings", "model=" MODEL0, "bootstrap", 0)));
	cr_assert_str_eq(jstr(job, "state"), "done", "%s", jstr(job, "reason"));
	json_decref(job);
	rbd_proc_finish(&d);
}

Test(daemon, replacing_a_router_file_affects_only_later_jobs)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\n");
	rbd_proc_start(&d);
	int64_t blocker = submit_ok(&d, slow_job());
	int64_t before = submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0));
	json_t *old = router_listed(&d, "random");
	char old_sha[65];
	snprintf(old_sha, sizeof(old_sha), "%s", jstr(old, "sha256"));
	json_decref(old);
	touch_content(&d, "random");
	cr_assert(POLL_UNTIL(router_is(&d, "random", "ok", old_sha), 5000));
	int64_t after = submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0));
	json_t *a = wait_final(&d, before), *b = wait_final(&d, after), *c = wait_final(&d, blocker);
	cr_assert_str_eq(jstr(a, "state"), "done");
	cr_assert_str_eq(jstr(b, "state"), "done");
	cr_assert_str_eq(jstr(a, "router_sha256"), old_sha);
	cr_assert_str_neq(jstr(b, "router_sha256"), old_sha);
	json_t *res = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)before));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(res, "result"), "router"),
							  "sha256")),
			 old_sha, "the result records the plugin copy the job ran");
	json_decref(res);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	rbd_proc_finish(&d);
}

/* ---- durability (item 6) ---- */

/* One worker, n slow jobs: the first running, the others queued behind it. */
static void start_one_worker_with_slow_jobs(rbd_proc *d, int64_t *ids, int n)
{
	rbd_proc_init(d, basic_routers);
	snprintf(d->server_extra, sizeof(d->server_extra), "workers = 1\n");
	rbd_proc_start(d);
	for (int i = 0; i < n; i++)
		ids[i] = submit_ok(d, slow_job());
	cr_assert(POLL_UNTIL(job_is(d, ids[0], "running"), 10000));
}

Test(daemon, kill9_with_jobs_queued_and_running_loses_nothing)
{
	rbd_proc d;
	int64_t ids[4];
	start_one_worker_with_slow_jobs(&d, ids, 4);
	char *log = slurp_file(d.log), *at = log ? strstr(log, "worker pid ") : NULL;
	cr_assert_not_null(at, "rbd -v logs the worker's pid");
	pid_t worker = (pid_t)atoi(at + strlen("worker pid "));
	free(log);
	rbd_proc_kill9(&d);
	/* The worker dies with rbd (PR_SET_PDEATHSIG): gone, or a zombie of no one's. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%d/cmdline", (int)worker);
	cr_assert(POLL_UNTIL(({
				     char *cmd = slurp_file(proc);
				     int gone = !cmd || !strstr(cmd, "rbd-worker");
				     free(cmd);
				     gone;
			     }),
			     5000),
		  "worker %d outlived rbd", (int)worker);
	rbd_proc_start(&d);
	for (int i = 0; i < 4; i++) {
		json_t *job = wait_final(&d, ids[i]);
		cr_assert_str_eq(jstr(job, "state"), "done", "job %lld: %s", (long long)ids[i], jstr(job, "reason"));
		cr_assert_eq(json_integer_value(json_object_get(job, "attempts")), i == 0 ? 2 : 1, "job %lld",
			     (long long)ids[i]);
		json_decref(job);
	}
	json_t *all = call_ok(&d, "ListJobs", json_pack("{sb}", "all", 1));
	cr_assert_eq(json_array_size(json_object_get(all, "jobs")), 4, "every job exactly once");
	json_decref(all);
	/* A finished result does not change over another restart. */
	json_t *r1 = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)ids[1]));
	char *t1 = dump17(r1);
	rbd_proc_kill9(&d);
	rbd_proc_start(&d);
	json_t *r2 = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)ids[1]));
	char *t2 = dump17(r2);
	cr_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	json_decref(r1);
	json_decref(r2);
	rbd_proc_finish(&d);
}

Test(daemon, sigterm_lets_running_jobs_finish_and_keeps_the_queue)
{
	rbd_proc d;
	int64_t ids[3];
	start_one_worker_with_slow_jobs(&d, ids, 3);
	cr_assert_eq(rbd_proc_stop(&d, 60), 0, "rbd exits 0 after SIGTERM");
	rbd_proc_start(&d);
	json_t *first = call_ok(&d, "Status", json_pack("{sI}", "id", (json_int_t)ids[0]));
	cr_assert_str_eq(jstr(first, "state"), "done", "the running job finished before rbd stopped");
	cr_assert_eq(json_integer_value(json_object_get(first, "attempts")), 1);
	json_decref(first);
	for (int i = 1; i < 3; i++) {
		json_t *job = wait_final(&d, ids[i]);
		cr_assert_str_eq(jstr(job, "state"), "done");
		json_decref(job);
	}
	rbd_proc_finish(&d);
}

Test(daemon, cancel_queued_and_running_jobs)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", "single", "hang", NULL});
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\n");
	rbd_proc_start(&d);
	int64_t running = submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "hang"));
	int64_t queued = submit_ok(&d, slow_job());
	json_t *q = call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)queued));
	cr_assert_str_eq(jstr(q, "state"), "cancelled");
	json_decref(q);
	cr_assert(POLL_UNTIL(job_is(&d, running, "running"), 10000));
	json_t *r = call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)running));
	cr_assert_str_eq(jstr(r, "state"), "cancelled");
	cr_assert(strstr(jstr(r, "reason"), "cancelled by uid 0"), "%s", jstr(r, "reason"));
	json_decref(r);
	rbw_reply rep = call(&d, "Result", json_pack("{sI}", "id", (json_int_t)running));
	cr_assert_str_eq(rep.error, RBW_ERR_JOB_FAILED);
	rbw_reply_clear(&rep);
	cmd_result c = rbctl_cmd((const char *[]){"status", "--socket", d.sock, "999", NULL});
	cr_assert_eq(c.status, 1);
	cr_assert(strstr(c.err, "no such job"), "%s", c.err);
	cmd_free(&c);
	rbd_proc_finish(&d);
}

/* ---- teams (item 7) ---- */

#define UID_A 40001
#define UID_B 40002
#define GID_ADMIN 40100

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("switching uid needs root (CI runs the tests as root)");
}

Test(daemon, teams_see_only_their_own_jobs)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.server_extra, sizeof(d.server_extra), "admin_group = %d\n", GID_ADMIN);
	snprintf(d.extra, sizeof(d.extra), "[team.a]\nmembers = %d\n\n[team.b]\nmembers = %d\n", UID_A, UID_B);
	rbd_proc_start(&d);
	json_t *job = json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0);
	json_t *ra = call_as(&d, UID_A, UID_A, "Submit", json_deep_copy(job));
	json_t *rb = call_as(&d, UID_B, UID_B, "Submit", job);
	cr_assert(json_is_null(json_object_get(ra, "error")), "%s", json_dumps(ra, 0));
	json_int_t id_a = json_integer_value(json_object_get(json_object_get(ra, "parameters"), "id"));
	json_int_t id_b = json_integer_value(json_object_get(json_object_get(rb, "parameters"), "id"));
	cr_assert_str_eq(jstr(json_object_get(ra, "parameters"), "team"), "a");
	json_decref(ra);
	json_decref(rb);

	/* b asking about a's job: the same answer as for a job that does not exist. */
	static const char *methods[] = {"Status", "Wait", "Cancel", "Result"};
	for (size_t i = 0; i < 4; i++) {
		json_t *x = call_as(&d, UID_B, UID_B, methods[i], json_pack("{sI}", "id", id_a));
		cr_assert_str_eq(jstr(x, "error"), RBW_ERR_NO_SUCH_JOB, "%s", methods[i]);
		cr_assert(strstr(jstr(json_object_get(x, "parameters"), "message"), "no such job"));
		json_decref(x);
	}
	json_t *own = call_as(&d, UID_B, UID_B, "Wait", json_pack("{sI}", "id", id_b));
	cr_assert_str_eq(jstr(json_object_get(own, "parameters"), "state"), "done");
	json_decref(own);
	json_t *lb = call_as(&d, UID_B, UID_B, "ListJobs", json_pack("{sb}", "all", 1));
	json_t *jobs = json_object_get(json_object_get(lb, "parameters"), "jobs");
	cr_assert_eq(json_array_size(jobs), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(jobs, 0), "id")), id_b);
	json_decref(lb);
	/* The admin group sees both. */
	json_t *la = call_as(&d, UID_B + 5, GID_ADMIN, "ListJobs", json_pack("{sb}", "all", 1));
	cr_assert_eq(json_array_size(json_object_get(json_object_get(la, "parameters"), "jobs")), 2);
	json_decref(la);
	/* Someone in no team. */
	json_t *nobody = call_as(&d, UID_B + 7, UID_B + 7, "Submit",
				 json_pack("{ssss}", "dataset", "small", "router", "random"));
	cr_assert_str_eq(jstr(nobody, "error"), RBW_ERR_PERMISSION_DENIED);
	json_decref(nobody);
	/* Who may call what is the method table's "caller": see docs/protocol.md. */
	static const struct {
		uid_t uid;
		gid_t gid;
		const char *method, *error;
	} callers[] = {
		{UID_B + 7, UID_B + 7, "Status", RBW_ERR_PERMISSION_DENIED},  /* no team */
		{UID_B + 7, UID_B + 7, "ListRouters", RBW_ERR_PERMISSION_DENIED}, /* no team: closed at accept */
		{UID_B + 5, GID_ADMIN, "ListRouters", NULL},                   /* anyone else */
		{UID_A, UID_A, "Reload", RBW_ERR_PERMISSION_DENIED},           /* administrators only */
		{UID_B + 5, GID_ADMIN, "Submit", RBW_ERR_PERMISSION_DENIED},   /* a job needs a team */
		{UID_B + 5, GID_ADMIN, "Status", NULL},                        /* an administrator sees all */
	};
	for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
		const char *m = callers[i].method;
		json_t *params = !strcmp(m, "Status")   ? json_pack("{sI}", "id", id_a)
				 : !strcmp(m, "Submit") ? json_pack("{ssss}", "dataset", "small", "router", "random")
							: NULL;
		json_t *x = call_as(&d, callers[i].uid, callers[i].gid, m, params);
		const char *err = json_string_value(json_object_get(x, "error"));
		cr_assert_str_eq(err ? err : "(none)", callers[i].error ? callers[i].error : "(none)", "%s as uid %u", m,
				 (unsigned)callers[i].uid);
		if (!strcmp(m, "Reload"))
			cr_assert(strstr(jstr(json_object_get(x, "parameters"), "message"), "Reload is for administrators"));
		json_decref(x);
	}
	json_t *info = call_as(&d, UID_A, UID_A, "GetInfo", NULL);
	cr_assert_str_eq(jstr(json_object_get(info, "parameters"), "team"), "a");
	json_decref(info);
	rbd_proc_finish(&d);
}

Test(daemon, quota_exceeded_names_the_cap)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	/* root's team, with a cap of 2 jobs queued or running */
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\n");
	snprintf(d.team_extra, sizeof(d.team_extra), "max_queued = 2\n");
	rbd_proc_start(&d);
	int64_t a = submit_ok(&d, slow_job()), b = submit_ok(&d, slow_job());
	rbw_reply rep = call(&d, "Submit", slow_job());
	cr_assert_str_eq(rep.error, RBW_ERR_QUOTA_EXCEEDED);
	cr_assert_str_eq(jstr(rep.parameters, "cap"), "max_queued");
	cr_assert_eq(json_integer_value(json_object_get(rep.parameters, "limit")), 2);
	cr_assert(strstr(jstr(rep.parameters, "message"), "max_queued = 2"));
	rbw_reply_clear(&rep);
	json_decref(call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)b)));
	json_decref(call_ok(&d, "Cancel", json_pack("{sI}", "id", (json_int_t)a)));
	rbd_proc_finish(&d);
}

Test(daemon, teams_take_turns)
{
	skip_unless_root();
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 1\n");
	snprintf(d.extra, sizeof(d.extra), "[team.a]\nmembers = %d\n\n[team.b]\nmembers = %d\n", UID_A, UID_B);
	rbd_proc_start(&d);
	json_int_t a_ids[6];
	for (int i = 0; i < 6; i++) {
		json_t *r = call_as(&d, UID_A, UID_A, "Submit",
				    json_pack("{sssss[s]si}", "dataset", "small", "router", "single", "settings", "model=" MODEL0,
					      "bootstrap", 20000));
		a_ids[i] = json_integer_value(json_object_get(json_object_get(r, "parameters"), "id"));
		json_decref(r);
	}
	json_t *rb = call_as(&d, UID_B, UID_B, "Submit",
			     json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0));
	json_int_t id_b = json_integer_value(json_object_get(json_object_get(rb, "parameters"), "id"));
	json_decref(rb);
	json_t *jb = call_ok(&d, "Wait", json_pack("{sI}", "id", id_b));
	double b_submitted = json_real_value(json_object_get(jb, "submitted_at"));
	double b_started = json_real_value(json_object_get(jb, "started_at"));
	json_decref(jb);
	/* With one worker, b's job waits for the a-job running when it arrived, and no other. */
	int cut_in = 0, waiting = 0;
	for (int i = 0; i < 6; i++) {
		json_t *s = call_ok(&d, "Status", json_pack("{sI}", "id", a_ids[i]));
		double t = json_real_value(json_object_get(s, "started_at"));
		cut_in += t > b_submitted && t < b_started;
		waiting += t == 0 || t > b_started;
		json_decref(s);
	}
	cr_assert_eq(cut_in, 0, "%d of team a's jobs started between team b's submission and its start", cut_in);
	cr_assert_geq(waiting, 3, "team a's jobs were too short to test anything");
	for (int i = 0; i < 6; i++)
		json_decref(call_ok(&d, "Cancel", json_pack("{sI}", "id", a_ids[i])));
	rbd_proc_finish(&d);
}

/* ---- protocol (item 8) ---- */

static void send_raw(rbw_client *c, const void *data, size_t len)
{
	cr_assert_eq(send(c->fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static rbw_reply recv_reply(rbw_client *c)
{
	rbw_reply r = {0};
	rbe_error e = {0};
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	return r;
}

Test(daemon, bad_messages_get_error_replies_and_rbd_keeps_serving)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	rbw_client *c = rbd_connect_retry(d.sock, 5000);
	static const struct {
		const char *msg, *error, *needle;
	} cases[] = {
		{"this is not json", RBW_ERR_INVALID_MESSAGE, ""},
		{"[1,2]", RBW_ERR_INVALID_MESSAGE, "object"},
		{"{\"parameters\":{}}", RBW_ERR_INVALID_MESSAGE, "method"},
		{"{\"method\":\"io.routerbench.v1.Nope\"}", RBW_ERR_METHOD_NOT_FOUND, "Nope"},
		{"{\"method\":\"io.routerbench.v1.Status\",\"parameters\":{\"id\":\"x\"}}", RBW_ERR_INVALID_PARAMETER, "id"},
		{"{\"method\":\"io.routerbench.v1.Status\",\"parameters\":{\"id\":12345}}", RBW_ERR_NO_SUCH_JOB, "12345"},
		{"{\"method\":\"io.routerbench.v1.Status\",\"parameters\":{\"id\":1,\"verbose\":true}}",
		 RBW_ERR_INVALID_PARAMETER, "verbose"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\",\"router\":\"random\","
		 "\"sed\":1}}",
		 RBW_ERR_INVALID_PARAMETER, "sed"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\",\"router\":\"random\","
		 "\"seed\":-4}}",
		 RBW_ERR_INVALID_PARAMETER, "seed"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\",\"router\":\"single\","
		 "\"settings\":[\"modle=m00\"]}}",
		 RBW_ERR_INVALID_PARAMETER, "modle"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\",\"router\":\"single\","
		 "\"settings\":[\"model=nonesuch\"]}}",
		 RBW_ERR_INVALID_PARAMETER, "nonesuch"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"big\",\"router\":\"random\"}}",
		 RBW_ERR_NO_SUCH_DATASET, "big"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"router\":\"random\"}}",
		 RBW_ERR_INVALID_PARAMETER, "dataset"},
		{"{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\",\"router\":\"random\","
		 "\"threads\":2}}",
		 RBW_ERR_INVALID_PARAMETER, "at most 1 per job"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		send_raw(c, cases[i].msg, strlen(cases[i].msg) + 1);
		rbw_reply r = recv_reply(c);
		cr_expect_str_eq(r.error ? r.error : "(none)", cases[i].error, "for %s", cases[i].msg);
		const char *m = jstr(r.parameters, "message");
		cr_expect(strstr(m, cases[i].needle), "message '%s' lacks '%s'", m, cases[i].needle);
		rbw_reply_clear(&r);
	}
	/* InvalidParameter names the member in its parameters too. */
	const char *unknown = "{\"method\":\"io.routerbench.v1.Submit\",\"parameters\":{\"dataset\":\"small\","
			      "\"router\":\"random\",\"sed\":1}}";
	send_raw(c, unknown, strlen(unknown) + 1);
	rbw_reply named = recv_reply(c);
	cr_assert_str_eq(jstr(named.parameters, "parameter"), "sed");
	rbw_reply_clear(&named);
	/* Any method: the unknown parameter is refused before the method runs. */
	const char *verbose = "{\"method\":\"io.routerbench.v1.Status\",\"parameters\":{\"id\":1,\"verbose\":true}}";
	send_raw(c, verbose, strlen(verbose) + 1);
	named = recv_reply(c);
	cr_assert_str_eq(jstr(named.parameters, "parameter"), "verbose");
	rbw_reply_clear(&named);
	/* Still usable after all that. */
	rbw_reply ok = {0};
	rbe_error e = {0};
	cr_assert_eq(rbw_client_call(c, "io.routerbench.v1.GetInfo", NULL, &ok, &e), 0);
	cr_assert_null(ok.error);
	cr_assert_eq(json_integer_value(json_object_get(ok.parameters, "protocol_version")), 1);
	rbw_reply_clear(&ok);
	rbw_client_close(c);

	/* Over the size limit: an error, then the connection is closed. */
	c = rbd_connect_retry(d.sock, 5000);
	size_t big = (1u << 20) + 100;
	char *blob = malloc(big);
	memset(blob, ' ', big);
	memcpy(blob, "{\"method\":\"x\",\"parameters\":{\"pad\":\"", 35);
	send(c->fd, blob, big, MSG_NOSIGNAL);
	free(blob);
	rbw_reply r = recv_reply(c);
	cr_assert_str_eq(r.error, RBW_ERR_MESSAGE_TOO_LARGE);
	rbw_reply_clear(&r);
	cr_assert_neq(rbw_client_recv(c, &r, &e), 0, "connection closed after MessageTooLarge");
	rbw_client_close(c);
	json_decref(call_ok(&d, "GetInfo", NULL));
	rbd_proc_finish(&d);
}

/* Calls pipelined behind a Wait are answered in order, after it; a client that shuts its
 * sending side still gets every reply. */
Test(daemon, pipelined_calls_and_half_closed_clients)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	int64_t id = submit_ok(&d, slow_job());
	rbw_client *c = rbd_connect_retry(d.sock, 5000);
	char calls[512];
	int n = snprintf(calls, sizeof(calls),
			 "{\"method\":\"io.routerbench.v1.Wait\",\"parameters\":{\"id\":%lld}}%c"
			 "{\"method\":\"io.routerbench.v1.GetInfo\"}%c",
			 (long long)id, 0, 0);
	send_raw(c, calls, (size_t)n);
	cr_assert_eq(shutdown(c->fd, SHUT_WR), 0);
	rbw_reply first = recv_reply(c), second = recv_reply(c);
	cr_assert_null(first.error);
	cr_assert_str_eq(jstr(first.parameters, "state"), "done", "the Wait is answered first, when final");
	cr_assert_null(second.error);
	cr_assert_eq(json_integer_value(json_object_get(second.parameters, "protocol_version")), 1);
	rbw_reply_clear(&first);
	rbw_reply_clear(&second);
	rbw_reply end = {0};
	rbe_error e = {0};
	cr_assert_neq(rbw_client_recv(c, &end, &e), 0, "rbd closes after the last reply");
	rbw_client_close(c);
	rbd_proc_finish(&d);
}

Test(daemon, connection_caps_and_slow_readers)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.server_extra, sizeof(d.server_extra), "max_connections_per_uid = 3\nmax_output_queue = 65536\n");
	rbd_proc_start(&d);
	rbw_client *open_[3];
	for (int i = 0; i < 3; i++)
		open_[i] = rbd_connect_retry(d.sock, 5000);
	/* The harness's own connections are closed; these three are the uid's cap. */
	rbw_client *extra = rbd_connect_retry(d.sock, 5000);
	rbw_reply r = recv_reply(extra);
	cr_assert_str_eq(r.error, RBW_ERR_TOO_MANY_CONNECTIONS);
	rbw_reply_clear(&r);
	rbw_client_close(extra);

	/* open_[0] asks for many replies and never reads them: rbd drops it, others go on. */
	const char *callmsg = "{\"method\":\"io.routerbench.v1.ListRouters\"}";
	int dropped = 0;
	for (int i = 0; i < 20000 && !dropped; i++)
		dropped = send(open_[0]->fd, callmsg, strlen(callmsg) + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
			  errno != EAGAIN;
	cr_assert(POLL_UNTIL(log_has(&d, "stopped reading", NULL), 10000),
		  "the slow reader was not dropped");
	rbw_reply ok = {0};
	rbe_error e = {0};
	cr_assert_eq(rbw_client_call(open_[1], "io.routerbench.v1.GetInfo", NULL, &ok, &e), 0, "%s", e.msg);
	cr_assert_null(ok.error);
	rbw_reply_clear(&ok);
	for (int i = 0; i < 3; i++)
		rbw_client_close(open_[i]);
	rbd_proc_finish(&d);
}

/* ---- configuration ---- */

Test(daemon, bad_config_is_refused_at_start_with_file_line_and_key)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.limits, sizeof(d.limits), "wall_time = soon\n");
	rbd_proc_write_config(&d);
	char out[400], err[400];
	snprintf(out, sizeof(out), "%s/out", d.dir);
	snprintf(err, sizeof(err), "%s/err", d.dir);
	char *argv[] = {(char *)env_or("RBD", "build/rbd"), "--config", d.config, "--foreground", NULL};
	cr_assert_eq(spawn_wait(argv, out, err, 30), 1);
	char *msg = slurp_file(err);
	char expect[600];
	snprintf(expect, sizeof(expect), "%s:", d.config);
	cr_assert(strstr(msg, expect) && strstr(msg, "wall_time") && strstr(msg, "soon"), "%s", msg);
	free(msg);
	rbd_proc_cleanup(&d);
}

Test(daemon, sighup_with_a_broken_config_keeps_the_old_one)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	char *good = slurp_file(d.config);
	FILE *f = fopen(d.config, "a");
	fprintf(f, "[team.broken]\nmax_queued = lots\n");
	fclose(f);
	kill(d.pid, SIGHUP);
	cr_assert(POLL_UNTIL(log_has(&d, "reload refused", "max_queued"), 10000));
	json_t *job = wait_final(&d, submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random",
							      "bootstrap", 0)));
	cr_assert_str_eq(jstr(job, "state"), "done");
	json_decref(job);
	/* Reload over the protocol says the same. */
	rbw_reply rep = call(&d, "Reload", NULL);
	cr_assert_str_eq(rep.error, RBW_ERR_CONFIG_INVALID);
	cr_assert(strstr(jstr(rep.parameters, "message"), "max_queued"));
	rbw_reply_clear(&rep);

	/* A good new config with a second dataset: a new generation. */
	f = fopen(d.config, "w");
	fprintf(f, "%s\n[dataset.again]\nfile = %s\n", good, d.data);
	fclose(f);
	free(good);
	kill(d.pid, SIGHUP);
	cr_assert(POLL_UNTIL(({
				     json_t *l = call_ok(&d, "ListDatasets", NULL);
				     json_t *ds = json_object_get(l, "datasets");
				     int ok = json_array_size(ds) == 2 &&
					      json_integer_value(json_object_get(json_array_get(ds, 1), "generation")) == 2;
				     json_decref(l);
				     ok;
			     }),
			     10000));
	json_t *p = call_ok(&d, "Reload", NULL);
	cr_assert_eq(json_integer_value(json_object_get(p, "generation")), 3);
	json_decref(p);
	rbd_proc_finish(&d);
}

Test(daemon, cpu_time_limit_names_the_limit)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"hang", NULL});
	snprintf(d.limits, sizeof(d.limits), "cpu_time = 1\nwall_time = 30\n");
	rbd_proc_start(&d);
	json_t *job = wait_final(&d, submit_ok(&d, json_pack("{ssss}", "dataset", "small", "router", "hang")));
	cr_assert_str_eq(jstr(job, "state"), "failed");
	cr_assert(strstr(jstr(job, "reason"), "router exceeded the CPU time limit (1 s) in predict"), "%s",
		  jstr(job, "reason"));
	json_decref(job);
	rbd_proc_finish(&d);
}

Test(daemon, max_running_caps_a_team)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	snprintf(d.server_extra, sizeof(d.server_extra), "workers = 2\n");
	snprintf(d.team_extra, sizeof(d.team_extra), "max_running = 1\n");
	rbd_proc_start(&d);
	int64_t a = submit_ok(&d, slow_job()), b = submit_ok(&d, slow_job());
	cr_assert(POLL_UNTIL(job_is(&d, a, "running"), 10000));
	json_t *info = call_ok(&d, "GetInfo", NULL);
	cr_assert_eq(json_integer_value(json_object_get(info, "running")), 1, "two workers, but the team may run one");
	json_decref(info);
	cr_assert(job_is(&d, b, "queued"));
	json_t *jb = wait_final(&d, b), *ja = call_ok(&d, "Status", json_pack("{sI}", "id", (json_int_t)a));
	cr_assert_geq(json_real_value(json_object_get(jb, "started_at")), json_real_value(json_object_get(ja, "finished_at")));
	json_decref(ja);
	json_decref(jb);
	rbd_proc_finish(&d);
}

/* A reload makes a new generation of the dataset; a job already running finishes on the old. */
Test(daemon, reload_makes_a_new_dataset_generation)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	json_t *before = call_ok(&d, "ListDatasets", NULL);
	char old_sha[65];
	snprintf(old_sha, sizeof(old_sha), "%s", jstr(json_array_get(json_object_get(before, "datasets"), 0), "sha256"));
	json_decref(before);
	int64_t running = submit_ok(&d, slow_job());
	cr_assert(POLL_UNTIL(job_is(&d, running, "running"), 10000));
	/* Replace the file (by rename, as one must for a mapped file) with other content. */
	char fresh[400];
	snprintf(fresh, sizeof(fresh), "%s/fresh.rbds", d.dir);
	gen_synthetic(fresh, "600", "4", "2", "4", NULL);
	cr_assert_eq(rename(fresh, d.data), 0);
	json_t *gen = call_ok(&d, "Reload", NULL);
	cr_assert_eq(json_integer_value(json_object_get(gen, "generation")), 2);
	json_decref(gen);
	json_t *after = call_ok(&d, "ListDatasets", NULL);
	json_t *ds = json_array_get(json_object_get(after, "datasets"), 0);
	cr_assert_str_neq(jstr(ds, "sha256"), old_sha);
	cr_assert_eq(json_integer_value(json_object_get(ds, "generation")), 2);
	json_decref(after);
	int64_t later = submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0));
	json_decref(wait_final(&d, running));
	json_decref(wait_final(&d, later));
	json_t *r1 = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)running));
	json_t *r2 = call_ok(&d, "Result", json_pack("{sI}", "id", (json_int_t)later));
	const char *sha1 = json_string_value(json_object_get(json_object_get(json_object_get(r1, "result"), "dataset"), "sha256"));
	const char *sha2 = json_string_value(json_object_get(json_object_get(json_object_get(r2, "result"), "dataset"), "sha256"));
	cr_assert_str_eq(sha1, old_sha, "the running job kept the generation it started with");
	cr_assert_str_neq(sha2, old_sha, "a job started after the reload sees the new one");
	json_decref(r1);
	json_decref(r2);
	rbd_proc_finish(&d);
}

/* kill -9 while clients are submitting: every job rbd acknowledged is there after the restart
 * and completes, exactly once. */
Test(daemon, kill9_during_submissions_loses_no_acknowledged_job)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_start(&d);
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t child = fork();
	if (child == 0) {
		close(fds[0]);
		/* Submit until rbd disappears; report each acknowledged id. */
		for (;;) {
			rbw_client *c = NULL;
			rbe_error e = {0};
			rbw_reply r = {0};
			json_t *job = json_pack("{sssssi}", "dataset", "small", "router", "random", "bootstrap", 0);
			if (rbw_client_open(d.sock, &c, &e) < 0 ||
			    rbw_client_call(c, "io.routerbench.v1.Submit", job, &r, &e) < 0 || r.error)
				_exit(0);
			long long id = (long long)json_integer_value(json_object_get(r.parameters, "id"));
			if (write(fds[1], &id, sizeof(id)) != sizeof(id))
				_exit(1);
			rbw_reply_clear(&r);
			json_decref(job);
			rbw_client_close(c);
		}
	}
	close(fds[1]);
	nanosleep(&(struct timespec){0, 400 * 1000 * 1000}, NULL);
	rbd_proc_kill9(&d);
	waitpid(child, NULL, 0);
	long long ids[4096];
	size_t n = 0;
	while (n < 4096 && read(fds[0], &ids[n], sizeof(ids[n])) == sizeof(ids[n]))
		n++;
	close(fds[0]);
	cr_assert_gt(n, 0, "no job was acknowledged before the kill");
	rbd_proc_start(&d);
	for (size_t i = 0; i < n; i++) {
		json_t *job = wait_final(&d, ids[i]);
		cr_assert_str_eq(jstr(job, "state"), "done", "job %lld: %s", ids[i], jstr(job, "reason"));
		json_decref(job);
	}
	json_t *all = call_ok(&d, "ListJobs", json_pack("{sb}", "all", 1));
	size_t listed = json_array_size(json_object_get(all, "jobs"));
	/* A Submit in flight at the kill may have been committed but not acknowledged: at most one
	 * more than the acknowledged ones, and each runs once. */
	cr_assert(listed == n || listed == n + 1, "%zu jobs listed, %zu acknowledged", listed, n);
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(all, "jobs"), i, j)
	{
		json_t *final = wait_final(&d, json_integer_value(json_object_get(j, "id")));
		cr_assert_str_eq(jstr(final, "state"), "done");
		cr_assert_leq(json_integer_value(json_object_get(final, "attempts")), 2);
		json_decref(final);
	}
	json_decref(all);
	rbd_proc_finish(&d);
}

/* Without a watch (the directory did not exist when rbd started), the periodic rescan still
 * finds routers. */
Test(daemon, periodic_rescan_finds_routers_without_a_watch)
{
	rbd_proc d;
	rbd_proc_init(&d, NULL);
	snprintf(d.plugins, sizeof(d.plugins), "%s/later", d.dir);
	rbd_proc_start(&d);
	cr_assert(log_has(&d, "cannot watch", NULL), "rbd says it relies on the rescan");
	cr_assert_eq(mkdir(d.plugins, 0755), 0);
	install_router(&d, "random");
	cr_assert(POLL_UNTIL(router_is(&d, "random", "ok", NULL), 5000), "the rescan did not find random.so");
	rbd_proc_finish(&d);
}

Test(daemon, csv_datasets_are_imported_at_start)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	char csv[600];
	snprintf(csv, sizeof(csv), "%s/import/ab.csv", env_or("RB_TEST_DATA", "tests/data"));
	snprintf(d.extra, sizeof(d.extra), "[dataset.ab]\ncsv = %s\n", csv);
	rbd_proc_start(&d);
	json_t *list = call_ok(&d, "ListDatasets", NULL);
	json_t *ds = json_array_get(json_object_get(list, "datasets"), 1);
	cr_assert_str_eq(jstr(ds, "name"), "ab");
	cr_assert(strstr(jstr(ds, "source"), "ab.csv"), "%s", jstr(ds, "source"));
	cr_assert_gt(json_integer_value(json_object_get(ds, "prompts")), 0);
	json_decref(list);
	cr_assert_eq(rbd_proc_stop(&d, 30), 0);

	/* A broken source: rbd does not start, and says which file and line. */
	char bad[600];
	snprintf(bad, sizeof(bad), "%s/import/bad_fieldcount.csv", env_or("RB_TEST_DATA", "tests/data"));
	snprintf(d.extra, sizeof(d.extra), "[dataset.bad]\ncsv = %s\n", bad);
	rbd_proc_write_config(&d);
	char out[400], err[400];
	snprintf(out, sizeof(out), "%s/out", d.dir);
	snprintf(err, sizeof(err), "%s/err", d.dir);
	char *argv[] = {(char *)env_or("RBD", "build/rbd"), "--config", d.config, "--foreground", NULL};
	cr_assert_eq(spawn_wait(argv, out, err, 30), 1);
	char *msg = slurp_file(err);
	cr_assert(strstr(msg, "bad_fieldcount.csv:"), "%s", msg);
	free(msg);
	rbd_proc_cleanup(&d);
}

/* Without --foreground rbd detaches once it listens (so the socket answers as soon as the command
 * returns) and logs to STATE_DIR/rbd.log; a start-up failure still reaches the caller. */
Test(daemon, detaches_without_foreground)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	rbd_proc_write_config(&d);
	char out[400], err[400];
	snprintf(out, sizeof(out), "%s/out", d.dir);
	snprintf(err, sizeof(err), "%s/err", d.dir);
	char *argv[] = {(char *)env_or("RBD", "build/rbd"), "--config", d.config, NULL};
	cr_assert_eq(spawn_wait(argv, out, err, 30), 0);
	rbw_client *c = NULL;
	rbe_error ce = {0};
	cr_assert_eq(rbw_client_open(d.sock, &c, &ce), 0, "listening when rbd returns: %s", ce.msg);
	rbw_client_close(c);
	json_decref(call_ok(&d, "GetInfo", NULL));
	char log_path[400];
	snprintf(log_path, sizeof(log_path), "%s/rbd.log", d.state);
	char *log = slurp_file(log_path), *at = log ? strstr(log, " rbd[") : NULL;
	cr_assert_not_null(at, "no log in %s", log_path);
	pid_t pid = (pid_t)atoi(at + 5);
	free(log);
	cr_assert_gt(pid, 1);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert(POLL_UNTIL(kill(pid, 0) < 0, 10000), "rbd %d did not stop", (int)pid);

	/* A dataset that cannot be loaded: exit 1, and the reason on the caller's stderr. */
	cr_assert_eq(unlink(d.data), 0);
	cr_assert_eq(spawn_wait(argv, out, err, 30), 1);
	char *msg = slurp_file(err);
	cr_assert(strstr(msg, "small.rbds") && strstr(msg, "rbd.log"), "%s", msg);
	free(msg);
	rbd_proc_cleanup(&d);
}

/* ---- what the plugin directory may hold ---- */

/* The listing's entry for file (owned), or NULL. */
static json_t *router_of_file(const rbd_proc *d, const char *file)
{
	json_t *list = call_ok(d, "ListRouters", NULL);
	json_t *found = NULL, *r;
	size_t i;
	json_array_foreach(json_object_get(list, "routers"), i, r)
		if (!strcmp(jstr(r, "file"), file))
			found = json_incref(r);
	json_decref(list);
	return found;
}

static size_t files_in(const char *dir)
{
	DIR *dh = opendir(dir);
	cr_assert_not_null(dh, "%s", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dh)))
		n += de->d_name[0] != '.';
	closedir(dh);
	return n;
}

Test(daemon, symlinks_and_special_files_in_the_plugin_dir_are_refused)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	char path[700], elsewhere[700];
	/* A link to a secret: before, rbd copied /etc/passwd into its store. */
	snprintf(path, sizeof(path), "%s/passwd.so", d.plugins);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	/* A link to a real router outside the directory: refused all the same. */
	snprintf(elsewhere, sizeof(elsewhere), "%s/single.so", d.dir);
	copy_file(builtin_plugin("single"), elsewhere);
	snprintf(path, sizeof(path), "%s/linked.so", d.plugins);
	cr_assert_eq(symlink(elsewhere, path), 0);
	/* A FIFO would block a reader that opened it without O_NONBLOCK. */
	snprintf(path, sizeof(path), "%s/fifo.so", d.plugins);
	cr_assert_eq(mkfifo(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/dir.so", d.plugins);
	cr_assert_eq(mkdir(path, 0755), 0);
	rbd_proc_start(&d);
	static const struct {
		const char *file, *reason;
	} cases[] = {{"passwd.so", "a symbolic link"},
		     {"linked.so", "a symbolic link"},
		     {"fifo.so", "not a regular file"},
		     {"dir.so", "not a regular file"}};
	for (size_t i = 0; i < 4; i++) {
		json_t *r = router_of_file(&d, cases[i].file);
		cr_assert_not_null(r, "%s is not listed", cases[i].file);
		cr_assert_str_eq(jstr(r, "state"), "rejected", "%s", cases[i].file);
		cr_assert(strstr(jstr(r, "reason"), cases[i].reason), "%s: %s", cases[i].file, jstr(r, "reason"));
		cr_assert(json_is_null(json_object_get(r, "sha256")), "%s was read", cases[i].file);
		json_decref(r);
	}
	/* The store holds the one regular router file, nothing the links point to. */
	snprintf(path, sizeof(path), "%s/plugins", d.state);
	cr_assert_eq(files_in(path), 1, "the store holds %zu files", files_in(path));
	cr_assert(router_is(&d, "random", "ok", NULL));
	rbw_reply rep = call(&d, "Submit", json_pack("{ssss}", "dataset", "small", "router", "single"));
	cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
	rbw_reply_clear(&rep);
	cr_assert(log_has(&d, "router file passwd.so refused: a symbolic link", NULL));
	rbd_proc_finish(&d);
}

Test(daemon, a_router_name_declared_twice_is_used_by_neither)
{
	rbd_proc d;
	rbd_proc_init(&d, basic_routers);
	char path[700];
	snprintf(path, sizeof(path), "%s/another_random.so", d.plugins);
	copy_file(builtin_plugin("random"), path);
	rbd_proc_start(&d);
	json_t *a = router_of_file(&d, "another_random.so"), *b = router_of_file(&d, "random.so");
	cr_assert(a && b);
	cr_assert_str_eq(jstr(a, "state"), "rejected");
	cr_assert_str_eq(jstr(a, "reason"), "router name 'random' is also declared by random.so");
	cr_assert_str_eq(jstr(b, "state"), "rejected");
	cr_assert_str_eq(jstr(b, "reason"), "router name 'random' is also declared by another_random.so");
	json_decref(a);
	json_decref(b);
	rbw_reply rep = call(&d, "Submit", json_pack("{ssss}", "dataset", "small", "router", "random"));
	cr_assert_str_eq(rep.error, RBW_ERR_NO_SUCH_ROUTER);
	const char *msg = json_string_value(json_object_get(rep.parameters, "message"));
	cr_assert(strstr(msg, "declared by both another_random.so and random.so"), "%s", msg);
	cr_assert_str_eq(jstr(rep.parameters, "reason"), msg);
	rbw_reply_clear(&rep);
	/* Other routers are untouched; removing one of the two files settles it. */
	cr_assert(router_is(&d, "single", "ok", NULL));
	cr_assert_eq(unlink(path), 0);
	cr_assert(POLL_UNTIL(router_is(&d, "random", "ok", NULL), 10000));
	json_decref(wait_final(&d, submit_ok(&d, json_pack("{sssssi}", "dataset", "small", "router", "random",
							    "bootstrap", 0))));
	rbd_proc_finish(&d);
}

Test(daemon, a_plugin_exiting_in_its_constructor_is_named_so)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", "exit_in_ctor", NULL});
	rbd_proc_start(&d);
	json_t *r = router_of_file(&d, "exit_in_ctor.so");
	cr_assert_not_null(r);
	cr_assert_str_eq(jstr(r, "state"), "rejected");
	/* Under ASan the worker's exit runs LeakSanitizer, which may change the status. */
	if (RB_TEST_ASAN)
		cr_assert(strstr(jstr(r, "reason"), "the plugin exited while loading (status "), "%s", jstr(r, "reason"));
	else
		cr_assert_str_eq(jstr(r, "reason"), "the plugin exited while loading (status 0)");
	json_decref(r);
	rbd_proc_finish(&d);
}

/* ---- the sandbox the kernel offers ---- */

/* Run rbd (config d->config) in a child that sees no Landlock (a seccomp filter answers ENOSYS
 * to landlock_create_ruleset, as an old kernel would). Returns the child's pid. */
static pid_t start_without_landlock(rbd_proc *d)
{
	int log_fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(log_fd, 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(126);
		if (dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		char *argv[] = {(char *)env_or("RBD", "build/rbd"), "--config", d->config, "--foreground", NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	close(log_fd);
	d->pid = pid;
	return pid;
}

Test(daemon, rbd_refuses_to_start_without_a_sandbox_layer_it_needs)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"random", NULL});
	rbd_proc_write_config(&d);
	pid_t pid = start_without_landlock(&d);
	int st = 0;
	cr_assert(POLL_UNTIL(waitpid(pid, &st, WNOHANG) == pid, 20000), "rbd started without Landlock");
	d.pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 126, "status %d", st);
	char *log = slurp_file(d.log);
	cr_assert(strstr(log, "the kernel offers no Landlock") && strstr(log, "require_landlock = false") &&
		  strstr(log, "enabled = false"), "%s", log);
	free(log);

	/* The administrator's opt-outs: each starts, with a warning. */
	static const char *const opt_outs[] = {"[sandbox]\nrequire_landlock = false\n", "[sandbox]\nenabled = false\n"};
	static const char *const warnings[] = {"jobs' files are not confined", "[sandbox] enabled = false"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(d.extra, sizeof(d.extra), "%s", opt_outs[i]);
		rbd_proc_write_config(&d);
		start_without_landlock(&d);
		rbw_client *c = rbd_connect_retry(d.sock, 20000);
		cr_assert_not_null(c, "rbd did not start with %s", opt_outs[i]);
		rbw_client_close(c);
		cr_assert(log_has(&d, warnings[i], NULL), "no warning '%s'", warnings[i]);
		cr_assert_eq(rbd_proc_stop(&d, 30), 0);
	}
	rbd_proc_cleanup(&d);
}

/* A plugin printing while it is probed reaches rbd's log through the limiter: a few lines, then
 * how many more there were. */
Test(daemon, a_chatty_probe_is_summed_up_in_the_log)
{
	rbd_proc d;
	rbd_proc_init(&d, (const char *const[]){"chatty_ctor", NULL});
	rbd_proc_start(&d);
	cr_assert(router_is(&d, "chatty_ctor", "ok", NULL));
	cr_assert(POLL_UNTIL(log_has(&d, "similar lines suppressed (probe of chatty_ctor.so)", NULL), 20000),
		  "no summary in %s", d.log);
	char *log = slurp_file(d.log);
	size_t lines = 0;
	for (const char *p = log; (p = strstr(p, "chatty line")); p++)
		lines++;
	cr_assert_eq(lines, 10, "%zu lines of the plugin's output in rbd's log", lines);
	cr_assert(strstr(log, "990 similar lines suppressed (probe of chatty_ctor.so)"), "%s", log);
	free(log);
	rbd_proc_finish(&d);
}
