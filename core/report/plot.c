/* plot.c — result documents checked and drawn on the cost–quality plane as SVG. */
#include "report/plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- checking a document ------------------------------------------------------------------ */

/* Everything the views read is checked here, so drawing and reporting can index freely. */
struct vctx {
	const char *file;
	rbe_error *e;
};

static int bad(struct vctx *v, const char *where, const char *what)
{
	return rbe_fail(v->e, -EINVAL, "%s: %s: %s", v->file, where, what);
}

static int check_number(struct vctx *v, const json_t *o, const char *where, const char *key)
{
	if (json_is_number(json_object_get(o, key)))
		return 0;
	char at[600];
	snprintf(at, sizeof(at), "%s.%s", where, key);
	return bad(v, at, json_object_get(o, key) ? "expected a number" : "missing");
}

/* Optional [lo, hi] interval (bootstrap ci95 fields). */
static int check_interval(struct vctx *v, const json_t *o, const char *where, const char *key)
{
	const json_t *a = json_object_get(o, key);
	if (!a)
		return 0;
	char at[600];
	snprintf(at, sizeof(at), "%s.%s", where, key);
	if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_number(json_array_get(a, 0)) ||
	    !json_is_number(json_array_get(a, 1)))
		return bad(v, at, "expected [lo, hi], two numbers");
	if (json_number_value(json_array_get(a, 0)) > json_number_value(json_array_get(a, 1)))
		return bad(v, at, "lo is above hi");
	return 0;
}

/* A point's ci95: {"quality": [lo, hi], "cost_total": ..., "cost_mean": ...} (each optional),
 * or a bare [lo, hi] read as the quality interval. */
static int check_point(struct vctx *v, const json_t *p, const char *where)
{
	if (!json_is_object(p))
		return bad(v, where, p ? "expected an object" : "missing");
	int r;
	if ((r = check_number(v, p, where, "quality")) < 0 || (r = check_number(v, p, where, "cost_total")) < 0 ||
	    (r = check_number(v, p, where, "cost_mean")) < 0)
		return r;
	const json_t *ci = json_object_get(p, "ci95");
	if (!ci || json_is_array(ci))
		return check_interval(v, p, where, "ci95");
	char at[600];
	snprintf(at, sizeof(at), "%s.ci95", where);
	if (!json_is_object(ci))
		return bad(v, at, "expected an object of [lo, hi] intervals");
	if ((r = check_interval(v, ci, at, "quality")) < 0 || (r = check_interval(v, ci, at, "cost_total")) < 0 ||
	    (r = check_interval(v, ci, at, "cost_mean")) < 0)
		return r;
	return 0;
}

static int check_hull(struct vctx *v, const json_t *a, const char *where)
{
	if (!json_is_array(a))
		return bad(v, where, a ? "expected an array" : "missing");
	size_t k;
	const json_t *pt;
	json_array_foreach(a, k, pt) {
		if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
		    !json_is_number(json_array_get(pt, 1))) {
			char at[600];
			snprintf(at, sizeof(at), "%s[%zu]", where, k);
			return bad(v, at, "expected [cost_total, quality]");
		}
	}
	return 0;
}

static int check_block(struct vctx *v, const json_t *b, const char *where)
{
	char at[600];
	int r;
	if (!json_is_object(b))
		return bad(v, where, b ? "expected an object" : "missing");
	const json_t *n = json_object_get(b, "n_test");
	if (!json_is_integer(n) || json_integer_value(n) < 1) {
		snprintf(at, sizeof(at), "%s.n_test", where);
		return bad(v, at, "expected a positive integer");
	}
	const json_t *llms = json_object_get(b, "llms");
	snprintf(at, sizeof(at), "%s.llms", where);
	if (!json_is_object(llms) || json_object_size(llms) == 0)
		return bad(v, at, "expected an object with one point per model");
	const char *model;
	json_t *p;
	json_object_foreach((json_t *)llms, model, p) {
		snprintf(at, sizeof(at), "%s.llms.%s", where, model);
		if ((r = check_point(v, p, at)) < 0)
			return r;
	}
	snprintf(at, sizeof(at), "%s.oracle", where);
	if ((r = check_point(v, json_object_get(b, "oracle"), at)) < 0)
		return r;

	const json_t *zero = json_object_get(b, "zero");
	snprintf(at, sizeof(at), "%s.zero", where);
	if (!json_is_object(zero))
		return bad(v, at, zero ? "expected an object" : "missing");
	if ((r = check_number(v, zero, at, "aiq")) < 0 || (r = check_number(v, zero, at, "aiq_code")) < 0 ||
	    (r = check_interval(v, zero, at, "aiq_ci95")) < 0 || (r = check_interval(v, zero, at, "aiq_code_ci95")) < 0)
		return r;
	snprintf(at, sizeof(at), "%s.zero.ndch", where);
	if ((r = check_hull(v, json_object_get(zero, "ndch"), at)) < 0)
		return r;

	const json_t *router = json_object_get(b, "router");
	snprintf(at, sizeof(at), "%s.router", where);
	if (!json_is_object(router))
		return bad(v, at, router ? "expected an object" : "missing");
	if ((r = check_number(v, router, at, "aiq")) < 0 || (r = check_number(v, router, at, "aiq_code")) < 0 ||
	    (r = check_interval(v, router, at, "aiq_ci95")) < 0 ||
	    (r = check_interval(v, router, at, "aiq_code_ci95")) < 0)
		return r;
	snprintf(at, sizeof(at), "%s.router.max_quality", where);
	if ((r = check_point(v, json_object_get(router, "max_quality"), at)) < 0)
		return r;
	snprintf(at, sizeof(at), "%s.router.ndch", where);
	if ((r = check_hull(v, json_object_get(router, "ndch"), at)) < 0)
		return r;
	const json_t *points = json_object_get(router, "points");
	snprintf(at, sizeof(at), "%s.router.points", where);
	if (!json_is_array(points))
		return bad(v, at, points ? "expected an array" : "missing");
	size_t k;
	json_array_foreach(points, k, p) {
		snprintf(at, sizeof(at), "%s.router.points[%zu]", where, k);
		if ((r = check_point(v, p, at)) < 0)
			return r;
	}
	return 0;
}

