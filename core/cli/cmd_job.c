/* cmd_job.c — what rbctl run and rbctl submit share: the evaluation options as a job object, and the result printer. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "eval/params.h"
#include "report/table.h"
#include "data/split.h"
#include "lib/util.h"

enum {
	OPT_SET = RBCTL_EVAL_OPT_BASE, OPT_TASKS, OPT_MODELS, OPT_SEED, OPT_FRACTION, OPT_SPLIT, OPT_GROUP,
	OPT_NO_GROUPS, OPT_LAMBDAS, OPT_THREADS, OPT_BOOTSTRAP, OPT_BOOTSTRAP_SEED, OPT_SPLITS, OPT_KEEP,
	OPT_OVERHEAD, OPT_BUDGET, OPT_SHARE, OPT_VALIDATION,
};

static const struct option eval_longopts[] = {
	{"dataset", required_argument, NULL, 'd'},
	{"router", required_argument, NULL, 'r'},
	{"set", required_argument, NULL, OPT_SET},
	{"tasks", required_argument, NULL, OPT_TASKS},
	{"models", required_argument, NULL, OPT_MODELS},
	{"seed", required_argument, NULL, OPT_SEED},
	{"train-fraction", required_argument, NULL, OPT_FRACTION},
	{"split", required_argument, NULL, OPT_SPLIT},
	{"group", required_argument, NULL, OPT_GROUP},
	{"no-default-groups", no_argument, NULL, OPT_NO_GROUPS},
	{"lambdas", required_argument, NULL, OPT_LAMBDAS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
	{"bootstrap-seed", required_argument, NULL, OPT_BOOTSTRAP_SEED},
	{"splits", required_argument, NULL, OPT_SPLITS},
	{"keep-decisions", no_argument, NULL, OPT_KEEP},
	{"overhead-cost-per-query", required_argument, NULL, OPT_OVERHEAD},
	{"target-budget", required_argument, NULL, OPT_BUDGET},
	{"target-share", required_argument, NULL, OPT_SHARE},
	{"validation-fraction", required_argument, NULL, OPT_VALIDATION},
};
#define N_EVAL_OPTS (sizeof(eval_longopts) / sizeof(eval_longopts[0]))
_Static_assert(N_EVAL_OPTS <= RBCTL_EVAL_MAX_OPTS, "raise RBCTL_EVAL_MAX_OPTS");

size_t rbctl_eval_longopts(struct option *out)
{
	memcpy(out, eval_longopts, sizeof(eval_longopts));
	return N_EVAL_OPTS;
}

void rbctl_eval_usage(FILE *out, int local)
{
	fprintf(out, "  --set NAME=VALUE      router parameter (repeatable); `rbctl routers%s` lists them\n",
		local ? " --local" : "");
	fprintf(out, "  --threads N           CPU threads the router may use (%s)\n",
		local ? "default: all online CPUs" : "default and maximum: the server's [limits] threads");
	fprintf(out,
		"  --tasks A,B           evaluate only these task groups (default: all)\n"
		"  --models A,B          route among these models only (e.g. a strong and a weak one, for\n"
		"                        RouteLLM's two-model figures); default: every model of the dataset\n"
		"  --seed N              split seed, 0..4294967295 (default 42, the paper's)\n"
		"  --train-fraction F    train share of each task group (default 0.7)\n"
		"  --split paper|ood     paper: train on the group's own 70%%; ood: on the other groups' (default paper)\n"
		"  --group PATTERN=NAME  task grouping rule (repeatable; default mmlu-*=mmlu); --no-default-groups drops it\n"
		"  --lambdas A,B,...     willingness-to-pay sweep for predictive routers (default: the paper's 32 values)\n"
		"  --bootstrap B         resamples for the 95%% intervals (default 1000; 0: none)\n"
		"  --bootstrap-seed S    seed of the resamples (default 42; equal seeds pair two results)\n"
		"  --splits K            repeat over K split seeds (seed, seed+1, ...): mean and spread\n"
		"  --keep-decisions      store every per-prompt decision in the result (for rbctl compare)\n"
		"  --overhead-cost-per-query USD  add a router's own cost (e.g. an embedding call) to each prompt\n"
		"  --target-budget USD   calibrate: pick the point with the best quality within USD per query\n"
		"  --target-share M=P    calibrate: pick the point routing a share P of prompts to model M\n"
		"  --validation-fraction F  part of each train split that calibration holds out (default 0.2)\n");
}

static int parse_u32(const char *text, uint32_t min, uint32_t max, json_t *job, const char *member)
{
	uint64_t v;
	if (rbe_parse_uint(text, max, &v) < 0 || v < min)
		return -1;
	json_object_set_new(job, member, json_integer((json_int_t)v));
	return 0;
}

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

int rbctl_eval_option(const char *cmd, int c, const char *arg, json_t *job)
{
	rbe_error e = {0};
	switch (c) {
	case 'd':
		json_object_set_new(job, "dataset", json_string(arg));
		return 1;
	case 'r':
		json_object_set_new(job, "router", json_string(arg));
		return 1;
	case OPT_SET:
		append_string(job, "settings", arg);
		return 1;
	case OPT_TASKS:
		json_object_set_new(job, "tasks", split_commas(arg));
		return 1;
	case OPT_MODELS: {
		json_t *models = split_commas(arg);
		if (json_array_size(models) == 0) {
			json_decref(models);
			fprintf(stderr, "rbctl %s: --models '%s' names no model\n", cmd, arg);
			return -1;
		}
		json_object_set_new(job, "models", models);
		return 1;
	}
	case OPT_SEED:
		if (parse_u32(arg, 0, UINT32_MAX, job, "seed") < 0) {
			fprintf(stderr, "rbctl %s: --seed '%s' must be an integer from 0 to 4294967295\n", cmd, arg);
			return -1;
		}
		return 1;
	case OPT_FRACTION: {
		char *end;
		double v = strtod(arg, &end);
		if (end == arg || *end || !(v > 0 && v < 1)) {
			fprintf(stderr, "rbctl %s: --train-fraction '%s' must be a number between 0 and 1\n", cmd, arg);
			return -1;
		}
		json_object_set_new(job, "train_fraction", json_real(v));
		return 1;
	}
	case OPT_SPLIT:
		if (strcmp(arg, "paper") != 0 && strcmp(arg, "ood") != 0) {
			fprintf(stderr, "rbctl %s: --split '%s' must be paper or ood\n", cmd, arg);
			return -1;
		}
		json_object_set_new(job, "split", json_string(arg));
		return 1;
	case OPT_GROUP: {
		/* Checked here so the message names the option; the job keeps the rule as text. */
		rbe_grouping g = {0};
		int rc = rbe_grouping_add(&g, arg, &e);
		rbe_grouping_clear(&g);
		if (rc < 0) {
			fprintf(stderr, "rbctl %s: --group: %s\n", cmd, e.msg);
			return -1;
		}
		append_string(job, "groups", arg);
		return 1;
	}
	case OPT_NO_GROUPS:
		json_object_set_new(job, "default_groups", json_false());
		return 1;
	case OPT_LAMBDAS: {
		double *v = NULL;
		size_t n = 0;
		if (rbe_parse_real_list(arg, &v, &n, &e) < 0) {
			fprintf(stderr, "rbctl %s: --lambdas: %s\n", cmd, e.msg);
			return -1;
		}
		json_t *arr = json_array();
		for (size_t k = 0; k < n; k++)
			json_array_append_new(arr, json_real(v[k]));
		free(v);
		json_object_set_new(job, "lambdas", arr);
		return 1;
	}
	case OPT_THREADS:
		if (parse_u32(arg, 1, 1024, job, "threads") < 0) {
			fprintf(stderr, "rbctl %s: --threads '%s' must be an integer from 1 to 1024\n", cmd, arg);
			return -1;
		}
		return 1;
	case OPT_BOOTSTRAP:
		if (parse_u32(arg, 0, 1000000, job, "bootstrap") < 0) {
			fprintf(stderr, "rbctl %s: --bootstrap '%s' must be an integer from 0 to 1000000\n", cmd, arg);
			return -1;
		}
		return 1;
	case OPT_BOOTSTRAP_SEED:
		if (parse_u32(arg, 0, UINT32_MAX, job, "bootstrap_seed") < 0) {
			fprintf(stderr, "rbctl %s: --bootstrap-seed '%s' must be an integer from 0 to 4294967295\n", cmd,
				arg);
			return -1;
		}
		return 1;
	case OPT_SPLITS:
		if (parse_u32(arg, 1, 1000, job, "splits") < 0) {
			fprintf(stderr, "rbctl %s: --splits '%s' must be an integer from 1 to 1000\n", cmd, arg);
			return -1;
		}
		return 1;
	case OPT_KEEP:
		json_object_set_new(job, "keep_decisions", json_true());
		return 1;
	case OPT_OVERHEAD:
	case OPT_BUDGET:
	case OPT_VALIDATION: {
		char *end;
		double v = strtod(arg, &end);
		if (end == arg || *end || !isfinite(v) || v < 0 || (c == OPT_VALIDATION && !(v > 0 && v < 1))) {
			fprintf(stderr, "rbctl %s: --%s '%s' must be a number %s\n", cmd,
				c == OPT_OVERHEAD ? "overhead-cost-per-query" : c == OPT_BUDGET ? "target-budget" : "validation-fraction",
				arg, c == OPT_VALIDATION ? "between 0 and 1" : ">= 0 (USD per query)");
			return -1;
		}
		json_object_set_new(job,
				    c == OPT_OVERHEAD ? "overhead_cost_per_query" : c == OPT_BUDGET ? "target_budget" : "validation_fraction",
				    json_real(v));
		return 1;
	}
	case OPT_SHARE: {
		const char *eq = strrchr(arg, '=');
		char *end = NULL;
		double v = eq ? strtod(eq + 1, &end) : -1;
		if (!eq || eq == arg || end == eq + 1 || *end || !(v >= 0 && v <= 1)) {
			fprintf(stderr, "rbctl %s: --target-share '%s' must be MODEL=P with P between 0 and 1\n", cmd, arg);
			return -1;
		}
		json_object_set_new(job, "target_share",
				    json_pack("{s:s%,s:f}", "model", arg, (size_t)(eq - arg), "share", v));
		return 1;
	}
	default:
		return 0;
	}
}

int rbctl_eval_finish(const char *cmd, const json_t *job)
{
	if (!json_object_get(job, "dataset") || !json_object_get(job, "router")) {
		fprintf(stderr, "rbctl %s: --dataset and --router are required (rbctl %s --help)\n", cmd, cmd);
		return RBCTL_EXIT_USAGE;
	}
	/* Consecutive seeds must stay in range; said in the options' words, not the job's. */
	const json_t *seed = json_object_get(job, "seed"), *splits = json_object_get(job, "splits");
	json_int_t s = seed ? json_integer_value(seed) : 42, k = splits ? json_integer_value(splits) : 1;
	if (s + k - 1 > (json_int_t)UINT32_MAX) {
		fprintf(stderr, "rbctl %s: --splits %lld from seed %lld passes 4294967295\n", cmd, (long long)k,
			(long long)s);
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
