/* wrong_abi.c — test fixture: claims a future ABI major version. */
#include "rb/router.h"

static rb_router router = {
	.stamp = RB_ABI_STAMP,
	.name = "wrong_abi",
	.version = "test",
	.kind = RB_ROUTER_POLICY,
};

RB_EXPORT const rb_router *rb_router_entry(void)
{
	router.stamp.abi_major = RB_ABI_MAJOR + 98;
	return &router;
}
