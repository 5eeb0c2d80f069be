/* options.c — table-driven command-line options over getopt_long: parsing, value checks, --help. */
#include "lib/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long returns this plus the table index for a long option, so no letter can clash. */
#define LONG_BASE 0x10000

static int at_end(const rbe_opt *o) { return !o->name && !o->short_name; }

static size_t count(const rbe_opt *opts)
{
	size_t n = 0;
	while (!at_end(&opts[n]))
		n++;
	return n;
}

static int takes_value(const rbe_opt *o) { return o->kind != RBE_ARG_FLAG && o->kind != RBE_ARG_HELP; }

/* How errors name an option: "--name", else "-x". */
static const char *label(const rbe_opt *o, char *buf, size_t size)
{
	if (o->name)
		snprintf(buf, size, "--%s", o->name);
	else
		snprintf(buf, size, "-%c", o->short_name);
	return buf;
}

void rbe_opt_list_clear(rbe_opt_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void list_add(rbe_opt_list *l, const char *s)
{
	l->items = rbe_xrealloc(l->items, (l->n + 2) * sizeof(char *));
	l->items[l->n++] = s;
	l->items[l->n] = NULL;
}

int rbe_opt_parse_uint(const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out, rbe_error *e)
{
	uint64_t v;
	if (rbe_parse_uint(text, max, &v) < 0 || v < min)
		return rbe_fail(e, -EINVAL, "%s: '%s' is not a whole number between %llu and %llu", opt, text,
				(unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* "between 0 and 1", "strictly between 0 and 1", "in (0, 1]", ">= 0", "> 0". */
static void range_text(double lo, double hi, unsigned flags, char *buf, size_t size)
{
	int open_lo = !!(flags & RBE_OPT_OPEN_LO), open_hi = !!(flags & RBE_OPT_OPEN_HI);
	if (isinf(hi))
		snprintf(buf, size, "%s %g", open_lo ? ">" : ">=", lo);
	else if (open_lo == open_hi)
		snprintf(buf, size, "%sbetween %g and %g", open_lo ? "strictly " : "", lo, hi);
	else
		snprintf(buf, size, "in %c%g, %g%c", open_lo ? '(' : '[', lo, hi, open_hi ? ')' : ']');
}

int rbe_opt_parse_double(const char *opt, const char *text, double lo, double hi, unsigned flags, double *out,
			 rbe_error *e)
{
	char *end = NULL;
	double v = strtod(text, &end);
	int ok = end != text && !*end && isfinite(v) && v >= lo && v <= hi;
	if (ok && (((flags & RBE_OPT_OPEN_LO) && v == lo) || ((flags & RBE_OPT_OPEN_HI) && v == hi)))
		ok = 0;
	if (!ok) {
		char range[96];
		range_text(lo, hi, flags, range, sizeof(range));
		return rbe_fail(e, -EINVAL, "%s: '%s' is not a number %s", opt, text, range);
	}
	*out = v;
	return 0;
}

/* Store one occurrence's value; 0 or -EINVAL with e. */
static int apply(rbe_opt *o, const char *arg, rbe_error *e)
{
	char b[128];
	uint64_t u = 0;
	switch (o->kind) {
	case RBE_ARG_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case RBE_ARG_STRING:
		*(const char **)o->dest = arg;
		return 0;
	case RBE_ARG_UINT:
		rbe_require(o->size == sizeof(uint32_t) || o->size == sizeof(uint64_t));
		rbe_require(o->size == sizeof(uint64_t) || o->max <= UINT32_MAX);
		if (rbe_opt_parse_uint(label(o, b, sizeof(b)), arg, o->min, o->max, &u, e) < 0)
			return -EINVAL;
		if (o->size == sizeof(uint32_t))
			*(uint32_t *)o->dest = (uint32_t)u;
		else
			*(uint64_t *)o->dest = u;
		return 0;
	case RBE_ARG_DOUBLE:
		return rbe_opt_parse_double(label(o, b, sizeof(b)), arg, o->lo, o->hi, o->flags, o->dest, e) < 0 ? -EINVAL : 0;
	case RBE_ARG_LIST:
		list_add(o->dest, arg);
		return 0;
	case RBE_ARG_CALL:
		if (o->fn(o, arg, e) < 0) {
			rbe_error_prefix(e, "%s", label(o, b, sizeof(b)));
			return -EINVAL;
		}
		return 0;
	case RBE_ARG_HELP:
		return 0;
	}
	rbe_require(!"an option kind");
}

/* The long options the text could abbreviate; more than one makes it ambiguous. */
static size_t prefix_matches(const rbe_opt *opts, const char *text, char *names, size_t size)
{
	size_t len = strcspn(text, "="), n = 0;
	names[0] = '\0';
	for (const rbe_opt *o = opts; !at_end(o); o++) {
		if (o->name && !strncmp(o->name, text, len)) {
			size_t used = strlen(names);
			snprintf(names + used, size - used, "%s--%s", n ? ", " : "", o->name);
			n++;
		}
	}
	return n;
}

/* getopt_long's complaint (c is ':' or '?') put into words naming the option as typed. */
static int refuse(const rbe_opt *opts, int c, char **argv, rbe_error *e)
{
	const char *typed = optind > 0 ? argv[optind - 1] : "";
	if (optopt >= LONG_BASE) {
		const rbe_opt *o = &opts[optopt - LONG_BASE];
		if (c == ':')
			return rbe_fail(e, -EINVAL, "option --%s needs a value", o->name);
		return rbe_fail(e, -EINVAL, "option --%s takes no value", o->name);
	}
	if (optopt) /* a letter: typed may be a cluster such as -qx */
		return c == ':' ? rbe_fail(e, -EINVAL, "option -%c needs a value", optopt)
				: rbe_fail(e, -ENOENT, "unknown option '-%c'", optopt);
	char names[512];
	int len = (int)strcspn(typed, "=");
	if (!strncmp(typed, "--", 2) && prefix_matches(opts, typed + 2, names, sizeof(names)) > 1)
		return rbe_fail(e, -ENOENT, "option '%.*s' is ambiguous (%s)", len, typed, names);
	return rbe_fail(e, -ENOENT, "unknown option '%.*s'", len, typed);
}

/* The optstring: ':' first (report a missing value as ':'), then each letter, ':' after one
 * that takes a value. Owned: free. */
static char *short_options(const rbe_opt *opts, size_t n)
{
	char *s = rbe_xmalloc(2 + 2 * n + 1), *p = s;
	*p++ = ':';
	for (size_t k = 0; k < n; k++) {
		if (!opts[k].short_name)
			continue;
		*p++ = opts[k].short_name;
		if (takes_value(&opts[k]))
			*p++ = ':';
	}
	*p = '\0';
	return s;
}

static const rbe_opt *by_letter(const rbe_opt *opts, int c)
{
	for (const rbe_opt *o = opts; !at_end(o); o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

int rbe_opts_parse(rbe_opt *opts, int argc, char **argv, int *first, rbe_error *e)
{
	size_t n = count(opts);
	struct option *longs = rbe_xcalloc(n + 1, sizeof(*longs));
	size_t n_longs = 0;
	for (size_t k = 0; k < n; k++) {
		opts[k].given = 0;
		if (opts[k].name)
			longs[n_longs++] = (struct option){opts[k].name, takes_value(&opts[k]) ? required_argument : no_argument,
							   NULL, LONG_BASE + (int)k};
	}
	char *shorts = short_options(opts, n);
	int c, rc = 0;
	optind = 0; /* 0, not 1: glibc then starts afresh, as a second parse in one process needs */
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		rbe_opt *o = c >= LONG_BASE ? &opts[c - LONG_BASE] : (rbe_opt *)by_letter(opts, c);
		if (c == ':' || c == '?' || !o) {
			rc = refuse(opts, c, argv, e);
			break;
		}
		o->given++;
		if (o->kind == RBE_ARG_HELP)
			rc = RBE_OPTS_HELP;
		else
			rc = apply(o, optarg, e);
	}
	if (rc == 0)
		*first = optind;
	free(shorts);
	free(longs);
	return rc;
}

unsigned rbe_opts_given(const rbe_opt *opts, const char *name)
{
	for (const rbe_opt *o = opts; !at_end(o); o++)
		if (o->name && !strcmp(o->name, name))
			return o->given;
	return 0;
}

/* "  -o, --output FILE" or "      --seed S": the part before the help column. */
static int left_part(const rbe_opt *o, char *buf, size_t size)
{
	char shortp[8] = "    ";
	if (o->short_name)
		snprintf(shortp, sizeof(shortp), "-%c%s", o->short_name, o->name ? ", " : "");
	int n = snprintf(buf, size, "  %s%s%s%s%s", shortp, o->name ? "--" : "", o->name ? o->name : "",
			 o->metavar ? " " : "", o->metavar ? o->metavar : "");
	return n < 0 ? 0 : n;
}

/* Options longer than this put their help after two spaces instead of in the column. */
#define MAX_COLUMN 26

void rbe_opts_help(FILE *out, const rbe_opt *opts)
{
	char left[256];
	int column = 0;
	for (const rbe_opt *o = opts; !at_end(o); o++) {
		int w = left_part(o, left, sizeof(left));
		if (w <= MAX_COLUMN && w > column)
			column = w;
	}
	column += 2;
	for (const rbe_opt *o = opts; !at_end(o); o++) {
		int w = left_part(o, left, sizeof(left));
		const char *help = o->help ? o->help : "";
		fprintf(out, "%s%*s", left, w < column ? column - w : 2, "");
		for (;;) {
			size_t len = strcspn(help, "\n");
			fprintf(out, "%.*s\n", (int)len, help);
			if (!help[len])
				break;
			help += len + 1;
			fprintf(out, "%*s", column, "");
		}
	}
}
