/* blockjson.h — the metrics of one block (a task group or "overall"): the result's BLOCK object. */
#ifndef RBE_BLOCKJSON_H
#define RBE_BLOCKJSON_H

#include <jansson.h>

#include "eval/block.h"

/* Build the BLOCK object of docs/result-schema.md from the block's per-prompt arrays.
 * point_params: [P] JSON values (λ or the router's point settings), borrowed.
 * expected_q/expected_c: [P] sums of the router's exact expectation, or NULL. Owned result. */
json_t *rbe_block_json(const rbe_block_view *v, size_t n_train, const json_t *point_params,
		       const double *expected_q, const double *expected_c);

/* Oracle of one prompt: the best score, cheapest among ties; nobody (0, 0) when no model
 * scores above 0. */
void rbe_oracle_of(const float *q, const double *c, uint32_t M, double *quality, double *cost);

#endif
