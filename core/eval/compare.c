/* compare.c — result B against result A on the same data and split: Δ of the paper's figures, a
 * paired bootstrap of ΔAIQ rebuilt from the stored decisions, and where the decisions differ. */
#include "eval/compare.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/bootstrap.h"
#include "eval/eval.h"
#include "eval/metrics.h"

#define LEVEL RBE_BOOTSTRAP_DEFAULT_LEVEL
#define MAX_THREADS 16

void rbe_compare_opts_default(rbe_compare_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->name_a = "A";
	o->name_b = "B";
	o->seed = RBE_COMPARE_DEFAULT_SEED;
	o->top = RBE_COMPARE_DEFAULT_TOP;
}

/* One block ("tasks.<group>" or "overall") of one result, read out of its JSON. */
typedef struct blk {
	size_t n;
	uint32_t P;
	double aiq, aiq_code, max_q;
	rbe_point *hull; /* [h] router.ndch */
	size_t h;
	rbe_point *pts;       /* [P] (cost_total, quality) of router.points */
	const json_t **param; /* [P] borrowed; NULL where a point has no "param" */
	size_t best;          /* the max-quality point: highest quality, then cheapest */
	const json_t *ci95;   /* router.aiq_ci95, borrowed, or NULL */
	/* Decisions (docs/metrics.md, "Comparing two routers"); has_dec 0 when absent. */
	int has_dec;
	const char **ids; /* [n] borrowed */
	double *lq, *lc;  /* [n * M] llm_quality, llm_cost */
	uint32_t *model;  /* [P * n] */
	double *cost;     /* [P * n] */
} blk;

static void blk_free(blk *b)
{
	free(b->hull);
	free(b->pts);
	free(b->param);
	free(b->ids);
	free(b->lq);
	free(b->lc);
	free(b->model);
	free(b->cost);
	memset(b, 0, sizeof(*b));
}

static int get_num(const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 0;
}

/* A JSON array of exactly len numbers into out[k * stride]. */
static int num_row(const json_t *arr, size_t len, double *out, size_t stride)
{
	if (!json_is_array(arr) || json_array_size(arr) != len)
		return -1;
	for (size_t k = 0; k < len; k++) {
		const json_t *v = json_array_get(arr, k);
		if (!json_is_number(v))
			return -1;
		out[k * stride] = json_number_value(v);
	}
	return 0;
}

static int parse_decisions(const json_t *d, const char *file, const char *where, uint32_t M, blk *b, rbe_error *e)
{
	size_t n = b->n, P = b->P;
	const json_t *ids = json_object_get(d, "sample_ids"), *lq = json_object_get(d, "llm_quality"),
		     *lc = json_object_get(d, "llm_cost"), *model = json_object_get(d, "model"),
		     *cost = json_object_get(d, "cost");
	if (!json_is_array(ids) || json_array_size(ids) != n)
		return rbe_fail(e, -EINVAL, "%s: %s.decisions.sample_ids must be an array of n_test = %zu strings", file,
				where, n);
	b->ids = rbe_xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (!(b->ids[i] = json_string_value(json_array_get(ids, i))))
			return rbe_fail(e, -EINVAL, "%s: %s.decisions.sample_ids[%zu] is not a string", file, where, i);
	if (!json_is_array(lq) || json_array_size(lq) != n || !json_is_array(lc) || json_array_size(lc) != n)
		return rbe_fail(e, -EINVAL, "%s: %s.decisions.llm_quality and llm_cost must each hold n_test = %zu rows",
				file, where, n);
	b->lq = rbe_xmalloc(n * M * sizeof(double));
	b->lc = rbe_xmalloc(n * M * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		if (num_row(json_array_get(lq, i), M, b->lq + i * M, 1) < 0)
			return rbe_fail(e, -EINVAL, "%s: %s.decisions.llm_quality[%zu] must be %u numbers (one per model)",
					file, where, i, M);
		if (num_row(json_array_get(lc, i), M, b->lc + i * M, 1) < 0)
			return rbe_fail(e, -EINVAL, "%s: %s.decisions.llm_cost[%zu] must be %u numbers (one per model)",
					file, where, i, M);
	}
	if (!json_is_array(model) || json_array_size(model) != P || !json_is_array(cost) || json_array_size(cost) != P)
		return rbe_fail(e, -EINVAL, "%s: %s.decisions.model and cost must each hold one row per router point (%zu)",
				file, where, P);
	b->model = rbe_xmalloc(P * n * sizeof(uint32_t));
	b->cost = rbe_xmalloc(P * n * sizeof(double));
	for (size_t p = 0; p < P; p++) {
		const json_t *row = json_array_get(model, p);
		if (!json_is_array(row) || json_array_size(row) != n)
			return rbe_fail(e, -EINVAL, "%s: %s.decisions.model[%zu] must hold n_test = %zu model indices", file,
					where, p, n);
		for (size_t i = 0; i < n; i++) {
			const json_t *v = json_array_get(row, i);
			json_int_t m = json_is_integer(v) ? json_integer_value(v) : -1;
			if (m < 0 || m >= (json_int_t)M)
				return rbe_fail(e, -EINVAL, "%s: %s.decisions.model[%zu][%zu] must be a model index below %u",
						file, where, p, i, M);
			b->model[p * n + i] = (uint32_t)m;
		}
		if (num_row(json_array_get(cost, p), n, b->cost + p * n, 1) < 0)
			return rbe_fail(e, -EINVAL, "%s: %s.decisions.cost[%zu] must hold n_test = %zu numbers", file, where,
					p, n);
	}
	b->has_dec = 1;
	return 0;
}

