/* test_csv.c — the RFC 4180 reader: quoting, line ends, positions and its three errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csv.h"
#include "trickle.h"

/* A reader over a private copy of text (the reader rewrites its buffer). */
typedef struct fixture {
	rbe_csv c;
	char *buf;
	rbe_error e;
} fixture;

static void open_text(fixture *f, const char *text, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->buf = malloc(len + 1);
	memcpy(f->buf, text, len);
	f->buf[len] = '\0';
	rbe_csv_init(&f->c, f->buf, len, "t.csv");
}

static void close_text(fixture *f)
{
	rbe_csv_done(&f->c);
	free(f->buf);
}

#define OPEN(f, lit) open_text(f, lit, sizeof(lit) - 1)

static void expect_field(const rbe_csv *c, size_t k, const char *text, uint32_t line, uint32_t col)
{
	cr_assert_lt(k, c->n_fields, "field %zu of %zu", k, c->n_fields);
	const rbe_csv_field *f = &c->fields[k];
	cr_assert_eq(f->len, strlen(text), "field %zu: length %zu, want %zu (%s)", k, f->len, strlen(text), f->s);
	cr_assert_str_eq(f->s, text);
	cr_assert_eq(f->line, line, "field %zu: line %u, want %u", k, f->line, line);
	cr_assert_eq(f->col, col, "field %zu: column %u, want %u", k, f->col, col);
}

Test(csv, plain_rows_and_positions)
{
	fixture f;
	OPEN(&f, "a,bb,c\n1,22,333\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.n_fields, 3);
	expect_field(&f.c, 0, "a", 1, 1);
	expect_field(&f.c, 1, "bb", 1, 3);
	expect_field(&f.c, 2, "c", 1, 6);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 2);
	expect_field(&f.c, 0, "1", 2, 1);
	expect_field(&f.c, 1, "22", 2, 3);
	expect_field(&f.c, 2, "333", 2, 6);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0, "the end stays the end");
	close_text(&f);
}

Test(csv, quoted_fields_and_doubled_quotes)
{
	fixture f;
	OPEN(&f, "x,y,z\n\"a,b\",\"say \"\"hi\"\"\",\"\"\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "a,b", 2, 1);
	expect_field(&f.c, 1, "say \"hi\"", 2, 7);
	expect_field(&f.c, 2, "", 2, 20);
	cr_assert(f.c.fields[0].quoted && f.c.fields[2].quoted);
	close_text(&f);
}

Test(csv, quoted_newlines_count_lines)
{
	fixture f;
	OPEN(&f, "h1,h2\n\"line1\nline2\",b\nc,d\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 2);
	expect_field(&f.c, 0, "line1\nline2", 2, 1);
	expect_field(&f.c, 1, "b", 3, 8);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 4);
	expect_field(&f.c, 0, "c", 4, 1);
	close_text(&f);
}

Test(csv, crlf_line_ends)
{
	fixture f;
	OPEN(&f, "a,b\r\n1,\"x\r\ny\"\r\n2,3\r\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 1, "b", 1, 3);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "1", 2, 1);
	expect_field(&f.c, 1, "x\r\ny", 2, 3); /* a quoted CRLF is data */
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "2", 4, 1);
	expect_field(&f.c, 1, "3", 4, 3);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	close_text(&f);
}

Test(csv, lone_cr_ends_a_line)
{
	fixture f;
	OPEN(&f, "a,b\r1,2\r");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 1, "2", 2, 3);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	close_text(&f);
}

Test(csv, byte_order_mark_is_skipped)
{
	fixture f;
	OPEN(&f, "\xEF\xBB\xBF" "a,b\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "a", 1, 1);
	expect_field(&f.c, 1, "b", 1, 3);
	close_text(&f);
}

Test(csv, columns_count_utf8_characters)
{
	fixture f;
	OPEN(&f, "\xC3\xA9t\xC3\xA9,\xF0\x9F\x98\x80,x\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "\xC3\xA9t\xC3\xA9", 1, 1);
	expect_field(&f.c, 1, "\xF0\x9F\x98\x80", 1, 5);
	expect_field(&f.c, 2, "x", 1, 7);
	close_text(&f);
}

Test(csv, empty_fields_and_missing_final_newline)
{
	fixture f;
	OPEN(&f, "a,b,c\n,,\n1,,3");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.n_fields, 3);
	expect_field(&f.c, 0, "", 2, 1);
	expect_field(&f.c, 1, "", 2, 2);
	expect_field(&f.c, 2, "", 2, 3);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "1", 3, 1);
	expect_field(&f.c, 1, "", 3, 3);
	expect_field(&f.c, 2, "3", 3, 4);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	close_text(&f);
}

