/* linear.c — ridge-regression router: one linear model per LLM predicts its quality from the
 * prompt's features.
 *
 * For every model j: q̂_j(x) = b_j + x·w_j, fitted on the train view by minimising
 * Σ_i (y_ij − b_j − x_i·w_j)² + α‖w_j‖² (the intercept b_j is not penalised). Centring X and y
 * removes the intercept from the system, which leaves the same D×D matrix XᵀX + αI for every
 * model: it is formed once (in double), factorised once (Cholesky), and solved for all M
 * right-hand sides. Predictions are clipped to [0, 1], the range of a quality score. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "predictive.h"
#include "rb/router.h"

static const rb_param_spec params[] = {
	{.name = "alpha", .type = RB_PARAM_REAL, .default_value = "1.0", RB_PARAM_BOUNDS(0, 1e6),
	 .help = "ridge penalty on the feature weights (0: least squares)"},
	RBP_FEATURE_PARAM,
	RBP_COST_PARAM,
};
enum { P_ALPHA, P_FEATURE, P_COST };

/* Train samples folded into the Gram matrix per pass: each G[a][b] is loaded and stored once
 * per group instead of once per sample. */
#define LIN_GROUP 4

typedef struct linear_state {
	uint32_t n_models;
	uint32_t dim;
	double *w; /* [dim][n_models] */
	double *b; /* [n_models] */
	rbp_common common; /* threads and the cost estimate */
} linear_state;

static void linear_destroy(void *state)
{
	linear_state *s = state;
	if (!s)
		return;
	free(s->w);
	free(s->b);
	rbp_common_free(&s->common);
	free(s);
}

/* Accumulating G = XcᵀXc (upper triangle) and R = XcᵀYc, Xc and Yc the centred train data. */
typedef struct gram_job {
	const rb_view *train;
	const double *mean_x, *mean_y;
	double *G, *R;
	int rc;
} gram_job;

/* Work items u ∈ [0, ⌈D/2⌉) own rows u and D−1−u of G, so every item costs about D + 1 entries
 * and contiguous chunks balance across threads. Each entry is summed over the samples in
 * order by one thread, so G does not depend on the thread count. */
static void gram_range(void *ctx, size_t begin, size_t end)
{
	gram_job *job = ctx;
	const rb_view *t = job->train;
	const size_t D = t->feature_dim, M = t->n_models;
	double *xc = malloc(LIN_GROUP * D * sizeof(double));
	double *yc = malloc(LIN_GROUP * M * sizeof(double));
	if (!xc || !yc) {
		__atomic_store_n(&job->rc, -ENOMEM, __ATOMIC_RELAXED);
		goto out;
	}
	for (size_t i0 = 0; i0 < t->n; i0 += LIN_GROUP) {
		/* A short last group is padded with zero rows: adding 0·0 leaves every sum unchanged. */
		for (size_t g = 0; g < LIN_GROUP; g++) {
			size_t i = i0 + g;
			for (size_t d = 0; d < D; d++)
				xc[g * D + d] = i < t->n ? t->features[i * D + d] - job->mean_x[d] : 0.0;
			for (size_t j = 0; j < M; j++)
				yc[g * M + j] = i < t->n ? t->quality[i * M + j] - job->mean_y[j] : 0.0;
		}
		const double *x0 = xc, *x1 = xc + D, *x2 = xc + 2 * D, *x3 = xc + 3 * D;
		const double *y0 = yc, *y1 = yc + M, *y2 = yc + 2 * M, *y3 = yc + 3 * M;
		for (size_t u = begin; u < end; u++) {
			for (int half = 0; half < 2; half++) {
				size_t a = half ? D - 1 - u : u;
				if (half && a == u)
					break; /* odd D: the middle row belongs to one item only */
				double *Ga = job->G + a * D, *Ra = job->R + a * M;
				for (size_t b = a; b < D; b++)
					Ga[b] += x0[a] * x0[b] + x1[a] * x1[b] + x2[a] * x2[b] + x3[a] * x3[b];
				for (size_t j = 0; j < M; j++)
					Ra[j] += x0[a] * y0[j] + x1[a] * y1[j] + x2[a] * y2[j] + x3[a] * y3[j];
			}
		}
	}
out:
	free(xc);
	free(yc);
}

/* In-place Cholesky of the D×D symmetric positive-definite A (upper triangle read), leaving L in
 * the lower triangle. -EDOM when a pivot is not clearly positive (A singular to working
 * precision). */
static int cholesky(double *A, size_t D, double tiny)
{
	for (size_t j = 0; j < D; j++) {
		double s = A[j * D + j];
		for (size_t k = 0; k < j; k++)
			s -= A[j * D + k] * A[j * D + k];
		if (!(s > tiny))
			return -EDOM;
		double l = sqrt(s);
		A[j * D + j] = l;
		for (size_t i = j + 1; i < D; i++) {
			double v = A[j * D + i]; /* upper triangle: A[i][j] == A[j][i] */
			for (size_t k = 0; k < j; k++)
				v -= A[i * D + k] * A[j * D + k];
			A[i * D + j] = v / l;
		}
	}
	return 0;
}

/* Solve L Lᵀ W = R in place for the M columns of R ([D][M], becomes W). */
static void cholesky_solve(const double *L, size_t D, double *R, size_t M)
{
	for (size_t i = 0; i < D; i++) { /* L z = r */
		for (size_t k = 0; k < i; k++)
			for (size_t j = 0; j < M; j++)
				R[i * M + j] -= L[i * D + k] * R[k * M + j];
		for (size_t j = 0; j < M; j++)
			R[i * M + j] /= L[i * D + i];
	}
	for (size_t i = D; i-- > 0;) { /* Lᵀ w = z */
		for (size_t k = i + 1; k < D; k++)
			for (size_t j = 0; j < M; j++)
				R[i * M + j] -= L[k * D + i] * R[k * M + j];
		for (size_t j = 0; j < M; j++)
			R[i * M + j] /= L[i * D + i];
	}
}

