/* test_bootstrap.c — seeded paired bootstrap intervals on hand-built block views. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "eval/blockjson.h"
#include "eval/bootstrap.h"
#include "rb/rng.h"
#include "lib/util.h"

/* A block view and the arrays behind it. */
typedef struct synth {
	rbe_block_view v;
	char **names;
	float *llm_q, *q;
	double *llm_c, *c;
	uint32_t *model;
	json_t *params; /* [P] point params */
} synth;

static void synth_alloc(synth *s, size_t n, uint32_t M, uint32_t P)
{
	memset(s, 0, sizeof(*s));
	s->names = rbe_xcalloc(M, sizeof(char *));
	for (uint32_t m = 0; m < M; m++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "model-%c", 'a' + m);
		s->names[m] = rbe_xstrdup(buf);
	}
	s->llm_q = rbe_xcalloc(n * M, sizeof(float));
	s->llm_c = rbe_xcalloc(n * M, sizeof(double));
	s->model = rbe_xcalloc(n * (P ? P : 1), sizeof(uint32_t));
	s->q = rbe_xcalloc(n * (P ? P : 1), sizeof(float));
	s->c = rbe_xcalloc(n * (P ? P : 1), sizeof(double));
	s->params = json_array();
	for (uint32_t p = 0; p < P; p++)
		json_array_append_new(s->params, json_real((double)p));
	s->v = (rbe_block_view){
		.n = n,
		.M = M,
		.P = P,
		.model_names = (const char *const *)s->names,
		.llm_q = s->llm_q,
		.llm_c = s->llm_c,
		.model = s->model,
		.q = s->q,
		.c = s->c,
	};
}

/* The router sends prompt i to model m at point p: its recorded quality and cost. */
static void route(synth *s, uint32_t p, size_t i, uint32_t m)
{
	size_t n = s->v.n, M = s->v.M;
	s->model[p * n + i] = m;
	s->q[p * n + i] = s->llm_q[i * M + m];
	s->c[p * n + i] = s->llm_c[i * M + m];
}

static void synth_free(synth *s)
{
	for (uint32_t m = 0; m < s->v.M; m++)
		free(s->names[m]);
	free(s->names);
	free(s->llm_q);
	free(s->llm_c);
	free(s->model);
	free(s->q);
	free(s->c);
	json_decref(s->params);
}

/* Random outcomes: model m answers with probability 0.3 + 0.6·m/(M−1) at cost 10^(m/2 − 4)
 * per prompt (jittered); point p sends a prompt to the dearest model whose index ≤ a cut that
 * rises with p, or to a random one for a fraction of prompts. */
static void synth_random(synth *s, size_t n, uint32_t M, uint32_t P, uint64_t seed)
{
	synth_alloc(s, n, M, P);
	rb_rng r;
	rb_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		for (uint32_t m = 0; m < M; m++) {
			double pr = 0.3 + 0.6 * (M > 1 ? (double)m / (M - 1) : 0.0);
			s->llm_q[i * M + m] = rb_rng_uniform(&r) < pr ? 1.0f : 0.0f;
			s->llm_c[i * M + m] = pow(10.0, (double)m / 2.0 - 4.0) * (0.5 + rb_rng_uniform(&r));
		}
	}
	for (uint32_t p = 0; p < P; p++) {
		uint32_t cut = P > 1 ? (uint32_t)((uint64_t)p * (M - 1) / (P - 1)) : M - 1;
		for (size_t i = 0; i < n; i++) {
			uint32_t m = rb_rng_uniform(&r) < 0.2 ? (uint32_t)rb_rng_below(&r, cut + 1) : cut;
			route(s, p, i, m);
		}
	}
}

static json_t *block_of(const synth *s)
{
	json_t *b = rbe_block_json(&s->v, 0, s->params, NULL, NULL);
	cr_assert_not_null(b);
	return b;
}

static rbe_bootstrap_opts opts(uint32_t B, uint64_t seed)
{
	return (rbe_bootstrap_opts){.resamples = B, .seed = seed, .level = 0.95};
}

