/* missing_symbol.c — test fixture: a router that calls a function no library defines, so
 * dlopen(RTLD_NOW) refuses it with "undefined symbol" before any of its code runs. */
#include <stdlib.h>

#include "rb/router.h"

/* Defined nowhere: meson links a shared_module with undefined symbols allowed, so the build
 * succeeds and only the loader refuses it. */
extern int rb_fixture_function_nobody_defines(void);

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)a;
	(void)err;
	(void)errlen;
	*out = NULL;
	return rb_fixture_function_nobody_defines();
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
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "missing_symbol",
	.version = "test",
	.summary = "fixture: needs a symbol nobody defines",
	.kind = RB_ROUTER_PREDICTIVE,
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
