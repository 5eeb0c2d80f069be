/* test_proto.c — the wire format (framing, calls, replies, encoders, parameters) and the blocking client. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/client.h"
#include "proto/proto.h"

/* ---- framing ---------------------------------------------------------------------------- */

#define MAX_GOT 4096

/* A buffer under test and every message it handed out, copied; optionally stops the feed after
 * every stop_every-th message. */
typedef struct framer {
	rbw_msgbuf b;
	char *msg[MAX_GOT];
	size_t len[MAX_GOT];
	size_t n;
	size_t stop_every;
} framer;

static int collect(void *ctx, const char *text, size_t len)
{
	framer *f = ctx;
	cr_assert_lt(f->n, MAX_GOT);
	cr_assert_eq(text[len], '\0', "a message is handed out NUL-terminated");
	cr_assert_null(memchr(text, '\0', len), "a message holds no NUL");
	f->msg[f->n] = malloc(len + 1);
	memcpy(f->msg[f->n], text, len + 1);
	f->len[f->n] = len;
	f->n++;
	return f->stop_every && f->n % f->stop_every == 0 ? -EINTR : 0;
}

/* Owned: framer_free. */
static framer *framer_new(size_t limit, size_t stop_every)
{
	framer *f = calloc(1, sizeof(*f));
	rbw_msgbuf_init(&f->b, limit);
	f->stop_every = stop_every;
	return f;
}

static void framer_free(framer *f)
{
	for (size_t k = 0; k < f->n; k++)
		free(f->msg[k]);
	rbw_msgbuf_free(&f->b);
	free(f);
}

static int feed(framer *f, const char *data, size_t len)
{
	return rbw_msgbuf_feed(&f->b, data, len, collect, f);
}

/* Feed a string literal, NULs and all (but not the one that ends the literal). */
#define FEED(f, lit) feed(f, lit, sizeof(lit) - 1)

/* Exactly the messages of want (NULL-terminated) were handed out, in order. */
static void expect_msgs(const framer *f, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	cr_assert_eq(f->n, n, "%zu messages, want %zu", f->n, n);
	for (size_t k = 0; k < n; k++) {
		cr_assert_eq(f->len[k], strlen(want[k]), "message %zu length", k);
		cr_assert_str_eq(f->msg[k], want[k]);
	}
}

Test(msgbuf, several_messages_in_one_feed)
{
	framer *f = framer_new(64, 0);
	cr_assert_eq(FEED(f, "{\"a\":1}\0[2]\0three\0"), 0);
	expect_msgs(f, (const char *[]){"{\"a\":1}", "[2]", "three", NULL});
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 0);
	framer_free(f);
}

Test(msgbuf, message_split_across_feeds)
{
	framer *f = framer_new(64, 0);
	cr_assert_eq(FEED(f, "{\"meth"), 0);
	cr_assert_eq(f->n, 0);
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 6);
	cr_assert_eq(FEED(f, "od\":"), 0);
	cr_assert_eq(FEED(f, "1}\0{\"x"), 0, "the end of one message and the start of the next");
	cr_assert_eq(FEED(f, "\":2}\0"), 0);
	expect_msgs(f, (const char *[]){"{\"method\":1}", "{\"x\":2}", NULL});
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 0);
	framer_free(f);
}

Test(msgbuf, byte_by_byte_equals_whole)
{
	static const char stream[] = "alpha\0\0beta gamma\0{}\0x\0";
	framer *f = framer_new(32, 0);
	for (size_t k = 0; k < sizeof(stream) - 1; k++)
		cr_assert_eq(feed(f, stream + k, 1), 0);
	expect_msgs(f, (const char *[]){"alpha", "", "beta gamma", "{}", "x", NULL});
	framer_free(f);
}

Test(msgbuf, empty_messages)
{
	framer *f = framer_new(1, 0); /* room for the NUL alone: only empty messages fit */
	cr_assert_eq(feed(f, "\0\0\0", 3), 0);
	expect_msgs(f, (const char *[]){"", "", "", NULL});
	cr_assert_eq(feed(f, "x", 1), -EMSGSIZE);
	framer_free(f);
}

Test(msgbuf, feeding_nothing)
{
	framer *f = framer_new(8, 0);
	cr_assert_eq(feed(f, NULL, 0), 0);
	cr_assert_eq(FEED(f, "ab"), 0);
	cr_assert_eq(feed(f, NULL, 0), 0);
	cr_assert_eq(f->n, 0);
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 2);
	framer_free(f);
}