/* The interval at path.../key as (lo, hi), failing the test when it is not [number, number]. */
static void ci(json_t *obj, const char *key, double *lo, double *hi)
{
	json_t *a = json_object_get(obj, key);
	cr_assert(json_is_array(a) && json_array_size(a) == 2, "%s is not an interval", key);
	cr_assert(json_is_number(json_array_get(a, 0)) && json_is_number(json_array_get(a, 1)), "%s bounds", key);
	*lo = json_number_value(json_array_get(a, 0));
	*hi = json_number_value(json_array_get(a, 1));
	cr_assert(*lo <= *hi, "%s: lo %.17g > hi %.17g", key, *lo, *hi);
}

static double num(json_t *obj, const char *key)
{
	json_t *x = json_object_get(obj, key);
	cr_assert(json_is_number(x), "%s is not a number", key);
	return json_number_value(x);
}

static void assert_contains(json_t *obj, const char *ci_key, double value)
{
	double lo, hi;
	ci(obj, ci_key, &lo, &hi);
	cr_assert(lo <= value && value <= hi, "%s = [%.17g, %.17g] misses %.17g", ci_key, lo, hi, value);
}

static json_t *llm(json_t *block, const synth *s, uint32_t m)
{
	return json_object_get(json_object_get(block, "llms"), s->names[m]);
}

Test(bootstrap, bernoulli_quality_interval_has_the_normal_width)
{
	/* Exactly 1200 of 2000 prompts right (sample mean 0.6), in shuffled order. */
	const size_t n = 2000;
	synth s;
	synth_alloc(&s, n, 1, 1);
	for (size_t i = 0; i < n; i++) {
		s.llm_q[i] = i < 1200 ? 1.0f : 0.0f;
		s.llm_c[i] = 0.001;
	}
	rb_rng r;
	rb_rng_seed(&r, 7);
	for (size_t i = n - 1; i > 0; i--) {
		size_t k = rb_rng_below(&r, i + 1);
		float t = s.llm_q[i];
		s.llm_q[i] = s.llm_q[k];
		s.llm_q[k] = t;
	}
	for (size_t i = 0; i < n; i++)
		route(&s, 0, i, 0);
	json_t *b = block_of(&s);
	rbe_bootstrap_opts o = opts(1000, 1);
	rbe_error e = {0};
	cr_assert_eq(rbe_bootstrap_block(&s.v, "synthetic", &o, b, &e), 0, "%s", e.msg);

	double lo, hi;
	json_t *llm_ci = json_object_get(llm(b, &s, 0), "ci95");
	ci(llm_ci, "quality", &lo, &hi);
	double expect = 2 * 1.959964 * sqrt(0.24 / (double)n);
	cr_assert(lo < 0.6 && 0.6 < hi, "[%g, %g] misses 0.6", lo, hi);
	cr_assert(fabs((hi - lo) - expect) < 0.1 * expect, "width %g, normal theory %g", hi - lo, expect);
	/* The router sends everything to the one model: the same draws give the same interval. */
	double rlo, rhi;
	ci(json_object_get(json_array_get(json_object_get(json_object_get(b, "router"), "points"), 0), "ci95"),
	   "quality", &rlo, &rhi);
	cr_assert_eq(rlo, lo);
	cr_assert_eq(rhi, hi);
	/* Every prompt costs the same: the cost total cannot move. */
	ci(llm_ci, "cost_total", &lo, &hi);
	cr_assert_float_eq(lo, 2.0, 1e-12);
	cr_assert_float_eq(hi, 2.0, 1e-12);
	json_decref(b);
	synth_free(&s);
}

