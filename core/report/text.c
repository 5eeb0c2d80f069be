/* text.c — text for pictures and tables: XML escaping, short model names, parameter summaries. */
#include "report/text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void rbr_xml_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			/* Control characters are not allowed in XML 1.0 even as references. */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}

const char *rbr_short_model(const char *name)
{
	const char *s = strrchr(name, '/');
	return s && s[1] ? s + 1 : name;
}

void rbr_sb_add(rbr_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	rbe_require(need >= 0);
	if (b->len + (size_t)need + 1 > b->cap) {
		b->cap = (b->len + (size_t)need + 1) * 2;
		b->s = rbe_xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)need;
}

static void scalar_text(rbr_sbuf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER: rbr_sb_add(b, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: rbr_sb_add(b, "%g", json_real_value(v)); break;
	case JSON_STRING: rbr_sb_add(b, "%s", json_string_value(v)); break;
	case JSON_TRUE: rbr_sb_add(b, "true"); break;
	case JSON_FALSE: rbr_sb_add(b, "false"); break;
	case JSON_NULL: rbr_sb_add(b, "null"); break;
	case JSON_ARRAY: rbr_sb_add(b, "[…]"); break;
	case JSON_OBJECT: rbr_sb_add(b, "{…}"); break;
	}
}

size_t rbr_utf8_prefix(const char *s, size_t max)
{
	size_t cps = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (cps == max)
				return i;
			cps++;
		}
	}
	return i;
}

size_t rbr_utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

char *rbr_params_summary(const json_t *params, size_t max_len)
{
	rbr_sbuf b = {0};
	rbr_sb_add(&b, "%s", "");
	const char *key;
	json_t *v;
	int first = 1;
	json_object_foreach((json_t *)params, key, v) {
		rbr_sb_add(&b, "%s%s=", first ? "" : ", ", key);
		first = 0;
		if (json_is_array(v) && json_array_size(v) > 4) {
			rbr_sb_add(&b, "[");
			scalar_text(&b, json_array_get(v, 0));
			rbr_sb_add(&b, " … ");
			scalar_text(&b, json_array_get(v, json_array_size(v) - 1));
			rbr_sb_add(&b, "] (%zu values)", json_array_size(v));
		} else if (json_is_array(v)) {
			rbr_sb_add(&b, "[");
			for (size_t k = 0; k < json_array_size(v); k++) {
				if (k)
					rbr_sb_add(&b, ", ");
				scalar_text(&b, json_array_get(v, k));
			}
			rbr_sb_add(&b, "]");
		} else {
			scalar_text(&b, v);
		}
	}
	if (max_len && rbr_utf8_len(b.s) > max_len) {
		size_t cut = rbr_utf8_prefix(b.s, max_len - 1);
		b.s[cut] = '\0';
		b.len = cut;
		rbr_sb_add(&b, "…");
	}
	return b.s;
}

/* Rough advance width of s in pixels: the SVG is laid out before any font is chosen, so this
 * errs wide (DejaVu Sans, the widest common sans, averages about 0.6 em). */
