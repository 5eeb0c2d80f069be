/* Temporary until the module lands in this session. */
#include <stdio.h>
#include "commands.h"
int rbctl_compare_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rbctl: 'compare' is being built\n");
	return RBCTL_EXIT_FAIL;
}
