/* router_chan.c — the flat encoding the evaluator writes and its router process reads. */
#include "worker/router_chan.h"

#include <stdlib.h>

#include "lib/util.h"

void rch_put(rch_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = rbe_xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

void rch_put_u64(rch_buf *b, uint64_t v)
{
	rch_put(b, &v, sizeof(v));
}

/* Length (UINT64_MAX: absent), bytes, NUL. */
void rch_put_str(rch_buf *b, const char *s)
{
	rch_put_u64(b, s ? strlen(s) : UINT64_MAX);
	if (s)
		rch_put(b, s, strlen(s) + 1);
}

void rch_align(rch_buf *b)
{
	static const char zeros[8];
	rch_put(b, zeros, (8 - b->len % 8) % 8);
}

const void *rch_get(rch_reader *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	const void *p = r->p + r->off;
	r->off += n;
	return p;
}

uint64_t rch_get_u64(rch_reader *r)
{
	uint64_t v = 0;
	const void *p = rch_get(r, sizeof(v));
	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

const char *rch_get_str(rch_reader *r)
{
	uint64_t n = rch_get_u64(r);
	if (n == UINT64_MAX || r->bad)
		return NULL;
	const char *s = n < SIZE_MAX ? rch_get(r, (size_t)n + 1) : NULL;
	if (!s || s[n] != '\0') {
		r->bad = 1;
		return NULL;
	}
	return s;
}

void rch_skip_align(rch_reader *r)
{
	rch_get(r, (8 - r->off % 8) % 8);
}
