/* import_assemble.c — the importer's rows merged by sample_id, ordered and built into a dataset. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/import_internal.h"

/* Where a quality was read: file:line:col, or file:line for JSONL. */
static void place(char *out, size_t cap, const char *file, uint32_t line, uint32_t col)
{
	if (col)
		snprintf(out, cap, "%s:%u:%u", file, line, col);
	else
		snprintf(out, cap, "%s:%u", file, line);
}

/* By the leading index column; equal indexes keep their read order (qsort is not stable). */
static int cmp_index(const void *a, const void *b)
{
	const import_row *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->cell < y->cell ? -1 : x->cell > y->cell;
}

/* Every row has an embedding, or none has. */
static int check_embeddings(const importer *im, rbe_error *e)
{
	if (!im->fdim)
		return 0;
	for (size_t k = 0; k < im->n_rows; k++)
		if (!im->rows[k].features)
			return rbe_imp_fail(e, im->paths[im->rows[k].file], im->rows[k].line, 0,
					    "no 'embedding', but %s:%u has one; either every row has an embedding or none has",
					    im->paths[im->fdim_file], im->fdim_line);
	return 0;
}

/* Samples in order of their first row; src says which row gives each model's outcome. */
typedef struct sample_index {
	rbe_strmap *ids;  /* sample_id → sample */
	size_t n;         /* samples */
	size_t *first;    /* [sample] its first row's position */
	uint32_t *n_rows; /* [sample] rows that name it */
	size_t *src;      /* [sample * M + model] row position + 1; 0 = none */
} sample_index;

static void sample_index_free(sample_index *x)
{
	rbe_strmap_free(x->ids);
	free(x->first);
	free(x->n_rows);
	free(x->src);
}

/* Groups the rows by sample_id; a model's quality for a sample must come from one row. */
static int index_samples(const importer *im, sample_index *x, rbe_error *e)
{
	size_t n = im->n_rows, M = im->M;
	x->ids = rbe_strmap_new();
	x->n = 0;
	x->first = rbe_xmalloc((n + 1) * sizeof(size_t));
	x->n_rows = rbe_xcalloc(n + 1, sizeof(uint32_t));
	x->src = rbe_xcalloc(n * M + 1, sizeof(size_t));
	for (size_t k = 0; k < n; k++) {
		const import_row *rw = &im->rows[k];
		long s = rbe_strmap_get(x->ids, rw->sample_id);
		if (s < 0) {
			s = (long)x->n++;
			rbe_strmap_put(x->ids, rw->sample_id, s);
			x->first[s] = k;
		}
		x->n_rows[s]++;
		for (size_t j = 0; j < M; j++) {
			size_t cell = rw->cell * M + j;
			if (isnan(im->q[cell]))
				continue;
			size_t *slot = &x->src[(size_t)s * M + j];
			if (*slot) {
				const import_row *other = &im->rows[*slot - 1];
				size_t ocell = other->cell * M + j;
				char where[1100];
				place(where, sizeof(where), im->paths[other->file], im->qline[ocell], im->qcol[ocell]);
				return rbe_imp_fail(e, im->paths[rw->file], im->qline[cell], im->qcol[cell],
						    "sample '%s' has a quality for model '%s' in two rows (also at %s); each model's quality must come from one row",
						    rw->sample_id, im->models[j], where);
			}
			*slot = k + 1;
		}
	}
	return 0;
}

static rbe_builder *new_builder(const importer *im)
{
	rbe_builder *b = rbe_builder_new(im->M, (const char *const *)im->models);
	if (im->any_responses)
		rbe_builder_want_responses(b);
	if (im->fdim)
		rbe_builder_want_features(b, im->fdim, "embedding");
	rbe_builder_set_name(b, im->o->name && *im->o->name ? im->o->name : "dataset");
	return b;
}

/* What the samples came to: counts, and the first skipped sample as an example; and one
 * sample's outcomes on their way to the builder. */
typedef struct assembly {
	size_t merged, skipped;
	char example[512];
	float *qs;        /* [M] */
	double *cs;       /* [M] */
	const char **rs;  /* [M] */
} assembly;

