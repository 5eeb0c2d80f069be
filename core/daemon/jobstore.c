/* jobstore.c — durable jobs in one SQLite database: WAL, synchronous=FULL, final states immutable in SQL. */
#include "daemon/jobstore.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* PRAGMA user_version of the schema below; a file with a larger one was written by a newer rbd. */
#define JOBSTORE_SCHEMA_VERSION 2
/* PRAGMA application_id: "RBJS", so a database of some other program is told apart from ours. */
#define JOBSTORE_APPLICATION_ID 0x524A4253
/* A writer holding the lock (the sqlite3 shell, a backup) delays us this long before -EBUSY. */
#define JOBSTORE_BUSY_TIMEOUT_MS 5000

/* States are stored by name so the database reads well in the sqlite3 shell. The trigger makes
 * "a final job never changes" hold for any writer, not just this file's WHERE clauses. */
static const char schema_v1[] =
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT," /* AUTOINCREMENT: an id is never reused */
	" team TEXT NOT NULL,"
	" uid INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),"
	" dataset TEXT NOT NULL,"
	" dataset_sha256 TEXT NOT NULL,"
	" router TEXT NOT NULL,"
	" router_sha256 TEXT NOT NULL,"
	" spec TEXT NOT NULL,"
	" reason TEXT,"
	" submitted_at REAL NOT NULL,"
	" started_at REAL NOT NULL DEFAULT 0,"
	" finished_at REAL NOT NULL DEFAULT 0,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" result TEXT"
	");"
	"CREATE INDEX jobs_active ON jobs(id) WHERE state IN ('queued', 'running');"
	"CREATE INDEX jobs_team ON jobs(team, id);"
	"CREATE TRIGGER jobs_final_is_final BEFORE UPDATE ON jobs"
	" WHEN OLD.state IN ('done', 'failed', 'cancelled')"
	" BEGIN SELECT RAISE(ABORT, 'a final job never changes'); END;";

/* Version 2: the router's own output (stderr, bounded) per job, and the router faults counted
 * toward quarantine per router content and team, so a quarantine survives a restart. The final
 * trigger is recreated so the output can be stored with the final state in the same UPDATE. */
static const char schema_v2[] =
	"ALTER TABLE jobs ADD COLUMN output TEXT;"
	"CREATE TABLE router_faults ("
	" router_sha256 TEXT NOT NULL,"
	" team TEXT NOT NULL,"
	" faults INTEGER NOT NULL DEFAULT 0,"
	" last_reason TEXT,"
	" PRIMARY KEY (router_sha256, team)"
	");";

#define ROW_COLUMNS                                                                                \
	"id, team, uid, state, dataset, dataset_sha256, router, router_sha256, spec, reason, submitted_at, " \
	"started_at, finished_at, attempts"

enum {
	ST_INSERT,
	ST_START,
	ST_FINISH,
	ST_REQUEUE,
	ST_GET,
	ST_RESULT,
	ST_STATE,
	ST_OUTPUT,
	ST_FAULT,
	ST_FAULTS,
	ST_COUNT,
};

/* Kept prepared: these run for every job. */
static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT] = "INSERT INTO jobs (team, uid, state, dataset, dataset_sha256, router, router_sha256, spec,"
		      " submitted_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_START] = "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?2"
		     " WHERE id = ?1 AND state = 'queued'",
	[ST_FINISH] = "UPDATE jobs SET state = ?2, result = ?3, reason = ?4, finished_at = ?5, output = ?6"
		      " WHERE id = ?1 AND state IN ('queued', 'running')",
	[ST_REQUEUE] = "UPDATE jobs SET state = 'queued' WHERE id = ?1 AND state = 'running'",
	[ST_GET] = "SELECT " ROW_COLUMNS " FROM jobs WHERE id = ?1",
	[ST_RESULT] = "SELECT result FROM jobs WHERE id = ?1 AND state = 'done'",
	[ST_STATE] = "SELECT state FROM jobs WHERE id = ?1",
	[ST_OUTPUT] = "SELECT output FROM jobs WHERE id = ?1",
	[ST_FAULT] = "INSERT INTO router_faults (router_sha256, team, faults, last_reason) VALUES (?1, ?2, 1, ?3)"
		     " ON CONFLICT (router_sha256, team) DO UPDATE SET faults = faults + 1, last_reason = ?3"
		     " RETURNING faults",
	[ST_FAULTS] = "SELECT faults, last_reason FROM router_faults WHERE router_sha256 = ?1 AND team = ?2",
};

