/* text.h — text for pictures and tables: XML escaping, short model names, parameter summaries. */
#ifndef RBR_TEXT_H
#define RBR_TEXT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Router parameters as short text: "k=40, feature=any"; long lists become
 * "[0.001 … 100] (11 values)". Owned: free. max_len 0 = no limit, else cut with "…". */
char *rbr_params_summary(const json_t *params, size_t max_len);
/* A model name without its organisation prefix ("mistralai/mixtral-8x7b-chat" → "mixtral-8x7b-chat"). */
const char *rbr_short_model(const char *name);

/* Write s escaped for XML/HTML text and attribute values (& < > " '). */
void rbr_xml_escape(FILE *out, const char *s);

/* A growable string: start from {0}; s is owned (free) and NUL-terminated once anything, even
 * "", has been added. */
typedef struct rbr_sbuf {
	char *s;
	size_t len, cap;
} rbr_sbuf;
void rbr_sb_add(rbr_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Code points in UTF-8 text, and the byte length of its longest prefix of at most max of them. */
size_t rbr_utf8_len(const char *s);
size_t rbr_utf8_prefix(const char *s, size_t max);

#endif
