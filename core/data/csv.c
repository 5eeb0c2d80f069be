/* csv.c — RFC 4180 CSV reading in place, over a buffer or streamed from a file with bounded memory,
 * with line:column for every field. */
#include "data/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- bounded buffered input -------------------------------------------------------------------- */

/* Reads at least this much at a time once the window has room. */
#define INBUF_CHUNK ((size_t)256 << 10)

void rbe_inbuf_open(rbe_inbuf *b, int fd, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->max = max ? max : 1;
}

void rbe_inbuf_free(rbe_inbuf *b)
{
	if (b->fd >= 0)
		free(b->buf);
	b->buf = NULL;
	b->pos = b->len = b->cap = 0;
}

int rbe_inbuf_more(rbe_inbuf *b)
{
	if (b->eof || b->fd < 0) {
		b->eof = 1;
		return 0;
	}
	size_t unread = b->len - b->pos;
	if (unread >= b->max)
		return -E2BIG;
	/* Move the unread bytes to the front when the tail has little room, then grow, but never
	 * past what one record of max bytes needs. */
	if (b->pos > 0 && b->cap - 1 - b->len < INBUF_CHUNK) {
		memmove(b->buf, b->buf + b->pos, unread);
		b->pos = 0;
		b->len = unread;
	}
	if (b->cap == 0 || b->cap - 1 - b->len < INBUF_CHUNK) {
		size_t cap = b->cap * 2 > INBUF_CHUNK + 1 ? b->cap * 2 : INBUF_CHUNK + 1;
		if (cap > b->max + b->pos + 1)
			cap = b->max + b->pos + 1;
		if (cap > b->cap) {
			b->buf = rbe_xrealloc(b->buf, cap);
			b->cap = cap;
		}
	}
	for (;;) {
		ssize_t n = read(b->fd, b->buf + b->len, b->cap - 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			b->eof = 1;
			b->buf[b->len] = '\0';
			return 0;
		}
		b->len += (size_t)n;
		b->buf[b->len] = '\0';
		return 1;
	}
}

/* ---- rows ------------------------------------------------------------------------------------- */

