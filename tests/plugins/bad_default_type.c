/* bad_default_type.c — test fixture: a real parameter whose default is not a number. */
#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "rate", .type = RB_PARAM_REAL, .default_value = "fast", .help = "a number, really"},
};

PREDICTIVE_FIXTURE("bad_default_type", .summary = "fixture: default of the wrong type", RB_ROUTER_PARAMS(params),
		   .create = stateless_create, .destroy = stateless_destroy, .predict = half_predict)
