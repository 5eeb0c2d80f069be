/* uvutil.h — small libuv helpers the daemon's modules share. */
#ifndef RBD_UVUTIL_H
#define RBD_UVUTIL_H

#include <uv.h>

#include "lib/util.h"

/* A uv_alloc_cb: a fresh heap buffer of the suggested size; the read callback frees it. */
static inline void rbd_uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = rbe_xmalloc(suggested);
	buf->len = suggested;
}

#endif
