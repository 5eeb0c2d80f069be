/* import.c — RouterBench wide CSV and JSONL files → one outcome matrix: columns, merging, order. */
#include "data/import.h"

#include <errno.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/csv.h"
#include "data/features.h"
#include "data/pylit.h"
#include "data/rbds_format.h"

#define RESPONSE_SUFFIX "|model_response"
#define COST_SUFFIX "|total_cost"
#define ORACLE_COLUMN "oracle_model_to_route_to"

/* ---- a stable string pool for text copied out of JSON documents ------------------------------ */

struct pool_block {
	struct pool_block *next;
	size_t used, cap;
	_Alignas(8) char data[];
};

static void *pool_alloc(struct pool_block **head, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct pool_block *b = *head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);
		b = rbe_xmalloc(sizeof(*b) + cap);
		b->next = *head;
		b->used = 0;
		b->cap = cap;
		*head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

static char *pool_strndup(struct pool_block **head, const char *s, size_t len)
{
	char *p = pool_alloc(head, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void pool_free(struct pool_block *b)
{
	while (b) {
		struct pool_block *next = b->next;
		free(b);
		b = next;
	}
}

/* ---- the importer's state --------------------------------------------------------------------- */

/* One input row (CSV data row or JSONL line). Its per-model cells live in the importer's flat
 * arrays at [cell * M + j], so sorting rows moves only this small struct. */
typedef struct row {
	uint32_t file;
	uint32_t line;
	double index;
	size_t cell;
	const char *sample_id, *eval_name, *prompt; /* borrowed from a file buffer or the pool */
	const float *features;                      /* pool, or NULL */
} row;

typedef struct importer {
	const rbe_import_opts *o;
	const char *const *paths;
	size_t n_files;

	uint32_t M;            /* the model set, fixed by the first file */
	char **models;         /* [M] owned */
	rbe_strmap *model_of;  /* name → index */
	size_t model_file;
	uint32_t model_line;   /* where model_file names its models */

	int index_mode;        /* -1 undecided, 0 file order, 1 leading index column */
	size_t index_file;
	int any_responses;

	uint32_t fdim;         /* embedding length; 0 while none seen */
	size_t fdim_file;
	uint32_t fdim_line;

	row *rows;
	size_t n_rows, cap_rows;
	float *q;              /* NaN = no quality in this row */
	double *c;
	const char **resp;
	uint32_t *qline, *qcol; /* where each quality was read (qcol 0 for JSONL) */

	char **bufs;           /* file contents, kept until the builder has copied the text */
	size_t n_bufs;
	struct pool_block *pool;
	size_t rows_read;
} importer;

static int failf(rbe_error *e, const char *file, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "file:line:col: message", dropping the parts that are 0. */
static int failf(rbe_error *e, const char *file, uint32_t line, uint32_t col, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line && col)
		return rbe_fail(e, -EINVAL, "%s:%u:%u: %s", file, line, col, msg);
	if (line)
		return rbe_fail(e, -EINVAL, "%s:%u: %s", file, line, msg);
	return rbe_fail(e, -EINVAL, "%s: %s", file, msg);
}

static void place(char *out, size_t cap, const char *file, uint32_t line, uint32_t col)
{
	if (col)
		snprintf(out, cap, "%s:%u:%u", file, line, col);
	else
		snprintf(out, cap, "%s:%u", file, line);
}

/* A cell's text for a message: quoted, control characters escaped, long text cut. */
static void show_text(const char *s, size_t len, char *out, size_t cap)
{
	if (len == 0) {
		snprintf(out, cap, "an empty cell");
		return;
	}
	size_t o = 0, limit = cap > 16 ? cap - 16 : 0;
	out[o++] = '"';
	for (size_t i = 0; i < len && o < limit; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
		if (i + 1 < len && o >= limit)
			o += (size_t)snprintf(out + o, cap - o, "...");
	}
	snprintf(out + o, cap - o, "\"");
}

static void show_json(const json_t *v, char *out, size_t cap)
{
	if (!v) {
		snprintf(out, cap, "nothing");
		return;
	}
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text) {
		snprintf(out, cap, "a JSON value");
		return;
	}
	size_t len = strlen(text);
	if (len + 1 > cap && cap > 4)
		snprintf(out, cap, "%.*s...", (int)(cap - 4), text);
	else
		snprintf(out, cap, "%s", text);
	free(text);
}

/* Numbers in the files always use '.', whatever locale the process runs in. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	rbe_require(c_locale != (locale_t)0);
}

/* Parses a decimal number filling the whole cell (blanks around it allowed). 0 empty, 1 parsed,
 * -1 not a number. */
static int parse_number(const char *s, double *v)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	pthread_once(&c_locale_once, make_c_locale);
	char *end;
	*v = strtod_l(s, &end, c_locale);
	if (end == s)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	return *end ? -1 : 1;
}

/* Length of the valid UTF-8 sequence at s[i], or 0 (overlong forms, surrogates and code points
 * above U+10FFFF are invalid). */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
	return n;
}

/*
 * Text must be UTF-8: everything downstream (JSON results, reports) assumes it, and a file in
 * another encoding is better refused than imported as mojibake. Also refuses NUL bytes, which a
 * C string cannot carry.
 */