struct rbd_jobstore {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
};

static const char *const state_names[] = {
	[RBD_JOB_QUEUED] = "queued",
	[RBD_JOB_RUNNING] = "running",
	[RBD_JOB_DONE] = "done",
	[RBD_JOB_FAILED] = "failed",
	[RBD_JOB_CANCELLED] = "cancelled",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *rbd_job_state_name(rbd_job_state s)
{
	return (unsigned)s < N_STATES ? state_names[s] : "invalid";
}

int rbd_job_state_parse(const char *name, rbd_job_state *out)
{
	for (size_t k = 0; k < N_STATES; k++)
		if (strcmp(name, state_names[k]) == 0) {
			*out = (rbd_job_state)k;
			return 0;
		}
	return -EINVAL;
}

void rbd_job_row_clear(rbd_job_row *r)
{
	if (!r)
		return;
	free(r->team);
	free(r->dataset);
	free(r->dataset_sha256);
	free(r->router);
	free(r->router_sha256);
	free(r->spec);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

/* The errno closest to an SQLite result code, for callers that branch on it. */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
	case SQLITE_SCHEMA:
	case SQLITE_MISMATCH:
	case SQLITE_CONSTRAINT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* "PATH: what: SQLite's message (the system's, when there was one)". */
static int db_fail(rbd_jobstore *js, int rc, rbe_error *e, const char *what)
{
	int sys = js->db ? sqlite3_system_errno(js->db) : 0;
	const char *msg = js->db ? sqlite3_errmsg(js->db) : sqlite3_errstr(rc);
	if (sys && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR))
		return rbe_fail(e, sys == EACCES ? -EACCES : sqlite_errno(rc), "%s: %s: %s (%s)", js->path, what, msg,
				strerror(sys));
	return rbe_fail(e, sqlite_errno(rc), "%s: %s: %s", js->path, what, msg);
}

static int exec_sql(rbd_jobstore *js, const char *sql, const char *what, rbe_error *e)
{
	int rc = sqlite3_exec(js->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(js, rc, e, what);
}

/* A single-integer pragma or query. */
static int query_int(rbd_jobstore *js, const char *sql, int64_t *out, const char *what, rbe_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(js->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	int r = rc == SQLITE_OK ? 0 : db_fail(js, rc, e, what);
	sqlite3_finalize(st);
	return r;
}

/* Inside one write transaction, so two rbd starting at once cannot both create the tables. */
static int setup_schema(rbd_jobstore *js, rbe_error *e)
{
	int r = exec_sql(js, "BEGIN IMMEDIATE", "cannot read the job database", e);
	if (r < 0)
		return r;
	int64_t version = 0, app_id = 0, n_tables = 0;
	if ((r = query_int(js, "PRAGMA user_version", &version, "cannot read the schema version", e)) < 0 ||
	    (r = query_int(js, "PRAGMA application_id", &app_id, "cannot read the application id", e)) < 0 ||
	    (r = query_int(js, "SELECT count(*) FROM sqlite_master", &n_tables, "cannot read the schema", e)) < 0)
		goto out;
	if (app_id != 0 && app_id != JOBSTORE_APPLICATION_ID) {
		r = rbe_fail(e, -EINVAL, "%s: not an rbd job database (application_id 0x%08" PRIx64 ")", js->path,
			     (uint64_t)app_id);
		goto out;
	}
	if (version > JOBSTORE_SCHEMA_VERSION) {
		r = rbe_fail(e, -EPROTONOSUPPORT,
			     "%s: the job database has schema version %" PRId64 ", newer than this rbd knows (%d): "
			     "it was written by a newer rbd; run that, or move the file away to start afresh",
			     js->path, version, JOBSTORE_SCHEMA_VERSION);
		goto out;
	}
	if (version == 0 && (n_tables != 0 || app_id != 0)) {
		r = rbe_fail(e, -EINVAL, "%s: not an rbd job database (it has tables but no schema version)", js->path);
		goto out;
	}
	char sql[64];
	if (version == 0) {
		if ((r = exec_sql(js, schema_v1, "cannot create the tables", e)) < 0)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", JOBSTORE_APPLICATION_ID);
		if ((r = exec_sql(js, sql, "cannot set the application id", e)) < 0)
			goto out;
	}
	/* Each migration in the same transaction: a database is at one version or the next. */
	if (version < 2 && (r = exec_sql(js, schema_v2, "cannot migrate the job database to schema 2", e)) < 0)
		goto out;
	if (version < JOBSTORE_SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", JOBSTORE_SCHEMA_VERSION);
		if ((r = exec_sql(js, sql, "cannot set the schema version", e)) < 0)
			goto out;
	}
	r = exec_sql(js, "COMMIT", "cannot create the tables", e);
out:
	if (r < 0)
		sqlite3_exec(js->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* A damaged file is refused before anything is served from it: rbd must not hand out garbage. */
static int quick_check(rbd_jobstore *js, rbe_error *e)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(js->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	char first[512] = "";
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);
		snprintf(first, sizeof(first), "%s", m ? (const char *)m : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		int r = db_fail(js, rc, e, "the job database is damaged (quick_check failed)");
		return r == -EIO ? -EINVAL : r;
	}
	if (strcmp(first, "ok") != 0)
		return rbe_fail(e, -EINVAL,
				"%s: the job database is damaged (quick_check: %s); restore it from a backup or move it "
				"away to start afresh",
				js->path, first);
	return 0;
}

int rbd_jobstore_open(const char *path, rbd_jobstore **out, rbe_error *e)
{
	rbd_jobstore *js = rbe_xcalloc(1, sizeof(*js));
	js->path = rbe_xstrdup(path);
	int r;
	int rc = sqlite3_open_v2(path, &js->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		r = db_fail(js, rc, e, "cannot open the job database");
		goto fail;
	}
	sqlite3_extended_result_codes(js->db, 1);
	sqlite3_busy_timeout(js->db, JOBSTORE_BUSY_TIMEOUT_MS);
	/* The first statement reads the file: a non-SQLite file fails here ("file is not a
	 * database"). */
	char mode[16] = "";
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(js->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);
		snprintf(mode, sizeof(mode), "%s", m ? (const char *)m : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		r = db_fail(js, rc, e, "cannot open the job database");
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		r = rbe_fail(e, -ENOTSUP, "%s: the job database cannot use a write-ahead log (journal mode stays '%s'); "
					  "put the state directory on a local file system",
			     path, mode);
		goto fail;
	}
	/* FULL: in WAL mode every commit is fsynced, so an acknowledged Submit survives a power cut. */
	if ((r = exec_sql(js, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "cannot configure the database",
			  e)) < 0)
		goto fail;
	if ((r = quick_check(js, e)) < 0 || (r = setup_schema(js, e)) < 0)
		goto fail;
	for (int k = 0; k < ST_COUNT; k++) {
		rc = sqlite3_prepare_v3(js->db, stmt_sql[k], -1, SQLITE_PREPARE_PERSISTENT, &js->stmt[k], NULL);
		if (rc != SQLITE_OK) {
			r = db_fail(js, rc, e, "cannot prepare a statement");
			goto fail;
		}
	}
	*out = js;
	return 0;
fail:
	rbd_jobstore_close(js);
	return r;
}

void rbd_jobstore_close(rbd_jobstore *js)
{
	if (!js)
		return;
	for (int k = 0; k < ST_COUNT; k++)
		sqlite3_finalize(js->stmt[k]);
	/* The last connection to close checkpoints the WAL into the database file. */
	sqlite3_close_v2(js->db);
	free(js->path);
	free(js);
}

/* Reset and unbind a kept statement: done with it (bound text is not kept past the call), and
 * ready for its next use whatever happened in the last one. */
static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static sqlite3_stmt *stmt_get(rbd_jobstore *js, int k)
{
	stmt_done(js->stmt[k]);
	return js->stmt[k];
}

static int bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

int rbd_jobstore_insert(rbd_jobstore *js, const rbd_job_row *row, int64_t *id, rbe_error *e)
{
	static const char *const names[] = {"team", "dataset", "dataset_sha256", "router", "router_sha256", "spec"};
	const char *values[] = {row->team, row->dataset, row->dataset_sha256, row->router, row->router_sha256, row->spec};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (!values[k])
			return rbe_fail(e, -EINVAL, "%s: cannot insert a job without %s", js->path, names[k]);
	sqlite3_stmt *st = stmt_get(js, ST_INSERT);
	int rc = bind_text(st, 1, row->team);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, row->uid);
	for (int k = 1; rc == SQLITE_OK && k < 6; k++)
		rc = bind_text(st, 2 + k, values[k]);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 8, row->submitted_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_DONE)
		*id = sqlite3_last_insert_rowid(js->db);
	else
		r = db_fail(js, rc, e, "cannot store the job");
	stmt_done(st);
	return r;
}

/* Step the kept SELECT k with ?1 bound to a job id: SQLITE_ROW, SQLITE_DONE or an error code.
 * *st is for stmt_done afterwards, whatever the outcome. */
static int step_job(rbd_jobstore *js, int k, int64_t id, sqlite3_stmt **st)
{
	*st = stmt_get(js, k);
	int rc = sqlite3_bind_int64(*st, 1, id);
	return rc == SQLITE_OK ? sqlite3_step(*st) : rc;
}

/* step_job for a job that must exist: 1 with *st at its row, else -ENOENT (no such job) or another
 * negative errno. */
static int find_job(rbd_jobstore *js, int k, int64_t id, sqlite3_stmt **st, rbe_error *e)
{
	int rc = step_job(js, k, id, st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return rbe_fail(e, -ENOENT, "%s: no job %" PRId64, js->path, id);
	return db_fail(js, rc, e, "cannot read a job");
}

/* Why an UPDATE that matched no row did nothing: no such job (-ENOENT), or its state (-ESTALE). */
static int explain_no_change(rbd_jobstore *js, int64_t id, const char *wanted, rbe_error *e)
{
	sqlite3_stmt *st;
	int r = find_job(js, ST_STATE, id, &st, e);
	if (r > 0)
		r = rbe_fail(e, -ESTALE, "job %" PRId64 " is %s, not %s", id, (const char *)sqlite3_column_text(st, 0),
			     wanted);
	stmt_done(st);
	return r;
}

/* Step a bound UPDATE of job id (rc: how binding went); 0 when it changed the row, else a negative
 * errno: what failed, or why nothing matched (the job is not in the wanted state). */
static int run_update(rbd_jobstore *js, sqlite3_stmt *st, int rc, int64_t id, const char *wanted, const char *what,
		      rbe_error *e)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? sqlite3_changes(js->db) > 0 : db_fail(js, rc, e, what);
	stmt_done(st);
	if (r == 0)
		return explain_no_change(js, id, wanted, e);
	return r < 0 ? r : 0;
}

int rbd_jobstore_start(rbd_jobstore *js, int64_t id, double now, rbe_error *e)
{
	sqlite3_stmt *st = stmt_get(js, ST_START);
	int rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 2, now);
	return run_update(js, st, rc, id, "queued", "cannot start a job", e);
}

int rbd_jobstore_finish(rbd_jobstore *js, int64_t id, rbd_job_state state, const char *result, const char *reason,
			double now, rbe_error *e)
{
	return rbd_jobstore_finish_output(js, id, state, result, reason, NULL, now, e);
}

int rbd_jobstore_finish_output(rbd_jobstore *js, int64_t id, rbd_job_state state, const char *result,
			       const char *reason, const char *output, double now, rbe_error *e)
{
	if (!rbd_job_state_final(state) || (unsigned)state >= N_STATES)
		return rbe_fail(e, -EINVAL, "job %" PRId64 ": cannot finish as %s, not a final state", id,
				rbd_job_state_name(state));
	if (result && state != RBD_JOB_DONE)
		return rbe_fail(e, -EINVAL, "job %" PRId64 ": only a done job has a result, not a %s one", id,
				rbd_job_state_name(state));
	if (reason && state == RBD_JOB_DONE)
		return rbe_fail(e, -EINVAL, "job %" PRId64 ": a done job has no reason", id);
	sqlite3_stmt *st = stmt_get(js, ST_FINISH);
	int rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, rbd_job_state_name(state));
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, result);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 4, reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_double(st, 5, now);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 6, output);
	return run_update(js, st, rc, id, "queued or running", "cannot finish a job", e);
}

