/* nan_router.c — test fixture: a predictive router that predicts 0.5 everywhere except NaN for
 * every model on one prompt (the second of each batch, or the only one), so the host's check
 * of predictions must refuse the job naming the router, the prompt and predict. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

typedef struct state {
	uint32_t m;
} state;

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = a->train->n_models;
	*out = s;
	return 0;
}

static void destroy(void *p)
{
	free(p);
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat UNUSED, int *has_cost)
{
	state *s = p;
	*has_cost = 0;
	size_t bad = q->n > 1 ? 1 : 0;
	for (size_t i = 0; i < q->n; i++)
		for (uint32_t j = 0; j < s->m; j++)
			q_hat[i * s->m + j] = i == bad ? NAN : 0.5f;
	return 0;
}

PREDICTIVE_FIXTURE("nan_router", .summary = "fixture: predicts NaN for one prompt", .create = create,
		   .destroy = destroy, .predict = predict)