/* Fills b from the block object; on failure b holds partial arrays for blk_free. */
static int parse_block(const json_t *j, const char *file, const char *where, uint32_t M, blk *b, rbe_error *e)
{
	const json_t *router = json_object_get(j, "router"), *nt = json_object_get(j, "n_test");
	if (!json_is_object(j))
		return rbe_fail(e, -EINVAL, "%s: %s is missing or not an object", file, where);
	if (!json_is_integer(nt) || json_integer_value(nt) < 1 || json_integer_value(nt) > (json_int_t)UINT32_MAX)
		return rbe_fail(e, -EINVAL, "%s: %s.n_test must be an integer from 1 to %u", file, where, UINT32_MAX);
	b->n = (size_t)json_integer_value(nt);
	if (!json_is_object(router))
		return rbe_fail(e, -EINVAL, "%s: %s.router is missing or not an object", file, where);
	if (get_num(router, "aiq", &b->aiq) < 0 || get_num(router, "aiq_code", &b->aiq_code) < 0)
		return rbe_fail(e, -EINVAL, "%s: %s.router.aiq and aiq_code must be numbers", file, where);
	if (get_num(json_object_get(router, "max_quality"), "quality", &b->max_q) < 0)
		return rbe_fail(e, -EINVAL, "%s: %s.router.max_quality.quality must be a number", file, where);

	const json_t *ndch = json_object_get(router, "ndch");
	if (!json_is_array(ndch) || json_array_size(ndch) == 0)
		return rbe_fail(e, -EINVAL, "%s: %s.router.ndch must be a non-empty array of [cost_total, quality]", file,
				where);
	b->h = json_array_size(ndch);
	b->hull = rbe_xmalloc(b->h * sizeof(rbe_point));
	for (size_t k = 0; k < b->h; k++) {
		double pair[2];
		if (num_row(json_array_get(ndch, k), 2, pair, 1) < 0)
			return rbe_fail(e, -EINVAL, "%s: %s.router.ndch[%zu] must be [cost_total, quality]", file, where, k);
		b->hull[k] = (rbe_point){pair[0], pair[1]};
	}

	const json_t *points = json_object_get(router, "points");
	if (!json_is_array(points) || json_array_size(points) == 0 || json_array_size(points) > UINT32_MAX)
		return rbe_fail(e, -EINVAL, "%s: %s.router.points must be a non-empty array", file, where);
	b->P = (uint32_t)json_array_size(points);
	b->pts = rbe_xmalloc(b->P * sizeof(rbe_point));
	b->param = rbe_xcalloc(b->P, sizeof(json_t *));
	for (uint32_t p = 0; p < b->P; p++) {
		const json_t *pt = json_array_get(points, p);
		if (get_num(pt, "quality", &b->pts[p].quality) < 0 || get_num(pt, "cost_total", &b->pts[p].cost) < 0)
			return rbe_fail(e, -EINVAL, "%s: %s.router.points[%u] needs numbers quality and cost_total", file,
					where, p);
		b->param[p] = json_object_get(pt, "param");
		/* The rule eval uses for max_quality: highest quality, then the cheaper, then the first. */
		if (b->pts[p].quality > b->pts[b->best].quality ||
		    (b->pts[p].quality == b->pts[b->best].quality && b->pts[p].cost < b->pts[b->best].cost))
			b->best = p;
	}
	const json_t *ci = json_object_get(router, "aiq_ci95");
	if (json_is_array(ci) && json_array_size(ci) == 2 && json_is_number(json_array_get(ci, 0)) &&
	    json_is_number(json_array_get(ci, 1)))
		b->ci95 = ci;

	const json_t *d = json_object_get(j, "decisions");
	if (!d)
		return 0;
	if (!json_is_object(d))
		return rbe_fail(e, -EINVAL, "%s: %s.decisions is not an object", file, where);
	return parse_decisions(d, file, where, M, b, e);
}

/* The header fields a comparison needs; M is the model count. */
static int check_result(const json_t *doc, const char *file, uint32_t *M, rbe_error *e)
{
	if (!json_is_object(doc))
		return rbe_fail(e, -EINVAL, "%s: not a JSON object", file);
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, RBE_RESULT_SCHEMA) != 0)
		return rbe_fail(e, -EINVAL, "%s: not a routerbench result (schema '%s', expected '%s')", file,
				schema ? schema : "(none)", RBE_RESULT_SCHEMA);
	const json_t *ds = json_object_get(doc, "dataset"), *split = json_object_get(doc, "split"),
		     *models = json_object_get(ds, "models");
	if (!json_string_value(json_object_get(ds, "sha256")))
		return rbe_fail(e, -EINVAL, "%s: dataset.sha256 is missing", file);
	if (!json_is_array(models) || json_array_size(models) == 0 || json_array_size(models) > UINT32_MAX)
		return rbe_fail(e, -EINVAL, "%s: dataset.models must be a non-empty array of model names", file);
	for (size_t j = 0; j < json_array_size(models); j++)
		if (!json_is_string(json_array_get(models, j)))
			return rbe_fail(e, -EINVAL, "%s: dataset.models[%zu] is not a string", file, j);
	if (!json_is_string(json_object_get(split, "mode")) || !json_is_integer(json_object_get(split, "seed")) ||
	    !json_is_number(json_object_get(split, "train_fraction")))
		return rbe_fail(e, -EINVAL, "%s: split needs mode, seed and train_fraction", file);
	if (!json_is_object(json_object_get(doc, "tasks")) || !json_is_object(json_object_get(doc, "overall")))
		return rbe_fail(e, -EINVAL, "%s: tasks and overall must be objects", file);
	*M = (uint32_t)json_array_size(models);
	return 0;
}

