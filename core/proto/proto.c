/* proto.c — the rbd wire format: NUL-framed messages, call and reply parsing, encoders, typed parameters. */
#include "proto/proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A buffer that grew for one big message is given back once idle, so hundreds of quiet
 * connections do not each keep a megabyte. */
#define MSGBUF_IDLE_KEEP (64u << 10)
#define MSGBUF_MIN_CAP 4096u

void rbw_msgbuf_init(rbw_msgbuf *b, size_t limit)
{
	rbe_require(limit >= 1); /* the NUL alone takes one byte */
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void rbw_msgbuf_free(rbw_msgbuf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

size_t rbw_msgbuf_buffered(const rbw_msgbuf *b) { return b->len - b->off; }

/* Only ever called when no message handed to fn is still borrowed: compacting moves bytes. */
static void msgbuf_append(rbw_msgbuf *b, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap && b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : MSGBUF_MIN_CAP;
		while (cap < b->len + n)
			cap *= 2;
		b->data = rbe_xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void msgbuf_settle(rbw_msgbuf *b)
{
	if (b->off < b->len)
		return;
	b->off = b->len = b->scanned = 0;
	if (b->cap > MSGBUF_IDLE_KEEP) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

static int msgbuf_overflow(rbw_msgbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = b->off = b->scanned = 0;
	b->dead = 1;
	return -EMSGSIZE;
}

/* A message of len bytes before its NUL fits when len + 1 <= limit; a pending run of len bytes
 * with no NUL yet is known to be too long once len >= limit. */
int rbw_msgbuf_feed(rbw_msgbuf *b, const char *data, size_t n, rbw_msg_fn fn, void *ctx)
{
	if (b->dead)
		return -EMSGSIZE;

	/* Whole messages that a stopped feed kept, then at most one partial message. */
	while (b->off < b->len) {
		char *start = b->data + b->off;
		size_t avail = b->len - b->off;
		char *nul = memchr(start + b->scanned, '\0', avail - b->scanned);
		if (!nul) {
			if (avail >= b->limit)
				return msgbuf_overflow(b);
			b->scanned = avail;
			break;
		}
		size_t mlen = (size_t)(nul - start);
		if (mlen >= b->limit)
			return msgbuf_overflow(b);
		b->off += mlen + 1;
		b->scanned = 0;
		int r = fn(ctx, start, mlen);
		if (r < 0) {
			msgbuf_append(b, data, n);
			return r;
		}
	}
	msgbuf_settle(b);

	/* A partial message waits in the buffer: the first NUL of the new bytes ends it. */
	if (b->off < b->len) {
		size_t have = b->len - b->off;
		const char *nul = n ? memchr(data, '\0', n) : NULL;
		if (!nul) {
			if (have + n >= b->limit)
				return msgbuf_overflow(b);
			msgbuf_append(b, data, n);
			b->scanned = have + n;
			return 0;
		}
		size_t k = (size_t)(nul - data);
		if (have + k >= b->limit)
			return msgbuf_overflow(b);
		msgbuf_append(b, data, k + 1);
		char *start = b->data + b->off;
		b->off = b->len;
		b->scanned = 0;
		int r = fn(ctx, start, have + k);
		msgbuf_settle(b);
		data += k + 1;
		n -= k + 1;
		if (r < 0) {
			msgbuf_append(b, data, n);
			return r;
		}
	}

	/* The buffer is empty: whole messages are handed out straight from data, without a copy
	 * (their NUL terminates them in place); only a trailing partial one is kept. */
	while (n > 0) {
		const char *nul = memchr(data, '\0', n);
		if (!nul) {
			if (n >= b->limit)
				return msgbuf_overflow(b);
			msgbuf_append(b, data, n);
			b->scanned = n;
			return 0;
		}
		size_t mlen = (size_t)(nul - data);
		if (mlen >= b->limit)
			return msgbuf_overflow(b);
		int r = fn(ctx, data, mlen);
		data += mlen + 1;
		n -= mlen + 1;
		if (r < 0) {
			msgbuf_append(b, data, n);
			return r;
		}
	}
	return 0;
}

/* What a value is, for "must be X, not Y": numbers and literals as themselves. */
static void describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(buf, size, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, size, "an array");
		break;
	case JSON_STRING:
		snprintf(buf, size, "a string");
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	case JSON_NULL:
	default:
		snprintf(buf, size, "null");
		break;
	}
}

/* The kind of a value without its content: calls can be big and hostile. */
static const char *kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
	default:
		return "null";
	}
}

/* Any JSON value, so a top-level non-object gets "must be an object, not an array" rather than
 * the parser's "'[' or '{' expected"; jansson's own nesting limit guards the stack. */
