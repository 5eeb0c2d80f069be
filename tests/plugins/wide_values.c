/* wide_values.c — test fixture: a plugin whose rb_param_value is larger than the host's, as one
 * built against later 1.x headers that appended a field would be. It declares that size as
 * param_value_size and indexes create's params with it; what it read is exported for the test. */
#include <stdio.h>
#include <string.h>

#include "fixture.h"

typedef struct wide_value {
	rb_param_value v;
	double appended[3]; /* a later minor's fields: the host leaves them zero */
} wide_value;

static const rb_param_spec params[] = {
	{.name = "k", .type = RB_PARAM_INT, .default_value = "7", .help = "read back"},
	{.name = "r", .type = RB_PARAM_REAL, .default_value = "0.25", .help = "read back"},
	{.name = "s", .type = RB_PARAM_STRING, .default_value = "hi", .help = "read back"},
};

/* What create() saw, for tests/test_plugin.c (dlsym). */
typedef struct wide_seen {
	int64_t k;
	double r;
	char s[32];
	double appended_sum;
} wide_seen;
RB_EXPORT extern wide_seen rb_fixture_wide_seen;
wide_seen rb_fixture_wide_seen;

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	const wide_value *w = (const wide_value *)a->params;
	rb_fixture_wide_seen.k = w[0].v.i;
	rb_fixture_wide_seen.r = w[1].v.r;
	snprintf(rb_fixture_wide_seen.s, sizeof(rb_fixture_wide_seen.s), "%s", w[2].v.s ? w[2].v.s : "(null)");
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			rb_fixture_wide_seen.appended_sum += w[i].appended[k];
	*out = NULL;
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.param_value_size = sizeof(wide_value),
	.name = "wide_values",
	.version = "test",
	.summary = "fixture: a larger rb_param_value than the host's",
	.kind = RB_ROUTER_PREDICTIVE,
	RB_ROUTER_PARAMS(params),
	.create = create,
	.destroy = stateless_destroy,
	.predict = half_predict,
};

RB_EXPORT const rb_router *rb_router_entry_v1(void)
{
	return &router;
}
