/* test_pylit.c — Python list-of-strings literals: detection, escapes, joining and errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data/pylit.h"

/* Decodes into a separate buffer and, independently, in place; both must agree. */
static void expect_decode(const char *in, const char *want)
{
	size_t len = strlen(in), got_len = 0;
	char *out = malloc(len + 1);
	rbe_error e = {0};
	int r = rbe_pylit_decode(in, len, out, &got_len, &e);
	cr_assert_eq(r, 0, "decoding <%s> failed: %s", in, e.msg);
	cr_assert_eq(got_len, strlen(want), "decoding <%s>: length %zu, want %zu (<%s>)", in, got_len, strlen(want), out);
	cr_assert_str_eq(out, want, "decoding <%s>", in);

	char *buf = malloc(len + 1);
	memcpy(buf, in, len + 1);
	cr_assert_eq(rbe_pylit_decode(buf, len, buf, &got_len, &e), 0);
	cr_assert_str_eq(buf, want, "in place <%s>", in);
	free(buf);
	free(out);
}

static void expect_error(const char *in, const char *msg)
{
	size_t len = strlen(in), got_len;
	char *out = malloc(len + 1);
	rbe_error e = {0};
	cr_assert_eq(rbe_pylit_decode(in, len, out, &got_len, &e), -EINVAL, "<%s> should fail", in);
	cr_assert_eq(e.code, -EINVAL);
	cr_assert_str_eq(e.msg, msg, "<%s>", in);
	free(out);
}

Test(pylit, detects_list_literals)
{
	cr_assert(rbe_pylit_is_list("['a']", 5));
	cr_assert(rbe_pylit_is_list("  [ \"a\"]", 8));
	cr_assert(rbe_pylit_is_list("[]", 2));
	cr_assert(rbe_pylit_is_list("[\n 'a']", 7));
	cr_assert_not(rbe_pylit_is_list("[1, 2] is a list", 16));
	cr_assert_not(rbe_pylit_is_list("plain", 5));
	cr_assert_not(rbe_pylit_is_list("", 0));
	cr_assert_not(rbe_pylit_is_list("[", 1));
	cr_assert_not(rbe_pylit_is_list("x ['a']", 7));
}

Test(pylit, plain_text_is_verbatim)
{
	expect_decode("Write a function.", "Write a function.");
	expect_decode("[1, 2] is a list", "[1, 2] is a list");
	expect_decode("[,]", "[,]");
	expect_decode("back\\slash \\n stays", "back\\slash \\n stays");
	expect_decode("", "");
	expect_decode("line\nbreak", "line\nbreak");
}

Test(pylit, single_and_double_quoted_items)
{
	expect_decode("['Write a python function.']", "Write a python function.");
	expect_decode("[\"It's here\"]", "It's here");
	expect_decode("['say \"hi\"']", "say \"hi\"");
	expect_decode("  [ 'padded' ]  ", "padded");
	expect_decode("[]", "");
	expect_decode("['']", "");
}

Test(pylit, simple_escapes)
{
	expect_decode("['a\\nb\\tc']", "a\nb\tc");
	expect_decode("['it\\'s']", "it's");
	expect_decode("[\"q\\\"q\"]", "q\"q");
	expect_decode("['back\\\\slash']", "back\\slash");
	expect_decode("['\\r\\a\\b\\f\\v']", "\r\a\b\f\v");
	expect_decode("['\\\\n is not a newline']", "\\n is not a newline");
}

Test(pylit, numeric_escapes_to_utf8)
{
	expect_decode("['\\x41\\x7e']", "A~");
	expect_decode("['caf\\xe9']", "caf\xC3\xA9");
	expect_decode("['\\u00e9\\u20AC']", "\xC3\xA9\xE2\x82\xAC");
	expect_decode("['\\U0001F600']", "\xF0\x9F\x98\x80");
	expect_decode("['\\101\\7\\60']", "A\a0");
	expect_decode("['\\777']", "\xC7\xBF"); /* octal up to 0o777, as Python */
}

Test(pylit, surrogates)
{
	expect_decode("['\\ud83d\\ude00']", "\xF0\x9F\x98\x80");
	expect_decode("['\\ud83dx']", "\xEF\xBF\xBDx");
	expect_decode("['\\ude00']", "\xEF\xBF\xBD");
}

Test(pylit, raw_utf8_and_unknown_escapes_pass_through)
{
	expect_decode("['\xC3\xA9t\xC3\xA9']", "\xC3\xA9t\xC3\xA9");
	expect_decode("['\\d+\\s']", "\\d+\\s");
	expect_decode("['a\\\nb']", "ab"); /* line continuation */
}

Test(pylit, items_are_joined_by_newlines)
{
	expect_decode("['first', 'second']", "first\nsecond");
	expect_decode("['a', \"b\", 'c',]", "a\nb\nc");
	expect_decode("[\n  'a',\n  'b'\n]", "a\nb");
	expect_decode("['', '']", "\n");
	expect_decode("['adj' \"acent\", 'x']", "adjacent\nx");
}

Test(pylit, error_unterminated_string)
{
	expect_error("['abc", "at offset 1: string literal is never closed");
	expect_error("['ok', \"no end]", "at offset 7: string literal is never closed");
	expect_error("['ends in backslash\\", "at offset 1: string literal is never closed");
}

Test(pylit, error_bad_escapes)
{
	expect_error("['x\\x4']", "at offset 3: truncated \\x escape: expected 2 hex digits");
	expect_error("['\\u12g4']", "at offset 2: truncated \\u escape: expected 4 hex digits");
	expect_error("['\\U00110000']", "at offset 2: \\U escape beyond U+10FFFF");
	expect_error("['\\N{BULLET}']", "at offset 2: \\N{...} named escapes are not supported");
	expect_error("['a\\x00']", "at offset 3: a NUL character cannot be stored in text");
	expect_error("['\\0']", "at offset 2: a NUL character cannot be stored in text");
}

Test(pylit, error_list_structure)
{
	expect_error("['a' 'b' 5]", "at offset 9: expected ',' or ']' after a list item");
	expect_error("['a', 5]", "at offset 6: expected a quoted string or ']'");
	expect_error("['a',", "at offset 5: the list is not closed with ']'");
	expect_error("['a'", "at offset 4: the list is not closed with ']'");
	expect_error("['a'] trailing", "at offset 6: unexpected text after the closing ']'");
}