static int check_string(struct vctx *v, const json_t *o, const char *where, const char *key)
{
	if (json_is_string(json_object_get(o, key)))
		return 0;
	char at[600];
	snprintf(at, sizeof(at), "%s.%s", where, key);
	return bad(v, at, json_object_get(o, key) ? "expected a string" : "missing");
}

static int check_document(struct vctx *v, const json_t *doc)
{
	int r;
	if (!json_is_object(doc))
		return rbe_fail(v->e, -EINVAL, "%s: not a routerbench result (expected a JSON object)", v->file);
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, "routerbench.result/1") != 0)
		return rbe_fail(v->e, -EINVAL, "%s: not a routerbench result (schema %s%s%s; expected routerbench.result/1)",
				v->file, schema ? "'" : "", schema ? schema : "missing", schema ? "'" : "");
	const json_t *ds = json_object_get(doc, "dataset"), *router = json_object_get(doc, "router"),
		     *split = json_object_get(doc, "split");
	if (!json_is_object(ds))
		return bad(v, "dataset", ds ? "expected an object" : "missing");
	if ((r = check_string(v, ds, "dataset", "name")) < 0 || (r = check_string(v, ds, "dataset", "sha256")) < 0)
		return r;
	if (!json_is_object(router))
		return bad(v, "router", router ? "expected an object" : "missing");
	if ((r = check_string(v, router, "router", "name")) < 0)
		return r;
	const json_t *params = json_object_get(router, "params");
	if (params && !json_is_object(params))
		return bad(v, "router.params", "expected an object");
	if (split) {
		if (!json_is_object(split))
			return bad(v, "split", "expected an object");
		if ((r = check_string(v, split, "split", "mode")) < 0 || (r = check_number(v, split, "split", "seed")) < 0 ||
		    (r = check_number(v, split, "split", "train_fraction")) < 0)
			return r;
	}
	const json_t *tasks = json_object_get(doc, "tasks");
	if (!json_is_object(tasks))
		return bad(v, "tasks", tasks ? "expected an object" : "missing");
	const char *name;
	json_t *b;
	json_object_foreach((json_t *)tasks, name, b) {
		char at[600];
		snprintf(at, sizeof(at), "tasks.%s", name);
		if ((r = check_block(v, b, at)) < 0)
			return r;
	}
	return check_block(v, json_object_get(doc, "overall"), "overall");
}

/* ---- the set ---------------------------------------------------------------------------- */

void rbr_resultset_clear(rbr_resultset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->paths[i]);
		json_decref(rs->docs[i]);
		free(rs->labels ? rs->labels[i] : NULL);
	}
	for (size_t t = 0; t < rs->n_tasks; t++)
		free(rs->tasks[t]);
	free(rs->paths);
	free(rs->docs);
	free(rs->labels);
	free(rs->tasks);
	memset(rs, 0, sizeof(*rs));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Legend labels: router name and params, then the file name where that is ambiguous. */
static void make_labels(rbr_resultset *rs)
{
	rs->labels = rbe_xcalloc(rs->n, sizeof(char *));
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *router = json_object_get(rs->docs[i], "router");
		const char *name = json_string_value(json_object_get(router, "name"));
		char *params = rbr_params_summary(json_object_get(router, "params"), 0);
		size_t len = strlen(name) + strlen(params) + 4;
		rs->labels[i] = rbe_xmalloc(len);
		snprintf(rs->labels[i], len, *params ? "%s (%s)" : "%s", name, params);
		free(params);
	}
	for (int pass = 0; pass < 2; pass++) {
		char **fixed = rbe_xcalloc(rs->n, sizeof(char *));
		for (size_t i = 0; i < rs->n; i++)
			for (size_t j = 0; j < rs->n; j++) {
				if (i == j || strcmp(rs->labels[i], rs->labels[j]) != 0)
					continue;
				size_t len = strlen(rs->labels[i]) + strlen(rs->paths[i]) + 32;
				fixed[i] = rbe_xmalloc(len);
				if (pass == 0)
					snprintf(fixed[i], len, "%s, %s", rs->labels[i], base_name(rs->paths[i]));
				else
					snprintf(fixed[i], len, "%s #%zu", rs->labels[i], i + 1);
				break;
			}
		for (size_t i = 0; i < rs->n; i++)
			if (fixed[i]) {
				free(rs->labels[i]);
				rs->labels[i] = fixed[i];
			}
		free(fixed);
	}
}

static void add_task(rbr_resultset *rs, const char *name)
{
	for (size_t t = 0; t < rs->n_tasks; t++)
		if (!strcmp(rs->tasks[t], name))
			return;
	rs->tasks = rbe_xrealloc(rs->tasks, (rs->n_tasks + 1) * sizeof(char *));
	rs->tasks[rs->n_tasks++] = rbe_xstrdup(name);
}

int rbr_resultset_load(rbr_resultset *rs, const char *const *paths, size_t n, rbe_error *e)
{
	rbr_resultset s = {0};
	s.paths = rbe_xcalloc(n ? n : 1, sizeof(char *));
	s.docs = rbe_xcalloc(n ? n : 1, sizeof(json_t *));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		char *data = NULL;
		size_t len = 0;
		if ((r = rbe_read_file(paths[i], &data, &len, e)) < 0)
			goto fail;
		json_error_t jerr;
		json_t *doc = json_loadb(data, len, 0, &jerr);
		free(data);
		if (!doc) {
			r = rbe_fail(e, -EINVAL, "%s: line %d, column %d: %s", paths[i], jerr.line, jerr.column, jerr.text);
			goto fail;
		}
		s.paths[s.n] = rbe_xstrdup(paths[i]);
		s.docs[s.n++] = doc;
		struct vctx v = {paths[i], e};
		if ((r = check_document(&v, doc)) < 0)
			goto fail;
		const char *sha = json_string_value(json_object_get(json_object_get(doc, "dataset"), "sha256"));
		const char *sha0 = json_string_value(json_object_get(json_object_get(s.docs[0], "dataset"), "sha256"));
		if (strcmp(sha, sha0) != 0) {
			r = rbe_fail(e, -EINVAL,
				     "%s and %s are results on different datasets (sha256 %.12s… and %.12s…); "
				     "plot and report only compare results on one dataset",
				     s.paths[0], paths[i], sha0, sha);
			goto fail;
		}
		const char *name;
		json_t *b;
		json_object_foreach(json_object_get(doc, "tasks"), name, b)
			add_task(&s, name);
	}
	make_labels(&s);
	*rs = s;
	return 0;
