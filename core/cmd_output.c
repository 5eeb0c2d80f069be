/* cmd_output.c — where a subcommand's output goes: a file written atomically, or stdout. */
#include "commands.h"
#include "util.h"

int rbctl_write_output(const char *cmd, const char *path, rbctl_writer fn, const void *ctx)
{
	rbd_error e = {0};
	rbd_atomic_file af = {0};
	FILE *out = stdout;
	if (path) {
		if (rbd_atomic_open(&af, path, &e) < 0) {
			fprintf(stderr, "rbctl %s: %s\n", cmd, e.msg);
			return RBCTL_EXIT_FAIL;
		}
		out = af.fp;
	}
	if (fn(out, ctx, &e) < 0) {
		if (path)
			rbd_atomic_abort(&af);
		fprintf(stderr, "rbctl %s: %s\n", cmd, e.msg);
		return RBCTL_EXIT_FAIL;
	}
	if (path ? rbd_atomic_commit(&af, &e) < 0 : fflush(stdout) != 0) {
		fprintf(stderr, "rbctl %s: %s\n", cmd, path ? e.msg : "cannot write to standard output");
		return RBCTL_EXIT_FAIL;
	}
	return RBCTL_EXIT_OK;
}
