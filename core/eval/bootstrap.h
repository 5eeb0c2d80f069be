/* bootstrap.h — seeded, paired percentile-bootstrap intervals for one evaluated block
 * (docs/metrics.md, "Uncertainty (bootstrap)"). */
#ifndef RBE_BOOTSTRAP_H
#define RBE_BOOTSTRAP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "eval/block.h"
#include "lib/util.h"

#define RBE_BOOTSTRAP_DEFAULT_RESAMPLES 1000u
#define RBE_BOOTSTRAP_DEFAULT_LEVEL 0.95
/* Largest B accepted: every quantity keeps its B values until the quantiles are taken. */
#define RBE_BOOTSTRAP_MAX_RESAMPLES 1000000u

typedef struct rbe_bootstrap_opts {
	uint32_t resamples; /* B, default 1000; 0 = off */
	uint64_t seed;
	double level; /* 0.95 */
	uint32_t threads; /* CPU threads it may use (the job's budget); 0: every usable CPU */
} rbe_bootstrap_opts;

/* Annotate block (the JSON object eval/eval.c built for this block, see docs/result-schema.md) with
 * percentile intervals computed from B resamples of the block's n test prompts (with replacement).
 * The same resample indices serve every quantity of the block, so intervals are paired; the index
 * stream depends only on (seed, block_name, n), so two results with the same seed and split are
 * paired with each other too.
 * v, block_name, o: borrowed. block: borrowed, modified in place (keys added, never removed);
 * left untouched on failure. Errors: -EINVAL when the options are out of range or block does not
 * have the shape block_json gives for v (the message names the missing or mismatched key).
 * B = 0 returns 0 and changes nothing. Runs one thread per CPU the process may use (at most 16);
 * the result does not depend on how many. */
int rbe_bootstrap_block(const rbe_block_view *v, const char *block_name, const rbe_bootstrap_opts *o, json_t *block,
			rbe_error *e);

/* The index stream, exposed for the comparison module: fill idx[n] with resample b's indices,
 * each in [0, n). n <= UINT32_MAX; idx: borrowed, caller-sized to n. */
void rbe_bootstrap_indices(uint64_t seed, const char *block_name, size_t n, uint32_t b, uint32_t *idx);

#endif
