/* chatty_ctor.c — test fixture: a router whose constructor prints 1000 lines to standard error
 * as it is loaded (the probe's output reaches rbd's log through its limiter), then works. */
#include <stdio.h>

#include "fixture.h"

__attribute__((constructor)) static void chatter(void)
{
	for (int i = 0; i < 1000; i++)
		fprintf(stderr, "chatty line %d\n", i);
}

PREDICTIVE_FIXTURE("chatty_ctor", .summary = "fixture: prints 1000 lines when loaded", .create = stateless_create,
		   .destroy = stateless_destroy, .predict = half_predict)
