/* good_predictive.c — test fixture: predicts each model's mean train quality (per the whole
 * train view), so the host's λ sweep has known answers; poison=true predicts NaN. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "poison", .type = RB_PARAM_BOOL, .default_value = "false",
	 .help = "predict NaN to exercise the host's output checks"},
	{.name = "k", .type = RB_PARAM_INT, .default_value = "1", RB_PARAM_BOUNDS(1, 100), .help = "unused, range-checked"},
};

typedef struct state {
	uint32_t m;
	float *mean;
	int poison;
} state;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	state *s = calloc(1, sizeof(*s));
	s->m = a->train->n_models;
	s->mean = calloc(s->m, sizeof(float));
	s->poison = (int)a->params[0].i;
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
		return -EPERM; /* the host must never show test outcomes */
	for (size_t i = 0; i < q->n; i++)
		for (uint32_t j = 0; j < s->m; j++)
			q_hat[i * s->m + j] = s->poison ? NAN : s->mean[j];
	return 0;
}

PREDICTIVE_FIXTURE("good_predictive", .summary = "fixture: predicts train mean quality", RB_ROUTER_PARAMS(params),
		   .create = create, .destroy = destroy, .predict = predict)