/* limit 8: seven characters and the NUL fit, eight do not. */
Test(msgbuf, exact_limit_fits_in_every_path)
{
	framer *f = framer_new(8, 0);
	cr_assert_eq(FEED(f, "1234567\0"), 0, "straight from the input");
	cr_assert_eq(FEED(f, "1234"), 0);
	cr_assert_eq(FEED(f, "567\0"), 0, "completed in the buffer");
	cr_assert_eq(FEED(f, "1234567"), 0, "seven pending bytes are not known to be too long");
	cr_assert_eq(FEED(f, "\0"), 0);
	expect_msgs(f, (const char *[]){"1234567", "1234567", "1234567", NULL});
	framer_free(f);
}

Test(msgbuf, limit_plus_one_refused_in_one_feed)
{
	framer *f = framer_new(8, 0);
	cr_assert_eq(FEED(f, "ok\0" "12345678\0after\0"), -EMSGSIZE);
	expect_msgs(f, (const char *[]){"ok", NULL});
	cr_assert_eq(FEED(f, "x\0"), -EMSGSIZE, "the buffer stays dead");
	cr_assert_eq(feed(f, NULL, 0), -EMSGSIZE);
	cr_assert_eq(f->n, 1);
	framer_free(f);
}

Test(msgbuf, too_long_known_before_its_end)
{
	framer *f = framer_new(8, 0);
	cr_assert_eq(FEED(f, "12345"), 0);
	cr_assert_eq(FEED(f, "67"), 0);
	/* Eight bytes and still no NUL: the message will be at least nine bytes. */
	cr_assert_eq(FEED(f, "8"), -EMSGSIZE);
	cr_assert_eq(f->n, 0);
	cr_assert_eq(f->b.cap, 0, "the dead buffer holds no memory");
	rbw_msgbuf_free(&f->b);

	rbw_msgbuf_init(&f->b, 8);
	cr_assert_eq(FEED(f, "12345"), 0);
	cr_assert_eq(FEED(f, "678\0"), -EMSGSIZE, "the NUL arrives one byte too late");
	cr_assert_eq(f->n, 0);
	framer_free(f);
}

Test(msgbuf, never_buffers_more_than_the_limit)
{
	framer *f = framer_new(1024, 0);
	char junk[100];
	memset(junk, 'x', sizeof(junk));
	size_t fed = 0;
	int r = 0;
	while (r == 0 && fed < (1u << 20)) {
		r = feed(f, junk, sizeof(junk));
		fed += sizeof(junk);
		if (r == 0)
			cr_assert_lt(rbw_msgbuf_buffered(&f->b), 1024);
	}
	cr_assert_eq(r, -EMSGSIZE);
	cr_assert_eq(fed, 1100, "refused with the chunk that reached the limit, after %zu bytes", fed);
	framer_free(f);
}

Test(msgbuf, stop_keeps_the_rest)
{
	framer *f = framer_new(64, 1);
	cr_assert_eq(FEED(f, "a\0b\0c"), -EINTR);
	expect_msgs(f, (const char *[]){"a", NULL});
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 3);
	cr_assert_eq(feed(f, NULL, 0), -EINTR, "b comes out of the buffer");
	cr_assert_eq(feed(f, NULL, 0), 0, "c is not complete yet");
	cr_assert_eq(FEED(f, "\0d\0"), -EINTR);
	cr_assert_eq(feed(f, NULL, 0), -EINTR);
	cr_assert_eq(feed(f, NULL, 0), 0);
	expect_msgs(f, (const char *[]){"a", "b", "c", "d", NULL});
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 0);
	framer_free(f);
}

/* A stop while the message came out of the buffer's partial tail keeps what followed it. */
Test(msgbuf, stop_after_a_completed_partial)
{
	framer *f = framer_new(64, 1);
	cr_assert_eq(FEED(f, "par"), 0);
	cr_assert_eq(FEED(f, "tial\0next\0tail"), -EINTR);
	cr_assert_eq(rbw_msgbuf_buffered(&f->b), 9);
	cr_assert_eq(feed(f, NULL, 0), -EINTR);
	cr_assert_eq(FEED(f, "\0"), -EINTR);
	expect_msgs(f, (const char *[]){"partial", "next", "tail", NULL});
	framer_free(f);
}

Test(msgbuf, stopped_tail_over_the_limit_is_refused_later)
{
	framer *f = framer_new(4, 1);
	cr_assert_eq(FEED(f, "a\0toolong"), -EINTR);
	cr_assert_eq(feed(f, NULL, 0), -EMSGSIZE);
	framer_free(f);
}

