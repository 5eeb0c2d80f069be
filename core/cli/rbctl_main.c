/* rbctl_main.c — the routerbench command line: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "rb/version.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"import", rbctl_import_main, "compile RouterBench CSV/JSONL files into a .rbds dataset"},
	{"info", rbctl_info_main, "describe a .rbds dataset (models, tasks, features, sha256), or rbd without a FILE"},
	{"gen", rbctl_gen_main, "generate the calibrated demo dataset (or a synthetic one at any scale)"},
	{"featurize", rbctl_featurize_main, "add text features (hashed TF-IDF) or imported embeddings to a dataset"},
	{"run", rbctl_run_main, "evaluate a router on a dataset in this process and print the metrics"},
	{"compare", rbctl_compare_main, "compare two results on the same data: AIQ difference with a paired interval"},
	{"plot", rbctl_plot_main, "draw results on the cost-quality plane as SVG"},
	{"report", rbctl_report_main, "write a leaderboard per task (HTML with plots, or Markdown)"},
	{"routers", rbctl_routers_main, "list rbd's routers (--local: the plugins rbctl run can load), with parameters"},
	{"submit", rbctl_submit_main, "submit an evaluation to rbd (--wait: follow it and print its result)"},
	{"status", rbctl_status_main, "show a job of rbd: state, progress, times, reason"},
	{"result", rbctl_result_main, "print a finished job's result as rbctl run prints it"},
	{"cancel", rbctl_cancel_main, "cancel a queued or running job"},
	{"jobs", rbctl_jobs_main, "list your team's jobs (--all: finished ones too)"},
	{"datasets", rbctl_datasets_main, "list the datasets rbd serves"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: rbctl COMMAND [OPTIONS]   (rbctl COMMAND --help for details)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nThe commands that talk to rbd take --socket PATH (default: $RBD_SOCKET, else\n"
		     "/run/rbd/rbd.sock).\n"
		     "\n-o FILE is written atomically (a temporary file renamed into place; a symbolic link\n"
		     "to a regular file has its target replaced). An existing character device or FIFO\n"
		     "(/dev/null, a pipe) is written in place, never replaced; a directory, socket or block\n"
		     "device is refused.\n"
		     "\nexit status: 0 success, 1 bad input, failed evaluation or rbd refused the request,\n"
		     "2 usage error, 3 cannot reach rbd (connect failed or connection lost), 4 job cancelled\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RBCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return RBCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("rbctl %s (router ABI %d.%d)\n", RB_VERSION_STRING, RB_ABI_MAJOR, RB_ABI_MINOR);
		return RBCTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "rbctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return RBCTL_EXIT_USAGE;
}
