/* hog.c — test fixture: a predictive router whose predict allocates and touches memory in
 * 64 MiB chunks forever; when malloc finally fails it writes through the NULL it got, as a
 * careless router would (the typical death under RLIMIT_AS). */
#include <stdlib.h>
#include <string.h>

#include "rb/router.h"

#define CHUNK ((size_t)64 << 20)

/* The chunks are chained and the head kept in a volatile global, so the compiler cannot drop
 * the allocations as dead. */
static void *volatile hoard;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	(void)a;
	(void)err;
	(void)errlen;
	*out = NULL;
	return 0;
}

static void destroy(void *p)
{
	(void)p;
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	(void)p;
	(void)q;
	(void)q_hat;
	(void)c_hat;
	(void)has_cost;
	for (;;) {
		char *chunk = malloc(CHUNK);
		if (!chunk) {
			/* Volatile, so the compiler keeps the store and it faults (SIGSEGV). */
			volatile char *volatile null = chunk;
			*null = 1;
			continue;
		}
		memset(chunk, 0x5a, CHUNK); /* touch every page, so the memory is really used */
		*(void **)chunk = hoard;
		hoard = chunk;
	}
	return 0;
}

static const rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "hog",
	.version = "test",
	.summary = "fixture: predict allocates memory until it crashes",
	.kind = RB_ROUTER_PREDICTIVE,
	.create = create,
	.destroy = destroy,
	.predict = predict,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return &router;
}
