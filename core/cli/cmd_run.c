/* cmd_run.c — `rbctl run`: the whole evaluation in one process, no daemon. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "eval/jobspec.h"
#include "data/rbds_format.h"

static const rbctl_usage run_usage = {
	"run",
	"usage: rbctl run --dataset FILE.rbds --router NAME [options]\n"
	"\n"
	"Evaluate a router on a dataset in this process and print a per-task table\n"
	"(or, with --json, the result document described in docs/result-schema.md).\n",
	"exit status: 0 success, 1 bad input or failed evaluation, 2 usage error\n",
};

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
	rbctl_eval ev;
	rbe_opt_list plugin_dirs = {0};
	const char *output = NULL;
	int as_json = 0, first;
	rbe_opt opts[RBCTL_EVAL_N_OPTS + 5];
	size_t n = rbctl_eval_options(&ev, 1, opts);
	opts[n++] = (rbe_opt)RBE_OPT_LIST("plugin-dir", 0, &plugin_dirs, "DIR", "search DIR first for routers (repeatable)");
	opts[n++] = (rbe_opt)RBE_OPT_FLAG("json", 0, &as_json, "print the result document as JSON");
	opts[n++] = (rbe_opt)RBE_OPT_STRING("output", 'o', &output, "FILE", "write the output to FILE (atomically) instead of stdout");
	opts[n++] = (rbe_opt)RBE_OPT_HELP;
	opts[n] = (rbe_opt)RBE_OPT_END;

	json_t *job = ev.job, *result = NULL;
	rbe_error e = {0};
	rbe_jobspec *spec = NULL;
	rbe_dataset *ds = NULL;
	rbe_plugin *plugin = NULL;
	char **dirs = NULL, *router_path = NULL;
	int status = rbctl_parse(&run_usage, opts, argc, argv, &first);
	if (status >= 0)
		goto out;
	if (first < argc) {
		status = rbctl_usage_error("run", "unexpected argument '%s'", argv[first]);
		goto out;
	}
	if ((status = rbctl_eval_finish("run", &ev)) != RBCTL_EXIT_OK)
		goto out;

	/* The same job object rbctl submit sends and rbd-worker runs: one path, the same numbers. */
	status = RBCTL_EXIT_FAIL;
	dirs = rbe_plugin_default_dirs(plugin_dirs.items);
	if (rbe_jobspec_parse(job, &spec, &e) < 0 ||
	    rbe_plugin_resolve(ev.router, (const char *const *)dirs, &router_path, &e) < 0 ||
	    rbe_plugin_load(router_path, &plugin, &e) < 0 || rbe_rbds_open(ev.dataset, &ds, &e) < 0) {
		fprintf(stderr, "rbctl run: %s\n", e.msg);
		goto out;
	}
	split_line sl = {json_object_get(job, "splits") ? ev.splits : 1, json_object_get(job, "seed") ? ev.seed : 42, -1};
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
	rbe_opt_list_clear(&plugin_dirs);
	return status;
}