static void split_text(const json_t *split, char *buf, size_t len)
{
	snprintf(buf, len, "%s seed %lld train %.17g", json_string_value(json_object_get(split, "mode")),
		 (long long)json_integer_value(json_object_get(split, "seed")),
		 json_number_value(json_object_get(split, "train_fraction")));
}

static int check_same_data(const json_t *a, const json_t *b, const rbe_compare_opts *o, rbe_error *e)
{
	const json_t *da = json_object_get(a, "dataset"), *db = json_object_get(b, "dataset");
	const char *sa = json_string_value(json_object_get(da, "sha256")),
		   *sb = json_string_value(json_object_get(db, "sha256"));
	if (strcmp(sa, sb) != 0)
		return rbe_fail(e, -EXDEV,
				"%s and %s are results on different datasets (sha256 %.12s… and %.12s…); only results "
				"on the same dataset and split can be compared",
				o->name_a, o->name_b, sa, sb);
	const json_t *pa = json_object_get(a, "split"), *pb = json_object_get(b, "split");
	if (strcmp(json_string_value(json_object_get(pa, "mode")), json_string_value(json_object_get(pb, "mode"))) ||
	    json_integer_value(json_object_get(pa, "seed")) != json_integer_value(json_object_get(pb, "seed")) ||
	    json_number_value(json_object_get(pa, "train_fraction")) !=
		    json_number_value(json_object_get(pb, "train_fraction"))) {
		char ta[256], tb[256];
		split_text(pa, ta, sizeof(ta));
		split_text(pb, tb, sizeof(tb));
		return rbe_fail(e, -EXDEV,
				"%s and %s use different splits (%s and %s); only results on the same dataset and split "
				"can be compared",
				o->name_a, o->name_b, ta, tb);
	}
	if (!json_equal(json_object_get(da, "models"), json_object_get(db, "models")))
		return rbe_fail(e, -EXDEV, "%s and %s list different models for the same dataset sha256", o->name_a,
				o->name_b);
	return 0;
}

/* Cost at which a hull first reaches quality q, interpolated; the hull rises strictly. Below its
 * first point the first point's cost (a router cannot be cheaper than its cheapest point), above
 * its last the last point's. */
static double cost_to_reach(const rbe_point *h, size_t n, double q)
{
	if (q <= h[0].quality)
		return h[0].cost;
	for (size_t k = 1; k < n; k++) {
		if (q <= h[k].quality) {
			const rbe_point a = h[k - 1], b = h[k];
			return a.cost + (q - a.quality) / (b.quality - a.quality) * (b.cost - a.cost);
		}
	}
	return h[n - 1].cost;
}

/* Quantile of sorted values, linear between order statistics (numpy's default, as
 * eval/bootstrap.c computes the results' own intervals), lerped from the nearer end so an interval
 * over equal values is exactly that value. */
static double quantile(const double *s, size_t n, double q)
{
	double h = q * (double)(n - 1);
	size_t k = (size_t)floor(h);
	if (k + 1 >= n)
		return s[n - 1];
	double t = h - (double)k, lo = s[k], hi = s[k + 1], d = hi - lo;
	return t >= 0.5 ? hi - d * (1.0 - t) : lo + d * t;
}

static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Everything a resample sums, one row per prompt: [llm_cost M | q_a P_a | c_a P_a | q_b P_b |
 * c_b P_b]. A resample is a weight per prompt (how often it was drawn), so the rows stream in
 * order instead of being fetched at random. */
typedef struct rows {
	size_t n, W;
	uint32_t M, Pa, Pb;
	double *v; /* [n * W] */
} rows;

static void rows_build(rows *r, const blk *a, const blk *b, uint32_t M)
{
	size_t n = a->n;
	*r = (rows){.n = n, .M = M, .Pa = a->P, .Pb = b->P, .W = (size_t)M + 2 * (size_t)a->P + 2 * (size_t)b->P};
	r->v = rbe_xmalloc(n * r->W * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double *row = r->v + i * r->W;
		memcpy(row, a->lc + i * M, M * sizeof(double));
		row += M;
		for (const blk *x = a; x; x = x == a ? b : NULL) {
			for (size_t p = 0; p < x->P; p++) {
				row[p] = x->lq[i * M + x->model[p * n + i]];
				row[x->P + p] = x->cost[p * n + i];
			}
			row += 2 * (size_t)x->P;
		}
	}
}