Test(bootstrap, degenerate_block_gives_zero_width_intervals_at_the_value)
{
	const size_t n = 300;
	synth s;
	synth_alloc(&s, n, 3, 4);
	for (size_t i = 0; i < n; i++)
		for (uint32_t m = 0; m < 3; m++) {
			s.llm_q[i * 3 + m] = 0.5f * (float)(m > 0) + 0.25f;
			s.llm_c[i * 3 + m] = 0.125 * (m + 1);
		}
	for (uint32_t p = 0; p < 4; p++)
		for (size_t i = 0; i < n; i++)
			route(&s, p, i, p % 3);
	json_t *b = block_of(&s);
	rbe_bootstrap_opts o = opts(200, 3);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "flat", &o, b, NULL), 0);

	const char *keys[] = {"quality", "cost_total", "cost_mean"};
	double lo, hi;
	for (uint32_t m = 0; m < 3; m++)
		for (int k = 0; k < 3; k++) {
			ci(json_object_get(llm(b, &s, m), "ci95"), keys[k], &lo, &hi);
			cr_assert(lo == hi && lo == num(llm(b, &s, m), keys[k]), "%s %s", s.names[m], keys[k]);
		}
	json_t *oracle = json_object_get(b, "oracle");
	for (int k = 0; k < 3; k++) {
		ci(json_object_get(oracle, "ci95"), keys[k], &lo, &hi);
		cr_assert(lo == hi && lo == num(oracle, keys[k]), "oracle %s", keys[k]);
	}
	json_t *zero = json_object_get(b, "zero"), *router = json_object_get(b, "router");
	ci(zero, "aiq_ci95", &lo, &hi);
	cr_assert(lo == hi && lo == num(zero, "aiq"));
	ci(zero, "aiq_code_ci95", &lo, &hi);
	cr_assert(lo == hi && lo == num(zero, "aiq_code"));
	ci(router, "aiq_ci95", &lo, &hi);
	cr_assert(lo == hi && lo == num(router, "aiq"));
	ci(router, "aiq_code_ci95", &lo, &hi);
	cr_assert(lo == hi && lo == num(router, "aiq_code"));
	json_t *pts = json_object_get(router, "points");
	for (uint32_t p = 0; p < 4; p++)
		for (int k = 0; k < 3; k++) {
			json_t *pt = json_array_get(pts, p);
			ci(json_object_get(pt, "ci95"), keys[k], &lo, &hi);
			cr_assert(lo == hi && lo == num(pt, keys[k]), "point %u %s", p, keys[k]);
		}
	json_t *maxq = json_object_get(router, "max_quality");
	for (int k = 0; k < 3; k++) {
		ci(json_object_get(maxq, "ci95"), keys[k], &lo, &hi);
		cr_assert(lo == hi && lo == num(maxq, keys[k]), "max_quality %s", keys[k]);
	}
	json_decref(b);
	synth_free(&s);
}

