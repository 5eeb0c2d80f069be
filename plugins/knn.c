/* knn.c — k-nearest-neighbour router (the paper's KNN): q̂_ij is the mean quality of model j over
 * the k training prompts most cosine-similar to query i.
 *
 * A predictive router: create() keeps the unit-length train rows, predict() scores every query
 * against every train row and keeps the best k. The host sweeps λ over the predictions.
 *
 * Speed comes from two things, both plain C so any team can read and copy them:
 * - the similarities of a small block of queries against a small panel of train rows are one
 *   register-sized matrix multiply whose innermost loop has a constant trip count, which gcc -O2
 *   vectorises (see knn_kernel);
 * - only the k best neighbours are kept, in a bounded min-heap per query, so selection costs one
 *   comparison per train row in the common case.
 * Every query is scored by the same code in the same order whatever the thread count, so results
 * do not depend on it. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "predictive.h"
#include "rb/router.h"

/* Train rows per panel: the width of the kernel's accumulators (two SSE vectors, one AVX). */
#define KNN_PANEL 8
/* Queries the kernel scores at once; each train value loaded is used this many times. */
#define KNN_QUAD 4
/* Queries per tile and train rows per block: a block of train panels (here 512 rows × D floats,
 * 512 KiB at D = 256) stays in L2 while every query of the tile is scored against it. */
#define KNN_TILE 64
#define KNN_BLOCK_PANELS 64

static const rb_param_spec params[] = {
	{.name = "k", .type = RB_PARAM_INT, .default_value = "10", RB_PARAM_BOUNDS(1, 10000),
	 .help = "neighbours averaged (the paper's grid: 5, 10, 40); all train prompts if fewer"},
	RBP_FEATURE_PARAM,
	RBP_COST_PARAM,
};
enum { P_K, P_FEATURE, P_COST };

typedef struct knn_state {
	uint32_t k;         /* min(k, train size) */
	uint32_t n_models;
	uint32_t dim;
	size_t n_train;
	size_t n_panels;
	float *panels;        /* [n_panels][dim][KNN_PANEL]: train rows scaled to unit length,
			       * transposed panel by panel; zero padding past n_train */
	const float *quality; /* train qualities, borrowed: the train view lives until destroy() */
	rbp_common common;    /* threads and the cost estimate */
} knn_state;

/* One kept neighbour. */
typedef struct knn_nb {
	float sim;
	uint32_t row;
} knn_nb;

/* a ranks below b: lower similarity, or the same similarity and a later train row (ties go to
 * the earlier prompt). */
static inline int knn_worse(knn_nb a, knn_nb b)
{
	return a.sim < b.sim || (a.sim == b.sim && a.row > b.row);
}

/* Offer a candidate to a min-heap (root = worst kept) of at most k entries. Rows arrive in
 * increasing order, so a candidate that only ties the root is the later one and loses. */
