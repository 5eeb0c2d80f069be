/* bootstrap.c — paired percentile-bootstrap intervals over a block's test prompts. */
#include "eval/bootstrap.h"

#include "eval/blockjson.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/metrics.h"
#include "rb/rng.h"

/* Resamples summed side by side: one pass over a column's prompts feeds LANES accumulators, so
 * the per-prompt values are read B / LANES times instead of B times. */
#define LANES 16
/* Prompts per pass: their LANES weights (as doubles) stay in L1 while every column streams by. */
#define CHUNK 256
#define MAX_THREADS 16
/* Every quantity keeps its B values until the quantiles; refuse jobs that would need more. */
#define MAX_VALUE_BYTES ((size_t)1 << 30)

/* ---- the index stream ------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	uint64_t x = h ^ v;
	return rb_splitmix64(&x);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* Resample b's generator: depends on (seed, name, n, b) only, never on the thread that draws it. */
static void stream_seed(rb_rng *r, uint64_t seed, uint64_t name_hash, size_t n, uint32_t b)
{
	rb_rng_seed(r, mix(mix(mix(mix(0, seed), name_hash), (uint64_t)n), b));
}

void rbe_bootstrap_indices(uint64_t seed, const char *block_name, size_t n, uint32_t b, uint32_t *idx)
{
	rb_rng r;
	stream_seed(&r, seed, fnv1a(block_name), n, b);
	for (size_t k = 0; k < n; k++)
		idx[k] = (uint32_t)rb_rng_below(&r, n);
}

/* ---- layout of the work ----------------------------------------------------------------- */

/* One summed column: a per-prompt value, read as src[i * stride]. */
typedef struct col {
	const float *f; /* either f or d is set */
	const double *d;
	size_t stride;
} col;

typedef struct curve_set {
	uint32_t n;    /* curves */
	size_t *off;   /* [n + 1] into idx */
	uint32_t *idx; /* point indices, curve after curve */
} curve_set;

typedef struct job {
	size_t n;
	uint32_t M, P, B;
	uint32_t threads; /* budget; 0: every usable CPU */
	uint64_t seed, name_hash;
	/* Columns: [0, M) LLM quality, [M, 2M) LLM cost, 2M Oracle quality, 2M + 1 Oracle cost,
	 * then quality and cost of each distinct router point (identical points are summed once). */
	col *cols;
	uint32_t n_cols;
	uint32_t *rcol; /* [P] column of point p's quality; its cost is the next one */
	curve_set curves;
	/* Quantities, each with B values in vals[q * B + b]. */
	uint32_t n_q, q_oracle, q_zero, q_points, q_router, q_curves;
	double *vals;
	double lo_frac, hi_frac;
	double *lo, *hi; /* [n_q] */
} job;

/* ---- summing B weighted resamples --------------------------------------------------------- */

/* The LANES accumulators of one column as vectors the compiler keeps in registers (GCC vector
 * extension; lowered to whatever width the target has). */
typedef double vlane __attribute__((vector_size(LANES * sizeof(double))));

static vlane *vlane_alloc(size_t n)
{
	vlane *p = aligned_alloc(_Alignof(vlane), (n ? n : 1) * sizeof(vlane));
	rbe_require(p);
	return p;
}

typedef struct lane_buffers {
	void *counts; /* [n][LANES] uint16_t when narrow (n <= UINT16_MAX), else uint32_t */
	int narrow;
	vlane *w;         /* [CHUNK] */
	vlane *acc;       /* [n_cols] */
	rbe_point *llm_pts, *pts, *sel;
} lane_buffers;

static void sum_chunk(const job *j, const vlane *w, size_t i0, size_t len, vlane *acc)
{
	for (uint32_t k = 0; k < j->n_cols; k++) {
		const col *c = &j->cols[k];
		vlane a = acc[k];
		if (c->f) {
			const float *src = c->f + i0 * c->stride;
			for (size_t i = 0; i < len; i++)
				a += (double)src[i * c->stride] * w[i];
		} else {
			const double *src = c->d + i0 * c->stride;
			for (size_t i = 0; i < len; i++)
				a += src[i * c->stride] * w[i];
		}
		acc[k] = a;
	}
}

/* Every quantity of resample b from its column sums, the way block_json derives them from the
 * real sample. */