int rbd_jobstore_requeue(rbd_jobstore *js, int64_t id, rbe_error *e)
{
	sqlite3_stmt *st = stmt_get(js, ST_REQUEUE);
	int rc = sqlite3_bind_int64(st, 1, id);
	return run_update(js, st, rc, id, "running", "cannot requeue a job", e);
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? rbe_xstrdup((const char *)s) : NULL;
}

/* The row at st's cursor (columns in ROW_COLUMNS order); -EINVAL for a state name this rbd does
 * not know, which only a hand-edited file can hold past the CHECK constraint. */
static int read_row(rbd_jobstore *js, sqlite3_stmt *st, rbd_job_row *out, rbe_error *e)
{
	rbd_job_row row = {0};
	const unsigned char *state = sqlite3_column_text(st, 3);
	if (!state || rbd_job_state_parse((const char *)state, &row.state) < 0)
		return rbe_fail(e, -EINVAL, "%s: job %lld has an unknown state '%s'", js->path,
				(long long)sqlite3_column_int64(st, 0), state ? (const char *)state : "(null)");
	row.id = sqlite3_column_int64(st, 0);
	row.team = column_dup(st, 1);
	row.uid = (uint32_t)sqlite3_column_int64(st, 2);
	row.dataset = column_dup(st, 4);
	row.dataset_sha256 = column_dup(st, 5);
	row.router = column_dup(st, 6);
	row.router_sha256 = column_dup(st, 7);
	row.spec = column_dup(st, 8);
	row.reason = column_dup(st, 9);
	row.submitted_at = sqlite3_column_double(st, 10);
	row.started_at = sqlite3_column_double(st, 11);
	row.finished_at = sqlite3_column_double(st, 12);
	row.attempts = (uint32_t)sqlite3_column_int64(st, 13);
	*out = row;
	return 0;
}

