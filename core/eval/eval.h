/* eval.h — the evaluation engine: split, fit, route, and every metric, as one result document. */
#ifndef RBE_EVAL_H
#define RBE_EVAL_H

#include <jansson.h>

#include "data/dataset.h"
#include "eval/params.h"
#include "eval/plugin.h"
#include "data/split.h"

#define RBE_RESULT_SCHEMA "routerbench.result/1"
/* Queries per predict() call: a remote router's shared output area holds one batch. */
#define RBE_PREDICT_BATCH 8192
#define RBE_PAPER_LAMBDA_COUNT 32
extern const double rbe_paper_lambdas[RBE_PAPER_LAMBDA_COUNT];

/* Progress of an evaluation: called on the evaluating thread before each call into the router
 * (phase "create", "n_points", "describe_point", "predict", "decide" or "destroy"; task is the
 * task group) and with phase "done" as each task group finishes. fraction: the share of the
 * selected task groups finished, 0..1. Strings are borrowed for the call. */
typedef void (*rbe_eval_progress_fn)(void *ctx, const char *phase, const char *task, double fraction);

typedef struct rbe_eval_opts {
	uint32_t seed;                /* split seed (numpy legacy seeding); router seeds derive from it */
	double train_fraction;        /* (0, 1), default 0.7 */
	rbe_split_mode mode;          /* paper (default) or out-of-distribution */
	const rbe_grouping *grouping; /* NULL: the paper's (mmlu-* → mmlu) */
	const char *const *tasks;     /* task groups to evaluate; NULL: all */
	size_t n_tasks;
	const double *lambdas; /* predictive sweep; NULL: the paper's 32 values */
	size_t n_lambdas;
	uint32_t threads; /* CPU budget handed to the router; 0: online CPUs */

	/* Beyond the paper (docs/metrics.md). */
	uint32_t bootstrap_resamples;   /* B for the 95 % intervals; 0 turns the bootstrap off */
	uint64_t bootstrap_seed;
	double overhead_cost_per_query; /* USD added to every routed prompt's cost (router axis) */
	int keep_decisions;             /* store per-prompt decisions in every block */
	/* Calibration: choose the operating point on a validation part of the train split. */
	double target_budget;           /* USD per query; < 0: none */
	const char *target_share_model; /* with target_share in [0, 1]; NULL: none */
	double target_share;
	double validation_fraction;     /* of each group's train part, default 0.2 */
	rbe_eval_progress_fn progress;  /* NULL: none */
	void *progress_ctx;
} rbe_eval_opts;

void rbe_eval_opts_default(rbe_eval_opts *o);

/*
 * How the evaluation calls the router. A plugin loaded in this process (rbe_plugin.ops NULL) is
 * called directly; rbd-worker's evaluator sets ops to reach a router running in a process of its
 * own. ctx is rbe_plugin.ops_ctx; state is what create made. Every function returns 0 or -errno
 * (a router's own error, or -EPIPE/-EPROTO when a remote router died or broke the protocol).
 */
typedef struct rbe_router_ops {
	/* args as rb_router.create takes them; params the same values in this host's layout. */
	int (*create)(void *ctx, const rb_create_args *args, const rbe_params *params, void **state, char *err,
		      size_t errlen);
	/* Optional: the query view the next predict, decide and distribution calls index. */
	int (*queries)(void *ctx, void *state, const rb_view *queries);
	/* predict on queries [off, off + n) into q_hat/c_hat (n rows each). */
	int (*predict)(void *ctx, void *state, const rb_view *queries, size_t off, size_t n, float *q_hat,
		       double *c_hat, int *has_cost);
	int (*n_points)(void *ctx, void *state, uint32_t *n);
	int (*describe_point)(void *ctx, void *state, uint32_t point, char *buf, size_t len);
	int (*decide)(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
		      uint32_t *model);
	int (*distribution)(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t point, double *probs);
	void (*destroy)(void *ctx, void *state);
	/* Optional: told when the evaluation fails because the router returned invalid output. */
	void (*fault)(void *ctx);
} rbe_router_ops;

/* Evaluate the router on ds. *result (owned reference) follows docs/result-schema.md.
 * Errors: bad options, unknown task, a router that fails or returns invalid output; the
 * message names the router function and the prompt. */
int rbe_evaluate(const rbe_dataset *ds, const rbe_plugin *plugin, const rbe_params *params,
		 const rbe_eval_opts *o, json_t **result, rbe_error *e);

#endif