/* Random messages (binary bytes, empty ones) cut at random places come out exactly as sent. */
Test(msgbuf, random_chunks_and_garbage)
{
	unsigned seed = 12345;
	for (int round = 0; round < 50; round++) {
		size_t n_msgs = 1 + (size_t)(rand_r(&seed) % 60);
		size_t cap = n_msgs * 300, len = 0;
		char *stream = malloc(cap);
		char **want = calloc(n_msgs + 1, sizeof(*want));
		for (size_t k = 0; k < n_msgs; k++) {
			size_t m = (size_t)(rand_r(&seed) % 200);
			want[k] = malloc(m + 1);
			for (size_t i = 0; i < m; i++)
				want[k][i] = (char)(1 + rand_r(&seed) % 255); /* anything but NUL */
			want[k][m] = '\0';
			memcpy(stream + len, want[k], m + 1);
			len += m + 1;
		}
		framer *f = framer_new(200, round % 3 == 0 ? 2 : 0);
		for (size_t pos = 0; pos < len;) {
			size_t step = 1 + (size_t)(rand_r(&seed) % 97);
			if (step > len - pos)
				step = len - pos;
			int r = feed(f, stream + pos, step);
			while (r == -EINTR)
				r = feed(f, NULL, 0);
			cr_assert_eq(r, 0);
			pos += step;
		}
		expect_msgs(f, (const char *const *)want);
		cr_assert_eq(rbw_msgbuf_buffered(&f->b), 0);
		framer_free(f);
		for (size_t k = 0; k < n_msgs; k++)
			free(want[k]);
		free(want);
		free(stream);
	}
}

Test(msgbuf, free_accepts_zeroed_and_freed)
{
	rbw_msgbuf b = {0};
	rbw_msgbuf_free(&b);
	rbw_msgbuf_init(&b, 16);
	rbw_msgbuf_free(&b);
	rbw_msgbuf_free(&b);
	rbw_msgbuf_free(NULL);
}

/* ---- calls -------------------------------------------------------------------------------- */

static void expect_call_refused(const char *text, const char *needle)
{
	rbw_call c = {.method = (char *)"sentinel"};
	rbe_error e = {0};
	cr_assert_eq(rbw_call_parse(text, strlen(text), &c, &e), -EINVAL, "%s should be refused", text);
	cr_assert_str_eq(c.method, "sentinel", "the output is untouched on failure");
	cr_assert_null(c.parameters);
	cr_assert_eq(e.code, -EINVAL);
	cr_assert(strstr(e.msg, needle), "%s: message lacks '%s': %s", text, needle, e.msg);
}

Test(call, parses_a_full_call)
{
	const char *text = "{\"method\": \"io.routerbench.v1.Status\", \"parameters\": {\"id\": 7}, \"more\": true}";
	rbw_call c;
	rbe_error e = {0};
	cr_assert_eq(rbw_call_parse(text, strlen(text), &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c.method, "io.routerbench.v1.Status");
	cr_assert_eq(json_integer_value(json_object_get(c.parameters, "id")), 7);
	cr_assert_eq(c.more, 1);
	rbw_call_clear(&c);
	cr_assert_null(c.method);
	rbw_call_clear(&c);
	rbw_call_clear(NULL);
}

Test(call, defaults_and_any_method_name)
{
	const char *text = "{\"method\":\"Whatever\"}";
	rbw_call c;
	cr_assert_eq(rbw_call_parse(text, strlen(text), &c, NULL), 0);
	cr_assert_str_eq(c.method, "Whatever", "an unknown method is the server's MethodNotFound, not a parse error");
	cr_assert(json_is_object(c.parameters));
	cr_assert_eq(json_object_size(c.parameters), 0);
	cr_assert_eq(c.more, 0);
	rbw_call_clear(&c);

	text = "{\"more\":false,\"parameters\":{},\"method\":\"x\"}";
	cr_assert_eq(rbw_call_parse(text, strlen(text), &c, NULL), 0);
	cr_assert_eq(c.more, 0);
	rbw_call_clear(&c);
}

Test(call, length_not_nul_ends_the_text)
{
	const char *text = "{\"method\":\"a\"}GARBAGE";
	rbw_call c;
	cr_assert_eq(rbw_call_parse(text, 14, &c, NULL), 0);
	cr_assert_str_eq(c.method, "a");
	rbw_call_clear(&c);
	expect_call_refused(text, "line 1, column 21: end of file expected near 'GARBAGE'");
}

Test(call, json_errors_have_line_and_column)
{
	expect_call_refused("{\"method\": }", "not valid JSON: line 1, column 12");
	expect_call_refused("{\n  \"method\": \"a\",\n  oops\n}", "line 3, column 6: string or '}' expected near 'oops'");
	expect_call_refused("{\"method\": \"a\"", "not valid JSON");
	expect_call_refused("{\"method\": \"a\"} {}", "end of file expected");
	expect_call_refused("{\"method\": \"a\", \"method\": \"b\"}", "duplicate object key");
	expect_call_refused("{\"method\": \"a\\u0000b\"}", "\\u0000 is not allowed");
	expect_call_refused("{\"method\": \"\xff\"}", "unable to decode byte");
	expect_call_refused("", "empty message");
	expect_call_refused("   ", "not valid JSON");
}

Test(call, structure_errors_name_the_member)
{
	expect_call_refused("[1, 2]", "a call must be a JSON object, not an array");
	expect_call_refused("\"io.routerbench.v1.GetInfo\"", "not a string");
	expect_call_refused("42", "not a number");
	expect_call_refused("null", "not null");
	expect_call_refused("{}", "the call has no \"method\"");
	expect_call_refused("{\"parameters\": {}}", "has no \"method\"");
	expect_call_refused("{\"method\": 5}", "\"method\" must be a string, not a number");
	expect_call_refused("{\"method\": null}", "\"method\" must be a string, not null");
	expect_call_refused("{\"method\": \"\"}", "\"method\" must not be empty");
	expect_call_refused("{\"method\": \"a\", \"parameters\": [1]}", "\"parameters\" must be an object, not an array");
	expect_call_refused("{\"method\": \"a\", \"parameters\": null}", "\"parameters\" must be an object, not null");
	expect_call_refused("{\"method\": \"a\", \"more\": \"yes\"}", "\"more\" must be true or false, not a string");
	expect_call_refused("{\"method\": \"a\", \"more\": 1}", "\"more\" must be true or false, not a number");
	expect_call_refused("{\"method\": \"a\", \"id\": 7}",
			    "unknown member \"id\" in the call (allowed: method, parameters, more)");
	expect_call_refused("{\"method\": \"a\", \"continues\": true}", "unknown member \"continues\"");
}

Test(call, deep_nesting_is_refused_not_a_crash)
{
	size_t depth = 100000;
	char *text = malloc(2 * depth + 64);
	size_t n = (size_t)sprintf(text, "{\"method\":\"a\",\"parameters\":{\"x\":");
	for (size_t k = 0; k < depth; k++)
		text[n++] = '[';
	for (size_t k = 0; k < depth; k++)
		text[n++] = ']';
	n += (size_t)sprintf(text + n, "}}");
	rbw_call c;
	rbe_error e = {0};
	cr_assert_eq(rbw_call_parse(text, n, &c, &e), -EINVAL);
	cr_assert(strstr(e.msg, "not valid JSON"), "%s", e.msg);
	free(text);
}

/* ---- replies ------------------------------------------------------------------------------ */

/* text parsed as a reply, which must succeed. Owned: rbw_reply_clear. */
static rbw_reply reply_ok(const char *text)
{
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_reply_parse(text, strlen(text), &r, &e), 0, "%s", e.msg);
	return r;
}