static void derive(const job *j, const vlane *acc, int lane, uint32_t b, lane_buffers *lb)
{
	const double n = (double)j->n;
	const uint32_t M = j->M, P = j->P, B = j->B;
#define S(k) (acc[k][lane])
#define V(q) (j->vals[(size_t)(q) * B + b])
	double c_min = INFINITY, c_max = -INFINITY;
	for (uint32_t m = 0; m < M; m++) {
		double q = S(m) / n, c = S(M + m);
		V(3 * m) = q;
		V(3 * m + 1) = c;
		V(3 * m + 2) = c / n;
		lb->llm_pts[m] = (rbe_point){c, q};
		c_min = fmin(c_min, c);
		c_max = fmax(c_max, c);
	}
	V(j->q_oracle) = S(2 * M) / n;
	V(j->q_oracle + 1) = S(2 * M + 1);
	V(j->q_oracle + 2) = S(2 * M + 1) / n;
	V(j->q_zero) = rbe_aiq(lb->llm_pts, M, c_min, c_max);
	V(j->q_zero + 1) = rbe_aiq_code(lb->llm_pts, M, c_max);
	if (P == 0)
		return;
	uint32_t best = 0;
	for (uint32_t p = 0; p < P; p++) {
		double q = S(j->rcol[p]) / n, c = S(j->rcol[p] + 1);
		V(j->q_points + 3 * p) = q;
		V(j->q_points + 3 * p + 1) = c;
		V(j->q_points + 3 * p + 2) = c / n;
		lb->pts[p] = (rbe_point){c, q};
		if (q > lb->pts[best].quality || (q == lb->pts[best].quality && c < lb->pts[best].cost))
			best = p;
	}
	V(j->q_router) = rbe_aiq(lb->pts, P, c_min, c_max);
	V(j->q_router + 1) = rbe_aiq_code(lb->pts, P, c_max);
	V(j->q_router + 2) = lb->pts[best].quality;
	V(j->q_router + 3) = lb->pts[best].cost;
	V(j->q_router + 4) = lb->pts[best].cost / n;
	for (uint32_t k = 0; k < j->curves.n; k++) {
		size_t n_sel = 0;
		for (size_t t = j->curves.off[k]; t < j->curves.off[k + 1]; t++)
			lb->sel[n_sel++] = lb->pts[j->curves.idx[t]];
		V(j->q_curves + 2 * k) = rbe_aiq(lb->sel, n_sel, c_min, c_max);
		V(j->q_curves + 2 * k + 1) = rbe_aiq_code(lb->sel, n_sel, c_max);
	}
#undef S
#undef V
}

/* Resamples [LANES·g0, LANES·g1): draw each one's counts, sum every column, derive. */
static void run_groups(const job *j, size_t g0, size_t g1)
{
	size_t n = j->n;
	/* A count is at most n: 16 bits hold it when n does, which halves the largest array. */
	int narrow = n <= UINT16_MAX;
	size_t count_bytes = n * LANES * (narrow ? sizeof(uint16_t) : sizeof(uint32_t));
	lane_buffers lb = {
		.counts = rbe_xmalloc(count_bytes),
		.narrow = narrow,
		.w = vlane_alloc(CHUNK),
		.acc = vlane_alloc(j->n_cols),
		.llm_pts = rbe_xmalloc(j->M * sizeof(rbe_point)),
		.pts = rbe_xmalloc((j->P ? j->P : 1) * sizeof(rbe_point)),
		.sel = rbe_xmalloc((j->P ? j->P : 1) * sizeof(rbe_point)),
	};
	for (size_t g = g0; g < g1; g++) {
		uint32_t b0 = (uint32_t)(g * LANES);
		int lanes = j->B - b0 < LANES ? (int)(j->B - b0) : LANES;
		/* Multinomial counts: n uniform draws, the same ones rbe_bootstrap_indices gives. */
		memset(lb.counts, 0, count_bytes);
		for (int l = 0; l < lanes; l++) {
			rb_rng r;
			stream_seed(&r, j->seed, j->name_hash, n, b0 + (uint32_t)l);
			if (narrow)
				for (size_t k = 0; k < n; k++)
					((uint16_t *)lb.counts)[rb_rng_below(&r, n) * LANES + (size_t)l]++;
			else
				for (size_t k = 0; k < n; k++)
					((uint32_t *)lb.counts)[rb_rng_below(&r, n) * LANES + (size_t)l]++;
		}
		memset(lb.acc, 0, j->n_cols * sizeof(vlane));
		for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
			size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
			if (narrow) {
				const uint16_t *c = (const uint16_t *)lb.counts + i0 * LANES;
				for (size_t i = 0; i < len; i++)
					for (int l = 0; l < LANES; l++)
						lb.w[i][l] = (double)c[i * LANES + (size_t)l];
			} else {
				const uint32_t *c = (const uint32_t *)lb.counts + i0 * LANES;
				for (size_t i = 0; i < len; i++)
					for (int l = 0; l < LANES; l++)
						lb.w[i][l] = (double)c[i * LANES + (size_t)l];
			}
			sum_chunk(j, lb.w, i0, len, lb.acc);
		}
		for (int l = 0; l < lanes; l++)
			derive(j, lb.acc, l, b0 + (uint32_t)l, &lb);
	}
	free(lb.counts);
	free(lb.w);
	free(lb.acc);
	free(lb.llm_pts);
	free(lb.pts);
	free(lb.sel);
}