typedef struct boot_job {
	const rows *r;
	const char *name;
	uint64_t seed;
	uint32_t b0, b1;
	double *delta; /* [B], this job writes [b0, b1) */
} boot_job;

static double side_aiq(const double *sum, uint32_t P, size_t n, rbe_point *pts, double c_min, double c_max)
{
	for (uint32_t p = 0; p < P; p++)
		pts[p] = (rbe_point){sum[P + p], sum[p] / (double)n};
	return rbe_aiq(pts, P, c_min, c_max);
}

static void *boot_run(void *arg)
{
	boot_job *j = arg;
	const rows *r = j->r;
	size_t n = r->n, W = r->W;
	uint32_t *idx = rbe_xmalloc(n * sizeof(uint32_t)), *count = rbe_xmalloc(n * sizeof(uint32_t));
	double *sum = rbe_xmalloc(W * sizeof(double));
	rbe_point *pts = rbe_xmalloc((r->Pa > r->Pb ? r->Pa : r->Pb) * sizeof(rbe_point));
	for (uint32_t b = j->b0; b < j->b1; b++) {
		rbe_bootstrap_indices(j->seed, j->name, n, b, idx);
		memset(count, 0, n * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++)
			count[idx[k]]++;
		memset(sum, 0, W * sizeof(double));
		for (size_t i = 0; i < n; i++) {
			if (!count[i])
				continue;
			double w = (double)count[i];
			const double *row = r->v + i * W;
			for (size_t k = 0; k < W; k++)
				sum[k] += w * row[k];
		}
		/* The AIQ domain of the resample: its cheapest and dearest single model. */
		double c_min = INFINITY, c_max = -INFINITY;
		for (uint32_t m = 0; m < r->M; m++) {
			c_min = fmin(c_min, sum[m]);
			c_max = fmax(c_max, sum[m]);
		}
		double aiq_a = side_aiq(sum + r->M, r->Pa, n, pts, c_min, c_max);
		double aiq_b = side_aiq(sum + r->M + 2 * (size_t)r->Pa, r->Pb, n, pts, c_min, c_max);
		j->delta[b] = aiq_b - aiq_a;
	}
	free(idx);
	free(count);
	free(sum);
	free(pts);
	return NULL;
}