Test(bootstrap, same_seed_same_json_other_seed_other_json)
{
	synth s;
	synth_random(&s, 500, 4, 6, 11);
	json_t *a = block_of(&s), *b = block_of(&s), *c = block_of(&s);
	rbe_bootstrap_opts o1 = opts(300, 5), o2 = opts(300, 6);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "t", &o1, a, NULL), 0);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "t", &o1, b, NULL), 0);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "t", &o2, c, NULL), 0);
	char *da = json_dumps(a, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	char *db = json_dumps(b, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	char *dc = json_dumps(c, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	cr_assert_str_eq(da, db);
	cr_assert_str_neq(da, dc);
	free(da);
	free(db);
	free(dc);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	synth_free(&s);
}

Test(bootstrap, index_stream_depends_on_seed_name_n_and_resample_only)
{
	const size_t n = 1000;
	uint32_t *a = rbe_xmalloc(n * sizeof(uint32_t)), *b = rbe_xmalloc(n * sizeof(uint32_t));
	rbe_bootstrap_indices(9, "mmlu", n, 3, a);
	rbe_bootstrap_indices(9, "mmlu", n, 3, b);
	cr_assert_arr_eq(a, b, n * sizeof(uint32_t));
	for (size_t k = 0; k < n; k++)
		cr_assert_lt(a[k], n);
	rbe_bootstrap_indices(9, "gsm8k", n, 3, b);
	cr_assert_arr_neq(a, b, n * sizeof(uint32_t));
	rbe_bootstrap_indices(9, "mmlu", n, 4, b);
	cr_assert_arr_neq(a, b, n * sizeof(uint32_t));
	rbe_bootstrap_indices(10, "mmlu", n, 3, b);
	cr_assert_arr_neq(a, b, n * sizeof(uint32_t));
	rbe_bootstrap_indices(9, "mmlu", n - 1, 3, b);
	cr_assert_arr_neq(a, b, (n - 1) * sizeof(uint32_t));
	free(a);
	free(b);
}

/* Resamples are spread over one thread per usable CPU; pinning the process to one CPU must give
 * the same document. */
Test(bootstrap, result_does_not_depend_on_the_thread_count)
{
	synth s;
	synth_random(&s, 700, 5, 9, 13);
	json_t *many = block_of(&s), *one = block_of(&s);
	rbe_bootstrap_opts o = opts(333, 99);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "threads", &o, many, NULL), 0);
	cpu_set_t all, first;
	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&first);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &first);
			break;
		}
	cr_assert_eq(sched_setaffinity(0, sizeof(first), &first), 0);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "threads", &o, one, NULL), 0);
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	/* A thread budget (a job's threads) instead of the affinity mask. */
	json_t *budget = block_of(&s);
	rbe_bootstrap_opts ob = o;
	ob.threads = 1;
	cr_assert_eq(rbe_bootstrap_block(&s.v, "threads", &ob, budget, NULL), 0);
	char *dm = json_dumps(many, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	char *d1 = json_dumps(one, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	char *db = json_dumps(budget, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	cr_assert_str_eq(dm, d1);
	cr_assert_str_eq(dm, db);
	free(dm);
	free(d1);
	free(db);
	json_decref(many);
	json_decref(one);
	json_decref(budget);
	synth_free(&s);
}

/* With the level near 1 the bounds are the smallest and largest of the B resampled values; each
 * must be what the exposed index stream gives, for every lane of every group of resamples. Block
 * sizes on both sides of 65535, where the resample counts change from 16 to 32 bits. */
static void expect_exposed_index_stream(size_t n)
{
	const uint32_t B = 21; /* two groups of resamples, the second partial */
	synth s;
	synth_random(&s, n, 3, 2, 4);
	json_t *blk = block_of(&s);
	rbe_bootstrap_opts o = {.resamples = B, .seed = 77, .level = 1.0 - 1e-12};
	cr_assert_eq(rbe_bootstrap_block(&s.v, "arc", &o, blk, NULL), 0);
	uint32_t *idx = rbe_xmalloc(n * sizeof(uint32_t));
	double qmin = INFINITY, qmax = -INFINITY, cmin = INFINITY, cmax = -INFINITY;
	for (uint32_t b = 0; b < B; b++) {
		rbe_bootstrap_indices(77, "arc", n, b, idx);
		double q = 0, c = 0;
		for (size_t k = 0; k < n; k++) {
			q += s.q[1 * n + idx[k]];
			c += s.c[1 * n + idx[k]];
		}
		qmin = fmin(qmin, q / (double)n);
		qmax = fmax(qmax, q / (double)n);
		cmin = fmin(cmin, c);
		cmax = fmax(cmax, c);
	}
	json_t *pci = json_object_get(json_array_get(json_object_get(json_object_get(blk, "router"), "points"), 1), "ci95");
	double lo, hi;
	ci(pci, "quality", &lo, &hi);
	cr_assert_float_eq(lo, qmin, 1e-9);
	cr_assert_float_eq(hi, qmax, 1e-9);
	ci(pci, "cost_total", &lo, &hi);
	cr_assert_float_eq(lo, cmin, 1e-9 * cmax);
	cr_assert_float_eq(hi, cmax, 1e-9 * cmax);
	free(idx);
	json_decref(blk);
	synth_free(&s);
}

Test(bootstrap, block_resamples_are_the_exposed_index_stream)
{
	expect_exposed_index_stream(97);
	expect_exposed_index_stream(65535);
	expect_exposed_index_stream(70001);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Percentile bounds interpolate between order statistics like numpy.quantile's default: with
 * B = 21 and level 0.95 the positions are 20·0.025 = 0.5 and 19.5. */
Test(bootstrap, bounds_interpolate_between_order_statistics)
{
	const size_t n = 64;
	const uint32_t B = 21;
	synth s;
	synth_random(&s, n, 2, 1, 5);
	json_t *blk = block_of(&s);
	rbe_bootstrap_opts o = opts(B, 3);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "interp", &o, blk, NULL), 0);
	uint32_t idx[64];
	double x[21];
	for (uint32_t b = 0; b < B; b++) {
		rbe_bootstrap_indices(3, "interp", n, b, idx);
		double c = 0;
		for (size_t k = 0; k < n; k++)
			c += s.llm_c[idx[k] * 2 + 1];
		x[b] = c;
	}
	qsort(x, B, sizeof(double), cmp_double);
	double lo, hi;
	ci(json_object_get(llm(blk, &s, 1), "ci95"), "cost_total", &lo, &hi);
	cr_assert_float_eq(lo, (x[0] + x[1]) / 2, 1e-12 * x[20]);
	cr_assert_float_eq(hi, (x[19] + x[20]) / 2, 1e-12 * x[20]);
	json_decref(blk);
	synth_free(&s);
}

/* Two blocks with the same seed, name and n are paired: a point of a 5-point router and the same
 * decisions as a 1-point router get the same interval, and repeated points share theirs. */
Test(bootstrap, paired_across_blocks_and_repeated_points)
{
	const size_t n = 400;
	synth s, one;
	synth_random(&s, n, 4, 5, 21);
	/* Points 0, 2 and 4 decide alike. */
	memcpy(s.q + 2 * n, s.q, n * sizeof(float));
	memcpy(s.c + 2 * n, s.c, n * sizeof(double));
	memcpy(s.model + 2 * n, s.model, n * sizeof(uint32_t));
	memcpy(s.q + 4 * n, s.q, n * sizeof(float));
	memcpy(s.c + 4 * n, s.c, n * sizeof(double));
	memcpy(s.model + 4 * n, s.model, n * sizeof(uint32_t));
	synth_alloc(&one, n, 4, 1);
	memcpy(one.llm_q, s.llm_q, n * 4 * sizeof(float));
	memcpy(one.llm_c, s.llm_c, n * 4 * sizeof(double));
	memcpy(one.q, s.q + 3 * n, n * sizeof(float));
	memcpy(one.c, s.c + 3 * n, n * sizeof(double));
	memcpy(one.model, s.model + 3 * n, n * sizeof(uint32_t));
	json_t *b5 = block_of(&s), *b1 = block_of(&one);
	rbe_bootstrap_opts o = opts(250, 8);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "hellaswag", &o, b5, NULL), 0);
	cr_assert_eq(rbe_bootstrap_block(&one.v, "hellaswag", &o, b1, NULL), 0);
	json_t *p5 = json_object_get(json_object_get(b5, "router"), "points");
	json_t *p1 = json_object_get(json_object_get(b1, "router"), "points");
	cr_assert(json_equal(json_object_get(json_array_get(p5, 3), "ci95"), json_object_get(json_array_get(p1, 0), "ci95")));
	cr_assert(json_equal(json_object_get(json_array_get(p5, 0), "ci95"), json_object_get(json_array_get(p5, 2), "ci95")));
	cr_assert(json_equal(json_object_get(json_array_get(p5, 0), "ci95"), json_object_get(json_array_get(p5, 4), "ci95")));
	cr_assert_not(json_equal(json_object_get(json_array_get(p5, 0), "ci95"), json_object_get(json_array_get(p5, 3), "ci95")));
	/* The LLM and Oracle intervals do not depend on the router at all. */
	cr_assert(json_equal(json_object_get(json_object_get(b5, "llms"), s.names[2]),
			     json_object_get(json_object_get(b1, "llms"), one.names[2])));
	cr_assert(json_equal(json_object_get(b5, "oracle"), json_object_get(b1, "oracle")));
	cr_assert(json_equal(json_object_get(b5, "zero"), json_object_get(b1, "zero")));
	json_decref(b5);
	json_decref(b1);
	synth_free(&s);
	synth_free(&one);
}