/* ---- percentile intervals ------------------------------------------------------------------ */

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y); /* NaN last */
	return (x > y) - (x < y);
}

/* numpy.quantile's default ("linear"): position (B − 1)·frac between order statistics, and its
 * two-sided lerp, so an interval over equal values is exactly that value. */
static double quantile_sorted(const double *x, size_t B, double frac)
{
	double h = (double)(B - 1) * frac;
	size_t k = (size_t)floor(h);
	if (k >= B - 1)
		return x[B - 1];
	double t = h - (double)k, a = x[k], b = x[k + 1], d = b - a;
	return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

static void run_quantiles(const job *j, size_t q0, size_t q1)
{
	double *tmp = rbe_xmalloc(j->B * sizeof(double));
	for (size_t q = q0; q < q1; q++) {
		memcpy(tmp, j->vals + q * j->B, j->B * sizeof(double));
		qsort(tmp, j->B, sizeof(double), by_value);
		j->lo[q] = quantile_sorted(tmp, j->B, j->lo_frac);
		j->hi[q] = quantile_sorted(tmp, j->B, j->hi_frac);
	}
	free(tmp);
}

/* ---- threads --------------------------------------------------------------------------------- */

typedef void (*range_fn)(const job *j, size_t begin, size_t end);

typedef struct chunk {
	range_fn fn;
	const job *j;
	size_t begin, end;
} chunk;

static void *chunk_main(void *arg)
{
	chunk *c = arg;
	c->fn(c->j, c->begin, c->end);
	return NULL;
}

/* The CPUs this process may run on (taskset, cpusets), else the online ones. */
static uint32_t usable_cpus(void)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (uint32_t)n;
}

/* fn over [0, n) in contiguous ranges, one per thread; a thread that cannot start has its range
 * run here. Every item writes only its own outputs, so the result does not depend on threads. */
static void parallel_for(const job *j, size_t n, range_fn fn)
{
	uint32_t threads = usable_cpus();
	if (j->threads && j->threads < threads)
		threads = j->threads;
	if (threads > n)
		threads = n ? (uint32_t)n : 1;
	pthread_t tid[MAX_THREADS];
	chunk ch[MAX_THREADS];
	int started[MAX_THREADS] = {0};
	for (uint32_t t = 0; t < threads; t++) {
		ch[t] = (chunk){fn, j, n * t / threads, n * (t + 1) / threads};
		started[t] = t > 0 && pthread_create(&tid[t], NULL, chunk_main, &ch[t]) == 0;
	}
	fn(j, ch[0].begin, ch[0].end);
	for (uint32_t t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			fn(j, ch[t].begin, ch[t].end);
	}
}

/* ---- reading and annotating the block's JSON ------------------------------------------------ */

static json_t *member(json_t *o, const char *key, json_type type)
{
	json_t *v = json_object_get(o, key);
	return v && json_typeof(v) == type ? v : NULL;
}

