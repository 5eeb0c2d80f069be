/* eval.c — replay a router against the outcome matrix and compute the metrics (docs/metrics.md). */
#include "eval/eval.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/blockjson.h"
#include "eval/bootstrap.h"
#include "eval/families.h"
#include "eval/metrics.h"
#include "rb/version.h"

const double rbe_paper_lambdas[RBE_PAPER_LAMBDA_COUNT] = {
	1e-10, 1e-09, 1e-08, 1e-07, 1e-06, 1e-05, 0.0001, 0.001, 0.005, 0.01, 0.1,
	0.5,   1.0,   1.5,   2.0,   10.0,  50.0,  100.0,  500.0, 1000.0, 2000.0, 3000.0,
	4000.0, 5000.0, 7500.0, 10000.0, 25000.0, 50000.0, 75000.0, 100000.0, 1000000.0, 1000000000.0,
};

void rbe_eval_opts_default(rbe_eval_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 42;
	o->train_fraction = 0.7;
	o->mode = RBE_SPLIT_PAPER;
	o->bootstrap_resamples = 0;
	o->bootstrap_seed = 42;
	o->target_budget = -1.0;
	o->validation_fraction = 0.2;
}

/* One task group's routed prompts: the router's decision, quality and cost at every point. */
typedef struct routed {
	size_t n;
	size_t *rows;     /* [n] dataset rows */
	uint32_t *model;  /* [P * n] */
	float *q;         /* [P * n] */
	double *c;        /* [P * n] */
	double *eq, *ec;  /* [P] exact expectation sums (routers that state their distribution) */
} routed;

typedef struct group_result {
	size_t n_train;
	routed test;
	routed val; /* calibration only */
} group_result;

typedef struct run {
	const rbe_dataset *ds;
	const rbe_plugin *plugin;
	const rbe_router_ops *ops; /* how the router is called: in this process or another */
	void *ops_ctx;
	const rbe_params *params;
	const rbe_split *split;
	const rbe_eval_opts *o;
	uint32_t M, P;
	int has_distribution;
	json_t *point_params; /* [P] JSON values, from the first group */
	double fit_seconds, route_seconds;
	uint64_t decisions;
	const char *task;  /* group being evaluated, for progress */
	double fraction;   /* share of the selected groups finished */
	rbe_error *e;
} run;

/* Tell the caller which router function runs next (a worker attributes a crash with it). */
static void progress(const run *r, const char *phase)
{
	if (r->o->progress)
		r->o->progress(r->o->progress_ctx, phase, r->task, r->fraction);
}

static void routed_alloc(routed *d, const size_t *rows, size_t n, uint32_t P)
{
	d->n = n;
	d->rows = rbe_xmalloc((n ? n : 1) * sizeof(size_t));
	memcpy(d->rows, rows, n * sizeof(size_t));
	d->model = rbe_xcalloc((size_t)P * n + 1, sizeof(uint32_t));
	d->q = rbe_xcalloc((size_t)P * n + 1, sizeof(float));
	d->c = rbe_xcalloc((size_t)P * n + 1, sizeof(double));
	d->eq = rbe_xcalloc(P ? P : 1, sizeof(double));
	d->ec = rbe_xcalloc(P ? P : 1, sizeof(double));
}

static void routed_free(routed *d)
{
	free(d->rows);
	free(d->model);
	free(d->q);
	free(d->c);
	free(d->eq);
	free(d->ec);
	memset(d, 0, sizeof(*d));
}

/* A view over chosen rows; with_outcomes copies their quality and cost (train views only);
 * what the router declared it ignores (features, train outcomes) is left out. */
typedef struct view_store {
	rb_view v;
	const size_t *rows; /* the dataset rows, borrowed */
	const char **ids, **prompts, **tasks;
	float *quality, *features;
	double *cost;
	uint32_t *tokens;
} view_store;

static void view_build(view_store *s, const rbe_dataset *ds, const size_t *rows, size_t n, int with_outcomes,
		       uint32_t ignores)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	size_t M = ds->n_models, D = ds->feature_dim;
	s->ids = rbe_xmalloc((n ? n : 1) * sizeof(char *));
	s->prompts = rbe_xmalloc((n ? n : 1) * sizeof(char *));
	s->tasks = rbe_xmalloc((n ? n : 1) * sizeof(char *));
	for (size_t k = 0; k < n; k++) {
		s->ids[k] = ds->sample_ids[rows[k]];
		s->prompts[k] = ds->prompts[rows[k]];
		s->tasks[k] = ds->eval_names[ds->eval[rows[k]]];
	}
	if (with_outcomes && !(ignores & RB_IGNORES_TRAIN_OUTCOMES)) {
		s->quality = rbe_xmalloc((n ? n : 1) * M * sizeof(float));
		s->cost = rbe_xmalloc((n ? n : 1) * M * sizeof(double));
		for (size_t k = 0; k < n; k++) {
			memcpy(s->quality + k * M, ds->quality + rows[k] * M, M * sizeof(float));
			memcpy(s->cost + k * M, ds->cost + rows[k] * M, M * sizeof(double));
		}
	}
	if (ds->prompt_tokens) {
		s->tokens = rbe_xmalloc((n ? n : 1) * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++)
			s->tokens[k] = ds->prompt_tokens[rows[k]];
	}
	if (D && ds->features && !(ignores & RB_IGNORES_FEATURES)) {
		s->features = rbe_xmalloc((n ? n : 1) * D * sizeof(float));
		for (size_t k = 0; k < n; k++)
			memcpy(s->features + k * D, ds->features + rows[k] * D, D * sizeof(float));
	}
	s->v = (rb_view){
		.n = n,
		.n_models = ds->n_models,
		.model_names = ds->model_names,
		.sample_ids = s->ids,
		.prompts = s->prompts,
		.tasks = s->tasks,
		.quality = s->quality,
		.cost = s->cost,
		.prompt_tokens = s->tokens,
		.feature_dim = s->features ? ds->feature_dim : 0,
		.features = s->features,
		.feature_name = s->features ? ds->feature_name : NULL,
	};
}

