/* jobspec.h — one evaluation job as JSON: what rbctl run, rbctl submit and rbd-worker share,
 * so a daemon job and `rbctl run` with the same options give the same numbers. */
#ifndef RBE_JOBSPEC_H
#define RBE_JOBSPEC_H

#include <jansson.h>

#include "data/dataset.h"
#include "eval/eval.h"
#include "eval/params.h"
#include "eval/plugin.h"

/*
 * The job object (docs/protocol.md, Submit), every member optional except dataset and router:
 *   "dataset": "demo"                    dataset name (rbd) — not read here
 *   "router": "knn"                      router name (rbd) — not read here
 *   "settings": ["k=40", ...]            router parameters, as `--set`
 *   "tasks": ["mmlu", ...]               task groups (default all)
 *   "models": ["a", "b"]                 model pool (default all)
 *   "seed": 42                           0..4294967295
 *   "train_fraction": 0.7                (0, 1)
 *   "split": "paper" | "ood"
 *   "groups": ["mmlu-*=mmlu", ...]       extra grouping rules, as `--group`
 *   "default_groups": true               false: as `--no-default-groups`
 *   "lambdas": [0.1, ...]                predictive sweep, 1 to RBE_JOBSPEC_MAX_LAMBDAS values
 *   "threads": 1..1024
 *   "bootstrap": 0..1000000              default 1000
 *   "bootstrap_seed": 0..4294967295      default 42
 *   "splits": 1..1000                    default 1
 *   "keep_decisions": false
 *   "overhead_cost_per_query": >= 0
 *   "target_budget": >= 0
 *   "target_share": {"model": "m", "share": 0..1}
 *   "validation_fraction": (0, 1)
 * Unknown members, wrong types and out-of-range values are refused naming the member. So is work
 * the host could not allocate (rbe_jobspec_check and rbe_jobspec_run, which know the dataset):
 * λ values (32 by default) × prompts (× splits with keep_decisions) at most
 * RBE_JOBSPEC_MAX_DECISIONS, and bootstrap resamples × (2 × λ values + 2 × models + 2) at most
 * RBE_JOBSPEC_MAX_BOOTSTRAP_VALUES.
 */
#define RBE_JOBSPEC_MAX_LAMBDAS 4096
#define RBE_JOBSPEC_MAX_DECISIONS ((uint64_t)1 << 25)
#define RBE_JOBSPEC_MAX_BOOTSTRAP_VALUES ((uint64_t)1 << 26)
typedef struct rbe_jobspec rbe_jobspec;

/* The members above, NULL-terminated: rbd's Submit refuses any other parameter by this list. */
extern const char *const rbe_jobspec_members[];

/* Validate job (borrowed). Owned result: rbe_jobspec_free. The spec keeps a reference to job. */
int rbe_jobspec_parse(const json_t *job, rbe_jobspec **out, rbe_error *e);
void rbe_jobspec_free(rbe_jobspec *s); /* accepts NULL */

/* The router parameters ("settings") against the router's schema (a loaded plugin's, or the
 * one rbd keeps from the probe) and ds (model names, the pool of "models" applied): the same
 * checks rbe_jobspec_run makes first, by the same code. */
int rbe_jobspec_check(const rbe_jobspec *s, const rbe_param_schema *schema, const rbe_dataset *ds, rbe_error *e);

/* Run the job: model pool, parameters, then rbe_evaluate once or over "splits" seeds (the first
 * result carries the "repeated" summary). progress/progress_ctx go into the eval options.
 * *result owned reference. */
int rbe_jobspec_run(const rbe_jobspec *s, const rbe_dataset *ds, const rbe_plugin *plugin,
		    rbe_eval_progress_fn progress, void *progress_ctx, json_t **result, rbe_error *e);

/* Errors of rbe_jobspec_parse and rbe_jobspec_check name the member: their message starts with
 * "job member 'NAME'" or "unknown job member 'NAME'". This copies NAME into out (size bytes)
 * for an InvalidParameter reply's "parameter" and returns out, or NULL when msg names none. */
const char *rbe_jobspec_error_member(const char *msg, char *out, size_t size);

#endif
