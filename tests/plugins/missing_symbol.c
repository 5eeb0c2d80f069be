/* missing_symbol.c — test fixture: a router that calls a function no library defines, so
 * dlopen(RTLD_NOW) refuses it with "undefined symbol" before any of its code runs. */
#include "fixture.h"

/* Defined nowhere: meson links a shared_module with undefined symbols allowed, so the build
 * succeeds and only the loader refuses it. */
extern int rb_fixture_function_nobody_defines(void);

static int create(const rb_create_args *a UNUSED, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	return rb_fixture_function_nobody_defines();
}

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
	return 0;
}

PREDICTIVE_FIXTURE("missing_symbol", .summary = "fixture: needs a symbol nobody defines", .create = create,
		   .destroy = stateless_destroy, .predict = predict)
