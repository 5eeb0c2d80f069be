/* features.h — prompt features for datasets: the built-in hashed TF-IDF, imported embeddings. */
/* (Not features.h: core/ is on the include path, and that name would shadow glibc's <features.h>.) */
#ifndef RBE_FEATURIZE_H
#define RBE_FEATURIZE_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "lib/util.h"

/* docs/features.md defines the featurizer exactly; these numbers are part of that definition. */
#define RBE_TFIDF_NAME "tfidf"
#define RBE_TFIDF_DEFAULT_DIM 256u
#define RBE_TFIDF_MIN_DIM 16u
#define RBE_TFIDF_MAX_DIM 4096u

/* The term kinds; each is the salt byte hashed before the term's bytes. */
enum rbe_tfidf_kind {
	RBE_TFIDF_UNIGRAM = 'u', /* one word */
	RBE_TFIDF_BIGRAM = 'b',  /* two consecutive words joined by one space */
	RBE_TFIDF_CHARGRAM = 'c' /* 3, 4 or 5 consecutive characters of the normalised text */
};

/* The term hash: FNV-1a 64 over the kind byte then the term's bytes, then the MurmurHash3 64-bit
 * finaliser. */
uint64_t rbe_tfidf_hash(int kind, const char *bytes, size_t len);
/* Where a term lands: bucket index in [0, dim) and sign +1 or -1. */
void rbe_tfidf_bucket(int kind, const char *bytes, size_t len, uint32_t dim, uint32_t *index, int *sign);

typedef struct rbe_tfidf_stats {
	size_t nonzeros;   /* nonzero entries over all rows */
	size_t empty_rows; /* prompts without a single term (their rows are zero) */
	unsigned threads;  /* threads actually used */
} rbe_tfidf_stats;

/*
 * Hashed TF-IDF rows of n prompts (borrowed), row-major n × dim, each row L2-normalised or zero.
 * dim in [RBE_TFIDF_MIN_DIM, RBE_TFIDF_MAX_DIM]; threads 0 means the online CPUs; the result is
 * the same for any thread count. *out is owned (free); idf_out (may be NULL) receives the dim
 * inverse document frequencies; stats may be NULL. Outputs untouched on failure (-EINVAL for a
 * bad dim or n == 0).
 */
int rbe_features_tfidf_prompts(const char *const *prompts, size_t n, uint32_t dim, unsigned threads,
			       float **out, float *idf_out, rbe_tfidf_stats *stats, rbe_error *e);

/* The same over every prompt of ds (borrowed), in dataset order, with the online CPUs. */
int rbe_features_tfidf(const rbe_dataset *ds, uint32_t dim, float **out /* n*dim, owned: free */,
		       rbe_error *e);

/*
 * Precomputed embeddings: path holds raw little-endian float32, n rows × dim columns, row i for
 * sample i in dataset order, nothing else (the size must be exactly n·dim·4 bytes). Every value
 * must be finite (the message names row and column, both 0-based, and the row's sample id when
 * sample_ids is not NULL). Rows are L2-normalised when normalize is set (a zero row stays zero).
 * *out is owned (free), untouched on failure.
 */
int rbe_features_read_f32(const char *path, size_t n, uint32_t dim, const char *const *sample_ids,
			  int normalize, float **out, rbe_error *e);

/* L2-normalise each of n rows of dim floats in place; zero rows stay zero. */
void rbe_features_normalize(float *rows, size_t n, uint32_t dim);

/* A feature name is 1..64 bytes of [A-Za-z0-9_.-] and not "any" (routers' wildcard). 0 or
 * -EINVAL with a message. */
int rbe_features_check_name(const char *name, rbe_error *e);

/*
 * A copy of ds (borrowed) rebuilt through the builder: same name, samples, order, qualities,
 * costs, responses and token counts, with features (borrowed, n × dim) named name attached in
 * place of any it had. *out is owned: rbe_dataset_free; untouched on failure (-EINVAL with a
 * message for a non-finite value, an empty or reserved name, or dim == 0).
 */
int rbe_dataset_with_features(const rbe_dataset *ds, uint32_t dim, const float *features,
			      const char *name, rbe_dataset **out, rbe_error *e);

/* The `--features` option of rbctl import and gen: "none", "tfidf" or "tfidf:DIM". Parses into
 * *dim (0 for none). -EINVAL with a message for anything else. */
int rbe_features_parse_option(const char *text, uint32_t *dim, rbe_error *e);

/* Replace *ds by a copy with hashed TF-IDF features of dim dimensions (the old one is freed).
 * On failure *ds is left as it was. */
int rbe_dataset_attach_tfidf(rbe_dataset **ds, uint32_t dim, rbe_error *e);

#endif
