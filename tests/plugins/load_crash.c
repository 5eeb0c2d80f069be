/* load_crash.c — test fixture: a router whose constructor crashes while the .so is being loaded,
 * before any descriptor can be read: a probe must take the fall, never rbd. */
#include "fixture.h"

__attribute__((constructor)) static void crash_on_load(void)
{
	/* volatile, so the store is kept and faults (SIGSEGV). */
	volatile int *volatile null = 0;
	*null = 1;
}

PREDICTIVE_FIXTURE("load_crash", .summary = "fixture: crashes when loaded",
		   .create = stateless_create, .destroy = stateless_destroy)