/* Sample s into the builder, or counted as skipped when some model has no outcome for it. */
static int add_sample(const importer *im, const sample_index *x, size_t s, rbe_builder *b, assembly *a, rbe_error *e)
{
	size_t M = im->M;
	const import_row *r0 = &im->rows[x->first[s]];
	size_t missing = M;
	for (size_t j = 0; j < M && missing == M; j++)
		if (!x->src[s * M + j])
			missing = j;
	if (missing < M) {
		if (!a->skipped++)
			snprintf(a->example, sizeof(a->example), "sample '%.80s' (%.80s:%u) has no quality for model '%.60s'",
				 r0->sample_id, im->paths[r0->file], r0->line, im->models[missing]);
		return 0;
	}
	for (size_t j = 0; j < M; j++) {
		const import_row *rj = &im->rows[x->src[s * M + j] - 1];
		size_t cell = rj->cell * M + j;
		a->qs[j] = im->q[cell];
		a->cs[j] = im->c[cell];
		a->rs[j] = im->resp[cell] ? im->resp[cell] : "";
	}
	rbe_sample_in in = {
		.sample_id = r0->sample_id,
		.eval_name = r0->eval_name,
		.prompt = r0->prompt,
		.quality = a->qs,
		.cost = a->cs,
		.responses = im->any_responses ? a->rs : NULL,
		.features = r0->features,
	};
	int r = rbe_builder_add(b, &in, e);
	if (r)
		rbe_error_prefix(e, "%s:%u", im->paths[r0->file], r0->line);
	a->merged += x->n_rows[s] > 1;
	return r;
}

static void fill_stats(const importer *im, const rbe_dataset *ds, const assembly *a, rbe_import_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rows = im->rows_read;
	st->samples = ds->n;
	st->merged = a->merged;
	st->skipped = a->skipped;
	st->models = ds->n_models;
	st->evals = ds->n_evals;
	st->responses = ds->responses != NULL;
	st->feature_dim = ds->feature_dim;
	snprintf(st->feature_name, sizeof(st->feature_name), "%s", ds->feature_name ? ds->feature_name : "");
	snprintf(st->skipped_example, sizeof(st->skipped_example), "%s", a->example);
}

int rbe_imp_assemble(importer *im, rbe_dataset **out, rbe_import_stats *st, rbe_error *e)
{
	if (im->n_rows == 0)
		return im->n_files == 1 ? rbe_imp_fail(e, im->paths[0], 0, 0, "no data rows, only a header")
					: rbe_fail(e, -EINVAL, "none of the %zu files has a data row", im->n_files);
	int r = check_embeddings(im, e);
	if (r)
		return r;
	if (im->index_mode == 1)
		qsort(im->rows, im->n_rows, sizeof(import_row), cmp_index);

	sample_index x = {0};
	r = index_samples(im, &x, e);
	if (r) {
		sample_index_free(&x);
		return r;
	}
	rbe_builder *b = new_builder(im);
	assembly a = {.qs = rbe_xmalloc(im->M * sizeof(float)), .cs = rbe_xmalloc(im->M * sizeof(double)),
		      .rs = rbe_xcalloc(im->M, sizeof(char *))};
	for (size_t s = 0; s < x.n && !r; s++)
		r = add_sample(im, &x, s, b, &a, e);
	sample_index_free(&x);
	free(a.qs);
	free(a.cs);
	free(a.rs);
	if (r) {
		rbe_builder_free(b);
		return r;
	}
	if (rbe_builder_count(b) == 0) {
		rbe_builder_free(b);
		return rbe_fail(e, -EINVAL, "no complete samples: %zu sample%s skipped, e.g. %s", a.skipped,
				a.skipped == 1 ? "" : "s", a.example);
	}
	rbe_dataset *ds = NULL;
	if ((r = rbe_builder_finish(b, &ds, e)))
		return r;
	fill_stats(im, ds, &a, st);
	*out = ds;
	return 0;
}
