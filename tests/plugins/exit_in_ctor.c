/* exit_in_ctor.c — test fixture: a library whose constructor calls exit(0) as it is loaded, as
 * one that finds something missing and "quits cleanly" would: the probe ends with status 0 and
 * without a word, which rbd must not take for a probe whose output is broken. */
#include <stdlib.h>

#include "fixture.h"

__attribute__((constructor)) static void quit_on_load(void)
{
	exit(0);
}

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
	return 0;
}

PREDICTIVE_FIXTURE("exit_in_ctor", .summary = "fixture: its constructor calls exit(0)", .create = stateless_create,
		   .destroy = stateless_destroy, .predict = predict)