void rbe_csv_init(rbe_csv *c, char *buf, size_t len, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->in = (rbe_inbuf){.fd = -1, .buf = buf, .len = len, .cap = len + 1, .max = len + 1, .eof = 1};
	c->line = 1;
	c->col = 1;
	/* A byte-order mark is not part of the first field and takes no column. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		c->in.pos = 3;
}

void rbe_csv_stream(rbe_csv *c, const rbe_inbuf *in, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->in = *in;
	c->line = 1;
	c->col = 1;
}

void rbe_csv_done(rbe_csv *c)
{
	free(c->fields);
	c->fields = NULL;
	c->n_fields = c->cap = 0;
	rbe_inbuf_free(&c->in);
}

static int more_input(rbe_csv *c, uint32_t row_line, rbe_error *e)
{
	int r = rbe_inbuf_more(&c->in);
	if (r == -E2BIG)
		return rbe_fail(e, -EINVAL, "%s:%u: line longer than %zu bytes", c->name, row_line, c->in.max);
	if (r < 0)
		return rbe_fail(e, r, "%s: read error: %s", c->name, strerror(-r));
	return r;
}

/* Blank lines before a row, consumed and counted. 1 when a row starts at in.pos, 0 at the end. */
static int skip_blank_lines(rbe_csv *c, rbe_error *e)
{
	rbe_inbuf *in = &c->in;
	for (;;) {
		if (in->pos == in->len || (in->buf[in->pos] == '\r' && in->pos + 1 == in->len && !in->eof)) {
			int r = more_input(c, c->line, e);
			if (r < 0)
				return r;
			if (r == 0 && in->pos == in->len)
				return 0;
			continue;
		}
		char ch = in->buf[in->pos];
		if (ch != '\n' && ch != '\r')
			return 1;
		in->pos += ch == '\r' && in->pos + 1 < in->len && in->buf[in->pos + 1] == '\n' ? 2 : 1;
		c->line++;
		c->col = 1;
	}
}

enum { AT_FIELD, IN_PLAIN, IN_QUOTES, AFTER_QUOTE };

/*
 * Reads until the row at in.pos is whole in the window: up to its line end outside quotes (and
 * the byte after a CR, which may complete a CRLF), the end of the input, or, when rows are
 * checked, a NUL byte. *row_end gets the offset just past what the row needs.
 */
static int fill_row(rbe_csv *c, size_t *row_end, rbe_error *e)
{
	rbe_inbuf *in = &c->in;
	size_t rel = 0; /* scanned bytes, relative to in.pos (which more_input may move) */
	int state = AT_FIELD, stop_at_nul = c->check != NULL;
	for (;;) {
		if (in->pos + rel >= in->len) {
			if (in->eof)
				break;
			int r = more_input(c, c->line, e);
			if (r < 0)
				return r;
			continue;
		}
		const char *s = in->buf + in->pos;
		size_t n = in->len - in->pos, k = rel;
		int done = 0;
		for (; k < n && !done; k++) {
			char ch = s[k];
			if (ch == '\0' && stop_at_nul) {
				done = 1;
			} else if (state == IN_QUOTES) {
				if (ch == '"')
					state = AFTER_QUOTE;
			} else if (ch == '\n' || ch == '\r') {
				done = 1;
			} else if (ch == ',') {
				state = AT_FIELD;
			} else if (ch == '"') {
				/* Opens a field at its start; closes-or-escapes after a quote; literal otherwise. */
				state = state == AT_FIELD ? IN_QUOTES : state == AFTER_QUOTE ? IN_QUOTES : IN_PLAIN;
			} else if (state == AFTER_QUOTE) {
				done = 1; /* the parser reports the stray character */
			} else {
				state = IN_PLAIN;
			}
		}
		rel = k;
		if (!done)
			continue;
		int cr = s[k - 1] == '\r';
		if (cr && k == n && !in->eof) {
			int r = more_input(c, c->line, e);
			if (r < 0)
				return r;
		}
		if (cr && in->pos + rel < in->len && in->buf[in->pos + rel] == '\n')
			rel++;
		break;
	}
	*row_end = in->pos + rel;
	return 0;
}

static rbe_csv_field *push_field(rbe_csv *c)
{
	if (c->n_fields == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->fields = rbe_xrealloc(c->fields, c->cap * sizeof(*c->fields));
	}
	rbe_csv_field *f = &c->fields[c->n_fields++];
	memset(f, 0, sizeof(*f));
	return f;
}

/* A character for a message: printable ASCII as is, anything else as \xNN. */
static void show_char(unsigned char ch, char out[8])
{
	if (ch >= 0x20 && ch < 0x7f)
		snprintf(out, 8, "%c", ch);
	else
		snprintf(out, 8, "\\x%02x", ch);
}

/* Columns count characters: every byte that does not continue a UTF-8 sequence. */
static inline uint32_t is_char_start(unsigned char ch) { return (ch & 0xC0) != 0x80; }

/* One row from p (not at a line end); the window ends at end. Leaves c->p after the row. */
static int parse_row(rbe_csv *c, char *p, char *end, rbe_error *e)
{
	uint32_t line = c->line, col = c->col;
	c->row_line = line;

	uint32_t end_line, end_col; /* where the row's last field ends, for "too few fields" */
	for (;;) {
		rbe_csv_field *f = push_field(c);
		f->line = line;
		f->col = col;
		if (p < end && *p == '"') {
			/* Unescape in place: the write pointer trails the read pointer by at least the
			 * opening quote, so nothing unread is overwritten. */
			char *r = p + 1, *w = p;
			col++;
			f->quoted = 1;
			for (;;) {
				if (r >= end)
					return rbe_fail(e, -EINVAL,
							"%s:%u:%u: unterminated quoted field: no closing '\"' before the end of the file",
							c->name, f->line, f->col);
				unsigned char ch = (unsigned char)*r;
				if (ch == '"') {
					if (r + 1 < end && r[1] == '"') {
						*w++ = '"';
						r += 2;
						col += 2;
						continue;
					}
					r++;
					col++;
					break;
				}
				if (ch == '\n') {
					line++;
					col = 1;
				} else if (ch == '\r') {
					if (!(r + 1 < end && r[1] == '\n')) {
						line++;
						col = 1;
					}
				} else {
					col += is_char_start(ch);
				}
				*w++ = (char)ch;
				r++;
			}
			if (r < end && *r != ',' && *r != '\n' && *r != '\r') {
				char shown[8];
				show_char((unsigned char)*r, shown);
				return rbe_fail(e, -EINVAL,
						"%s:%u:%u: unexpected character '%s' after the closing quote of a field; expected ',' or the end of the line",
						c->name, line, col, shown);
			}
			f->s = p;
			f->len = (size_t)(w - p);
			*w = '\0';
			p = r;
		} else {
			char *s = p;
			while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
				col += is_char_start((unsigned char)*p);
				p++;
			}
			f->s = s;
			f->len = (size_t)(p - s);
		}

		/* p is at the delimiter or the end; read it before the NUL may replace it. */
		char d = p < end ? *p : '\0';
		if (!f->quoted)
			*p = '\0';
		if (d == ',') {
			p++;
			col++;
			continue;
		}
		end_line = line;
		end_col = col;
		if (d == '\r' && p + 1 < end && p[1] == '\n')
			p += 2;
		else if (p < end)
			p++;
		line++;
		col = 1;
		break;
	}
	c->p = p;
	c->line = line;
	c->col = col;
	c->rows++;

	if (c->n_expected == 0) {
		c->n_expected = c->n_fields;
	} else if (c->n_fields != c->n_expected) {
		uint32_t l = end_line, k = end_col;
		if (c->n_fields > c->n_expected) {
			l = c->fields[c->n_expected].line;
			k = c->fields[c->n_expected].col;
		}
		return rbe_fail(e, -EINVAL, "%s:%u:%u: expected %zu fields as in the header, got %zu", c->name, l, k,
				c->n_expected, c->n_fields);
	}
	return 1;
}

int rbe_csv_next(rbe_csv *c, rbe_error *e)
{
	c->n_fields = 0;
	int r = skip_blank_lines(c, e);
	if (r <= 0)
		return r;
	size_t row_end;
	if ((r = fill_row(c, &row_end, e)) < 0)
		return r;
	if (c->check &&
	    (r = c->check(c->check_ctx, c->in.buf + c->in.pos, row_end - c->in.pos, c->line, c->col, e)) < 0)
		return r;
	r = parse_row(c, c->in.buf + c->in.pos, c->in.buf + c->in.len, e);
	if (r > 0)
		c->in.pos = (size_t)(c->p - c->in.buf);
	return r;
}
