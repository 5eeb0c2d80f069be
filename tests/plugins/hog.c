/* hog.c — test fixture: a predictive router whose predict allocates and touches memory in
 * 64 MiB chunks forever; when malloc finally fails it writes through the NULL it got, as a
 * careless router would (the typical death under RLIMIT_AS). */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define CHUNK ((size_t)64 << 20)

/* The chunks are chained and the head kept in a volatile global, so the compiler cannot drop
 * the allocations as dead. */
static void *volatile hoard;

static int predict(void *p UNUSED, const rb_view *q UNUSED, float *q_hat UNUSED, double *c_hat UNUSED,
		   int *has_cost UNUSED)
{
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

PREDICTIVE_FIXTURE("hog", .summary = "fixture: predict allocates memory until it crashes",
		   .create = stateless_create, .destroy = stateless_destroy, .predict = predict)
