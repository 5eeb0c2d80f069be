/* commands.h — the rbctl subcommands; each takes argv after the subcommand name's position. */
#ifndef RBCTL_COMMANDS_H
#define RBCTL_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

struct rbe_error;
struct option;
struct json_t;

/* Each returns the process exit status: 0 success, 1 bad input or failed job (or the server
 * refused the request), 2 usage error, 3 rbd unreachable, 4 job cancelled. */
int rbctl_import_main(int argc, char **argv);
int rbctl_info_main(int argc, char **argv);
int rbctl_gen_main(int argc, char **argv);
int rbctl_run_main(int argc, char **argv);
int rbctl_routers_main(int argc, char **argv);
int rbctl_featurize_main(int argc, char **argv);
int rbctl_compare_main(int argc, char **argv);
int rbctl_plot_main(int argc, char **argv);
int rbctl_report_main(int argc, char **argv);
/* Client commands of the rbd daemon (cli/cmd_server.c). */
int rbctl_submit_main(int argc, char **argv);
int rbctl_status_main(int argc, char **argv);
int rbctl_result_main(int argc, char **argv);
int rbctl_cancel_main(int argc, char **argv);
int rbctl_jobs_main(int argc, char **argv);
int rbctl_datasets_main(int argc, char **argv);
/* The server modes of `rbctl routers` (without --local) and `rbctl info` (without a FILE),
 * after their options: ListRouters / GetInfo printed as text or JSON. socket NULL: $RBD_SOCKET,
 * else the default. rbctl_server_info returns -1, printing nothing, when quiet_if_absent and
 * there is no socket at all (so a bare `rbctl info` can say it wants a FILE). */
int rbctl_server_routers(const char *socket, int as_json);
int rbctl_server_info(const char *socket, int as_json, int quiet_if_absent);

/* Output shared by the subcommands: fn writes the whole output to out (0 or -errno with e). It
 * goes to path atomically (nothing is left there on failure), or to standard output when path
 * is NULL. Errors are printed as "rbctl CMD: ..."; returns the exit status. */
typedef int (*rbctl_writer)(FILE *out, const void *ctx, struct rbe_error *e);
int rbctl_write_output(const char *cmd, const char *path, rbctl_writer fn, const void *ctx);

/* The evaluation options rbctl run and rbctl submit share (cli/cmd_job.c): --dataset (-d),
 * --router (-r), --set ... --validation-fraction, each turned into a member of the job object of
 * core/eval/jobspec.h, so both commands take exactly the same options with the same checks. */
#define RBCTL_EVAL_OPT_BASE 0x1000 /* option codes at and above this are the shared ones */
#define RBCTL_EVAL_MAX_OPTS 32
/* Copy the shared long options into out (room for RBCTL_EVAL_MAX_OPTS); returns how many. */
size_t rbctl_eval_longopts(struct option *out);
/* One getopt result c with its argument: 1 when it was a shared option (job updated), 0 when it
 * is not one, -1 when its value is bad (printed as "rbctl CMD: ..."; a usage error). */
int rbctl_eval_option(const char *cmd, int c, const char *arg, struct json_t *job);
/* After the options: dataset and router given, seeds in range. An exit status. */
int rbctl_eval_finish(const char *cmd, const struct json_t *job);
/* The --help lines of the shared options from --set on; local: routers are this machine's
 * (rbctl run), else rbd's (rbctl submit). */
void rbctl_eval_usage(FILE *out, int local);
/* A result document as rbctl run prints it: the per-task table, or with as_json the indented
 * JSON; to path atomically or stdout (rbctl_write_output). Returns the exit status. */
int rbctl_print_result(const char *cmd, const char *path, const struct json_t *result, int as_json);

#define RBCTL_EXIT_OK 0
#define RBCTL_EXIT_FAIL 1
#define RBCTL_EXIT_USAGE 2
#define RBCTL_EXIT_UNREACHABLE 3 /* cannot connect to rbd, or the connection was lost */
#define RBCTL_EXIT_CANCELLED 4   /* the job was cancelled */

#endif