static void view_free(view_store *s)
{
	free(s->ids);
	free(s->prompts);
	free(s->tasks);
	free(s->quality);
	free(s->cost);
	free(s->tokens);
	free(s->features);
}

/* Host services handed to plugins. */
struct rb_caller {
	const float *q_row;
	const double *c_row;
	uint32_t n_models;
	uint8_t *called;
	double cost;
};

static double host_call(rb_caller *caller, uint32_t model)
{
	if (!caller || model >= caller->n_models)
		return -1.0;
	if (!caller->called[model]) {
		caller->called[model] = 1;
		caller->cost += caller->c_row[model];
	}
	return caller->q_row[model];
}

static void host_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level > RB_LOG_INFO && !getenv("RB_DEBUG"))
		return;
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr); /* router threads may log at once (rb/router.h): one whole line each */
	fprintf(stderr, "router %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

static uint64_t group_seed(uint32_t seed, const char *group)
{
	/* Each group's router seed depends on the job seed and the group's name only, so a
	 * group's numbers do not change when --tasks selects other groups. */
	uint64_t h = 1469598103934665603ull ^ seed;
	for (const char *s = group; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return rb_splitmix64(&h);
}

/* Queries [off, off + len) of a query view. */
static rb_view sub_view(const rb_view *v, size_t off, size_t len)
{
	rb_view b = *v;
	b.n = len;
	b.sample_ids += off;
	b.prompts += off;
	b.tasks += off;
	if (b.prompt_tokens)
		b.prompt_tokens += off;
	if (b.features)
		b.features += off * b.feature_dim;
	return b;
}

static int plugin_error(run *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A router's failure: keep its errno when it is one, else EIO; name the function and prompt. */
static int plugin_error(run *r, int rc, const char *fmt, ...)
{
	if (rc < -4095 || rc >= 0)
		rc = -EIO;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return rbe_fail(r->e, rc, "router '%s' failed in %s (%s)", r->plugin->router->name, what, strerror(-rc));
}

/* The router broke the ABI (invalid output): a remote caller records it as the router's fault. */
static void router_fault(const run *r)
{
	if (r->ops->fault)
		r->ops->fault(r->ops_ctx);
}

/* ---- the loaded router, called in this process ---- */

static int local_create(void *ctx, const rb_create_args *args, const rbe_params *params, void **state, char *err,
			size_t errlen)
{
	(void)params;
	return ((const rb_router *)ctx)->create(args, state, err, errlen);
}

static int local_predict(void *ctx, void *state, const rb_view *queries, size_t off, size_t n, float *q_hat,
			 double *c_hat, int *has_cost)
{
	rb_view batch = sub_view(queries, off, n);
	return ((const rb_router *)ctx)->predict(state, &batch, q_hat, c_hat, has_cost);
}

static int local_n_points(void *ctx, void *state, uint32_t *n)
{
	*n = ((const rb_router *)ctx)->n_points(state);
	return 0;
}

static int local_describe_point(void *ctx, void *state, uint32_t p, char *buf, size_t len)
{
	return ((const rb_router *)ctx)->describe_point(state, p, buf, len);
}

static int local_decide(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t p, rb_caller *caller,
			uint32_t *model)
{
	return ((const rb_router *)ctx)->decide(state, queries, i, p, caller, model);
}

static int local_distribution(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t p, double *probs)
{
	return ((const rb_router *)ctx)->distribution(state, queries, i, p, probs);
}

static void local_destroy(void *ctx, void *state)
{
	((const rb_router *)ctx)->destroy(state);
}

static const rbe_router_ops local_ops = {
	.create = local_create,
	.predict = local_predict,
	.n_points = local_n_points,
	.describe_point = local_describe_point,
	.decide = local_decide,
	.distribution = local_distribution,
	.destroy = local_destroy,
};

/* Predictive: one prediction pass, then the host's λ sweep decides every point. */
static int route_predictive(run *r, void *state, const view_store *train, const view_store *queries, routed *d)
{
	const rb_router *router = r->plugin->router;
	size_t n = queries->v.n, M = r->M;
	float *q_hat = rbe_xcalloc((n ? n : 1) * M, sizeof(float));
	double *c_hat = rbe_xcalloc((n ? n : 1) * M, sizeof(double));
	int has_cost = 0, rc = 0;
	/* Batches bound the router's working memory; one prediction pass serves every λ. */
	for (size_t off = 0; off < n; off += RBE_PREDICT_BATCH) {
		size_t len = n - off < RBE_PREDICT_BATCH ? n - off : RBE_PREDICT_BATCH;
		int batch_has_cost = 0;
		progress(r, "predict");
		rc = r->ops->predict(r->ops_ctx, state, &queries->v, off, len, q_hat + off * M, c_hat + off * M,
				     &batch_has_cost);
		if (rc < 0) {
			rc = plugin_error(r, rc, "predict for prompts %zu..%zu", off, off + len - 1);
			goto out;
		}
		if (off == 0) {
			has_cost = batch_has_cost;
		} else if (batch_has_cost != has_cost) {
			router_fault(r);
			rc = rbe_fail(r->e, -EINVAL, "router '%s' predicted costs for some batches but not others",
				      router->name);
			goto out;
		}
	}
	for (size_t k = 0; k < n * M; k++) {
		if (!isfinite(q_hat[k]) || (has_cost && !isfinite(c_hat[k]))) {
			/* Name the value too: "NaN" is what a user greps their router's code for. */
			double bad = isfinite(q_hat[k]) ? c_hat[k] : (double)q_hat[k];
			router_fault(r);
			rc = rbe_fail(r->e, -EINVAL,
				      "router '%s' predicted a non-finite %s for prompt %s, model %s: predict returned %s",
				      router->name, isfinite(q_hat[k]) ? "cost" : "quality", queries->v.sample_ids[k / M],
				      r->ds->model_names[k % M], isnan(bad) ? "NaN" : bad > 0 ? "inf" : "-inf");
			goto out;
		}
	}
	if (!has_cost) {
		/* ĉ_j: model j's mean cost per query on the train view (read from the dataset: the
		 * view holds no costs when the router ignores them). */
		double *mean = rbe_xcalloc(M, sizeof(double));
		for (size_t i = 0; i < train->v.n; i++)
			for (size_t j = 0; j < M; j++)
				mean[j] += r->ds->cost[train->rows[i] * M + j];
		for (size_t j = 0; j < M; j++)
			mean[j] = train->v.n ? mean[j] / (double)train->v.n : 0.0;
		for (size_t i = 0; i < n; i++)
			memcpy(c_hat + i * M, mean, M * sizeof(double));
		free(mean);
	}
	for (uint32_t p = 0; p < r->P; p++) {
		double lambda = r->o->lambdas[p];
		for (size_t i = 0; i < n; i++) {
			/* argmax_j λ·q̂ − ĉ; strict > keeps the earlier model on ties (dataset order). */
			size_t best = 0;
			double best_v = lambda * q_hat[i * M] - c_hat[i * M];
			for (size_t j = 1; j < M; j++) {
				double v = lambda * q_hat[i * M + j] - c_hat[i * M + j];
				if (v > best_v) {
					best_v = v;
					best = j;
				}
			}
			size_t row = d->rows[i], k = (size_t)p * n + i;
			d->model[k] = (uint32_t)best;
			d->q[k] = r->ds->quality[row * M + best];
			d->c[k] = r->ds->cost[row * M + best];
		}
		r->decisions += n;
	}
out:
	free(q_hat);
	free(c_hat);
	return rc;
}

/* Policy: the router decides each prompt at each point, calling models through the host. */
static int route_policy(run *r, void *state, const view_store *queries, routed *d)
{
	const rb_router *router = r->plugin->router;
	size_t n = queries->v.n, M = r->M;
	uint8_t *called = rbe_xcalloc(M, 1);
	double *probs = rbe_xcalloc(M, sizeof(double));
	int rc = 0;
	progress(r, "decide");
	for (uint32_t p = 0; p < r->P && rc == 0; p++) {
		for (size_t i = 0; i < n; i++) {
			const float *q = r->ds->quality + d->rows[i] * M;
			const double *c = r->ds->cost + d->rows[i] * M;
			memset(called, 0, M);
			rb_caller caller = {.q_row = q, .c_row = c, .n_models = r->M, .called = called};
			uint32_t model = UINT32_MAX;
			rc = r->ops->decide(r->ops_ctx, state, &queries->v, i, p, &caller, &model);
			if (rc < 0) {
				rc = plugin_error(r, rc, "decide for prompt %s at point %u", queries->v.sample_ids[i], p);
				break;
			}
			if (model >= M) {
				router_fault(r);
				rc = rbe_fail(r->e, -EINVAL,
					      "router '%s' returned model index %u for prompt %s at point %u; the dataset has %zu models",
					      router->name, model, queries->v.sample_ids[i], p, M);
				break;
			}
			/* The final model answers; it is charged unless it was already called. */
			size_t k = (size_t)p * n + i;
			d->model[k] = model;
			d->q[k] = q[model];
			d->c[k] = caller.cost + (called[model] ? 0.0 : c[model]);
			if (r->has_distribution) {
				rc = r->ops->distribution(r->ops_ctx, state, &queries->v, i, p, probs);
				double sum = 0.0;
				for (size_t j = 0; j < M && rc == 0; j++) {
					if (!(probs[j] >= 0.0 && probs[j] <= 1.0))
						rc = -EINVAL;
					sum += probs[j];
				}
				if (rc < 0 || fabs(sum - 1.0) > 1e-6) {
					router_fault(r);
					rc = rbe_fail(r->e, -EINVAL,
						      "router '%s' gave an invalid distribution for prompt %s at point %u",
						      router->name, queries->v.sample_ids[i], p);
					break;
				}
				for (size_t j = 0; j < M; j++) {
					d->eq[p] += probs[j] * q[j];
					d->ec[p] += probs[j] * c[j];
				}
			}
		}
		r->decisions += n;
	}
	free(called);
	free(probs);
	return rc;
}

/* Route the given rows at every operating point into d (allocated here). */
static int route_rows(run *r, void *state, const view_store *train, const size_t *rows, size_t n, routed *d)
{
	routed_alloc(d, rows, n, r->P);
	view_store queries;
	view_build(&queries, r->ds, rows, n, 0, rbe_plugin_ignores(r->plugin));
	double t0 = rbe_now();
	int rc = r->ops->queries ? r->ops->queries(r->ops_ctx, state, &queries.v) : 0;
	if (rc < 0)
		rc = plugin_error(r, rc, "receiving %zu query prompts", n);
	else
		rc = r->plugin->router->kind == RB_ROUTER_PREDICTIVE ? route_predictive(r, state, train, &queries, d)
								  : route_policy(r, state, &queries, d);
	r->route_seconds += rbe_now() - t0;
	view_free(&queries);
	/* A per-query overhead (an embedding call, say) is part of every routed prompt's cost. */
	if (rc == 0 && r->o->overhead_cost_per_query > 0)
		for (size_t k = 0; k < (size_t)r->P * n; k++)
			d->c[k] += r->o->overhead_cost_per_query;
	return rc;
}

/* The JSON value describing point p (λ, or the router's own description). */
static int describe_points(run *r, void *state)
{
	const rb_router *router = r->plugin->router;
	r->point_params = json_array();
	if (router->kind == RB_ROUTER_POLICY && router->describe_point)
		progress(r, "describe_point");
	for (uint32_t p = 0; p < r->P; p++) {
		if (router->kind == RB_ROUTER_PREDICTIVE) {
			json_array_append_new(r->point_params, json_real(r->o->lambdas[p]));
			continue;
		}
		if (!router->describe_point) {
			json_array_append_new(r->point_params, json_integer(p));
			continue;
		}
		char buf[1024] = "";
		if (r->ops->describe_point(r->ops_ctx, state, p, buf, sizeof(buf)) < 0)
			return rbe_fail(r->e, -EINVAL, "router '%s' failed in describe_point(%u)", router->name, p);
		buf[sizeof(buf) - 1] = '\0';
		json_error_t jerr;
		json_t *v = json_loads(buf, JSON_DECODE_ANY, &jerr);
		if (!v) {
			router_fault(r);
			return rbe_fail(r->e, -EINVAL, "router '%s': describe_point(%u) is not JSON (%s): %s",
					router->name, p, jerr.text, buf);
		}
		json_array_append_new(r->point_params, v);
	}
	return 0;
}

static int calibrating(const rbe_eval_opts *o)
{
	return o->target_budget >= 0.0 || o->target_share_model;
}

/* Calibration holds out a seeded share of the group's train prompts as the validation part. */
static void hold_out(size_t *train, size_t *n_train, size_t *val, size_t *n_val, double fraction, uint64_t seed)
{
	rb_rng rng;
	rb_rng_seed(&rng, seed ^ 0x76616c6964617465ull);
	for (size_t k = *n_train; k > 1; k--) {
		size_t j = (size_t)rb_rng_below(&rng, k), t = train[k - 1];
		train[k - 1] = train[j];
		train[j] = t;
	}
	*n_val = (size_t)floor((double)*n_train * fraction);
	memcpy(val, train + (*n_train - *n_val), *n_val * sizeof(size_t));
	*n_train -= *n_val;
	/* Back to dataset order, so the router sees its train prompts as without calibration. */
	for (size_t a = 1; a < *n_train; a++)
		for (size_t b = a; b > 0 && train[b - 1] > train[b]; b--) {
			size_t t = train[b - 1];
			train[b - 1] = train[b];
			train[b] = t;
		}
}

static int eval_group(run *r, uint32_t g, group_result *out)
{
	const rbe_dataset *ds = r->ds;
	const rbe_split *s = r->split;
	const rbe_eval_opts *o = r->o;
	const rb_router *router = r->plugin->router;
	size_t *train_rows = rbe_xmalloc((ds->n ? ds->n : 1) * sizeof(size_t));
	size_t *test_rows = rbe_xmalloc((ds->n ? ds->n : 1) * sizeof(size_t));
	size_t *val_rows = rbe_xmalloc((ds->n ? ds->n : 1) * sizeof(size_t));
	size_t n_train = 0, n_test = 0, n_val = 0;
	for (size_t i = 0; i < ds->n; i++) {
		int in_group = s->group_of[i] == g;
		if (in_group && !s->is_train[i])
			test_rows[n_test++] = i;
		else if (s->is_train[i] && (o->mode == RBE_SPLIT_OOD ? !in_group : in_group))
			train_rows[n_train++] = i;
	}
	uint64_t seed = group_seed(o->seed, s->group_names[g]);
	if (calibrating(o))
		hold_out(train_rows, &n_train, val_rows, &n_val, o->validation_fraction, seed);
	out->n_train = n_train;

	view_store train;
	view_build(&train, ds, train_rows, n_train, 1, rbe_plugin_ignores(r->plugin));
	rb_host_api host = {
		.size = sizeof(rb_host_api),
		.abi_minor = RB_ABI_MINOR,
		.log = host_log,
		.call = host_call,
		.threads = o->threads,
	};
	rb_create_args args = {
		.size = sizeof(rb_create_args),
		.host = &host,
		.params = r->params->abi_values, /* laid out with the plugin's stride */
		.train = &train.v,
		.seed = seed,
		.task = s->group_names[g],
	};
	void *state = NULL;
	char err[512] = "";
	double t0 = rbe_now();
	r->task = s->group_names[g];
	progress(r, "create");
	int rc = r->ops->create(r->ops_ctx, &args, r->params, &state, err, sizeof(err));
	r->fit_seconds += rbe_now() - t0;
	if (rc < 0) {
		err[sizeof(err) - 1] = '\0';
		rc = rbe_fail(r->e, rc < -4095 ? -EIO : rc, "router '%s' failed in create for task %s: %s", router->name,
			      s->group_names[g], *err ? err : strerror(rc < -4095 ? EIO : -rc));
		goto out;
	}
	if (router->kind == RB_ROUTER_POLICY) {
		progress(r, "n_points");
		uint32_t P = 0;
		if ((rc = r->ops->n_points(r->ops_ctx, state, &P)) < 0) {
			rc = plugin_error(r, rc, "n_points");
			goto out_destroy;
		}
		if (P == 0 || P > 100000) {
			router_fault(r);
			rc = rbe_fail(r->e, -EINVAL, "router '%s' declares %u operating points (expected 1 to 100000)",
				      router->name, P);
			goto out_destroy;
		}
		if (r->P == 0) {
			r->P = P;
		} else if (P != r->P) {
			router_fault(r);
			rc = rbe_fail(r->e, -EINVAL, "router '%s' declares %u operating points for task %s but %u before",
				      router->name, P, s->group_names[g], r->P);
			goto out_destroy;
		}
	}
	if (!r->point_params && (rc = describe_points(r, state)) < 0)
		goto out_destroy;
	if (n_val && (rc = route_rows(r, state, &train, val_rows, n_val, &out->val)) < 0)
		goto out_destroy;
	rc = route_rows(r, state, &train, test_rows, n_test, &out->test);
out_destroy:
	progress(r, "destroy");
	r->ops->destroy(r->ops_ctx, state);
out:
	view_free(&train);
	free(train_rows);
	free(test_rows);
	free(val_rows);
	return rc;
}

/* The per-prompt arrays of a block: one group, or several pooled in group order. */
typedef struct block_store {
	rbe_block_view v;
	const char **ids;
	float *llm_q, *q;
	double *llm_c, *c;
	uint32_t *model;
	double *eq, *ec;
} block_store;

static void block_build(block_store *b, const run *r, routed *const *parts, size_t n_parts)
{
	const rbe_dataset *ds = r->ds;
	size_t n = 0, M = r->M, P = r->P;
	for (size_t k = 0; k < n_parts; k++)
		n += parts[k]->n;
	memset(b, 0, sizeof(*b));
	b->ids = rbe_xmalloc((n ? n : 1) * sizeof(char *));
	b->llm_q = rbe_xmalloc((n ? n : 1) * M * sizeof(float));
	b->llm_c = rbe_xmalloc((n ? n : 1) * M * sizeof(double));
	b->model = rbe_xmalloc((n * P + 1) * sizeof(uint32_t));
	b->q = rbe_xmalloc((n * P + 1) * sizeof(float));
	b->c = rbe_xmalloc((n * P + 1) * sizeof(double));
	b->eq = rbe_xcalloc(P ? P : 1, sizeof(double));
	b->ec = rbe_xcalloc(P ? P : 1, sizeof(double));
	size_t off = 0;
	for (size_t k = 0; k < n_parts; k++) {
		const routed *d = parts[k];
		for (size_t i = 0; i < d->n; i++) {
			b->ids[off + i] = ds->sample_ids[d->rows[i]];
			memcpy(b->llm_q + (off + i) * M, ds->quality + d->rows[i] * M, M * sizeof(float));
			memcpy(b->llm_c + (off + i) * M, ds->cost + d->rows[i] * M, M * sizeof(double));
		}
		for (size_t p = 0; p < P; p++) {
			memcpy(b->model + p * n + off, d->model + p * d->n, d->n * sizeof(uint32_t));
			memcpy(b->q + p * n + off, d->q + p * d->n, d->n * sizeof(float));
			memcpy(b->c + p * n + off, d->c + p * d->n, d->n * sizeof(double));
			b->eq[p] += d->eq[p];
			b->ec[p] += d->ec[p];
		}
		off += d->n;
	}
	b->v = (rbe_block_view){
		.n = n,
		.M = r->M,
		.P = r->P,
		.model_names = ds->model_names,
		.sample_ids = b->ids,
		.llm_q = b->llm_q,
		.llm_c = b->llm_c,
		.model = b->model,
		.q = b->q,
		.c = b->c,
	};
}

static void block_free(block_store *b)
{
	free(b->ids);
	free(b->llm_q);
	free(b->llm_c);
	free(b->model);
	free(b->q);
	free(b->c);
	free(b->eq);
	free(b->ec);
}

/* Per-prompt decisions (--keep-decisions): enough to recompute every figure, and to pair two
 * results prompt by prompt (rbctl compare). */
static json_t *decisions_json(const rbe_block_view *v)
{
	json_t *ids = json_array(), *lq = json_array(), *lc = json_array(), *model = json_array(), *cost = json_array();
	for (size_t i = 0; i < v->n; i++) {
		json_array_append_new(ids, json_string(v->sample_ids[i]));
		json_t *rq = json_array(), *rc = json_array();
		for (uint32_t j = 0; j < v->M; j++) {
			json_array_append_new(rq, json_real(v->llm_q[i * v->M + j]));
			json_array_append_new(rc, json_real(v->llm_c[i * v->M + j]));
		}
		json_array_append_new(lq, rq);
		json_array_append_new(lc, rc);
	}
	for (uint32_t p = 0; p < v->P; p++) {
		json_t *m = json_array(), *c = json_array();
		for (size_t i = 0; i < v->n; i++) {
			json_array_append_new(m, json_integer(v->model[(size_t)p * v->n + i]));
			json_array_append_new(c, json_real(v->c[(size_t)p * v->n + i]));
		}
		json_array_append_new(model, m);
		json_array_append_new(cost, c);
	}
	return json_pack("{sososososo}", "sample_ids", ids, "llm_quality", lq, "llm_cost", lc, "model", model, "cost",
			 cost);
}

/* Mean quality, cost and share of the chosen point over a set of routed parts. */
static json_t *calibration_point(const run *r, routed *const *parts, const uint32_t *chosen, size_t n_parts)
{
	double q = 0.0, c = 0.0;
	size_t n = 0;
	uint64_t *share = rbe_xcalloc(r->M, sizeof(uint64_t));
	for (size_t k = 0; k < n_parts; k++) {
		const routed *d = parts[k];
		for (size_t i = 0; i < d->n; i++) {
			size_t at = (size_t)chosen[k] * d->n + i;
			q += d->q[at];
			c += d->c[at];
			share[d->model[at]]++;
		}
		n += d->n;
	}
	json_t *o = json_pack("{sfsfsfsI}", "quality", n ? q / (double)n : 0.0, "cost_total", c, "cost_mean",
			      n ? c / (double)n : 0.0, "n", (json_int_t)n);
	json_t *s = json_object();
	for (uint32_t j = 0; j < r->M; j++)
		json_object_set_new(s, r->ds->model_names[j], json_real(n ? (double)share[j] / (double)n : 0.0));
	json_object_set_new(o, "share", s);
	free(share);
	return o;
}

/* Pick the point that meets the target on the validation part: the best quality within the
 * budget (else the cheapest point), or the share closest to the target share. */
static uint32_t calibration_choose(const run *r, const routed *val, int model_index, int *met)
{
	uint32_t best = 0;
	double best_q = -1.0, best_c = INFINITY, best_gap = INFINITY, cheapest_c = INFINITY;
	uint32_t cheapest = 0;
	*met = 0;
	for (uint32_t p = 0; p < r->P; p++) {
		double q = 0.0, c = 0.0, hits = 0.0;
		for (size_t i = 0; i < val->n; i++) {
			q += val->q[(size_t)p * val->n + i];
			c += val->c[(size_t)p * val->n + i];
			hits += val->model[(size_t)p * val->n + i] == (uint32_t)model_index;
		}
		double n = val->n ? (double)val->n : 1.0, cm = c / n, qm = q / n;
		if (cm < cheapest_c) {
			cheapest_c = cm;
			cheapest = p;
		}
		if (r->o->target_share_model) {
			double gap = fabs(hits / n - r->o->target_share);
			if (gap < best_gap || (gap == best_gap && cm < best_c)) {
				best_gap = gap;
				best_c = cm;
				best = p;
				*met = 1;
			}
		} else if (cm <= r->o->target_budget && (qm > best_q || (qm == best_q && cm < best_c))) {
			best_q = qm;
			best_c = cm;
			best = p;
			*met = 1;
		}
	}
	return *met ? best : cheapest;
}

static json_t *calibration_target(const rbe_eval_opts *o)
{
	if (o->target_share_model)
		return json_pack("{sssf}", "model", o->target_share_model, "share", o->target_share);
	return json_pack("{sf}", "budget_per_query", o->target_budget);
}

static int select_groups(const rbe_split *s, const rbe_eval_opts *o, uint8_t *selected, rbe_error *e)
{
	if (!o->tasks || o->n_tasks == 0) {
		memset(selected, 1, s->n_groups);
		return 0;
	}
	memset(selected, 0, s->n_groups);
	for (size_t k = 0; k < o->n_tasks; k++) {
		int g = rbe_split_group_index(s, o->tasks[k]);
		if (g < 0) {
			char names[1024] = "";
			for (uint32_t i = 0; i < s->n_groups; i++) {
				if (strlen(names) + strlen(s->group_names[i]) + 3 >= sizeof(names))
					break;
				if (i)
					strcat(names, ", ");
				strcat(names, s->group_names[i]);
			}
			return rbe_fail(e, -ENOENT, "no task '%s' in the dataset (tasks: %s)", o->tasks[k], names);
		}
		selected[g] = 1;
	}
	return 0;
}

static json_t *header_json(const run *r)
{
	const rbe_dataset *ds = r->ds;
	const rbe_eval_opts *o = r->o;
	const rb_router *router = r->plugin->router;
	char hex[65];
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_string(RBE_RESULT_SCHEMA));
	json_object_set_new(doc, "tool", json_pack("{ssss}", "name", "routerbench", "version", RB_VERSION_STRING));
	json_t *models = json_array();
	for (uint32_t j = 0; j < ds->n_models; j++)
		json_array_append_new(models, json_string(ds->model_names[j]));
	rbe_hex(ds->sha256, 32, hex);
	json_object_set_new(doc, "dataset",
			    json_pack("{sssssIso}", "name", ds->name ? ds->name : "", "sha256", hex, "prompts",
				      (json_int_t)ds->n, "models", models));
	rbe_hex(r->plugin->sha256, 32, hex);
	json_object_set_new(doc, "router",
			    json_pack("{sssssssssO}", "name", router->name, "version", router->version, "kind",
				      rbe_router_kind_name(router->kind), "sha256", hex, "params", r->params->echo));
	json_object_set_new(doc, "split",
			    json_pack("{sssIsf}", "mode", o->mode == RBE_SPLIT_OOD ? "ood" : "paper", "seed",
				      (json_int_t)o->seed, "train_fraction", o->train_fraction));
	if (router->kind == RB_ROUTER_PREDICTIVE) {
		json_t *l = json_array();
		for (uint32_t p = 0; p < r->P; p++)
			json_array_append_new(l, json_real(o->lambdas[p]));
		json_object_set_new(doc, "sweep", json_pack("{so}", "lambdas", l));
	}
	if (o->overhead_cost_per_query > 0)
		json_object_set_new(doc, "overhead_cost_per_query", json_real(o->overhead_cost_per_query));
	if (o->bootstrap_resamples)
		json_object_set_new(doc, "bootstrap",
				    json_pack("{sIsIsfss}", "resamples", (json_int_t)o->bootstrap_resamples, "seed",
					      (json_int_t)o->bootstrap_seed, "level", RBE_BOOTSTRAP_DEFAULT_LEVEL,
					      "method", "percentile"));
	return doc;
}

/* One block's JSON, with the optional derived figures. */
static json_t *block_result(const run *r, const block_store *b, size_t n_train)
{
	return rbe_block_json(&b->v, n_train, r->point_params, r->has_distribution ? b->eq : NULL,
			      r->has_distribution ? b->ec : NULL);
}

static int add_extras(const run *r, const block_store *b, const char *name, json_t *block)
{
	json_object_set_new(block, "families", rbe_families_block(&b->v));
	if (r->o->bootstrap_resamples) {
		rbe_bootstrap_opts bo = {.resamples = r->o->bootstrap_resamples,
					 .seed = r->o->bootstrap_seed,
					 .level = RBE_BOOTSTRAP_DEFAULT_LEVEL,
					 .threads = r->o->threads};
		int rc = rbe_bootstrap_block(&b->v, name, &bo, block, r->e);
		if (rc < 0)
			return rc;
	}
	if (r->o->keep_decisions)
		json_object_set_new(block, "decisions", decisions_json(&b->v));
	return 0;
}

static int check_opts(const rbe_eval_opts *o, const rbe_dataset *ds, int *share_model, rbe_error *e)
{
	if (o->n_lambdas == 0 || o->n_lambdas > 100000)
		return rbe_fail(e, -EINVAL, "the λ sweep needs 1 to 100000 values, got %zu", o->n_lambdas);
	for (size_t k = 0; k < o->n_lambdas; k++)
		if (!(o->lambdas[k] >= 0.0 && isfinite(o->lambdas[k])))
			return rbe_fail(e, -EINVAL, "willingness to pay λ = %g must be a finite number >= 0",
					o->lambdas[k]);
	if (!(o->overhead_cost_per_query >= 0.0 && isfinite(o->overhead_cost_per_query)))
		return rbe_fail(e, -EINVAL, "overhead cost per query %g must be a finite number >= 0",
				o->overhead_cost_per_query);
	*share_model = -1;
	if (o->target_share_model) {
		if (o->target_budget >= 0.0)
			return rbe_fail(e, -EINVAL, "choose one calibration target: a budget or a model share, not both");
		*share_model = rbe_dataset_model_index(ds, o->target_share_model);
		if (*share_model < 0)
			return rbe_fail(e, -EINVAL, "target share: no model '%s' in the dataset", o->target_share_model);
		if (!(o->target_share >= 0.0 && o->target_share <= 1.0))
			return rbe_fail(e, -EINVAL, "target share %g must be between 0 and 1", o->target_share);
	}
	if (calibrating(o) && !(o->validation_fraction > 0.0 && o->validation_fraction < 1.0))
		return rbe_fail(e, -EINVAL, "validation fraction %g must be between 0 and 1 (exclusive)",
				o->validation_fraction);
	return 0;
}

int rbe_evaluate(const rbe_dataset *ds, const rbe_plugin *plugin, const rbe_params *params,
		 const rbe_eval_opts *o, json_t **result, rbe_error *e)
{
	rbe_eval_opts opts = *o;
	if (opts.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		opts.threads = n > 0 ? (uint32_t)n : 1;
	}
	if (!opts.lambdas) {
		opts.lambdas = rbe_paper_lambdas;
		opts.n_lambdas = RBE_PAPER_LAMBDA_COUNT;
	}
	int share_model = -1;
	int rc = check_opts(&opts, ds, &share_model, e);
	if (rc < 0)
		return rc;
	rbe_grouping default_grouping;
	rbe_grouping_default(&default_grouping);
	rbe_split *split = NULL;
	rc = rbe_split_make(ds, opts.grouping ? opts.grouping : &default_grouping, opts.seed, opts.train_fraction,
			    &split, e);
	rbe_grouping_clear(&default_grouping);
	if (rc < 0)
		return rc;

	run r = {
		.ds = ds,
		.plugin = plugin,
		.ops = plugin->ops ? plugin->ops : &local_ops,
		.ops_ctx = plugin->ops ? plugin->ops_ctx : (void *)plugin->router,
		.params = params,
		.split = split,
		.o = &opts,
		.M = ds->n_models,
		.has_distribution = plugin->router->kind == RB_ROUTER_POLICY && plugin->router->distribution,
		.e = e,
	};
	if (plugin->router->kind == RB_ROUTER_PREDICTIVE)
		r.P = (uint32_t)opts.n_lambdas;

	uint32_t G = split->n_groups;
	uint8_t *selected = rbe_xmalloc(G);
	group_result *groups = rbe_xcalloc(G, sizeof(group_result));
	json_t *doc = NULL;
	rc = select_groups(split, &opts, selected, e);
	double t0 = rbe_now();
	uint32_t n_selected = 0, n_done = 0;
	for (uint32_t g = 0; g < G; g++)
		n_selected += rc == 0 && selected[g];
	for (uint32_t g = 0; g < G && rc == 0; g++) {
		if (!selected[g])
			continue;
		if (split->n_test[g] == 0)
			rc = rbe_fail(e, -EINVAL, "task %s has no test prompts (%zu prompts, train fraction %g)",
				      split->group_names[g], split->n_train[g], opts.train_fraction);
		else
			rc = eval_group(&r, g, &groups[g]);
		r.fraction = (double)++n_done / n_selected;
		if (rc == 0)
			progress(&r, "done");
	}
	double total_seconds = rbe_now() - t0;
	if (rc == 0) {
		doc = header_json(&r);
		json_t *tasks = json_object();
		routed **test_parts = rbe_xcalloc(G, sizeof(routed *)), **val_parts = rbe_xcalloc(G, sizeof(routed *));
		uint32_t *chosen = rbe_xcalloc(G, sizeof(uint32_t));
		size_t n_parts = 0, own_train = 0;
		for (uint32_t g = 0; g < G; g++) {
			if (!selected[g])
				continue;
			block_store b;
			block_build(&b, &r, (routed *const[]){&groups[g].test}, 1);
			json_t *block = block_result(&r, &b, groups[g].n_train);
			if (rc == 0)
				rc = add_extras(&r, &b, split->group_names[g], block);
			block_free(&b);
			if (calibrating(&opts)) {
				int met;
				chosen[n_parts] = calibration_choose(&r, &groups[g].val, share_model, &met);
				json_t *cal = json_pack("{soso}", "target", calibration_target(&opts), "point",
							json_integer(chosen[n_parts]));
				json_object_set_new(cal, "param", json_deep_copy(json_array_get(r.point_params, chosen[n_parts])));
				json_object_set_new(cal, "met_on_validation", json_boolean(met));
				json_object_set_new(cal, "validation",
						    calibration_point(&r, (routed *const[]){&groups[g].val}, &chosen[n_parts], 1));
				json_object_set_new(cal, "test",
						    calibration_point(&r, (routed *const[]){&groups[g].test}, &chosen[n_parts], 1));
				json_object_set_new(block, "calibration", cal);
			}
			json_object_set_new(tasks, split->group_names[g], block);
			test_parts[n_parts] = &groups[g].test;
			val_parts[n_parts] = &groups[g].val;
			n_parts++;
			own_train += split->n_train[g];
		}
		json_object_set_new(doc, "tasks", tasks);
		block_store all;
		block_build(&all, &r, test_parts, n_parts);
		/* Overall: every evaluated test prompt pooled; n_train pools each group's own train part
		 * (it differs from the routers' train views under OOD). */
		json_t *overall = block_result(&r, &all, own_train);
		if (rc == 0)
			rc = add_extras(&r, &all, "overall", overall);
		if (calibrating(&opts))
			json_object_set_new(overall, "calibration",
					    json_pack("{sososo}", "target", calibration_target(&opts), "validation",
						      calibration_point(&r, val_parts, chosen, n_parts), "test",
						      calibration_point(&r, test_parts, chosen, n_parts)));
		json_object_set_new(doc, "overall", overall);
		json_object_set_new(doc, "timing",
				    json_pack("{sfsfsfsIsf}", "fit_seconds", r.fit_seconds, "route_seconds",
					      r.route_seconds, "total_seconds", total_seconds, "decisions",
					      (json_int_t)r.decisions, "route_seconds_per_prompt",
					      r.route_seconds / (double)(all.v.n ? all.v.n : 1)));
		block_free(&all);
		free(test_parts);
		free(val_parts);
		free(chosen);
	}
	for (uint32_t g = 0; g < G; g++) {
		routed_free(&groups[g].test);
		routed_free(&groups[g].val);
	}
	free(groups);
	free(selected);
	json_decref(r.point_params);
	rbe_split_free(split);
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	*result = doc;
	return 0;
}