Test(csv, trailing_comma_at_end_of_input_is_an_empty_field)
{
	fixture f;
	OPEN(&f, "a,b\n1,");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 1, "", 2, 3);
	close_text(&f);
}

Test(csv, blank_lines_are_skipped)
{
	fixture f;
	OPEN(&f, "\na,b\n\n1,2\n\r\n3,4\n\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 2);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 4);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(f.c.row_line, 6);
	expect_field(&f.c, 1, "4", 6, 3);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	cr_assert_eq(f.c.rows, 3);
	close_text(&f);
}

Test(csv, quote_inside_unquoted_field_is_literal)
{
	fixture f;
	OPEN(&f, "ab\"c,d\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	expect_field(&f.c, 0, "ab\"c", 1, 1);
	expect_field(&f.c, 1, "d", 1, 6);
	close_text(&f);
}

Test(csv, fields_stay_valid_across_rows)
{
	fixture f;
	OPEN(&f, "a,\"b\"\"\"\nc,d\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	char *first = f.c.fields[0].s, *second = f.c.fields[1].s;
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_str_eq(first, "a");
	cr_assert_str_eq(second, "b\"");
	close_text(&f);
}

Test(csv, empty_input_has_no_rows)
{
	fixture f;
	OPEN(&f, "");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	close_text(&f);
	OPEN(&f, "\xEF\xBB\xBF\n\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 0);
	close_text(&f);
}

Test(csv, preset_field_count_applies_to_the_first_row)
{
	fixture f;
	OPEN(&f, "a,b\n");
	f.c.n_expected = 3;
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	cr_assert_str_eq(f.e.msg, "t.csv:1:4: expected 3 fields as in the header, got 2");
	close_text(&f);
}

Test(csv, error_unterminated_quote)
{
	fixture f;
	OPEN(&f, "a,b\n1,\"open\n2,3\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	cr_assert_eq(f.e.code, -EINVAL);
	cr_assert_str_eq(f.e.msg, "t.csv:2:3: unterminated quoted field: no closing '\"' before the end of the file");
	close_text(&f);
}

Test(csv, error_garbage_after_closing_quote)
{
	fixture f;
	OPEN(&f, "a,b\n\"x\"y,2\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	cr_assert_str_eq(f.e.msg, "t.csv:2:4: unexpected character 'y' after the closing quote of a field; expected ',' or the end of the line");
	close_text(&f);

	/* A character that is not printable is shown escaped; the column counts the é. */
	OPEN(&f, "\xC3\xA9,\"x\"\t\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	cr_assert_str_eq(f.e.msg, "t.csv:1:6: unexpected character '\\x09' after the closing quote of a field; expected ',' or the end of the line");
	close_text(&f);
}

Test(csv, error_too_many_fields)
{
	fixture f;
	OPEN(&f, "a,b\n1,2\n3,4,5,6\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	cr_assert_str_eq(f.e.msg, "t.csv:3:5: expected 2 fields as in the header, got 4");
	close_text(&f);
}

Test(csv, error_too_few_fields)
{
	fixture f;
	OPEN(&f, "a,b,c\n\"multi\nline\",2\n");
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), 1);
	cr_assert_eq(rbe_csv_next(&f.c, &f.e), -EINVAL);
	/* Reported where the short row ends. */
	cr_assert_str_eq(f.e.msg, "t.csv:3:8: expected 3 fields as in the header, got 2");
	close_text(&f);
}

/* ---- streaming from a file descriptor ------------------------------------------------------------ */

/* Every field of every row until the end (or an error, appended as "!message"). Owned: free. */
static char *all_fields(rbe_csv *c)
{
	size_t cap = 4096, n = 0;
	char *out = calloc(1, cap);
	rbe_error e = {0};
	int r;
	while ((r = rbe_csv_next(c, &e)) > 0) {
		for (size_t k = 0; k < c->n_fields; k++) {
			const rbe_csv_field *f = &c->fields[k];
			while (n + f->len + 64 > cap)
				out = realloc(out, cap *= 2);
			n += (size_t)snprintf(out + n, cap - n, "%u:%u:%d=", f->line, f->col, f->quoted);
			memcpy(out + n, f->s, f->len);
			n += f->len;
			out[n++] = k + 1 < c->n_fields ? '|' : '\n';
			out[n] = '\0';
		}
	}
	if (r < 0) {
		out = realloc(out, n + strlen(e.msg) + 2);
		sprintf(out + n, "!%s", e.msg);
	}
	return out;
}

/* Rows seen by the check callback: their count and the concatenated raw bytes. */
typedef struct seen_rows {
	size_t n;
	char raw[1024];
	uint32_t first_line, first_col;
} seen_rows;

static int note_row(void *ctx, const char *s, size_t n, uint32_t line, uint32_t col, rbe_error *e)
{
	seen_rows *seen = ctx;
	(void)e;
	if (seen->n++ == 0) {
		seen->first_line = line;
		seen->first_col = col;
	}
	strncat(seen->raw, s, n < sizeof(seen->raw) - strlen(seen->raw) - 1 ? n : 0);
	return 0;
}

static char *stream_fields(const char *text, size_t len, size_t max, seen_rows *seen)
{
	trickle t;
	int fd = trickle_start(&t, text, len);
	rbe_inbuf in;
	rbe_inbuf_open(&in, fd, max);
	rbe_csv c;
	rbe_csv_stream(&c, &in, "t.csv");
	if (seen) {
		c.check = note_row;
		c.check_ctx = seen;
	}
	char *out = all_fields(&c);
	rbe_csv_done(&c);
	/* Drain what an error left unread, so the writer can finish. */
	char sink[256];
	while (read(fd, sink, sizeof(sink)) > 0)
		;
	trickle_join(&t);
	close(fd);
	return out;
}

Test(csv, streamed_rows_match_the_buffer_whatever_the_cuts)
{
	static const char *const texts[] = {
		"a,bb,c\n1,22,333\n",
		"\n\r\n\ra,b\r\n\"x\r\ny\",\"q\"\"q\"\r\n\r\nlast,row",
		"a,b\r1,2\r",
		"h\n\"multi\nline\nfield\"\n\n\nplain\n",
		"x,y\nab\"c,\"\"\n\"\",\n",
		"a,b\n1,\"open\n2,3\n",
		"a,b\n\"x\"y,2\n",
		"a,b\n1,2\n3,4,5\n",
		"",
		"\n\n\n",
	};
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		size_t len = strlen(texts[k]);
		fixture f;
		open_text(&f, texts[k], len);
		char *want = all_fields(&f.c);
		close_text(&f);
		char *got = stream_fields(texts[k], len, 1 << 20, NULL);
		cr_assert_str_eq(got, want, "text %zu", k);
		free(got);
		free(want);
	}
}

Test(csv, streamed_rows_are_checked_whole_and_bounded)
{
	static const char text[] = "\n\na,b\n\"one\ntwo\",x\r\n1,2";
	seen_rows seen = {0};
	char *got = stream_fields(text, sizeof(text) - 1, 1 << 20, &seen);
	cr_assert_str_eq(got, "3:1:0=a|3:3:0=b\n4:1:1=one\ntwo|5:6:0=x\n6:1:0=1|6:3:0=2\n");
	cr_assert_eq(seen.n, 3);
	cr_assert_eq(seen.first_line, 3);
	cr_assert_eq(seen.first_col, 1);
	cr_assert_str_eq(seen.raw, "a,b\n\"one\ntwo\",x\r\n1,2", "each row's bytes, line ends included, blank lines not");
	free(got);

	/* A row over the limit is named by the line it starts on, quoted newlines or not. */
	got = stream_fields("a,b\n123456789,x\n", 16, 8, NULL);
	cr_assert_str_eq(got, "1:1:0=a|1:3:0=b\n!t.csv:2: line longer than 8 bytes");
	free(got);
	got = stream_fields("a,b\n\"1\n2\n3\n4\n5\",x\n", 18, 8, NULL);
	cr_assert_str_eq(got, "1:1:0=a|1:3:0=b\n!t.csv:2: line longer than 8 bytes");
	free(got);
}
