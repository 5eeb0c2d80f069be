/* csv.h — an RFC 4180 CSV reader over a mutable buffer that knows the line:column of every field. */
#ifndef RBE_CSV_H
#define RBE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* One field of the current row. The text is unescaped in place and NUL-terminated inside the
 * caller's buffer, so it stays valid as long as the buffer does (across rows too). */
typedef struct rbe_csv_field {
	char *s;       /* borrowed from the buffer; may be modified by the caller (e.g. decoded in place) */
	size_t len;    /* bytes, without the NUL */
	uint32_t line; /* 1-based line of the field's first character (its opening quote if quoted) */
	uint32_t col;  /* 1-based column of that character, counted in UTF-8 characters */
	int quoted;
} rbe_csv_field;

/*
 * The reader. Quoted fields ("..."), "" escapes, newlines inside quotes, LF, CRLF or a lone CR
 * as line ends and a leading UTF-8 byte-order mark are accepted; a quote inside an unquoted
 * field is kept literally. Empty lines between rows are skipped. Every row must have as many
 * fields as the first one (the header) unless `n_expected` is set before the first row.
 */
typedef struct rbe_csv {
	const char *name;      /* borrowed: file name used in messages */
	char *p, *end;         /* unread part of the buffer */
	uint32_t line, col;    /* position of p */
	size_t n_expected;     /* fields per row; 0 until the first row sets it */
	rbe_csv_field *fields; /* [n_fields] of the current row; owned, released by rbe_csv_done */
	size_t n_fields, cap;
	uint32_t row_line;     /* line on which the current row starts */
	size_t rows;           /* rows returned so far, the header included */
} rbe_csv;

/* buf[len] must exist and be writable (rbe_read_file leaves a NUL there): the last field is
 * terminated in it. The buffer is rewritten while reading. name is borrowed. */
void rbe_csv_init(rbe_csv *c, char *buf, size_t len, const char *name);
/* Reads the next row into c->fields. Returns 1 for a row, 0 at the end of the input, or -EINVAL
 * with e naming name:line:column and the problem. */
int rbe_csv_next(rbe_csv *c, rbe_error *e);
void rbe_csv_done(rbe_csv *c); /* releases the field array; the buffer stays the caller's */

#endif
