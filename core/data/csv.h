/* csv.h — an RFC 4180 CSV reader, over a buffer or streamed from a file, that knows the line:column
 * of every field; and the bounded buffered input under it. */
#ifndef RBE_CSV_H
#define RBE_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/* One field of the current row. The text is unescaped in place and NUL-terminated inside the
 * buffer: over a caller's buffer it stays valid as long as that does (across rows too); when
 * streaming, until the next row is read. */
typedef struct rbe_csv_field {
	char *s;       /* borrowed from the buffer; may be modified by the caller (e.g. decoded in place) */
	size_t len;    /* bytes, without the NUL */
	uint32_t line; /* 1-based line of the field's first character (its opening quote if quoted) */
	uint32_t col;  /* 1-based column of that character, counted in UTF-8 characters */
	int quoted;
} rbe_csv_field;

/*
 * Buffered reading of a file descriptor a record at a time, so memory stays bounded by the
 * longest record rather than the file. The unread bytes are buf[pos..len), always followed by
 * one writable byte.
 */
typedef struct rbe_inbuf {
	int fd;            /* -1 for a fixed buffer that already holds everything */
	char *buf;         /* owned when fd >= 0 */
	size_t pos, len, cap;
	size_t max;        /* most unread bytes one record may need */
	int eof;
} rbe_inbuf;

/* A reader of fd (borrowed: the caller closes it) for records of at most max bytes; reads
 * nothing yet. */
void rbe_inbuf_open(rbe_inbuf *b, int fd, size_t max);
/* Reads more input after buf[len]: 1 when bytes were added, 0 at the end of the input, -E2BIG
 * when max bytes are already unread, else -errno of the failed read. May move the unread bytes
 * to the front of buf: pointers into it become invalid. */
int rbe_inbuf_more(rbe_inbuf *b);
void rbe_inbuf_free(rbe_inbuf *b);

/*
 * The reader. Quoted fields ("..."), "" escapes, newlines inside quotes, LF, CRLF or a lone CR
 * as line ends and a leading UTF-8 byte-order mark are accepted; a quote inside an unquoted
 * field is kept literally. Empty lines between rows are skipped. Every row must have as many
 * fields as the first one (the header) unless `n_expected` is set before the first row.
 */
typedef struct rbe_csv {
	const char *name;      /* borrowed: file name used in messages */
	rbe_inbuf in;          /* the input; a row is parsed in place in in.buf */
	char *p;               /* where the row being parsed ends */
	uint32_t line, col;    /* position of in.buf[in.pos] */
	size_t n_expected;     /* fields per row; 0 until the first row sets it */
	rbe_csv_field *fields; /* [n_fields] of the current row; owned, released by rbe_csv_done */
	size_t n_fields, cap;
	uint32_t row_line;     /* line on which the current row starts */
	size_t rows;           /* rows returned so far, the header included */
	/* Optional: called with each row's raw bytes (its line end included; a streamed row also
	 * stops after a NUL byte) and where they start, before the row is parsed; a negative
	 * return (with e filled) is returned by rbe_csv_next. */
	int (*check)(void *ctx, const char *s, size_t n, uint32_t line, uint32_t col, rbe_error *e);
	void *check_ctx;
} rbe_csv;

/* The longest row rbe_csv_stream accepts unless told otherwise. */
#define RBE_CSV_MAX_ROW ((size_t)64 << 20)

/* Over a whole buffer: buf[len] must exist and be writable (rbe_read_file leaves a NUL there):
 * the last field is terminated in it. The buffer is rewritten while reading and stays the
 * caller's; fields stay valid as long as it does. name is borrowed. */
void rbe_csv_init(rbe_csv *c, char *buf, size_t len, const char *name);
/* Streaming from in, which the reader takes over (released by rbe_csv_done; a byte-order mark
 * must already be skipped): fields are valid only until the next call of rbe_csv_next. A row
 * longer than in->max bytes is an error naming name:line. */
void rbe_csv_stream(rbe_csv *c, const rbe_inbuf *in, const char *name);
/* Reads the next row into c->fields. Returns 1 for a row, 0 at the end of the input, or a
 * negative errno (-EINVAL for malformed input) with e naming name:line:column and the problem. */
int rbe_csv_next(rbe_csv *c, rbe_error *e);
void rbe_csv_done(rbe_csv *c); /* releases the field array and a streamed input */

#endif
