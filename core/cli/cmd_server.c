/* cmd_server.c — the rbctl commands that talk to rbd: submit, status, result, cancel, jobs, datasets, routers, info. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/client.h"
#include "cli/commands.h"
#include "eval/jobspec.h"

/* The exit statuses most commands here end their --help with. */
#define EXIT_HELP                                                                                                  \
	"exit status: 0 success, 1 rbd refused the request, 2 usage error, 3 cannot reach rbd\n"

/* A connection for one command; failures are printed as "rbctl CMD: ..." with the exit status. */
typedef struct session {
	const char *cmd;
	rbw_client *c;
} session;

static int session_open(session *s, const char *cmd, const char *socket)
{
	rbe_error e = {0};
	s->cmd = cmd;
	s->c = NULL;
	if (rbw_client_open(rbw_client_socket_path(socket), &s->c, &e) < 0) {
		fprintf(stderr, "rbctl %s: %s\n", cmd, e.msg);
		return RBCTL_EXIT_UNREACHABLE;
	}
	return RBCTL_EXIT_OK;
}

static void session_close(session *s)
{
	rbw_client_close(s->c);
	s->c = NULL;
}

/* The server's message for an error reply; a result refused because the job was cancelled is
 * exit 4, anything else the server refuses is 1. */
static int refused(const session *s, const rbw_reply *r)
{
	const char *msg = rbw_reply_message(r);
	fprintf(stderr, "rbctl %s: %s\n", s->cmd, msg ? msg : r->error);
	const char *state = json_string_value(json_object_get(r->parameters, "state"));
	if (!strcmp(r->error, RBW_ERR_JOB_FAILED) && state && !strcmp(state, "cancelled"))
		return RBCTL_EXIT_CANCELLED;
	return RBCTL_EXIT_FAIL;
}

/* One call ("Status": the interface is prefixed). *out: the reply's parameters (owned). */
static int session_call(session *s, const char *method, const json_t *params, json_t **out)
{
	char full[128];
	snprintf(full, sizeof(full), RBW_PROTO_INTERFACE ".%s", method);
	rbw_reply r = {0};
	rbe_error e = {0};
	if (rbw_client_call(s->c, full, params, &r, &e) < 0) {
		fprintf(stderr, "rbctl %s: %s\n", s->cmd, e.msg);
		return RBCTL_EXIT_UNREACHABLE;
	}
	int status = RBCTL_EXIT_OK;
	if (r.error)
		status = refused(s, &r);
	else
		*out = json_incref(r.parameters);
	rbw_reply_clear(&r);
	return status;
}

static int print_json(const json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	fputc('\n', stdout);
	return RBCTL_EXIT_OK;
}

/* Everything printed must reach stdout: a full disk or closed pipe is a failure. */
static int flushed(const char *cmd, int status)
{
	if (fflush(stdout) != 0) {
		fprintf(stderr, "rbctl %s: cannot write to standard output\n", cmd);
		return status == RBCTL_EXIT_OK ? RBCTL_EXIT_FAIL : status;
	}
	return status;
}

/* Unix seconds as local time; "-" for 0 (not yet). */
static const char *when(double t, char *buf, size_t size)
{
	if (!(t > 0)) {
		snprintf(buf, size, "-");
		return buf;
	}
	time_t secs = (time_t)t;
	struct tm tm;
	if (!localtime_r(&secs, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "%.0f", t);
	return buf;
}

static const char *str_or(const json_t *obj, const char *key, const char *fallback)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v ? v : fallback;
}

static json_int_t int_of(const json_t *obj, const char *key) { return json_integer_value(json_object_get(obj, key)); }

static double num_of(const json_t *obj, const char *key) { return json_number_value(json_object_get(obj, key)); }

/* A running job's progress, or NULL before its worker reports a phase. */
static const json_t *progress_of(const json_t *job)
{
	const json_t *p = json_object_get(job, "progress");
	const char *phase = json_string_value(json_object_get(p, "phase"));
	return json_is_object(p) && phase && *phase ? p : NULL;
}