int rbd_jobstore_get(rbd_jobstore *js, int64_t id, rbd_job_row *out, rbe_error *e)
{
	sqlite3_stmt *st;
	int r = find_job(js, ST_GET, id, &st, e);
	if (r > 0)
		r = read_row(js, st, out, e);
	stmt_done(st);
	return r;
}

/* Stored JSON that does not parse (a hand edit, a bad disk) is reported, never served. */
static int check_json(rbd_jobstore *js, int64_t id, const char *what, const char *text, rbe_error *e)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (v) {
		json_decref(v);
		return 0;
	}
	(void)js; /* the reason may reach a client: no server path in it */
	return rbe_fail(e, -EBADMSG, "stored job is damaged: job %" PRId64 ": its %s is not JSON (%s at line %d)", id,
			what, jerr.text, jerr.line);
}

int rbd_jobstore_spec_check(rbd_jobstore *js, const rbd_job_row *row, rbe_error *e)
{
	return check_json(js, row->id, "spec", row->spec, e);
}

int rbd_jobstore_result(rbd_jobstore *js, int64_t id, char **json_text, rbe_error *e)
{
	sqlite3_stmt *st;
	int rc = step_job(js, ST_RESULT, id, &st);
	int r;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*json_text = column_dup(st, 0);
		r = check_json(js, id, "result", *json_text, e);
		if (r < 0) {
			free(*json_text);
			*json_text = NULL;
		}
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		r = rbe_fail(e, -ENOENT, "%s: job %" PRId64 " has no result", js->path, id);
	} else {
		r = db_fail(js, rc, e, "cannot read a result");
	}
	stmt_done(st);
	return r;
}

