/* compare.h — two result documents on the same data and split, side by side: ΔAIQ with a paired
 * bootstrap interval, Δ max quality, Δ cost at equal quality, and where the decisions differ
 * (docs/metrics.md, "Comparing two routers"). */
#ifndef RBE_COMPARE_H
#define RBE_COMPARE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/util.h"

#define RBE_COMPARE_SCHEMA "routerbench.compare/1"
#define RBE_COMPARE_DEFAULT_TOP 10u
#define RBE_COMPARE_DEFAULT_SEED 42u

typedef struct rbe_compare_opts {
	const char *name_a, *name_b; /* how errors and the output name the two results (file paths) */
	uint32_t resamples;          /* B; 0: A's "bootstrap" block, else RBE_BOOTSTRAP_DEFAULT_RESAMPLES */
	int seed_set;                /* seed given; otherwise A's "bootstrap" seed, else 42 */
	uint64_t seed;               /* <= INT64_MAX, so the document can state it */
	uint32_t top; /* prompts listed per block as the most flipped */
} rbe_compare_opts;

void rbe_compare_opts_default(rbe_compare_opts *o);

/* Compare result B against result A (both borrowed; documents of docs/result-schema.md, with
 * decisions when `rbctl run --keep-decisions` stored them). On success *out is the
 * routerbench.compare/1 document (owned: json_decref). Errors: -EINVAL when a document is not a
 * result or misses a field it needs (the message names the file and the key), -EXDEV when the
 * two are on different datasets or splits or share no task group (the message names both files);
 * *out is untouched on failure. */
int rbe_compare(const json_t *a, const json_t *b, const rbe_compare_opts *o, json_t **out, rbe_error *e);

/* The readable table `rbctl compare` prints by default, from a compare document (borrowed). */
void rbe_compare_table(FILE *out, const json_t *cmp);

#endif
