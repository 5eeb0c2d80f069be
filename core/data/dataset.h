/* dataset.h — the in-memory outcome matrix and the builder that importer and generator fill. */
#ifndef RBE_DATASET_H
#define RBE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

/*
 * One outcome matrix: n prompts × n_models models. The same struct describes a dataset built in
 * memory and one mapped from a .rbds file (then every pointer points into the mapping).
 * Everything is read-only once built.
 */
typedef struct rbe_dataset {
	uint32_t n_models;
	uint32_t n_evals;
	size_t n;                          /* samples (prompts) */
	const char **model_names;          /* [n_models]; dataset order breaks ties */
	const char **eval_names;           /* [n_evals] in order of first appearance */
	const char **sample_ids;           /* [n], unique */
	const char **prompts;              /* [n] decoded text */
	const uint32_t *eval;              /* [n] index into eval_names */
	const float *quality;              /* [n * n_models], each in [0, 1] */
	const double *cost;                /* [n * n_models] USD, each >= 0 */
	const char **responses;            /* [n * n_models] or NULL */
	const uint32_t *prompt_tokens;     /* [n] or NULL */
	const uint32_t *completion_tokens; /* [n * n_models] or NULL */
	uint32_t feature_dim;              /* 0 when there are no features */
	const float *features;             /* [n * feature_dim] or NULL */
	const char *feature_name;          /* e.g. "embedding"; NULL when no features */
	const char *name;                  /* short name (file stem or generator preset) */
	uint8_t sha256[32];                /* content hash of the .rbds body; zero until written/opened */
	struct rbe_dataset_store *store;   /* private: who owns the memory */
} rbe_dataset;

void rbe_dataset_free(rbe_dataset *ds); /* accepts NULL */

/* Index of a model by exact name, or -1. */
int rbe_dataset_model_index(const rbe_dataset *ds, const char *name);

/* A copy of ds (borrowed) keeping only the models named in names (k of them, in the given
 * order) and every prompt; it keeps ds's name and content hash, so results say which data the
 * pool was cut from. Owned result: rbe_dataset_free. -EINVAL naming an unknown or repeated model. */
int rbe_dataset_select_models(const rbe_dataset *ds, const char *const *names, uint32_t k, rbe_dataset **out,
			      rbe_error *e);

/* One sample handed to the builder; all pointers borrowed for the call. */
typedef struct rbe_sample_in {
	const char *sample_id;
	const char *eval_name;
	const char *prompt;
	const float *quality;              /* [n_models] */
	const double *cost;                /* [n_models] */
	const char *const *responses;      /* [n_models] or NULL */
	uint32_t prompt_tokens;            /* used when the builder has tokens */
	const uint32_t *completion_tokens; /* [n_models] or NULL */
	const float *features;             /* [feature_dim] or NULL */
} rbe_sample_in;

typedef struct rbe_builder rbe_builder;

/* Owned: rbe_builder_free or rbe_builder_finish. Aborts on ENOMEM. */
rbe_builder *rbe_builder_new(uint32_t n_models, const char *const *model_names);
void rbe_builder_free(rbe_builder *b);
/* Optional sections must be declared before the first sample; then every sample must supply
 * them. */
void rbe_builder_want_responses(rbe_builder *b);
void rbe_builder_want_tokens(rbe_builder *b);
void rbe_builder_want_features(rbe_builder *b, uint32_t dim, const char *feature_name);
void rbe_builder_set_name(rbe_builder *b, const char *name);
/* Size the arrays for n samples up front (after declaring sections), so a large build does
 * not pass through doubling reallocations. */
void rbe_builder_reserve(rbe_builder *b, size_t n);
/* Append a sample. -EEXIST for a duplicate sample_id, -EINVAL for a quality outside [0, 1],
 * NaN, a negative or non-finite cost, or a missing declared section; e says which. */
int rbe_builder_add(rbe_builder *b, const rbe_sample_in *s, rbe_error *e);
size_t rbe_builder_count(const rbe_builder *b);
/* Turn the builder into a dataset (consumes b, even on failure). */
int rbe_builder_finish(rbe_builder *b, rbe_dataset **out, rbe_error *e);

/* For modules that create datasets (the builder, the .rbds reader): a dataset's memory is
 * released through its store; embed this as the first member of the owner's own struct. */
struct rbe_dataset_store {
	void (*release)(struct rbe_dataset_store *store);
};

#endif
