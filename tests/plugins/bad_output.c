/* bad_output.c — test fixture: a policy router that misbehaves as its `mode` says:
 * index (returns a model index past the end), fail (decide returns an error),
 * dist (reports a distribution that does not sum to 1), create (create fails). */
#include <stdlib.h>
#include <string.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "mode", .type = RB_PARAM_STRING, .default_value = "index",
	 .help = "index, fail, dist or create"},
};

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	if (!strcmp(a->params[0].s, "create")) {
		strncpy(err, "fixture refuses to start", errlen);
		return -EINVAL;
	}
	*out = strdup(a->params[0].s);
	return 0;
}

static void destroy(void *p)
{
	free(p);
}

static uint32_t n_points(void *p)
{
	(void)p;
	return 1;
}

static int decide(void *p, const rb_view *q, size_t i, uint32_t point, rb_caller *caller, uint32_t *model)
{
	(void)i;
	(void)point;
	(void)caller;
	if (!strcmp(p, "fail"))
		return -EIO;
	*model = !strcmp(p, "index") ? q->n_models : 0;
	return 0;
}

static int distribution(void *p, const rb_view *q, size_t i, uint32_t point, double *probs)
{
	(void)i;
	(void)point;
	for (uint32_t j = 0; j < q->n_models; j++)
		probs[j] = !strcmp(p, "dist") ? 0.5 : (j == 0);
	return 0;
}

RB_ROUTER_DEFINE("bad_output", .version = "test", .summary = "fixture: misbehaves on purpose",
		 .kind = RB_ROUTER_POLICY, RB_ROUTER_PARAMS(params), .create = create, .destroy = destroy,
		 .n_points = n_points, .decide = decide, .distribution = distribution)
