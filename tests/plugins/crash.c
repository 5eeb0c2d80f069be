/* crash.c — test fixture: a predictive router that dereferences NULL (SIGSEGV) in create or
 * predict, as its `where` parameter says, so the worker's crash reporting can be checked. */
#include <stdlib.h>
#include <string.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "where", .type = RB_PARAM_STRING, .default_value = "predict", .min = 1, .max = 0,
	 .help = "create or predict: the function that crashes"},
};

/* Volatile pointer and pointee: the compiler cannot see the pointer is NULL nor drop the store,
 * so a real store faults (SIGSEGV) rather than a trap instruction (SIGILL) or nothing at all. */
static void crash_now(void)
{
	volatile int *volatile p = NULL;
	*p = 42;
}

typedef struct state {
	uint32_t m;
} state;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	const char *where = a->params[0].s;
	if (!strcmp(where, "create"))
		crash_now();
	if (strcmp(where, "predict")) {
		strncpy(err, "where must be create or predict", errlen);
		return -22;
	}
	state *s = calloc(1, sizeof(*s));
	if (!s)
		return -12;
	s->m = a->train->n_models;
	*out = s;
	return 0;
}

static void destroy(void *p)
{
	free(p);
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	(void)p;
	(void)q;
	(void)q_hat;
	(void)c_hat;
	(void)has_cost;
	crash_now();
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "crash",
	.version = "test",
	.summary = "fixture: dereferences NULL in create or predict",
	.kind = RB_ROUTER_PREDICTIVE,
	.params = params,
	.n_params = 1,
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