fail:
	rbr_resultset_clear(&s);
	return r;
}

const json_t *rbr_resultset_block(const rbr_resultset *rs, size_t i, const char *task)
{
	if (!task)
		return json_object_get(rs->docs[i], "overall");
	return json_object_get(json_object_get(rs->docs[i], "tasks"), task);
}

size_t rbr_resultset_ref(const rbr_resultset *rs, const char *task)
{
	/* Prefer a document whose references carry bootstrap intervals. */
	size_t first = rs->n;
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		if (json_object_get(json_object_get(b, "zero"), "aiq_ci95"))
			return i;
		if (first == rs->n)
			first = i;
	}
	return first < rs->n ? first : 0;
}

int rbr_resultset_same_split(const rbr_resultset *rs)
{
	for (size_t i = 1; i < rs->n; i++)
		if (!json_equal(json_object_get(rs->docs[0], "split"), json_object_get(rs->docs[i], "split")))
			return 0;
	return 1;
}

int rbr_point_ci(const json_t *point, const char *field, double *lo, double *hi)
{
	const json_t *ci = json_object_get(point, "ci95");
	if (json_is_object(ci))
		ci = json_object_get(ci, field);
	else if (strcmp(field, "quality") != 0)
		ci = NULL;
	if (!json_is_array(ci) || json_array_size(ci) != 2)
		return 0;
	*lo = json_number_value(json_array_get(ci, 0));
	*hi = json_number_value(json_array_get(ci, 1));
	return 1;
}

/* ---- text ------------------------------------------------------------------------------- */

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

/* A growable string for building labels. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
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

static void scalar_text(struct sbuf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER: sb_add(b, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: sb_add(b, "%g", json_real_value(v)); break;
	case JSON_STRING: sb_add(b, "%s", json_string_value(v)); break;
	case JSON_TRUE: sb_add(b, "true"); break;
	case JSON_FALSE: sb_add(b, "false"); break;
	case JSON_NULL: sb_add(b, "null"); break;
	case JSON_ARRAY: sb_add(b, "[…]"); break;
	case JSON_OBJECT: sb_add(b, "{…}"); break;
	}
}

/* Byte length of the longest prefix of s with at most max code points. */
static size_t utf8_prefix(const char *s, size_t max)
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

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

char *rbr_params_summary(const json_t *params, size_t max_len)
{
	struct sbuf b = {0};
	sb_add(&b, "%s", "");
	const char *key;
	json_t *v;
	int first = 1;
	json_object_foreach((json_t *)params, key, v) {
		sb_add(&b, "%s%s=", first ? "" : ", ", key);
		first = 0;
		if (json_is_array(v) && json_array_size(v) > 4) {
			sb_add(&b, "[");
			scalar_text(&b, json_array_get(v, 0));
			sb_add(&b, " … ");
			scalar_text(&b, json_array_get(v, json_array_size(v) - 1));
			sb_add(&b, "] (%zu values)", json_array_size(v));
		} else if (json_is_array(v)) {
			sb_add(&b, "[");
			for (size_t k = 0; k < json_array_size(v); k++) {
				if (k)
					sb_add(&b, ", ");
				scalar_text(&b, json_array_get(v, k));
			}
			sb_add(&b, "]");
		} else {
			scalar_text(&b, v);
		}
	}
	if (max_len && utf8_len(b.s) > max_len) {
		size_t cut = utf8_prefix(b.s, max_len - 1);
		b.s[cut] = '\0';
		b.len = cut;
		sb_add(&b, "…");
	}
	return b.s;
}

/* Rough advance width of s in pixels: the SVG is laid out before any font is chosen, so this
 * errs wide (DejaVu Sans, the widest common sans, averages about 0.6 em). */
static double text_width(const char *s, double font_size) { return (double)utf8_len(s) * font_size * 0.6; }

/* ---- axes --------------------------------------------------------------------------------- */

#define MAX_TICKS 160

struct tick {
	double v;  /* data value (log axes: the value itself, not its log) */
	int label; /* labelled, with a grid line; otherwise a minor tick mark */
};

struct axis {
	int log;
	double lo, hi; /* data range in axis space (log axes: log10 of the value) */
	double p0, p1; /* pixel positions of lo and hi */
	size_t n_ticks;
	struct tick ticks[MAX_TICKS];
	int decimals; /* for linear labels */
};