/* The curves' point lists (router.curves[k].points), checked against P. */
static int read_curves(json_t *router, uint32_t P, curve_set *cs, rbe_error *e)
{
	memset(cs, 0, sizeof(*cs));
	json_t *curves = json_object_get(router, "curves");
	if (!curves)
		return 0;
	if (!json_is_array(curves))
		return rbe_fail(e, -EINVAL, "router.curves is not an array");
	size_t n = json_array_size(curves), total = 0;
	for (size_t k = 0; k < n; k++) {
		json_t *pts = member(json_array_get(curves, k), "points", JSON_ARRAY);
		if (!pts)
			return rbe_fail(e, -EINVAL, "router.curves[%zu] has no \"points\" array", k);
		total += json_array_size(pts);
	}
	cs->n = (uint32_t)n;
	cs->off = rbe_xmalloc((n + 1) * sizeof(size_t));
	cs->idx = rbe_xmalloc((total ? total : 1) * sizeof(uint32_t));
	size_t t = 0;
	for (size_t k = 0; k < n; k++) {
		cs->off[k] = t;
		json_t *pts = json_object_get(json_array_get(curves, k), "points"), *p;
		size_t i;
		json_array_foreach(pts, i, p) {
			json_int_t x = json_is_integer(p) ? json_integer_value(p) : -1;
			if (x < 0 || x >= (json_int_t)P) {
				free(cs->off);
				free(cs->idx);
				memset(cs, 0, sizeof(*cs));
				return rbe_fail(e, -EINVAL, "router.curves[%zu].points[%zu] is not a point index below %u",
						k, i, P);
			}
			cs->idx[t++] = (uint32_t)x;
		}
	}
	cs->off[n] = t;
	return 0;
}

/* The block must have the shape block_json gives for v, checked before anything is added so a
 * refused block stays untouched. */
static int check_block(const rbe_block_view *v, json_t *block, rbe_error *e)
{
	if (!json_is_object(block))
		return rbe_fail(e, -EINVAL, "the block is not a JSON object");
	json_t *llms = member(block, "llms", JSON_OBJECT);
	if (!llms)
		return rbe_fail(e, -EINVAL, "the block has no \"llms\" object");
	for (uint32_t m = 0; m < v->M; m++)
		if (!member(llms, v->model_names[m], JSON_OBJECT))
			return rbe_fail(e, -EINVAL, "llms has no object for model %s", v->model_names[m]);
	if (!member(block, "oracle", JSON_OBJECT))
		return rbe_fail(e, -EINVAL, "the block has no \"oracle\" object");
	if (!member(block, "zero", JSON_OBJECT))
		return rbe_fail(e, -EINVAL, "the block has no \"zero\" object");
	if (v->P == 0)
		return 0;
	json_t *router = member(block, "router", JSON_OBJECT);
	if (!router)
		return rbe_fail(e, -EINVAL, "the block has no \"router\" object");
	json_t *points = member(router, "points", JSON_ARRAY);
	if (!points || json_array_size(points) != v->P)
		return rbe_fail(e, -EINVAL, "router.points is not an array of %u points", v->P);
	for (uint32_t p = 0; p < v->P; p++)
		if (!json_is_object(json_array_get(points, p)))
			return rbe_fail(e, -EINVAL, "router.points[%u] is not an object", p);
	if (!member(router, "max_quality", JSON_OBJECT))
		return rbe_fail(e, -EINVAL, "router has no \"max_quality\" object");
	return 0;
}

/* [lo, hi]; a bound that is not a number (non-finite input) is null, as JSON has no NaN. */
static json_t *interval(const job *j, uint32_t q)
{
	json_t *a = json_array();
	json_array_append_new(a, isfinite(j->lo[q]) ? json_real(j->lo[q]) : json_null());
	json_array_append_new(a, isfinite(j->hi[q]) ? json_real(j->hi[q]) : json_null());
	return a;
}

static json_t *point_ci(const job *j, uint32_t q)
{
	json_t *o = json_object();
	json_object_set_new(o, "quality", interval(j, q));
	json_object_set_new(o, "cost_total", interval(j, q + 1));
	json_object_set_new(o, "cost_mean", interval(j, q + 2));
	return o;
}