static int percent(double fraction)
{
	if (!(fraction >= 0))
		return 0;
	return fraction >= 1 ? 100 : (int)floor(fraction * 100 + 1e-9);
}

/* Room for phase_text's "predict mmlu", and for progress_text's, which adds " 45%" to it (an int
 * as the compiler sees it: up to 11 characters). */
#define PHASE_TEXT_SIZE 256
#define PROGRESS_TEXT_SIZE (PHASE_TEXT_SIZE + 16)

/* "predict mmlu" (the phase, then the task when there is one). */
static const char *phase_text(const json_t *p, char *buf, size_t size)
{
	const char *task = str_or(p, "task", "");
	snprintf(buf, size, "%s%s%s", str_or(p, "phase", "?"), *task ? " " : "", task);
	return buf;
}

/* "predict mmlu 45%" for a running job's progress; "" without one. */
static const char *progress_text(const json_t *job, char *buf, size_t size)
{
	const json_t *p = progress_of(job);
	char what[PHASE_TEXT_SIZE];
	buf[0] = '\0';
	if (p)
		snprintf(buf, size, "%s %d%%", phase_text(p, what, sizeof(what)), percent(num_of(p, "fraction")));
	return buf;
}

/* Arguments that look like negative numbers are job IDs out of range, not unknown options. */
static int negative_id(const char *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") || !strcmp(argv[i], "--socket")) {
			i++; /* a value, which may well start with a dash */
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9') {
			fprintf(stderr, "rbctl %s: job ID '%s' must be an integer from 1 to %lld\n", cmd, argv[i],
				(long long)INT64_MAX);
			return 1;
		}
	}
	return 0;
}

/* The one job ID operand, argv[first], after the options. */
static int job_id_operand(const char *cmd, int argc, char **argv, int first, int64_t *id)
{
	if (first >= argc) {
		fprintf(stderr, "rbctl %s: a job ID is required (rbctl %s --help)\n", cmd, cmd);
		return -1;
	}
	if (first + 1 < argc) {
		fprintf(stderr, "rbctl %s: unexpected argument '%s'\n", cmd, argv[first + 1]);
		return -1;
	}
	uint64_t v;
	if (rbe_parse_uint(argv[first], INT64_MAX, &v) < 0 || v == 0) {
		fprintf(stderr, "rbctl %s: job ID '%s' must be an integer from 1 to %lld\n", cmd, argv[first],
			(long long)INT64_MAX);
		return -1;
	}
	*id = (int64_t)v;
	return 0;
}

static int no_operands(const char *cmd, int argc, char **argv, int first)
{
	if (first < argc) {
		fprintf(stderr, "rbctl %s: unexpected argument '%s'\n", cmd, argv[first]);
		return -1;
	}
	return 0;
}

static json_t *id_params(int64_t id) { return json_pack("{sI}", "id", (json_int_t)id); }

/* --- submit ------------------------------------------------------------------------------ */

static const rbctl_usage submit_usage = {
	"submit",
	"usage: rbctl submit --dataset NAME --router NAME [options] [--wait] [--json]\n"
	"\n"
	"Submit an evaluation to rbd and print the job's id. With --wait, follow its progress on\n"
	"stderr and print its result exactly as rbctl run prints it. The options mean what\n"
	"they mean for rbctl run, and the result is the same.\n",
	"exit status: 0 submitted (with --wait: done), 1 rbd refused the job or the job failed,\n"
	"2 usage error, 3 cannot reach rbd, 4 the job was cancelled\n",
};

/* Following a job: a one-line bar on a terminal, else a line per change of state or task. */
typedef struct follow {
	int tty;
	json_int_t id;
	char last[512]; /* plain: the last state line; tty: "" until a bar is drawn */
	size_t width;   /* tty: the bar line's length, to blank a longer previous one */
} follow;