static int check_utf8(const char *file, const char *buf, size_t len, rbe_error *e)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, bad = len;
	while (i < len) {
		/* ASCII fast path, eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			if (s[i] == 0) {
				bad = i;
				break;
			}
			i++;
			continue;
		}
		size_t n = utf8_seq(s, i, len);
		if (!n) {
			bad = i;
			break;
		}
		i += n;
	}
	/* The fast path skipped NULs; find the first one cheaply. */
	const void *nul = memchr(buf, 0, bad);
	if (nul)
		bad = (size_t)((const char *)nul - buf);
	if (bad == len)
		return 0;
	uint32_t line = 1, col = 1;
	for (size_t k = 0; k < bad; k++) {
		if (s[k] == '\n' || (s[k] == '\r' && !(k + 1 < bad && s[k + 1] == '\n'))) {
			line++;
			col = 1;
		} else if ((s[k] & 0xC0) != 0x80 && !(k < 3 && len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))) {
			col++;
		}
	}
	if (s[bad] == 0)
		return failf(e, file, line, col, "a NUL byte; text must be UTF-8 without NUL characters");
	return failf(e, file, line, col, "invalid UTF-8 (byte 0x%02x); the file must be UTF-8", s[bad]);
}

static int ends_with(const char *s, size_t len, const char *suffix, size_t slen)
{
	return len > slen && memcmp(s + len - slen, suffix, slen) == 0;
}

static size_t add_row(importer *im, uint32_t file, uint32_t line)
{
	if (im->n_rows == im->cap_rows) {
		size_t cap = im->cap_rows ? im->cap_rows * 2 : 1024, m = im->M;
		im->rows = rbe_xrealloc(im->rows, cap * sizeof(row));
		im->q = rbe_xrealloc(im->q, cap * m * sizeof(float));
		im->c = rbe_xrealloc(im->c, cap * m * sizeof(double));
		im->resp = rbe_xrealloc(im->resp, cap * m * sizeof(char *));
		im->qline = rbe_xrealloc(im->qline, cap * m * sizeof(uint32_t));
		im->qcol = rbe_xrealloc(im->qcol, cap * m * sizeof(uint32_t));
		im->cap_rows = cap;
	}
	size_t k = im->n_rows++;
	row *r = &im->rows[k];
	memset(r, 0, sizeof(*r));
	r->file = file;
	r->line = line;
	r->cell = k;
	for (uint32_t j = 0; j < im->M; j++) {
		im->q[k * im->M + j] = NAN;
		im->c[k * im->M + j] = NAN;
		im->resp[k * im->M + j] = NULL;
		im->qline[k * im->M + j] = 0;
		im->qcol[k * im->M + j] = 0;
	}
	return k;
}

/*
 * The first file fixes the model set and order; every later file must name the same set (in any
 * order). Fills map[i] with the dataset index of the file's i-th model.
 */
static int use_models(importer *im, size_t fi, uint32_t line, const char *const *names, size_t n, uint32_t *map,
		      const char *expect, rbe_error *e)
{
	const char *file = im->paths[fi];
	if (n == 0)
		return failf(e, file, line, 0, "no models: expected at least one %s", expect);
	if (!im->models) {
		im->M = (uint32_t)n;
		im->models = rbe_xcalloc(n, sizeof(char *));
		im->model_of = rbe_strmap_new();
		im->model_file = fi;
		im->model_line = line;
		for (size_t j = 0; j < n; j++) {
			im->models[j] = rbe_xstrdup(names[j]);
			rbe_strmap_put(im->model_of, names[j], (long)j);
			map[j] = (uint32_t)j;
		}
		return 0;
	}
	for (size_t j = 0; j < n; j++) {
		long g = rbe_strmap_get(im->model_of, names[j]);
		if (g < 0)
			return failf(e, file, line, 0, "model '%s' is not among the models of %s:%u; every file must have the same models",
				     names[j], im->paths[im->model_file], im->model_line);
		map[j] = (uint32_t)g;
	}
	if (n != im->M) {
		for (uint32_t g = 0; g < im->M; g++) {
			size_t j = 0;
			while (j < n && map[j] != g)
				j++;
			if (j == n)
				return failf(e, file, line, 0, "model '%s' of %s:%u is missing here; every file must have the same models",
					     im->models[g], im->paths[im->model_file], im->model_line);
		}
	}
	return 0;
}

static int use_index_mode(importer *im, size_t fi, int has_index, uint32_t line, rbe_error *e)
{
	if (im->index_mode < 0) {
		im->index_mode = has_index;
		im->index_file = fi;
		return 0;
	}
	if (im->index_mode == has_index)
		return 0;
	const char *with = has_index ? im->paths[fi] : im->paths[im->index_file];
	const char *without = has_index ? im->paths[im->index_file] : im->paths[fi];
	return failf(e, im->paths[fi], line, 0,
		     "%s has a leading index column but %s has none, so the row order is ambiguous; give every file an index column or none",
		     with, without);
}

/* Checks a quality that is present; v is NaN for a non-number. */
static int bad_quality(double v) { return !(v >= 0.0 && v <= 1.0); }
static int bad_cost(double v) { return !(v >= 0.0 && isfinite(v)); }

/* ---- CSV --------------------------------------------------------------------------------------- */

