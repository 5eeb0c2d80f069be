/* crash.c — test fixture: a predictive router that dereferences NULL (SIGSEGV) in create or
 * predict, as its `where` parameter says, so the worker's crash reporting can be checked. */
#include <string.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "where", .type = RB_PARAM_STRING, .default_value = "predict",
	 .help = "create or predict: the function that crashes"},
};

/* Volatile pointer and pointee: the compiler cannot see the pointer is NULL nor drop the store,
 * so a real store faults (SIGSEGV) rather than a trap instruction (SIGILL) or nothing at all. */
static void crash_now(void)
{
	volatile int *volatile p = NULL;
	*p = 42;
}

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	const char *where = a->params[0].s;
	if (!strcmp(where, "create"))
		crash_now();
	if (strcmp(where, "predict")) {
		strncpy(err, "where must be create or predict", errlen);
		return -EINVAL;
	}
	*out = NULL;
	return 0;
}

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
	crash_now();
	return 0;
}

PREDICTIVE_FIXTURE("crash", .summary = "fixture: dereferences NULL in create or predict", RB_ROUTER_PARAMS(params),
		   .create = create, .destroy = stateless_destroy, .predict = predict)