static double ax_pos(const struct axis *a, double v)
{
	double t = a->log ? log10(v) : v;
	return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static double nice_step(double raw)
{
	double e = floor(log10(raw)), f = raw / pow(10.0, e);
	double nf = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
	return nf * pow(10.0, e);
}

static void add_tick(struct axis *a, double v, int label)
{
	if (a->n_ticks < MAX_TICKS)
		a->ticks[a->n_ticks++] = (struct tick){v, label};
}

/* Linear ticks inside [lo, hi] (values, not logs) with a 1-2-5 step. */
static void linear_ticks(struct axis *a, double lo, double hi)
{
	double step = nice_step((hi - lo) / 5.0);
	int d = (int)-floor(log10(step) + 1e-9);
	a->decimals = d < 0 ? 0 : d;
	for (long long k = (long long)ceil(lo / step - 1e-9); k <= (long long)floor(hi / step + 1e-9); k++)
		add_tick(a, (double)k * step, 1);
}

/* dmin..dmax: the data; clamp01: quality, kept inside [0, 1] when the data is. */
static void axis_linear(struct axis *a, double dmin, double dmax, int clamp01)
{
	memset(a, 0, sizeof(*a));
	double lo = dmin, hi = dmax;
	if (!(hi > lo)) {
		double d = lo != 0.0 ? fabs(lo) * 0.1 : 0.001;
		lo -= d;
		hi += d;
	}
	double pad = (hi - lo) * 0.04;
	lo -= pad;
	hi += pad;
	if (lo < 0.0 && dmin >= 0.0)
		lo = 0.0;
	if (clamp01 && hi > 1.0 && dmax <= 1.0)
		hi = 1.0;
	a->lo = lo;
	a->hi = hi;
	linear_ticks(a, lo, hi);
}

/* Decade ticks; 2× and 5× get labels too when fewer than two decades show, and when even that
 * is not enough a linear 1-2-5 labelling inside the range. */
static void axis_log(struct axis *a, double dmin, double dmax)
{
	memset(a, 0, sizeof(*a));
	a->log = 1;
	double l0 = log10(dmin), l1 = log10(dmax);
	if (!(l1 - l0 > 1e-9)) {
		l0 -= 0.5;
		l1 += 0.5;
	}
	double pad = (l1 - l0) * 0.05;
	a->lo = l0 - pad;
	a->hi = l1 + pad;
	/* Over many decades: no minor ticks, and a label on every k-th decade only. */
	int decades = (int)ceil(a->hi) - (int)floor(a->lo), every = decades > 7 ? (decades + 6) / 7 : 1;
	for (int pass = 0; pass < 3; pass++) {
		a->n_ticks = 0;
		size_t labelled = 0;
		for (int d = (int)floor(a->lo); d <= (int)ceil(a->hi); d++)
			for (int m = 1; m <= (decades > 12 ? 1 : 9); m++) {
				double t = log10((double)m) + d;
				if (t < a->lo - 1e-9 || t > a->hi + 1e-9)
					continue;
				int label = (m == 1 && d % every == 0) || (pass >= 1 && (m == 2 || m == 5)) || pass == 2;
				add_tick(a, (double)m * pow(10.0, d), label);
				labelled += (size_t)label;
			}
		if (labelled >= 2)
			return;
	}
	a->n_ticks = 0;
	linear_ticks(a, pow(10.0, a->lo), pow(10.0, a->hi));
	a->log = 2; /* log scale, decimal labels */
}

/* Tick label: decimals on linear axes, m×10ⁿ (exponent as a raised tspan) on log axes. */
static void tick_label(FILE *out, const struct axis *a, double v)
{
	if (a->log != 1) {
		if (fabs(v) < 1e-15)
			fputs("0", out); /* never "-0.00" nor "0.0000" */
		else
			fprintf(out, "%.*f", a->decimals, v);
		return;
	}
	int d = (int)floor(log10(v) + 1e-9);
	int m = (int)lround(v / pow(10.0, d));
	if (m != 1)
		fprintf(out, "%d×", m);
	fprintf(out, "10<tspan dy=\"-6\" font-size=\"8\">%s%d</tspan>", d < 0 ? "−" : "", abs(d));
}

/* ---- drawing ----------------------------------------------------------------------------- */

static const char *const palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
				      "#56b4e9", "#882255", "#117733", "#999933", "#aa4499"};
#define N_COLORS (sizeof(palette) / sizeof(palette[0]))
/* After the palette runs out, colours repeat with a dash pattern. */
static const char *const dashes[] = {"", "8,3", "2,3", "8,3,2,3"};

#define LLM_COLOR "#4d4d4d"
#define ZERO_COLOR "#333333"
#define ORACLE_FILL "#f5c518"

struct geom {
	double w, h;                   /* panel */
	double left, right, top, bottom; /* margins */
};

static double pt_cost(const json_t *p) { return json_number_value(json_object_get(p, "cost_mean")); }
static double pt_quality(const json_t *p) { return json_number_value(json_object_get(p, "quality")); }
static double hull_cost(const json_t *h, size_t k, double n_test)
{
	return json_number_value(json_array_get(json_array_get(h, k), 0)) / n_test;
}
static double hull_quality(const json_t *h, size_t k)
{
	return json_number_value(json_array_get(json_array_get(h, k), 1));
}

struct range {
	double xmin, xmax, ymin, ymax;
	size_t hidden; /* points at cost <= 0 left off a log axis */
	int log;
};

/* count: a point of its own (hull vertices repeat points, so they are not counted as hidden). */
static void range_add(struct range *r, double x, double y, int count)
{
	if (!isfinite(x) || !isfinite(y))
		return;
	if (r->log && x <= 0.0) {
		r->hidden += (size_t)count;
		return;
	}
	if (x < r->xmin)
		r->xmin = x;
	if (x > r->xmax)
		r->xmax = x;
	if (y < r->ymin)
		r->ymin = y;
	if (y > r->ymax)
		r->ymax = y;
}

static void range_point(struct range *r, const json_t *p)
{
	double x = pt_cost(p), y = pt_quality(p), lo, hi;
	range_add(r, x, y, 1);
	if (rbr_point_ci(p, "quality", &lo, &hi)) {
		range_add(r, x, lo, 0);
		range_add(r, x, hi, 0);
	}
	if (rbr_point_ci(p, "cost_mean", &lo, &hi)) {
		range_add(r, lo, y, 0);
		range_add(r, hi, y, 0);
	}
}

static int drawable(const struct axis *x, double cost, double quality)
{
	return isfinite(cost) && isfinite(quality) && (!x->log || cost > 0.0);
}

struct box {
	double x, y, w, h;
};

static double overlap(struct box a, struct box b)
{
	double w = fmin(a.x + a.w, b.x + b.w) - fmax(a.x, b.x), h = fmin(a.y + a.h, b.y + b.h) - fmax(a.y, b.y);
	return w > 0 && h > 0 ? w * h : 0.0;
}

/* Labels next to their markers: the first of eight places that collides with nothing already
 * placed and stays inside the plot, else the one that collides least. */
