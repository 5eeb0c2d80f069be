/* abi10_compat.c — test fixture: a descriptor stamped as ABI 1.0 (minor 0, descriptor ending
 * before ignores) behind the unversioned entry, as a plugin built against 1.0 headers is. The
 * fields 1.0 lacks hold values the host must not read: ignores says to drop the train outcomes,
 * param_value_size is nonsense, and k's bounds are flagged as an empty range, which under the
 * convention of 1.0 (min > max) is no bounds. */
#include <stdio.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "k", .type = RB_PARAM_INT, .default_value = "1", .min = 5, .max = 1,
	 .flags = RB_PARAM_HAS_MIN | RB_PARAM_HAS_MAX, .help = "unused; unbounded for a 1.0 plugin"},
};

/* The host builds train outcomes for a 1.0 router, whatever lies past its descriptor. */
static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!a->train->quality || !a->train->cost) {
		snprintf(err, errlen, "the train view has no outcomes: the host read a 1.0 descriptor's ignores");
		return -EPROTO;
	}
	return 0;
}

static rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "abi10_compat",
	.version = "test",
	.summary = "fixture: stamped as ABI 1.0",
	.kind = RB_ROUTER_PREDICTIVE,
	RB_ROUTER_PARAMS(params),
	.create = create,
	.destroy = stateless_destroy,
	.predict = half_predict,
	.ignores = RB_IGNORES_FEATURES | RB_IGNORES_TRAIN_OUTCOMES,
	.param_value_size = 8,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	router.stamp.abi_minor = 0;
	router.stamp.router_size = RB_ROUTER_SIZE_1_0;
	return &router;
}
