/* abi11_predictive.c — test fixture built against the frozen ABI 1.1 headers (abi1.1/rb/) only:
 * good_predictive's algorithm (each model's mean train quality) plus a constant `bias`, which
 * shifts every model alike and so never changes a decision. Its specs use 1.1's bounds
 * convention: bias has min > max (no bounds), k has [1, 100], zero has min = max = 0. It also
 * exports the 1.1 struct layout it was compiled with, for the host to compare with its own. */
#include <stddef.h>
#include <stdlib.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "bias", .type = RB_PARAM_REAL, .default_value = "0", .min = 1, .max = 0,
	 .help = "added to every prediction (1.1: min > max, so unbounded)"},
	{.name = "k", .type = RB_PARAM_INT, .default_value = "1", .min = 1, .max = 100, .help = "unused, range-checked"},
	{.name = "zero", .type = RB_PARAM_REAL, .default_value = "0", .min = 0, .max = 0,
	 .help = "unused; 1.1 reads min = max = 0 as the range [0, 0]"},
};

typedef struct state {
	uint32_t m;
	float *mean;
	float bias;
} state;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	state *s = calloc(1, sizeof(*s));
	if (!s)
		return -12;
	s->m = a->train->n_models;
	s->mean = calloc(s->m, sizeof(float));
	s->bias = (float)a->params[0].r;
	for (size_t i = 0; i < a->train->n; i++)
		for (uint32_t j = 0; j < s->m; j++)
			s->mean[j] += a->train->quality[i * s->m + j] / (float)a->train->n;
	*out = s;
	return 0;
}

static void destroy(void *p)
{
	state *s = p;
	if (s)
		free(s->mean);
	free(s);
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	state *s = p;
	(void)c_hat;
	*has_cost = 0;
	if (q->quality || q->cost)
		return -1;
	for (size_t i = 0; i < q->n; i++)
		for (uint32_t j = 0; j < s->m; j++)
			q_hat[i * s->m + j] = s->mean[j] + s->bias;
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "abi11_predictive",
	.version = "test",
	.summary = "fixture: built against the ABI 1.1 headers",
	.kind = RB_ROUTER_PREDICTIVE,
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}

/* Sizes and offsets as a 1.1 plugin sees them, in the order tests/test_plugin.c lists them. */
RB_EXPORT extern const size_t rb_fixture_layout_1_1[];
const size_t rb_fixture_layout_1_1[] = {
	sizeof(rb_abi_stamp),
	offsetof(rb_abi_stamp, router_size),
	offsetof(rb_abi_stamp, param_spec_size),
	sizeof(rb_param_spec),
	offsetof(rb_param_spec, type),
	offsetof(rb_param_spec, default_value),
	offsetof(rb_param_spec, min),
	offsetof(rb_param_spec, max),
	offsetof(rb_param_spec, help),
	sizeof(rb_param_value),
	offsetof(rb_param_value, i),
	offsetof(rb_param_value, r),
	offsetof(rb_param_value, s),
	offsetof(rb_param_value, model),
	offsetof(rb_param_value, list),
	offsetof(rb_param_value, list_len),
	sizeof(rb_view),
	offsetof(rb_view, quality),
	offsetof(rb_view, features),
	offsetof(rb_view, feature_name),
	sizeof(rb_host_api),
	offsetof(rb_host_api, log),
	offsetof(rb_host_api, call),
	offsetof(rb_host_api, threads),
	sizeof(rb_create_args),
	offsetof(rb_create_args, params),
	offsetof(rb_create_args, seed),
	offsetof(rb_create_args, task),
	sizeof(rb_router),
	offsetof(rb_router, name),
	offsetof(rb_router, kind),
	offsetof(rb_router, params),
	offsetof(rb_router, n_params),
	offsetof(rb_router, create),
	offsetof(rb_router, predict),
	offsetof(rb_router, decide),
	offsetof(rb_router, distribution),
	offsetof(rb_router, ignores),
	(size_t)-1,
};
