/* Temporary until the module lands in this session. */
#include <stdio.h>
#include "commands.h"
int rbctl_run_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rbctl: 'run' is being built\n");
	return RBCTL_EXIT_FAIL;
}
int rbctl_routers_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return RBCTL_EXIT_FAIL;
}
