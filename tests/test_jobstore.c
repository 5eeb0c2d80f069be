/* test_jobstore.c — the SQLite job store: life cycle, immutability of final jobs, durability, refusals. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/jobstore.h"

static char dir[64], db_path[128];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rbtest-js.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/jobs.db", dir);
}

static void remove_dir(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	int rc = system(cmd);
	(void)rc; /* a leftover temp dir is no test failure */
}

TestSuite(jobstore, .init = make_dir, .fini = remove_dir);

static rbd_jobstore *open_or_fail(void)
{
	rbd_jobstore *js = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_open(db_path, &js, &e), 0, "%s", e.msg);
	return js;
}

static rbd_job_row sample_row(const char *team, const char *router)
{
	return (rbd_job_row){
		.team = (char *)team,
		.uid = 1000,
		.dataset = (char *)"demo",
		.dataset_sha256 = (char *)"aa11",
		.router = (char *)router,
		.router_sha256 = (char *)"bb22",
		.spec = (char *)"{\"dataset\":\"demo\",\"router\":\"knn\"}",
		.submitted_at = 1764300000.125,
		/* Ignored by insert: */
		.id = 999,
		.state = RBD_JOB_DONE,
		.reason = (char *)"ignored",
		.started_at = 5,
		.finished_at = 6,
		.attempts = 9,
	};
}

static int64_t insert_or_fail(rbd_jobstore *js, const char *team, const char *router)
{
	rbd_job_row row = sample_row(team, router);
	int64_t id = -1;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_insert(js, &row, &id, &e), 0, "%s", e.msg);
	return id;
}

static void start_or_fail(rbd_jobstore *js, int64_t id, double now)
{
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_start(js, id, now, &e), 0, "%s", e.msg);
}

static void finish_or_fail(rbd_jobstore *js, int64_t id, rbd_job_state state, const char *result, const char *reason,
			   double now)
{
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_finish(js, id, state, result, reason, now, &e), 0, "%s", e.msg);
}

static rbd_job_row get_or_fail(rbd_jobstore *js, int64_t id)
{
	rbd_job_row row;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_get(js, id, &row, &e), 0, "%s", e.msg);
	return row;
}

static rbd_job_state state_of(rbd_jobstore *js, int64_t id)
{
	rbd_job_row row = get_or_fail(js, id);
	rbd_job_state s = row.state;
	rbd_job_row_clear(&row);
	return s;
}

/* Run SQL on the database at path as another writer would. */
static void sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, &err), SQLITE_OK, "%s", err ? err : "");
	sqlite3_close(db);
}

Test(jobstore, insert_and_get)
{
	rbd_jobstore *js = open_or_fail();
	int64_t a = insert_or_fail(js, "nlp", "knn");
	int64_t b = insert_or_fail(js, "vision", "random");
	cr_assert_eq(a, 1);
	cr_assert_eq(b, 2);
	rbd_job_row row = get_or_fail(js, a);
	cr_assert_eq(row.id, a);
	cr_assert_str_eq(row.team, "nlp");
	cr_assert_eq(row.uid, 1000);
	cr_assert_eq(row.state, RBD_JOB_QUEUED);
	cr_assert_str_eq(row.dataset, "demo");
	cr_assert_str_eq(row.dataset_sha256, "aa11");
	cr_assert_str_eq(row.router, "knn");
	cr_assert_str_eq(row.router_sha256, "bb22");
	cr_assert_str_eq(row.spec, "{\"dataset\":\"demo\",\"router\":\"knn\"}");
	cr_assert_null(row.reason);
	cr_assert_eq(row.submitted_at, 1764300000.125);
	cr_assert_eq(row.started_at, 0);
	cr_assert_eq(row.finished_at, 0);
	cr_assert_eq(row.attempts, 0);
	rbd_job_row_clear(&row);
	cr_assert_null(row.team);
	rbd_job_row_clear(&row);
	rbd_job_row_clear(NULL);

	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_get(js, 77, &row, &e), -ENOENT);
	cr_assert(strstr(e.msg, db_path) && strstr(e.msg, "no job 77"), "%s", e.msg);
	rbd_jobstore_close(js);
	rbd_jobstore_close(NULL);
}

