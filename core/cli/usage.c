/* usage.c — how every rbctl subcommand reads its options and prints its --help: one table each. */
#include <errno.h>
#include <stdarg.h>

#include "cli/commands.h"

void rbctl_print_usage(FILE *out, const rbctl_usage *u, const rbe_opt *opts)
{
	fprintf(out, "%s\noptions:\n", u->head);
	rbe_opts_help(out, opts);
	fprintf(out, "\n%s", u->tail);
}

int rbctl_parse(const rbctl_usage *u, rbe_opt *opts, int argc, char **argv, int *first)
{
	rbe_error e = {0};
	int rc = rbe_opts_parse(opts, argc, argv, first, &e);
	if (rc == 0)
		return -1;
	if (rc == RBE_OPTS_HELP) {
		rbctl_print_usage(stdout, u, opts);
		return RBCTL_EXIT_OK;
	}
	if (rc == -ENOENT)
		fprintf(stderr, "rbctl %s: %s (rbctl %s --help lists them)\n", u->cmd, e.msg, u->cmd);
	else
		fprintf(stderr, "rbctl %s: %s\n", u->cmd, e.msg);
	return RBCTL_EXIT_USAGE;
}

int rbctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "rbctl %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return RBCTL_EXIT_USAGE;
}
