/* hang.c — test fixture: a predictive router whose predict spins forever on the CPU (a busy
 * loop, not a sleep), so both the wall-clock timeout and RLIMIT_CPU apply to it. */
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
	/* volatile: every iteration is an observable access, so the loop is neither removed nor
	 * assumed to terminate. */
	volatile unsigned long spins = 0;
	for (;;)
		spins++;
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "hang",
	.version = "test",
	.summary = "fixture: predict never returns and burns CPU",
	.kind = RB_ROUTER_PREDICTIVE,
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
