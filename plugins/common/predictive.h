/* predictive.h — helpers the built-in predictive routers share (header-only, compiled into each
 * plugin, so plugins still link nothing of the host): feature selection, the per-token cost
 * model, and a parallel-for over both cores. */
#ifndef RB_PLUGINS_PREDICTIVE_H
#define RB_PLUGINS_PREDICTIVE_H

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb/router.h"

/* Parameters every predictive built-in declares (append to its own schema). */
#define RBP_FEATURE_PARAM                                                                          \
	{.name = "feature", .type = RB_PARAM_STRING, .default_value = "any",                       \
	 .help = "feature set to use: 'any', or a name such as tfidf or embedding"}
#define RBP_COST_PARAM                                                                             \
	{.name = "cost", .type = RB_PARAM_STRING, .default_value = "mean",                         \
	 .help = "cost estimate: 'mean' (model's mean train cost per query) or 'tokens' (per-token price form)"}

/* Check that the view carries the wanted features. 0, or -ENOENT with a message in err. */
static inline int rbp_check_features(const rb_view *v, const char *wanted, char *err, size_t errlen)
{
	if (!v->features || v->feature_dim == 0) {
		snprintf(err, errlen,
			 "the dataset has no prompt features (feature '%s' requested); add them with "
			 "`rbctl featurize` or import embeddings",
			 wanted);
		return -ENOENT;
	}
	if (strcmp(wanted, "any") != 0 && (!v->feature_name || strcmp(wanted, v->feature_name) != 0)) {
		snprintf(err, errlen, "feature '%s' requested but the dataset's features are '%s'", wanted,
			 v->feature_name ? v->feature_name : "(unnamed)");
		return -ENOENT;
	}
	return 0;
}

/* The paper's per-token-price form, fitted on the train view: for each model j,
 * cost ≈ a_j + b_j · prompt_tokens (least squares; the completion part is the mean a_j). */
typedef struct rbp_cost_model {
	uint32_t n_models;
	double *a, *b;
} rbp_cost_model;

static inline int rbp_cost_model_fit(rbp_cost_model *cm, const rb_view *train, char *err, size_t errlen)
{
	uint32_t M = train->n_models;
	if (!train->prompt_tokens) {
		snprintf(err, errlen, "cost=tokens needs prompt token counts, and the dataset has none");
		return -ENOENT;
	}
	cm->n_models = M;
	cm->a = calloc(M, sizeof(double));
	cm->b = calloc(M, sizeof(double));
	if (!cm->a || !cm->b)
		return -ENOMEM;
	double n = (double)train->n, mean_t = 0.0, var_t = 0.0;
	for (size_t i = 0; i < train->n; i++)
		mean_t += train->prompt_tokens[i] / (n > 0 ? n : 1);
	for (size_t i = 0; i < train->n; i++)
		var_t += (train->prompt_tokens[i] - mean_t) * (train->prompt_tokens[i] - mean_t);
	for (uint32_t j = 0; j < M; j++) {
		double mean_c = 0.0, cov = 0.0;
		for (size_t i = 0; i < train->n; i++)
			mean_c += train->cost[i * M + j] / (n > 0 ? n : 1);
		for (size_t i = 0; i < train->n; i++)
			cov += (train->prompt_tokens[i] - mean_t) * (train->cost[i * M + j] - mean_c);
		cm->b[j] = var_t > 0 ? cov / var_t : 0.0;
		cm->a[j] = mean_c - cm->b[j] * mean_t;
	}
	return 0;
}

/* Fill c_hat[i * M + j] for the queries; costs are never predicted below 0. */
static inline void rbp_cost_model_predict(const rbp_cost_model *cm, const rb_view *q, double *c_hat)
{
	for (size_t i = 0; i < q->n; i++)
		for (uint32_t j = 0; j < cm->n_models; j++) {
			double c = cm->a[j] + cm->b[j] * (q->prompt_tokens ? q->prompt_tokens[i] : 0);
			c_hat[i * cm->n_models + j] = c > 0 ? c : 0;
		}
}

static inline void rbp_cost_model_free(rbp_cost_model *cm)
{
	free(cm->a);
	free(cm->b);
	cm->a = cm->b = NULL;
}

/* What every predictive built-in sets up the same way: the feature and cost parameters
 * checked, the host's thread budget, and the per-token cost model when cost=tokens. */
typedef struct rbp_common {
	uint32_t threads;     /* >= 1 */
	int cost_tokens;      /* cost=tokens: predict ĉ with the per-token model */
	rbp_cost_model cost;
} rbp_common;

static inline int rbp_common_init(rbp_common *c, const rb_create_args *args, const char *feature, const char *cost,
				  char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (strcmp(cost, "mean") != 0 && strcmp(cost, "tokens") != 0) {
		snprintf(err, errlen, "parameter 'cost': '%s' is neither 'mean' nor 'tokens'", cost);
		return -EINVAL;
	}
	int rc = rbp_check_features(args->train, feature, err, errlen);
	if (rc < 0)
		return rc;
	/* host->threads arrived with the first ABI; still read it only if the host's struct has it. */
	const rb_host_api *host = args->host;
	c->threads = host && host->size >= offsetof(rb_host_api, threads) + sizeof(host->threads) && host->threads
			     ? host->threads
			     : 1;
	c->cost_tokens = strcmp(cost, "tokens") == 0;
	return c->cost_tokens ? rbp_cost_model_fit(&c->cost, args->train, err, errlen) : 0;
}

/* The predict() tail: ĉ from the per-token model, or leave it to the host's train mean. */
static inline void rbp_common_costs(const rbp_common *c, const rb_view *queries, double *c_hat, int *has_cost)
{
	*has_cost = c->cost_tokens;
	if (c->cost_tokens)
		rbp_cost_model_predict(&c->cost, queries, c_hat);
}

static inline void rbp_common_free(rbp_common *c)
{
	rbp_cost_model_free(&c->cost);
}

/* Run fn(ctx, begin, end) over [0, n) split into `threads` contiguous chunks. */
typedef void (*rbp_range_fn)(void *ctx, size_t begin, size_t end);

typedef struct rbp_chunk {
	rbp_range_fn fn;
	void *ctx;
	size_t begin, end;
} rbp_chunk;

static inline void *rbp_chunk_main(void *arg)
{
	rbp_chunk *c = arg;
	c->fn(c->ctx, c->begin, c->end);
	return NULL;
}

static inline void rbp_parallel_for(size_t n, uint32_t threads, rbp_range_fn fn, void *ctx)
{
	if (threads > 64)
		threads = 64;
	if (threads <= 1 || n < 2 * (size_t)threads) {
		fn(ctx, 0, n);
		return;
	}
	pthread_t tid[64];
	rbp_chunk chunk[64];
	int started[64] = {0};
	for (uint32_t t = 0; t < threads; t++) {
		chunk[t] = (rbp_chunk){fn, ctx, n * t / threads, n * (t + 1) / threads};
		started[t] = t > 0 && pthread_create(&tid[t], NULL, rbp_chunk_main, &chunk[t]) == 0;
	}
	fn(ctx, chunk[0].begin, chunk[0].end);
	for (uint32_t t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			fn(ctx, chunk[t].begin, chunk[t].end); /* no thread: do the chunk here */
	}
}

#endif