static json_t *load_message(const char *what, const char *text, size_t len, rbe_error *e)
{
	if (len == 0) {
		rbe_fail(e, -EINVAL, "empty message: a %s is a JSON object", what);
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rbe_fail(e, -EINVAL, "%s is not valid JSON: line %d, column %d: %s", what, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		rbe_fail(e, -EINVAL, "a %s must be a JSON object, not %s", what, kind(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The members calls and replies share: "parameters", an object ({} when absent; *params gets a new
 * reference), and a flag ("more" or "continues"), true or false. in is "" or " in a reply", for
 * messages. Outputs untouched on failure. */
static int shared_members(const json_t *root, const char *flag, const char *in, json_t **params, int *flag_value,
			  rbe_error *e)
{
	json_t *p = json_object_get(root, "parameters");
	if (p && !json_is_object(p))
		return rbe_fail(e, -EINVAL, "\"parameters\"%s must be an object, not %s", in, kind(p));
	json_t *f = json_object_get(root, flag);
	if (f && !json_is_boolean(f))
		return rbe_fail(e, -EINVAL, "\"%s\"%s must be true or false, not %s", flag, in, kind(f));
	*params = p ? json_incref(p) : json_object();
	rbe_require(*params);
	*flag_value = f ? json_is_true(f) : 0;
	return 0;
}

int rbw_call_parse(const char *text, size_t len, rbw_call *out, rbe_error *e)
{
	json_t *root = load_message("call", text, len, e);
	if (!root)
		return -EINVAL;
	int r = -EINVAL;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "method") != 0 && strcmp(key, "parameters") != 0 && strcmp(key, "more") != 0) {
			/* The key came through jansson's UTF-8 check; a NUL inside it cannot happen
			 * (JSON_ALLOW_NUL is off). */
			rbe_fail(e, -EINVAL, "unknown member \"%.200s\" in the call (allowed: method, parameters, more)", key);
			goto out;
		}
	}
	json_t *method = json_object_get(root, "method");
	if (!method) {
		rbe_fail(e, -EINVAL, "the call has no \"method\"");
		goto out;
	}
	if (!json_is_string(method)) {
		rbe_fail(e, -EINVAL, "\"method\" must be a string, not %s", kind(method));
		goto out;
	}
	if (json_string_length(method) == 0) {
		rbe_fail(e, -EINVAL, "\"method\" must not be empty");
		goto out;
	}
	r = shared_members(root, "more", "", &out->parameters, &out->more, e);
	if (r == 0)
		out->method = rbe_xstrdup(json_string_value(method));
out:
	json_decref(root);
	return r;
}

void rbw_call_clear(rbw_call *c)
{
	if (!c)
		return;
	free(c->method);
	json_decref(c->parameters);
	memset(c, 0, sizeof(*c));
}

/* Unknown members are ignored: a newer rbd may add some, and an older rbctl should still work. */
int rbw_reply_parse(const char *text, size_t len, rbw_reply *out, rbe_error *e)
{
	json_t *root = load_message("reply", text, len, e);
	if (!root)
		return -EINVAL;
	int r = -EINVAL;
	json_t *error = json_object_get(root, "error");
	if (error && (!json_is_string(error) || json_string_length(error) == 0)) {
		rbe_fail(e, -EINVAL, "\"error\" in a reply must be a non-empty string, not %s",
			 json_is_string(error) ? "an empty one" : kind(error));
		goto out;
	}
	r = shared_members(root, "continues", " in a reply", &out->parameters, &out->continues, e);
	if (r == 0)
		out->error = error ? rbe_xstrdup(json_string_value(error)) : NULL;
out:
	json_decref(root);
	return r;
}

void rbw_reply_clear(rbw_reply *r)
{
	if (!r)
		return;
	free(r->error);
	json_decref(r->parameters);
	memset(r, 0, sizeof(*r));
}

const char *rbw_reply_message(const rbw_reply *r)
{
	return json_string_value(json_object_get(r->parameters, "message"));
}

/* Length of the valid UTF-8 sequence at p (jansson's rules: no overlongs, surrogates or code
 * points past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* A JSON string of s. Messages quote file names and router output that need not be UTF-8, which
 * json_string refuses: bad bytes become U+FFFD rather than losing the whole message. */
json_t *rbw_json_text(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	size_t n = strlen(s), w = 0;
	char *buf = rbe_xmalloc(3 * n + 1);
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k) {
			memcpy(buf + w, s + i, k);
			w += k;
			i += k;
		} else {
			memcpy(buf + w, "\xEF\xBF\xBD", 3);
			w += 3;
			i++;
		}
	}
	buf[w] = '\0';
	v = json_string(buf);
	free(buf);
	rbe_require(v);
	return v;
}

static void set_new(json_t *obj, const char *key, json_t *value)
{
	rbe_require(value && json_object_set_new(obj, key, value) == 0);
}