static int decode_cell(const char *file, rbe_csv_field *f, const char *what, rbe_error *e)
{
	size_t len;
	if (rbe_pylit_decode(f->s, f->len, f->s, &len, e) < 0)
		return rbe_error_prefix(e, "%s:%u:%u: %s is not a valid Python list of strings", file, f->line, f->col,
					what);
	f->len = len;
	return 0;
}

/* Where a file's columns are. */
typedef struct csv_layout {
	long id, prompt, eval;
	size_t n_models;          /* the file's models, in its declaring columns' order */
	const char **names;       /* [n_models] in the pool */
	long *qual, *cost, *resp; /* [n_models] column of each; resp -1 without responses */
	uint32_t *map;            /* [n_models] dataset model index */
	int has_index;
} csv_layout;

static void layout_free(csv_layout *L)
{
	free(L->names);
	free(L->qual);
	free(L->cost);
	free(L->resp);
	free(L->map);
}

static int read_header(importer *im, size_t fi, rbe_csv *c, csv_layout *L, rbe_error *e)
{
	const char *file = im->paths[fi];
	size_t n = c->n_fields;
	rbe_csv_field *h = c->fields;
	uint32_t hl = c->row_line;
	memset(L, 0, sizeof(*L));
	L->id = L->prompt = L->eval = -1;
	L->has_index = n > 0 && h[0].len == 0;

	rbe_strmap *seen = rbe_strmap_new();
	int r = 0;
	size_t n_resp = 0;
	for (size_t k = 0; k < n && !r; k++) {
		if (h[k].len == 0 && k > 0)
			r = failf(e, file, h[k].line, h[k].col, "column %zu has an empty name; only a leading index column may", k + 1);
		else if (h[k].len > 0) {
			long prev = rbe_strmap_put(seen, h[k].s, (long)k);
			if (prev >= 0)
				r = failf(e, file, h[k].line, h[k].col, "duplicate column '%s' (also column %ld)", h[k].s, prev + 1);
		}
		n_resp += ends_with(h[k].s, h[k].len, RESPONSE_SUFFIX, strlen(RESPONSE_SUFFIX));
	}
	rbe_strmap_free(seen);
	if (r)
		return r;

	/* Models are declared by their response columns, or by their cost columns in files that
	 * have no responses. */
	const char *decl = n_resp ? RESPONSE_SUFFIX : COST_SUFFIX;
	size_t dlen = strlen(decl);
	L->names = rbe_xcalloc(n + 1, sizeof(char *));
	rbe_strmap *local = rbe_strmap_new();
	for (size_t k = 0; k < n; k++) {
		if (!ends_with(h[k].s, h[k].len, decl, dlen))
			continue;
		char *name = pool_strndup(&im->pool, h[k].s, h[k].len - dlen);
		rbe_strmap_put(local, name, (long)L->n_models);
		L->names[L->n_models++] = name;
	}
	size_t m = L->n_models;
	L->qual = rbe_xmalloc((m + 1) * sizeof(long));
	L->cost = rbe_xmalloc((m + 1) * sizeof(long));
	L->resp = rbe_xmalloc((m + 1) * sizeof(long));
	L->map = rbe_xcalloc(m + 1, sizeof(uint32_t));
	for (size_t j = 0; j < m; j++)
		L->qual[j] = L->cost[j] = L->resp[j] = -1;

	for (size_t k = L->has_index ? 1 : 0; k < n && !r; k++) {
		const char *s = h[k].s;
		size_t len = h[k].len;
		long *slot = NULL;
		size_t name_len = len;
		if (!strcmp(s, "sample_id"))
			L->id = (long)k;
		else if (!strcmp(s, "prompt"))
			L->prompt = (long)k;
		else if (!strcmp(s, "eval_name"))
			L->eval = (long)k;
		else if (!strcmp(s, ORACLE_COLUMN))
			continue;
		else if (ends_with(s, len, RESPONSE_SUFFIX, strlen(RESPONSE_SUFFIX)))
			slot = L->resp, name_len = len - strlen(RESPONSE_SUFFIX);
		else if (ends_with(s, len, COST_SUFFIX, strlen(COST_SUFFIX)))
			slot = L->cost, name_len = len - strlen(COST_SUFFIX);
		else
			slot = L->qual;
		if (!slot)
			continue;
		/* Look the model name up in place, then restore the header text for messages. */
		char saved = s[name_len];
		h[k].s[name_len] = '\0';
		long j = rbe_strmap_get(local, s);
		h[k].s[name_len] = saved;
		if (j < 0) {
			r = failf(e, file, h[k].line, h[k].col,
				  "unknown column '%s': expected sample_id, prompt, eval_name, " ORACLE_COLUMN
				  " or a column of a model declared by a '<model>%s' column",
				  s, decl);
			break;
		}
		slot[j] = (long)k;
	}
	rbe_strmap_free(local);
	if (r)
		return r;
	static const char *const required[] = {"sample_id", "prompt", "eval_name"};
	long found[] = {L->id, L->prompt, L->eval};
	for (size_t k = 0; k < 3; k++)
		if (found[k] < 0)
			return failf(e, file, hl, 0, "missing column '%s'", required[k]);
	for (size_t j = 0; j < m; j++) {
		if (L->qual[j] < 0)
			return failf(e, file, hl, 0, "model '%s' has no quality column (a column named '%s')", L->names[j],
				     L->names[j]);
		if (L->cost[j] < 0)
			return failf(e, file, hl, 0, "model '%s' has no cost column '%s" COST_SUFFIX "'", L->names[j],
				     L->names[j]);
	}
	if (n_resp && !im->o->no_responses)
		im->any_responses = 1;
	r = use_models(im, fi, hl, L->names, m, L->map,
		       n_resp ? "'<model>" RESPONSE_SUFFIX "' column" : "'<model>" COST_SUFFIX "' column", e);
	if (r)
		return r;
	return use_index_mode(im, fi, L->has_index, hl, e);
}

