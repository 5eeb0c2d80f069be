/* wrong_magic.c — test fixture: an entry function that returns something else. */
#include "rb/router.h"

static const uint32_t not_a_router[32] = {0xdeadbeef};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	return (const rb_router *)not_a_router;
}
