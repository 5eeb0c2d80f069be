/* families.c — RouteLLM, LLMRouterBench and RouterArena figures from one block's decisions. */
#include "eval/families.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval/metrics.h"
#include "lib/util.h"

/* jansson refuses NaN and infinities; an undefined figure is null in the result. */
static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* Router points summed the way eval/eval.c sums them: prompts in block order, quality as a mean. */
typedef struct points {
	double *quality; /* [P] */
	double *cost;    /* [P] cost_total */
	size_t best;     /* the max-quality point */
} points;

static void points_sum(const rbe_block_view *v, points *pt)
{
	size_t n = v->n, P = v->P;
	pt->quality = rbe_xcalloc(P ? P : 1, sizeof(double));
	pt->cost = rbe_xcalloc(P ? P : 1, sizeof(double));
	pt->best = 0;
	for (size_t p = 0; p < P; p++) {
		double q = 0.0, c = 0.0;
		for (size_t i = 0; i < n; i++) {
			q += v->q[p * n + i];
			c += v->c[p * n + i];
		}
		pt->quality[p] = n ? q / (double)n : 0.0;
		pt->cost[p] = c;
		if (pt->quality[p] > pt->quality[pt->best] ||
		    (pt->quality[p] == pt->quality[pt->best] && pt->cost[p] < pt->cost[pt->best]))
			pt->best = p;
	}
}

static void points_free(points *pt)
{
	free(pt->quality);
	free(pt->cost);
}

/* ---- RouteLLM ---------------------------------------------------------------------------- */

typedef struct share_pgr {
	double s; /* strong-call share */
	double g; /* PGR */
} share_pgr;

static int cmp_share(const void *a, const void *b)
{
	const share_pgr *x = a, *y = b;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->g != y->g)
		return x->g > y->g ? -1 : 1; /* the best PGR first: it is the one kept */
	return 0;
}

/* The PGR curve over [0, 1]: the router's points plus always-weak (0, 0) and always-strong
 * (1, 1), sorted by share, one point per share (the highest PGR). Returns its length. */
static size_t pgr_curve(const double *share, const double *pgr, size_t P, share_pgr *out)
{
	size_t m = 0;
	out[m++] = (share_pgr){0.0, 0.0};
	out[m++] = (share_pgr){1.0, 1.0};
	for (size_t p = 0; p < P; p++)
		if (isfinite(share[p]) && isfinite(pgr[p]))
			out[m++] = (share_pgr){share[p], pgr[p]};
	qsort(out, m, sizeof(*out), cmp_share);
	size_t k = 0;
	for (size_t i = 0; i < m; i++)
		if (k == 0 || out[i].s != out[k - 1].s)
			out[k++] = out[i];
	return k;
}

/* Area under the piecewise-linear curve; its shares run from exactly 0 to exactly 1. */
static double apgr(const share_pgr *curve, size_t m)
{
	double area = 0.0;
	for (size_t k = 1; k < m; k++)
		area += (curve[k].s - curve[k - 1].s) * (curve[k].g + curve[k - 1].g) / 2.0;
	return area;
}

/* Smallest share at which the curve reaches level x: its first crossing, interpolated within the
 * segment. The same as interpolating the running maximum of PGR, which is monotone. */
static double cpt(const share_pgr *curve, size_t m, double x)
{
	if (curve[0].g >= x)
		return curve[0].s;
	for (size_t k = 1; k < m; k++) {
		if (curve[k].g < x)
			continue;
		const share_pgr *a = &curve[k - 1], *b = &curve[k];
		return a->s + (x - a->g) * (b->s - a->s) / (b->g - a->g);
	}
	return NAN; /* unreachable: the curve ends at (1, 1) and x <= 1 */
}