static int read_csv_row(importer *im, size_t fi, rbe_csv *c, const csv_layout *L, rbe_error *e)
{
	const char *file = im->paths[fi];
	rbe_csv_field *f = c->fields;
	size_t k = add_row(im, (uint32_t)fi, c->row_line);
	row *r = &im->rows[k];
	char shown[128];

	if (L->has_index) {
		double v;
		if (parse_number(f[0].s, &v) != 1 || !isfinite(v)) {
			show_text(f[0].s, f[0].len, shown, sizeof(shown));
			return failf(e, file, f[0].line, f[0].col, "the leading index column must hold a number, got %s", shown);
		}
		r->index = v;
	}
	rbe_csv_field *id = &f[L->id], *ev = &f[L->eval], *pr = &f[L->prompt];
	if (id->len == 0)
		return failf(e, file, id->line, id->col, "sample_id must not be empty");
	if (ev->len == 0)
		return failf(e, file, ev->line, ev->col, "eval_name must not be empty (sample '%s')", id->s);
	if (decode_cell(file, pr, "prompt", e) < 0)
		return -EINVAL;
	r->sample_id = id->s;
	r->eval_name = ev->s;
	r->prompt = pr->s;

	size_t base = k * im->M;
	for (size_t j = 0; j < L->n_models; j++) {
		uint32_t g = L->map[j];
		const char *name = im->models[g];
		rbe_csv_field *qf = &f[L->qual[j]], *cf = &f[L->cost[j]];
		double q, cost;
		int pq = parse_number(qf->s, &q);
		if (pq == 0)
			continue;
		if (pq < 0 || bad_quality(q)) {
			show_text(qf->s, qf->len, shown, sizeof(shown));
			return failf(e, file, qf->line, qf->col, "quality for model '%s' must be a number in [0, 1], got %s",
				     name, shown);
		}
		int pc = parse_number(cf->s, &cost);
		if (pc != 1 || bad_cost(cost)) {
			show_text(cf->s, cf->len, shown, sizeof(shown));
			return failf(e, file, cf->line, cf->col,
				     "cost for model '%s' must be a number >= 0 (its quality is present), got %s", name, shown);
		}
		im->q[base + g] = (float)q;
		im->c[base + g] = cost;
		im->qline[base + g] = qf->line;
		im->qcol[base + g] = qf->col;
		if (L->resp[j] >= 0 && !im->o->no_responses) {
			rbe_csv_field *rf = &f[L->resp[j]];
			char what[512];
			snprintf(what, sizeof(what), "response of model '%s'", name);
			if (decode_cell(file, rf, what, e) < 0)
				return -EINVAL;
			im->resp[base + g] = rf->s;
		}
	}
	return 0;
}

static int read_csv(importer *im, size_t fi, char *buf, size_t len, rbe_error *e)
{
	const char *file = im->paths[fi];
	rbe_csv c;
	csv_layout L;
	memset(&L, 0, sizeof(L));
	rbe_csv_init(&c, buf, len, file);
	int r = rbe_csv_next(&c, e);
	if (r == 0)
		r = failf(e, file, 0, 0, "the file is empty: expected a header row");
	if (r > 0)
		r = read_header(im, fi, &c, &L, e);
	while (r >= 0) {
		r = rbe_csv_next(&c, e);
		if (r <= 0)
			break;
		im->rows_read++;
		r = read_csv_row(im, fi, &c, &L, e);
	}
	rbe_csv_done(&c);
	layout_free(&L);
	return r < 0 ? r : 0;
}

/* ---- JSONL ------------------------------------------------------------------------------------- */

static int json_text(importer *im, const char *file, uint32_t line, const char *key, const json_t *v, int required,
		     const char **out, rbe_error *e)
{
	char shown[128];
	if (!v || json_is_null(v)) {
		if (!required) {
			*out = NULL;
			return 0;
		}
		return failf(e, file, line, 0, v ? "key '%s' must be a string, got null" : "missing key '%s'", key);
	}
	if (!json_is_string(v)) {
		show_json(v, shown, sizeof(shown));
		return failf(e, file, line, 0, "key '%s' must be a string, got %s", key, shown);
	}
	*out = pool_strndup(&im->pool, json_string_value(v), json_string_length(v));
	return 0;
}

/* A prompt or response: a string (a Python list literal in it is decoded, as in CSV) or an
 * array of strings joined by "\n". */