static void annotate(const job *j, const rbe_block_view *v, json_t *block)
{
	json_t *llms = json_object_get(block, "llms");
	for (uint32_t m = 0; m < j->M; m++)
		json_object_set_new(json_object_get(llms, v->model_names[m]), "ci95", point_ci(j, 3 * m));
	json_object_set_new(json_object_get(block, "oracle"), "ci95", point_ci(j, j->q_oracle));
	json_t *zero = json_object_get(block, "zero");
	json_object_set_new(zero, "aiq_ci95", interval(j, j->q_zero));
	json_object_set_new(zero, "aiq_code_ci95", interval(j, j->q_zero + 1));
	if (j->P == 0)
		return;
	json_t *router = json_object_get(block, "router"), *points = json_object_get(router, "points");
	for (uint32_t p = 0; p < j->P; p++)
		json_object_set_new(json_array_get(points, p), "ci95", point_ci(j, j->q_points + 3 * p));
	json_object_set_new(router, "aiq_ci95", interval(j, j->q_router));
	json_object_set_new(router, "aiq_code_ci95", interval(j, j->q_router + 1));
	json_object_set_new(json_object_get(router, "max_quality"), "ci95", point_ci(j, j->q_router + 2));
	json_t *curves = json_object_get(router, "curves");
	for (uint32_t k = 0; k < j->curves.n; k++) {
		json_t *c = json_array_get(curves, k);
		json_object_set_new(c, "aiq_ci95", interval(j, j->q_curves + 2 * k));
		json_object_set_new(c, "aiq_code_ci95", interval(j, j->q_curves + 2 * k + 1));
	}
}

/* ---- columns ----------------------------------------------------------------------------------- */

typedef struct col_key {
	uint64_t hash;
	uint32_t p;
} col_key;

static int by_hash_then_point(const void *a, const void *b)
{
	const col_key *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->p > y->p) - (x->p < y->p);
}

/* FNV-style over 8-byte words: only to find candidate duplicates, which memcmp then confirms. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t k = 0;
	for (; k + 8 <= len; k += 8) {
		uint64_t w;
		memcpy(&w, s + k, 8);
		h = (h ^ w) * 1099511628211ull;
		h ^= h >> 29;
	}
	for (; k < len; k++)
		h = (h ^ s[k]) * 1099511628211ull;
	return h;
}

static int same_point(const rbe_block_view *v, uint32_t a, uint32_t b)
{
	size_t n = v->n;
	return memcmp(v->q + (size_t)a * n, v->q + (size_t)b * n, n * sizeof(float)) == 0 &&
	       memcmp(v->c + (size_t)a * n, v->c + (size_t)b * n, n * sizeof(double)) == 0;
}

/* A sweep often has runs of λ that route every prompt alike (all to the cheapest model, or all
 * to the best predicted one): such points share their sums, found by hashing their columns. */
static void build_columns(job *j, const rbe_block_view *v, double *oracle)
{
	size_t n = v->n;
	uint32_t M = v->M, P = v->P;
	j->cols = rbe_xmalloc(((size_t)2 * M + 2 + (size_t)2 * P) * sizeof(col));
	uint32_t k = 0;
	for (uint32_t m = 0; m < M; m++)
		j->cols[k++] = (col){.f = v->llm_q + m, .stride = M};
	for (uint32_t m = 0; m < M; m++)
		j->cols[k++] = (col){.d = v->llm_c + m, .stride = M};
	j->cols[k++] = (col){.d = oracle, .stride = 2};
	j->cols[k++] = (col){.d = oracle + 1, .stride = 2};
	j->rcol = rbe_xmalloc((P ? P : 1) * sizeof(uint32_t));
	col_key *keys = rbe_xmalloc((P ? P : 1) * sizeof(col_key));
	for (uint32_t p = 0; p < P; p++) {
		uint64_t h = hash_bytes(1469598103934665603ull, v->q + (size_t)p * n, n * sizeof(float));
		keys[p] = (col_key){hash_bytes(h, v->c + (size_t)p * n, n * sizeof(double)), p};
	}
	qsort(keys, P, sizeof(col_key), by_hash_then_point);
	/* Within a run of equal hashes, a point reuses the first earlier point it equals. */
	for (uint32_t s = 0; s < P;) {
		uint32_t e = s;
		while (e < P && keys[e].hash == keys[s].hash)
			e++;
		for (uint32_t a = s; a < e; a++) {
			uint32_t p = keys[a].p, found = UINT32_MAX;
			for (uint32_t b = s; b < a && found == UINT32_MAX; b++)
				if (same_point(v, keys[b].p, p))
					found = keys[b].p;
			j->rcol[p] = found; /* resolved below, in point order */
		}
		s = e;
	}
	free(keys);
	for (uint32_t p = 0; p < P; p++) {
		if (j->rcol[p] != UINT32_MAX) {
			j->rcol[p] = j->rcol[j->rcol[p]];
			continue;
		}
		j->rcol[p] = k;
		j->cols[k++] = (col){.f = v->q + (size_t)p * n, .stride = 1};
		j->cols[k++] = (col){.d = v->c + (size_t)p * n, .stride = 1};
	}
	j->n_cols = k;
}