/* Compact, and reals with all 17 significant digits so a number survives the round trip. */
static char *dump_message(json_t *msg, size_t *len)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(msg);
	rbe_require(text); /* only out of memory: every value here is encodable */
	if (len)
		*len = strlen(text) + 1;
	return text;
}

/* parameters is only read, but jansson's reference count lives in it. */
static json_t *params_ref(const json_t *parameters)
{
	if (!parameters) {
		json_t *o = json_object();
		rbe_require(o);
		return o;
	}
	rbe_require(json_is_object(parameters));
	return json_incref((json_t *)parameters);
}

char *rbw_msg_call(const char *method, const json_t *parameters, int more, size_t *len)
{
	json_t *msg = json_object();
	rbe_require(msg);
	set_new(msg, "method", rbw_json_text(method));
	set_new(msg, "parameters", params_ref(parameters));
	if (more)
		set_new(msg, "more", json_true());
	return dump_message(msg, len);
}

char *rbw_msg_reply(const json_t *parameters, int continues, size_t *len)
{
	json_t *msg = json_object();
	rbe_require(msg);
	set_new(msg, "parameters", params_ref(parameters));
	if (continues)
		set_new(msg, "continues", json_true());
	return dump_message(msg, len);
}

char *rbw_msg_error(const char *error, json_t *parameters, const char *message, size_t *len)
{
	json_t *params = parameters ? parameters : json_object();
	rbe_require(json_is_object(params));
	if (message)
		set_new(params, "message", rbw_json_text(message));
	json_t *msg = json_object();
	rbe_require(msg);
	set_new(msg, "error", rbw_json_text(error));
	set_new(msg, "parameters", params);
	return dump_message(msg, len);
}

static const json_t *param_get(const json_t *params, const char *name)
{
	return json_is_object(params) ? json_object_get(params, name) : NULL;
}

/* "an integer from 1 to 10", with open ends left out. */
static void int_range(int64_t min, int64_t max, char *buf, size_t size)
{
	if (min == INT64_MIN && max == INT64_MAX)
		snprintf(buf, size, "an integer");
	else if (max == INT64_MAX)
		snprintf(buf, size, "an integer of at least %" PRId64, min);
	else if (min == INT64_MIN)
		snprintf(buf, size, "an integer of at most %" PRId64, max);
	else
		snprintf(buf, size, "an integer from %" PRId64 " to %" PRId64, min, max);
}

static int param_missing(const char *name, const char *what, rbe_error *e)
{
	return rbe_fail(e, -EINVAL, "parameter '%s' is required: %s", name, what);
}

static int param_wrong(const char *name, const char *what, const json_t *v, rbe_error *e)
{
	char got[64];
	describe(v, got, sizeof(got));
	return rbe_fail(e, -EINVAL, "parameter '%s' must be %s, not %s", name, what, got);
}

/* Reals are refused even when whole (1.0): the protocol's integers are written as integers. */
int rbw_param_int(const json_t *params, const char *name, int required, int64_t min, int64_t max, int64_t *out,
		  rbe_error *e)
{
	char what[96];
	int_range(min, max, what, sizeof(what));
	const json_t *v = param_get(params, name);
	if (!v)
		return required ? param_missing(name, what, e) : 0;
	if (!json_is_integer(v))
		return param_wrong(name, what, v, e);
	int64_t x = json_integer_value(v);
	if (x < min || x > max)
		return param_wrong(name, what, v, e);
	*out = x;
	return 0;
}

int rbw_param_bool(const json_t *params, const char *name, int required, int *out, rbe_error *e)
{
	const json_t *v = param_get(params, name);
	if (!v)
		return required ? param_missing(name, "true or false", e) : 0;
	if (!json_is_boolean(v))
		return param_wrong(name, "true or false", v, e);
	*out = json_is_true(v);
	return 0;
}

int rbw_param_string(const json_t *params, const char *name, int required, const char **out, rbe_error *e)
{
	const json_t *v = param_get(params, name);
	if (!v)
		return required ? param_missing(name, "a string", e) : 0;
	if (!json_is_string(v))
		return param_wrong(name, "a string", v, e);
	*out = json_string_value(v);
	return 0;
}

int rbw_param_check_known(const json_t *params, const char *const *known, rbe_error *e)
{
	if (!json_is_object(params))
		return 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)params, key, v)
	{
		size_t k = 0;
		while (known[k] && strcmp(known[k], key) != 0)
			k++;
		if (known[k])
			continue;
		if (!known[0])
			return rbe_fail(e, -EINVAL, "unknown parameter '%.200s' (this method takes none)", key);
		char list[512] = "";
		size_t used = 0;
		for (k = 0; known[k] && used < sizeof(list); k++) {
			int w = snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", known[k]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		return rbe_fail(e, -EINVAL, "unknown parameter '%.200s' (known: %s)", key, list);
	}
	return 0;
}
