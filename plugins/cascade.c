/* cascade.c — the paper's non-predictive cascade (§5.2): call models cheapest first until a
 * simulated judge accepts an answer or the next call would break the per-response budget.
 *
 * A policy router whose operating points are every (budget, judge error rate ε) pair. The
 * judge accepts an answer scoring at least a threshold and is wrong with probability ε.
 * docs/routers.md (cascade) states every rule; this file's comments say why. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb/router.h"

/* The host accepts at most this many operating points (core/eval/eval.c). */
#define CASCADE_MAX_POINTS 100000u

enum { P_BUDGETS, P_ERROR_RATES, P_THRESHOLD, P_THRESHOLD_QUANTILE };

static const rb_param_spec params[] = {
	[P_BUDGETS] = {.name = "budgets",
		       .type = RB_PARAM_REAL_LIST,
		       .default_value = "0.001,0.005,0.01,0.05,0.1,0.5,1,5,10,50,100",
		       /* no bounds: checked in create (>= 0, no repeats) */
		       .help = "maximum cost per response in USD, judged by the models' mean train cost "
			       "(one operating point each per error rate)"},
	[P_ERROR_RATES] = {.name = "error_rates",
			   .type = RB_PARAM_REAL_LIST,
			   .default_value = "0,0.01,0.05,0.1,0.2,0.4,0.6,0.8",
			   RB_PARAM_BOUNDS(0, 1),
			   .help = "judge error rates: the probability that each verdict is flipped "
				   "(one curve each)"},
	[P_THRESHOLD] = {.name = "threshold",
			 .type = RB_PARAM_REAL,
			 .default_value = "-1",
			 RB_PARAM_BOUNDS(-1, 1),
			 .help = "the judge accepts an answer scoring at least this (0..1); "
				 "-1: the threshold_quantile quantile of the train scores"},
	[P_THRESHOLD_QUANTILE] = {.name = "threshold_quantile",
				  .type = RB_PARAM_REAL,
				  .default_value = "0.95",
				  RB_PARAM_BOUNDS(0, 1),
				  .help = "quantile of all train scores (every model, every train prompt) "
					  "used as the threshold when threshold=-1"},
};

typedef struct cascade_state {
	rb_host_api host;    /* copy of the fields we use; the host's table outlives us anyway */
	uint32_t n_models;
	uint32_t *order;     /* [n_models] model indices, cheapest mean train cost first */
	double *order_cost;  /* [n_models] mean train cost per query of order[k] */
	double threshold;
	double *budgets;     /* [n_budgets] */
	size_t n_budgets;
	double *error_rates; /* [n_error_rates] */
	size_t n_error_rates;
	uint64_t seed;
} cascade_state;

static void cascade_destroy(void *state)
{
	cascade_state *s = state;
	if (!s)
		return;
	free(s->order);
	free(s->order_cost);
	free(s->budgets);
	free(s->error_rates);
	free(s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* numpy.quantile's default method ("linear"), bit for bit: sorted x, h = (n − 1)·q,
 * lerp between x[⌊h⌋] and x[⌊h⌋ + 1] by t = h − ⌊h⌋ the way numpy's _lerp does it (from the
 * upper end when t ≥ 0.5), so a threshold computed in Python matches ours exactly. */
static double quantile_linear(double *x, size_t n, double q)
{
	qsort(x, n, sizeof(double), cmp_double);
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)h;
	if (lo >= n - 1)
		return x[n - 1];
	double t = h - (double)lo, a = x[lo], b = x[lo + 1], d = b - a;
	return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

typedef struct ranked {
	double cost;
	uint32_t model;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return (x->model > y->model) - (x->model < y->model); /* ties: dataset order */
}

/* Copy a list parameter, refusing repeats: repeated error rates would silently merge into one
 * curve, repeated budgets only duplicate points. */
static int copy_list(const rb_param_value *v, const char *name, double **out, size_t *len, char *err,
		     size_t errlen)
{
	for (size_t a = 0; a < v->list_len; a++)
		for (size_t b = a + 1; b < v->list_len; b++)
			if (v->list[a] == v->list[b]) {
				snprintf(err, errlen, "%s lists %g twice", name, v->list[a]);
				return -EINVAL;
			}
	double *copy = malloc(v->list_len * sizeof(double));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v->list, v->list_len * sizeof(double));
	*out = copy;
	*len = v->list_len;
	return 0;
}

static int check_params(const rb_create_args *args, char *err, size_t errlen)
{
	const rb_param_value *p = args->params;
	for (size_t k = 0; k < p[P_BUDGETS].list_len; k++)
		if (!(p[P_BUDGETS].list[k] >= 0.0)) {
			snprintf(err, errlen, "budget %g is negative: budgets are USD per response, >= 0",
				 p[P_BUDGETS].list[k]);
			return -EINVAL;
		}
	double t = p[P_THRESHOLD].r;
	if (t != -1.0 && !(t >= 0.0 && t <= 1.0)) {
		snprintf(err, errlen, "threshold %g: give a score in [0, 1], or -1 to use threshold_quantile", t);
		return -EINVAL;
	}
	size_t n_points = p[P_BUDGETS].list_len * p[P_ERROR_RATES].list_len;
	if (n_points > CASCADE_MAX_POINTS) {
		snprintf(err, errlen, "%zu budgets × %zu error rates = %zu operating points; at most %u",
			 p[P_BUDGETS].list_len, p[P_ERROR_RATES].list_len, n_points, CASCADE_MAX_POINTS);
		return -EINVAL;
	}
	if (args->train->n == 0) {
		snprintf(err, errlen,
			 "task %s has no train prompts: the cascade orders models by their mean train cost",
			 args->task ? args->task : "?");
		return -EINVAL;
	}
	return 0;
}

