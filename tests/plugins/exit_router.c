/* exit_router.c — test fixture: a predictive router whose predict calls exit(3), as a library
 * that "handles" errors by exiting would: the worker dies without a result or an error. */
#include <stdlib.h>

#include "rb/router.h"

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)a;
	(void)err;
	(void)errlen;
	*out = NULL;
	return 0;
}

static void destroy(void *p)
{
	(void)p;
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	(void)p;
	(void)q;
	(void)q_hat;
	(void)c_hat;
	(void)has_cost;
	exit(3);
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "exit_router",
	.version = "test",
	.summary = "fixture: predict calls exit(3)",
	.kind = RB_ROUTER_PREDICTIVE,
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