struct labeller {
	struct box *boxes; /* markers and labels: avoided hard */
	size_t n, cap;
	struct box *soft; /* lines and router points: avoided when it is cheap */
	size_t n_soft, cap_soft;
	struct box area;
};

static void box_push(struct box **v, size_t *n, size_t *cap, struct box b)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = rbe_xrealloc(*v, *cap * sizeof(struct box));
	}
	(*v)[(*n)++] = b;
}

static void lab_add(struct labeller *l, struct box b) { box_push(&l->boxes, &l->n, &l->cap, b); }

static void lab_soft(struct labeller *l, double x, double y)
{
	box_push(&l->soft, &l->n_soft, &l->cap_soft, (struct box){x - 2.5, y - 2.5, 5, 5});
}

/* A polyline as a chain of small soft boxes, one every few pixels. */
static void lab_line(struct labeller *l, double x0, double y0, double x1, double y1)
{
	double len = hypot(x1 - x0, y1 - y0);
	size_t steps = (size_t)ceil(len / 4.0);
	for (size_t s = 0; s <= steps; s++) {
		double t = steps ? (double)s / (double)steps : 0.0;
		lab_soft(l, x0 + t * (x1 - x0), y0 + t * (y1 - y0));
	}
}

static void place_label(FILE *out, struct labeller *l, double px, double py, const char *text, double fs,
			const char *color)
{
	double w = text_width(text, fs), h = fs + 1;
	static const struct {
		double dx, dy; /* baseline anchor offset */
		int anchor;    /* 0 start, 1 middle, 2 end */
	} cand[] = {{7, 4, 0},   {-7, 4, 2},  {0, -8, 1},  {0, 16, 1},  {6, -6, 0},
		    {6, 14, 0},  {-6, -6, 2}, {-6, 14, 2}, {9, -14, 0}, {9, 22, 0},
		    {-9, -14, 2}, {-9, 22, 2}};
	static const char *const anchors[] = {"start", "middle", "end"};
	size_t best = 0;
	double best_score = INFINITY;
	for (size_t c = 0; c < sizeof(cand) / sizeof(cand[0]); c++) {
		double bx = px + cand[c].dx - (cand[c].anchor == 1 ? w / 2 : cand[c].anchor == 2 ? w : 0);
		struct box b = {bx, py + cand[c].dy - fs * 0.8, w, h};
		double score = 0.0;
		for (size_t k = 0; k < l->n; k++)
			score += overlap(b, l->boxes[k]);
		for (size_t k = 0; k < l->n_soft; k++)
			score += 0.1 * overlap(b, l->soft[k]);
		score += (b.w * b.h - overlap(b, l->area)) * 4.0;
		if (score < best_score) {
			best_score = score;
			best = c;
		}
		if (score == 0.0)
			break;
	}
	double x = px + cand[best].dx, y = py + cand[best].dy;
	double bx = x - (cand[best].anchor == 1 ? w / 2 : cand[best].anchor == 2 ? w : 0);
	lab_add(l, (struct box){bx, y - fs * 0.8, w, h});
	/* A white halo first, so the label stays legible over lines (SVG 1.1 has no paint-order). */
	for (int pass = 0; pass < 2; pass++) {
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%g\" text-anchor=\"%s\"", x, y, fs,
			anchors[cand[best].anchor]);
		if (pass == 0)
			fprintf(out, " fill=\"#ffffff\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\">");
		else
			fprintf(out, " fill=\"%s\">", color);
		rbr_xml_escape(out, text);
		fputs("</text>\n", out);
	}
}

static void star_path(FILE *out, double cx, double cy, double r)
{
	fputs("M", out);
	for (int k = 0; k < 10; k++) {
		double a = -M_PI / 2 + k * M_PI / 5, rr = k % 2 ? r * 0.45 : r;
		fprintf(out, "%s%.1f,%.1f", k ? " L" : "", cx + rr * cos(a), cy + rr * sin(a));
	}
	fputs(" Z", out);
}

static void draw_hull(FILE *out, struct labeller *l, const struct axis *x, const struct axis *y, const json_t *hull,
		      double n_test, const char *cls, const char *style)
{
	fprintf(out, "<polyline class=\"%s\" fill=\"none\" %s points=\"", cls, style);
	size_t k;
	json_t *pt;
	int first = 1;
	double px = 0, py = 0;
	json_array_foreach(hull, k, pt) {
		double c = hull_cost(hull, k, n_test), q = hull_quality(hull, k);
		if (!drawable(x, c, q))
			continue;
		double cx = ax_pos(x, c), cy = ax_pos(y, q);
		fprintf(out, "%s%.1f,%.1f", first ? "" : " ", cx, cy);
		lab_line(l, first ? cx : px, first ? cy : py, cx, cy);
		px = cx;
		py = cy;
		first = 0;
	}
	fputs("\"/>\n", out);
}

/* Whether a point is a vertex of the hull: the hull's coordinates are copies of point values,
 * printed with 17 digits, so they compare exactly. */
static int on_hull(const json_t *hull, const json_t *p)
{
	double c = json_number_value(json_object_get(p, "cost_total")), q = pt_quality(p);
	size_t k;
	json_t *h;
	json_array_foreach(hull, k, h)
		if (json_number_value(json_array_get(h, 0)) == c && json_number_value(json_array_get(h, 1)) == q)
			return 1;
	return 0;
}