Test(bootstrap, aiq_intervals_contain_the_point_estimates)
{
	synth s;
	synth_random(&s, 300, 4, 8, 31);
	json_t *b = block_of(&s);
	rbe_bootstrap_opts o = opts(1000, 2);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "small", &o, b, NULL), 0);
	json_t *zero = json_object_get(b, "zero"), *router = json_object_get(b, "router");
	assert_contains(zero, "aiq_ci95", num(zero, "aiq"));
	assert_contains(zero, "aiq_code_ci95", num(zero, "aiq_code"));
	assert_contains(router, "aiq_ci95", num(router, "aiq"));
	assert_contains(router, "aiq_code_ci95", num(router, "aiq_code"));
	json_t *oracle = json_object_get(b, "oracle");
	assert_contains(json_object_get(oracle, "ci95"), "quality", num(oracle, "quality"));
	assert_contains(json_object_get(oracle, "ci95"), "cost_total", num(oracle, "cost_total"));
	for (uint32_t m = 0; m < 4; m++)
		assert_contains(json_object_get(llm(b, &s, m), "ci95"), "cost_mean", num(llm(b, &s, m), "cost_mean"));
	json_decref(b);
	synth_free(&s);
}

Test(bootstrap, curves_and_max_quality_are_annotated)
{
	synth s;
	synth_random(&s, 250, 3, 6, 41);
	/* Two curves of three points each, as the cascade labels its points. */
	json_decref(s.params);
	s.params = json_array();
	for (uint32_t p = 0; p < 6; p++)
		json_array_append_new(s.params, json_pack("{sfsi}", "curve", p % 2 ? 0.2 : 0.0, "budget", (int)p));
	json_t *b = block_of(&s);
	json_t *curves = json_object_get(json_object_get(b, "router"), "curves");
	cr_assert_eq(json_array_size(curves), 2);
	rbe_bootstrap_opts o = opts(400, 12);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "cascade", &o, b, NULL), 0);
	for (size_t k = 0; k < 2; k++) {
		json_t *c = json_array_get(curves, k);
		assert_contains(c, "aiq_ci95", num(c, "aiq"));
		assert_contains(c, "aiq_code_ci95", num(c, "aiq_code"));
	}
	json_t *maxq = json_object_get(json_object_get(b, "router"), "max_quality");
	json_t *mci = json_object_get(maxq, "ci95");
	cr_assert_eq(json_object_size(mci), 3);
	assert_contains(mci, "quality", num(maxq, "quality"));
	double lo, hi;
	ci(mci, "cost_total", &lo, &hi);
	cr_assert_gt(hi, 0.0);
	double mlo, mhi;
	ci(mci, "cost_mean", &mlo, &mhi);
	cr_assert_float_eq(mlo, lo / 250, 1e-15);
	cr_assert_float_eq(mhi, hi / 250, 1e-15);
	json_decref(b);
	synth_free(&s);
}

