/* commands.h — the rbctl subcommands; each takes argv after the subcommand name's position. */
#ifndef RBCTL_COMMANDS_H
#define RBCTL_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/options.h"
#include "proto/client.h"

struct rbe_error;
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

/* A subcommand's --help around its option table (cli/usage.c): head (the usage lines and what
 * the command does), "options:" and the table's lines, then a blank line and tail (the exit
 * statuses). */
typedef struct rbctl_usage {
	const char *cmd;  /* "gen": errors read "rbctl gen: ..." */
	const char *head; /* ends with a newline */
	const char *tail; /* ends with a newline */
} rbctl_usage;
void rbctl_print_usage(FILE *out, const rbctl_usage *u, const rbe_opt *opts);
/* Parse the options of u->cmd (rbe_opts_parse). Returns -1 when parsed, the operands being
 * argv[*first..argc); otherwise the exit status to return at once: 0 after printing the usage to
 * stdout for --help, 2 after printing the error ("rbctl gen: unknown option '--x' (rbctl gen
 * --help lists them)"). */
int rbctl_parse(const rbctl_usage *u, rbe_opt *opts, int argc, char **argv, int *first);
/* The --socket option of every command that talks to rbd. */
#define RBCTL_SOCKET_OPT(dest)                                                                     \
	RBE_OPT_STRING("socket", 0, dest, "PATH",                                                  \
		       "rbd's socket (default: $" RBW_SOCKET_ENV ", else " RBW_DEFAULT_SOCKET ")")
/* A usage error found after parsing: "rbctl CMD: MESSAGE" on stderr; returns 2. */
int rbctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Output shared by the subcommands: fn writes the whole output to out (0 or -errno with e). It
 * goes to path atomically (nothing is left there on failure), or to standard output when path
 * is NULL. Errors are printed as "rbctl CMD: ..."; returns the exit status. */
typedef int (*rbctl_writer)(FILE *out, const void *ctx, struct rbe_error *e);
int rbctl_write_output(const char *cmd, const char *path, rbctl_writer fn, const void *ctx);

/* The evaluation options rbctl run and rbctl submit share (cli/cmd_job.c): --dataset (-d),
 * --router (-r), --set ... --validation-fraction, each turned into a member of the job object of
 * core/eval/jobspec.h, so both commands take exactly the same options with the same checks. The
 * members with their own syntax go into job as they are parsed; numbers and flags wait in here
 * until rbctl_eval_finish. */
typedef struct rbctl_eval {
	struct json_t *job; /* owned: json_decref */
	const char *dataset, *router;
	uint32_t seed, threads, bootstrap, bootstrap_seed, splits;
	double train_fraction, overhead_cost_per_query, target_budget, validation_fraction;
	int no_default_groups, keep_decisions;
	const rbe_opt *opts; /* borrowed: ev's entries in the caller's table */
} rbctl_eval;
#define RBCTL_EVAL_N_OPTS 20 /* how many entries rbctl_eval_options writes */
/* Start ev (a new empty job) and write its option table entries into out (room for
 * RBCTL_EVAL_N_OPTS; out must stay where it is while ev is used); local: the dataset is a file and the routers are this machine's (rbctl
 * run), else rbd's (rbctl submit). Returns how many entries. */
size_t rbctl_eval_options(rbctl_eval *ev, int local, rbe_opt *out);
/* After parsing the table holding ev's entries: the given strings, numbers and flags into the
 * job, then dataset and router given, seeds in range. An exit status. */
int rbctl_eval_finish(const char *cmd, rbctl_eval *ev);
/* A result document as rbctl run prints it: the per-task table, or with as_json the indented
 * JSON; to path atomically or stdout (rbctl_write_output). Returns the exit status. */
int rbctl_print_result(const char *cmd, const char *path, const struct json_t *result, int as_json);

#define RBCTL_EXIT_OK 0
#define RBCTL_EXIT_FAIL 1
#define RBCTL_EXIT_USAGE 2
#define RBCTL_EXIT_UNREACHABLE 3 /* cannot connect to rbd, or the connection was lost */
#define RBCTL_EXIT_CANCELLED 4   /* the job was cancelled */

#endif
