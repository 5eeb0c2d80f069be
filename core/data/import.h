/* import.h — RouterBench wide CSV and JSONL files → one outcome matrix (docs/formats.md). */
#ifndef RBE_IMPORT_H
#define RBE_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "lib/util.h"

typedef enum rbe_import_format {
	RBE_IMPORT_AUTO = 0, /* by extension (.csv; .jsonl .ndjson .json), else by content */
	RBE_IMPORT_CSV,
	RBE_IMPORT_JSONL,
} rbe_import_format;

typedef struct rbe_import_opts {
	const char *name;         /* dataset name, e.g. the output file's stem; NULL → "dataset" */
	rbe_import_format format; /* applies to every file */
	int no_responses;         /* drop response texts even when the files carry them */
	size_t max_line;          /* longest line (or CSV row) in bytes; 0: RBE_IMPORT_MAX_LINE */
} rbe_import_opts;

/* Files are streamed: memory grows with the dataset, not the files, but one line or CSV row
 * must fit in memory whole. */
#define RBE_IMPORT_MAX_LINE ((size_t)64 << 20)

typedef struct rbe_import_stats {
	size_t files;
	size_t rows;        /* data rows (CSV) and non-blank lines (JSONL) read */
	size_t samples;     /* samples in the dataset */
	size_t merged;      /* of those, samples assembled from more than one row */
	size_t skipped;     /* samples left out because some model has no quality in any of their rows */
	uint32_t models, evals;
	int responses;      /* 1 when the dataset keeps response texts */
	uint32_t feature_dim;      /* 0 when the dataset has no features */
	char feature_name[65];     /* the features' name ("embedding", "tfidf"); "" when none */
	char skipped_example[512]; /* the first skipped sample and a model it lacks; "" when none */
} rbe_import_stats;

/*
 * Reads the files in the order given, merges rows that share a sample_id, orders samples by the
 * leading index column when the files have one (else file order) and builds the dataset.
 * paths are borrowed; o and stats may be NULL. On success *out is owned by the caller
 * (rbe_dataset_free). On failure returns a negative errno with e naming file:line:column (or
 * file:line and key for JSONL) and what was expected; *out and *stats are left untouched.
 */
int rbe_import_files(const char *const *paths, size_t n, const rbe_import_opts *o, rbe_dataset **out,
		     rbe_import_stats *stats, rbe_error *e);

/*
 * What `rbctl import FILES -o out_path` does, and rbd for a dataset configured as CSV/JSONL files:
 * rbe_import_files, prompt features, then the dataset written atomically to out_path. A NULL
 * o->name names the dataset by out_path's stem. Hashed TF-IDF features of tfidf_dim dimensions
 * (0: none) are attached when the files bring no embeddings, or in their place when
 * replace_embeddings is set. stats (may be NULL) describes the dataset as written. Negative errno
 * with e filled on failure; stats untouched then.
 */
int rbe_import_to_rbds(const char *const *paths, size_t n, const rbe_import_opts *o, uint32_t tfidf_dim,
		       int replace_embeddings, const char *out_path, rbe_import_stats *stats, rbe_error *e);

/* The format a file would be read as: by extension, else by its first non-blank byte ('{' means
 * JSONL). data may be NULL when only the name is known (then CSV is the fallback). */
rbe_import_format rbe_import_detect(const char *path, const char *data, size_t len);

/* The dataset name for an output path: its file name without directory and last extension
 * ("out/mbpp.rbds" → "mbpp"). Owned: free. */
char *rbe_import_stem(const char *path);

#endif