/* Prepared for each walk (not a hot call), so a callback may even start another walk. */
int rbd_jobstore_list(rbd_jobstore *js, const char *team, int include_final, rbd_job_visit_fn fn, void *ctx,
		      rbe_error *e)
{
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " ROW_COLUMNS " FROM jobs WHERE %s AND %s ORDER BY id",
		 team ? "team = ?1" : "?1 IS NULL", include_final ? "1" : "state IN ('queued', 'running')");
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(js->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 1, team);
	if (rc != SQLITE_OK) {
		int r = db_fail(js, rc, e, "cannot list jobs");
		sqlite3_finalize(st);
		return r;
	}
	int r = 0;
	while (r == 0) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = db_fail(js, rc, e, "cannot list jobs");
			break;
		}
		rbd_job_row row;
		r = read_row(js, st, &row, e);
		if (r == 0) {
			r = fn(ctx, &row);
			rbd_job_row_clear(&row);
		}
	}
	sqlite3_finalize(st);
	return r;
}

int rbd_jobstore_recover(rbd_jobstore *js, size_t *n_requeued, rbe_error *e)
{
	int r = exec_sql(js, "UPDATE jobs SET state = 'queued' WHERE state = 'running'", "cannot requeue running jobs", e);
	if (r < 0)
		return r;
	*n_requeued = (size_t)sqlite3_changes(js->db);
	return 0;
}

