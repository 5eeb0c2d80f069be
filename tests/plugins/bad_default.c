/* bad_default.c — test fixture: a parameter whose own default is outside its bounds; the host
 * must refuse the plugin when loading it, not at the first job that leaves k unset. */
#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "k", .type = RB_PARAM_INT, .default_value = "500", RB_PARAM_BOUNDS(1, 100), .help = "neighbours"},
};

PREDICTIVE_FIXTURE("bad_default", .summary = "fixture: default out of its bounds", RB_ROUTER_PARAMS(params),
		   .create = stateless_create, .destroy = stateless_destroy, .predict = half_predict)
