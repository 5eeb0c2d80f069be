/* cmd_run.c — `rbctl run`: the whole evaluation in one process, no daemon. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "eval/jobspec.h"
#include "data/rbds_format.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl run --dataset FILE.rbds --router NAME [options]\n"
		"\n"
		"Evaluate a router on a dataset in this process and print a per-task table\n"
		"(or, with --json, the result document described in docs/result-schema.md).\n"
		"\n"
		"  --dataset FILE        compiled dataset (rbctl import / rbctl gen)\n"
		"  --router NAME|PATH    router plugin: a name searched in the plugin directories, or a .so path\n");
	rbctl_eval_usage(out, 1);
	fprintf(out,
		"  --plugin-dir DIR      search DIR first for routers (repeatable)\n"
		"  --json                print the result document as JSON\n"
		"  -o, --output FILE     write the output to FILE (atomically) instead of stdout\n"
		"  -h, --help            this text\n"
		"\n"
		"exit status: 0 success, 1 bad input or failed evaluation, 2 usage error\n");
}

/* On a terminal, which of K splits is running: split i covers fractions [i/K, (i+1)/K). */
typedef struct split_line {
	uint32_t k, seed;
	long shown;
} split_line;

static void on_progress(void *ctx, const char *phase, const char *task, double fraction)
{
	split_line *sl = ctx;
	(void)task;
	if (!strcmp(phase, "done"))
		return; /* a finished split's last fraction is the next one's start */
	uint32_t i = (uint32_t)floor(fraction * sl->k + 1e-9);
	if (i >= sl->k)
		i = sl->k - 1;
	if ((long)i != sl->shown) {
		sl->shown = i;
		fprintf(stderr, "\rrbctl run: split %u/%u (seed %u)", i + 1, sl->k, sl->seed + i);
	}
}

int rbctl_run_main(int argc, char **argv)
{
	enum { OPT_PLUGIN_DIR = 256, OPT_JSON };
	struct option longopts[RBCTL_EVAL_MAX_OPTS + 8];
	size_t n = rbctl_eval_longopts(longopts);
	longopts[n++] = (struct option){"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR};
	longopts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
	longopts[n++] = (struct option){"output", required_argument, NULL, 'o'};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){0};

	const char *output = NULL;
	const char **plugin_dirs = rbe_xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_dirs = 0;
	int as_json = 0, status = RBCTL_EXIT_USAGE, c;
	json_t *job = json_object(), *result = NULL;
	rbe_error e = {0};
	rbe_jobspec *spec = NULL;
	rbe_dataset *ds = NULL;
	rbe_plugin *plugin = NULL;
	char **dirs = NULL, *router_path = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:r:o:h", longopts, NULL)) != -1) {
		int shared = rbctl_eval_option("run", c, optarg, job);
		if (shared < 0)
			goto out;
		if (shared > 0)
			continue;
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_PLUGIN_DIR:
			plugin_dirs[n_dirs++] = optarg;
			break;
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
	if ((status = rbctl_eval_finish("run", job)) != RBCTL_EXIT_OK)
		goto out;

	/* The same job object rbctl submit sends and rbd-worker runs: one path, the same numbers. */
	status = RBCTL_EXIT_FAIL;
	const char *router_name = json_string_value(json_object_get(job, "router"));
	const char *dataset_path = json_string_value(json_object_get(job, "dataset"));
	dirs = rbe_plugin_default_dirs(plugin_dirs);
	if (rbe_jobspec_parse(job, &spec, &e) < 0 ||
	    rbe_plugin_resolve(router_name, (const char *const *)dirs, &router_path, &e) < 0 ||
	    rbe_plugin_load(router_path, &plugin, &e) < 0 || rbe_rbds_open(dataset_path, &ds, &e) < 0) {
		fprintf(stderr, "rbctl run: %s\n", e.msg);
		goto out;
	}
	const json_t *splits = json_object_get(job, "splits"), *seed = json_object_get(job, "seed");
	split_line sl = {splits ? (uint32_t)json_integer_value(splits) : 1, seed ? (uint32_t)json_integer_value(seed) : 42,
			 -1};
	int show_splits = sl.k > 1 && isatty(2);
	int rc = rbe_jobspec_run(spec, ds, plugin, show_splits ? on_progress : NULL, &sl, &result, &e);
	if (show_splits)
		fputc('\n', stderr);
	if (rc < 0) {
		fprintf(stderr, "rbctl run: %s\n", e.msg);
		goto out;
	}
	status = rbctl_print_result("run", output, result, as_json);
out:
	json_decref(result);
	json_decref(job);
	rbe_jobspec_free(spec);
	rbe_plugin_free(plugin);
	rbe_dataset_free(ds);
	rbe_strv_free(dirs);
	free(router_path);
	free(plugin_dirs);
	return status;
}