Test(reply, success_error_and_stream)
{
	rbw_reply r = reply_ok("{\"parameters\":{\"id\":7,\"state\":\"queued\"}}");
	cr_assert_null(r.error);
	cr_assert_eq(r.continues, 0);
	cr_assert_str_eq(json_string_value(json_object_get(r.parameters, "state")), "queued");
	cr_assert_null(rbw_reply_message(&r));
	rbw_reply_clear(&r);

	r = reply_ok("{\"error\":\"io.routerbench.v1.NoSuchJob\",\"parameters\":{\"message\":\"no such job: 99\",\"id\":99}}");
	cr_assert_str_eq(r.error, RBW_ERR_NO_SUCH_JOB);
	cr_assert_str_eq(rbw_reply_message(&r), "no such job: 99");
	rbw_reply_clear(&r);

	r = reply_ok("{\"parameters\":{},\"continues\":true}");
	cr_assert_eq(r.continues, 1);
	rbw_reply_clear(&r);

	r = reply_ok("{}");
	cr_assert(json_is_object(r.parameters));
	rbw_reply_clear(&r);
	rbw_reply_clear(NULL);
}

Test(reply, unknown_members_are_ignored)
{
	const char *text = "{\"parameters\":{},\"trace\":\"added by a newer rbd\"}";
	rbw_reply r;
	cr_assert_eq(rbw_reply_parse(text, strlen(text), &r, NULL), 0);
	rbw_reply_clear(&r);
}

static void expect_reply_refused(const char *text, const char *needle)
{
	rbw_reply r = {.error = (char *)"sentinel"};
	rbe_error e = {0};
	cr_assert_eq(rbw_reply_parse(text, strlen(text), &r, &e), -EINVAL, "%s should be refused", text);
	cr_assert_str_eq(r.error, "sentinel");
	cr_assert(strstr(e.msg, needle), "%s: message lacks '%s': %s", text, needle, e.msg);
}

Test(reply, refusals)
{
	expect_reply_refused("{\"parameters\":", "reply is not valid JSON: line 1, column 14");
	expect_reply_refused("[]", "a reply must be a JSON object, not an array");
	expect_reply_refused("{\"error\":7}", "\"error\" in a reply must be a non-empty string, not a number");
	expect_reply_refused("{\"error\":\"\"}", "not an empty one");
	expect_reply_refused("{\"parameters\":\"x\"}", "\"parameters\" in a reply must be an object, not a string");
	expect_reply_refused("{\"continues\":\"no\"}", "\"continues\" in a reply must be true or false");
	expect_reply_refused("{\"error\":\"a\",\"error\":\"b\"}", "duplicate object key");
	expect_reply_refused("", "empty message");
}