static inline void knn_offer(knn_nb *heap, uint32_t *len, uint32_t k, float sim, uint32_t row)
{
	knn_nb c = {sim, row};
	uint32_t i;
	if (*len < k) {
		i = (*len)++;
		while (i > 0 && knn_worse(c, heap[(i - 1) / 2])) { /* sift up */
			heap[i] = heap[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		heap[i] = c;
		return;
	}
	if (!(sim > heap[0].sim))
		return;
	i = 0;
	for (;;) { /* sift down from the root */
		uint32_t l = 2 * i + 1, w = i;
		knn_nb worst = c;
		if (l < k && knn_worse(heap[l], worst)) {
			w = l;
			worst = heap[l];
		}
		if (l + 1 < k && knn_worse(heap[l + 1], worst))
			w = l + 1;
		if (w == i)
			break;
		heap[i] = heap[w];
		i = w;
	}
	heap[i] = c;
}

/* On x86-64 the kernel is also compiled for AVX2, picked at load time when the CPU has it: the
 * same loop, vectorised twice as wide, about 3× faster here. AVX2 alone brings no fused
 * multiply-add, so both versions round every product and sum alike and give the same bits. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define KNN_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef KNN_CLONES
#define KNN_CLONES
#endif

/* out[a][t] = Σ_d q[a][d] · panel[d][t] for KNN_QUAD query rows (stride dim) and one panel.
 * Four named accumulator rows and a constant-length inner loop let gcc -O2 vectorise across t
 * (no reassociation needed: each lane is its own sum); each sum runs over d in order, one
 * multiply and one add per step, so every (query, train row) pair gets the same bits whatever
 * the tiling or thread count. */
KNN_CLONES static void knn_kernel(const float *restrict q, size_t dim, const float *restrict panel, float *restrict out)
{
	float a0[KNN_PANEL] = {0}, a1[KNN_PANEL] = {0}, a2[KNN_PANEL] = {0}, a3[KNN_PANEL] = {0};
	const float *q0 = q, *q1 = q + dim, *q2 = q + 2 * dim, *q3 = q + 3 * dim;
	for (size_t d = 0; d < dim; d++) {
		const float *restrict col = panel + d * KNN_PANEL;
		float x0 = q0[d], x1 = q1[d], x2 = q2[d], x3 = q3[d];
		for (int t = 0; t < KNN_PANEL; t++) {
			a0[t] += x0 * col[t];
			a1[t] += x1 * col[t];
			a2[t] += x2 * col[t];
			a3[t] += x3 * col[t];
		}
	}
	memcpy(out, a0, sizeof(a0));
	memcpy(out + KNN_PANEL, a1, sizeof(a1));
	memcpy(out + 2 * KNN_PANEL, a2, sizeof(a2));
	memcpy(out + 3 * KNN_PANEL, a3, sizeof(a3));
}

/* 1/‖x‖, or 0 for a zero row (whose similarity to anything is then 0). */
static double knn_inv_norm(const float *x, size_t dim)
{
	double s = 0.0;
	for (size_t d = 0; d < dim; d++)
		s += (double)x[d] * x[d];
	return s > 0.0 ? 1.0 / sqrt(s) : 0.0;
}

static void knn_destroy(void *state)
{
	knn_state *s = state;
	if (!s)
		return;
	free(s->panels);
	rbp_common_free(&s->common);
	free(s);
}

static int knn_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	const rb_view *train = args->train;
	knn_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = rbp_common_init(&s->common, args, args->params[P_FEATURE].s, args->params[P_COST].s, err, errlen);
	if (rc < 0)
		goto fail;
	s->n_models = train->n_models;
	s->dim = train->feature_dim;
	s->n_train = train->n;
	s->k = train->n < (size_t)args->params[P_K].i ? (uint32_t)train->n : (uint32_t)args->params[P_K].i;
	s->quality = train->quality;

	/* Scale each train row to unit length once, so a similarity is one dot product, and lay the
	 * rows out as the kernel reads them. */
	size_t dim = s->dim;
	s->n_panels = (s->n_train + KNN_PANEL - 1) / KNN_PANEL;
	s->panels = calloc(s->n_panels ? s->n_panels * dim * KNN_PANEL : 1, sizeof(float));
	if (!s->panels) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t r = 0; r < s->n_train; r++) {
		const float *x = train->features + r * dim;
		float *panel = s->panels + (r / KNN_PANEL) * dim * KNN_PANEL;
		double inv = knn_inv_norm(x, dim);
		for (size_t d = 0; d < dim; d++)
			panel[d * KNN_PANEL + r % KNN_PANEL] = (float)(x[d] * inv);
	}
	*state = s;
	return 0;
fail:
	knn_destroy(s);
	return rc;
}

typedef struct knn_job {
	const knn_state *s;
	const rb_view *queries;
	float *q_hat;
	int rc; /* 0, or -ENOMEM from any thread */
} knn_job;

