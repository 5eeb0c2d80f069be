/* mlp.c — predictive router: one multi-output neural network maps a prompt's features to the
 * predicted quality of every model at once.
 *
 * Input: the prompt's feature row (D dims). Then 1 or 2 hidden ReLU layers (param `hidden`) and
 * M sigmoid outputs, one per model, trained with Adam on the mean squared error against each
 * training prompt's M quality scores, with L2 weight decay as scikit-learn's `alpha`. The host
 * sweeps λ over the predictions itself.
 *
 * Reproducibility: weights start from He-normal draws of an rb_rng seeded with args->seed, and
 * the same rng shuffles every epoch. Training runs on one thread; predict() splits the queries
 * across threads, and each query's forward pass does the same arithmetic in the same order
 * whatever the split, so the same seed gives bit-identical predictions at any thread count.
 *
 * Speed: weights, activations and gradients are row-major arrays whose rows are padded to
 * MLP_LANES floats and 32-byte aligned. Every matrix product is a run of combine() calls (one
 * output row = a weighted sum of input rows, accumulated in registers), written with GCC vector
 * types so -O2 emits SIMD code without relying on the auto-vectoriser. Terms whose weight is
 * exactly 0 (zero tf-idf entries, about half of the ReLU outputs) are dropped; they would add
 * nothing, so results do not change. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE__
#include <xmmintrin.h>
#endif

#include "predictive.h"
#include "rb/router.h"

#define MLP_MAX_HIDDEN 2
#define MLP_MAX_WIDTH 4096
#define MLP_LANES 8           /* row strides are multiples of this many floats (two SSE vectors) */
#define MLP_PREDICT_BLOCK 64  /* queries per forward pass in predict() */
#define MLP_BETA1 0.9
#define MLP_BETA2 0.999
#define MLP_EPSILON 1e-8

/* GCC vector type of the baseline x86-64 SIMD width (SSE, 4 floats); wider generic vectors get
 * split and spilled to the stack. Vector types alias their element type, so float rows may be
 * read through it. */
typedef float mlp_v4 __attribute__((vector_size(4 * sizeof(float))));
typedef int32_t mlp_i4 __attribute__((vector_size(4 * sizeof(int32_t))));
#define MLP_ALIGN 32

enum { P_HIDDEN, P_EPOCHS, P_BATCH_SIZE, P_LEARNING_RATE, P_L2, P_FEATURE, P_COST };

static const rb_param_spec params[] = {
	{.name = "hidden", .type = RB_PARAM_STRING, .default_value = "100,100",
	 .help = "hidden ReLU layer widths, 1 or 2 comma-separated integers from 1 to 4096 (e.g. 100 or 100,100)"},
	{.name = "epochs", .type = RB_PARAM_INT, .default_value = "20", RB_PARAM_BOUNDS(1, 10000),
	 .help = "passes over the training prompts"},
	{.name = "batch_size", .type = RB_PARAM_INT, .default_value = "64", RB_PARAM_BOUNDS(1, 65536),
	 .help = "prompts per Adam step"},
	{.name = "learning_rate", .type = RB_PARAM_REAL, .default_value = "0.001", RB_PARAM_BOUNDS(1e-8, 1),
	 .help = "Adam step size (beta1 0.9, beta2 0.999, epsilon 1e-8)"},
	{.name = "l2", .type = RB_PARAM_REAL, .default_value = "1e-4", RB_PARAM_BOUNDS(0, 1),
	 .help = "L2 weight decay, as scikit-learn's alpha (penalty alpha/2 * |W|^2 per batch, divided by its size)"},
	RBP_FEATURE_PARAM,
	RBP_COST_PARAM,
};

/* Weight layer l maps in[l] units to out[l] units. Its weights are stored input-major,
 * W[i * out_p + o], so one input's contribution to every output is one contiguous row;
 * out_p is out rounded up to MLP_LANES and the padding columns stay exactly 0. */