static void follow_show(follow *f, const json_t *job)
{
	const char *state = str_or(job, "state", "?");
	const json_t *p = progress_of(job);
	double fraction = !strcmp(state, "done") ? 1 : p ? num_of(p, "fraction") : 0;
	int pct = percent(fraction);
	char what[PHASE_TEXT_SIZE];
	if (p)
		phase_text(p, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s", state);
	if (f->tty) {
		char bar[21], line[512];
		int filled = pct / 5;
		for (int k = 0; k < 20; k++)
			bar[k] = k < filled ? '#' : '.';
		bar[20] = '\0';
		int n = snprintf(line, sizeof(line), " job %lld [%s] %3d%%  %s", (long long)f->id, bar, pct, what);
		size_t len = n < 0 ? 0 : (size_t)n >= sizeof(line) ? sizeof(line) - 1 : (size_t)n;
		/* Blank what a longer previous line left behind. */
		fprintf(stderr, "\r%s%*s", line, f->width > len ? (int)(f->width - len) : 0, "");
		f->width = len;
		f->last[0] = 1;
		return;
	}
	/* A line per change of state or task: phases and percentages change too often for a log. */
	char key[512];
	const char *task = p ? str_or(p, "task", "") : "";
	snprintf(key, sizeof(key), "%s|%s", state, task);
	/* failed and cancelled are said once, with the reason, by the caller. */
	if (strcmp(key, f->last) != 0 && strcmp(state, "failed") != 0 && strcmp(state, "cancelled") != 0) {
		if (p && *task)
			fprintf(stderr, "job %lld: %s: task %s (%d%% of the tasks done)\n", (long long)f->id, state, task,
				pct);
		else
			fprintf(stderr, "job %lld: %s\n", (long long)f->id, state);
		snprintf(f->last, sizeof(f->last), "%s", key);
	}
}

static void follow_end(follow *f)
{
	if (f->tty && f->last[0])
		fputc('\n', stderr);
	f->last[0] = '\0';
}

/* Wait (streamed) until the job is final; *final gets the last job object (owned). */
static int follow_job(session *s, json_int_t id, json_t **final)
{
	json_t *params = id_params(id);
	rbe_error e = {0};
	int rc = rbw_client_send(s->c, RBW_PROTO_INTERFACE ".Wait", params, 1, &e);
	json_decref(params);
	if (rc < 0) {
		fprintf(stderr, "rbctl %s: %s\n", s->cmd, e.msg);
		return RBCTL_EXIT_UNREACHABLE;
	}
	follow f = {.tty = isatty(2), .id = id};
	for (;;) {
		rbw_reply r = {0};
		if (rbw_client_recv(s->c, &r, &e) < 0) {
			follow_end(&f);
			fprintf(stderr, "rbctl %s: %s (job %lld was not cancelled; `rbctl status %lld` shows it)\n", s->cmd, e.msg, (long long)id,
				(long long)id);
			return RBCTL_EXIT_UNREACHABLE;
		}
		if (r.error) {
			follow_end(&f);
			int status = refused(s, &r);
			rbw_reply_clear(&r);
			return status;
		}
		follow_show(&f, r.parameters);
		if (!r.continues) {
			follow_end(&f);
			*final = json_incref(r.parameters);
			rbw_reply_clear(&r);
			return RBCTL_EXIT_OK;
		}
		rbw_reply_clear(&r);
	}
}

/* The final job's outcome: its result printed as rbctl run prints it, or why it has none. */
static int finish_job(session *s, const json_t *job, int as_json)
{
	json_int_t id = int_of(job, "id");
	const char *state = str_or(job, "state", "?");
	const char *reason = json_string_value(json_object_get(job, "reason"));
	if (!strcmp(state, "failed")) {
		fprintf(stderr, "rbctl %s: job %lld failed: %s\n", s->cmd, (long long)id, reason ? reason : "no reason given");
		return RBCTL_EXIT_FAIL;
	}
	if (!strcmp(state, "cancelled")) {
		fprintf(stderr, "rbctl %s: job %lld was cancelled%s%s\n", s->cmd, (long long)id, reason ? ": " : "",
			reason ? reason : "");
		return RBCTL_EXIT_CANCELLED;
	}
	if (strcmp(state, "done") != 0) {
		fprintf(stderr, "rbctl %s: rbd ended the wait on job %lld while it is %s\n", s->cmd, (long long)id, state);
		return RBCTL_EXIT_FAIL;
	}
	json_t *params = id_params(id), *reply = NULL;
	int status = session_call(s, "Result", params, &reply);
	json_decref(params);
	if (status == RBCTL_EXIT_OK) {
		const json_t *result = json_object_get(reply, "result");
		if (json_is_object(result)) {
			status = rbctl_print_result(s->cmd, NULL, result, as_json);
		} else {
			fprintf(stderr, "rbctl %s: rbd's Result for job %lld holds no result document\n", s->cmd, (long long)id);
			status = RBCTL_EXIT_FAIL;
		}
	}
	json_decref(reply);
	return status;
}

int rbctl_submit_main(int argc, char **argv)
{
	rbctl_eval ev;
	const char *socket = NULL;
	int as_json = 0, wait = 0, first;
	rbe_opt opts[RBCTL_EVAL_N_OPTS + 5];
	size_t n = rbctl_eval_options(&ev, 0, opts);
	opts[n++] = (rbe_opt)RBE_OPT_FLAG("wait", 0, &wait,
					  "wait for the job, then print its result (the table, or with --json the\n"
					  "result document)");
	opts[n++] = (rbe_opt)RBE_OPT_FLAG("json", 0, &as_json, "print the job object (with --wait: the result document) as JSON");
	opts[n++] = (rbe_opt)RBCTL_SOCKET_OPT(&socket);
	opts[n++] = (rbe_opt)RBE_OPT_HELP;
	opts[n] = (rbe_opt)RBE_OPT_END;

	json_t *job = ev.job, *reply = NULL, *final = NULL;
	rbe_jobspec *spec = NULL;
	rbe_error e = {0};
	session s = {"submit", NULL};
	int status = rbctl_parse(&submit_usage, opts, argc, argv, &first);
	if (status >= 0)
		goto out;
	status = RBCTL_EXIT_USAGE;
	if (no_operands("submit", argc, argv, first) < 0)
		goto out;
	if ((status = rbctl_eval_finish("submit", &ev)) != RBCTL_EXIT_OK)
		goto out;
	/* rbd makes the same checks; making them here too answers without a round trip. */
	if (rbe_jobspec_parse(job, &spec, &e) < 0) {
		fprintf(stderr, "rbctl submit: %s\n", e.msg);
		status = RBCTL_EXIT_FAIL;
		goto out;
	}
	if ((status = session_open(&s, "submit", socket)) != RBCTL_EXIT_OK ||
	    (status = session_call(&s, "Submit", job, &reply)) != RBCTL_EXIT_OK)
		goto out;
	if (!wait) {
		if (as_json)
			print_json(reply);
		else
			printf("%lld\n", (long long)int_of(reply, "id"));
		status = flushed("submit", RBCTL_EXIT_OK);
		goto out;
	}
	if ((status = follow_job(&s, int_of(reply, "id"), &final)) != RBCTL_EXIT_OK)
		goto out;
	status = finish_job(&s, final, as_json);
out:
	session_close(&s);
	rbe_jobspec_free(spec);
	json_decref(final);
	json_decref(reply);
	json_decref(job);
	return status;
}

/* --- status, result, cancel ---------------------------------------------------------------- */

static void print_job(const json_t *job)
{
	char t[64], prog[PROGRESS_TEXT_SIZE];
	const char *state = str_or(job, "state", "?");
	progress_text(job, prog, sizeof(prog));
	printf("job %lld: %s%s%s%s\n", (long long)int_of(job, "id"), state, prog[0] ? " (" : "", prog, prog[0] ? ")" : "");
	printf("  team       %s (uid %lld)\n", str_or(job, "team", "-"), (long long)int_of(job, "uid"));
	printf("  router     %s (sha256 %.16s)\n", str_or(job, "router", "-"), str_or(job, "router_sha256", "-"));
	printf("  dataset    %s (sha256 %.16s)\n", str_or(job, "dataset", "-"), str_or(job, "dataset_sha256", "-"));
	printf("  submitted  %s\n", when(num_of(job, "submitted_at"), t, sizeof(t)));
	printf("  started    %s\n", when(num_of(job, "started_at"), t, sizeof(t)));
	printf("  finished   %s\n", when(num_of(job, "finished_at"), t, sizeof(t)));
	printf("  attempts   %lld\n", (long long)int_of(job, "attempts"));
	const char *reason = json_string_value(json_object_get(job, "reason"));
	if (reason)
		printf("  reason     %s\n", reason);
}

/* status, result and cancel: options, one job ID, one call. */
typedef struct id_cmd {
	rbctl_usage usage;
	const char *json_help; /* NULL: no --json */
	int output_opt;        /* takes -o FILE */
} id_cmd;

static int id_command(const id_cmd *cmd, int argc, char **argv)
{
	const char *socket = NULL, *output = NULL, *name = cmd->usage.cmd;
	int as_json = 0, first;
	int64_t id;
	rbe_opt opts[5];
	size_t n = 0;
	if (cmd->json_help)
		opts[n++] = (rbe_opt)RBE_OPT_FLAG("json", 0, &as_json, cmd->json_help);
	if (cmd->output_opt)
		opts[n++] = (rbe_opt)RBE_OPT_STRING("output", 'o', &output, "FILE",
						    "write the output to FILE (atomically) instead of stdout");
	opts[n++] = (rbe_opt)RBCTL_SOCKET_OPT(&socket);
	opts[n++] = (rbe_opt)RBE_OPT_HELP;
	opts[n] = (rbe_opt)RBE_OPT_END;
	if (negative_id(name, argc, argv))
		return RBCTL_EXIT_USAGE;
	int parsed = rbctl_parse(&cmd->usage, opts, argc, argv, &first);
	if (parsed >= 0)
		return parsed;
	if (job_id_operand(name, argc, argv, first, &id) < 0)
		return RBCTL_EXIT_USAGE;

	session s;
	json_t *params = id_params(id), *reply = NULL;
	const char *method = !strcmp(name, "status") ? "Status" : !strcmp(name, "result") ? "Result" : "Cancel";
	int status = session_open(&s, name, socket);
	if (status == RBCTL_EXIT_OK)
		status = session_call(&s, method, params, &reply);
	if (status == RBCTL_EXIT_OK) {
		if (!strcmp(method, "Result")) {
			const json_t *result = json_object_get(reply, "result");
			if (json_is_object(result)) {
				status = rbctl_print_result(name, output, result, as_json);
			} else {
				fprintf(stderr, "rbctl %s: rbd's reply holds no result document\n", name);
				status = RBCTL_EXIT_FAIL;
			}
		} else if (as_json) {
			status = flushed(name, print_json(reply));
		} else if (!strcmp(method, "Status")) {
			print_job(reply);
			status = flushed(name, RBCTL_EXIT_OK);
		} else {
			/* A job that was already final is left as it was: say which state it kept. */
			const char *state = str_or(reply, "state", "?");
			printf("job %lld: %s\n", (long long)id, state);
			status = flushed(name, RBCTL_EXIT_OK);
		}
	}
	session_close(&s);
	json_decref(reply);
	json_decref(params);
	return status;
}

int rbctl_status_main(int argc, char **argv)
{
	static const id_cmd cmd = {{"status",
				    "usage: rbctl status ID [--json] [--socket PATH]\n"
				    "\n"
				    "Show one job: its state and progress, team, router, dataset, times, and why it failed\n"
				    "or was cancelled.\n",
				    EXIT_HELP},
				   "print the job object as JSON", 0};
	return id_command(&cmd, argc, argv);
}

int rbctl_result_main(int argc, char **argv)
{
	static const id_cmd cmd = {{"result",
				    "usage: rbctl result ID [--json] [-o FILE] [--socket PATH]\n"
				    "\n"
				    "Print a finished job's result exactly as rbctl run prints it: the per-task table, or\n"
				    "with --json the result document (docs/result-schema.md).\n",
				    "exit status: 0 success, 1 rbd refused (no such job, not finished, failed), 2 usage error,\n"
				    "3 cannot reach rbd, 4 the job was cancelled\n"},
				   "print the result document as JSON", 1};
	return id_command(&cmd, argc, argv);
}

int rbctl_cancel_main(int argc, char **argv)
{
	static const id_cmd cmd = {{"cancel",
				    "usage: rbctl cancel ID [--socket PATH]\n"
				    "\n"
				    "Cancel a job: a queued one at once, a running one by stopping its worker. A job that\n"
				    "already finished is left as it is; the state it ends in is printed.\n",
				    EXIT_HELP},
				   NULL, 0};
	return id_command(&cmd, argc, argv);
}

/* --- jobs, datasets ------------------------------------------------------------------------ */

/* Options of the listing commands: --json (json_help), --socket, -h, and --all where all is not
 * NULL. -1 to go on, else the exit status. */
static int list_options(const rbctl_usage *u, const char *json_help, int argc, char **argv, const char **socket,
			int *as_json, int *all)
{
	rbe_opt opts[5];
	size_t n = 0;
	if (all)
		opts[n++] = (rbe_opt)RBE_OPT_FLAG("all", 0, all, "finished jobs too (done, failed, cancelled)");
	opts[n++] = (rbe_opt)RBE_OPT_FLAG("json", 0, as_json, json_help);
	opts[n++] = (rbe_opt)RBCTL_SOCKET_OPT(socket);
	opts[n++] = (rbe_opt)RBE_OPT_HELP;
	opts[n] = (rbe_opt)RBE_OPT_END;
	int first, status = rbctl_parse(u, opts, argc, argv, &first);
	if (status >= 0)
		return status;
	return no_operands(u->cmd, argc, argv, first) < 0 ? RBCTL_EXIT_USAGE : -1;
}

/* One argument-less listing call, printed as JSON or by print. */
static int list_command(const char *cmd, const char *method, const json_t *params, const char *socket, int as_json,
			void (*print)(const json_t *reply))
{
	session s;
	json_t *reply = NULL;
	int status = session_open(&s, cmd, socket);
	if (status == RBCTL_EXIT_OK)
		status = session_call(&s, method, params, &reply);
	if (status == RBCTL_EXIT_OK) {
		if (as_json)
			print_json(reply);
		else
			print(reply);
		status = flushed(cmd, RBCTL_EXIT_OK);
	}
	session_close(&s);
	json_decref(reply);
	return status;
}

static void print_jobs(const json_t *reply)
{
	const json_t *jobs = json_object_get(reply, "jobs"), *job;
	size_t k;
	printf("%-6s %-12s %-10s %-12s %-14s %-19s  %s\n", "ID", "TEAM", "STATE", "ROUTER", "DATASET", "SUBMITTED",
	       "PROGRESS / REASON");
	json_array_foreach(jobs, k, job) {
		char t[64], prog[PROGRESS_TEXT_SIZE];
		const char *reason = json_string_value(json_object_get(job, "reason"));
		progress_text(job, prog, sizeof(prog));
		printf("%-6lld %-12s %-10s %-12s %-14s %-19s  %s\n", (long long)int_of(job, "id"), str_or(job, "team", "-"),
		       str_or(job, "state", "?"), str_or(job, "router", "-"), str_or(job, "dataset", "-"),
		       when(num_of(job, "submitted_at"), t, sizeof(t)), prog[0] ? prog : reason ? reason : "");
	}
	if (json_array_size(jobs) == 0)
		fprintf(stderr, "rbctl jobs: no jobs to show\n");
}

int rbctl_jobs_main(int argc, char **argv)
{
	static const rbctl_usage usage = {"jobs",
					  "usage: rbctl jobs [--all] [--json] [--socket PATH]\n"
					  "\n"
					  "List your team's queued and running jobs (an administrator sees every team's), as a\n"
					  "table: id, team, state, router, dataset, submitted, progress or why it failed.\n",
					  EXIT_HELP};
	const char *socket = NULL;
	int as_json = 0, all = 0;
	int status = list_options(&usage, "print rbd's reply ({\"jobs\": [job, ...]}) as JSON", argc, argv, &socket,
				  &as_json, &all);
	if (status >= 0)
		return status;
	json_t *params = json_pack("{sb}", "all", all);
	status = list_command("jobs", "ListJobs", params, socket, as_json, print_jobs);
	json_decref(params);
	return status;
}

static void human_bytes(double b, char *buf, size_t size)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void print_datasets(const json_t *reply)
{
	const json_t *list = json_object_get(reply, "datasets"), *d;
	size_t k;
	printf("%-16s %4s %9s %6s %5s %10s  %-16s  %s\n", "NAME", "GEN", "PROMPTS", "MODELS", "TASKS", "SIZE", "SHA256",
	       "SOURCE");
	json_array_foreach(list, k, d) {
		char size[32];
		human_bytes(num_of(d, "bytes"), size, sizeof(size));
		printf("%-16s %4lld %9lld %6zu %5zu %10s  %-16.16s  %s\n", str_or(d, "name", "?"), (long long)int_of(d, "generation"),
		       (long long)int_of(d, "prompts"), json_array_size(json_object_get(d, "models")),
		       json_array_size(json_object_get(d, "tasks")), size, str_or(d, "sha256", "-"), str_or(d, "source", "-"));
	}
	if (json_array_size(list) == 0)
		fprintf(stderr, "rbctl datasets: rbd serves no datasets\n");
}

int rbctl_datasets_main(int argc, char **argv)
{
	static const rbctl_usage usage = {"datasets",
					  "usage: rbctl datasets [--json] [--socket PATH]\n"
					  "\n"
					  "List the datasets rbd serves (the names rbctl submit --dataset takes): generation,\n"
					  "prompts, models, tasks, size, content sha256 and source file.\n",
					  EXIT_HELP};
	const char *socket = NULL;
	int as_json = 0;
	int status = list_options(&usage, "print rbd's reply ({\"datasets\": [...]}) as JSON", argc, argv, &socket,
				  &as_json, NULL);
	if (status >= 0)
		return status;
	return list_command("datasets", "ListDatasets", NULL, socket, as_json, print_datasets);
}

/* --- routers, info (server modes) ------------------------------------------------------------ */

/* "  range [1, 100]", "  at least 1", "  at most 5" or nothing: a missing bound is null. */
static void print_range(const json_t *min, const json_t *max, char *buf, size_t size)
{
	if (json_is_number(min) && json_is_number(max))
		snprintf(buf, size, "  range [%g, %g]", json_number_value(min), json_number_value(max));
	else if (json_is_number(min))
		snprintf(buf, size, "  at least %g", json_number_value(min));
	else if (json_is_number(max))
		snprintf(buf, size, "  at most %g", json_number_value(max));
	else
		buf[0] = 0;
}

/* As the local listing prints a plugin, plus the state rbd keeps for it. */
static void print_routers(const json_t *reply)
{
	const json_t *list = json_object_get(reply, "routers"), *r;
	size_t k;
	json_array_foreach(list, k, r) {
		const char *state = str_or(r, "state", "ok"), *reason = json_string_value(json_object_get(r, "reason"));
		if (!strcmp(state, "rejected")) {
			printf("%-12s rejected: %s\n", str_or(r, "name", str_or(r, "file", "?")), reason ? reason : "");
			continue;
		}
		printf("%-12s %-10s %-8s %s\n", str_or(r, "name", "?"), str_or(r, "kind", "?"), str_or(r, "version", "?"),
		       str_or(r, "summary", ""));
		printf("%12s file %s (sha256 %.16s)\n", "", str_or(r, "file", "?"), str_or(r, "sha256", "-"));
		if (strcmp(state, "ok") != 0)
			printf("%12s %s%s%s\n", "", state, reason ? ": " : "", reason ? reason : "");
		const json_t *params = json_object_get(r, "params"), *p;
		size_t i;
		json_array_foreach(params, i, p) {
			const json_t *def = json_object_get(p, "default"), *min = json_object_get(p, "min"),
				     *max = json_object_get(p, "max");
			const char *help = json_string_value(json_object_get(p, "help"));
			char range[96];
			print_range(min, max, range, sizeof(range));
			char *def_text = json_is_string(def) ? NULL : def && !json_is_null(def) ? json_dumps(def, JSON_ENCODE_ANY) : NULL;
			printf("%12s --set %s=<%s>  default %s%s%s%s\n", "", str_or(p, "name", "?"), str_or(p, "type", "?"),
			       json_is_string(def) ? json_string_value(def) : def_text ? def_text : "(required)", range,
			       help ? "  — " : "", help ? help : "");
			free(def_text);
		}
	}
	if (json_array_size(list) == 0)
		fprintf(stderr, "rbctl routers: rbd serves no routers\n");
}

int rbctl_server_routers(const char *socket, int as_json)
{
	return list_command("routers", "ListRouters", NULL, socket, as_json, print_routers);
}

static void print_info(const json_t *i)
{
	const json_t *abi = json_object_get(i, "abi"), *team = json_object_get(i, "team");
	printf("rbd %s (router ABI %lld.%lld, protocol %s version %lld)\n", str_or(i, "version", "?"),
	       (long long)int_of(abi, "major"), (long long)int_of(abi, "minor"), str_or(i, "protocol", "?"),
	       (long long)int_of(i, "protocol_version"));
	printf("config:      %s (generation %lld)\n", str_or(i, "config", "-"), (long long)int_of(i, "generation"));
	printf("you:         uid %lld, gid %lld, team %s%s\n", (long long)int_of(i, "uid"), (long long)int_of(i, "gid"),
	       json_is_string(team) ? json_string_value(team) : "(none: you may only list)",
	       json_is_true(json_object_get(i, "admin")) ? ", administrator" : "");
	printf("workers:     %lld\n", (long long)int_of(i, "workers"));
	printf("jobs:        %lld running, %lld queued\n", (long long)int_of(i, "running"), (long long)int_of(i, "queued"));
	printf("max message: %lld bytes\n", (long long)int_of(i, "max_message"));
}

int rbctl_server_info(const char *socket, int as_json, int quiet_if_absent)
{
	session s;
	rbe_error e = {0};
	s.cmd = "info";
	if (rbw_client_open(rbw_client_socket_path(socket), &s.c, &e) < 0) {
		if (quiet_if_absent && e.code == -ENOENT)
			return -1;
		fprintf(stderr, "rbctl info: %s\n", e.msg);
		return RBCTL_EXIT_UNREACHABLE;
	}
	json_t *reply = NULL;
	int status = session_call(&s, "GetInfo", NULL, &reply);
	if (status == RBCTL_EXIT_OK) {
		if (as_json)
			print_json(reply);
		else
			print_info(reply);
		status = flushed("info", RBCTL_EXIT_OK);
	}
	session_close(&s);
	json_decref(reply);
	return status;
}
