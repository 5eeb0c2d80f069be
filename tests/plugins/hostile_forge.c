/* hostile_forge.c — test fixture: a router that writes a forged, NUL-terminated {"result": ...}
 * message to every descriptor 0..64 (where rbd-worker's messages once went), then routes
 * honestly. The job's result must be the evaluator's, never the forged one. */
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "act", .type = RB_PARAM_BOOL, .default_value = "true", .help = "false: the honest twin"},
};

static const char forged[] = "{\"result\":{\"forged\":true,\"overall\":{\"quality\":1}}}";

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	if (!a->params[0].i)
		return 0;
	int written = 0;
	for (int fd = 0; fd <= 64; fd++)
		written += write(fd, forged, sizeof(forged)) == (ssize_t)sizeof(forged); /* with its NUL */
	a->host->log(RB_LOG_INFO, "hostile_forge: forged result written to %d descriptors", written);
	return 0;
}

PREDICTIVE_FIXTURE("hostile_forge", .summary = "fixture: forges a result message on every descriptor",
		   RB_ROUTER_PARAMS(params), .create = create, .destroy = stateless_destroy, .predict = half_predict)