int rbd_jobstore_output(rbd_jobstore *js, int64_t id, char **text, rbe_error *e)
{
	sqlite3_stmt *st;
	int r = find_job(js, ST_OUTPUT, id, &st, e);
	if (r > 0) {
		*text = column_dup(st, 0);
		r = 0;
	}
	stmt_done(st);
	return r;
}

int rbd_jobstore_add_fault(rbd_jobstore *js, const char *sha256, const char *team, const char *reason,
			   uint32_t *faults, rbe_error *e)
{
	sqlite3_stmt *st = stmt_get(js, ST_FAULT);
	int rc = bind_text(st, 1, sha256);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, team);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, reason);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		*faults = (uint32_t)sqlite3_column_int64(st, 0);
		/* RETURNING: the change is made once the statement has run to its end. */
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = db_fail(js, rc, e, "cannot count a router fault");
	stmt_done(st);
	return r;
}

int rbd_jobstore_faults(rbd_jobstore *js, const char *sha256, const char *team, uint32_t *faults, char **last_reason,
			rbe_error *e)
{
	sqlite3_stmt *st = stmt_get(js, ST_FAULTS);
	int rc = bind_text(st, 1, sha256);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, team);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = 0;
	*faults = 0;
	if (last_reason)
		*last_reason = NULL;
	if (rc == SQLITE_ROW) {
		*faults = (uint32_t)sqlite3_column_int64(st, 0);
		if (last_reason)
			*last_reason = column_dup(st, 1);
	} else if (rc != SQLITE_DONE) {
		r = db_fail(js, rc, e, "cannot read router faults");
	}
	stmt_done(st);
	return r;
}