/* Fit w and b on the train view (see the file comment). */
static int linear_fit(linear_state *s, const rb_view *train, double alpha, const rb_host_api *host)
{
	const size_t D = s->dim, M = s->n_models, n = train->n;
	int rc = -ENOMEM;
	double *mean_x = calloc(D, sizeof(double));
	double *mean_y = calloc(M, sizeof(double));
	double *G = calloc(D * D, sizeof(double));
	double *A = malloc(D * D * sizeof(double));
	double *R = calloc(D * M, sizeof(double));
	s->w = malloc(D * M * sizeof(double));
	s->b = malloc(M * sizeof(double));
	if (!mean_x || !mean_y || !G || !A || !R || !s->w || !s->b)
		goto out;
	for (size_t i = 0; i < n; i++) {
		for (size_t d = 0; d < D; d++)
			mean_x[d] += train->features[i * D + d];
		for (size_t j = 0; j < M; j++)
			mean_y[j] += train->quality[i * M + j];
	}
	for (size_t d = 0; n && d < D; d++)
		mean_x[d] /= (double)n;
	for (size_t j = 0; n && j < M; j++)
		mean_y[j] /= (double)n;

	gram_job job = {.train = train, .mean_x = mean_x, .mean_y = mean_y, .G = G, .R = R};
	rbp_parallel_for((D + 1) / 2, s->common.threads, gram_range, &job);
	if ((rc = job.rc) < 0)
		goto out;

	/* α = 0 (or a feature that never varies) can leave the system singular; then the smallest
	 * ridge from a short geometric ladder that makes it positive-definite is used instead, and
	 * said so. The scale is the mean diagonal, so the ladder fits the features' magnitude. */
	double scale = 0.0;
	for (size_t d = 0; d < D; d++)
		scale += G[d * D + d] / (double)D;
	if (!(scale > 0.0))
		scale = 1.0;
	double ridge = alpha;
	for (double extra = 1e-10 * scale;; extra *= 100.0) {
		memcpy(A, G, D * D * sizeof(double));
		for (size_t d = 0; d < D; d++)
			A[d * D + d] += ridge;
		if (cholesky(A, D, 1e-13 * scale) == 0)
			break;
		if (extra > scale) { /* cannot happen for finite features: α ≥ scale is well-conditioned */
			rc = -EDOM;
			goto out;
		}
		ridge = alpha + extra;
	}
	if (ridge != alpha && host && host->log)
		host->log(RB_LOG_WARNING, "linear: XᵀX + %gI is singular; solved with ridge %g instead", alpha, ridge);
	cholesky_solve(A, D, R, M);
	memcpy(s->w, R, D * M * sizeof(double));
	for (size_t j = 0; j < M; j++) { /* the intercept puts the fit through the means */
		double v = mean_y[j];
		for (size_t d = 0; d < D; d++)
			v -= mean_x[d] * s->w[d * M + j];
		s->b[j] = v;
	}
	rc = 0;
out:
	free(mean_x);
	free(mean_y);
	free(G);
	free(A);
	free(R);
	return rc;
}

static int linear_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	const rb_view *train = args->train;
	linear_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = rbp_common_init(&s->common, args, args->params[P_FEATURE].s, args->params[P_COST].s, err, errlen);
	if (rc < 0)
		goto fail;
	s->n_models = train->n_models;
	s->dim = train->feature_dim;
	if ((rc = linear_fit(s, train, args->params[P_ALPHA].r, args->host)) < 0) {
		if (rc == -EDOM)
			snprintf(err, errlen, "the ridge system stays singular; are the features finite?");
		goto fail;
	}
	*state = s;
	return 0;
fail:
	linear_destroy(s);
	return rc;
}

typedef struct linear_job {
	const linear_state *s;
	const rb_view *queries;
	float *q_hat;
} linear_job;

static void linear_range(void *ctx, size_t begin, size_t end)
{
	const linear_job *job = ctx;
	const linear_state *s = job->s;
	const size_t D = s->dim, M = s->n_models;
	for (size_t i = begin; i < end; i++) {
		const float *x = job->queries->features + i * D;
		float *qh = job->q_hat + i * M;
		for (size_t j = 0; j < M; j++) {
			double v = s->b[j];
			for (size_t d = 0; d < D; d++)
				v += x[d] * s->w[d * M + j];
			qh[j] = (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
		}
	}
}

static int linear_predict(void *state, const rb_view *queries, float *q_hat, double *c_hat, int *has_cost)
{
	const linear_state *s = state;
	if (queries->n && (!queries->features || queries->feature_dim != s->dim))
		return -EINVAL; /* the query view must carry the train view's features */
	linear_job job = {.s = s, .queries = queries, .q_hat = q_hat};
	rbp_parallel_for(queries->n, s->common.threads, linear_range, &job);
	rbp_common_costs(&s->common, queries, c_hat, has_cost);
	return 0;
}

RB_ROUTER_DEFINE("linear",
		 .version = "1.0",
		 .summary = "ridge regression per model on the prompt features (param alpha); q̂ clipped to [0, 1]",
		 .kind = RB_ROUTER_PREDICTIVE,
		 RB_ROUTER_PARAMS(params),
		 .create = linear_create,
		 .destroy = linear_destroy,
		 .predict = linear_predict)