static int json_body(importer *im, const char *file, uint32_t line, const char *key, const json_t *v, int required,
		     const char **out, rbe_error *e)
{
	char shown[128];
	if (json_is_array(v)) {
		size_t total = 0, i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				show_json(item, shown, sizeof(shown));
				return failf(e, file, line, 0, "key '%s[%zu]' must be a string, got %s", key, i, shown);
			}
			total += json_string_length(item) + 1;
		}
		char *text = pool_alloc(&im->pool, total + 1), *w = text;
		json_array_foreach(v, i, item) {
			if (i)
				*w++ = '\n';
			memcpy(w, json_string_value(item), json_string_length(item));
			w += json_string_length(item);
		}
		*w = '\0';
		*out = text;
		return 0;
	}
	const char *s;
	int r = json_text(im, file, line, key, v, required, &s, e);
	if (r || !s) {
		*out = NULL;
		return r;
	}
	size_t len;
	if (rbe_pylit_decode(s, json_string_length(v), (char *)s, &len, e) < 0)
		return rbe_error_prefix(e, "%s:%u: key '%s' is not a valid Python list of strings", file, line, key);
	*out = s;
	return 0;
}

/* One model's outcome from its JSON values (any may be NULL when the key is absent). */
static int json_outcome(importer *im, const char *file, uint32_t line, size_t k, uint32_t g, const json_t *qv,
			const char *qkey, const json_t *cv, const char *ckey, const json_t *rv, const char *rkey,
			rbe_error *e)
{
	char shown[128];
	const char *name = im->models[g];
	size_t cell = k * im->M + g;
	if (!qv || json_is_null(qv))
		return 0;
	if (!json_is_number(qv) || bad_quality(json_number_value(qv))) {
		show_json(qv, shown, sizeof(shown));
		return failf(e, file, line, 0, "key '%s': quality for model '%s' must be a number in [0, 1] or null, got %s",
			     qkey, name, shown);
	}
	if (!cv || !json_is_number(cv) || bad_cost(json_number_value(cv))) {
		show_json(cv, shown, sizeof(shown));
		return failf(e, file, line, 0,
			     "key '%s': cost for model '%s' must be a number >= 0 (its quality is present), got %s", ckey,
			     name, shown);
	}
	im->q[cell] = (float)json_number_value(qv);
	im->c[cell] = json_number_value(cv);
	im->qline[cell] = line;
	im->qcol[cell] = 0;
	if (rv && !json_is_null(rv)) {
		const char *text;
		int r = json_body(im, file, line, rkey, rv, 0, &text, e);
		if (r)
			return r;
		if (!im->o->no_responses) {
			im->resp[cell] = text;
			im->any_responses = 1;
		}
	}
	return 0;
}

static int json_embedding(importer *im, size_t fi, uint32_t line, row *r, const json_t *v, rbe_error *e)
{
	const char *file = im->paths[fi];
	char shown[128];
	size_t n = json_is_array(v) ? json_array_size(v) : 0;
	if (n == 0 || n > UINT32_MAX) {
		show_json(v, shown, sizeof(shown));
		return failf(e, file, line, 0, "key 'embedding' must be a non-empty array of numbers, got %s", shown);
	}
	if (!im->fdim) {
		im->fdim = (uint32_t)n;
		im->fdim_file = fi;
		im->fdim_line = line;
	} else if (n != im->fdim) {
		return failf(e, file, line, 0, "key 'embedding' has %zu numbers, but %s:%u has %u; every embedding must have the same length",
			     n, im->paths[im->fdim_file], im->fdim_line, im->fdim);
	}
	float *f = pool_alloc(&im->pool, n * sizeof(float));
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(v, i);
		double d = json_is_number(x) ? json_number_value(x) : NAN;
		if (!(isfinite(d) && fabs(d) <= 3.4028234663852886e38)) {
			show_json(x, shown, sizeof(shown));
			return failf(e, file, line, 0, "key 'embedding[%zu]' must be a number that fits a float, got %s", i,
				     shown);
		}
		f[i] = (float)d;
	}
	r->features = f;
	return 0;
}

static int is_fixed_key(const char *key)
{
	return !strcmp(key, "sample_id") || !strcmp(key, "eval_name") || !strcmp(key, "prompt") ||
	       !strcmp(key, "models") || !strcmp(key, "embedding") || !strcmp(key, ORACLE_COLUMN);
}

/* The model a wide key names (quality "<m>", "<m>|total_cost" or "<m>|model_response"), or -1. */
static long wide_model(const importer *im, const char *key, const char **suffix)
{
	size_t len = strlen(key);
	static const char *const suffixes[] = {RESPONSE_SUFFIX, COST_SUFFIX};
	for (size_t k = 0; k < 2; k++) {
		size_t sl = strlen(suffixes[k]);
		if (ends_with(key, len, suffixes[k], sl)) {
			char name[1024];
			if (len - sl >= sizeof(name))
				return -1;
			memcpy(name, key, len - sl);
			name[len - sl] = '\0';
			*suffix = suffixes[k];
			return rbe_strmap_get(im->model_of, name);
		}
	}
	*suffix = "";
	return rbe_strmap_get(im->model_of, key);
}

/* The first line of a JSONL file names its models: the keys of "models", else the wide
 * "<m>|model_response" keys, else the "<m>|total_cost" keys. */