Test(bootstrap, zero_resamples_leave_the_block_unchanged)
{
	synth s;
	synth_random(&s, 100, 3, 4, 51);
	json_t *b = block_of(&s), *before = json_deep_copy(b);
	rbe_bootstrap_opts o = opts(0, 1);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "off", &o, b, NULL), 0);
	cr_assert(json_equal(b, before));
	json_decref(b);
	json_decref(before);
	synth_free(&s);
}

Test(bootstrap, refusals_leave_the_block_unchanged)
{
	synth s;
	synth_random(&s, 100, 3, 4, 61);
	json_t *b = block_of(&s), *before = json_deep_copy(b);
	rbe_error e = {0};
	rbe_bootstrap_opts o = opts(100, 1);
	o.level = 1.0;
	cr_assert_eq(rbe_bootstrap_block(&s.v, "bad", &o, b, &e), -EINVAL);
	cr_assert(strstr(e.msg, "level"), "%s", e.msg);
	o = opts(RBE_BOOTSTRAP_MAX_RESAMPLES + 1, 1);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "bad", &o, b, &e), -EINVAL);
	/* A block with fewer points than the view. */
	o = opts(100, 1);
	json_array_remove(json_object_get(json_object_get(b, "router"), "points"), 3);
	json_t *shorter = json_deep_copy(b);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "bad", &o, b, &e), -EINVAL);
	cr_assert(strstr(e.msg, "router.points") && strstr(e.msg, "block bad"), "%s", e.msg);
	cr_assert(json_equal(b, shorter));
	/* A curve naming a point that does not exist. */
	json_t *good = block_of(&s);
	json_t *bad_curve = json_pack("{s[ii]}", "points", 0, 9);
	json_object_set_new(json_object_get(good, "router"), "curves", json_pack("[o]", bad_curve));
	json_t *good_before = json_deep_copy(good);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "bad", &o, good, &e), -EINVAL);
	cr_assert(strstr(e.msg, "curves[0].points[1]"), "%s", e.msg);
	cr_assert(json_equal(good, good_before));
	json_decref(good);
	json_decref(good_before);
	json_decref(shorter);
	json_decref(b);
	json_decref(before);
	synth_free(&s);
}

/* The shape of the demo's largest block: n = 10,000 prompts, 11 models, the paper's 32 λ
 * (its cost is measured by bench/, not asserted here). */
Test(bootstrap, demo_shaped_block_is_annotated, .timeout = 120)
{
	synth s;
	synth_random(&s, 10000, 11, 32, 71);
	json_t *b = block_of(&s);
	rbe_bootstrap_opts o = opts(RBE_BOOTSTRAP_DEFAULT_RESAMPLES, 42);
	cr_assert_eq(rbe_bootstrap_block(&s.v, "overall", &o, b, NULL), 0);
	json_t *router = json_object_get(b, "router");
	assert_contains(router, "aiq_ci95", num(router, "aiq"));
	json_decref(b);
	synth_free(&s);
}
