/* cmd_plot.c — `rbctl plot`: result documents drawn on the cost–quality plane, one SVG. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/plot.h"

static const rbctl_usage plot_usage = {
	"plot",
	"usage: rbctl plot RESULT.json... -o FILE.svg [--log-cost] [--task NAME]...\n"
	"\n"
	"Draw `rbctl run --json` results (all on one dataset) on the cost-quality plane: one panel\n"
	"per task group and one for all groups pooled, each with the single LLMs, the Oracle, the\n"
	"Zero router's hull (dashed) and every result's operating points and hull, one colour per\n"
	"result file. docs/reports.md describes the picture.\n",
	"exit status: 0 success, 1 bad input (the message names the file), 2 usage error\n",
};

typedef struct plot_output {
	const rbr_resultset *rs;
	const char *const *tasks;
	size_t n_tasks;
	const rbr_plot_opts *opts;
} plot_output;

static int write_svg(FILE *out, const void *ctx, rbe_error *e)
{
	const plot_output *o = ctx;
	return rbr_plot_svg(out, o->rs, o->tasks, o->n_tasks, o->opts, e);
}

int rbctl_plot_main(int argc, char **argv)
{
	const char *output = NULL;
	rbe_opt_list want = {0};
	rbr_plot_opts opts = {0};
	int first;
	const char **tasks = NULL;
	rbr_resultset rs = {0};
	rbe_opt table[] = {
		RBE_OPT_STRING("output", 'o', &output, "FILE", "write the SVG to FILE (atomically; default: standard output)"),
		RBE_OPT_FLAG("log-cost", 0, &opts.log_cost, "log10 cost axis with decade ticks (costs often span decades)"),
		RBE_OPT_LIST("task", 0, &want, "NAME", "draw only this task group; 'overall' is the pooled panel (repeatable)"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int status = rbctl_parse(&plot_usage, table, argc, argv, &first);
	if (status >= 0)
		goto out;
	if (first >= argc) {
		fprintf(stderr, "rbctl plot: give at least one result file (rbctl run --json -o FILE)\n");
		status = RBCTL_EXIT_USAGE;
		goto out;
	}

	rbe_error e = {0};
	status = RBCTL_EXIT_FAIL;
	if (rbr_resultset_load(&rs, (const char *const *)argv + first, (size_t)(argc - first), &e) < 0) {
		fprintf(stderr, "rbctl plot: %s\n", e.msg);
		goto out;
	}
	if (!rbr_resultset_same_split(&rs))
		fprintf(stderr, "rbctl plot: warning: the results use different splits; each panel's LLM points, "
				"Oracle and Zero router come from one of them\n");
	size_t n_tasks = 0;
	tasks = rbe_xcalloc(rs.n_tasks + want.n + 1, sizeof(char *));
	if (want.n) {
		for (size_t k = 0; k < want.n; k++)
			tasks[n_tasks++] = strcmp(want.items[k], "overall") ? want.items[k] : NULL;
	} else {
		for (size_t t = 0; t < rs.n_tasks; t++)
			tasks[n_tasks++] = rs.tasks[t];
		tasks[n_tasks++] = NULL;
	}

	status = rbctl_write_output("plot", output, write_svg,
				    &(plot_output){.rs = &rs, .tasks = (const char *const *)tasks, .n_tasks = n_tasks, .opts = &opts});
out:
	rbr_resultset_clear(&rs);
	free(tasks);
	rbe_opt_list_clear(&want);
	return status;
}
