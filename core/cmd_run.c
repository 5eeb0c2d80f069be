/* cmd_run.c — `rbctl run`: the whole evaluation in one process, no daemon. */
#include <errno.h>
#include <math.h>
#include <unistd.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "eval.h"
#include "rbds.h"
#include "repeat.h"
#include "report.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl run --dataset FILE.rbds --router NAME [options]\n"
		"\n"
		"Evaluate a router on a dataset in this process and print a per-task table\n"
		"(or, with --json, the result document described in docs/result-schema.md).\n"
		"\n"
		"  --dataset FILE        compiled dataset (rbctl import / rbctl gen)\n"
		"  --router NAME|PATH    router plugin: a name searched in the plugin directories, or a .so path\n"
		"  --set NAME=VALUE      router parameter (repeatable); `rbctl routers` lists them\n"
		"  --tasks A,B           evaluate only these task groups (default: all)\n"
		"  --models A,B          route among these models only (e.g. a strong and a weak one, for\n"
		"                        RouteLLM's two-model figures); default: every model of the dataset\n"
		"  --seed N              split seed, 0..4294967295 (default 42, the paper's)\n"
		"  --train-fraction F    train share of each task group (default 0.7)\n"
		"  --split paper|ood     paper: train on the group's own 70%%; ood: on the other groups' (default paper)\n"
		"  --group PATTERN=NAME  task grouping rule (repeatable; default mmlu-*=mmlu); --no-default-groups drops it\n"
		"  --lambdas A,B,...     willingness-to-pay sweep for predictive routers (default: the paper's 32 values)\n"
		"  --threads N           CPU threads the router may use (default: all online CPUs)\n"
		"  --bootstrap B         resamples for the 95%% intervals (default 1000; 0: none)\n"
		"  --bootstrap-seed S    seed of the resamples (default 42; equal seeds pair two results)\n"
		"  --splits K            repeat over K split seeds (seed, seed+1, ...): mean and spread\n"
		"  --keep-decisions      store every per-prompt decision in the result (for rbctl compare)\n"
		"  --overhead-cost-per-query USD  add a router's own cost (e.g. an embedding call) to each prompt\n"
		"  --target-budget USD   calibrate: pick the point with the best quality within USD per query\n"
		"  --target-share M=P    calibrate: pick the point routing a share P of prompts to model M\n"
		"  --validation-fraction F  part of each train split that calibration holds out (default 0.2)\n"
		"  --plugin-dir DIR      search DIR first for routers (repeatable)\n"
		"  --json                print the result document as JSON\n"
		"  -o, --output FILE     write the output to FILE (atomically) instead of stdout\n"
		"  -h, --help            this text\n"
		"\n"
		"exit status: 0 success, 1 bad input or failed evaluation, 2 usage error\n");
}

static int parse_u32(const char *text, uint32_t *out)
{
	uint64_t v;
	int r = rbd_parse_uint(text, UINT32_MAX, &v);
	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

static char **split_commas(const char *text, size_t *n)
{
	size_t cap = 4;
	char **v = rbd_xcalloc(cap, sizeof(char *)), *copy = rbd_xstrdup(text), *save = NULL;
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n + 1 >= cap)
			v = rbd_xrealloc(v, (cap *= 2) * sizeof(char *));
		v[(*n)++] = rbd_xstrdup(tok);
		v[*n] = NULL;
	}
	free(copy);
	return v;
}

typedef struct run_output {
	const json_t *result;
	int as_json;
} run_output;

