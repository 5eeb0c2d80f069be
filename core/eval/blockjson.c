/* blockjson.c — LLM points, Oracle, Zero router and the router's points, hulls and AIQ of a block. */
#include "eval/blockjson.h"

#include <math.h>
#include <stdlib.h>

#include "eval/metrics.h"
#include "lib/util.h"

void rbe_oracle_of(const float *q, const double *c, uint32_t M, double *quality, double *cost)
{
	double best_q = -1.0, best_c = 0.0;
	for (uint32_t j = 0; j < M; j++) {
		if (q[j] > best_q || (q[j] == best_q && c[j] < best_c)) {
			best_q = q[j];
			best_c = c[j];
		}
	}
	/* A prompt no model answers: the oracle routes it nowhere, cost 0, quality 0. */
	if (best_q <= 0.0)
		best_q = best_c = 0.0;
	*quality = best_q;
	*cost = best_c;
}

static json_t *point_json(double q_sum, double c_sum, size_t n)
{
	json_t *o = json_object();
	json_object_set_new(o, "quality", json_real(n ? q_sum / (double)n : 0.0));
	json_object_set_new(o, "cost_total", json_real(c_sum));
	json_object_set_new(o, "cost_mean", json_real(n ? c_sum / (double)n : 0.0));
	return o;
}

static json_t *hull_json(const rbe_point *pts, size_t n)
{
	rbe_point *hull = rbe_xmalloc((n ? n : 1) * sizeof(rbe_point));
	size_t h = rbe_ndch(pts, n, hull);
	json_t *arr = json_array();
	for (size_t k = 0; k < h; k++)
		json_array_append_new(arr, json_pack("[ff]", hull[k].cost, hull[k].quality));
	free(hull);
	return arr;
}

static json_t *share_json(const rbe_block_view *v, const uint64_t *counts)
{
	json_t *o = json_object();
	for (uint32_t j = 0; j < v->M; j++)
		json_object_set_new(o, v->model_names[j], json_real(v->n ? (double)counts[j] / (double)v->n : 0.0));
	return o;
}

/* A policy router may label each point with a "curve" (e.g. the cascade's judge error rate);
 * each curve then gets its own hull and AIQ. NULL when the points carry no labels. */