Test(jobstore, insert_refuses_a_missing_field)
{
	rbd_jobstore *js = open_or_fail();
	rbd_job_row row = sample_row("nlp", "knn");
	row.router_sha256 = NULL;
	int64_t id = -1;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_insert(js, &row, &id, &e), -EINVAL);
	cr_assert_eq(id, -1);
	cr_assert(strstr(e.msg, "without router_sha256"), "%s", e.msg);
	rbd_jobstore_close(js);
}

Test(jobstore, start_finish_and_result)
{
	rbd_jobstore *js = open_or_fail();
	int64_t id = insert_or_fail(js, "nlp", "knn");
	start_or_fail(js, id, 100.5);
	rbd_job_row row = get_or_fail(js, id);
	cr_assert_eq(row.state, RBD_JOB_RUNNING);
	cr_assert_eq(row.attempts, 1);
	cr_assert_eq(row.started_at, 100.5);
	rbd_job_row_clear(&row);

	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_start(js, id, 101, &e), -ESTALE);
	cr_assert_str_eq(e.msg, "job 1 is running, not queued");
	cr_assert_eq(rbd_jobstore_start(js, 42, 101, &e), -ENOENT);

	char *text = NULL;
	cr_assert_eq(rbd_jobstore_result(js, id, &text, &e), -ENOENT, "no result before the end");
	finish_or_fail(js, id, RBD_JOB_DONE, "{\"ok\":true}", NULL, 200.25);
	row = get_or_fail(js, id);
	cr_assert_eq(row.state, RBD_JOB_DONE);
	cr_assert_eq(row.finished_at, 200.25);
	cr_assert_null(row.reason);
	rbd_job_row_clear(&row);
	cr_assert_eq(rbd_jobstore_result(js, id, &text, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text, "{\"ok\":true}");
	free(text);
	rbd_jobstore_close(js);
}

Test(jobstore, a_final_job_never_changes)
{
	rbd_jobstore *js = open_or_fail();
	int64_t done = insert_or_fail(js, "nlp", "knn");
	int64_t failed = insert_or_fail(js, "nlp", "knn");
	int64_t cancelled = insert_or_fail(js, "nlp", "knn");
	start_or_fail(js, done, 1);
	finish_or_fail(js, done, RBD_JOB_DONE, "{\"r\":1}", NULL, 2);
	start_or_fail(js, failed, 1);
	finish_or_fail(js, failed, RBD_JOB_FAILED, NULL, "router crashed: SIGSEGV in predict", 3);
	/* A queued job is cancelled directly. */
	finish_or_fail(js, cancelled, RBD_JOB_CANCELLED, NULL, "cancelled by uid 1000", 4);

	rbe_error e = {0};

	int64_t ids[] = {done, failed, cancelled};
	for (size_t k = 0; k < 3; k++) {
		rbd_job_row before = get_or_fail(js, ids[k]);
		cr_assert_eq(rbd_jobstore_finish(js, ids[k], RBD_JOB_CANCELLED, NULL, "again", 9, &e), -ESTALE);
		char want[96];
		snprintf(want, sizeof(want), "job %lld is %s, not queued or running", (long long)ids[k],
			 rbd_job_state_name(before.state));
		cr_assert_str_eq(e.msg, want);
		cr_assert_eq(rbd_jobstore_finish(js, ids[k], RBD_JOB_DONE, "{}", NULL, 9, &e), -ESTALE);
		cr_assert_eq(rbd_jobstore_start(js, ids[k], 9, &e), -ESTALE);
		cr_assert_eq(rbd_jobstore_requeue(js, ids[k], &e), -ESTALE);
		size_t n = 99;
		cr_assert_eq(rbd_jobstore_recover(js, &n, &e), 0);
		cr_assert_eq(n, 0);
		rbd_job_row after = get_or_fail(js, ids[k]);
		cr_assert_eq(after.state, before.state);
		cr_assert_eq(after.finished_at, before.finished_at);
		cr_assert_eq(after.attempts, before.attempts);
		cr_assert_eq(!after.reason, !before.reason);
		if (before.reason)
			cr_assert_str_eq(after.reason, before.reason);
		rbd_job_row_clear(&before);
		rbd_job_row_clear(&after);
	}
	char *text = NULL;
	cr_assert_eq(rbd_jobstore_result(js, done, &text, &e), 0);
	cr_assert_str_eq(text, "{\"r\":1}", "the result is not replaced");
	free(text);
	cr_assert_eq(rbd_jobstore_result(js, failed, &text, &e), -ENOENT);
	rbd_job_row row = get_or_fail(js, failed);
	cr_assert_str_eq(row.reason, "router crashed: SIGSEGV in predict");
	rbd_job_row_clear(&row);
	rbd_jobstore_close(js);

	/* The rule holds for any writer, not just the store's own statements. */
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	char *err = NULL;
	cr_assert_neq(sqlite3_exec(db, "UPDATE jobs SET state = 'queued' WHERE id = 1", NULL, NULL, &err), SQLITE_OK);
	cr_assert(err && strstr(err, "a final job never changes"), "%s", err ? err : "(none)");
	sqlite3_free(err);
	sqlite3_close(db);
}