/* ---- encoders ----------------------------------------------------------------------------- */

Test(encode, call_is_compact_and_round_trips)
{
	json_t *p = json_pack("{s:I, s:s}", "id", (json_int_t)7, "note", "a \"quoted\"\nline");
	size_t len;
	char *text = rbw_msg_call("io.routerbench.v1.Status", p, 0, &len);
	cr_assert_str_eq(text, "{\"method\":\"io.routerbench.v1.Status\",\"parameters\":{\"id\":7,\"note\":\"a \\\"quoted\\\"\\nline\"}}");
	cr_assert_eq(len, strlen(text) + 1, "len counts the NUL");
	rbw_call c;
	rbe_error e = {0};
	cr_assert_eq(rbw_call_parse(text, len - 1, &c, &e), 0, "%s", e.msg);
	cr_assert(json_equal(c.parameters, p));
	cr_assert_eq(c.more, 0);
	rbw_call_clear(&c);
	free(text);
	cr_assert_eq(p->refcount, 1, "parameters are borrowed");
	json_decref(p);

	text = rbw_msg_call("x", NULL, 1, &len);
	cr_assert_str_eq(text, "{\"method\":\"x\",\"parameters\":{},\"more\":true}");
	free(text);
}

Test(encode, reals_keep_every_digit)
{
	double values[] = {0.1, 1.0 / 3.0, 1e-300, 123456789.123456789, -2.5e17, 5e-324};
	json_t *p = json_object();
	json_t *arr = json_array();
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++)
		json_array_append_new(arr, json_real(values[k]));
	json_object_set_new(p, "xs", arr);
	size_t len;
	char *text = rbw_msg_reply(p, 1, &len);
	cr_assert(strstr(text, "\"continues\":true"));
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_reply_parse(text, len - 1, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.continues, 1);
	json_t *back = json_object_get(r.parameters, "xs");
	for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++)
		cr_assert_eq(json_real_value(json_array_get(back, k)), values[k], "value %zu: %.17g", k, values[k]);
	rbw_reply_clear(&r);
	free(text);
	json_decref(p);

	text = rbw_msg_reply(NULL, 0, &len);
	cr_assert_str_eq(text, "{\"parameters\":{}}");
	free(text);
}

Test(encode, error_steals_parameters_and_adds_the_message)
{
	json_t *p = json_pack("{s:I}", "id", (json_int_t)99);
	size_t len;
	char *text = rbw_msg_error(RBW_ERR_NO_SUCH_JOB, p, "no such job: 99", &len);
	cr_assert_str_eq(text, "{\"error\":\"io.routerbench.v1.NoSuchJob\",\"parameters\":{\"id\":99,\"message\":\"no such job: 99\"}}");
	rbw_reply r;
	cr_assert_eq(rbw_reply_parse(text, len - 1, &r, NULL), 0);
	cr_assert_str_eq(r.error, RBW_ERR_NO_SUCH_JOB);
	cr_assert_str_eq(rbw_reply_message(&r), "no such job: 99");
	rbw_reply_clear(&r);
	free(text);

	text = rbw_msg_error(RBW_ERR_INTERNAL, NULL, NULL, &len);
	cr_assert_str_eq(text, "{\"error\":\"io.routerbench.v1.InternalError\",\"parameters\":{}}");
	free(text);
}

