/* fuzz-proto.c — fuzz target: the message splitter fed in data-driven chunks, every message parsed as call and reply. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto/proto.h"

/* The messages the input holds, found the simple way, to check the splitter against. */
typedef struct oracle {
	const uint8_t *data;
	size_t size;
	size_t limit;
	size_t pos;     /* start of the next expected message */
	size_t n_seen;  /* messages handed out so far */
	size_t stop_every;
} oracle;

/* Anything a parser accepted must survive our own encoder unchanged. */
static void check_call(const char *text, size_t len)
{
	rbw_call c = {0};
	rbe_error e = {0};
	int r = rbw_call_parse(text, len, &c, &e);
	if (r < 0) {
		rbe_require(r == -EINVAL && e.code == -EINVAL && e.msg[0] && !c.method && !c.parameters);
		return;
	}
	rbe_require(c.method && c.method[0] && json_is_object(c.parameters) && (c.more == 0 || c.more == 1));
	size_t n;
	char *again = rbw_msg_call(c.method, c.parameters, c.more, &n);
	rbe_require(n == strlen(again) + 1);
	rbw_call back = {0};
	rbe_require(rbw_call_parse(again, n - 1, &back, &e) == 0);
	rbe_require(strcmp(back.method, c.method) == 0 && back.more == c.more && json_equal(back.parameters, c.parameters));
	rbw_call_clear(&back);
	free(again);

	/* The typed getters on whatever the parameters hold: a result or a message, never a crash. */
	int64_t i = 0;
	int b = 0;
	const char *s = NULL;
	static const char *const known[] = {"id", "all", "dataset", "router", NULL};
	static const char *const names[] = {"id", "all", "dataset", "seed", ""};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		rbe_error pe = {0};
		if (rbw_param_int(c.parameters, names[k], k & 1, 1, 1000, &i, &pe) < 0)
			rbe_require(pe.msg[0]);
		if (rbw_param_bool(c.parameters, names[k], 0, &b, &pe) < 0)
			rbe_require(pe.msg[0]);
		if (rbw_param_string(c.parameters, names[k], 1, &s, &pe) < 0)
			rbe_require(pe.msg[0]);
	}
	rbe_error ke = {0};
	if (rbw_param_check_known(c.parameters, known, &ke) < 0)
		rbe_require(ke.msg[0]);
	rbw_call_clear(&c);
}

static void check_reply(const char *text, size_t len)
{
	rbw_reply rp = {0};
	rbe_error e = {0};
	int r = rbw_reply_parse(text, len, &rp, &e);
	if (r < 0) {
		rbe_require(r == -EINVAL && e.msg[0] && !rp.error && !rp.parameters);
		return;
	}
	rbe_require(json_is_object(rp.parameters) && (!rp.error || rp.error[0]));
	size_t n;
	char *again;
	if (rp.error)
		again = rbw_msg_error(rp.error, json_deep_copy(rp.parameters), rbw_reply_message(&rp), &n);
	else
		again = rbw_msg_reply(rp.parameters, rp.continues, &n);
	rbw_reply back = {0};
	rbe_require(rbw_reply_parse(again, n - 1, &back, &e) == 0);
	rbe_require(json_equal(back.parameters, rp.parameters));
	rbe_require(!back.error == !rp.error && (!rp.error || strcmp(back.error, rp.error) == 0));
	rbe_require(rp.error || back.continues == rp.continues);
	rbw_reply_clear(&back);
	free(again);
	rbw_reply_clear(&rp);
}

static int on_message(void *ctx, const char *text, size_t len)
{
	oracle *o = ctx;
	/* The splitter must hand out exactly the next NUL-terminated piece, within the limit. */
	const uint8_t *nul = memchr(o->data + o->pos, 0, o->size - o->pos);
	rbe_require(nul);
	size_t want = (size_t)(nul - (o->data + o->pos));
	rbe_require(len == want && len < o->limit && text[len] == '\0');
	rbe_require(memcmp(text, o->data + o->pos, len) == 0);
	o->pos += len + 1;
	o->n_seen++;
	check_call(text, len);
	check_reply(text, len);
	return o->stop_every && o->n_seen % o->stop_every == 0 ? -EINTR : 0;
}

/* One pass with the given limit; chunk sizes come from the data itself, so libFuzzer can steer
 * where messages are cut. */
static void run(const uint8_t *data, size_t size, size_t limit, size_t stop_every)
{
	oracle o = {.data = data, .size = size, .limit = limit, .stop_every = stop_every};
	rbw_msgbuf b;
	rbw_msgbuf_init(&b, limit);
	size_t pos = 0, k = 0;
	int r = 0;
	while (pos < size && r == 0) {
		size_t step = 1 + (size_t)((data[k % size] * 7u + k) % 61u);
		k++;
		if (step > size - pos)
			step = size - pos;
		r = rbw_msgbuf_feed(&b, (const char *)data + pos, step, on_message, &o);
		while (r == -EINTR)
			r = rbw_msgbuf_feed(&b, NULL, 0, on_message, &o);
		pos += step;
	}
	/* What the oracle says should have happened: every message before the first one too long
	 * came out, then -EMSGSIZE; or all of them, with the unterminated rest still buffered. */
	size_t at = 0;
	int too_long = 0;
	size_t n_ok = 0;
	while (at < size) {
		const uint8_t *nul = memchr(data + at, 0, size - at);
		size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
		if (len >= limit) {
			too_long = 1;
			break;
		}
		if (!nul)
			break;
		n_ok++;
		at += len + 1;
	}
	rbe_require(o.n_seen == n_ok);
	if (too_long) {
		rbe_require(r == -EMSGSIZE);
		rbe_require(rbw_msgbuf_feed(&b, "x", 1, on_message, &o) == -EMSGSIZE);
	} else {
		rbe_require(r == 0 && rbw_msgbuf_buffered(&b) == size - at);
	}
	rbw_msgbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* Small limits so that oversize messages are easy to reach; the second pass sits right at
	 * the edge of the input's own sizes. */
	run(data, size, 1024, 0);
	run(data, size, 1 + size / 3, 2);
	run(data, size, 1 + data[0] % 64, 1);
	return 0;
}
