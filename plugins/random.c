/* random.c — uniform random routing, seeded by the host.
 *
 * A policy router with one operating point. It also tells the host its exact distribution
 * (uniform), so the result carries the exact expectation — the per-prompt mean over models —
 * beside the one sampled outcome. */
#include <stdlib.h>

#include "rb/router.h"

typedef struct random_state {
	rb_rng rng;
	uint32_t n_models;
} random_state;

static int random_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	random_state *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	rb_rng_seed(&s->rng, args->seed); /* same seed, same choices */
	s->n_models = args->train->n_models;
	*state = s;
	return 0;
}

static void random_destroy(void *state)
{
	free(state);
}

static uint32_t random_n_points(void *state)
{
	(void)state;
	return 1;
}

static int random_decide(void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
			 uint32_t *model)
{
	(void)queries;
	(void)i;
	(void)point;
	(void)caller;
	random_state *s = state;
	*model = (uint32_t)rb_rng_below(&s->rng, s->n_models);
	return 0;
}

static int random_distribution(void *state, const rb_view *queries, size_t i, uint32_t point, double *probs)
{
	(void)queries;
	(void)i;
	(void)point;
	const random_state *s = state;
	for (uint32_t j = 0; j < s->n_models; j++)
		probs[j] = 1.0 / s->n_models;
	return 0;
}

RB_ROUTER_DEFINE("random",
		 .version = "1.0",
		 .summary = "uniformly random model per prompt (seeded); reports the exact expectation too",
		 .kind = RB_ROUTER_POLICY,
		 .ignores = RB_IGNORES_FEATURES | RB_IGNORES_TRAIN_OUTCOMES,
		 .create = random_create,
		 .destroy = random_destroy,
		 .n_points = random_n_points,
		 .decide = random_decide,
		 .distribution = random_distribution)