Test(jobstore, finish_refuses_inconsistent_arguments)
{
	rbd_jobstore *js = open_or_fail();
	int64_t id = insert_or_fail(js, "nlp", "knn");
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_finish(js, id, RBD_JOB_RUNNING, NULL, NULL, 1, &e), -EINVAL);
	cr_assert(strstr(e.msg, "not a final state"), "%s", e.msg);
	cr_assert_eq(rbd_jobstore_finish(js, id, RBD_JOB_FAILED, "{}", "x", 1, &e), -EINVAL);
	cr_assert(strstr(e.msg, "only a done job has a result"), "%s", e.msg);
	cr_assert_eq(rbd_jobstore_finish(js, id, RBD_JOB_DONE, "{}", "why", 1, &e), -EINVAL);
	cr_assert_eq(rbd_jobstore_finish(js, 55, RBD_JOB_DONE, "{}", NULL, 1, &e), -ENOENT);
	cr_assert_eq(state_of(js, id), RBD_JOB_QUEUED);
	rbd_jobstore_close(js);
}

Test(jobstore, requeue_keeps_attempts)
{
	rbd_jobstore *js = open_or_fail();
	int64_t id = insert_or_fail(js, "nlp", "knn");
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_requeue(js, id, &e), -ESTALE, "a queued job is not running");
	cr_assert_str_eq(e.msg, "job 1 is queued, not running");
	start_or_fail(js, id, 10);
	cr_assert_eq(rbd_jobstore_requeue(js, id, &e), 0, "%s", e.msg);
	rbd_job_row row = get_or_fail(js, id);
	cr_assert_eq(row.state, RBD_JOB_QUEUED);
	cr_assert_eq(row.attempts, 1);
	rbd_job_row_clear(&row);
	start_or_fail(js, id, 20);
	row = get_or_fail(js, id);
	cr_assert_eq(row.attempts, 2);
	cr_assert_eq(row.started_at, 20);
	rbd_job_row_clear(&row);
	cr_assert_eq(rbd_jobstore_requeue(js, 404, &e), -ENOENT);
	rbd_jobstore_close(js);
}

typedef struct seen {
	int64_t ids[32];
	size_t n;
	size_t stop_at; /* return 7 on this visit (1-based); 0: never */
} seen;

