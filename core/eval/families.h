/* families.h — metric families of other router benchmarks (RouteLLM, LLMRouterBench, RouterArena)
 * computed from one evaluated block's decisions (docs/metrics.md, "Metric families of other
 * benchmarks"). */
#ifndef RBE_FAMILIES_H
#define RBE_FAMILIES_H

#include <jansson.h>

#include "eval/block.h"

/* The "families" object of one block: {"routellm": {...} | null, ["routellm_note": str,]
 * "llmrouterbench": {...}, "routerarena": {...}}. Per-point figures are arrays in the order of
 * the router's points; figures that are undefined on this block (a division by zero, a level
 * never reached) are JSON null. The max-quality point is chosen as eval/eval.c does: highest mean
 * quality, ties to the cheaper, then to the earlier point.
 * v: borrowed (every array as eval/block.h describes, valid during the call).
 * Returns an owned reference (json_decref); never NULL (aborts on out-of-memory). */
json_t *rbe_families_block(const rbe_block_view *v);

#endif