/* ΔAIQ on B resamples of the block's prompts, the same resamples for both routers. */
static void paired_bootstrap(const blk *a, const blk *b, uint32_t M, const char *name, uint32_t B, uint64_t seed,
			     double ci[2], double *p_value)
{
	rows r;
	rows_build(&r, a, b, M);
	double *delta = rbe_xmalloc(B * sizeof(double));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t T = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (uint32_t)cpus;
	if (T > B)
		T = B;
	boot_job jobs[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	int started[MAX_THREADS] = {0};
	for (uint32_t t = 0; t < T; t++) {
		jobs[t] = (boot_job){.r = &r, .name = name, .seed = seed, .b0 = (uint32_t)((uint64_t)B * t / T),
				     .b1 = (uint32_t)((uint64_t)B * (t + 1) / T), .delta = delta};
		/* Each resample writes its own slot, so the result does not depend on the threads. */
		if (t > 0)
			started[t] = pthread_create(&tid[t], NULL, boot_run, &jobs[t]) == 0;
	}
	boot_run(&jobs[0]);
	for (uint32_t t = 1; t < T; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			boot_run(&jobs[t]);
	}
	size_t le = 0, ge = 0;
	for (uint32_t k = 0; k < B; k++) {
		le += delta[k] <= 0.0;
		ge += delta[k] >= 0.0;
	}
	qsort(delta, B, sizeof(double), by_value);
	ci[0] = quantile(delta, B, (1.0 - LEVEL) / 2.0);
	ci[1] = quantile(delta, B, 1.0 - (1.0 - LEVEL) / 2.0);
	double p = 2.0 * (double)(le < ge ? le : ge) / (double)B;
	*p_value = fmin(1.0, fmax(p, 1.0 / (double)B));
	free(delta);
	free(r.v);
}

static int params_equal(const json_t *x, const json_t *y)
{
	return (!x && !y) || (x && y && json_equal(x, y));
}

typedef struct flip {
	uint32_t flips;
	size_t i;
} flip;

static int by_flips(const void *x, const void *y)
{
	const flip *a = x, *b = y;
	if (a->flips != b->flips)
		return a->flips > b->flips ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static json_t *param_copy(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

/* Where the two routers decide differently: at every shared operating point, else at each
 * one's max-quality point; and the prompts that flipped most often. */
static json_t *decisions_json(const blk *a, const blk *b, const json_t *models, uint32_t top)
{
	size_t n = a->n;
	int shared = a->P == b->P;
	for (uint32_t p = 0; shared && p < a->P; p++)
		shared = params_equal(a->param[p], b->param[p]);
	uint32_t K = shared ? a->P : 1;
	uint32_t *pa = rbe_xmalloc(K * sizeof(uint32_t)), *pb = rbe_xmalloc(K * sizeof(uint32_t));
	for (uint32_t k = 0; k < K; k++) {
		pa[k] = shared ? k : (uint32_t)a->best;
		pb[k] = shared ? k : (uint32_t)b->best;
	}
	flip *f = rbe_xcalloc(n, sizeof(flip));
	for (size_t i = 0; i < n; i++)
		f[i].i = i;
	json_t *points = json_array();
	double sum = 0.0;
	for (uint32_t k = 0; k < K; k++) {
		const uint32_t *ma = a->model + (size_t)pa[k] * n, *mb = b->model + (size_t)pb[k] * n;
		size_t differ = 0;
		for (size_t i = 0; i < n; i++)
			if (ma[i] != mb[i]) {
				differ++;
				f[i].flips++;
			}
		double share = (double)differ / (double)n;
		sum += share;
		json_array_append_new(points, json_pack("{sIsIsososf}", "a", (json_int_t)pa[k], "b", (json_int_t)pb[k],
							"a_param", param_copy(a->param[pa[k]]), "b_param",
							param_copy(b->param[pb[k]]), "differ", share));
	}
	size_t any = 0;
	for (size_t i = 0; i < n; i++)
		any += f[i].flips > 0;
	qsort(f, n, sizeof(flip), by_flips);
	json_t *list = json_array();
	for (size_t r = 0; r < n && r < top && f[r].flips > 0; r++) {
		size_t i = f[r].i;
		json_t *ca = json_array(), *cb = json_array();
		for (uint32_t k = 0; k < K; k++) {
			json_array_append(ca, json_array_get(models, a->model[(size_t)pa[k] * n + i]));
			json_array_append(cb, json_array_get(models, b->model[(size_t)pb[k] * n + i]));
		}
		json_array_append_new(list, json_pack("{sssIsoso}", "sample_id", a->ids[i], "flips",
						      (json_int_t)f[r].flips, "a", ca, "b", cb));
	}
	free(f);
	free(pa);
	free(pb);
	return json_pack("{sssosfsfso}", "compared", shared ? "shared_points" : "max_quality", "points", points,
			 "differ_mean", sum / (double)K, "prompts_differing", (double)any / (double)n, "top", list);
}

static json_t *triple(double a, double b)
{
	return json_pack("{sfsfsf}", "a", a, "b", b, "delta", b - a);
}

typedef struct ctx {
	const rbe_compare_opts *o;
	uint32_t M;
	const json_t *models;
	uint32_t B;
	uint64_t seed;
	int any_paired, all_paired;
} ctx;

static int compare_block(ctx *c, const json_t *ja, const json_t *jb, const char *name, const char *where,
			 json_t **out, rbe_error *e)
{
	blk a = {0}, b = {0};
	int rc = parse_block(ja, c->o->name_a, where, c->M, &a, e);
	if (rc == 0)
		rc = parse_block(jb, c->o->name_b, where, c->M, &b, e);
	if (rc < 0)
		goto out;
	if (a.n != b.n) {
		rc = rbe_fail(e, -EXDEV, "%s and %s test different prompts in %s (n_test %zu and %zu)", c->o->name_a,
			      c->o->name_b, where, a.n, b.n);
		goto out;
	}
	int paired = a.has_dec && b.has_dec;
	if (paired) {
		for (size_t i = 0; i < a.n; i++)
			if (strcmp(a.ids[i], b.ids[i]) != 0) {
				rc = rbe_fail(e, -EXDEV, "%s and %s test different prompts in %s (sample %zu: '%s' and '%s')",
					      c->o->name_a, c->o->name_b, where, i, a.ids[i], b.ids[i]);
				goto out;
			}
		if (memcmp(a.lq, b.lq, a.n * c->M * sizeof(double)) || memcmp(a.lc, b.lc, a.n * c->M * sizeof(double))) {
			rc = rbe_fail(e, -EXDEV, "%s and %s record different model outcomes in %s.decisions",
				      c->o->name_a, c->o->name_b, where);
			goto out;
		}
	}
	c->any_paired |= paired;
	c->all_paired &= paired;

	json_t *aiq = triple(a.aiq, b.aiq);
	json_object_set_new(aiq, "paired", json_boolean(paired));
	if (paired) {
		double ci[2], p;
		paired_bootstrap(&a, &b, c->M, name, c->B, c->seed, ci, &p);
		json_object_set_new(aiq, "ci95", json_pack("[ff]", ci[0], ci[1]));
		json_object_set_new(aiq, "p_value", json_real(p));
	} else {
		if (a.ci95)
			json_object_set_new(aiq, "a_ci95", json_deep_copy(a.ci95));
		if (b.ci95)
			json_object_set_new(aiq, "b_ci95", json_deep_copy(b.ci95));
	}
	double q_star = fmin(a.max_q, b.max_q), n = (double)a.n;
	json_t *cost = triple(cost_to_reach(a.hull, a.h, q_star) / n, cost_to_reach(b.hull, b.h, q_star) / n);
	json_object_set_new(cost, "quality", json_real(q_star));
	json_t *blk_out = json_pack("{sIsosososo}", "n_test", (json_int_t)a.n, "aiq", aiq, "aiq_code",
				    triple(a.aiq_code, b.aiq_code), "max_quality", triple(a.max_q, b.max_q),
				    "cost_at_quality", cost);
	if (paired)
		json_object_set_new(blk_out, "decisions", decisions_json(&a, &b, c->models, c->o->top));
	*out = blk_out;
out:
	blk_free(&a);
	blk_free(&b);
	return rc;
}

static json_t *side_json(const json_t *doc, const char *file, int decisions)
{
	const json_t *ds = json_object_get(doc, "dataset"), *router = json_object_get(doc, "router"),
		     *boot = json_object_get(doc, "bootstrap");
	json_t *r = json_object();
	static const char *const keys[] = {"name", "version", "kind", "sha256", "params"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const json_t *v = json_object_get(router, keys[k]);
		if (v)
			json_object_set_new(r, keys[k], json_deep_copy(v));
	}
	json_t *d = json_object();
	static const char *const dkeys[] = {"name", "sha256", "prompts"};
	for (size_t k = 0; k < sizeof(dkeys) / sizeof(dkeys[0]); k++) {
		const json_t *v = json_object_get(ds, dkeys[k]);
		if (v)
			json_object_set_new(d, dkeys[k], json_deep_copy(v));
	}
	return json_pack("{sssosososbso}", "file", file, "router", r, "dataset", d, "split",
			 json_deep_copy(json_object_get(doc, "split")), "decisions", decisions, "bootstrap",
			 boot ? json_deep_copy(boot) : json_null());
}

/* Every compared block of doc carries decisions. */
static int has_all_decisions(const json_t *doc, const json_t *names, int with_overall)
{
	size_t k;
	const json_t *v;
	json_array_foreach(names, k, v) {
		const json_t *blk_j = json_object_get(json_object_get(doc, "tasks"), json_string_value(v));
		if (!json_object_get(blk_j, "decisions"))
			return 0;
	}
	return !with_overall || json_object_get(json_object_get(doc, "overall"), "decisions") != NULL;
}

static void list_append(char *buf, size_t len, const char *name)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
}

int rbe_compare(const json_t *a, const json_t *b, const rbe_compare_opts *o, json_t **out, rbe_error *e)
{
	uint32_t Ma, Mb;
	int rc;
	if ((rc = check_result(a, o->name_a, &Ma, e)) < 0 || (rc = check_result(b, o->name_b, &Mb, e)) < 0 ||
	    (rc = check_same_data(a, b, o, e)) < 0)
		return rc;

	/* Task groups: the common ones, in A's order; the others are named in a note. */
	const json_t *ta = json_object_get(a, "tasks"), *tb = json_object_get(b, "tasks");
	json_t *common = json_array(), *notes = json_array();
	char only_a[1024] = "", only_b[1024] = "";
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)ta, key, v) {
		if (json_object_get(tb, key))
			json_array_append_new(common, json_string(key));
		else
			list_append(only_a, sizeof(only_a), key);
	}
	json_object_foreach((json_t *)tb, key, v) {
		if (!json_object_get(ta, key))
			list_append(only_b, sizeof(only_b), key);
	}
	if (json_array_size(common) == 0) {
		json_decref(common);
		json_decref(notes);
		return rbe_fail(e, -EXDEV, "%s and %s share no task group (%s has %s; %s has %s)", o->name_a, o->name_b,
				o->name_a, *only_a ? only_a : "none", o->name_b, *only_b ? only_b : "none");
	}
	int with_overall = !*only_a && !*only_b;
	if (!with_overall) {
		char note[2600];
		snprintf(note, sizeof(note),
			 "task groups in only one result are not compared (only in %s: %s; only in %s: %s); nor is "
			 "overall, which pools different prompts in each",
			 o->name_a, *only_a ? only_a : "none", o->name_b, *only_b ? only_b : "none");
		json_array_append_new(notes, json_string(note));
	}

	/* B and seed: the options, else what A's own bootstrap used, else the defaults. */
	const json_t *boot = json_object_get(a, "bootstrap");
	const json_t *jr = json_object_get(boot, "resamples"), *js = json_object_get(boot, "seed");
	ctx c = {.o = o, .M = Ma, .models = json_object_get(json_object_get(a, "dataset"), "models"),
		 .B = RBE_BOOTSTRAP_DEFAULT_RESAMPLES, .seed = RBE_COMPARE_DEFAULT_SEED, .all_paired = 1};
	if (json_is_integer(jr) && json_integer_value(jr) >= 1 &&
	    json_integer_value(jr) <= (json_int_t)RBE_BOOTSTRAP_MAX_RESAMPLES)
		c.B = (uint32_t)json_integer_value(jr);
	if (json_is_integer(js) && json_integer_value(js) >= 0)
		c.seed = (uint64_t)json_integer_value(js);
	if (o->resamples)
		c.B = o->resamples;
	if (o->seed_set)
		c.seed = o->seed;

	json_t *tasks = json_object(), *overall = NULL;
	size_t k;
	json_array_foreach(common, k, v) {
		const char *name = json_string_value(v);
		char where[512];
		snprintf(where, sizeof(where), "tasks.%s", name);
		json_t *blk_out = NULL;
		rc = compare_block(&c, json_object_get(ta, name), json_object_get(tb, name), name, where, &blk_out, e);
		if (rc < 0)
			goto fail;
		json_object_set_new(tasks, name, blk_out);
	}
	if (with_overall &&
	    (rc = compare_block(&c, json_object_get(a, "overall"), json_object_get(b, "overall"), "overall", "overall",
				&overall, e)) < 0)
		goto fail;

	int dec_a = has_all_decisions(a, common, with_overall), dec_b = has_all_decisions(b, common, with_overall);
	json_t *bj;
	if (c.all_paired) {
		bj = json_pack("{sbsIsIsfss}", "paired", 1, "resamples", (json_int_t)c.B, "seed", (json_int_t)c.seed,
			       "level", LEVEL, "method", "percentile");
	} else {
		char why[1200];
		if (dec_a != dec_b)
			snprintf(why, sizeof(why), "%s has no decisions (rbctl run --keep-decisions)",
				 dec_a ? o->name_b : o->name_a);
		else if (!dec_a)
			snprintf(why, sizeof(why), "%s and %s have no decisions (rbctl run --keep-decisions)",
				 o->name_a, o->name_b);
		else
			snprintf(why, sizeof(why), "some compared blocks have no decisions");
		bj = json_pack("{sbss}", "paired", 0, "reason", why);
		if (c.any_paired) {
			json_object_set_new(bj, "resamples", json_integer((json_int_t)c.B));
			json_object_set_new(bj, "seed", json_integer((json_int_t)c.seed));
		}
	}
	*out = json_pack("{sssosososososo}", "schema", RBE_COMPARE_SCHEMA, "a", side_json(a, o->name_a, dec_a), "b",
			 side_json(b, o->name_b, dec_b), "bootstrap", bj, "tasks", tasks, "overall",
			 overall ? overall : json_null(), "notes", notes);
	json_decref(common);
	return 0;
fail:
	json_decref(tasks);
	json_decref(common);
	json_decref(notes);
	return rc;
}

