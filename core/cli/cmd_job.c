/* cmd_job.c — what rbctl run and rbctl submit share: the evaluation options as a job object, and the result printer. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "eval/params.h"
#include "report/table.h"
#include "data/split.h"
#include "lib/util.h"

/* "a,b,c" as a JSON array of the non-empty items (strtok's reading, as rbctl run always had). */
static json_t *split_commas(const char *text)
{
	json_t *arr = json_array();
	char *copy = rbe_xstrdup(text), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(tok));
	free(copy);
	return arr;
}

static void append_string(json_t *job, const char *member, const char *s)
{
	json_t *arr = json_object_get(job, member);
	if (!arr) {
		arr = json_array();
		json_object_set_new(job, member, arr);
	}
	json_array_append_new(arr, json_string(s));
}

/* The job member an option sets: its name with '_' for '-' ("bootstrap-seed" → bootstrap_seed). */
static void member_of(const rbe_opt *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* The options with their own syntax: each callback's context is the job. */
static int opt_set(const rbe_opt *o, const char *arg, rbe_error *e)
{
	(void)e;
	append_string(o->dest, "settings", arg);
	return 0;
}

static int opt_tasks(const rbe_opt *o, const char *arg, rbe_error *e)
{
	(void)e;
	json_object_set_new(o->dest, "tasks", split_commas(arg));
	return 0;
}

static int opt_models(const rbe_opt *o, const char *arg, rbe_error *e)
{
	json_t *models = split_commas(arg);
	if (json_array_size(models) == 0) {
		json_decref(models);
		return rbe_fail(e, -EINVAL, "'%s' names no model", arg);
	}
	json_object_set_new(o->dest, "models", models);
	return 0;
}

static int opt_split(const rbe_opt *o, const char *arg, rbe_error *e)
{
	if (strcmp(arg, "paper") != 0 && strcmp(arg, "ood") != 0)
		return rbe_fail(e, -EINVAL, "'%s' must be paper or ood", arg);
	json_object_set_new(o->dest, "split", json_string(arg));
	return 0;
}

/* Checked here so the message names the option; the job keeps the rule as text. */
static int opt_group(const rbe_opt *o, const char *arg, rbe_error *e)
{
	rbe_grouping g = {0};
	int rc = rbe_grouping_add(&g, arg, e);
	rbe_grouping_clear(&g);
	if (rc < 0)
		return rc;
	append_string(o->dest, "groups", arg);
	return 0;
}

static int opt_lambdas(const rbe_opt *o, const char *arg, rbe_error *e)
{
	double *v = NULL;
	size_t n = 0;
	int rc = rbe_parse_real_list(arg, &v, &n, e);
	if (rc < 0)
		return rc;
	json_t *arr = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(arr, json_real(v[k]));
	free(v);
	json_object_set_new(o->dest, "lambdas", arr);
	return 0;
}

static int opt_target_share(const rbe_opt *o, const char *arg, rbe_error *e)
{
	const char *eq = strrchr(arg, '=');
	char *end = NULL;
	double v = eq ? strtod(eq + 1, &end) : -1;
	if (!eq || eq == arg || end == eq + 1 || *end || !(v >= 0 && v <= 1))
		return rbe_fail(e, -EINVAL, "'%s' must be MODEL=P with P between 0 and 1", arg);
	json_object_set_new(o->dest, "target_share", json_pack("{s:s%,s:f}", "model", arg, (size_t)(eq - arg), "share", v));
	return 0;
}

size_t rbctl_eval_options(rbctl_eval *ev, int local, rbe_opt *out)
{
	*ev = (rbctl_eval){.job = json_object(), .opts = out};
	json_t *job = ev->job;
	const rbe_opt opts[] = {
		RBE_OPT_STRING("dataset", 'd', &ev->dataset, local ? "FILE" : "NAME",
			       local ? "compiled dataset (rbctl import / rbctl gen)" : "a dataset rbd serves (rbctl datasets)"),
		RBE_OPT_STRING("router", 'r', &ev->router, local ? "NAME|PATH" : "NAME",
			       local ? "router plugin: a name searched in the plugin directories, or a .so path"
				     : "a router rbd serves (rbctl routers)"),
		RBE_OPT_CALL("set", 0, opt_set, job, "NAME=VALUE",
			     local ? "router parameter (repeatable); `rbctl routers --local` lists them"
				   : "router parameter (repeatable); `rbctl routers` lists them"),
		RBE_OPT_UINT("threads", 0, &ev->threads, 1, 1024, "N",
			     local ? "CPU threads the router may use (default: all online CPUs)"
				   : "CPU threads the router may use (default and maximum: the server's [limits] threads)"),
		RBE_OPT_CALL("tasks", 0, opt_tasks, job, "A,B", "evaluate only these task groups (default: all)"),
		RBE_OPT_CALL("models", 0, opt_models, job, "A,B",
			     "route among these models only (e.g. a strong and a weak one, for\n"
			     "RouteLLM's two-model figures); default: every model of the dataset"),
		RBE_OPT_UINT("seed", 0, &ev->seed, 0, UINT32_MAX, "N", "split seed, 0..4294967295 (default 42, the paper's)"),
		RBE_OPT_DOUBLE("train-fraction", 0, &ev->train_fraction, 0, 1, RBE_OPT_OPEN_LO | RBE_OPT_OPEN_HI, "F",
			       "train share of each task group (default 0.7)"),
		RBE_OPT_CALL("split", 0, opt_split, job, "paper|ood",
			     "paper: train on the group's own 70%; ood: on the other groups' (default paper)"),
		RBE_OPT_CALL("group", 0, opt_group, job, "PATTERN=NAME",
			     "task grouping rule (repeatable; default mmlu-*=mmlu); --no-default-groups drops it"),
		RBE_OPT_FLAG("no-default-groups", 0, &ev->no_default_groups, "leave out the default grouping rule"),
		RBE_OPT_CALL("lambdas", 0, opt_lambdas, job, "A,B,...",
			     "willingness-to-pay sweep for predictive routers (default: the paper's 32 values)"),
		RBE_OPT_UINT("bootstrap", 0, &ev->bootstrap, 0, 1000000, "B", "resamples for the 95% intervals (default 1000; 0: none)"),
		RBE_OPT_UINT("bootstrap-seed", 0, &ev->bootstrap_seed, 0, UINT32_MAX, "S",
			     "seed of the resamples (default 42; equal seeds pair two results)"),
		RBE_OPT_UINT("splits", 0, &ev->splits, 1, 1000, "K", "repeat over K split seeds (seed, seed+1, ...): mean and spread"),
		RBE_OPT_FLAG("keep-decisions", 0, &ev->keep_decisions, "store every per-prompt decision in the result (for rbctl compare)"),
		RBE_OPT_DOUBLE("overhead-cost-per-query", 0, &ev->overhead_cost_per_query, 0, INFINITY, 0, "USD",
			       "add a router's own cost (e.g. an embedding call) to each prompt"),
		RBE_OPT_DOUBLE("target-budget", 0, &ev->target_budget, 0, INFINITY, 0, "USD",
			       "calibrate: pick the point with the best quality within USD per query"),
		RBE_OPT_CALL("target-share", 0, opt_target_share, job, "M=P",
			     "calibrate: pick the point routing a share P of prompts to model M"),
		RBE_OPT_DOUBLE("validation-fraction", 0, &ev->validation_fraction, 0, 1, RBE_OPT_OPEN_LO | RBE_OPT_OPEN_HI, "F",
			       "part of each train split that calibration holds out (default 0.2)"),
	};
	_Static_assert(sizeof(opts) / sizeof(opts[0]) == RBCTL_EVAL_N_OPTS, "RBCTL_EVAL_N_OPTS");
	memcpy(out, opts, sizeof(opts));
	return RBCTL_EVAL_N_OPTS;
}

/* The given strings, numbers and flags, each as the member of its option's name. */
static void numbers_to_job(const rbctl_eval *ev)
{
	char member[64];
	for (size_t k = 0; k < RBCTL_EVAL_N_OPTS; k++) {
		const rbe_opt *o = &ev->opts[k];
		if (!o->given)
			continue;
		member_of(o, member, sizeof(member));
		if (o->kind == RBE_ARG_UINT)
			json_object_set_new(ev->job, member, json_integer(*(const uint32_t *)o->dest));
		else if (o->kind == RBE_ARG_DOUBLE)
			json_object_set_new(ev->job, member, json_real(*(const double *)o->dest));
		else if (o->kind == RBE_ARG_STRING)
			json_object_set_new(ev->job, member, json_string(*(const char *const *)o->dest));
	}
	if (ev->no_default_groups)
		json_object_set_new(ev->job, "default_groups", json_false());
	if (ev->keep_decisions)
		json_object_set_new(ev->job, "keep_decisions", json_true());
}

int rbctl_eval_finish(const char *cmd, rbctl_eval *ev)
{
	numbers_to_job(ev);
	if (!ev->dataset || !ev->router) {
		fprintf(stderr, "rbctl %s: --dataset and --router are required (rbctl %s --help)\n", cmd, cmd);
		return RBCTL_EXIT_USAGE;
	}
	/* Consecutive seeds must stay in range; said in the options' words, not the job's. */
	uint64_t s = json_object_get(ev->job, "seed") ? ev->seed : 42, k = json_object_get(ev->job, "splits") ? ev->splits : 1;
	if (s + k - 1 > UINT32_MAX) {
		fprintf(stderr, "rbctl %s: --splits %llu from seed %llu passes 4294967295\n", cmd, (unsigned long long)k,
			(unsigned long long)s);
		return RBCTL_EXIT_FAIL;
	}
	return RBCTL_EXIT_OK;
}

typedef struct result_output {
	const json_t *result;
	int as_json;
} result_output;

static int write_result(FILE *out, const void *ctx, rbe_error *e)
{
	const result_output *o = ctx;
	(void)e;
	if (o->as_json) {
		json_dumpf(o->result, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
		fputc('\n', out);
	} else {
		rbr_report_table(out, o->result);
	}
	return 0;
}

int rbctl_print_result(const char *cmd, const char *path, const json_t *result, int as_json)
{
	return rbctl_write_output(cmd, path, write_result, &(result_output){result, as_json});
}