/* ---- entry ------------------------------------------------------------------------------------ */

int rbe_bootstrap_block(const rbe_block_view *v, const char *block_name, const rbe_bootstrap_opts *o, json_t *block,
			rbe_error *e)
{
	if (o->resamples == 0)
		return 0;
	if (o->resamples > RBE_BOOTSTRAP_MAX_RESAMPLES)
		return rbe_fail(e, -EINVAL, "bootstrap resamples = %u: at most %u", o->resamples,
				RBE_BOOTSTRAP_MAX_RESAMPLES);
	if (!(o->level > 0.0 && o->level < 1.0))
		return rbe_fail(e, -EINVAL, "bootstrap level = %g: must lie strictly between 0 and 1", o->level);
	if (v->n == 0 || v->n > UINT32_MAX)
		return rbe_fail(e, -EINVAL, "block %s: %zu test prompts (bootstrap needs 1 to %u)", block_name, v->n,
				UINT32_MAX);
	if (v->M == 0)
		return rbe_fail(e, -EINVAL, "block %s has no models", block_name);
	int rc = check_block(v, block, e);
	if (rc < 0)
		return rbe_error_prefix(e, "block %s", block_name);

	job j = {
		.n = v->n,
		.M = v->M,
		.P = v->P,
		.B = o->resamples,
		.threads = o->threads,
		.seed = o->seed,
		.name_hash = fnv1a(block_name),
		.lo_frac = (1.0 - o->level) / 2.0,
		.hi_frac = 1.0 - (1.0 - o->level) / 2.0,
	};
	if (v->P && (rc = read_curves(json_object_get(block, "router"), v->P, &j.curves, e)) < 0)
		return rbe_error_prefix(e, "block %s", block_name);
	j.q_oracle = 3 * j.M;
	j.q_zero = j.q_oracle + 3;
	j.q_points = j.q_zero + 2;
	j.q_router = j.q_points + 3 * j.P;
	j.q_curves = j.q_router + (j.P ? 5 : 0); /* aiq, aiq_code, max_quality's point */
	j.n_q = j.q_curves + 2 * j.curves.n;
	if ((size_t)j.n_q * j.B > MAX_VALUE_BYTES / sizeof(double)) {
		free(j.curves.off);
		free(j.curves.idx);
		return rbe_fail(e, -E2BIG,
				"block %s: %u resamples of %u quantities need more than %zu MiB; use fewer resamples",
				block_name, j.B, j.n_q, MAX_VALUE_BYTES >> 20);
	}

	/* Each prompt's Oracle (quality, cost), as eval/eval.c decides it on the real sample. */
	double *oracle = rbe_xmalloc(v->n * 2 * sizeof(double));
	for (size_t i = 0; i < v->n; i++)
		rbe_oracle_of(v->llm_q + i * v->M, v->llm_c + i * v->M, v->M, &oracle[2 * i], &oracle[2 * i + 1]);
	build_columns(&j, v, oracle);
	j.vals = rbe_xmalloc((size_t)j.n_q * j.B * sizeof(double));
	j.lo = rbe_xmalloc(j.n_q * sizeof(double));
	j.hi = rbe_xmalloc(j.n_q * sizeof(double));

	parallel_for(&j, (j.B + LANES - 1) / LANES, run_groups);
	parallel_for(&j, j.n_q, run_quantiles);
	annotate(&j, v, block);

	free(oracle);
	free(j.cols);
	free(j.rcol);
	free(j.curves.off);
	free(j.curves.idx);
	free(j.vals);
	free(j.lo);
	free(j.hi);
	return 0;
}