static int visit(void *ctx, const rbd_job_row *row)
{
	seen *s = ctx;
	cr_assert_lt(s->n, 32);
	cr_assert_not_null(row->team);
	s->ids[s->n++] = row->id;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void expect_list(rbd_jobstore *js, const char *team, int include_final, size_t n, const int64_t *want)
{
	seen s = {0};
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_list(js, team, include_final, visit, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(s.n, n, "team %s, final %d: %zu jobs, want %zu", team ? team : "(all)", include_final, s.n, n);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(s.ids[k], want[k], "job %zu", k);
}

Test(jobstore, list_filters_and_order)
{
	rbd_jobstore *js = open_or_fail();
	int64_t a1 = insert_or_fail(js, "a", "knn");
	int64_t b1 = insert_or_fail(js, "b", "knn");
	int64_t a2 = insert_or_fail(js, "a", "knn");
	int64_t b2 = insert_or_fail(js, "b", "knn");
	int64_t a3 = insert_or_fail(js, "a", "knn");
	start_or_fail(js, a2, 1);
	finish_or_fail(js, a1, RBD_JOB_CANCELLED, NULL, "no", 2);
	start_or_fail(js, b2, 1);
	finish_or_fail(js, b2, RBD_JOB_DONE, "{}", NULL, 3);

	expect_list(js, NULL, 1, 5, (int64_t[]){a1, b1, a2, b2, a3});
	expect_list(js, NULL, 0, 3, (int64_t[]){b1, a2, a3});
	expect_list(js, "a", 1, 3, (int64_t[]){a1, a2, a3});
	expect_list(js, "a", 0, 2, (int64_t[]){a2, a3});
	expect_list(js, "b", 0, 1, (int64_t[]){b1});
	expect_list(js, "nobody", 1, 0, NULL);

	seen s = {.stop_at = 2};
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_list(js, NULL, 1, visit, &s, &e), 7, "the callback's value stops the walk");
	cr_assert_eq(s.n, 2);
	rbd_jobstore_close(js);
}

Test(jobstore, recover_requeues_running_jobs)
{
	rbd_jobstore *js = open_or_fail();
	int64_t ids[4];
	for (size_t k = 0; k < 4; k++)
		ids[k] = insert_or_fail(js, "nlp", "knn");
	for (size_t k = 0; k < 3; k++)
		start_or_fail(js, ids[k], 1);
	finish_or_fail(js, ids[2], RBD_JOB_FAILED, NULL, "boom", 2);
	rbd_jobstore_close(js);

	js = open_or_fail();
	rbe_error e = {0};
	size_t n = 0;
	cr_assert_eq(rbd_jobstore_recover(js, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	rbd_job_row row = get_or_fail(js, ids[0]);
	cr_assert_eq(row.state, RBD_JOB_QUEUED);
	cr_assert_eq(row.attempts, 1, "attempts are kept");
	rbd_job_row_clear(&row);
	cr_assert_eq(state_of(js, ids[1]), RBD_JOB_QUEUED);
	cr_assert_eq(state_of(js, ids[2]), RBD_JOB_FAILED);
	cr_assert_eq(state_of(js, ids[3]), RBD_JOB_QUEUED);
	cr_assert_eq(rbd_jobstore_recover(js, &n, &e), 0);
	cr_assert_eq(n, 0);
	rbd_jobstore_close(js);
}

Test(jobstore, reopen_keeps_everything_and_ids_are_never_reused)
{
	rbd_jobstore *js = open_or_fail();
	int64_t a = insert_or_fail(js, "nlp", "knn");
	int64_t b = insert_or_fail(js, "nlp", "linear");
	int64_t c = insert_or_fail(js, "vision", "mlp");
	start_or_fail(js, a, 5);
	finish_or_fail(js, a, RBD_JOB_DONE, "{\"big\":[1,2,3]}", NULL, 6);
	start_or_fail(js, b, 7);
	rbd_jobstore_close(js);

	js = open_or_fail();
	rbd_job_row row = get_or_fail(js, a);
	cr_assert_eq(row.state, RBD_JOB_DONE);
	cr_assert_eq(row.started_at, 5);
	cr_assert_eq(row.finished_at, 6);
	rbd_job_row_clear(&row);
	char *text = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_result(js, a, &text, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text, "{\"big\":[1,2,3]}");
	free(text);
	row = get_or_fail(js, b);
	cr_assert_eq(row.state, RBD_JOB_RUNNING);
	cr_assert_str_eq(row.router, "linear");
	rbd_job_row_clear(&row);
	row = get_or_fail(js, c);
	cr_assert_str_eq(row.team, "vision");
	rbd_job_row_clear(&row);
	rbd_jobstore_close(js);

	/* Even when the newest row is deleted by hand, its id is not handed out again. */
	sql(db_path, "DELETE FROM jobs WHERE id = 3");
	js = open_or_fail();
	cr_assert_eq(insert_or_fail(js, "nlp", "knn"), 4);
	rbd_jobstore_close(js);
}

Test(jobstore, uses_a_write_ahead_log)
{
	rbd_jobstore *js = open_or_fail();
	insert_or_fail(js, "nlp", "knn");
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	struct stat st;
	cr_assert_eq(stat(wal, &st), 0, "%s exists while the store is open", wal);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(q, 0), 2);
	sqlite3_finalize(q);
	sqlite3_close(db);
	rbd_jobstore_close(js);
}

/* The promise behind Submit's reply: once insert (or finish) returns, the row is in the file,
 * whatever happens to the process next. */
Test(jobstore, a_job_survives_sigkill_right_after_insert)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		rbd_jobstore *js = NULL;
		rbe_error e = {0};
		rbd_job_row row = sample_row("durable", "knn");
		int64_t a = 0, b = 0;
		if (rbd_jobstore_open(db_path, &js, &e) < 0 || rbd_jobstore_insert(js, &row, &a, &e) < 0 ||
		    rbd_jobstore_start(js, a, 1, &e) < 0 ||
		    rbd_jobstore_finish(js, a, RBD_JOB_DONE, "{\"result\":\"kept\"}", NULL, 2, &e) < 0)
			_exit(1);
		row.router = (char *)"last";
		if (rbd_jobstore_insert(js, &row, &b, &e) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the child died by SIGKILL (status %d)", st);

	rbd_jobstore *js = open_or_fail();
	rbe_error e = {0};
	char *text = NULL;
	cr_assert_eq(rbd_jobstore_result(js, 1, &text, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text, "{\"result\":\"kept\"}");
	free(text);
	rbd_job_row row = get_or_fail(js, 2);
	cr_assert_str_eq(row.team, "durable");
	cr_assert_str_eq(row.router, "last");
	cr_assert_eq(row.state, RBD_JOB_QUEUED);
	rbd_job_row_clear(&row);
	rbd_jobstore_close(js);
}

Test(jobstore, refuses_a_newer_schema)
{
	rbd_jobstore *js = open_or_fail();
	rbd_jobstore_close(js);
	sql(db_path, "PRAGMA user_version = 3");
	js = (rbd_jobstore *)0x1;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_open(db_path, &js, &e), -EPROTONOSUPPORT);
	cr_assert_eq(js, (rbd_jobstore *)0x1, "untouched on failure");
	cr_assert(strstr(e.msg, db_path), "%s", e.msg);
	cr_assert(strstr(e.msg, "schema version 3, newer than this rbd knows (2)"), "%s", e.msg);
}

Test(jobstore, refuses_a_foreign_database)
{
	sql(db_path, "CREATE TABLE notes (body TEXT)");
	rbd_jobstore *js = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_open(db_path, &js, &e), -EINVAL);
	cr_assert(strstr(e.msg, db_path) && strstr(e.msg, "not an rbd job database"), "%s", e.msg);

	char other[160];
	snprintf(other, sizeof(other), "%s/other.db", dir);
	sql(other, "PRAGMA application_id = 1234");
	cr_assert_eq(rbd_jobstore_open(other, &js, &e), -EINVAL);
	cr_assert(strstr(e.msg, "not an rbd job database (application_id 0x000004d2)"), "%s", e.msg);
}

Test(jobstore, a_non_sqlite_file_names_the_path)
{
	FILE *f = fopen(db_path, "w");
	cr_assert_not_null(f);
	for (int k = 0; k < 200; k++)
		fputs("this is not a database at all\n", f);
	fclose(f);
	rbd_jobstore *js = NULL;
	rbe_error e = {0};
	int r = rbd_jobstore_open(db_path, &js, &e);
	cr_assert_lt(r, 0);
	cr_assert_null(js);
	char want[256];
	snprintf(want, sizeof(want), "%s: cannot open the job database: file is not a database", db_path);
	cr_assert_str_eq(e.msg, want);
}

Test(jobstore, an_unreachable_path_names_the_path)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/missing-dir/jobs.db", dir);
	rbd_jobstore *js = NULL;
	rbe_error e = {0};
	cr_assert_lt(rbd_jobstore_open(path, &js, &e), 0);
	cr_assert(strstr(e.msg, path), "%s", e.msg);
	cr_assert(strstr(e.msg, "unable to open database file"), "%s", e.msg);
}