/* Bootstrap intervals as thin whiskers: vertical for quality, horizontal for cost. */
static void error_bar(FILE *out, const struct axis *x, const struct axis *y, const json_t *p, const char *color)
{
	double c = pt_cost(p), q = pt_quality(p), lo, hi;
	if (!drawable(x, c, q))
		return;
	double px = ax_pos(x, c), py = ax_pos(y, q);
	if (rbr_point_ci(p, "quality", &lo, &hi)) {
		double y0 = ax_pos(y, lo), y1 = ax_pos(y, hi);
		fprintf(out,
			"<path class=\"ci\" stroke=\"%s\" stroke-opacity=\"0.55\" d=\"M%.1f,%.1f V%.1f M%.1f,%.1f H%.1f "
			"M%.1f,%.1f H%.1f\"/>\n",
			color, px, y0, y1, px - 2, y0, px + 2, px - 2, y1, px + 2);
	}
	if (rbr_point_ci(p, "cost_mean", &lo, &hi) && drawable(x, lo, q) && drawable(x, hi, q)) {
		double x0 = ax_pos(x, lo), x1 = ax_pos(x, hi);
		fprintf(out,
			"<path class=\"ci\" stroke=\"%s\" stroke-opacity=\"0.55\" d=\"M%.1f,%.1f H%.1f M%.1f,%.1f V%.1f "
			"M%.1f,%.1f V%.1f\"/>\n",
			color, x0, py, x1, x0, py - 2, py + 2, x1, py - 2, py + 2);
	}
}

static void draw_axes(FILE *out, const struct geom *g, const struct axis *x, const struct axis *y)
{
	double x0 = g->left, x1 = g->w - g->right, y0 = g->h - g->bottom, y1 = g->top;
	fputs("<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n", out);
	for (size_t k = 0; k < x->n_ticks; k++)
		if (x->ticks[k].label)
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", ax_pos(x, x->ticks[k].v), y0,
				ax_pos(x, x->ticks[k].v), y1);
	for (size_t k = 0; k < y->n_ticks; k++)
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, ax_pos(y, y->ticks[k].v), x1,
			ax_pos(y, y->ticks[k].v));
	fputs("</g>\n", out);
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999999\"/>\n",
		x0, y1, x1 - x0, y0 - y1);

	fprintf(out, "<g class=\"axis x%s\" font-size=\"10\" fill=\"#333333\" text-anchor=\"middle\">\n",
		x->log ? " log" : "");
	for (size_t k = 0; k < x->n_ticks; k++) {
		double px = ax_pos(x, x->ticks[k].v);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n", px, y0, px,
			y0 + (x->ticks[k].label ? 5 : 3));
		if (!x->ticks[k].label)
			continue;
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", px, y0 + 17);
		tick_label(out, x, x->ticks[k].v);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\">cost per query (USD%s)</text>\n",
		(x0 + x1) / 2, g->h - 8, x->log ? ", log scale" : "");
	fputs("</g>\n", out);

	fputs("<g class=\"axis y\" font-size=\"10\" fill=\"#333333\" text-anchor=\"end\">\n", out);
	for (size_t k = 0; k < y->n_ticks; k++) {
		double py = ax_pos(y, y->ticks[k].v);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n", x0 - 5, py, x0, py);
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x0 - 7, py + 3.5);
		tick_label(out, y, y->ticks[k].v);
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 %.1f %.1f)\">quality (mean score)</text>\n",
		14.0, (y0 + y1) / 2, 14.0, (y0 + y1) / 2);
	fputs("</g>\n", out);
}

