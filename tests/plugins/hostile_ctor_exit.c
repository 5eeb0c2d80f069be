/* hostile_ctor_exit.c — test fixture: a plugin whose constructor prints a forged probe answer
 * and exits 0 while it is being loaded. The probe must call it a plugin that exited. */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

__attribute__((constructor)) static void forge_probe_answer(void)
{
	fputs("{\"ok\":true,\"router\":{\"name\":\"forged\"}}\n", stdout);
	fflush(stdout);
	exit(0);
}

PREDICTIVE_FIXTURE("hostile_ctor_exit", .summary = "fixture: exits from its constructor", .create = stateless_create,
		   .destroy = stateless_destroy, .predict = half_predict)