static json_t *curves_json(const json_t *point_params, uint32_t P, const rbe_point *pts, double c_min, double c_max)
{
	json_t *labels = json_array();
	for (uint32_t p = 0; p < P; p++) {
		json_t *curve = json_object_get(json_array_get(point_params, p), "curve");
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
	rbe_point *sel = rbe_xmalloc((P ? P : 1) * sizeof(rbe_point));
	size_t k;
	json_t *label;
	json_array_foreach(labels, k, label) {
		json_t *idx = json_array();
		size_t n_sel = 0;
		for (uint32_t p = 0; p < P; p++) {
			if (!json_equal(json_object_get(json_array_get(point_params, p), "curve"), label))
				continue;
			json_array_append_new(idx, json_integer(p));
			sel[n_sel++] = pts[p];
		}
		json_t *c = json_object();
		json_object_set(c, "curve", label);
		json_object_set_new(c, "points", idx);
		json_object_set_new(c, "ndch", hull_json(sel, n_sel));
		json_object_set_new(c, "aiq", json_real(rbe_aiq(sel, n_sel, c_min, c_max)));
		json_object_set_new(c, "aiq_code", json_real(rbe_aiq_code(sel, n_sel, c_max)));
		json_array_append_new(curves, c);
	}
	free(sel);
	json_decref(labels);
	return curves;
}

json_t *rbe_block_json(const rbe_block_view *v, size_t n_train, const json_t *point_params,
		       const double *expected_q, const double *expected_c)
{
	size_t n = v->n, M = v->M, P = v->P;
	json_t *b = json_object();
	json_object_set_new(b, "n_train", json_integer((json_int_t)n_train));
	json_object_set_new(b, "n_test", json_integer((json_int_t)n));

	/* LLM points and the Oracle. */
	double *llm_q = rbe_xcalloc(M, sizeof(double)), *llm_c = rbe_xcalloc(M, sizeof(double));
	double oracle_q = 0.0, oracle_c = 0.0;
	for (size_t i = 0; i < n; i++) {
		const float *q = v->llm_q + i * M;
		const double *c = v->llm_c + i * M;
		for (size_t j = 0; j < M; j++) {
			llm_q[j] += q[j];
			llm_c[j] += c[j];
		}
		double oq, oc;
		rbe_oracle_of(q, c, v->M, &oq, &oc);
		oracle_q += oq;
		oracle_c += oc;
	}
	json_t *llms = json_object();
	rbe_point *llm_pts = rbe_xmalloc((M ? M : 1) * sizeof(rbe_point));
	double c_min = INFINITY, c_max = -INFINITY;
	for (size_t j = 0; j < M; j++) {
		json_object_set_new(llms, v->model_names[j], point_json(llm_q[j], llm_c[j], n));
		llm_pts[j] = (rbe_point){llm_c[j], n ? llm_q[j] / (double)n : 0.0};
		c_min = fmin(c_min, llm_c[j]);
		c_max = fmax(c_max, llm_c[j]);
	}
	json_object_set_new(b, "llms", llms);
	json_object_set_new(b, "oracle", point_json(oracle_q, oracle_c, n));
	json_object_set_new(b, "aiq_domain", json_pack("[ff]", c_min, c_max));

	json_t *zero = json_object();
	json_object_set_new(zero, "ndch", hull_json(llm_pts, M));
	json_object_set_new(zero, "aiq", json_real(rbe_aiq(llm_pts, M, c_min, c_max)));
	json_object_set_new(zero, "aiq_code", json_real(rbe_aiq_code(llm_pts, M, c_max)));
	json_object_set_new(b, "zero", zero);

	/* The router's points. */
	json_t *router = json_object(), *points = json_array();
	rbe_point *pts = rbe_xmalloc((P ? P : 1) * sizeof(rbe_point));
	uint64_t *share = rbe_xcalloc((P ? P : 1) * M, sizeof(uint64_t));
	size_t best = 0;
	for (size_t p = 0; p < P; p++) {
		double q_sum = 0.0, c_sum = 0.0;
		for (size_t i = 0; i < n; i++) {
			q_sum += v->q[p * n + i];
			c_sum += v->c[p * n + i];
			share[p * M + v->model[p * n + i]]++;
		}
		json_t *pt = point_json(q_sum, c_sum, n);
		json_object_set_new(pt, "param", json_deep_copy(json_array_get(point_params, p)));
		json_object_set_new(pt, "share", share_json(v, share + p * M));
		if (expected_q)
			json_object_set_new(pt, "expected", point_json(expected_q[p], expected_c[p], n));
		json_array_append_new(points, pt);
		pts[p] = (rbe_point){c_sum, n ? q_sum / (double)n : 0.0};
		if (pts[p].quality > pts[best].quality ||
		    (pts[p].quality == pts[best].quality && pts[p].cost < pts[best].cost))
			best = p;
	}
	json_object_set_new(router, "points", points);
	json_object_set_new(router, "ndch", hull_json(pts, P));
	json_object_set_new(router, "aiq", json_real(rbe_aiq(pts, P, c_min, c_max)));
	json_object_set_new(router, "aiq_code", json_real(rbe_aiq_code(pts, P, c_max)));
	json_t *maxq = json_object();
	json_object_set_new(maxq, "quality", json_real(pts[best].quality));
	json_object_set_new(maxq, "cost_total", json_real(pts[best].cost));
	json_object_set_new(maxq, "cost_mean", json_real(n ? pts[best].cost / (double)n : 0.0));
	json_object_set_new(maxq, "param", json_deep_copy(json_array_get(point_params, best)));
	json_object_set_new(router, "max_quality", maxq);
	json_object_set_new(router, "share", share_json(v, share + best * M));
	json_t *curves = curves_json(point_params, (uint32_t)P, pts, c_min, c_max);
	if (curves)
		json_object_set_new(router, "curves", curves);
	json_object_set_new(b, "router", router);

	free(share);
	free(pts);
	free(llm_pts);
	free(llm_q);
	free(llm_c);
	return b;
}