static void router_style(char *buf, size_t len, size_t i, double width)
{
	const char *dash = dashes[(i / N_COLORS) % (sizeof(dashes) / sizeof(dashes[0]))];
	snprintf(buf, len, "stroke=\"%s\" stroke-width=\"%g\" stroke-linejoin=\"round\"%s%s%s", palette[i % N_COLORS],
		 width, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
}

static void draw_panel(FILE *out, const rbr_resultset *rs, const char *task, const struct geom *g, double ox,
		       double oy, const rbr_plot_opts *opts)
{
	size_t ref = rbr_resultset_ref(rs, task);
	const json_t *rb = rbr_resultset_block(rs, ref, task);
	double n_test = (double)json_integer_value(json_object_get(rb, "n_test"));
	const json_t *llms = json_object_get(rb, "llms"), *oracle = json_object_get(rb, "oracle"),
		     *zero_hull = json_object_get(json_object_get(rb, "zero"), "ndch");

	struct range r = {INFINITY, -INFINITY, INFINITY, -INFINITY, 0, opts->log_cost};
	const char *model;
	json_t *p;
	json_object_foreach((json_t *)llms, model, p)
		range_point(&r, p);
	range_point(&r, oracle);
	for (size_t k = 0; k < json_array_size(zero_hull); k++)
		range_add(&r, hull_cost(zero_hull, k, n_test), hull_quality(zero_hull, k), 0);
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		double n = (double)json_integer_value(json_object_get(b, "n_test"));
		const json_t *router = json_object_get(b, "router"), *hull = json_object_get(router, "ndch");
		size_t k;
		json_array_foreach(json_object_get(router, "points"), k, p)
			range_point(&r, p);
		for (k = 0; k < json_array_size(hull); k++)
			range_add(&r, hull_cost(hull, k, n), hull_quality(hull, k), 0);
	}
	if (!(r.xmax >= r.xmin)) { /* nothing drawable (a log axis and every cost 0) */
		r.xmin = opts->log_cost ? 1e-6 : 0.0;
		r.xmax = opts->log_cost ? 1e-3 : 1.0;
		r.ymin = 0.0;
		r.ymax = 1.0;
	}

	struct axis x, y;
	if (opts->log_cost)
		axis_log(&x, r.xmin, r.xmax);
	else
		axis_linear(&x, r.xmin, r.xmax, 0);
	axis_linear(&y, r.ymin, r.ymax, 1);
	x.p0 = g->left;
	x.p1 = g->w - g->right;
	y.p0 = g->h - g->bottom;
	y.p1 = g->top;

	fprintf(out, "<g class=\"panel\" transform=\"translate(%.1f,%.1f)\">\n<title>", ox, oy);
	rbr_xml_escape(out, task ? task : "overall");
	fputs("</title>\n", out);
	fprintf(out, "<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">", g->left,
		g->top - 12);
	rbr_xml_escape(out, task ? task : "overall (all task groups)");
	fprintf(out, "<tspan font-weight=\"normal\" fill=\"#555555\">   n_test = %lld</tspan>", (long long)n_test);
	if (r.hidden)
		fprintf(out,
			"<tspan font-weight=\"normal\" font-size=\"10\" fill=\"#555555\">   (%zu zero-cost point%s not on "
			"the log axis)</tspan>",
			r.hidden, r.hidden == 1 ? "" : "s");
	fputs("</text>\n", out);
	draw_axes(out, g, &x, &y);

	fputs("<g class=\"zero\">\n", out);
	struct labeller l = {.area = {g->left, g->top, g->w - g->left - g->right, g->h - g->top - g->bottom}};
	draw_hull(out, &l, &x, &y, zero_hull, n_test, "hull zero",
		  "stroke=\"" ZERO_COLOR "\" stroke-width=\"1.6\" stroke-dasharray=\"6,4\"");
	fputs("</g>\n", out);

	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		double n = (double)json_integer_value(json_object_get(b, "n_test"));
		const json_t *router = json_object_get(b, "router");
		const char *color = palette[i % N_COLORS];
		char style[160];
		router_style(style, sizeof(style), i, 2.0);
		fprintf(out, "<g class=\"router\">\n<title>");
		rbr_xml_escape(out, rs->labels[i]);
		fputs("</title>\n", out);
		const json_t *hull = json_object_get(router, "ndch");
		size_t k;
		json_array_foreach(json_object_get(router, "points"), k, p) {
			/* Whiskers on every operating point would bury the picture; the hull's are the
			 * ones a reader compares. */
			if (on_hull(hull, p))
				error_bar(out, &x, &y, p, color);
			if (!drawable(&x, pt_cost(p), pt_quality(p)))
				continue;
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\" fill-opacity=\"0.45\"/>\n",
				ax_pos(&x, pt_cost(p)), ax_pos(&y, pt_quality(p)), color);
			lab_soft(&l, ax_pos(&x, pt_cost(p)), ax_pos(&y, pt_quality(p)));
		}
		draw_hull(out, &l, &x, &y, hull, n, "hull router", style);
		for (k = 0; k < json_array_size(hull); k++) {
			double c = hull_cost(hull, k, n), q = hull_quality(hull, k);
			if (drawable(&x, c, q))
				fprintf(out,
					"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\" stroke=\"#ffffff\" "
					"stroke-width=\"0.8\"/>\n",
					ax_pos(&x, c), ax_pos(&y, q), color);
		}
		fputs("</g>\n", out);
	}

	/* References last, so their markers and labels sit on top. */
	json_object_foreach((json_t *)llms, model, p)
		if (drawable(&x, pt_cost(p), pt_quality(p)))
			lab_add(&l, (struct box){ax_pos(&x, pt_cost(p)) - 4, ax_pos(&y, pt_quality(p)) - 4, 8, 8});
	double ox_px = ax_pos(&x, pt_cost(oracle)), oy_px = ax_pos(&y, pt_quality(oracle));
	int oracle_shown = drawable(&x, pt_cost(oracle), pt_quality(oracle));
	if (oracle_shown)
		lab_add(&l, (struct box){ox_px - 7, oy_px - 7, 14, 14});

	fputs("<g class=\"llms\">\n", out);
	json_object_foreach((json_t *)llms, model, p) {
		error_bar(out, &x, &y, p, LLM_COLOR);
		if (!drawable(&x, pt_cost(p), pt_quality(p)))
			continue;
		double px = ax_pos(&x, pt_cost(p)), py = ax_pos(&y, pt_quality(p));
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" LLM_COLOR "\" stroke=\"#ffffff\"><title>", px, py);
		rbr_xml_escape(out, model);
		fputs("</title></circle>\n", out);
		place_label(out, &l, px, py, rbr_short_model(model), 10, "#222222");
	}
	fputs("</g>\n", out);
	if (oracle_shown) {
		fputs("<g class=\"oracle\">\n", out);
		error_bar(out, &x, &y, oracle, "#000000");
		fputs("<path fill=\"" ORACLE_FILL "\" stroke=\"#333333\" stroke-width=\"0.8\" d=\"", out);
		star_path(out, ox_px, oy_px, 7);
		fputs("\"><title>Oracle</title></path>\n", out);
		place_label(out, &l, ox_px, oy_px, "Oracle", 10, "#222222");
		fputs("</g>\n", out);
	}
	free(l.boxes);
	free(l.soft);
	fputs("</g>\n", out);
}

/* ---- legend and layout --------------------------------------------------------------------- */

#define LEGEND_FS 11.0
#define LEGEND_ROW 18.0
#define LEGEND_MARK 26.0
#define LEGEND_GAP 18.0

struct legend_entry {
	int kind; /* 0 LLM, 1 Oracle, 2 Zero, 3 router */
	size_t router;
	char *text; /* owned, already cut to fit */
};

static size_t legend_entries(const rbr_resultset *rs, double width, struct legend_entry **out)
{
	size_t n = 3 + rs->n;
	struct legend_entry *e = rbe_xcalloc(n, sizeof(*e));
	e[0] = (struct legend_entry){0, 0, rbe_xstrdup("single LLM")};
	e[1] = (struct legend_entry){1, 0, rbe_xstrdup("Oracle")};
	e[2] = (struct legend_entry){2, 0, rbe_xstrdup("Zero router (hull of the LLMs)")};
	size_t max_chars = (size_t)((width - LEGEND_MARK - LEGEND_GAP) / (LEGEND_FS * 0.6));
	for (size_t i = 0; i < rs->n; i++) {
		const char *s = rs->labels[i];
		char *t;
		if (utf8_len(s) > max_chars) {
			size_t cut = utf8_prefix(s, max_chars - 1);
			t = rbe_xmalloc(cut + 4);
			memcpy(t, s, cut);
			memcpy(t + cut, "…", sizeof("…"));
		} else {
			t = rbe_xstrdup(s);
		}
		e[3 + i] = (struct legend_entry){3, i, t};
	}
	*out = e;
	return n;
}

/* Flow the entries into rows of the given width; returns the number of rows. */
static size_t legend_layout(const struct legend_entry *e, size_t n, double width, double *xs, size_t *rows)
{
	double x = 0;
	size_t row = 0;
	for (size_t k = 0; k < n; k++) {
		double w = LEGEND_MARK + text_width(e[k].text, LEGEND_FS) + LEGEND_GAP;
		if (x > 0 && x + w > width) {
			row++;
			x = 0;
		}
		xs[k] = x;
		rows[k] = row;
		x += w;
	}
	return row + 1;
}