static int json_models(importer *im, size_t fi, uint32_t line, json_t *obj, rbe_error *e)
{
	json_t *models = json_object_get(obj, "models");
	const char *key;
	json_t *v;
	size_t n = 0, cap = json_object_size(models ? models : obj) + 1;
	const char **names = rbe_xcalloc(cap, sizeof(char *));
	char **owned = rbe_xcalloc(cap, sizeof(char *));
	const char *expect;
	if (models) {
		expect = "model in key 'models'";
		json_object_foreach(models, key, v)
			names[n++] = key;
	} else {
		const char *suffix = RESPONSE_SUFFIX;
		expect = "'<model>" RESPONSE_SUFFIX "' or '<model>" COST_SUFFIX "' key";
		for (int pass = 0; pass < 2 && n == 0; pass++, suffix = COST_SUFFIX) {
			json_object_foreach(obj, key, v) {
				size_t len = strlen(key), sl = strlen(suffix);
				if (ends_with(key, len, suffix, sl)) {
					owned[n] = pool_strndup(&im->pool, key, len - sl);
					names[n] = owned[n];
					n++;
				}
			}
		}
	}
	uint32_t *map = rbe_xcalloc(n + 1, sizeof(uint32_t));
	int r = use_models(im, fi, line, names, n, map, expect, e);
	free(map);
	free(names);
	free(owned);
	return r;
}

static int read_json_row(importer *im, size_t fi, uint32_t line, json_t *obj, int first, rbe_error *e)
{
	const char *file = im->paths[fi];
	char shown[128];
	if (!json_is_object(obj)) {
		show_json(obj, shown, 40);
		return failf(e, file, line, 0, "expected a JSON object, got %s", shown);
	}
	json_t *models = json_object_get(obj, "models");
	if (models && !json_is_object(models)) {
		show_json(models, shown, sizeof(shown));
		return failf(e, file, line, 0, "key 'models' must be an object {model: {\"quality\": ..., \"cost\": ...}}, got %s",
			     shown);
	}
	int r;
	if (first) {
		if ((r = json_models(im, fi, line, obj, e)) || (r = use_index_mode(im, fi, 0, line, e)))
			return r;
	}
	size_t k = add_row(im, (uint32_t)fi, line);
	row *rw = &im->rows[k];

	/* Every key must be known: a typo in a model name should be loud, not a skipped model. */
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (is_fixed_key(key))
			continue;
		const char *suffix;
		if (models || wide_model(im, key, &suffix) < 0)
			return failf(e, file, line, 0,
				     "unknown key '%s': expected sample_id, eval_name, prompt, models, embedding%s " ORACLE_COLUMN "%s",
				     key, models ? " or" : ",",
				     models ? "" : " or a model's '<m>', '<m>" COST_SUFFIX "' or '<m>" RESPONSE_SUFFIX "' key");
	}
	if ((r = json_text(im, file, line, "sample_id", json_object_get(obj, "sample_id"), 1, &rw->sample_id, e)))
		return r;
	if (!*rw->sample_id)
		return failf(e, file, line, 0, "key 'sample_id' must not be empty");
	if ((r = json_text(im, file, line, "eval_name", json_object_get(obj, "eval_name"), 1, &rw->eval_name, e)))
		return r;
	if (!*rw->eval_name)
		return failf(e, file, line, 0, "key 'eval_name' must not be empty (sample '%s')", rw->sample_id);
	if ((r = json_body(im, file, line, "prompt", json_object_get(obj, "prompt"), 1, &rw->prompt, e)))
		return r;
	json_t *emb = json_object_get(obj, "embedding");
	if (emb && (r = json_embedding(im, fi, line, rw, emb, e)))
		return r;

	char qkey[1100], ckey[1100], rkey[1100];
	if (models) {
		json_object_foreach(models, key, v) {
			long g = rbe_strmap_get(im->model_of, key);
			if (g < 0)
				return failf(e, file, line, 0, "key 'models.%s': model '%s' is not among the models of %s:%u", key,
					     key, im->paths[im->model_file], im->model_line);
			if (json_is_null(v))
				continue;
			if (!json_is_object(v)) {
				show_json(v, shown, sizeof(shown));
				return failf(e, file, line, 0, "key 'models.%s' must be an object {\"quality\": ..., \"cost\": ...}, got %s",
					     key, shown);
			}
			const char *sub;
			json_t *x;
			json_object_foreach(v, sub, x) {
				if (strcmp(sub, "quality") && strcmp(sub, "cost") && strcmp(sub, "response"))
					return failf(e, file, line, 0, "unknown key 'models.%s.%s': expected quality, cost and response",
						     key, sub);
			}
			snprintf(qkey, sizeof(qkey), "models.%s.quality", key);
			snprintf(ckey, sizeof(ckey), "models.%s.cost", key);
			snprintf(rkey, sizeof(rkey), "models.%s.response", key);
			r = json_outcome(im, file, line, k, (uint32_t)g, json_object_get(v, "quality"), qkey,
					 json_object_get(v, "cost"), ckey, json_object_get(v, "response"), rkey, e);
			if (r)
				return r;
		}
		return 0;
	}
	for (uint32_t g = 0; g < im->M; g++) {
		const char *name = im->models[g];
		snprintf(qkey, sizeof(qkey), "%s", name);
		snprintf(ckey, sizeof(ckey), "%s" COST_SUFFIX, name);
		snprintf(rkey, sizeof(rkey), "%s" RESPONSE_SUFFIX, name);
		r = json_outcome(im, file, line, k, g, json_object_get(obj, qkey), qkey, json_object_get(obj, ckey), ckey,
				 json_object_get(obj, rkey), rkey, e);
		if (r)
			return r;
	}
	return 0;
}