/* ---- the readable table ---- */

static double jnum(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void side_line(FILE *out, const char *label, const json_t *s)
{
	const json_t *r = json_object_get(s, "router");
	char *params = json_dumps(json_object_get(r, "params"), JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	const char *name = json_string_value(json_object_get(r, "name")),
		   *version = json_string_value(json_object_get(r, "version"));
	fprintf(out, "%s  %s %s %s  (%s%s)\n", label, name ? name : "?", version ? version : "",
		params ? params : "{}", json_string_value(json_object_get(s, "file")),
		json_is_true(json_object_get(s, "decisions")) ? ", with decisions" : "");
	free(params);
}

static void ci_text(const json_t *ci, char *buf, size_t len)
{
	if (json_array_size(ci) == 2)
		snprintf(buf, len, "[%+.4f, %+.4f]", json_number_value(json_array_get(ci, 0)),
			 json_number_value(json_array_get(ci, 1)));
	else
		snprintf(buf, len, "-");
}

static void aiq_row(FILE *out, const char *name, const json_t *blk_j, int paired_table)
{
	const json_t *aiq = json_object_get(blk_j, "aiq");
	char x[64], y[64];
	fprintf(out, "%-18s %6lld  %7.4f  %7.4f  %+8.4f  ", name, (long long)json_integer_value(json_object_get(blk_j, "n_test")),
		jnum(aiq, "a"), jnum(aiq, "b"), jnum(aiq, "delta"));
	if (json_is_true(json_object_get(aiq, "paired"))) {
		ci_text(json_object_get(aiq, "ci95"), x, sizeof(x));
		fprintf(out, "%-20s  %7.4f", x, jnum(aiq, "p_value"));
		if (!paired_table)
			fprintf(out, "  %-20s", "");
	} else {
		ci_text(json_object_get(aiq, "a_ci95"), x, sizeof(x));
		ci_text(json_object_get(aiq, "b_ci95"), y, sizeof(y));
		fprintf(out, "%-20s  %-20s", x, y);
	}
	fprintf(out, "  %+8.4f\n", jnum(json_object_get(blk_j, "aiq_code"), "delta"));
}

static void quality_row(FILE *out, const char *name, const json_t *blk_j)
{
	const json_t *mq = json_object_get(blk_j, "max_quality"), *cq = json_object_get(blk_j, "cost_at_quality");
	fprintf(out, "%-18s  %7.4f  %7.4f  %+8.4f  %7.4f  %11.4e  %11.4e  %+11.4e\n", name, jnum(mq, "a"), jnum(mq, "b"),
		jnum(mq, "delta"), jnum(cq, "quality"), jnum(cq, "a"), jnum(cq, "b"), jnum(cq, "delta"));
}

static void decision_row(FILE *out, const char *name, const json_t *blk_j)
{
	const json_t *d = json_object_get(blk_j, "decisions");
	if (!d)
		return;
	const json_t *points = json_object_get(d, "points");
	char how[96];
	if (!strcmp(json_string_value(json_object_get(d, "compared")), "shared_points"))
		snprintf(how, sizeof(how), "%zu shared point%s", json_array_size(points),
			 json_array_size(points) == 1 ? "" : "s");
	else
		snprintf(how, sizeof(how), "max quality: A #%lld, B #%lld",
			 (long long)json_integer_value(json_object_get(json_array_get(points, 0), "a")),
			 (long long)json_integer_value(json_object_get(json_array_get(points, 0), "b")));
	fprintf(out, "%-18s  %-30s  %7.4f  %7.4f\n", name, how, jnum(d, "differ_mean"), jnum(d, "prompts_differing"));
}

/* "model×count, ..." in order of first appearance. */
static void chose_text(const json_t *models, char *buf, size_t len)
{
	size_t used = 0, n = json_array_size(models);
	buf[0] = '\0';
	for (size_t k = 0; k < n && used + 1 < len; k++) {
		const char *m = json_string_value(json_array_get(models, k));
		size_t first = 0, count = 0;
		while (first < k && strcmp(json_string_value(json_array_get(models, first)), m) != 0)
			first++;
		if (first < k)
			continue;
		for (size_t x = k; x < n; x++)
			count += !strcmp(json_string_value(json_array_get(models, x)), m);
		int w = n > 1 ? snprintf(buf + used, len - used, "%s%s×%zu", used ? ", " : "", m, count)
			      : snprintf(buf + used, len - used, "%s", m);
		used += w > 0 ? (size_t)w : 0;
	}
}

static void top_list(FILE *out, const char *name, const json_t *blk_j)
{
	const json_t *d = json_object_get(blk_j, "decisions"), *top = json_object_get(d, "top");
	if (!d)
		return;
	size_t K = json_array_size(json_object_get(d, "points"));
	fprintf(out, "\nprompts decided differently most often (%s, %zu listed):\n", name, json_array_size(top));
	if (!json_array_size(top))
		return;
	fprintf(out, "%-28s  %9s  %-32s  %s\n", "sample_id", "flips", "A chose", "B chose");
	size_t k;
	const json_t *t;
	json_array_foreach(top, k, t) {
		char ca[512], cb[512], flips[32];
		chose_text(json_object_get(t, "a"), ca, sizeof(ca));
		chose_text(json_object_get(t, "b"), cb, sizeof(cb));
		snprintf(flips, sizeof(flips), "%lld/%zu", (long long)json_integer_value(json_object_get(t, "flips")), K);
		fprintf(out, "%-28s  %9s  %-32s  %s\n", json_string_value(json_object_get(t, "sample_id")), flips, ca, cb);
	}
}

void rbe_compare_table(FILE *out, const json_t *cmp)
{
	const json_t *a = json_object_get(cmp, "a"), *boot = json_object_get(cmp, "bootstrap"),
		     *tasks = json_object_get(cmp, "tasks"), *overall = json_object_get(cmp, "overall");
	const json_t *ds = json_object_get(a, "dataset"), *split = json_object_get(a, "split");
	fprintf(out, "compare: B − A\n");
	side_line(out, "A", a);
	side_line(out, "B", json_object_get(cmp, "b"));
	fprintf(out, "dataset %s (%lld prompts, sha256 %.12s), split %s seed %lld train %.2f\n",
		json_string_value(json_object_get(ds, "name")), (long long)json_integer_value(json_object_get(ds, "prompts")),
		json_string_value(json_object_get(ds, "sha256")), json_string_value(json_object_get(split, "mode")),
		(long long)json_integer_value(json_object_get(split, "seed")), jnum(split, "train_fraction"));
	size_t k;
	const json_t *note;
	json_array_foreach(json_object_get(cmp, "notes"), k, note)
		fprintf(out, "note: %s\n", json_string_value(note));

	int paired = json_is_true(json_object_get(boot, "paired"));
	const char *name;
	const json_t *b;
	fputc('\n', out);
	if (paired)
		fprintf(out, "AIQ (paper definition); interval: paired bootstrap, %lld resamples, seed %lld, 95%% percentile; "
			"p two-sided\n", (long long)json_integer_value(json_object_get(boot, "resamples")),
			(long long)json_integer_value(json_object_get(boot, "seed")));
	else
		fprintf(out, "AIQ (paper definition); unpaired: %s;\neach result's own 95%% interval where it has "
			"one, no p-value\n", json_string_value(json_object_get(boot, "reason")));
	fprintf(out, "task               n_test    AIQ A    AIQ B      ΔAIQ  %-20s  %s Δaiq_code\n",
		paired ? "95% interval of Δ" : "A 95% interval", paired ? "      p" : "B 95% interval      ");
	json_object_foreach((json_t *)tasks, name, b)
		aiq_row(out, name, b, paired);
	if (json_is_object(overall))
		aiq_row(out, "overall", overall, paired);

	fprintf(out, "\nmax quality; cost per query (USD) each NDCH needs to reach q* = the lower max quality\n");
	fprintf(out, "task                max q A  max q B   Δ max q       q*  USD/query A  USD/query B  Δ USD/query\n");
	json_object_foreach((json_t *)tasks, name, b)
		quality_row(out, name, b);
	if (json_is_object(overall))
		quality_row(out, "overall", overall);

	int any_dec = json_object_get(overall, "decisions") != NULL;
	json_object_foreach((json_t *)tasks, name, b)
		any_dec |= json_object_get(b, "decisions") != NULL;
	if (!any_dec)
		return;
	fprintf(out, "\ndecisions that differ (share of test prompts): mean over the compared points, and at any\n");
	fprintf(out, "%-18s  %-30s  %7s  %7s\n", "task", "compared", "mean", "any");
	json_object_foreach((json_t *)tasks, name, b)
		decision_row(out, name, b);
	if (json_is_object(overall))
		decision_row(out, "overall", overall);
	if (json_is_object(overall)) {
		top_list(out, "overall", overall);
	} else {
		json_object_foreach((json_t *)tasks, name, b)
			top_list(out, name, b);
	}
}