Test(jobstore, state_names)
{
	static const char *const names[] = {"queued", "running", "done", "failed", "cancelled"};
	for (int k = 0; k < 5; k++) {
		cr_assert_str_eq(rbd_job_state_name((rbd_job_state)k), names[k]);
		rbd_job_state s = RBD_JOB_QUEUED;
		cr_assert_eq(rbd_job_state_parse(names[k], &s), 0);
		cr_assert_eq((int)s, k);
		cr_assert_eq(rbd_job_state_final(s), k >= 2);
	}
	rbd_job_state s = RBD_JOB_RUNNING;
	cr_assert_eq(rbd_job_state_parse("finished", &s), -EINVAL);
	cr_assert_eq(s, RBD_JOB_RUNNING);
	cr_assert_str_eq(rbd_job_state_name((rbd_job_state)17), "invalid");
}

/* ---- schema 2: router output, router faults, damage ---- */

/* A database as rbd before schema 2 wrote it keeps its jobs and gains the new column and table. */
Test(jobstore, migrates_a_version_1_database)
{
	sql(db_path, "PRAGMA journal_mode = WAL;"
		     "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, team TEXT NOT NULL, uid INTEGER NOT NULL,"
		     " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
		     " dataset TEXT NOT NULL, dataset_sha256 TEXT NOT NULL, router TEXT NOT NULL,"
		     " router_sha256 TEXT NOT NULL, spec TEXT NOT NULL, reason TEXT, submitted_at REAL NOT NULL,"
		     " started_at REAL NOT NULL DEFAULT 0, finished_at REAL NOT NULL DEFAULT 0,"
		     " attempts INTEGER NOT NULL DEFAULT 0, result TEXT);"
		     "CREATE INDEX jobs_active ON jobs(id) WHERE state IN ('queued', 'running');"
		     "CREATE INDEX jobs_team ON jobs(team, id);"
		     "CREATE TRIGGER jobs_final_is_final BEFORE UPDATE ON jobs"
		     " WHEN OLD.state IN ('done', 'failed', 'cancelled')"
		     " BEGIN SELECT RAISE(ABORT, 'a final job never changes'); END;"
		     "INSERT INTO jobs (team, uid, state, dataset, dataset_sha256, router, router_sha256, spec,"
		     " submitted_at, attempts) VALUES ('old', 7, 'running', 'demo', 'aa', 'knn', 'bb', '{}', 1, 1);"
		     "PRAGMA user_version = 1; PRAGMA application_id = 1380598355;");
	rbd_jobstore *js = open_or_fail();
	rbd_job_row row = get_or_fail(js, 1);
	cr_assert_str_eq(row.team, "old");
	cr_assert_eq(row.attempts, 1);
	rbd_job_row_clear(&row);
	rbe_error e = {0};
	cr_assert_eq(rbd_jobstore_finish_output(js, 1, RBD_JOB_FAILED, NULL, "boom", "router said hi\n", 2, &e), 0, "%s",
		     e.msg);
	char *out = NULL;
	cr_assert_eq(rbd_jobstore_output(js, 1, &out, &e), 0, "%s", e.msg);
	cr_assert_str_eq(out, "router said hi\n");
	free(out);
	uint32_t faults = 0;
	cr_assert_eq(rbd_jobstore_add_fault(js, "bb", "old", "crashed", &faults, &e), 0, "%s", e.msg);
	cr_assert_eq(faults, 1);
	rbd_jobstore_close(js);
	/* Migrated once: opening again changes nothing. */
	js = open_or_fail();
	cr_assert_eq(rbd_jobstore_faults(js, "bb", "old", &faults, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(faults, 1);
	rbd_jobstore_close(js);
}

Test(jobstore, router_faults_count_per_router_and_team_and_persist)
{
	rbd_jobstore *js = open_or_fail();
	rbe_error e = {0};
	uint32_t n = 0;
	cr_assert_eq(rbd_jobstore_add_fault(js, "sha1", "a", "first", &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(rbd_jobstore_add_fault(js, "sha1", "a", "second", &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(rbd_jobstore_add_fault(js, "sha1", "b", "other team", &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	rbd_jobstore_close(js);
	js = open_or_fail();
	char *last = NULL;
	cr_assert_eq(rbd_jobstore_faults(js, "sha1", "a", &n, &last, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(last, "second");
	free(last);
	cr_assert_eq(rbd_jobstore_faults(js, "sha1", "b", &n, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(rbd_jobstore_faults(js, "sha2", "a", &n, &last, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 0);
	cr_assert_null(last);
	rbd_jobstore_close(js);
}

Test(jobstore, damaged_file_is_refused_naming_it)
{
	rbd_jobstore *js = open_or_fail();
	for (int i = 0; i < 200; i++)
		insert_or_fail(js, "a-team-with-a-long-name-to-fill-pages", "a-router-with-a-long-name-to-fill-pages");
	rbd_jobstore_close(js);
	struct stat st;
	cr_assert_eq(stat(db_path, &st), 0);
	cr_assert_geq(st.st_size, 8 * 4096);
	FILE *f = fopen(db_path, "r+b");
	cr_assert_not_null(f);
	char junk[4096];
	memset(junk, 0x5A, sizeof(junk));
	for (long off = 4096; off < st.st_size - 4096; off += 3 * 4096) {
		cr_assert_eq(fseek(f, off, SEEK_SET), 0);
		cr_assert_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	}
	fclose(f);
	rbe_error e = {0};
	js = NULL;
	cr_assert_eq(rbd_jobstore_open(db_path, &js, &e), -EINVAL, "%s", e.msg);
	cr_assert_null(js);
	cr_assert(strstr(e.msg, db_path) && strstr(e.msg, "damaged"), "%s", e.msg);
}

Test(jobstore, damaged_json_is_reported_not_served)
{
	rbd_jobstore *js = open_or_fail();
	int64_t a = insert_or_fail(js, "t", "knn"), b = insert_or_fail(js, "t", "knn");
	start_or_fail(js, a, 1);
	finish_or_fail(js, a, RBD_JOB_DONE, "{\"ok\": 1}", NULL, 2);
	rbd_jobstore_close(js);
	char text[256];
	snprintf(text, sizeof(text),
		 "DROP TRIGGER jobs_final_is_final; UPDATE jobs SET result = '{\"ok\": ' WHERE id = %lld;"
		 "UPDATE jobs SET spec = 'not json' WHERE id = %lld;",
		 (long long)a, (long long)b);
	sql(db_path, text);
	js = open_or_fail();
	rbe_error e = {0};
	char *result = (char *)"untouched";
	cr_assert_eq(rbd_jobstore_result(js, a, &result, &e), -EBADMSG);
	cr_assert_null(result);
	cr_assert(strstr(e.msg, "stored job is damaged") && strstr(e.msg, "its result is not JSON"), "%s", e.msg);
	rbd_job_row row = get_or_fail(js, b);
	cr_assert_eq(rbd_jobstore_spec_check(js, &row, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "stored job is damaged") && strstr(e.msg, "its spec is not JSON"), "%s", e.msg);
	rbd_job_row_clear(&row);
	row = get_or_fail(js, a);
	cr_assert_eq(rbd_jobstore_spec_check(js, &row, &e), 0, "%s", e.msg);
	rbd_job_row_clear(&row);
	rbd_jobstore_close(js);
}