static int is_blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

static int read_jsonl(importer *im, size_t fi, char *buf, size_t len, rbe_error *e)
{
	const char *file = im->paths[fi];
	char *p = buf, *end = buf + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	uint32_t line = 0;
	size_t lines = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next = nl ? nl + 1 : end;
		size_t n = (size_t)((nl ? nl : end) - p);
		line++;
		if (is_blank_line(p, n)) {
			p = next;
			continue;
		}
		im->rows_read++;
		json_error_t je;
		json_t *obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
		if (!obj)
			return failf(e, file, line, je.column > 0 ? (uint32_t)je.column : 0, "invalid JSON: %s", je.text);
		int r = read_json_row(im, fi, line, obj, lines == 0, e);
		json_decref(obj);
		if (r)
			return r;
		lines++;
		p = next;
	}
	if (lines == 0)
		return failf(e, file, 0, 0, "the file is empty: expected one JSON object per line");
	return 0;
}

/* ---- merging, ordering, building ---------------------------------------------------------------- */

static int cmp_index(const void *a, const void *b)
{
	const row *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->cell < y->cell ? -1 : x->cell > y->cell;
}

static int assemble(importer *im, rbe_dataset **out, rbe_import_stats *st, rbe_error *e)
{
	size_t n = im->n_rows, M = im->M;
	if (n == 0)
		return im->n_files == 1 ? failf(e, im->paths[0], 0, 0, "no data rows, only a header")
					: rbe_fail(e, -EINVAL, "none of the %zu files has a data row", im->n_files);
	if (im->fdim) {
		for (size_t k = 0; k < n; k++)
			if (!im->rows[k].features)
				return failf(e, im->paths[im->rows[k].file], im->rows[k].line, 0,
					     "no 'embedding', but %s:%u has one; either every row has an embedding or none has",
					     im->paths[im->fdim_file], im->fdim_line);
	}
	if (im->index_mode == 1)
		qsort(im->rows, n, sizeof(row), cmp_index);

	/* Samples in order of their first row; src says which row gives each model's outcome. */
	rbe_strmap *ids = rbe_strmap_new();
	size_t *first = rbe_xmalloc((n + 1) * sizeof(size_t));
	uint32_t *n_rows = rbe_xcalloc(n + 1, sizeof(uint32_t));
	size_t *src = rbe_xcalloc(n * M + 1, sizeof(size_t)); /* row position + 1; 0 = none */
	float *qs = rbe_xmalloc(M * sizeof(float));
	double *cs = rbe_xmalloc(M * sizeof(double));
	const char **rs = rbe_xcalloc(M, sizeof(char *));
	rbe_builder *b = NULL;
	size_t ns = 0, merged = 0, skipped = 0;
	char example[512] = "";
	int r = 0;

	for (size_t k = 0; k < n && !r; k++) {
		const row *rw = &im->rows[k];
		long s = rbe_strmap_get(ids, rw->sample_id);
		if (s < 0) {
			s = (long)ns++;
			rbe_strmap_put(ids, rw->sample_id, s);
			first[s] = k;
		}
		n_rows[s]++;
		for (size_t j = 0; j < M; j++) {
			size_t cell = rw->cell * M + j;
			if (isnan(im->q[cell]))
				continue;
			size_t *slot = &src[(size_t)s * M + j];
			if (*slot) {
				const row *other = &im->rows[*slot - 1];
				size_t ocell = other->cell * M + j;
				char where[1100];
				place(where, sizeof(where), im->paths[other->file], im->qline[ocell], im->qcol[ocell]);
				r = failf(e, im->paths[rw->file], im->qline[cell], im->qcol[cell],
					  "sample '%s' has a quality for model '%s' in two rows (also at %s); each model's quality must come from one row",
					  rw->sample_id, im->models[j], where);
				break;
			}
			*slot = k + 1;
		}
	}

	if (!r) {
		b = rbe_builder_new(im->M, (const char *const *)im->models);
		if (im->any_responses)
			rbe_builder_want_responses(b);
		if (im->fdim)
			rbe_builder_want_features(b, im->fdim, "embedding");
		rbe_builder_set_name(b, im->o->name && *im->o->name ? im->o->name : "dataset");
	}
	for (size_t s = 0; s < ns && !r; s++) {
		const row *r0 = &im->rows[first[s]];
		size_t missing = M;
		for (size_t j = 0; j < M && missing == M; j++)
			if (!src[s * M + j])
				missing = j;
		if (missing < M) {
			if (!skipped++)
				snprintf(example, sizeof(example), "sample '%.80s' (%.80s:%u) has no quality for model '%.60s'",
					 r0->sample_id, im->paths[r0->file], r0->line, im->models[missing]);
			continue;
		}
		for (size_t j = 0; j < M; j++) {
			const row *rj = &im->rows[src[s * M + j] - 1];
			size_t cell = rj->cell * M + j;
			qs[j] = im->q[cell];
			cs[j] = im->c[cell];
			rs[j] = im->resp[cell] ? im->resp[cell] : "";
		}
		rbe_sample_in in = {
			.sample_id = r0->sample_id,
			.eval_name = r0->eval_name,
			.prompt = r0->prompt,
			.quality = qs,
			.cost = cs,
			.responses = im->any_responses ? rs : NULL,
			.features = r0->features,
		};
		r = rbe_builder_add(b, &in, e);
		if (r)
			rbe_error_prefix(e, "%s:%u", im->paths[r0->file], r0->line);
		merged += n_rows[s] > 1;
	}
	rbe_dataset *ds = NULL;
	if (!r && rbe_builder_count(b) == 0) {
		r = rbe_fail(e, -EINVAL, "no complete samples: %zu sample%s skipped, e.g. %s", skipped, skipped == 1 ? "" : "s",
			     example);
		rbe_builder_free(b);
	} else if (!r) {
		r = rbe_builder_finish(b, &ds, e);
	} else {
		rbe_builder_free(b);
	}
	if (!r) {
		memset(st, 0, sizeof(*st));
		st->rows = im->rows_read;
		st->samples = ds->n;
		st->merged = merged;
		st->skipped = skipped;
		st->models = ds->n_models;
		st->evals = ds->n_evals;
		st->responses = ds->responses != NULL;
		st->feature_dim = ds->feature_dim;
		snprintf(st->feature_name, sizeof(st->feature_name), "%s", ds->feature_name ? ds->feature_name : "");
		snprintf(st->skipped_example, sizeof(st->skipped_example), "%s", example);
		*out = ds;
	}
	rbe_strmap_free(ids);
	free(first);
	free(n_rows);
	free(src);
	free(qs);
	free(cs);
	free(rs);
	return r;
}

