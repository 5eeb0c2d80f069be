/* cmd_plot.c — `rbctl plot`: result documents drawn on the cost–quality plane, one SVG. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/plot.h"

static void plot_usage(FILE *out)
{
	fprintf(out,
		"usage: rbctl plot RESULT.json... -o FILE.svg [--log-cost] [--task NAME]...\n"
		"\n"
		"Draw `rbctl run --json` results (all on one dataset) on the cost-quality plane: one panel\n"
		"per task group and one for all groups pooled, each with the single LLMs, the Oracle, the\n"
		"Zero router's hull (dashed) and every result's operating points and hull, one colour per\n"
		"result file. docs/reports.md describes the picture.\n"
		"\n"
		"  -o, --output FILE  write the SVG to FILE (atomically; default: standard output)\n"
		"  --log-cost         log10 cost axis with decade ticks (costs often span decades)\n"
		"  --task NAME        draw only this task group; 'overall' is the pooled panel (repeatable)\n"
		"  -h, --help         this text\n"
		"\n"
		"exit status: 0 success, 1 bad input (the message names the file), 2 usage error\n");
}

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
	enum { OPT_LOG = 256, OPT_TASK };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"log-cost", no_argument, NULL, OPT_LOG},
		{"task", required_argument, NULL, OPT_TASK},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *output = NULL;
	const char **want = rbe_xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_want = 0;
	rbr_plot_opts opts = {0};
	int c, status = RBCTL_EXIT_USAGE;
	const char **tasks = NULL;
	rbr_resultset rs = {0};

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_LOG:
			opts.log_cost = 1;
			break;
		case OPT_TASK:
			want[n_want++] = optarg;
			break;
		case 'h':
			plot_usage(stdout);
			status = RBCTL_EXIT_OK;
			goto out;
		case ':':
			fprintf(stderr, "rbctl plot: option '%s' needs a value\n", argv[optind - 1]);
			goto out;
		default:
			fprintf(stderr, "rbctl plot: unknown option '%s'\n", argv[optind - 1]);
			plot_usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "rbctl plot: give at least one result file (rbctl run --json -o FILE)\n");
		plot_usage(stderr);
		goto out;
	}

	rbe_error e = {0};
	status = RBCTL_EXIT_FAIL;
	if (rbr_resultset_load(&rs, (const char *const *)argv + optind, (size_t)(argc - optind), &e) < 0) {
		fprintf(stderr, "rbctl plot: %s\n", e.msg);
		goto out;
	}
	if (!rbr_resultset_same_split(&rs))
		fprintf(stderr, "rbctl plot: warning: the results use different splits; each panel's LLM points, "
				"Oracle and Zero router come from one of them\n");
	size_t n_tasks = 0;
	tasks = rbe_xcalloc(rs.n_tasks + n_want + 1, sizeof(char *));
	if (n_want) {
		for (size_t k = 0; k < n_want; k++)
			tasks[n_tasks++] = strcmp(want[k], "overall") ? want[k] : NULL;
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
	free(want);
	return status;
}
