/* commands.h — the rbctl subcommands; each takes argv after the subcommand name's position. */
#ifndef RBD_COMMANDS_H
#define RBD_COMMANDS_H

#include <stdio.h>

struct rbd_error;

/* Each returns the process exit status: 0 success, 1 bad input or failed job, 2 usage error. */
int rbctl_import_main(int argc, char **argv);
int rbctl_info_main(int argc, char **argv);
int rbctl_gen_main(int argc, char **argv);
int rbctl_run_main(int argc, char **argv);
int rbctl_routers_main(int argc, char **argv);
int rbctl_featurize_main(int argc, char **argv);
int rbctl_compare_main(int argc, char **argv);
int rbctl_plot_main(int argc, char **argv);
int rbctl_report_main(int argc, char **argv);

/* Output shared by the subcommands: fn writes the whole output to out (0 or -errno with e). It
 * goes to path atomically (nothing is left there on failure), or to standard output when path
 * is NULL. Errors are printed as "rbctl CMD: ..."; returns the exit status. */
typedef int (*rbctl_writer)(FILE *out, const void *ctx, struct rbd_error *e);
int rbctl_write_output(const char *cmd, const char *path, rbctl_writer fn, const void *ctx);

#define RBCTL_EXIT_OK 0
#define RBCTL_EXIT_FAIL 1
#define RBCTL_EXIT_USAGE 2

#endif
