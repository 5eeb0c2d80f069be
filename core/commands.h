/* commands.h — the rbctl subcommands; each takes argv after the subcommand name's position. */
#ifndef RBD_COMMANDS_H
#define RBD_COMMANDS_H

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

#define RBCTL_EXIT_OK 0
#define RBCTL_EXIT_FAIL 1
#define RBCTL_EXIT_USAGE 2

#endif
