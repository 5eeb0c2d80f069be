/* test_jobspec.c — the job object: each member's validation, the defaults, and that a job runs
 * exactly as `rbctl run` with the same options (the one path rbctl and rbd-worker share).
 * No per-test .timeout: Criterion 2.4 leaks in its runner when two timed tests overlap under
 * --jobs 2 (LeakSanitizer fails the suite); meson's suite timeout bounds the run instead. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "eval/jobspec.h"

static json_t *job_from(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	cr_assert_not_null(j, "bad test JSON %s: %s", text, jerr.text);
	return j;
}

/* {"dataset": "d", "router": "r"} plus the members in extra (a JSON object's inside). */
static json_t *job_with(const char *extra)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"dataset\": \"d\", \"router\": \"r\"%s%s}", *extra ? ", " : "", extra);
	return job_from(text);
}

static void expect_refused(json_t *job, const char *needle)
{
	rbe_jobspec *s = (rbe_jobspec *)0x1;
	rbe_error e = {0};
	char *text = json_dumps(job, JSON_COMPACT);
	cr_assert_lt(rbe_jobspec_parse(job, &s, &e), 0, "%s should be refused", text);
	cr_assert_eq(s, (rbe_jobspec *)0x1, "*out untouched on failure");
	cr_assert(strstr(e.msg, needle), "%s: message lacks \"%s\": %s", text, needle, e.msg);
	cr_assert_eq(e.code, -EINVAL);
	free(text);
	json_decref(job);
}

static void expect_accepted(json_t *job)
{
	rbe_jobspec *s = NULL;
	rbe_error e = {0};
	char *text = json_dumps(job, JSON_COMPACT);
	cr_assert_eq(rbe_jobspec_parse(job, &s, &e), 0, "%s: %s", text, e.msg);
	cr_assert_not_null(s);
	rbe_jobspec_free(s);
	free(text);
	json_decref(job);
}

