/* import_internal.h — the importer's state, shared by import.c and its CSV, JSONL and assembly
 * parts; private to core/data/import*.c. */
#ifndef RBE_IMPORT_INTERNAL_H
#define RBE_IMPORT_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "data/import.h"
#include "lib/util.h"

#define RESPONSE_SUFFIX "|model_response"
#define COST_SUFFIX "|total_cost"
#define ORACLE_COLUMN "oracle_model_to_route_to"

/* A stable string pool for text copied out of JSON documents and header names. */
struct pool_block {
	struct pool_block *next;
	size_t used, cap;
	_Alignas(8) char data[];
};

/* One input row (CSV data row or JSONL line). Its per-model cells live in the importer's flat
 * arrays at [cell * M + j], so sorting rows moves only this small struct. */
typedef struct import_row {
	uint32_t file;
	uint32_t line;
	double index;
	size_t cell;
	const char *sample_id, *eval_name, *prompt; /* in the pool */
	const float *features;                      /* pool, or NULL */
} import_row;

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

	import_row *rows;
	size_t n_rows, cap_rows;
	float *q;              /* NaN = no quality in this row */
	double *c;
	const char **resp;
	uint32_t *qline, *qcol; /* where each quality was read (qcol 0 for JSONL) */

	struct pool_block *pool; /* every text the rows keep: the files are streamed, not kept */
	size_t rows_read;
} importer;

/* n bytes (8-aligned) or a copy of s[0..len) NUL-terminated, living until rbe_imp_pool_free. */
void *rbe_imp_pool_alloc(struct pool_block **head, size_t n);
char *rbe_imp_pool_strndup(struct pool_block **head, const char *s, size_t len);
void rbe_imp_pool_free(struct pool_block *b);

/* "file:line:col: message" as -EINVAL, dropping the parts that are 0. */
int rbe_imp_fail(rbe_error *e, const char *file, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A new row of file:line with no outcomes yet; returns its position in im->rows. */
size_t rbe_imp_add_row(importer *im, uint32_t file, uint32_t line);

/*
 * The first file fixes the model set and order; every later file must name the same set (in any
 * order). Fills map[i] with the dataset index of the file's i-th model. names are borrowed;
 * expect says what declares a model, for the message when there is none.
 */
int rbe_imp_use_models(importer *im, size_t fi, uint32_t line, const char *const *names, size_t n, uint32_t *map,
		       const char *expect, rbe_error *e);

/* Every file must have a leading index column, or none must. */
int rbe_imp_use_index_mode(importer *im, size_t fi, int has_index, uint32_t line, rbe_error *e);

/* Text must be UTF-8 without NUL bytes: s[0..n), which starts at file:line:col. 0 or -EINVAL
 * naming where the first bad byte is. */
int rbe_imp_check_text(const char *file, const char *s, size_t n, uint32_t line, uint32_t col, rbe_error *e);

/* The readers: file fi, streamed from in (the reader takes it over and releases it; a
 * byte-order mark is already skipped), appended to im's rows. Text the rows keep is copied into
 * im->pool. */
int rbe_imp_read_csv(importer *im, size_t fi, const rbe_inbuf *in, rbe_error *e);
int rbe_imp_read_jsonl(importer *im, size_t fi, rbe_inbuf *in, rbe_error *e);

/* im's rows merged by sample_id, ordered and built into *out (owned: rbe_dataset_free); st
 * filled except st->files. */
int rbe_imp_assemble(importer *im, rbe_dataset **out, rbe_import_stats *st, rbe_error *e);

/* Checks a quality that is present; v is NaN for a non-number. */
static inline int bad_quality(double v) { return !(v >= 0.0 && v <= 1.0); }
static inline int bad_cost(double v) { return !(v >= 0.0 && isfinite(v)); }

static inline int ends_with(const char *s, size_t len, const char *suffix, size_t slen)
{
	return len > slen && memcmp(s + len - slen, suffix, slen) == 0;
}

#endif