static json_t *routellm_json(const rbe_block_view *v, const points *pt, const double *model_q, char *note,
			     size_t note_len)
{
	if (v->M != 2) {
		snprintf(note, note_len,
			 "RouteLLM's figures compare a router with the two models it routes between, a strong "
			 "and a weak one; this block's pool has %u models",
			 v->M);
		return NULL;
	}
	uint32_t strong = model_q[1] > model_q[0] ? 1 : 0, weak = 1 - strong;
	double gap = model_q[strong] - model_q[weak];
	if (!(gap > 0.0) || v->n == 0) {
		snprintf(note, note_len,
			 "the two models have the same mean quality on this block, so PGR (a share of the gap "
			 "between them) is undefined");
		return NULL;
	}
	size_t n = v->n, P = v->P;
	double *share = rbe_xcalloc(P ? P : 1, sizeof(double));
	double *pgr = rbe_xcalloc(P ? P : 1, sizeof(double));
	json_t *shares = json_array(), *pgrs = json_array();
	for (size_t p = 0; p < P; p++) {
		size_t calls = 0;
		for (size_t i = 0; i < n; i++)
			calls += v->model[p * n + i] == strong;
		share[p] = (double)calls / (double)n;
		pgr[p] = (pt->quality[p] - model_q[weak]) / gap;
		json_array_append_new(shares, num(share[p]));
		json_array_append_new(pgrs, num(pgr[p]));
	}
	share_pgr *curve = rbe_xmalloc((P + 2) * sizeof(share_pgr));
	size_t m = pgr_curve(share, pgr, P, curve);

	json_t *o = json_object();
	json_object_set_new(o, "strong", json_string(v->model_names[strong]));
	json_object_set_new(o, "weak", json_string(v->model_names[weak]));
	json_object_set_new(o, "strong_quality", num(model_q[strong]));
	json_object_set_new(o, "weak_quality", num(model_q[weak]));
	json_object_set_new(o, "strong_share", shares);
	json_object_set_new(o, "pgr", pgrs);
	json_object_set_new(o, "apgr", num(apgr(curve, m)));
	json_object_set_new(o, "cpt_20", num(cpt(curve, m, 0.2)));
	json_object_set_new(o, "cpt_50", num(cpt(curve, m, 0.5)));
	json_object_set_new(o, "cpt_80", num(cpt(curve, m, 0.8)));
	if (P) {
		json_t *mq = json_object();
		json_object_set_new(mq, "strong_share", num(share[pt->best]));
		json_object_set_new(mq, "pgr", num(pgr[pt->best]));
		json_object_set_new(o, "max_quality", mq);
	} else {
		json_object_set_new(o, "max_quality", json_null());
	}
	free(curve);
	free(share);
	free(pgr);
	return o;
}

/* ---- LLMRouterBench ---------------------------------------------------------------------- */

/* Cheapest cost at which the hull (quality strictly rising) reaches quality target, linearly
 * interpolated between its points; NAN when it never does. */
static double hull_cost_at(const rbe_point *hull, size_t h, double target)
{
	for (size_t k = 0; k < h; k++) {
		if (hull[k].quality < target)
			continue;
		if (k == 0)
			return hull[0].cost;
		const rbe_point *a = &hull[k - 1], *b = &hull[k];
		return a->cost + (target - a->quality) * (b->cost - a->cost) / (b->quality - a->quality);
	}
	return NAN;
}

static json_t *llmrouterbench_json(const rbe_block_view *v, const points *pt, const double *model_q,
				   const double *model_c, double oracle_q)
{
	uint32_t b = 0;
	for (uint32_t j = 1; j < v->M; j++)
		if (model_q[j] > model_q[b] || (model_q[j] == model_q[b] && model_c[j] < model_c[b]))
			b = j;
	json_t *o = json_object();
	json_object_set_new(o, "best_single", v->M ? json_string(v->model_names[b]) : json_null());
	json_object_set_new(o, "best_single_quality", v->M ? num(model_q[b]) : json_null());
	json_object_set_new(o, "best_single_cost_total", v->M ? num(model_c[b]) : json_null());
	json_object_set_new(o, "oracle_quality", num(oracle_q));
	if (v->M == 0 || v->P == 0) {
		json_object_set_new(o, "router_max_quality", json_null());
		json_object_set_new(o, "perf_gain", json_null());
		json_object_set_new(o, "oracle_gap", json_null());
		json_object_set_new(o, "cost_at_best_single_quality", json_null());
		json_object_set_new(o, "cost_save", json_null());
		return o;
	}
	double rq = pt->quality[pt->best];
	json_object_set_new(o, "router_max_quality", num(rq));
	json_object_set_new(o, "perf_gain", num(rq - model_q[b]));
	json_object_set_new(o, "oracle_gap", num(oracle_q - rq));

	rbe_point *pts = rbe_xmalloc(v->P * sizeof(rbe_point)), *hull = rbe_xmalloc(v->P * sizeof(rbe_point));
	for (size_t p = 0; p < v->P; p++)
		pts[p] = (rbe_point){pt->cost[p], pt->quality[p]};
	size_t h = rbe_ndch(pts, v->P, hull);
	double at = hull_cost_at(hull, h, model_q[b]);
	json_object_set_new(o, "cost_at_best_single_quality", num(at));
	json_object_set_new(o, "cost_save", model_c[b] > 0.0 ? num(1.0 - at / model_c[b]) : json_null());
	free(pts);
	free(hull);
	return o;
}

/* ---- RouterArena ------------------------------------------------------------------------- */

/* Per prompt: the best score and the cost of the cheapest model reaching it (the "optimal"
 * model); best <= 0 means no model answers and the prompt has no optimal model. */
