/* pylit.c — decode Python list-of-strings literals (RouterBench prompts and responses) to text. */
#include "data/pylit.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static size_t skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && is_blank(s[i]))
		i++;
	return i;
}

int rbe_pylit_is_list(const char *s, size_t len)
{
	size_t i = skip_blanks(s, len, 0);
	if (i >= len || s[i] != '[')
		return 0;
	i = skip_blanks(s, len, i + 1);
	return i < len && (s[i] == '\'' || s[i] == '"' || s[i] == ']');
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Reads exactly n hex digits at s[i]; -1 when there are fewer. */
static long read_hex(const char *s, size_t len, size_t i, int n)
{
	long v = 0;
	for (int k = 0; k < n; k++) {
		if (i + (size_t)k >= len)
			return -1;
		int h = hex_value(s[i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xC0 | (cp >> 6));
		w[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xE0 | (cp >> 12));
		w[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		w[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	w[0] = (char)(0xF0 | (cp >> 18));
	w[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	w[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	w[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Decodes the string literal whose opening quote is at s[*pos], appending to out at *w. Every
 * escape is at least as long as its UTF-8 encoding and the quotes are dropped, so the write
 * position stays behind the read position and decoding in place is safe.
 */
static int decode_string(const char *s, size_t len, size_t *pos, char *out, size_t *w, rbe_error *e)
{
	size_t open = *pos, i = open + 1, o = *w;
	char q = s[open];
	for (;;) {
		if (i >= len)
			return rbe_fail(e, -EINVAL, "at offset %zu: string literal is never closed", open);
		char ch = s[i];
		if (ch == q) {
			i++;
			break;
		}
		if (ch != '\\') {
			out[o++] = ch;
			i++;
			continue;
		}
		size_t esc = i;
		if (i + 1 >= len)
			return rbe_fail(e, -EINVAL, "at offset %zu: string literal is never closed", open);
		char x = s[i + 1];
		i += 2;
		long cp = -1;
		switch (x) {
		case '\n': continue; /* line continuation */
		case '\r':
			if (i < len && s[i] == '\n')
				i++;
			continue;
		case '\\': out[o++] = '\\'; continue;
		case '\'': out[o++] = '\''; continue;
		case '"': out[o++] = '"'; continue;
		case 'a': out[o++] = '\a'; continue;
		case 'b': out[o++] = '\b'; continue;
		case 'f': out[o++] = '\f'; continue;
		case 'n': out[o++] = '\n'; continue;
		case 'r': out[o++] = '\r'; continue;
		case 't': out[o++] = '\t'; continue;
		case 'v': out[o++] = '\v'; continue;
		case 'x':
		case 'u':
		case 'U': {
			int n = x == 'x' ? 2 : x == 'u' ? 4 : 8;
			cp = read_hex(s, len, i, n);
			if (cp < 0)
				return rbe_fail(e, -EINVAL, "at offset %zu: truncated \\%c escape: expected %d hex digits", esc,
						x, n);
			i += (size_t)n;
			if (cp > 0x10FFFF)
				return rbe_fail(e, -EINVAL, "at offset %zu: \\U escape beyond U+10FFFF", esc);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				/* A high surrogate joins an immediately following low one. */
				long lo = -1;
				if (i + 1 < len && s[i] == '\\' && s[i + 1] == 'u')
					lo = read_hex(s, len, i + 2, 4);
				else if (i + 1 < len && s[i] == '\\' && s[i + 1] == 'U')
					lo = read_hex(s, len, i + 2, 8);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += s[i + 1] == 'u' ? 6 : 10;
				} else {
					cp = 0xFFFD;
				}
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				cp = 0xFFFD;
			}
			break;
		}
		case 'N':
			return rbe_fail(e, -EINVAL, "at offset %zu: \\N{...} named escapes are not supported", esc);
		default:
			if (x >= '0' && x <= '7') {
				cp = x - '0';
				for (int k = 0; k < 2 && i < len && s[i] >= '0' && s[i] <= '7'; k++)
					cp = cp * 8 + (s[i++] - '0');
				break;
			}
			/* Python keeps an unknown escape as it stands. */
			out[o++] = '\\';
			i--;
			continue;
		}
		if (cp == 0)
			return rbe_fail(e, -EINVAL, "at offset %zu: a NUL character cannot be stored in text", esc);
		o += put_utf8(out + o, (uint32_t)cp);
	}
	*pos = i;
	*w = o;
	return 0;
}

int rbe_pylit_decode(const char *s, size_t len, char *out, size_t *out_len, rbe_error *e)
{
	if (!rbe_pylit_is_list(s, len)) {
		if (out != s)
			memmove(out, s, len);
		out[len] = '\0';
		*out_len = len;
		return 0;
	}
	size_t i = skip_blanks(s, len, 0) + 1, o = 0;
	int items = 0;
	for (;;) {
		i = skip_blanks(s, len, i);
		if (i >= len)
			return rbe_fail(e, -EINVAL, "at offset %zu: the list is not closed with ']'", len);
		if (s[i] == ']') {
			i++;
			break;
		}
		if (s[i] != '\'' && s[i] != '"')
			return rbe_fail(e, -EINVAL, "at offset %zu: expected a quoted string or ']'", i);
		if (items++)
			out[o++] = '\n';
		/* Adjacent literals ('a' 'b') are one item, as in Python. */
		do {
			int r = decode_string(s, len, &i, out, &o, e);
			if (r < 0)
				return r;
			i = skip_blanks(s, len, i);
		} while (i < len && (s[i] == '\'' || s[i] == '"'));
		if (i >= len)
			return rbe_fail(e, -EINVAL, "at offset %zu: the list is not closed with ']'", len);
		if (s[i] == ',') {
			i++;
			continue;
		}
		if (s[i] != ']')
			return rbe_fail(e, -EINVAL, "at offset %zu: expected ',' or ']' after a list item", i);
	}
	i = skip_blanks(s, len, i);
	if (i < len)
		return rbe_fail(e, -EINVAL, "at offset %zu: unexpected text after the closing ']'", i);
	out[o] = '\0';
	*out_len = o;
	return 0;
}