static void draw_legend(FILE *out, const struct legend_entry *e, size_t n, const double *xs, const size_t *rows,
			double ox, double oy)
{
	fprintf(out, "<g class=\"legend\" font-size=\"%g\" fill=\"#222222\" transform=\"translate(%.1f,%.1f)\">\n",
		LEGEND_FS, ox, oy);
	for (size_t k = 0; k < n; k++) {
		double x = xs[k], y = (double)rows[k] * LEGEND_ROW + LEGEND_ROW / 2;
		fputs("<g class=\"legend-entry\">", out);
		switch (e[k].kind) {
		case 0:
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" LLM_COLOR "\"/>", x + 11, y);
			break;
		case 1:
			fputs("<path fill=\"" ORACLE_FILL "\" stroke=\"#333333\" stroke-width=\"0.8\" d=\"", out);
			star_path(out, x + 11, y, 7);
			fputs("\"/>", out);
			break;
		case 2:
			fprintf(out,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" ZERO_COLOR
				"\" stroke-width=\"1.6\" stroke-dasharray=\"6,4\"/>",
				x, y, x + 22, y);
			break;
		default: {
			char style[160];
			router_style(style, sizeof(style), e[k].router, 2.0);
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>", x, y, x + 22, y, style);
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\"/>", x + 11, y,
				palette[e[k].router % N_COLORS]);
		}
		}
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + LEGEND_MARK, y + 4);
		rbr_xml_escape(out, e[k].text);
		fputs("</text></g>\n", out);
	}
	fputs("</g>\n", out);
}

static int has_task(const rbr_resultset *rs, const char *task)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rbr_resultset_block(rs, i, task))
			return 1;
	return 0;
}

int rbr_plot_svg(FILE *out, const rbr_resultset *rs, const char *const *tasks, size_t n_tasks,
		 const rbr_plot_opts *opts, rbe_error *e)
{
	for (size_t t = 0; t < n_tasks; t++) {
		if (has_task(rs, tasks[t]))
			continue;
		struct sbuf b = {0};
		for (size_t k = 0; k < rs->n_tasks; k++)
			sb_add(&b, "%s, ", rs->tasks[k]);
		sb_add(&b, "overall");
		int r = rbe_fail(e, -ENOENT, "no result has the task group '%s' (groups: %s)", tasks[t], b.s);
		free(b.s);
		return r;
	}
	struct geom g = {opts->panel_width > 0 ? opts->panel_width : 500, opts->panel_height > 0 ? opts->panel_height : 380,
			 64, 16, 40, 44};
	size_t cols = n_tasks <= 1 ? 1 : n_tasks <= 4 ? 2 : 3;
	size_t grid_rows = n_tasks ? (n_tasks + cols - 1) / cols : 0;
	/* Inline in a report the page says what the data is; a standalone file says it itself. */
	const double pad = 12, head = opts->inline_svg ? 8 : 34;
	double width = (double)cols * g.w + 2 * pad;

	struct legend_entry *le;
	size_t n_le = legend_entries(rs, width - 2 * pad, &le);
	double *xs = rbe_xcalloc(n_le, sizeof(double));
	size_t *lrows = rbe_xcalloc(n_le, sizeof(size_t));
	size_t legend_rows = legend_layout(le, n_le, width - 2 * pad, xs, lrows);
	double legend_h = (double)legend_rows * LEGEND_ROW + 8;
	double height = head + legend_h + (double)grid_rows * g.h + pad;

	const json_t *ds = json_object_get(rs->docs[0], "dataset");
	const char *ds_name = json_string_value(json_object_get(ds, "name"));
	const char *sha = json_string_value(json_object_get(ds, "sha256"));

	if (!opts->inline_svg)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" ");
	if (opts->inline_svg)
		fprintf(out, "class=\"plot\" style=\"max-width:100%%;height:auto\" ");
	fprintf(out,
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"DejaVu Sans, Verdana, Arial, Helvetica, sans-serif\" font-size=\"11\">\n",
		width, height, width, height);
	fputs("<title>routerbench: cost and quality on ", out);
	rbr_xml_escape(out, ds_name);
	fputs("</title>\n<desc>Dataset sha256 ", out);
	rbr_xml_escape(out, sha);
	fputs(". Per task group: single LLMs, the Oracle, the Zero router's hull and each router's operating points "
	      "and non-decreasing convex hull; x is the cost per query in USD, y the mean quality.</desc>\n",
	      out);
	fprintf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
	if (!opts->inline_svg) {
		fprintf(out, "<text class=\"heading\" x=\"%.1f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">", pad,
			22.0);
		fputs("Cost–quality plane: ", out);
		rbr_xml_escape(out, ds_name);
		/* The full hash when it fits; the <desc> always has it. */
		double need = text_width("Cost–quality plane: ", 15) + text_width(ds_name, 15) +
			      text_width("   dataset sha256 ", 11) + text_width(sha, 11);
		fputs("<tspan font-weight=\"normal\" font-size=\"11\" fill=\"#555555\">   dataset sha256 ", out);
		if (need > width - 2 * pad) {
			char *head12 = rbe_xstrdup(sha);
			head12[utf8_prefix(sha, 12)] = '\0';
			rbr_xml_escape(out, head12);
			fputs("…", out);
			free(head12);
		} else {
			rbr_xml_escape(out, sha);
		}
		fputs("</tspan></text>\n", out);
	}

	draw_legend(out, le, n_le, xs, lrows, pad, head);
	for (size_t k = 0; k < n_le; k++)
		free(le[k].text);
	free(le);
	free(xs);
	free(lrows);

	for (size_t t = 0; t < n_tasks; t++)
		draw_panel(out, rs, tasks[t], &g, pad + (double)(t % cols) * g.w, head + legend_h + (double)(t / cols) * g.h,
			   opts);
	fputs("</svg>\n", out);
	return 0;
}
