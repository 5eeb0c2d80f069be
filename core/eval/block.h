/* block.h — one evaluated block (a task group, or "overall") as per-prompt arrays: what the
 * modules that derive figures from decisions (bootstrap, metric families, decision export,
 * comparison) read. Built by eval/eval.c; everything borrowed, valid during the call. */
#ifndef RBE_BLOCK_H
#define RBE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct rbe_block_view {
	size_t n;                       /* test prompts of the block */
	uint32_t M;                     /* models */
	uint32_t P;                     /* router operating points */
	const char *const *model_names; /* [M], dataset order */
	const char *const *sample_ids;  /* [n], in dataset order */
	const float *llm_q;             /* [n * M] each model's recorded quality on each prompt */
	const double *llm_c;            /* [n * M] each model's recorded cost on each prompt */
	const uint32_t *model;          /* [P * n] the router's final model at point p for prompt i */
	const float *q;                 /* [P * n] quality of that decision */
	const double *c;                /* [P * n] cost charged for that decision (every model called,
	                                 * plus the per-query overhead when one is set) */
} rbe_block_view;

/* Row i of a per-point array: v->model[p * v->n + i], likewise q and c. */

#endif
