/* import_csv.c — RouterBench wide CSV files read into the importer's rows: header, cells, numbers. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/import_internal.h"
#include "data/pylit.h"

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

/* Names must be unique and non-empty (but for a leading index column); returns the number of
 * '<model>|model_response' columns in *n_resp. */
static int check_column_names(const char *file, const rbe_csv_field *h, size_t n, size_t *n_resp, rbe_error *e)
{
	rbe_strmap *seen = rbe_strmap_new();
	int r = 0;
	*n_resp = 0;
	for (size_t k = 0; k < n && !r; k++) {
		if (h[k].len == 0 && k > 0)
			r = rbe_imp_fail(e, file, h[k].line, h[k].col, "column %zu has an empty name; only a leading index column may", k + 1);
		else if (h[k].len > 0) {
			long prev = rbe_strmap_put(seen, h[k].s, (long)k);
			if (prev >= 0)
				r = rbe_imp_fail(e, file, h[k].line, h[k].col, "duplicate column '%s' (also column %ld)", h[k].s, prev + 1);
		}
		*n_resp += ends_with(h[k].s, h[k].len, RESPONSE_SUFFIX, strlen(RESPONSE_SUFFIX));
	}
	rbe_strmap_free(seen);
	return r;
}

/* The file's models, in the order of the columns ending in decl; their names go to the pool and
 * local maps each to its position. */
