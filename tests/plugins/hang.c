/* hang.c — test fixture: a predictive router whose predict spins forever on the CPU (a busy
 * loop, not a sleep), so both the wall-clock timeout and RLIMIT_CPU apply to it. It ignores
 * SIGTERM, as a stuck router may, so only the KILL after the grace stops it. */
#include <signal.h>

#include "fixture.h"

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
	/* volatile: every iteration is an observable access, so the loop is neither removed nor
	 * assumed to terminate. */
	volatile unsigned long spins = 0;
	signal(SIGTERM, SIG_IGN);
	for (;;)
		spins++;
	return 0;
}

PREDICTIVE_FIXTURE("hang", .summary = "fixture: predict never returns and burns CPU",
		   .create = stateless_create, .destroy = stateless_destroy, .predict = predict)
