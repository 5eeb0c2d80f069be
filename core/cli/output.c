/* output.c — where a subcommand's output goes: a file written atomically, or stdout. */
#include "cli/commands.h"
#include "lib/util.h"

int rbctl_write_output(const char *cmd, const char *path, rbctl_writer fn, const void *ctx)
{
	rbe_error e = {0};
	rbe_atomic_file af = {0};
	FILE *out = stdout;
	if (path) {
		if (rbe_atomic_open(&af, path, &e) < 0) {
			fprintf(stderr, "rbctl %s: %s\n", cmd, e.msg);
			return RBCTL_EXIT_FAIL;
		}
		out = af.fp;
	}
	if (fn(out, ctx, &e) < 0) {
		if (path)
			rbe_atomic_abort(&af);
		fprintf(stderr, "rbctl %s: %s\n", cmd, e.msg);
		return RBCTL_EXIT_FAIL;
	}
	if (path ? rbe_atomic_commit(&af, &e) < 0 : fflush(stdout) != 0) {
		fprintf(stderr, "rbctl %s: %s\n", cmd, path ? e.msg : "cannot write to standard output");
		return RBCTL_EXIT_FAIL;
	}
	return RBCTL_EXIT_OK;
}
