/* import.c — RouterBench CSV and JSONL files → one outcome matrix: the files read and handed to
 * their reader, and the importer's shared state (rows, model set, text pool). */
#include "data/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/features.h"
#include "data/import_internal.h"
#include "data/rbds_format.h"

/* ---- the text pool ------------------------------------------------------------------------------ */

void *rbe_imp_pool_alloc(struct pool_block **head, size_t n)
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

char *rbe_imp_pool_strndup(struct pool_block **head, const char *s, size_t len)
{
	char *p = rbe_imp_pool_alloc(head, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void rbe_imp_pool_free(struct pool_block *b)
{
	while (b) {
		struct pool_block *next = b->next;
		free(b);
		b = next;
	}
}

/* ---- the importer's state ---------------------------------------------------------------------- */

int rbe_imp_fail(rbe_error *e, const char *file, uint32_t line, uint32_t col, const char *fmt, ...)
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

size_t rbe_imp_add_row(importer *im, uint32_t file, uint32_t line)
{
	if (im->n_rows == im->cap_rows) {
		size_t cap = im->cap_rows ? im->cap_rows * 2 : 1024, m = im->M;
		im->rows = rbe_xrealloc(im->rows, cap * sizeof(import_row));
		im->q = rbe_xrealloc(im->q, cap * m * sizeof(float));
		im->c = rbe_xrealloc(im->c, cap * m * sizeof(double));
		im->resp = rbe_xrealloc(im->resp, cap * m * sizeof(char *));
		im->qline = rbe_xrealloc(im->qline, cap * m * sizeof(uint32_t));
		im->qcol = rbe_xrealloc(im->qcol, cap * m * sizeof(uint32_t));
		im->cap_rows = cap;
	}
	size_t k = im->n_rows++;
	import_row *r = &im->rows[k];
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

int rbe_imp_use_models(importer *im, size_t fi, uint32_t line, const char *const *names, size_t n, uint32_t *map,
		       const char *expect, rbe_error *e)
{
	const char *file = im->paths[fi];
	if (n == 0)
		return rbe_imp_fail(e, file, line, 0, "no models: expected at least one %s", expect);
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
			return rbe_imp_fail(e, file, line, 0, "model '%s' is not among the models of %s:%u; every file must have the same models",
					    names[j], im->paths[im->model_file], im->model_line);
		map[j] = (uint32_t)g;
	}
	if (n != im->M) {
		for (uint32_t g = 0; g < im->M; g++) {
			size_t j = 0;
			while (j < n && map[j] != g)
				j++;
			if (j == n)
				return rbe_imp_fail(e, file, line, 0, "model '%s' of %s:%u is missing here; every file must have the same models",
						    im->models[g], im->paths[im->model_file], im->model_line);
		}
	}
	return 0;
}

int rbe_imp_use_index_mode(importer *im, size_t fi, int has_index, uint32_t line, rbe_error *e)
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
	return rbe_imp_fail(e, im->paths[fi], line, 0,
			    "%s has a leading index column but %s has none, so the row order is ambiguous; give every file an index column or none",
			    with, without);
}

/* ---- text must be UTF-8 ------------------------------------------------------------------------ */

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
int rbe_imp_check_text(const char *file, const char *buf, size_t len, uint32_t line, uint32_t col, rbe_error *e)
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
	for (size_t k = 0; k < bad; k++) {
		if (s[k] == '\n' || (s[k] == '\r' && !(k + 1 < bad && s[k + 1] == '\n'))) {
			line++;
			col = 1;
		} else if ((s[k] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (s[bad] == 0)
		return rbe_imp_fail(e, file, line, col, "a NUL byte; text must be UTF-8 without NUL characters");
	return rbe_imp_fail(e, file, line, col, "invalid UTF-8 (byte 0x%02x); the file must be UTF-8", s[bad]);
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

/* Opens path for streaming; a directory is refused here, where the message can say so. */
static int open_input(const char *path, size_t max, rbe_inbuf *in, rbe_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return rbe_fail(e, -EISDIR, "%s: is a directory", path);
	}
	rbe_inbuf_open(in, fd, max);
	return 0;
}

static int read_error(const char *path, int r, rbe_error *e)
{
	return rbe_fail(e, r, "%s: read error: %s", path, strerror(-r));
}

/* Reads enough of the start to skip a byte-order mark and, when the format is not forced and the
 * name does not tell, to see the first non-blank byte. */
static int start_input(const char *path, rbe_import_format forced, rbe_inbuf *in, rbe_import_format *fmt,
		       rbe_error *e)
{
	int r = 0;
	while (in->len < 3 && (r = rbe_inbuf_more(in)) > 0)
		;
	if (r < 0)
		return read_error(path, r, e);
	if (in->len >= 3 && memcmp(in->buf, "\xEF\xBB\xBF", 3) == 0)
		in->pos = 3;
	/* Content decides only when neither the caller nor the extension does: an extension decides
	 * when the answer is the same whatever the content. */
	*fmt = forced ? forced : rbe_import_detect(path, NULL, 0);
	if (forced || rbe_import_detect(path, "{", 1) == *fmt)
		return 0;
	/* Find the first non-blank byte (a very long blank start is left to the reader to refuse). */
	for (size_t rel = 0;;) {
		while (in->pos + rel < in->len && in->buf[in->pos + rel] && strchr(" \t\r\n", in->buf[in->pos + rel]))
			rel++;
		if (in->pos + rel < in->len || (r = rbe_inbuf_more(in)) == 0 || r == -E2BIG)
			break;
		if (r < 0)
			return read_error(path, r, e);
	}
	*fmt = rbe_import_detect(path, in->buf + in->pos, in->len - in->pos);
	return 0;
}

/* Each file streamed to its format's reader; the text the rows keep is copied into im's pool. */
static int read_files(importer *im, rbe_error *e)
{
	size_t max = im->o->max_line ? im->o->max_line : RBE_IMPORT_MAX_LINE;
	for (size_t fi = 0; fi < im->n_files; fi++) {
		const char *path = im->paths[fi];
		rbe_inbuf in;
		rbe_import_format fmt = RBE_IMPORT_CSV;
		int r = open_input(path, max, &in, e);
		if (r)
			return r;
		r = start_input(path, im->o->format, &in, &fmt, e);
		if (!r)
			r = fmt == RBE_IMPORT_JSONL ? rbe_imp_read_jsonl(im, fi, &in, e) : rbe_imp_read_csv(im, fi, &in, e);
		else
			rbe_inbuf_free(&in);
		close(in.fd);
		if (r)
			return r;
	}
	return 0;
}

static void importer_free(importer *im)
{
	for (uint32_t j = 0; j < im->M; j++)
		free(im->models[j]);
	free(im->models);
	rbe_strmap_free(im->model_of);
	free(im->rows);
	free(im->q);
	free(im->c);
	free(im->resp);
	free(im->qline);
	free(im->qcol);
	rbe_imp_pool_free(im->pool);
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
	rbe_import_stats st;
	rbe_dataset *ds = NULL;
	int r = read_files(&im, e);
	if (!r)
		r = rbe_imp_assemble(&im, &ds, &st, e);
	if (!r) {
		st.files = n;
		*out = ds;
		if (stats)
			*stats = st;
	}
	importer_free(&im);
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
