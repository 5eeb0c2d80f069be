/* eval.c — replay a router against the outcome matrix and compute the metrics (DESIGN.md §5). */
#include "eval.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "rb/version.h"

/* Queries per predict() call. */
#define RBD_PREDICT_BATCH 8192

const double rbd_paper_lambdas[RBD_PAPER_LAMBDA_COUNT] = {
	1e-10, 1e-09, 1e-08, 1e-07, 1e-06, 1e-05, 0.0001, 0.001, 0.005, 0.01, 0.1,
	0.5,   1.0,   1.5,   2.0,   10.0,  50.0,  100.0,  500.0, 1000.0, 2000.0, 3000.0,
	4000.0, 5000.0, 7500.0, 10000.0, 25000.0, 50000.0, 75000.0, 100000.0, 1000000.0, 1000000000.0,
};

void rbd_eval_opts_default(rbd_eval_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 42;
	o->train_fraction = 0.7;
	o->mode = RBD_SPLIT_PAPER;
}

/* Sums over a set of test prompts for each operating point; summing them over groups gives the
 * pooled "overall" block without keeping any decision. */
typedef struct tally {
	size_t n_test, n_train;
	double *llm_q, *llm_c; /* [M] */
	double oracle_q, oracle_c;
	double *q, *c;         /* [P] router */
	double *eq, *ec;       /* [P] expected (when the router gives its distribution) */
	uint64_t *share;       /* [P * M] prompts routed to each model */
	uint32_t n_points;     /* P the arrays are sized for */
} tally;

typedef struct run {
	const rbd_dataset *ds;
	const rbd_plugin *plugin;
	const rbd_params *params;
	const rbd_split *split;
	uint32_t M, P;
	const double *lambdas;
	int has_distribution;
	json_t *point_params; /* [P] JSON values, from the first group */
	double fit_seconds, route_seconds;
	uint64_t decisions;
	rbd_error *e;
} run;

/* The router's arrays are sized separately: a policy router's point count is known only after
 * create(). */
static void tally_size_points(tally *t, uint32_t M, uint32_t P)
{
	free(t->q);
	free(t->c);
	free(t->eq);
	free(t->ec);
	free(t->share);
	t->q = rbd_xcalloc(P, sizeof(double));
	t->c = rbd_xcalloc(P, sizeof(double));
	t->eq = rbd_xcalloc(P, sizeof(double));
	t->ec = rbd_xcalloc(P, sizeof(double));
	t->share = rbd_xcalloc((size_t)P * M, sizeof(uint64_t));
	t->n_points = P;
}

static void tally_init(tally *t, uint32_t M, uint32_t P)
{
	memset(t, 0, sizeof(*t));
	t->llm_q = rbd_xcalloc(M, sizeof(double));
	t->llm_c = rbd_xcalloc(M, sizeof(double));
	tally_size_points(t, M, P);
}

static void tally_add(tally *into, const tally *t, uint32_t M, uint32_t P)
{
	into->n_test += t->n_test;
	into->n_train += t->n_train;
	for (uint32_t j = 0; j < M; j++) {
		into->llm_q[j] += t->llm_q[j];
		into->llm_c[j] += t->llm_c[j];
	}
	into->oracle_q += t->oracle_q;
	into->oracle_c += t->oracle_c;
	for (uint32_t p = 0; p < P; p++) {
		into->q[p] += t->q[p];
		into->c[p] += t->c[p];
		into->eq[p] += t->eq[p];
		into->ec[p] += t->ec[p];
	}
	for (size_t k = 0; k < (size_t)P * M; k++)
		into->share[k] += t->share[k];
}

static void tally_free(tally *t)
{
	free(t->llm_q);
	free(t->llm_c);
	free(t->q);
	free(t->c);
	free(t->eq);
	free(t->ec);
	free(t->share);
}

/* A view over chosen rows; with_outcomes copies their quality and cost (train views only). */
typedef struct view_store {
	rb_view v;
	const char **ids, **prompts, **tasks;
	float *quality, *features;
	double *cost;
	uint32_t *tokens;
} view_store;

