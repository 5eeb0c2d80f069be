/* pylit.h — RouterBench text cells: Python list-of-strings literals decoded to plain text. */
#ifndef RBE_PYLIT_H
#define RBE_PYLIT_H

#include <stddef.h>

#include "lib/util.h"

/* 1 when s[0..len) is meant as a list literal: optional blanks, '[', optional blanks, then a
 * quote or ']'. Anything else (for example "[1, 2] is a list") is plain text. */
int rbe_pylit_is_list(const char *s, size_t len);

/*
 * Decodes one cell. A list literal (rbe_pylit_is_list) becomes its string items joined by "\n",
 * with Python's escapes resolved (\\ \' \" \a \b \f \n \r \t \v, octal \ooo, \xNN, \uNNNN,
 * \UNNNNNNNN to UTF-8; a surrogate pair becomes one character, a lone surrogate U+FFFD; an
 * unknown escape keeps its backslash, as Python does). Anything else is copied verbatim.
 *
 * out has room for len + 1 bytes and may be s itself: decoding never makes the text longer.
 * Sets *out_len and NUL-terminates out. Returns 0, or -EINVAL with e saying what was expected at
 * which 0-based byte offset of s (out then holds garbage).
 */
int rbe_pylit_decode(const char *s, size_t len, char *out, size_t *out_len, rbe_error *e);

#endif
