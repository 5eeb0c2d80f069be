/* cmd_report.c — `rbctl report`: leaderboards of result documents as HTML (with plots) or Markdown. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"
#include "report/htmlreport.h"

static const rbctl_usage report_usage = {
	"report",
	"usage: rbctl report RESULT.json... -o FILE.html|FILE.md [--format html|md]\n"
	"\n"
	"Write a leaderboard per task group and overall for `rbctl run --json` results (all on one\n"
	"dataset): each router with its parameters, AIQ (with its bootstrap interval when the\n"
	"result has one), the official code's AIQ, its highest quality and that point's cost per\n"
	"query, and the cost saving against the best single model at that model's quality; the\n"
	"Oracle and the Zero router as reference rows. HTML is self-contained and embeds one plot\n"
	"per task group. docs/reports.md describes the report.\n",
	"exit status: 0 success, 1 bad input (the message names the file), 2 usage error\n",
};

/* The format a file name asks for: 0 and *fmt set, or -1 when the extension says nothing. */
static int format_of_path(const char *path, rbr_report_format *fmt)
{
	const char *dot = strrchr(path, '.');
	if (dot && strchr(dot, '/'))
		dot = NULL;
	if (dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))) {
		*fmt = RBR_REPORT_HTML;
		return 0;
	}
	if (dot && (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"))) {
		*fmt = RBR_REPORT_MD;
		return 0;
	}
	return -1;
}

typedef struct report_output {
	const rbr_resultset *rs;
	rbr_report_format format;
} report_output;

static int write_report(FILE *out, const void *ctx, rbe_error *e)
{
	const report_output *o = ctx;
	(void)e;
	return rbr_report_write(out, o->rs, o->format);
}

int rbctl_report_main(int argc, char **argv)
{
	const char *output = NULL, *format = NULL;
	int first;
	rbr_report_format fmt = RBR_REPORT_HTML;
	rbe_opt opts[] = {
		RBE_OPT_STRING("output", 'o', &output, "FILE", "write to FILE (atomically; default: standard output)"),
		RBE_OPT_STRING("format", 0, &format, "html|md", "output format (default: from FILE's extension, else html)"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int status = rbctl_parse(&report_usage, opts, argc, argv, &first);
	if (status >= 0)
		return status;
	if (format) {
		if (!strcmp(format, "html"))
			fmt = RBR_REPORT_HTML;
		else if (!strcmp(format, "md") || !strcmp(format, "markdown"))
			fmt = RBR_REPORT_MD;
		else {
			fprintf(stderr, "rbctl report: --format '%s' must be html or md\n", format);
			return RBCTL_EXIT_USAGE;
		}
	} else if (output && format_of_path(output, &fmt) < 0) {
		fprintf(stderr, "rbctl report: cannot tell the format from '%s': name it .html or .md, or give --format html|md\n",
			output);
		return RBCTL_EXIT_USAGE;
	}
	if (first >= argc)
		return rbctl_usage_error("report", "give at least one result file (rbctl run --json -o FILE)");

	rbe_error e = {0};
	rbr_resultset rs = {0};
	if (rbr_resultset_load(&rs, (const char *const *)argv + first, (size_t)(argc - first), &e) < 0) {
		fprintf(stderr, "rbctl report: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	status = rbctl_write_output("report", output, write_report, &(report_output){&rs, fmt});
	rbr_resultset_clear(&rs);
	return status;
}