/* ---- entry points ------------------------------------------------------------------------------ */

rbe_import_format rbe_import_detect(const char *path, const char *data, size_t len)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash)) {
		if (!strcasecmp(dot, ".csv"))
			return RBE_IMPORT_CSV;
		if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".json"))
			return RBE_IMPORT_JSONL;
	}
	if (data) {
		size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
			i++;
		if (i < len && data[i] == '{')
			return RBE_IMPORT_JSONL;
	}
	return RBE_IMPORT_CSV;
}

char *rbe_import_stem(const char *path)
{
	const char *base = strrchr(path, '/');
	char *s = rbe_xstrdup(base ? base + 1 : path);
	char *dot = strrchr(s, '.');
	if (dot && dot != s)
		*dot = '\0';
	return s;
}

int rbe_import_files(const char *const *paths, size_t n, const rbe_import_opts *o, rbe_dataset **out,
		     rbe_import_stats *stats, rbe_error *e)
{
	static const rbe_import_opts defaults;
	if (!o)
		o = &defaults;
	if (n == 0)
		return rbe_fail(e, -EINVAL, "no input files");
	importer im = {.o = o, .paths = paths, .n_files = n, .index_mode = -1};
	im.bufs = rbe_xcalloc(n, sizeof(char *));
	int r = 0;
	for (size_t fi = 0; fi < n && !r; fi++) {
		char *buf;
		size_t len;
		r = rbe_read_file(paths[fi], &buf, &len, e);
		if (r)
			break;
		im.bufs[im.n_bufs++] = buf;
		r = check_utf8(paths[fi], buf, len, e);
		if (r)
			break;
		rbe_import_format fmt = o->format ? o->format : rbe_import_detect(paths[fi], buf, len);
		r = fmt == RBE_IMPORT_JSONL ? read_jsonl(&im, fi, buf, len, e) : read_csv(&im, fi, buf, len, e);
	}
	rbe_import_stats st;
	rbe_dataset *ds = NULL;
	if (!r)
		r = assemble(&im, &ds, &st, e);
	if (!r) {
		st.files = n;
		*out = ds;
		if (stats)
			*stats = st;
	}
	for (size_t k = 0; k < im.n_bufs; k++)
		free(im.bufs[k]);
	free(im.bufs);
	for (uint32_t j = 0; j < im.M; j++)
		free(im.models[j]);
	free(im.models);
	rbe_strmap_free(im.model_of);
	free(im.rows);
	free(im.q);
	free(im.c);
	free(im.resp);
	free(im.qline);
	free(im.qcol);
	pool_free(im.pool);
	return r;
}

int rbe_import_to_rbds(const char *const *paths, size_t n, const rbe_import_opts *o, uint32_t tfidf_dim,
		       int replace_embeddings, const char *out_path, rbe_import_stats *stats, rbe_error *e)
{
	rbe_import_opts opts = o ? *o : (rbe_import_opts){0};
	/* A dataset is named by its file when opened; the name is not part of its identity. */
	char *stem = opts.name ? NULL : rbe_import_stem(out_path);
	if (stem)
		opts.name = stem;
	rbe_import_stats st;
	rbe_dataset *ds = NULL;
	int r = rbe_import_files(paths, n, &opts, &ds, &st, e);
	if (!r && tfidf_dim && (!ds->features || replace_embeddings))
		r = rbe_dataset_attach_tfidf(&ds, tfidf_dim, e);
	if (!r)
		r = rbe_rbds_write(ds, out_path, e);
	if (!r && stats) {
		st.feature_dim = ds->feature_dim;
		snprintf(st.feature_name, sizeof(st.feature_name), "%s", ds->feature_name ? ds->feature_name : "");
		*stats = st;
	}
	rbe_dataset_free(ds);
	free(stem);
	return r;
}