static int cascade_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	if (args->size < offsetof(rb_create_args, task) + sizeof(args->task) || !args->host ||
	    args->host->size < offsetof(rb_host_api, call) + sizeof(args->host->call) || !args->host->call) {
		snprintf(err, errlen, "the host offers no model calls; rebuild against routerbench >= 1.0 headers");
		return -ENOTSUP;
	}
	int rc = check_params(args, err, errlen);
	if (rc < 0)
		return rc;
	const rb_view *train = args->train;
	const rb_param_value *p = args->params;
	uint32_t M = train->n_models;
	size_t n = train->n;

	cascade_state *s = calloc(1, sizeof(*s));
	ranked *rank = calloc(M, sizeof(ranked));
	double *scores = NULL;
	if (!s || !rank)
		goto oom;
	s->host.log = args->host->log;
	s->host.call = args->host->call;
	s->n_models = M;
	s->seed = args->seed;
	s->order = malloc(M * sizeof(uint32_t));
	s->order_cost = malloc(M * sizeof(double));
	if (!s->order || !s->order_cost)
		goto oom;
	if ((rc = copy_list(&p[P_BUDGETS], "budgets", &s->budgets, &s->n_budgets, err, errlen)) < 0 ||
	    (rc = copy_list(&p[P_ERROR_RATES], "error_rates", &s->error_rates, &s->n_error_rates, err, errlen)) < 0)
		goto fail;

	for (uint32_t j = 0; j < M; j++)
		rank[j].model = j;
	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < M; j++)
			rank[j].cost += train->cost[i * M + j];
	for (uint32_t j = 0; j < M; j++)
		rank[j].cost /= (double)n;
	qsort(rank, M, sizeof(ranked), cmp_ranked);
	for (uint32_t k = 0; k < M; k++) {
		s->order[k] = rank[k].model;
		s->order_cost[k] = rank[k].cost;
	}

	s->threshold = p[P_THRESHOLD].r;
	if (s->threshold == -1.0) {
		size_t n_scores = n * M;
		scores = malloc(n_scores * sizeof(double));
		if (!scores)
			goto oom;
		for (size_t k = 0; k < n_scores; k++)
			scores[k] = train->quality[k];
		s->threshold = quantile_linear(scores, n_scores, p[P_THRESHOLD_QUANTILE].r);
	}
	if (s->host.log)
		s->host.log(RB_LOG_DEBUG, "cascade, task %s: judge threshold %.17g; cheapest model %s (%.6g USD), dearest %s (%.6g USD)",
			    args->task ? args->task : "?", s->threshold, train->model_names[s->order[0]],
			    s->order_cost[0], train->model_names[s->order[M - 1]], s->order_cost[M - 1]);
	free(rank);
	free(scores);
	*state = s;
	return 0;
oom:
	rc = -ENOMEM;
fail:
	free(rank);
	free(scores);
	cascade_destroy(s);
	return rc;
}

static uint32_t cascade_n_points(void *state)
{
	const cascade_state *s = state;
	return (uint32_t)(s->n_budgets * s->n_error_rates);
}

/* Points run error-rate-major: point = e · n_budgets + b, so each ε curve is one block. */
static int cascade_describe_point(void *state, uint32_t point, char *buf, size_t len)
{
	const cascade_state *s = state;
	if (point >= s->n_budgets * s->n_error_rates)
		return -EINVAL;
	double b = s->budgets[point % s->n_budgets], e = s->error_rates[point / s->n_budgets];
	int w = snprintf(buf, len, "{\"max_cost_per_response\": %.17g, \"judge_error_rate\": %.17g, \"curve\": %.17g}",
			 b, e, e);
	return w < 0 || (size_t)w >= len ? -ENOSPC : 0;
}

static int cascade_decide(void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
			  uint32_t *model)
{
	(void)queries;
	const cascade_state *s = state;
	if (point >= s->n_budgets * s->n_error_rates)
		return -EINVAL;
	double budget = s->budgets[point % s->n_budgets], eps = s->error_rates[point / s->n_budgets];

	/* The judge's draws depend on (seed, prompt) only: the k-th model of the chain gets the
	 * k-th draw at every point. Results thus do not depend on evaluation order, and points are
	 * coupled — a larger ε flips a superset of verdicts, a larger budget only walks further —
	 * so curves are not jagged by independent noise per point. */
	uint64_t x = (uint64_t)i;
	uint64_t key = s->seed ^ rb_splitmix64(&x);
	rb_rng rng;
	rb_rng_seed(&rng, rb_splitmix64(&key));

	/* The router sees no test costs, so it budgets with each model's mean train cost; the
	 * host charges the real ones. */
	double spent = 0.0;
	uint32_t final = s->order[0];
	for (uint32_t k = 0; k < s->n_models; k++) {
		if (k > 0 && spent + s->order_cost[k] > budget)
			break;
		uint32_t j = s->order[k];
		double q = s->host.call(caller, j);
		if (q < 0.0)
			return -EIO;
		spent += s->order_cost[k];
		final = j;
		int accept = q >= s->threshold;
		if (rb_rng_uniform(&rng) < eps)
			accept = !accept;
		if (accept)
			break;
	}
	*model = final;
	return 0;
}

RB_ROUTER_DEFINE("cascade",
		 .version = "1.0",
		 .summary = "paper cascade: cheapest model first until a noisy judge accepts or the budget runs out",
		 .kind = RB_ROUTER_POLICY,
		 .ignores = RB_IGNORES_FEATURES,
		 RB_ROUTER_PARAMS(params),
		 .create = cascade_create,
		 .destroy = cascade_destroy,
		 .n_points = cascade_n_points,
		 .describe_point = cascade_describe_point,
		 .decide = cascade_decide)
