/* minimal.c — a whole router in one file: always the model with the lowest mean train cost, or
 * with --set rank=N the N-th cheapest after it. */
#include <stdio.h>
#include <stdlib.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "rank", .type = RB_PARAM_INT, .default_value = "0", RB_PARAM_AT_LEAST(0),
	 .help = "0: the cheapest model, 1: the next one, ..."},
};

static int cheapest_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	const rb_view *t = args->train;
	int64_t rank = args->params[0].i;
	if (rank >= t->n_models) {
		snprintf(err, errlen, "rank %lld, but there are %u models", (long long)rank, t->n_models);
		return -EINVAL;
	}
	double *mean = calloc(t->n_models, sizeof(double));
	uint32_t *pick = malloc(sizeof(*pick));
	if (!mean || !pick) {
		free(mean);
		free(pick);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++)
		for (uint32_t j = 0; j < t->n_models; j++)
			mean[j] += t->cost[i * t->n_models + j] / (double)t->n;
	for (uint32_t j = 0; j < t->n_models; j++) {
		int64_t before = 0; /* models cheaper than j, ties to the lower index */
		for (uint32_t k = 0; k < t->n_models; k++)
			before += mean[k] < mean[j] || (mean[k] == mean[j] && k < j);
		if (before == rank)
			*pick = j;
	}
	free(mean);
	*state = pick;
	return 0;
}

static void cheapest_destroy(void *state)
{
	free(state);
}

static uint32_t cheapest_n_points(void *state)
{
	(void)state;
	return 1;
}

static int cheapest_decide(void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
			   uint32_t *model)
{
	(void)queries, (void)i, (void)point, (void)caller;
	*model = *(const uint32_t *)state;
	return 0;
}

RB_ROUTER_DEFINE("minimal",
		 .version = "1.0",
		 .summary = "the model with the lowest mean train cost (or the rank-th after it)",
		 .kind = RB_ROUTER_POLICY,
		 .ignores = RB_IGNORES_FEATURES,
		 RB_ROUTER_PARAMS(params),
		 .create = cheapest_create,
		 .destroy = cheapest_destroy,
		 .n_points = cheapest_n_points,
		 .decide = cheapest_decide)