static void view_build(view_store *s, const rbd_dataset *ds, const size_t *rows, size_t n, int with_outcomes)
{
	memset(s, 0, sizeof(*s));
	size_t M = ds->n_models, D = ds->feature_dim;
	s->ids = rbd_xmalloc((n ? n : 1) * sizeof(char *));
	s->prompts = rbd_xmalloc((n ? n : 1) * sizeof(char *));
	s->tasks = rbd_xmalloc((n ? n : 1) * sizeof(char *));
	for (size_t k = 0; k < n; k++) {
		s->ids[k] = ds->sample_ids[rows[k]];
		s->prompts[k] = ds->prompts[rows[k]];
		s->tasks[k] = ds->eval_names[ds->eval[rows[k]]];
	}
	if (with_outcomes) {
		s->quality = rbd_xmalloc((n ? n : 1) * M * sizeof(float));
		s->cost = rbd_xmalloc((n ? n : 1) * M * sizeof(double));
		for (size_t k = 0; k < n; k++) {
			memcpy(s->quality + k * M, ds->quality + rows[k] * M, M * sizeof(float));
			memcpy(s->cost + k * M, ds->cost + rows[k] * M, M * sizeof(double));
		}
	}
	if (ds->prompt_tokens) {
		s->tokens = rbd_xmalloc((n ? n : 1) * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++)
			s->tokens[k] = ds->prompt_tokens[rows[k]];
	}
	if (D && ds->features) {
		s->features = rbd_xmalloc((n ? n : 1) * D * sizeof(float));
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
	fprintf(stderr, "router %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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

static void tally_outcomes(tally *t, const rbd_dataset *ds, const size_t *test, size_t n)
{
	size_t M = ds->n_models;
	for (size_t k = 0; k < n; k++) {
		const float *q = ds->quality + test[k] * M;
		const double *c = ds->cost + test[k] * M;
		double best_q = -1.0, best_c = 0.0;
		for (size_t j = 0; j < M; j++) {
			t->llm_q[j] += q[j];
			t->llm_c[j] += c[j];
			if (q[j] > best_q || (q[j] == best_q && c[j] < best_c)) {
				best_q = q[j];
				best_c = c[j];
			}
		}
		/* A prompt no model answers: the oracle routes it nowhere, cost 0, quality 0. */
		if (best_q <= 0.0)
			best_q = best_c = 0.0;
		t->oracle_q += best_q;
		t->oracle_c += best_c;
	}
	t->n_test = n;
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

static int route_predictive(run *r, void *state, const view_store *train, const view_store *test,
			    const size_t *rows, tally *t)
{
	const rb_router *router = r->plugin->router;
	size_t n = test->v.n, M = r->M;
	float *q_hat = rbd_xcalloc((n ? n : 1) * M, sizeof(float));
	double *c_hat = rbd_xcalloc((n ? n : 1) * M, sizeof(double));
	int has_cost = 0, rc = 0;
	/* Batches bound the router's working memory; one prediction pass serves every λ. */
	for (size_t off = 0; off < n; off += RBD_PREDICT_BATCH) {
		rb_view batch = sub_view(&test->v, off, n - off < RBD_PREDICT_BATCH ? n - off : RBD_PREDICT_BATCH);
		int batch_has_cost = 0;
		rc = router->predict(state, &batch, q_hat + off * M, c_hat + off * M, &batch_has_cost);
		if (rc < 0) {
			rc = rbd_fail(r->e, rc < -4095 ? -EIO : rc, "router '%s' failed in predict for prompts %zu..%zu (%s)",
				      router->name, off, off + batch.n - 1, strerror(rc < -4095 ? EIO : -rc));
			goto out;
		}
		if (off == 0) {
			has_cost = batch_has_cost;
		} else if (batch_has_cost != has_cost) {
			rc = rbd_fail(r->e, -EINVAL, "router '%s' predicted costs for some batches but not others",
				      router->name);
			goto out;
		}
	}
	for (size_t k = 0; k < n * M; k++) {
		if (!isfinite(q_hat[k]) || (has_cost && !isfinite(c_hat[k]))) {
			rc = rbd_fail(r->e, -EINVAL, "router '%s' predicted a non-finite %s for prompt %s, model %s",
				      router->name, isfinite(q_hat[k]) ? "cost" : "quality",
				      test->v.sample_ids[k / M], r->ds->model_names[k % M]);
			goto out;
		}
	}
	if (!has_cost) {
		/* ĉ_j: model j's mean cost per query on the train view. */
		double *mean = rbd_xcalloc(M, sizeof(double));
		for (size_t i = 0; i < train->v.n; i++)
			for (size_t j = 0; j < M; j++)
				mean[j] += train->v.cost[i * M + j];
		for (size_t j = 0; j < M; j++)
			mean[j] = train->v.n ? mean[j] / (double)train->v.n : 0.0;
		for (size_t i = 0; i < n; i++)
			memcpy(c_hat + i * M, mean, M * sizeof(double));
		free(mean);
	}
	for (uint32_t p = 0; p < r->P; p++) {
		double lambda = r->lambdas[p];
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
			t->q[p] += r->ds->quality[rows[i] * M + best];
			t->c[p] += r->ds->cost[rows[i] * M + best];
			t->share[(size_t)p * M + best]++;
		}
		r->decisions += n;
	}
out:
	free(q_hat);
	free(c_hat);
	return rc;
}

static int route_policy(run *r, void *state, const view_store *test, const size_t *rows, tally *t)
{
	const rb_router *router = r->plugin->router;
	size_t n = test->v.n, M = r->M;
	uint8_t *called = rbd_xcalloc(M, 1);
	double *probs = rbd_xcalloc(M, sizeof(double));
	int rc = 0;
	for (uint32_t p = 0; p < r->P && rc == 0; p++) {
		for (size_t i = 0; i < n; i++) {
			const float *q = r->ds->quality + rows[i] * M;
			const double *c = r->ds->cost + rows[i] * M;
			memset(called, 0, M);
			rb_caller caller = {.q_row = q, .c_row = c, .n_models = r->M, .called = called};
			uint32_t model = UINT32_MAX;
			rc = router->decide(state, &test->v, i, p, &caller, &model);
			if (rc < 0) {
				rc = rbd_fail(r->e, rc < -4095 ? -EIO : rc,
					      "router '%s' failed in decide for prompt %s at point %u (%s)",
					      router->name, test->v.sample_ids[i], p, strerror(rc < -4095 ? EIO : -rc));
				break;
			}
			if (model >= M) {
				rc = rbd_fail(r->e, -EINVAL,
					      "router '%s' returned model index %u for prompt %s at point %u; the dataset has %zu models",
					      router->name, model, test->v.sample_ids[i], p, M);
				break;
			}
			/* The final model answers; it is charged unless it was already called. */
			double cost = caller.cost + (called[model] ? 0.0 : c[model]);
			t->q[p] += q[model];
			t->c[p] += cost;
			t->share[(size_t)p * M + model]++;
			if (r->has_distribution) {
				rc = router->distribution(state, &test->v, i, p, probs);
				double sum = 0.0;
				for (size_t j = 0; j < M && rc == 0; j++) {
					if (!(probs[j] >= 0.0 && probs[j] <= 1.0))
						rc = -EINVAL;
					sum += probs[j];
				}
				if (rc < 0 || fabs(sum - 1.0) > 1e-6) {
					rc = rbd_fail(r->e, -EINVAL,
						      "router '%s' gave an invalid distribution for prompt %s at point %u",
						      router->name, test->v.sample_ids[i], p);
					break;
				}
				for (size_t j = 0; j < M; j++) {
					t->eq[p] += probs[j] * q[j];
					t->ec[p] += probs[j] * c[j];
				}
			}
		}
		r->decisions += n;
	}
	free(called);
	free(probs);
	return rc;
}

/* The JSON value describing point p (λ, or the router's own description). */
static int describe_points(run *r, void *state)
{
	const rb_router *router = r->plugin->router;
	r->point_params = json_array();
	for (uint32_t p = 0; p < r->P; p++) {
		if (router->kind == RB_ROUTER_PREDICTIVE) {
			json_array_append_new(r->point_params, json_real(r->lambdas[p]));
			continue;
		}
		if (!router->describe_point) {
			json_array_append_new(r->point_params, json_integer(p));
			continue;
		}
		char buf[1024] = "";
		if (router->describe_point(state, p, buf, sizeof(buf)) < 0)
			return rbd_fail(r->e, -EINVAL, "router '%s' failed in describe_point(%u)", router->name, p);
		buf[sizeof(buf) - 1] = '\0';
		json_error_t jerr;
		json_t *v = json_loads(buf, JSON_DECODE_ANY, &jerr);
		if (!v)
			return rbd_fail(r->e, -EINVAL, "router '%s': describe_point(%u) is not JSON (%s): %s",
					router->name, p, jerr.text, buf);
		json_array_append_new(r->point_params, v);
	}
	return 0;
}

static int eval_group(run *r, uint32_t g, const rbd_eval_opts *o, tally *t)
{
	const rbd_dataset *ds = r->ds;
	const rbd_split *s = r->split;
	const rb_router *router = r->plugin->router;
	size_t *train_rows = rbd_xmalloc((ds->n ? ds->n : 1) * sizeof(size_t));
	size_t *test_rows = rbd_xmalloc((ds->n ? ds->n : 1) * sizeof(size_t));
	size_t n_train = 0, n_test = 0;
	for (size_t i = 0; i < ds->n; i++) {
		int in_group = s->group_of[i] == g;
		if (in_group && !s->is_train[i])
			test_rows[n_test++] = i;
		else if (s->is_train[i] && (o->mode == RBD_SPLIT_OOD ? !in_group : in_group))
			train_rows[n_train++] = i;
	}
	tally_outcomes(t, ds, test_rows, n_test);
	t->n_train = n_train;

	view_store train, test;
	view_build(&train, ds, train_rows, n_train, 1);
	view_build(&test, ds, test_rows, n_test, 0);
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
		.params = r->params->values,
		.train = &train.v,
		.seed = group_seed(o->seed, s->group_names[g]),
		.task = s->group_names[g],
	};
	void *state = NULL;
	char err[512] = "";
	double t0 = rbd_now();
	int rc = router->create(&args, &state, err, sizeof(err));
	r->fit_seconds += rbd_now() - t0;
	if (rc < 0) {
		err[sizeof(err) - 1] = '\0';
		rc = rbd_fail(r->e, rc < -4095 ? -EIO : rc, "router '%s' failed in create for task %s: %s", router->name,
			      s->group_names[g], *err ? err : strerror(rc < -4095 ? EIO : -rc));
		goto out;
	}
	if (router->kind == RB_ROUTER_POLICY) {
		uint32_t P = router->n_points(state);
		if (P == 0 || P > 100000) {
			rc = rbd_fail(r->e, -EINVAL, "router '%s' declares %u operating points (expected 1 to 100000)",
				      router->name, P);
			goto out_destroy;
		}
		if (r->P == 0) {
			r->P = P;
		} else if (P != r->P) {
			rc = rbd_fail(r->e, -EINVAL, "router '%s' declares %u operating points for task %s but %u before",
				      router->name, P, s->group_names[g], r->P);
			goto out_destroy;
		}
	}
	if (!r->point_params && (rc = describe_points(r, state)) < 0)
		goto out_destroy;
	if (t->n_points != r->P)
		tally_size_points(t, r->M, r->P);
	t0 = rbd_now();
	if (router->kind == RB_ROUTER_PREDICTIVE)
		rc = route_predictive(r, state, &train, &test, test_rows, t);
	else
		rc = route_policy(r, state, &test, test_rows, t);
	r->route_seconds += rbd_now() - t0;
out_destroy:
	router->destroy(state);
out:
	view_free(&train);
	view_free(&test);
	free(train_rows);
	free(test_rows);
	return rc;
}

static json_t *point_json(double q_sum, double c_sum, size_t n)
{
	json_t *o = json_object();
	json_object_set_new(o, "quality", json_real(n ? q_sum / (double)n : 0.0));
	json_object_set_new(o, "cost_total", json_real(c_sum));
	json_object_set_new(o, "cost_mean", json_real(n ? c_sum / (double)n : 0.0));
	return o;
}

static json_t *hull_json(const rbd_point *pts, size_t n)
{
	rbd_point *hull = rbd_xmalloc((n ? n : 1) * sizeof(rbd_point));
	size_t h = rbd_ndch(pts, n, hull);
	json_t *arr = json_array();
	for (size_t k = 0; k < h; k++)
		json_array_append_new(arr, json_pack("[ff]", hull[k].cost, hull[k].quality));
	free(hull);
	return arr;
}

static json_t *share_json(const run *r, const uint64_t *counts, size_t n)
{
	json_t *o = json_object();
	for (uint32_t j = 0; j < r->M; j++)
		json_object_set_new(o, r->ds->model_names[j], json_real(n ? (double)counts[j] / (double)n : 0.0));
	return o;
}

/* A policy router may label each point with a "curve" (e.g. the cascade's judge error rate);
 * each curve then gets its own hull and AIQ. NULL when the points carry no labels. */
static json_t *curves_json(const run *r, const rbd_point *pts, double c_min, double c_max)
{
	json_t *labels = json_array();
	for (uint32_t p = 0; p < r->P; p++) {
		json_t *curve = json_object_get(json_array_get(r->point_params, p), "curve");
		if (!curve) {
			json_decref(labels);
			return NULL;
		}
		size_t k;
		for (k = 0; k < json_array_size(labels); k++)
			if (json_equal(json_array_get(labels, k), curve))
				break;
		if (k == json_array_size(labels))
			json_array_append(labels, curve);
	}
	json_t *curves = json_array();
	rbd_point *sel = rbd_xmalloc((r->P ? r->P : 1) * sizeof(rbd_point));
	size_t k;
	json_t *label;
	json_array_foreach(labels, k, label) {
		json_t *idx = json_array();
		size_t n_sel = 0;
		for (uint32_t p = 0; p < r->P; p++) {
			if (!json_equal(json_object_get(json_array_get(r->point_params, p), "curve"), label))
				continue;
			json_array_append_new(idx, json_integer(p));
			sel[n_sel++] = pts[p];
		}
		json_t *c = json_object();
		json_object_set(c, "curve", label);
		json_object_set_new(c, "points", idx);
		json_object_set_new(c, "ndch", hull_json(sel, n_sel));
		json_object_set_new(c, "aiq", json_real(rbd_aiq(sel, n_sel, c_min, c_max)));
		json_object_set_new(c, "aiq_code", json_real(rbd_aiq_code(sel, n_sel, c_max)));
		json_array_append_new(curves, c);
	}
	free(sel);
	json_decref(labels);
	return curves;
}

static json_t *block_json(const run *r, const tally *t)
{
	size_t n = t->n_test, M = r->M;
	json_t *b = json_object();
	json_object_set_new(b, "n_train", json_integer((json_int_t)t->n_train));
	json_object_set_new(b, "n_test", json_integer((json_int_t)n));

	json_t *llms = json_object();
	rbd_point *llm_pts = rbd_xmalloc(M * sizeof(rbd_point));
	double c_min = INFINITY, c_max = -INFINITY;
	for (size_t j = 0; j < M; j++) {
		json_object_set_new(llms, r->ds->model_names[j], point_json(t->llm_q[j], t->llm_c[j], n));
		llm_pts[j] = (rbd_point){t->llm_c[j], n ? t->llm_q[j] / (double)n : 0.0};
		c_min = fmin(c_min, t->llm_c[j]);
		c_max = fmax(c_max, t->llm_c[j]);
	}
	json_object_set_new(b, "llms", llms);
	json_object_set_new(b, "oracle", point_json(t->oracle_q, t->oracle_c, n));
	json_object_set_new(b, "aiq_domain", json_pack("[ff]", c_min, c_max));

	json_t *zero = json_object();
	json_object_set_new(zero, "ndch", hull_json(llm_pts, M));
	json_object_set_new(zero, "aiq", json_real(rbd_aiq(llm_pts, M, c_min, c_max)));
	json_object_set_new(zero, "aiq_code", json_real(rbd_aiq_code(llm_pts, M, c_max)));
	json_object_set_new(b, "zero", zero);
	free(llm_pts);

	json_t *router = json_object(), *points = json_array();
	rbd_point *pts = rbd_xmalloc((r->P ? r->P : 1) * sizeof(rbd_point));
	size_t best = 0;
	for (uint32_t p = 0; p < r->P; p++) {
		json_t *pt = point_json(t->q[p], t->c[p], n);
		json_object_set_new(pt, "param", json_deep_copy(json_array_get(r->point_params, p)));
		json_object_set_new(pt, "share", share_json(r, t->share + (size_t)p * M, n));
		if (r->has_distribution)
			json_object_set_new(pt, "expected", point_json(t->eq[p], t->ec[p], n));
		json_array_append_new(points, pt);
		pts[p] = (rbd_point){t->c[p], n ? t->q[p] / (double)n : 0.0};
		if (pts[p].quality > pts[best].quality ||
		    (pts[p].quality == pts[best].quality && pts[p].cost < pts[best].cost))
			best = p;
	}
	json_object_set_new(router, "points", points);
	json_object_set_new(router, "ndch", hull_json(pts, r->P));
	json_object_set_new(router, "aiq", json_real(rbd_aiq(pts, r->P, c_min, c_max)));
	json_object_set_new(router, "aiq_code", json_real(rbd_aiq_code(pts, r->P, c_max)));
	json_t *maxq = point_json(t->q[best], t->c[best], n);
	json_object_set_new(maxq, "param", json_deep_copy(json_array_get(r->point_params, best)));
	json_object_set_new(router, "max_quality", maxq);
	json_object_set_new(router, "share", share_json(r, t->share + best * M, n));
	json_t *curves = curves_json(r, pts, c_min, c_max);
	if (curves)
		json_object_set_new(router, "curves", curves);
	json_object_set_new(b, "router", router);
	free(pts);
	return b;
}

static int select_groups(const rbd_split *s, const rbd_eval_opts *o, uint8_t *selected, rbd_error *e)
{
	if (!o->tasks || o->n_tasks == 0) {
		memset(selected, 1, s->n_groups);
		return 0;
	}
	memset(selected, 0, s->n_groups);
	for (size_t k = 0; k < o->n_tasks; k++) {
		int g = rbd_split_group_index(s, o->tasks[k]);
		if (g < 0) {
			char names[1024] = "";
			for (uint32_t i = 0; i < s->n_groups; i++) {
				if (strlen(names) + strlen(s->group_names[i]) + 3 >= sizeof(names))
					break;
				if (i)
					strcat(names, ", ");
				strcat(names, s->group_names[i]);
			}
			return rbd_fail(e, -ENOENT, "no task '%s' in the dataset (tasks: %s)", o->tasks[k], names);
		}
		selected[g] = 1;
	}
	return 0;
}

static json_t *header_json(const run *r, const rbd_eval_opts *o)
{
	const rbd_dataset *ds = r->ds;
	const rb_router *router = r->plugin->router;
	char hex[65];
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_string(RBD_RESULT_SCHEMA));
	json_object_set_new(doc, "tool", json_pack("{ssss}", "name", "routerbench", "version", RB_VERSION_STRING));
	json_t *models = json_array();
	for (uint32_t j = 0; j < ds->n_models; j++)
		json_array_append_new(models, json_string(ds->model_names[j]));
	rbd_hex(ds->sha256, 32, hex);
	json_object_set_new(doc, "dataset",
			    json_pack("{sssssIso}", "name", ds->name ? ds->name : "", "sha256", hex, "prompts",
				      (json_int_t)ds->n, "models", models));
	rbd_hex(r->plugin->sha256, 32, hex);
	json_object_set_new(doc, "router",
			    json_pack("{sssssssssO}", "name", router->name, "version", router->version, "kind",
				      rbd_router_kind_name(router->kind), "sha256", hex, "params", r->params->echo));
	json_object_set_new(doc, "split",
			    json_pack("{sssIsf}", "mode", o->mode == RBD_SPLIT_OOD ? "ood" : "paper", "seed",
				      (json_int_t)o->seed, "train_fraction", o->train_fraction));
	if (router->kind == RB_ROUTER_PREDICTIVE) {
		json_t *l = json_array();
		for (uint32_t p = 0; p < r->P; p++)
			json_array_append_new(l, json_real(r->lambdas[p]));
		json_object_set_new(doc, "sweep", json_pack("{so}", "lambdas", l));
	}
	return doc;
}

int rbd_evaluate(const rbd_dataset *ds, const rbd_plugin *plugin, const rbd_params *params,
		 const rbd_eval_opts *o, json_t **result, rbd_error *e)
{
	rbd_eval_opts opts = *o;
	if (opts.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		opts.threads = n > 0 ? (uint32_t)n : 1;
	}
	if (!opts.lambdas) {
		opts.lambdas = rbd_paper_lambdas;
		opts.n_lambdas = RBD_PAPER_LAMBDA_COUNT;
	}
	if (opts.n_lambdas == 0 || opts.n_lambdas > 100000)
		return rbd_fail(e, -EINVAL, "the λ sweep needs 1 to 100000 values, got %zu", opts.n_lambdas);
	for (size_t k = 0; k < opts.n_lambdas; k++)
		if (!(opts.lambdas[k] >= 0.0 && isfinite(opts.lambdas[k])))
			return rbd_fail(e, -EINVAL, "willingness to pay λ = %g must be a finite number >= 0",
					opts.lambdas[k]);
	rbd_grouping default_grouping;
	rbd_grouping_default(&default_grouping);
	rbd_split *split = NULL;
	int rc = rbd_split_make(ds, opts.grouping ? opts.grouping : &default_grouping, opts.seed, opts.train_fraction,
				&split, e);
	rbd_grouping_clear(&default_grouping);
	if (rc < 0)
		return rc;

	run r = {
		.ds = ds,
		.plugin = plugin,
		.params = params,
		.split = split,
		.M = ds->n_models,
		.lambdas = opts.lambdas,
		.has_distribution = plugin->router->kind == RB_ROUTER_POLICY && plugin->router->distribution,
		.e = e,
	};
	if (plugin->router->kind == RB_ROUTER_PREDICTIVE)
		r.P = (uint32_t)opts.n_lambdas;

	uint8_t *selected = rbd_xmalloc(split->n_groups);
	tally *tallies = rbd_xcalloc(split->n_groups, sizeof(tally));
	json_t *doc = NULL;
	rc = select_groups(split, &opts, selected, e);
	double t0 = rbd_now();
	for (uint32_t g = 0; g < split->n_groups && rc == 0; g++) {
		if (!selected[g])
			continue;
		tally_init(&tallies[g], r.M, r.P);
		if (split->n_test[g] == 0)
			rc = rbd_fail(e, -EINVAL, "task %s has no test prompts (%zu prompts, train fraction %g)",
				      split->group_names[g], split->n_train[g], opts.train_fraction);
		else
			rc = eval_group(&r, g, &opts, &tallies[g]);
	}
	double total_seconds = rbd_now() - t0;
	if (rc == 0) {
		doc = header_json(&r, &opts);
		json_t *tasks = json_object();
		tally overall;
		size_t own_train = 0;
		tally_init(&overall, r.M, r.P);
		for (uint32_t g = 0; g < split->n_groups; g++) {
			if (!selected[g])
				continue;
			json_object_set_new(tasks, split->group_names[g], block_json(&r, &tallies[g]));
			tally_add(&overall, &tallies[g], r.M, r.P);
			own_train += split->n_train[g];
		}
		overall.n_train = own_train; /* each group's own train part, pooled (differs under OOD) */
		json_object_set_new(doc, "tasks", tasks);
		json_object_set_new(doc, "overall", block_json(&r, &overall));
		tally_free(&overall);
		json_object_set_new(doc, "timing",
				    json_pack("{sfsfsfsIsf}", "fit_seconds", r.fit_seconds, "route_seconds",
					      r.route_seconds, "total_seconds", total_seconds, "decisions",
					      (json_int_t)r.decisions, "route_seconds_per_prompt",
					      r.route_seconds / (double)(overall.n_test ? overall.n_test : 1)));
	}
	for (uint32_t g = 0; g < split->n_groups; g++)
		tally_free(&tallies[g]);
	free(tallies);
	free(selected);
	json_decref(r.point_params);
	rbd_split_free(split);
	if (rc < 0)
		return rc;
	*result = doc;
	return 0;
}