static int write_result(FILE *out, const void *ctx, rbd_error *e)
{
	const run_output *o = ctx;
	(void)e;
	if (o->as_json) {
		json_dumpf(o->result, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
		fputc('\n', out);
	} else {
		rbd_report_table(out, o->result);
	}
	return 0;
}

/* One evaluation, or K over consecutive split seeds: the first result carries a "repeated"
 * summary of all K (the bootstrap runs on the first only). */
static int evaluate_splits(const rbd_dataset *ds, const rbd_plugin *plugin, const rbd_params *params,
			   const rbd_eval_opts *opts, uint32_t k, json_t **result, rbd_error *e)
{
	json_t **all = rbd_xcalloc(k, sizeof(json_t *));
	int rc = 0;
	for (uint32_t i = 0; i < k && rc == 0; i++) {
		rbd_eval_opts o = *opts;
		if ((uint64_t)o.seed + i > UINT32_MAX) {
			rc = rbd_fail(e, -EINVAL, "--splits %u from seed %u passes 4294967295", k, o.seed);
			break;
		}
		o.seed += i;
		if (i > 0)
			o.bootstrap_resamples = 0;
		if (k > 1 && isatty(2))
			fprintf(stderr, "\rrbctl run: split %u/%u (seed %u)", i + 1, k, o.seed);
		rc = rbd_evaluate(ds, plugin, params, &o, &all[i], e);
	}
	if (k > 1 && isatty(2))
		fputc('\n', stderr);
	if (rc == 0) {
		if (k > 1)
			json_object_set_new(all[0], "repeated", rbd_repeated_summary(all, k));
		*result = json_incref(all[0]);
	}
	for (uint32_t i = 0; i < k; i++)
		json_decref(all[i]);
	free(all);
	return rc;
}

int rbctl_run_main(int argc, char **argv)
{
	enum { OPT_SEED = 256, OPT_FRACTION, OPT_SPLIT, OPT_GROUP, OPT_NO_GROUPS, OPT_LAMBDAS, OPT_THREADS,
	       OPT_PLUGIN_DIR, OPT_JSON, OPT_TASKS, OPT_SET, OPT_BOOTSTRAP, OPT_BOOTSTRAP_SEED, OPT_SPLITS,
	       OPT_KEEP, OPT_OVERHEAD, OPT_BUDGET, OPT_SHARE, OPT_VALIDATION, OPT_MODELS };
	static const struct option longopts[] = {
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
		{"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
		{"json", no_argument, NULL, OPT_JSON},
		{"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
		{"bootstrap-seed", required_argument, NULL, OPT_BOOTSTRAP_SEED},
		{"splits", required_argument, NULL, OPT_SPLITS},
		{"keep-decisions", no_argument, NULL, OPT_KEEP},
		{"overhead-cost-per-query", required_argument, NULL, OPT_OVERHEAD},
		{"target-budget", required_argument, NULL, OPT_BUDGET},
		{"target-share", required_argument, NULL, OPT_SHARE},
		{"validation-fraction", required_argument, NULL, OPT_VALIDATION},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *dataset_path = NULL, *router_name = NULL, *output = NULL;
	const char **settings = rbd_xcalloc((size_t)argc + 1, sizeof(char *));
	const char **plugin_dirs = rbd_xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_settings = 0, n_dirs = 0, n_tasks = 0, n_lambdas = 0;
	char **tasks = NULL, **models = NULL;
	size_t n_models = 0;
	double *lambdas = NULL;
	int as_json = 0, default_groups = 1, status = RBCTL_EXIT_USAGE, c;
	uint32_t splits = 1, resamples = 1000, bootstrap_seed = 42;
	char *share_model = NULL;
	rbd_eval_opts opts;
	rbd_eval_opts_default(&opts);
	rbd_grouping grouping = {0};
	rbd_error e = {0};
	rbd_dataset *ds = NULL;
	rbd_plugin *plugin = NULL;
	rbd_params *params = NULL;
	char **dirs = NULL, *router_path = NULL;
	json_t *result = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:r:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dataset_path = optarg;
			break;
		case 'r':
			router_name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_SET:
			settings[n_settings++] = optarg;
			break;
		case OPT_TASKS:
			rbd_strv_free(tasks);
			tasks = split_commas(optarg, &n_tasks);
			break;
		case OPT_MODELS:
			rbd_strv_free(models);
			models = split_commas(optarg, &n_models);
			if (n_models == 0) {
				fprintf(stderr, "rbctl run: --models '%s' names no model\n", optarg);
				goto out;
			}
			break;
		case OPT_SEED:
			if (parse_u32(optarg, &opts.seed) < 0) {
				fprintf(stderr, "rbctl run: --seed '%s' must be an integer from 0 to 4294967295\n", optarg);
				goto out;
			}
			break;
		case OPT_FRACTION: {
			char *end;
			opts.train_fraction = strtod(optarg, &end);
			if (end == optarg || *end || !(opts.train_fraction > 0 && opts.train_fraction < 1)) {
				fprintf(stderr, "rbctl run: --train-fraction '%s' must be a number between 0 and 1\n",
					optarg);
				goto out;
			}
			break;
		}
		case OPT_SPLIT:
			if (!strcmp(optarg, "paper"))
				opts.mode = RBD_SPLIT_PAPER;
			else if (!strcmp(optarg, "ood"))
				opts.mode = RBD_SPLIT_OOD;
			else {
				fprintf(stderr, "rbctl run: --split '%s' must be paper or ood\n", optarg);
				goto out;
			}
			break;
		case OPT_GROUP:
			if (rbd_grouping_add(&grouping, optarg, &e) < 0) {
				fprintf(stderr, "rbctl run: --group: %s\n", e.msg);
				goto out;
			}
			break;
		case OPT_NO_GROUPS:
			default_groups = 0;
			break;
		case OPT_LAMBDAS:
			free(lambdas);
			lambdas = NULL;
			if (rbd_parse_real_list(optarg, &lambdas, &n_lambdas, &e) < 0) {
				fprintf(stderr, "rbctl run: --lambdas: %s\n", e.msg);
				goto out;
			}
			break;
		case OPT_THREADS:
			if (parse_u32(optarg, &opts.threads) < 0 || opts.threads == 0 || opts.threads > 1024) {
				fprintf(stderr, "rbctl run: --threads '%s' must be an integer from 1 to 1024\n", optarg);
				goto out;
			}
			break;
		case OPT_PLUGIN_DIR:
			plugin_dirs[n_dirs++] = optarg;
			break;
		case OPT_BOOTSTRAP:
			if (parse_u32(optarg, &resamples) < 0 || resamples > 1000000) {
				fprintf(stderr, "rbctl run: --bootstrap '%s' must be an integer from 0 to 1000000\n", optarg);
				goto out;
			}
			break;
		case OPT_BOOTSTRAP_SEED:
			if (parse_u32(optarg, &bootstrap_seed) < 0) {
				fprintf(stderr, "rbctl run: --bootstrap-seed '%s' must be an integer from 0 to 4294967295\n",
					optarg);
				goto out;
			}
			break;
		case OPT_SPLITS:
			if (parse_u32(optarg, &splits) < 0 || splits == 0 || splits > 1000) {
				fprintf(stderr, "rbctl run: --splits '%s' must be an integer from 1 to 1000\n", optarg);
				goto out;
			}
			break;
		case OPT_KEEP:
			opts.keep_decisions = 1;
			break;
		case OPT_OVERHEAD:
		case OPT_BUDGET:
		case OPT_VALIDATION: {
			char *end;
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(v) || v < 0 || (c == OPT_VALIDATION && !(v > 0 && v < 1))) {
				fprintf(stderr, "rbctl run: --%s '%s' must be a number %s\n",
					c == OPT_OVERHEAD ? "overhead-cost-per-query" : c == OPT_BUDGET ? "target-budget" : "validation-fraction",
					optarg, c == OPT_VALIDATION ? "between 0 and 1" : ">= 0 (USD per query)");
				goto out;
			}
			if (c == OPT_OVERHEAD)
				opts.overhead_cost_per_query = v;
			else if (c == OPT_BUDGET)
				opts.target_budget = v;
			else
				opts.validation_fraction = v;
			break;
		}
		case OPT_SHARE: {
			const char *eq = strrchr(optarg, '=');
			char *end = NULL;
			double v = eq ? strtod(eq + 1, &end) : -1;
			if (!eq || eq == optarg || end == eq + 1 || *end || !(v >= 0 && v <= 1)) {
				fprintf(stderr, "rbctl run: --target-share '%s' must be MODEL=P with P between 0 and 1\n",
					optarg);
				goto out;
			}
			free(share_model);
			share_model = strndup(optarg, (size_t)(eq - optarg));
			opts.target_share_model = share_model;
			opts.target_share = v;
			break;
		}
		case OPT_JSON:
			as_json = 1;
			break;
		case 'h':
			run_usage(stdout);
			status = RBCTL_EXIT_OK;
			goto out;
		default:
			run_usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rbctl run: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}
	if (!dataset_path || !router_name) {
		fprintf(stderr, "rbctl run: --dataset and --router are required (rbctl run --help)\n");
		goto out;
	}
	if (default_groups)
		rbd_grouping_add(&grouping, "mmlu-*=mmlu", NULL);
	opts.grouping = &grouping;
	opts.tasks = (const char *const *)tasks;
	opts.n_tasks = n_tasks;
	opts.lambdas = lambdas;
	opts.n_lambdas = n_lambdas;

	status = RBCTL_EXIT_FAIL;
	dirs = rbd_plugin_default_dirs(plugin_dirs);
	if (rbd_plugin_resolve(router_name, (const char *const *)dirs, &router_path, &e) < 0 ||
	    rbd_plugin_load(router_path, &plugin, &e) < 0 || rbd_rbds_open(dataset_path, &ds, &e) < 0 ||
	    rbd_params_parse(plugin, ds, settings, n_settings, &params, &e) < 0) {
		fprintf(stderr, "rbctl run: %s\n", e.msg);
		goto out;
	}
	if (models) {
		rbd_dataset *pool = NULL;
		if (rbd_dataset_select_models(ds, (const char *const *)models, (uint32_t)n_models, &pool, &e) < 0) {
			fprintf(stderr, "rbctl run: --models: %s\n", e.msg);
			goto out;
		}
		rbd_dataset_free(ds);
		ds = pool;
		/* Parameters naming a model are checked against the pool. */
		rbd_params_free(params);
		params = NULL;
		if (rbd_params_parse(plugin, ds, settings, n_settings, &params, &e) < 0) {
			fprintf(stderr, "rbctl run: %s\n", e.msg);
			goto out;
		}
	}
	opts.bootstrap_resamples = resamples;
	opts.bootstrap_seed = bootstrap_seed;
	if (evaluate_splits(ds, plugin, params, &opts, splits, &result, &e) < 0) {
		fprintf(stderr, "rbctl run: %s\n", e.msg);
		goto out;
	}
	status = rbctl_write_output("run", output, write_result, &(run_output){result, as_json});
out:
	json_decref(result);
	rbd_params_free(params);
	rbd_plugin_free(plugin);
	rbd_dataset_free(ds);
	rbd_strv_free(dirs);
	rbd_strv_free(tasks);
	rbd_strv_free(models);
	rbd_grouping_clear(&grouping);
	free(router_path);
	free(share_model);
	free(lambdas);
	free(settings);
	free(plugin_dirs);
	return status;
}
