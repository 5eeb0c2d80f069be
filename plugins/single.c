/* single.c — the simplest router: always the model named by the `model` parameter.
 *
 * A policy router with one operating point. Copy this file to start your own router:
 * a descriptor, create/destroy, and decide. */
#include <stdlib.h>

#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "model", .type = RB_PARAM_MODEL, .default_value = NULL,
	 .help = "the model that answers every prompt"},
};

static int single_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	uint32_t *model = malloc(sizeof(*model));
	if (!model)
		return -ENOMEM;
	*model = args->params[0].model; /* the host already checked the name against the dataset */
	*state = model;
	return 0;
}

static void single_destroy(void *state)
{
	free(state);
}

static uint32_t single_n_points(void *state)
{
	(void)state;
	return 1;
}

static int single_decide(void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
			 uint32_t *model)
{
	(void)queries;
	(void)i;
	(void)point;
	(void)caller;
	*model = *(const uint32_t *)state;
	return 0;
}

RB_ROUTER_DEFINE("single",
		 .version = "1.0",
		 .summary = "always routes to one model (param model)",
		 .kind = RB_ROUTER_POLICY,
		 .ignores = RB_IGNORES_FEATURES | RB_IGNORES_TRAIN_OUTCOMES,
		 RB_ROUTER_PARAMS(params),
		 .create = single_create,
		 .destroy = single_destroy,
		 .n_points = single_n_points,
		 .decide = single_decide)