Test(jobspec, refuses_each_bad_member_by_name)
{
	static const struct {
		const char *members, *needle;
	} cases[] = {
		{"\"seed\": -1", "job member 'seed' must be an integer from 0 to 4294967295"},
		{"\"seed\": 4294967296", "job member 'seed' must be an integer from 0 to 4294967295"},
		{"\"seed\": 1.5", "job member 'seed' must be an integer"},
		{"\"seed\": \"42\"", "job member 'seed' must be an integer"},
		{"\"train_fraction\": 1", "job member 'train_fraction' must be a number between 0 and 1"},
		{"\"train_fraction\": 0", "job member 'train_fraction'"},
		{"\"train_fraction\": \"0.5\"", "job member 'train_fraction'"},
		{"\"split\": \"random\"", "job member 'split' must be \"paper\" or \"ood\""},
		{"\"split\": 1", "job member 'split'"},
		{"\"settings\": \"k=1\"", "job member 'settings' must be an array of strings"},
		{"\"settings\": [\"k=1\", 2]", "job member 'settings' must be an array of strings (item 1"},
		{"\"tasks\": [1]", "job member 'tasks'"},
		{"\"tasks\": {}", "job member 'tasks'"},
		{"\"models\": []", "job member 'models' must be a non-empty array"},
		{"\"models\": [null]", "job member 'models'"},
		{"\"groups\": [\"nogroup\"]", "job member 'groups'"},
		{"\"groups\": \"a=b\"", "job member 'groups'"},
		{"\"default_groups\": 0", "job member 'default_groups' must be true or false"},
		{"\"lambdas\": []", "job member 'lambdas'"},
		{"\"lambdas\": [0.1, -1]", "job member 'lambdas': item 1: willingness to pay λ must be a finite number >= 0"},
		{"\"lambdas\": [\"x\"]", "job member 'lambdas'"},
		{"\"lambdas\": 0.5", "job member 'lambdas'"},
		{"\"threads\": 0", "job member 'threads' must be an integer from 1 to 1024"},
		{"\"threads\": 1025", "job member 'threads'"},
		{"\"bootstrap\": 1000001", "job member 'bootstrap' must be an integer from 0 to 1000000"},
		{"\"bootstrap\": true", "job member 'bootstrap'"},
		{"\"bootstrap_seed\": -3", "job member 'bootstrap_seed' must be an integer from 0 to 4294967295"},
		{"\"splits\": 0", "job member 'splits' must be an integer from 1 to 1000"},
		{"\"splits\": 1001", "job member 'splits'"},
		{"\"splits\": 3, \"seed\": 4294967294", "job member 'splits': 3 splits from seed 4294967294 pass 4294967295"},
		{"\"keep_decisions\": \"yes\"", "job member 'keep_decisions' must be true or false"},
		{"\"overhead_cost_per_query\": -0.1", "job member 'overhead_cost_per_query' must be a number >= 0"},
		{"\"target_budget\": \"1\"", "job member 'target_budget' must be a number >= 0"},
		{"\"validation_fraction\": 1.0", "job member 'validation_fraction' must be a number between 0 and 1"},
		{"\"target_share\": 0.5", "job member 'target_share' must be {\"model\": NAME, \"share\": P}"},
		{"\"target_share\": {\"model\": \"m\"}", "job member 'target_share'"},
		{"\"target_share\": {\"model\": \"m\", \"share\": 1.5}", "job member 'target_share'"},
		{"\"target_share\": {\"model\": \"\", \"share\": 0.5}", "job member 'target_share'"},
		{"\"target_share\": {\"model\": \"m\", \"share\": 0.5, \"x\": 1}", "job member 'target_share'"},
		{"\"colour\": \"blue\"", "unknown job member 'colour'"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		expect_refused(job_with(cases[k].members), cases[k].needle);
	expect_refused(job_from("{\"router\": \"r\"}"), "job member 'dataset' is required");
	expect_refused(job_from("{\"dataset\": \"d\"}"), "job member 'router' is required");
	expect_refused(job_from("{\"dataset\": 3, \"router\": \"r\"}"), "job member 'dataset' must be a non-empty string");
	expect_refused(job_from("{\"dataset\": \"d\", \"router\": \"\"}"), "job member 'router' must be a non-empty string");
	expect_refused(job_from("[1]"), "the job must be a JSON object");
}

Test(jobspec, accepts_every_member_in_range)
{
	expect_accepted(job_with(""));
	expect_accepted(job_with(
		"\"settings\": [\"k=4\"], \"tasks\": [\"a\"], \"models\": [\"m\"], \"seed\": 4294967295,"
		"\"train_fraction\": 0.5, \"split\": \"ood\", \"groups\": [\"a*=b\"], \"default_groups\": false,"
		"\"lambdas\": [0, 1, 2.5], \"threads\": 1024, \"bootstrap\": 0, \"bootstrap_seed\": 4294967295,"
		"\"splits\": 1, \"keep_decisions\": true, \"overhead_cost_per_query\": 0, \"target_budget\": 0.001,"
		"\"target_share\": {\"model\": \"m\", \"share\": 1}, \"validation_fraction\": 0.3"));
	expect_accepted(job_with("\"tasks\": [], \"settings\": [], \"split\": \"paper\", \"splits\": 1000, \"seed\": 0"));
	rbe_jobspec_free(NULL);
}

/* A small generated dataset, made once per test process with rbctl gen. */
static const char *small_dataset(void)
{
	static char path[512];
	char *dir = make_temp_dir();
	snprintf(path, sizeof(path), "%s/small.rbds", dir);
	gen_synthetic(path, "2000", "4", "3", NULL, NULL);
	return path;
}

static void cleanup_dataset(const char *path)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", path);
	unlink(path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static json_t *jobspec_result(const char *dataset, const char *router, json_t *job, rbe_eval_progress_fn fn,
			      void *ctx)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	rbe_jobspec *s = NULL;
	json_t *result = NULL;
	cr_assert_eq(rbe_rbds_open(dataset, &ds, &e), 0, "%s", e.msg);
	rbe_plugin *p = load_or_fail(builtin_plugin(router));
	cr_assert_eq(rbe_jobspec_parse(job, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(rbe_jobspec_check(s, p->schema, ds, &e), 0, "%s", e.msg);
	cr_assert_eq(rbe_jobspec_run(s, ds, p, fn, ctx, &result, &e), 0, "%s", e.msg);
	rbe_jobspec_free(s);
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
	return result;
}

static json_t *rbctl_run_result(const char *dataset, const char *router, const char *const *opts)
{
	const char *args[48] = {"run", "--dataset", dataset, "--router", router, "--json"};
	size_t n = 6;
	for (size_t k = 0; opts[k]; k++)
		args[n++] = opts[k];
	args[n] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "rbctl run: %s", r.err);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "rbctl run output is not JSON: %s", jerr.text);
	cmd_free(&r);
	return doc;
}

/* The job (members after dataset and router) and rbctl run with opts give the same document,
 * the wall-clock timing apart. */
static void expect_same_as_rbctl_run(const char *dataset, const char *router, const char *members,
				     const char *const *opts)
{
	char text[2048];
	snprintf(text, sizeof(text), "{\"dataset\": \"%s\", \"router\": \"%s\"%s%s}", dataset, router,
		 *members ? ", " : "", members);
	json_t *job = job_from(text);
	json_t *a = jobspec_result(dataset, router, job, NULL, NULL);
	json_t *b = rbctl_run_result(dataset, router, opts);
	json_object_del(a, "timing");
	json_object_del(b, "timing");
	if (!json_equal(a, b)) {
		char *ta = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
		char *tb = json_dumps(b, JSON_COMPACT | JSON_REAL_PRECISION(17));
		cr_assert_fail("job %s differs from rbctl run:\n%.2000s\n---\n%.2000s", text, ta, tb);
	}
	json_decref(a);
	json_decref(b);
	json_decref(job);
}

Test(jobspec, defaults_equal_rbctl_run_defaults)
{
	const char *ds = small_dataset();
	expect_same_as_rbctl_run(ds, "random", "", (const char *[]){NULL});
	/* The defaults spelled out are the defaults: bootstrap 1000, seeds 42, paper split, mmlu rule. */
	expect_same_as_rbctl_run(ds, "random",
				 "\"seed\": 42, \"bootstrap\": 1000, \"bootstrap_seed\": 42, \"splits\": 1,"
				 "\"train_fraction\": 0.7, \"split\": \"paper\", \"default_groups\": true,"
				 "\"keep_decisions\": false, \"validation_fraction\": 0.2",
				 (const char *[]){NULL});
	cleanup_dataset(ds);
}

Test(jobspec, options_equal_rbctl_run_options)
{
	const char *ds = small_dataset();
	expect_same_as_rbctl_run(ds, "random",
				 "\"seed\": 7, \"bootstrap\": 50, \"bootstrap_seed\": 3, \"train_fraction\": 0.6,"
				 "\"tasks\": [\"task-1\", \"task-3\"], \"keep_decisions\": true, \"threads\": 2,"
				 "\"overhead_cost_per_query\": 0.0001",
				 (const char *[]){"--seed", "7", "--bootstrap", "50", "--bootstrap-seed", "3", "--train-fraction",
						  "0.6", "--tasks", "task-1,task-3", "--keep-decisions", "--threads", "2",
						  "--overhead-cost-per-query", "0.0001", NULL});
	expect_same_as_rbctl_run(ds, "random",
				 "\"splits\": 3, \"bootstrap\": 20, \"split\": \"ood\", \"groups\": [\"task-*=all\"],"
				 "\"default_groups\": false",
				 (const char *[]){"--splits", "3", "--bootstrap", "20", "--split", "ood", "--group", "task-*=all",
						  "--no-default-groups", NULL});
	expect_same_as_rbctl_run(ds, "single",
				 "\"settings\": [\"model=mistralai/mistral-7b-chat\"], \"bootstrap\": 0,"
				 "\"models\": [\"mistralai/mixtral-8x7b-chat\", \"mistralai/mistral-7b-chat\"]",
				 (const char *[]){"--set", "model=mistralai/mistral-7b-chat", "--bootstrap", "0", "--models",
						  "mistralai/mixtral-8x7b-chat,mistralai/mistral-7b-chat", NULL});
	expect_same_as_rbctl_run(ds, "random",
				 "\"bootstrap\": 0, \"target_share\": {\"model\": \"mistralai/mistral-7b-chat\", \"share\": 0.5},"
				 "\"validation_fraction\": 0.25",
				 (const char *[]){"--bootstrap", "0", "--target-share", "mistralai/mistral-7b-chat=0.5",
						  "--validation-fraction", "0.25", NULL});
	cleanup_dataset(ds);
}

Test(jobspec, check_names_settings_and_models)
{
	const char *path = small_dataset();
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	rbe_plugin *p = load_or_fail(builtin_plugin("single"));
	static const struct {
		const char *members, *needle;
	} cases[] = {
		{"\"settings\": [\"model=gpt-9\"]", "job member 'settings': "},
		{"\"settings\": [\"colour=red\"]", "job member 'settings': "},
		{"\"settings\": []", "job member 'settings': "}, /* single's model is required */
		{"\"settings\": [\"model=mistralai/mistral-7b-chat\"], \"models\": [\"nope\"]",
		 "job member 'models': model 'nope' is not in the dataset"},
		/* A model-valued parameter must name a model of the pool. */
		{"\"settings\": [\"model=WizardLM/WizardLM-13B-V1.2\"], \"models\": [\"mistralai/mistral-7b-chat\"]",
		 "job member 'settings': "},
		{"\"settings\": [\"model=mistralai/mistral-7b-chat\"], \"target_share\": {\"model\": \"x\", \"share\": 0.5}",
		 "job member 'target_share': no model 'x'"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		json_t *job = job_with(cases[k].members);
		rbe_jobspec *s = NULL;
		cr_assert_eq(rbe_jobspec_parse(job, &s, &e), 0, "%s", e.msg);
		cr_assert_lt(rbe_jobspec_check(s, p->schema, ds, &e), 0, "%s should be refused", cases[k].members);
		cr_assert(strstr(e.msg, cases[k].needle), "%s: message lacks \"%s\": %s", cases[k].members,
			  cases[k].needle, e.msg);
		/* run makes the same checks first and fails the same way, without the member prefix. */
		json_t *result = NULL;
		rbe_error e2 = {0};
		cr_assert_lt(rbe_jobspec_run(s, ds, p, NULL, NULL, &result, &e2), 0);
		cr_assert_null(result);
		rbe_jobspec_free(s);
		json_decref(job);
	}
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
	cleanup_dataset(path);
}

typedef struct seen {
	int calls, first_create, first_route;
	double last, prev;
	int monotone;
	char last_phase[32];
} seen;

static void record(void *ctx, const char *phase, const char *task, double fraction)
{
	seen *s = ctx;
	cr_assert_not_null(task);
	if (!strcmp(phase, "create") && s->first_create < 0)
		s->first_create = s->calls;
	if ((!strcmp(phase, "predict") || !strcmp(phase, "decide")) && s->first_route < 0)
		s->first_route = s->calls;
	if (fraction < s->prev || fraction < 0 || fraction > 1)
		s->monotone = 0;
	s->prev = s->last = fraction;
	snprintf(s->last_phase, sizeof(s->last_phase), "%s", phase);
	s->calls++;
}

static void expect_progress(const char *dataset, const char *members)
{
	char text[1024];
	snprintf(text, sizeof(text), "{\"dataset\": \"d\", \"router\": \"random\", \"bootstrap\": 0%s%s}",
		 *members ? ", " : "", members);
	json_t *job = job_from(text);
	seen s = {.first_create = -1, .first_route = -1, .monotone = 1};
	json_t *result = jobspec_result(dataset, "random", job, record, &s);
	cr_assert_gt(s.calls, 0, "%s: the hook was called", text);
	cr_assert_geq(s.first_create, 0, "%s: saw create", text);
	cr_assert_geq(s.first_route, 0, "%s: saw predict or decide", text);
	cr_assert_lt(s.first_create, s.first_route, "%s: create comes before predict/decide", text);
	cr_assert(s.monotone, "%s: fractions rise from 0 to 1", text);
	cr_assert_eq(s.last, 1.0, "%s: ends at 1, got %g", text, s.last);
	cr_assert_str_eq(s.last_phase, "done");
	json_decref(result);
	json_decref(job);
}

Test(jobspec, progress_sees_create_first_and_ends_at_one)
{
	const char *ds = small_dataset();
	expect_progress(ds, "");
	expect_progress(ds, "\"tasks\": [\"task-2\"]");
	expect_progress(ds, "\"splits\": 3");
	cleanup_dataset(ds);
}

Test(jobspec, extra_group_rules_come_before_the_paper_rule)
{
	/* The first matching rule wins: a rule for some mmlu subjects must beat mmlu-*=mmlu, as
	 * with rbctl run --group. The routerbench preset has the mmlu-* evals. */
	char *dir = make_temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/paper.rbds", dir);
	cmd_result r = rbctl_cmd((const char *[]){"gen", "-o", path, "--features", "none", "--quiet", NULL});
	cr_assert_eq(r.status, 0, "rbctl gen: %s", r.err);
	cmd_free(&r);
	expect_same_as_rbctl_run(path, "random", "\"bootstrap\": 0, \"groups\": [\"mmlu-a*=early\"], \"tasks\": [\"early\", \"mmlu\"]",
				 (const char *[]){"--bootstrap", "0", "--group", "mmlu-a*=early", "--tasks", "early,mmlu", NULL});
	cleanup_dataset(path);
}

Test(jobspec, error_member_names_the_member)
{
	char m[32];
	rbe_error e = {0};
	rbe_jobspec *s = NULL;
	json_t *job = job_with("\"seed\": -1");
	cr_assert_lt(rbe_jobspec_parse(job, &s, &e), 0);
	cr_assert_str_eq(rbe_jobspec_error_member(e.msg, m, sizeof(m)), "seed");
	json_decref(job);
	job = job_with("\"colour\": 1");
	cr_assert_lt(rbe_jobspec_parse(job, &s, &e), 0);
	cr_assert_str_eq(rbe_jobspec_error_member(e.msg, m, sizeof(m)), "colour");
	json_decref(job);
	cr_assert_str_eq(rbe_jobspec_error_member("job member 'models': model 'x' is not in the dataset", m, sizeof(m)),
			 "models");
	cr_assert_null(rbe_jobspec_error_member("the job must be a JSON object", m, sizeof(m)));
	cr_assert_null(rbe_jobspec_error_member("job member 'overhead_cost_per_query' x", m, 8), "too long for out");
	cr_assert_null(rbe_jobspec_error_member("job member 'unterminated", m, sizeof(m)));
}

/* Work the host would have to allocate is refused before any of it is: by parse for the λ count,
 * by check (Submit) and run (rbctl run) against the dataset for the products. */
Test(jobspec, work_the_host_cannot_allocate_is_refused_naming_the_member)
{
	json_t *l = json_array();
	for (int i = 0; i <= RBE_JOBSPEC_MAX_LAMBDAS; i++)
		json_array_append_new(l, json_integer(i));
	json_t *job = job_with("");
	json_object_set(job, "lambdas", l);
	expect_refused(job, "job member 'lambdas': 4097 values; at most 4096 are allowed");
	json_array_remove(l, 0);
	job = job_with("");
	json_object_set(job, "lambdas", l);
	expect_accepted(job);

	const char *path = small_dataset(); /* 2000 prompts, 4 models */
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	rbe_plugin *p = load_or_fail(builtin_plugin("random"));
	static const struct {
		const char *members, *needle; /* needle NULL: accepted */
	} cases[] = {
		{"\"keep_decisions\": true, \"splits\": 5", NULL},
		{"\"bootstrap\": 100000", NULL},
		{"\"bootstrap\": 1000000", "job member 'bootstrap': 1000000 resamples × 74 quantities (32 λ values, 4 "
					   "models) is 74000000 values; at most 67108864 are allowed"},
		{"\"bootstrap\": 0, \"keep_decisions\": true, \"splits\": 600",
		 "job member 'keep_decisions': 32 λ values × 2000 prompts × splits kept is 38400000 decisions; at most "
		 "33554432 are allowed"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		job = job_with(cases[k].members);
		rbe_jobspec *s = NULL;
		cr_assert_eq(rbe_jobspec_parse(job, &s, &e), 0, "%s", e.msg);
		int rc = rbe_jobspec_check(s, p->schema, ds, &e);
		if (!cases[k].needle) {
			cr_assert_eq(rc, 0, "%s: %s", cases[k].members, e.msg);
		} else {
			cr_assert_eq(rc, -EINVAL, "%s should be refused", cases[k].members);
			cr_assert_str_eq(e.msg, cases[k].needle);
			json_t *result = NULL;
			rbe_error e2 = {0};
			cr_assert_eq(rbe_jobspec_run(s, ds, p, NULL, NULL, &result, &e2), -EINVAL);
			cr_assert_str_eq(e2.msg, cases[k].needle);
			cr_assert_null(result);
		}
		rbe_jobspec_free(s);
		json_decref(job);
	}
	/* 4096 λ values over 2000 prompts with every split kept: 4096 × 2000 × 5 decisions. */
	job = job_with("\"keep_decisions\": true, \"splits\": 5, \"bootstrap\": 0");
	json_object_set(job, "lambdas", l);
	rbe_jobspec *s = NULL;
	cr_assert_eq(rbe_jobspec_parse(job, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(rbe_jobspec_check(s, p->schema, ds, &e), -EINVAL);
	cr_assert(strstr(e.msg, "job member 'lambdas': 4096 λ values × 2000 prompts × splits kept"), "%s", e.msg);
	rbe_jobspec_free(s);
	json_decref(job);
	json_decref(l);
	rbe_plugin_free(p);
	rbe_dataset_free(ds);
	cleanup_dataset(path);
}