typedef struct mlp_net {
	uint32_t n_layers; /* weight layers: hidden layers + the output layer */
	uint32_t in[MLP_MAX_HIDDEN + 1], out[MLP_MAX_HIDDEN + 1], out_p[MLP_MAX_HIDDEN + 1];
	size_t w_off[MLP_MAX_HIDDEN + 1], b_off[MLP_MAX_HIDDEN + 1]; /* into theta, in floats */
	size_t n_theta;
	float *theta; /* every weight and bias, 32-byte aligned */
} mlp_net;

typedef struct mlp_state {
	mlp_net net;
	uint32_t feature_dim, n_models;
	const rb_host_api *host;
	rbp_common common; /* threads and the cost estimate */
} mlp_state;

static size_t round_lanes(size_t n)
{
	return (n + MLP_LANES - 1) / MLP_LANES * MLP_LANES;
}

/* Owned: free(). Zero-filled, 32-byte aligned, NULL when out of memory. */
static float *alloc_floats(size_t n)
{
	size_t bytes = round_lanes(n ? n : 1) * sizeof(float);
	float *p = aligned_alloc(MLP_ALIGN, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* y[0..n) += a * x[0..n); n a multiple of MLP_LANES, both 32-byte aligned. */
static inline void axpy(float *restrict y, const float *restrict x, float a, size_t n)
{
	mlp_v4 *vy = (mlp_v4 *)y;
	const mlp_v4 *vx = (const mlp_v4 *)x;
	for (size_t k = 0; k < n / 4; k++)
		vy[k] += a * vx[k];
}

/* y[k] = x[k] > 0 ? y[k] : 0 over n floats (a multiple of MLP_LANES), without branches. */
static inline void keep_positive(float *y, const float *x, size_t n)
{
	mlp_v4 *vy = (mlp_v4 *)y;
	const mlp_v4 *vx = (const mlp_v4 *)x;
	for (size_t k = 0; k < n / 4; k++)
		vy[k] = (mlp_v4)((mlp_i4)vy[k] & (vx[k] > (mlp_v4){0}));
}

/* A sparse combination of rows: coef[k] · rows[k][0..n) for the K nonzero coefficients. */
typedef struct mlp_terms {
	size_t K;
	float *coef;
	const float **rows;
} mlp_terms;

/* Append a term unless c is an exact 0, which would add nothing. Branch-free, since zeros come
 * in no predictable pattern: slot K is written either way, so the buffers must have room for
 * every term offered. */
static inline void terms_add(mlp_terms *t, float c, const float *row)
{
	t->coef[t->K] = c;
	t->rows[t->K] = row;
	t->K += c != 0.0f;
}

/* y[0..n) = init[0..n) (0 when NULL) + Σ_k coef[k] · rows[k][0..n), summed in k order: the same
 * arithmetic as K axpy calls, but 32 columns at a time stay in registers across the k loop, so
 * each term costs one load per vector instead of two loads and a store. n a multiple of
 * MLP_LANES; rows, init and y 32-byte aligned. */
static void combine(float *restrict y, const float *init, const mlp_terms *t, size_t n)
{
	/* Eight named 4-float accumulators (half the SSE registers); an array of them would live
	 * on the stack at -O2. */
#define MLP_LOAD(v) (init ? *(const mlp_v4 *)(init + c + 4 * (v)) : (mlp_v4){0})
	size_t c = 0;
	for (; c + 32 <= n; c += 32) {
		mlp_v4 a0 = MLP_LOAD(0), a1 = MLP_LOAD(1), a2 = MLP_LOAD(2), a3 = MLP_LOAD(3);
		mlp_v4 a4 = MLP_LOAD(4), a5 = MLP_LOAD(5), a6 = MLP_LOAD(6), a7 = MLP_LOAD(7);
		for (size_t k = 0; k < t->K; k++) {
			const mlp_v4 *x = (const mlp_v4 *)(t->rows[k] + c);
			float a = t->coef[k];
			a0 += a * x[0];
			a1 += a * x[1];
			a2 += a * x[2];
			a3 += a * x[3];
			a4 += a * x[4];
			a5 += a * x[5];
			a6 += a * x[6];
			a7 += a * x[7];
		}
		mlp_v4 *out = (mlp_v4 *)(y + c);
		out[0] = a0;
		out[1] = a1;
		out[2] = a2;
		out[3] = a3;
		out[4] = a4;
		out[5] = a5;
		out[6] = a6;
		out[7] = a7;
	}
	for (; c < n; c += MLP_LANES) {
		mlp_v4 a0 = MLP_LOAD(0), a1 = MLP_LOAD(1);
		for (size_t k = 0; k < t->K; k++) {
			const mlp_v4 *x = (const mlp_v4 *)(t->rows[k] + c);
			a0 += t->coef[k] * x[0];
			a1 += t->coef[k] * x[1];
		}
		*(mlp_v4 *)(y + c) = a0;
		*(mlp_v4 *)(y + c + 4) = a1;
	}
#undef MLP_LOAD
}

/* Per-batch buffers: activations of each layer [rows][out_p], two gradient buffers, and room
 * for one combination of rows. */
typedef struct mlp_scratch {
	float *act[MLP_MAX_HIDDEN + 1];
	float *delta, *dprev; /* [rows][widest padded layer] */
	mlp_terms terms;
} mlp_scratch;

/* Parse "W" or "W,W" into widths; 0 or -EINVAL with a message naming the parameter. */
static int parse_hidden(const char *text, uint32_t *widths, uint32_t *n, char *err, size_t errlen)
{
	uint32_t count = 0;
	const char *p = text;
	if (!*p) {
		snprintf(err, errlen, "parameter 'hidden' is empty; give 1 or 2 comma-separated layer widths, e.g. 100,100");
		return -EINVAL;
	}
	for (;;) {
		const char *start = p;
		unsigned long v = 0;
		while (*p >= '0' && *p <= '9') {
			if (v <= MLP_MAX_WIDTH)
				v = v * 10 + (unsigned long)(*p - '0');
			p++;
		}
		if (p == start || (*p && *p != ',')) {
			snprintf(err, errlen,
				 "parameter 'hidden': '%s' is not a list of layer widths; give 1 or 2 comma-separated "
				 "integers, e.g. 100,100",
				 text);
			return -EINVAL;
		}
		if (v < 1 || v > MLP_MAX_WIDTH) {
			snprintf(err, errlen, "parameter 'hidden': layer width %.*s in '%s' is out of range 1..%d",
				 (int)(p - start), start, text, MLP_MAX_WIDTH);
			return -EINVAL;
		}
		if (count == MLP_MAX_HIDDEN) {
			uint32_t layers = count + 1;
			for (const char *q = p; *q; q++)
				layers += *q == ',';
			snprintf(err, errlen, "parameter 'hidden': '%s' has %u layers; at most %d hidden layers", text,
				 layers, MLP_MAX_HIDDEN);
			return -EINVAL;
		}
		widths[count++] = (uint32_t)v;
		if (!*p)
			break;
		p++; /* the comma */
	}
	*n = count;
	return 0;
}

static void net_free(mlp_net *net)
{
	free(net->theta);
	net->theta = NULL;
}

/* Lay the layers out and allocate theta (zeroed). 0 or -ENOMEM. */
static int net_alloc(mlp_net *net, uint32_t feature_dim, const uint32_t *hidden, uint32_t n_hidden,
		     uint32_t n_models)
{
	memset(net, 0, sizeof(*net));
	net->n_layers = n_hidden + 1;
	size_t off = 0;
	for (uint32_t l = 0; l < net->n_layers; l++) {
		net->in[l] = l == 0 ? feature_dim : hidden[l - 1];
		net->out[l] = l < n_hidden ? hidden[l] : n_models;
		net->out_p[l] = (uint32_t)round_lanes(net->out[l]);
		net->w_off[l] = off;
		off += (size_t)net->in[l] * net->out_p[l];
		net->b_off[l] = off;
		off += net->out_p[l];
	}
	net->n_theta = off;
	net->theta = alloc_floats(off);
	return net->theta ? 0 : -ENOMEM;
}

static size_t net_widest(const mlp_net *net)
{
	size_t w = 0;
	for (uint32_t l = 0; l < net->n_layers; l++)
		w = net->out_p[l] > w ? net->out_p[l] : w;
	return w;
}

static void scratch_free(mlp_scratch *s)
{
	for (int l = 0; l < MLP_MAX_HIDDEN + 1; l++)
		free(s->act[l]);
	free(s->delta);
	free(s->dprev);
	free(s->terms.coef);
	free(s->terms.rows);
	memset(s, 0, sizeof(*s));
}

static int scratch_alloc(mlp_scratch *s, const mlp_net *net, size_t rows, int with_gradients)
{
	memset(s, 0, sizeof(*s));
	int ok = 1;
	size_t most_terms = rows; /* a combination has at most max(rows, any layer's in or out) terms */
	for (uint32_t l = 0; l < net->n_layers; l++) {
		ok &= (s->act[l] = alloc_floats(rows * net->out_p[l])) != NULL;
		most_terms = net->in[l] > most_terms ? net->in[l] : most_terms;
		most_terms = net->out[l] > most_terms ? net->out[l] : most_terms;
	}
	ok &= (s->terms.coef = malloc(most_terms * sizeof(float))) != NULL;
	ok &= (s->terms.rows = malloc(most_terms * sizeof(float *))) != NULL;
	if (with_gradients) {
		ok &= (s->delta = alloc_floats(rows * net_widest(net))) != NULL;
		ok &= (s->dprev = alloc_floats(rows * net_widest(net))) != NULL;
	}
	if (!ok) {
		scratch_free(s);
		return -ENOMEM;
	}
	return 0;
}

/* Input row b of a batch: row idx[b] of X, or row b when idx is NULL. */
static inline const float *input_row(const float *X, size_t D, const size_t *idx, size_t b)
{
	return X + (idx ? idx[b] : b) * D;
}

/* Forward pass of `rows` inputs; s->act[last] receives the sigmoid outputs (padding 0). */
static void forward(const mlp_net *net, const float *X, const size_t *idx, size_t rows, mlp_scratch *s)
{
	for (uint32_t l = 0; l < net->n_layers; l++) {
		const float *W = net->theta + net->w_off[l], *bias = net->theta + net->b_off[l];
		size_t in = net->in[l], out_p = net->out_p[l], in_p = l ? net->out_p[l - 1] : 0;
		int last = l + 1 == net->n_layers;
		for (size_t b = 0; b < rows; b++) {
			float *z = s->act[l] + b * out_p;
			const float *a = l ? s->act[l - 1] + b * in_p : input_row(X, in, idx, b);
			s->terms.K = 0;
			for (size_t i = 0; i < in; i++)
				terms_add(&s->terms, a[i], W + i * out_p);
			combine(z, bias, &s->terms, out_p); /* z = bias + Σ_i a_i · W_i */
			if (!last) {
				keep_positive(z, z, out_p); /* ReLU */
			} else {
				for (size_t o = 0; o < net->out[l]; o++)
					z[o] = 1.0f / (1.0f + expf(-z[o]));
				for (size_t o = net->out[l]; o < out_p; o++)
					z[o] = 0.0f;
			}
		}
	}
}

/* Training-only state: gradients, Adam moments, and the transposed weights backpropagation
 * reads row by row. */
typedef struct mlp_trainer {
	float *grad, *m, *v;
	float *wt[MLP_MAX_HIDDEN + 1]; /* layer l ≥ 1: [out][in_p], in_p = out_p of layer l − 1 */
	mlp_scratch s;
	double beta1_t, beta2_t;
} mlp_trainer;

static void trainer_free(mlp_trainer *t)
{
	free(t->grad);
	free(t->m);
	free(t->v);
	for (int l = 0; l < MLP_MAX_HIDDEN + 1; l++)
		free(t->wt[l]);
	scratch_free(&t->s);
}

static int trainer_alloc(mlp_trainer *t, const mlp_net *net, size_t batch)
{
	memset(t, 0, sizeof(*t));
	int ok = (t->grad = alloc_floats(net->n_theta)) && (t->m = alloc_floats(net->n_theta)) &&
		 (t->v = alloc_floats(net->n_theta));
	for (uint32_t l = 1; ok && l < net->n_layers; l++)
		ok = (t->wt[l] = alloc_floats((size_t)net->out[l] * net->out_p[l - 1])) != NULL;
	if (!ok || scratch_alloc(&t->s, net, batch, 1) < 0) {
		trainer_free(t);
		return -ENOMEM;
	}
	t->beta1_t = t->beta2_t = 1.0;
	return 0;
}

static void transpose_weights(const mlp_net *net, mlp_trainer *t)
{
	for (uint32_t l = 1; l < net->n_layers; l++) {
		const float *W = net->theta + net->w_off[l];
		size_t in = net->in[l], out = net->out[l], out_p = net->out_p[l], in_p = net->out_p[l - 1];
		for (size_t i = 0; i < in; i++)
			for (size_t o = 0; o < out; o++)
				t->wt[l][o * in_p + i] = W[i * out_p + o];
	}
}

/* Gradient of the batch loss (1/2B)·Σ‖p − y‖² + (alpha/2B)·Σ‖W‖² into t->grad, after forward().
 * Every sum runs over the batch in row order. Returns the batch's summed squared error. */
static double backward(const mlp_net *net, mlp_trainer *t, const float *X, const float *Y, const size_t *idx,
		       size_t rows, double alpha)
{
	uint32_t L = net->n_layers, M = net->out[L - 1];
	size_t widest = net_widest(net);
	float inv = 1.0f / (float)rows;
	double sse = 0.0;
	/* Output layer: MSE through the sigmoid, dL/dz = (p − y)·p·(1 − p) / B. */
	for (size_t b = 0; b < rows; b++) {
		const float *p = t->s.act[L - 1] + b * net->out_p[L - 1], *y = Y + idx[b] * M;
		float *d = t->s.delta + b * widest;
		memset(d, 0, widest * sizeof(float));
		for (uint32_t j = 0; j < M; j++) {
			float e = p[j] - y[j];
			sse += (double)e * e;
			d[j] = e * p[j] * (1.0f - p[j]) * inv;
		}
	}
	for (uint32_t l = L; l-- > 0;) {
		size_t in = net->in[l], out = net->out[l], out_p = net->out_p[l], in_p = l ? net->out_p[l - 1] : 0;
		float *gW = t->grad + net->w_off[l], *gb = t->grad + net->b_off[l];
		const float *W = net->theta + net->w_off[l];
		mlp_terms *terms = &t->s.terms;
		memset(gb, 0, out_p * sizeof(float));
		for (size_t b = 0; b < rows; b++)
			axpy(gb, t->s.delta + b * widest, 1.0f, out_p);
		for (size_t i = 0; i < in; i++) { /* gW_i = Σ_b a_bi · d_b */
			terms->K = 0;
			for (size_t b = 0; b < rows; b++) {
				float a = l ? t->s.act[l - 1][b * in_p + i] : input_row(X, in, idx, b)[i];
				terms_add(terms, a, t->s.delta + b * widest);
			}
			combine(gW + i * out_p, NULL, terms, out_p);
		}
		if (alpha > 0)
			axpy(gW, W, (float)alpha * inv, in * out_p);
		if (l == 0)
			break;
		/* dL/da of the layer below, then through its ReLU (a > 0 exactly where z > 0). */
		for (size_t b = 0; b < rows; b++) {
			const float *d = t->s.delta + b * widest, *a = t->s.act[l - 1] + b * in_p;
			float *dp = t->s.dprev + b * widest;
			terms->K = 0;
			for (size_t o = 0; o < out; o++)
				terms_add(terms, d[o], t->wt[l] + o * in_p);
			combine(dp, NULL, terms, in_p); /* Σ_o d_o · W_{·o} */
			keep_positive(dp, a, in_p);
		}
		float *swap = t->s.delta;
		t->s.delta = t->s.dprev;
		t->s.dprev = swap;
	}
	return sse;
}

/* Square root of each lane: sqrtps where SSE exists, else per lane; both are IEEE correctly
 * rounded, so either way gives the same bits. */
static inline mlp_v4 sqrt_v4(mlp_v4 x)
{
#ifdef __SSE__
	return (mlp_v4)_mm_sqrt_ps((__m128)x);
#else
	return (mlp_v4){sqrtf(x[0]), sqrtf(x[1]), sqrtf(x[2]), sqrtf(x[3])};
#endif
}

static void adam_step(mlp_net *net, mlp_trainer *t, double lr)
{
	t->beta1_t *= MLP_BETA1;
	t->beta2_t *= MLP_BETA2;
	const float step = (float)(lr * sqrt(1.0 - t->beta2_t) / (1.0 - t->beta1_t));
	const float b1 = (float)MLP_BETA1, b2 = (float)MLP_BETA2, eps = (float)MLP_EPSILON;
	mlp_v4 *theta = (mlp_v4 *)net->theta, *m = (mlp_v4 *)t->m, *v = (mlp_v4 *)t->v;
	const mlp_v4 *g = (const mlp_v4 *)t->grad;
	for (size_t k = 0; k < net->n_theta / 4; k++) { /* n_theta is a multiple of MLP_LANES */
		m[k] = b1 * m[k] + (1.0f - b1) * g[k];
		v[k] = b2 * v[k] + (1.0f - b2) * g[k] * g[k];
		theta[k] -= step * m[k] / (sqrt_v4(v[k]) + eps);
	}
}

/* Standard normal draw (Box–Muller, cosine branch). */
static double normal(rb_rng *rng)
{
	double u1 = 1.0 - rb_rng_uniform(rng); /* (0, 1]: log is finite */
	double u2 = rb_rng_uniform(rng);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* He-normal weights (std √(2 / fan_in)); hidden biases 0; each output bias starts at the logit
 * of that model's mean train quality, so training starts from the per-model mean. */
static void net_init(mlp_net *net, const rb_view *train, rb_rng *rng)
{
	for (uint32_t l = 0; l < net->n_layers; l++) {
		float *W = net->theta + net->w_off[l];
		double sd = sqrt(2.0 / net->in[l]);
		for (size_t i = 0; i < net->in[l]; i++)
			for (size_t o = 0; o < net->out[l]; o++)
				W[i * net->out_p[l] + o] = (float)(sd * normal(rng));
	}
	uint32_t L = net->n_layers, M = net->out[L - 1];
	float *bias = net->theta + net->b_off[L - 1];
	for (uint32_t j = 0; j < M; j++) {
		double mean = 0.0;
		for (size_t i = 0; i < train->n; i++)
			mean += train->quality[i * M + j];
		mean = train->n ? mean / (double)train->n : 0.5;
		mean = mean < 0.01 ? 0.01 : mean > 0.99 ? 0.99 : mean;
		bias[j] = (float)log(mean / (1.0 - mean));
	}
}

static int train_net(mlp_state *st, const rb_create_args *args, rb_rng *rng)
{
	const rb_view *train = args->train;
	const rb_param_value *pv = args->params;
	size_t n = train->n, batch = (size_t)pv[P_BATCH_SIZE].i;
	if (batch > n)
		batch = n;
	if (n == 0)
		return 0;
	mlp_trainer t;
	size_t *order = malloc(n * sizeof(size_t));
	if (!order || trainer_alloc(&t, &st->net, batch) < 0) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	double sse = 0.0;
	for (int64_t epoch = 0; epoch < pv[P_EPOCHS].i; epoch++) {
		for (size_t i = n - 1; i > 0; i--) { /* Fisher–Yates */
			size_t k = (size_t)rb_rng_below(rng, i + 1), tmp = order[i];
			order[i] = order[k];
			order[k] = tmp;
		}
		sse = 0.0;
		for (size_t start = 0; start < n; start += batch) {
			size_t rows = n - start < batch ? n - start : batch;
			transpose_weights(&st->net, &t);
			forward(&st->net, train->features, order + start, rows, &t.s);
			sse += backward(&st->net, &t, train->features, train->quality, order + start, rows,
					pv[P_L2].r);
			adam_step(&st->net, &t, pv[P_LEARNING_RATE].r);
		}
	}
	if (st->host && st->host->log)
		st->host->log(RB_LOG_DEBUG, "mlp: task %s: %zu prompts, last epoch mean squared error %.6f", args->task,
			      n, sse / ((double)n * train->n_models));
	trainer_free(&t);
	free(order);
	return 0;
}

static void mlp_destroy(void *state)
{
	mlp_state *st = state;
	if (!st)
		return;
	net_free(&st->net);
	rbp_common_free(&st->common);
	free(st);
}

static int mlp_create(const rb_create_args *args, void **state, char *err, size_t errlen)
{
	const rb_param_value *pv = args->params;
	const rb_view *train = args->train;
	uint32_t hidden[MLP_MAX_HIDDEN], n_hidden = 0;
	int rc = parse_hidden(pv[P_HIDDEN].s, hidden, &n_hidden, err, errlen);
	if (rc < 0)
		return rc;
	mlp_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if ((rc = rbp_common_init(&st->common, args, pv[P_FEATURE].s, pv[P_COST].s, err, errlen)) < 0)
		goto fail;
	st->feature_dim = train->feature_dim;
	st->n_models = train->n_models;
	st->host = args->host;
	if ((rc = net_alloc(&st->net, train->feature_dim, hidden, n_hidden, train->n_models)) < 0)
		goto fail;
	rb_rng rng;
	rb_rng_seed(&rng, args->seed);
	net_init(&st->net, train, &rng);
	if ((rc = train_net(st, args, &rng)) < 0)
		goto fail;
	*state = st;
	return 0;
fail:
	mlp_destroy(st);
	return rc;
}

typedef struct predict_job {
	const mlp_state *st;
	const rb_view *q;
	float *q_hat;
	int failed; /* set (atomically) when a chunk could not allocate its buffers */
} predict_job;

static void predict_blocks(void *ctx, size_t begin, size_t end)
{
	predict_job *job = ctx;
	const mlp_net *net = &job->st->net;
	size_t D = job->st->feature_dim, M = job->st->n_models, out_p = net->out_p[net->n_layers - 1];
	mlp_scratch s;
	if (scratch_alloc(&s, net, MLP_PREDICT_BLOCK, 0) < 0) {
		__atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
		return;
	}
	for (size_t blk = begin; blk < end; blk++) {
		size_t first = blk * MLP_PREDICT_BLOCK;
		size_t rows = job->q->n - first < MLP_PREDICT_BLOCK ? job->q->n - first : MLP_PREDICT_BLOCK;
		forward(net, job->q->features + first * D, NULL, rows, &s);
		for (size_t b = 0; b < rows; b++)
			memcpy(job->q_hat + (first + b) * M, s.act[net->n_layers - 1] + b * out_p, M * sizeof(float));
	}
	scratch_free(&s);
}

static int mlp_predict(void *state, const rb_view *queries, float *q_hat, double *c_hat, int *has_cost)
{
	const mlp_state *st = state;
	if (queries->n == 0) {
		rbp_common_costs(&st->common, queries, c_hat, has_cost);
		return 0;
	}
	if (!queries->features || queries->feature_dim != st->feature_dim) {
		if (st->host && st->host->log)
			st->host->log(RB_LOG_ERROR, "mlp: queries have %u feature dims, the network was trained on %u",
				      queries->features ? queries->feature_dim : 0, st->feature_dim);
		return -EINVAL;
	}
	predict_job job = {.st = st, .q = queries, .q_hat = q_hat};
	size_t blocks = (queries->n + MLP_PREDICT_BLOCK - 1) / MLP_PREDICT_BLOCK;
	rbp_parallel_for(blocks, st->common.threads, predict_blocks, &job);
	if (job.failed)
		return -ENOMEM;
	rbp_common_costs(&st->common, queries, c_hat, has_cost);
	return 0;
}

RB_ROUTER_DEFINE("mlp",
		 .version = "1.0",
		 .summary = "one multi-output MLP (ReLU hidden layers, sigmoid outputs, Adam on MSE) predicts every "
			    "model's quality from prompt features",
		 .kind = RB_ROUTER_PREDICTIVE,
		 RB_ROUTER_PARAMS(params),
		 .create = mlp_create,
		 .destroy = mlp_destroy,
		 .predict = mlp_predict)
