/* csv.c — RFC 4180 CSV reading in place over a buffer, with line:column for every field. */
#include "data/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rbe_csv_init(rbe_csv *c, char *buf, size_t len, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->p = buf;
	c->end = buf + len;
	c->line = 1;
	c->col = 1;
	/* A byte-order mark is not part of the first field and takes no column. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		c->p += 3;
}

void rbe_csv_done(rbe_csv *c)
{
	free(c->fields);
	c->fields = NULL;
	c->n_fields = c->cap = 0;
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

int rbe_csv_next(rbe_csv *c, rbe_error *e)
{
	char *p = c->p, *end = c->end;
	uint32_t line = c->line, col = c->col;

	while (p < end && (*p == '\n' || *p == '\r')) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			p++;
		p++;
		line++;
		col = 1;
	}
	c->n_fields = 0;
	if (p >= end) {
		c->p = p;
		c->line = line;
		c->col = col;
		return 0;
	}
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
