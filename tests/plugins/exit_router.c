/* exit_router.c — test fixture: a predictive router whose predict calls exit(3), as a library
 * that "handles" errors by exiting would: the worker dies without a result or an error. */
#include <stdlib.h>

#include "fixture.h"

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
	exit(3);
}

PREDICTIVE_FIXTURE("exit_router", .summary = "fixture: predict calls exit(3)", .create = stateless_create,
		   .destroy = stateless_destroy, .predict = predict)
