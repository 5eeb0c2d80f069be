/* fixture.h — what the predictive test fixtures share: create, destroy and a constant predict
 * for a router without state, and the descriptor with its exported entry (RB_ROUTER_DEFINE). */
#ifndef RB_TEST_FIXTURE_H
#define RB_TEST_FIXTURE_H

#include "rb/router.h"

/* Marks a parameter a fixture ignores on purpose. */
#define UNUSED __attribute__((unused))

/* For a router whose state is NULL. */
static inline int stateless_create(const rb_create_args *a UNUSED, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	return 0;
}

static inline void stateless_destroy(void *p UNUSED)
{
}

/* Predicts 0.5 for every model on every prompt. */
static inline int half_predict(void *p UNUSED, const rb_view *q, float *q_hat, double *c_hat UNUSED, int *has_cost)
{
	*has_cost = 0;
	for (size_t i = 0; i < q->n * q->n_models; i++)
		q_hat[i] = 0.5f;
	return 0;
}

/* The descriptor of a predictive fixture built for these headers, named name, with the fields
 * given (.summary, .create, .destroy, .predict and, if it has any, RB_ROUTER_PARAMS(params)),
 * and its entry. */
#define PREDICTIVE_FIXTURE(name, ...) RB_ROUTER_DEFINE(name, .version = "test", .kind = RB_ROUTER_PREDICTIVE, __VA_ARGS__)

#endif