/* Predict queries [begin, end): tile by tile, block by block (see KNN_TILE). */
static void knn_range(void *ctx, size_t begin, size_t end)
{
	knn_job *job = ctx;
	const knn_state *s = job->s;
	const size_t dim = s->dim, M = s->n_models, k = s->k;
	float *tile = malloc(KNN_TILE * dim * sizeof(float) + 1);
	knn_nb *heaps = malloc(KNN_TILE * (k ? k : 1) * sizeof(knn_nb));
	uint32_t len[KNN_TILE];
	double *sum = malloc(M * sizeof(double) + 1);
	float out[KNN_QUAD * KNN_PANEL];
	if (!tile || !heaps || !sum) {
		__atomic_store_n(&job->rc, -ENOMEM, __ATOMIC_RELAXED);
		goto out;
	}
	for (size_t q0 = begin; q0 < end; q0 += KNN_TILE) {
		size_t nq = end - q0 < KNN_TILE ? end - q0 : KNN_TILE;
		size_t nq_pad = (nq + KNN_QUAD - 1) / KNN_QUAD * KNN_QUAD;
		/* Unit-length copies of the queries; padding rows are zero and never read back. */
		memset(tile, 0, nq_pad * dim * sizeof(float));
		for (size_t a = 0; a < nq; a++) {
			const float *x = job->queries->features + (q0 + a) * dim;
			double inv = knn_inv_norm(x, dim);
			for (size_t d = 0; d < dim; d++)
				tile[a * dim + d] = (float)(x[d] * inv);
			len[a] = 0;
		}
		for (size_t p0 = 0; p0 < s->n_panels; p0 += KNN_BLOCK_PANELS) {
			size_t p1 = p0 + KNN_BLOCK_PANELS < s->n_panels ? p0 + KNN_BLOCK_PANELS : s->n_panels;
			for (size_t a = 0; a < nq_pad; a += KNN_QUAD) {
				size_t live = nq - a < KNN_QUAD ? nq - a : KNN_QUAD;
				for (size_t p = p0; p < p1; p++) {
					knn_kernel(tile + a * dim, dim, s->panels + p * dim * KNN_PANEL, out);
					size_t r0 = p * KNN_PANEL;
					size_t rows = s->n_train - r0 < KNN_PANEL ? s->n_train - r0 : KNN_PANEL;
					for (size_t b = 0; b < live; b++)
						for (size_t t = 0; t < rows; t++)
							knn_offer(heaps + (a + b) * k, &len[a + b], (uint32_t)k,
								  out[b * KNN_PANEL + t], (uint32_t)(r0 + t));
				}
			}
		}
		/* q̂ = mean neighbour quality; the sum runs in heap order, which is fixed by the data. */
		for (size_t a = 0; a < nq; a++) {
			float *qh = job->q_hat + (q0 + a) * M;
			const knn_nb *h = heaps + a * k;
			memset(sum, 0, M * sizeof(double));
			for (uint32_t n = 0; n < len[a]; n++)
				for (size_t j = 0; j < M; j++)
					sum[j] += s->quality[(size_t)h[n].row * M + j];
			for (size_t j = 0; j < M; j++)
				qh[j] = len[a] ? (float)(sum[j] / len[a]) : 0.0f; /* no train prompts: no signal */
		}
	}
out:
	free(tile);
	free(heaps);
	free(sum);
}

static int knn_predict(void *state, const rb_view *queries, float *q_hat, double *c_hat, int *has_cost)
{
	const knn_state *s = state;
	if (queries->n && (!queries->features || queries->feature_dim != s->dim))
		return -EINVAL; /* the query view must carry the train view's features */
	knn_job job = {.s = s, .queries = queries, .q_hat = q_hat};
	rbp_parallel_for(queries->n, s->common.threads, knn_range, &job);
	if (job.rc < 0)
		return job.rc;
	rbp_common_costs(&s->common, queries, c_hat, has_cost);
	return 0;
}

RB_ROUTER_DEFINE("knn",
		 .version = "1.0",
		 .summary = "k nearest train prompts by cosine similarity of features; q̂ = their mean quality",
		 .kind = RB_ROUTER_PREDICTIVE,
		 RB_ROUTER_PARAMS(params),
		 .create = knn_create,
		 .destroy = knn_destroy,
		 .predict = knn_predict)