Test(encode, invalid_utf8_in_a_message_still_goes_out)
{
	size_t len;
	char *text = rbw_msg_error(RBW_ERR_NO_SUCH_ROUTER, NULL, "no router in /srv/r\xff\xfe.so (\xed\xa0\x80)", &len);
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_reply_parse(text, len - 1, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(rbw_reply_message(&r), "no router in /srv/r\xEF\xBF\xBD\xEF\xBF\xBD.so "
						 "(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD)");
	rbw_reply_clear(&r);
	free(text);
}

/* A NUL inside a string is escaped: it can never end a frame early. */
Test(encode, nul_in_a_string_is_escaped)
{
	json_t *p = json_object();
	json_object_set_new(p, "s", json_stringn("a\0b", 3));
	size_t len;
	char *text = rbw_msg_reply(p, 0, &len);
	cr_assert_eq(strlen(text) + 1, len);
	cr_assert(strstr(text, "a\\u0000b"), "%s", text);
	free(text);
	json_decref(p);
}

/* ---- parameters --------------------------------------------------------------------------- */

static json_t *params(const char *text)
{
	json_error_t je;
	json_t *p = json_loads(text, 0, &je);
	cr_assert_not_null(p, "%s", je.text);
	return p;
}

static void expect_int_refused(const char *text, int required, int64_t min, int64_t max, const char *want)
{
	json_t *p = params(text);
	int64_t v = -42;
	rbe_error e = {0};
	cr_assert_eq(rbw_param_int(p, "id", required, min, max, &v, &e), -EINVAL, "%s", text);
	cr_assert_eq(v, -42, "untouched on failure");
	cr_assert_str_eq(e.msg, want);
	json_decref(p);
}

Test(param, integers)
{
	json_t *p = params("{\"id\": 7, \"big\": 9007199254740993}");
	int64_t v = 0;
	rbe_error e = {0};
	cr_assert_eq(rbw_param_int(p, "id", 1, 1, 100, &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v, 7);
	cr_assert_eq(rbw_param_int(p, "big", 1, 0, INT64_MAX, &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v, 9007199254740993LL, "no detour through double");
	v = 5;
	cr_assert_eq(rbw_param_int(p, "absent", 0, 1, 100, &v, &e), 0);
	cr_assert_eq(v, 5, "an absent optional parameter leaves the value alone");
	cr_assert_eq(rbw_param_int(NULL, "absent", 0, 1, 100, &v, &e), 0);
	json_decref(p);

	expect_int_refused("{}", 1, 1, 100, "parameter 'id' is required: an integer from 1 to 100");
	expect_int_refused("{\"id\": 1.5}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not 1.5");
	expect_int_refused("{\"id\": 1.0}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not 1");
	expect_int_refused("{\"id\": true}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not true");
	expect_int_refused("{\"id\": \"7\"}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not a string");
	expect_int_refused("{\"id\": null}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not null");
	expect_int_refused("{\"id\": [7]}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not an array");
	expect_int_refused("{\"id\": 101}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not 101");
	expect_int_refused("{\"id\": 0}", 0, 1, 100, "parameter 'id' must be an integer from 1 to 100, not 0");
	expect_int_refused("{\"id\": -1}", 0, 1, INT64_MAX, "parameter 'id' must be an integer of at least 1, not -1");
	expect_int_refused("{\"id\": 5}", 0, INT64_MIN, 4, "parameter 'id' must be an integer of at most 4, not 5");
	expect_int_refused("{\"id\": 0.5}", 0, INT64_MIN, INT64_MAX, "parameter 'id' must be an integer, not 0.5");
}

Test(param, booleans_and_strings)
{
	json_t *p = params("{\"all\": true, \"name\": \"demo\", \"n\": 1}");
	int b = 0;
	const char *s = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbw_param_bool(p, "all", 1, &b, &e), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(rbw_param_string(p, "name", 1, &s, &e), 0);
	cr_assert_str_eq(s, "demo");
	cr_assert_eq(s, json_string_value(json_object_get(p, "name")), "borrowed from params");
	b = 7;
	s = "keep";
	cr_assert_eq(rbw_param_bool(p, "x", 0, &b, &e), 0);
	cr_assert_eq(rbw_param_string(p, "x", 0, &s, &e), 0);
	cr_assert_eq(b, 7);
	cr_assert_str_eq(s, "keep");

	cr_assert_eq(rbw_param_bool(p, "n", 0, &b, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "parameter 'n' must be true or false, not 1");
	cr_assert_eq(rbw_param_bool(p, "x", 1, &b, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "parameter 'x' is required: true or false");
	cr_assert_eq(rbw_param_string(p, "all", 0, &s, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "parameter 'all' must be a string, not true");
	cr_assert_eq(rbw_param_string(p, "x", 1, &s, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "parameter 'x' is required: a string");
	cr_assert_str_eq(s, "keep");
	json_decref(p);
}

Test(param, unknown_parameters)
{
	static const char *const known[] = {"id", "all", NULL};
	static const char *const none[] = {NULL};
	json_t *p = params("{\"id\": 1, \"all\": true}");
	rbe_error e = {0};
	cr_assert_eq(rbw_param_check_known(p, known, &e), 0);
	cr_assert_eq(rbw_param_check_known(NULL, none, &e), 0);
	cr_assert_eq(rbw_param_check_known(p, none, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "unknown parameter 'id' (this method takes none)");
	json_decref(p);
	p = params("{\"id\": 1, \"colour\": 2}");
	cr_assert_eq(rbw_param_check_known(p, known, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "unknown parameter 'colour' (known: id, all)");
	json_decref(p);
}

/* ---- client ------------------------------------------------------------------------------- */

static char *temp_socket_path(void)
{
	static char path[128];
	char dir[] = "/tmp/rbtest-sock.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rbd.sock", dir);
	return path;
}

/* A unix stream socket bound to path, not listening yet. */
static int bound_socket(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void write_all(int fd, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(99);
		data += w;
		n -= (size_t)w;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int wait_child(pid_t pid)
{
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(client, socket_path_choice)
{
	unsetenv(RBW_SOCKET_ENV);
	cr_assert_str_eq(rbw_client_socket_path(NULL), RBW_DEFAULT_SOCKET);
	setenv(RBW_SOCKET_ENV, "/tmp/env.sock", 1);
	cr_assert_str_eq(rbw_client_socket_path(NULL), "/tmp/env.sock");
	cr_assert_str_eq(rbw_client_socket_path("/x.sock"), "/x.sock", "--socket beats the environment");
	setenv(RBW_SOCKET_ENV, "", 1);
	cr_assert_str_eq(rbw_client_socket_path(NULL), RBW_DEFAULT_SOCKET);
}

Test(client, connect_error_when_nothing_is_there)
{
	char *path = temp_socket_path();
	rbw_client *c = (rbw_client *)0x1;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_open(path, &c, &e), -ENOENT);
	cr_assert_eq(c, (rbw_client *)0x1, "untouched on failure");
	char want[512];
	snprintf(want, sizeof(want),
		 "cannot connect to rbd at %s: No such file or directory (is rbd running? set --socket or RBD_SOCKET)",
		 path);
	cr_assert_str_eq(e.msg, want);
}

Test(client, connect_error_when_nothing_listens)
{
	char *path = temp_socket_path();
	/* A socket file left behind by a dead rbd: bound, never listening. */
	close(bound_socket(path));
	rbw_client *c = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_open(path, &c, &e), -ECONNREFUSED);
	cr_assert(strstr(e.msg, "cannot connect to rbd at "), "%s", e.msg);
	cr_assert(strstr(e.msg, path), "%s", e.msg);
	cr_assert(strstr(e.msg, "Connection refused (is rbd running? set --socket or RBD_SOCKET)"), "%s", e.msg);
	unlink(path);
}

Test(client, socket_path_too_long)
{
	char path[300];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	rbw_client *c = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_open(path, &c, &e), -ENAMETOOLONG);
	cr_assert(strstr(e.msg, "longer than 107 bytes"), "%s", e.msg);
}

static rbw_client *pair_client(int *peer)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*peer = sv[1];
	return rbw_client_adopt(sv[0]);
}

Test(client, two_replies_in_one_write)
{
	int peer;
	rbw_client *c = pair_client(&peer);
	static const char two[] = "{\"parameters\":{\"n\":1},\"continues\":true}\0{\"parameters\":{\"n\":2}}\0";
	write_all(peer, two, sizeof(two) - 1);
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(json_integer_value(json_object_get(r.parameters, "n")), 1);
	cr_assert_eq(r.continues, 1);
	rbw_reply_clear(&r);
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(json_integer_value(json_object_get(r.parameters, "n")), 2);
	cr_assert_eq(r.continues, 0);
	rbw_reply_clear(&r);

	close(peer);
	cr_assert_eq(rbw_client_recv(c, &r, &e), -EPIPE);
	cr_assert_str_eq(e.msg, "rbd at (inherited socket) closed the connection");
	rbw_client_close(c);
}

Test(client, epipe_not_sigpipe_when_the_peer_closed)
{
	int peer;
	rbw_client *c = pair_client(&peer);
	close(peer);
	rbe_error e = {0};
	cr_assert_eq(rbw_client_send(c, "io.routerbench.v1.GetInfo", NULL, 0, &e), -EPIPE);
	cr_assert(strstr(e.msg, "closed the connection"), "%s", e.msg);
	rbw_reply r;
	cr_assert_eq(rbw_client_call(c, "io.routerbench.v1.GetInfo", NULL, &r, &e), -EPIPE);
	rbw_client_close(c);
	rbw_client_close(NULL);
}

Test(client, eof_in_the_middle_of_a_reply)
{
	int peer;
	rbw_client *c = pair_client(&peer);
	write_all(peer, "{\"parameters\":", 14);
	close(peer);
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_recv(c, &r, &e), -EPIPE);
	cr_assert(strstr(e.msg, "closed the connection in the middle of a reply"), "%s", e.msg);
	rbw_client_close(c);
}

Test(client, bad_reply_is_an_error_and_the_stream_goes_on)
{
	int peer;
	rbw_client *c = pair_client(&peer);
	static const char msgs[] = "not json\0{\"parameters\":{}}\0";
	write_all(peer, msgs, sizeof(msgs) - 1);
	rbw_reply r;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_recv(c, &r, &e), -EINVAL);
	cr_assert(strstr(e.msg, "bad reply from rbd at (inherited socket): reply is not valid JSON"), "%s", e.msg);
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	rbw_reply_clear(&r);
	rbw_client_close(c);
	close(peer);
}

/* A reply bigger than one read and arriving in pieces, with a signal interrupting the wait. */
static void on_alarm(int sig) { (void)sig; }

Test(client, big_reply_in_pieces_through_eintr)
{
	int peer;
	rbw_client *c = pair_client(&peer);
	size_t big = 3u << 20;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		rbw_client_close(c);
		json_t *p = json_object();
		char *s = malloc(big + 1);
		memset(s, 'z', big);
		s[big] = '\0';
		json_object_set_new(p, "blob", json_string(s));
		size_t len;
		char *text = rbw_msg_reply(p, 0, &len);
		sleep_ms(100);
		write_all(peer, text, 1000);
		sleep_ms(50);
		write_all(peer, text + 1000, len - 1000);
		_exit(0);
	}
	close(peer);
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: recv sees EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
	setitimer(ITIMER_REAL, &it, NULL);
	rbw_reply r;
	rbe_error e = {0};
	int rc = rbw_client_recv(c, &r, &e);
	struct itimerval off = {0};
	setitimer(ITIMER_REAL, &off, NULL);
	cr_assert_eq(rc, 0, "%s", e.msg);
	cr_assert_eq(json_string_length(json_object_get(r.parameters, "blob")), big);
	rbw_reply_clear(&r);
	cr_assert_eq(wait_child(pid), 0);
	rbw_client_close(c);
}

/* A tiny rbd in a child: answers each call with its method and parameters, or an error for
 * "Nope", until the client shuts its end. */
static int echo_reply(void *ctx, const char *text, size_t len)
{
	int fd = *(int *)ctx;
	rbw_call call;
	rbe_error e = {0};
	size_t n;
	char *out;
	if (rbw_call_parse(text, len, &call, &e) < 0) {
		out = rbw_msg_error(RBW_ERR_INVALID_MESSAGE, NULL, e.msg, &n);
	} else if (strcmp(call.method, "Nope") == 0) {
		out = rbw_msg_error(RBW_ERR_METHOD_NOT_FOUND, json_pack("{s:s}", "method", call.method), "no such method", &n);
	} else {
		json_t *p = json_pack("{s:s, s:O}", "method", call.method, "parameters", call.parameters);
		out = rbw_msg_reply(p, 0, &n);
		json_decref(p);
	}
	write_all(fd, out, n);
	free(out);
	rbw_call_clear(&call);
	return 0;
}

static void serve_until_eof(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	rbw_msgbuf b;
	rbw_msgbuf_init(&b, RBW_PROTO_MAX_MESSAGE_DEFAULT);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (rbw_msgbuf_feed(&b, buf, (size_t)n, echo_reply, &fd) < 0)
			_exit(3);
	rbw_msgbuf_free(&b);
	_exit(0);
}

Test(client, round_trip_with_a_listening_server)
{
	char *path = temp_socket_path();
	int lfd = bound_socket(path);
	cr_assert_eq(listen(lfd, 4), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		serve_until_eof(lfd);
	close(lfd);

	rbw_client *c = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbw_client_open(path, &c, &e), 0, "%s", e.msg);
	json_t *p = json_pack("{s:I}", "id", (json_int_t)7);
	rbw_reply r;
	cr_assert_eq(rbw_client_call(c, "io.routerbench.v1.Status", p, &r, &e), 0, "%s", e.msg);
	json_decref(p);
	cr_assert_null(r.error);
	cr_assert_str_eq(json_string_value(json_object_get(r.parameters, "method")), "io.routerbench.v1.Status");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(r.parameters, "parameters"), "id")), 7);
	rbw_reply_clear(&r);

	cr_assert_eq(rbw_client_call(c, "Nope", NULL, &r, &e), 0, "an error reply is not a transport error");
	cr_assert_str_eq(r.error, RBW_ERR_METHOD_NOT_FOUND);
	cr_assert_str_eq(rbw_reply_message(&r), "no such method");
	rbw_reply_clear(&r);

	/* Pipelined: two calls sent before either reply is read. */
	cr_assert_eq(rbw_client_send(c, "A", NULL, 0, &e), 0);
	cr_assert_eq(rbw_client_send(c, "B", NULL, 1, &e), 0);
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(json_string_value(json_object_get(r.parameters, "method")), "A");
	rbw_reply_clear(&r);
	cr_assert_eq(rbw_client_recv(c, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(json_string_value(json_object_get(r.parameters, "method")), "B");
	rbw_reply_clear(&r);

	shutdown(c->fd, SHUT_WR);
	cr_assert_eq(rbw_client_recv(c, &r, &e), -EPIPE, "the server closes after our end");
	char want[256];
	snprintf(want, sizeof(want), "rbd at %s closed the connection", path);
	cr_assert_str_eq(e.msg, want);
	rbw_client_close(c);
	cr_assert_eq(wait_child(pid), 0);
	unlink(path);
}