static void declare_models(importer *im, const rbe_csv_field *h, size_t n, const char *decl, csv_layout *L,
			   rbe_strmap *local)
{
	size_t dlen = strlen(decl);
	L->names = rbe_xcalloc(n + 1, sizeof(char *));
	for (size_t k = 0; k < n; k++) {
		if (!ends_with(h[k].s, h[k].len, decl, dlen))
			continue;
		char *name = rbe_imp_pool_strndup(&im->pool, h[k].s, h[k].len - dlen);
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
}

/* Each column's role: a fixed column, or a declared model's quality, cost or response. */
static int assign_columns(const char *file, rbe_csv_field *h, size_t n, const char *decl, rbe_strmap *local,
			  csv_layout *L, rbe_error *e)
{
	for (size_t k = L->has_index ? 1 : 0; k < n; k++) {
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
		if (j < 0)
			return rbe_imp_fail(e, file, h[k].line, h[k].col,
					    "unknown column '%s': expected sample_id, prompt, eval_name, " ORACLE_COLUMN
					    " or a column of a model declared by a '<model>%s' column",
					    s, decl);
		slot[j] = (long)k;
	}
	return 0;
}

static int check_required_columns(const char *file, uint32_t hl, const csv_layout *L, rbe_error *e)
{
	static const char *const required[] = {"sample_id", "prompt", "eval_name"};
	long found[] = {L->id, L->prompt, L->eval};
	for (size_t k = 0; k < 3; k++)
		if (found[k] < 0)
			return rbe_imp_fail(e, file, hl, 0, "missing column '%s'", required[k]);
	for (size_t j = 0; j < L->n_models; j++) {
		if (L->qual[j] < 0)
			return rbe_imp_fail(e, file, hl, 0, "model '%s' has no quality column (a column named '%s')",
					    L->names[j], L->names[j]);
		if (L->cost[j] < 0)
			return rbe_imp_fail(e, file, hl, 0, "model '%s' has no cost column '%s" COST_SUFFIX "'",
					    L->names[j], L->names[j]);
	}
	return 0;
}

static int read_header(importer *im, size_t fi, rbe_csv *c, csv_layout *L, rbe_error *e)
{
	const char *file = im->paths[fi];
	size_t n = c->n_fields, n_resp;
	rbe_csv_field *h = c->fields;
	uint32_t hl = c->row_line;
	memset(L, 0, sizeof(*L));
	L->id = L->prompt = L->eval = -1;
	L->has_index = n > 0 && h[0].len == 0;
	int r = check_column_names(file, h, n, &n_resp, e);
	if (r)
		return r;

	/* Models are declared by their response columns, or by their cost columns in files that
	 * have no responses. */
	const char *decl = n_resp ? RESPONSE_SUFFIX : COST_SUFFIX;
	rbe_strmap *local = rbe_strmap_new();
	declare_models(im, h, n, decl, L, local);
	r = assign_columns(file, h, n, decl, local, L, e);
	rbe_strmap_free(local);
	if (r || (r = check_required_columns(file, hl, L, e)))
		return r;
	if (n_resp && !im->o->no_responses)
		im->any_responses = 1;
	r = rbe_imp_use_models(im, fi, hl, L->names, L->n_models, L->map,
			       n_resp ? "'<model>" RESPONSE_SUFFIX "' column" : "'<model>" COST_SUFFIX "' column", e);
	if (r)
		return r;
	return rbe_imp_use_index_mode(im, fi, L->has_index, hl, e);
}

/* Model j of the file's quality, cost and response cells into the row's outcome cells at base.
 * An empty quality cell leaves the model without an outcome in this row. */
static int read_csv_outcome(importer *im, const char *file, rbe_csv_field *f, const csv_layout *L, size_t j,
			    size_t base, rbe_error *e)
{
	uint32_t g = L->map[j];
	const char *name = im->models[g];
	rbe_csv_field *qf = &f[L->qual[j]], *cf = &f[L->cost[j]];
	char shown[128];
	double q, cost;
	int pq = parse_number(qf->s, &q);
	if (pq == 0)
		return 0;
	if (pq < 0 || bad_quality(q)) {
		show_text(qf->s, qf->len, shown, sizeof(shown));
		return rbe_imp_fail(e, file, qf->line, qf->col, "quality for model '%s' must be a number in [0, 1], got %s",
				    name, shown);
	}
	int pc = parse_number(cf->s, &cost);
	if (pc != 1 || bad_cost(cost)) {
		show_text(cf->s, cf->len, shown, sizeof(shown));
		return rbe_imp_fail(e, file, cf->line, cf->col,
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
		im->resp[base + g] = rbe_imp_pool_strndup(&im->pool, rf->s, rf->len);
	}
	return 0;
}

static int read_csv_row(importer *im, size_t fi, rbe_csv *c, const csv_layout *L, rbe_error *e)
{
	const char *file = im->paths[fi];
	rbe_csv_field *f = c->fields;
	size_t k = rbe_imp_add_row(im, (uint32_t)fi, c->row_line);
	import_row *r = &im->rows[k];

	if (L->has_index) {
		double v;
		if (parse_number(f[0].s, &v) != 1 || !isfinite(v)) {
			char shown[128];
			show_text(f[0].s, f[0].len, shown, sizeof(shown));
			return rbe_imp_fail(e, file, f[0].line, f[0].col, "the leading index column must hold a number, got %s", shown);
		}
		r->index = v;
	}
	rbe_csv_field *id = &f[L->id], *ev = &f[L->eval], *pr = &f[L->prompt];
	if (id->len == 0)
		return rbe_imp_fail(e, file, id->line, id->col, "sample_id must not be empty");
	if (ev->len == 0)
		return rbe_imp_fail(e, file, ev->line, ev->col, "eval_name must not be empty (sample '%s')", id->s);
	if (decode_cell(file, pr, "prompt", e) < 0)
		return -EINVAL;
	/* The fields live only until the next row is read. */
	r->sample_id = rbe_imp_pool_strndup(&im->pool, id->s, id->len);
	r->eval_name = rbe_imp_pool_strndup(&im->pool, ev->s, ev->len);
	r->prompt = rbe_imp_pool_strndup(&im->pool, pr->s, pr->len);

	for (size_t j = 0; j < L->n_models; j++) {
		int rc = read_csv_outcome(im, file, f, L, j, k * im->M, e);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_row(void *file, const char *s, size_t n, uint32_t line, uint32_t col, rbe_error *e)
{
	return rbe_imp_check_text(file, s, n, line, col, e);
}

int rbe_imp_read_csv(importer *im, size_t fi, const rbe_inbuf *in, rbe_error *e)
{
	const char *file = im->paths[fi];
	rbe_csv c;
	csv_layout L;
	memset(&L, 0, sizeof(L));
	rbe_csv_stream(&c, in, file);
	c.check = check_row;
	c.check_ctx = (void *)file;
	int r = rbe_csv_next(&c, e);
	if (r == 0)
		r = rbe_imp_fail(e, file, 0, 0, "the file is empty: expected a header row");
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
