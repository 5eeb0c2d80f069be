/* bounds.c — test fixture: ABI 1.2 bounds flags. lo has only a lower bound, hi only an upper
 * one, and free sets min = max = 0 without flags, which 1.2 reads as no bounds at all. */
#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "lo", .type = RB_PARAM_INT, .default_value = "0", RB_PARAM_AT_LEAST(0), .help = "at least 0"},
	{.name = "hi", .type = RB_PARAM_REAL_LIST, .default_value = "0.5", RB_PARAM_AT_MOST(1), .help = "each at most 1"},
	{.name = "free", .type = RB_PARAM_INT, .default_value = "0", .min = 0, .max = 0, .help = "unbounded"},
};

PREDICTIVE_FIXTURE("bounds", .summary = "fixture: one-sided and absent bounds", RB_ROUTER_PARAMS(params),
		   .create = stateless_create, .destroy = stateless_destroy, .predict = half_predict)
