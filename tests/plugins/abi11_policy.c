/* abi11_policy.c — test fixture built against the frozen ABI 1.1 headers (abi1.1/rb/) only: a
 * policy router with two operating points. Point 0 always answers with the `model` parameter's
 * model (as the built-in single); point 1 calls every model through host->call and keeps the
 * best answer (the lowest index among ties), so it pays for all of them. */
#include <stdio.h>
#include <stdlib.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "model", .type = RB_PARAM_MODEL, .default_value = NULL, .min = 1, .max = 0,
	 .help = "the model of point 0"},
};

typedef struct state {
	const rb_host_api *host;
	uint32_t model;
} state;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	state *s = malloc(sizeof(*s));
	if (!s)
		return -12;
	s->host = a->host;
	s->model = a->params[0].model;
	*out = s;
	return 0;
}

static void destroy(void *p)
{
	free(p);
}

static uint32_t n_points(void *p)
{
	(void)p;
	return 2;
}

static int describe_point(void *p, uint32_t point, char *buf, size_t len)
{
	(void)p;
	snprintf(buf, len, "{\"ask_all\":%s}", point ? "true" : "false");
	return 0;
}

static int decide(void *p, const rb_view *q, size_t i, uint32_t point, rb_caller *caller, uint32_t *model)
{
	const state *s = p;
	(void)i;
	if (point == 0) {
		*model = s->model;
		return 0;
	}
	double best = -1;
	for (uint32_t j = 0; j < q->n_models; j++) {
		double quality = s->host->call(caller, j);
		if (quality < 0)
			return -5;
		if (quality > best) {
			best = quality;
			*model = j;
		}
	}
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "abi11_policy",
	.version = "test",
	.summary = "fixture: built against the ABI 1.1 headers",
	.kind = RB_ROUTER_POLICY,
	.params = params,
	.n_params = 1,
	.create = create,
	.destroy = destroy,
	.n_points = n_points,
	.describe_point = describe_point,
	.decide = decide,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