static void prompt_optima(const rbe_block_view *v, float *best, double *cstar)
{
	size_t M = v->M;
	for (size_t i = 0; i < v->n; i++) {
		const float *q = v->llm_q + i * M;
		const double *c = v->llm_c + i * M;
		float bq = M ? q[0] : 0.0f;
		double bc = M ? c[0] : 0.0;
		for (size_t j = 1; j < M; j++) {
			if (q[j] > bq || (q[j] == bq && c[j] < bc)) {
				bq = q[j];
				bc = c[j];
			}
		}
		best[i] = bq;
		cstar[i] = bc;
	}
}

typedef struct arena_point {
	size_t counted, selected;
	double opt_cost_sum, router_cost_sum;
} arena_point;

static arena_point arena_at(const rbe_block_view *v, size_t p, const float *best, const double *cstar)
{
	size_t n = v->n, M = v->M;
	arena_point a = {0};
	for (size_t i = 0; i < n; i++) {
		uint32_t m = v->model[p * n + i];
		/* RouterArena counts a prompt only when some model answers it and the router's pick
		 * does too (llm_evaluation/run.py, compute_optimality_from_predictions). */
		if (!(best[i] > 0.0f) || m >= M || v->q[p * n + i] < best[i])
			continue;
		a.counted++;
		a.selected += v->llm_c[i * M + m] == cstar[i];
		a.opt_cost_sum += cstar[i];
		a.router_cost_sum += v->c[p * n + i];
	}
	return a;
}

static json_t *arena_sel(const arena_point *a)
{
	return a->counted ? num((double)a->selected / (double)a->counted) : json_null();
}

static json_t *arena_cost(const arena_point *a)
{
	return a->router_cost_sum > 0.0 ? num(a->opt_cost_sum / a->router_cost_sum) : json_null();
}

static json_t *routerarena_json(const rbe_block_view *v, const points *pt)
{
	size_t n = v->n;
	float *best = rbe_xmalloc((n ? n : 1) * sizeof(float));
	double *cstar = rbe_xmalloc((n ? n : 1) * sizeof(double));
	prompt_optima(v, best, cstar);
	json_t *sel = json_array(), *cost = json_array(), *counted = json_array(), *mq = json_null();
	for (size_t p = 0; p < v->P; p++) {
		arena_point a = arena_at(v, p, best, cstar);
		json_array_append_new(sel, arena_sel(&a));
		json_array_append_new(cost, arena_cost(&a));
		json_array_append_new(counted, json_integer((json_int_t)a.counted));
		if (p == pt->best) {
			json_decref(mq);
			mq = json_object();
			json_object_set_new(mq, "opt_sel", arena_sel(&a));
			json_object_set_new(mq, "opt_cost", arena_cost(&a));
			json_object_set_new(mq, "counted", json_integer((json_int_t)a.counted));
		}
	}
	json_t *o = json_object();
	json_object_set_new(o, "opt_sel", sel);
	json_object_set_new(o, "opt_cost", cost);
	json_object_set_new(o, "counted", counted);
	json_object_set_new(o, "max_quality", mq);
	free(best);
	free(cstar);
	return o;
}

/* ---- the block --------------------------------------------------------------------------- */

json_t *rbe_families_block(const rbe_block_view *v)
{
	size_t n = v->n, M = v->M;
	double *model_q = rbe_xcalloc(M ? M : 1, sizeof(double));
	double *model_c = rbe_xcalloc(M ? M : 1, sizeof(double));
	double oracle = 0.0;
	for (size_t i = 0; i < n; i++) {
		double best = 0.0; /* a prompt no model answers scores 0 for the oracle */
		for (size_t j = 0; j < M; j++) {
			model_q[j] += v->llm_q[i * M + j];
			model_c[j] += v->llm_c[i * M + j];
			best = fmax(best, v->llm_q[i * M + j]);
		}
		oracle += best;
	}
	for (size_t j = 0; j < M; j++)
		model_q[j] = n ? model_q[j] / (double)n : 0.0;
	oracle = n ? oracle / (double)n : 0.0;

	points pt;
	points_sum(v, &pt);
	json_t *o = json_object();
	char note[256] = "";
	json_t *rl = routellm_json(v, &pt, model_q, note, sizeof(note));
	json_object_set_new(o, "routellm", rl ? rl : json_null());
	if (!rl)
		json_object_set_new(o, "routellm_note", json_string(note));
	json_object_set_new(o, "llmrouterbench", llmrouterbench_json(v, &pt, model_q, model_c, oracle));
	json_object_set_new(o, "routerarena", routerarena_json(v, &pt));
	points_free(&pt);
	free(model_q);
	free(model_c);
	return o;
}
