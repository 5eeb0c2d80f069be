/* fixture.h — what the predictive test fixtures share: create and destroy for a router without
 * state, and the const descriptor with the exported rb_router_entry returning it. */
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

/* The descriptor of a predictive fixture built for these headers, with the fields given (.name,
 * .summary, .create, .destroy, .predict and, if it has any, .params / .n_params), and its entry. */
#define PREDICTIVE_FIXTURE(...)                                                                    \
	static const rb_router router = {                                                          \
		.stamp = RB_ABI_STAMP,                                                             \
		.version = "test",                                                                 \
		.kind = RB_ROUTER_PREDICTIVE,                                                      \
		__VA_ARGS__                                                                        \
	};                                                                                         \
                                                                                                   \
	RB_EXPORT const rb_router *rb_router_entry(void)                                           \
	{                                                                                          \
		return &router;                                                                    \
	}

#endif
