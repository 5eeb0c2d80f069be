/* gen.c — the demo data generator: prompts with a latent task, topic and difficulty, model
 * outcomes calibrated to RouterBench's Table 1, or a synthetic matrix of any size. */
#include "data/gen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rb/rng.h"
#include "data/split.h"

/*
 * The latent model (docs/generator.md explains it at length):
 *   prompt i: task t, topic k_i, difficulty d_i ~ N(0, 1)
 *   model j:  ability a[j][k] ~ N(0, 1) per topic of the task, noise e[i][j] ~ N(0, 1)
 *   score     s[i][j] = −d_i + λ_t · (TOPIC_WEIGHT · a[j][k_i] + e[i][j])
 * The shared −d_i makes models fail together, as on real data; λ_t decorrelates them. For the
 * paper preset each model's correct prompts are its top-ranked s on each split part, exactly as
 * many as Table 1 asks, and λ_t is bisected until the oracle matches Table 1's.
 */
#define TOPIC_WEIGHT 0.5
#define MTB_SPREAD 0.18       /* MT-Bench: score change per standard deviation of s */
#define LAMBDA_MAX 16.0
#define LAMBDA_STEPS 40
#define LAMBDA_TOL 1e-4
#define MIN_COMPLETION_MEAN 2.0 /* tokens: the cheapest-completing model still says something */

/* ---------------------------------------------------------------------------------------- */
/* Random numbers: one independent xoshiro stream per (seed, purpose, index). */

typedef struct grng {
	rb_rng r;
	int have;
	double spare;
} grng;

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = a;
	uint64_t h = rb_splitmix64(&x);
	x = h ^ (b * 0xd1342543de82ef95ull);
	h = rb_splitmix64(&x);
	x = h ^ (c * 0x9e3779b97f4a7c15ull);
	return rb_splitmix64(&x);
}

static void grng_seed(grng *g, uint64_t seed, uint64_t purpose, uint64_t index)
{
	rb_rng_seed(&g->r, mix3(seed, purpose, index));
	g->have = 0;
	g->spare = 0;
}

static double gunif(grng *g) { return rb_rng_uniform(&g->r); }

/* Standard normal, Box–Muller with the second value kept. */
static double gnorm(grng *g)
{
	if (g->have) {
		g->have = 0;
		return g->spare;
	}
	double u1 = 1.0 - rb_rng_uniform(&g->r), u2 = rb_rng_uniform(&g->r);
	double r = sqrt(-2.0 * log(u1)), a = 2.0 * M_PI * u2;
	g->spare = r * sin(a);
	g->have = 1;
	return r * cos(a);
}

enum { S_MODELS = 1, S_LATENT, S_NOISE, S_ABILITY, S_WORDS, S_TEXT, S_COMPLETION, S_RESPONSE, S_TASK };

/* ---------------------------------------------------------------------------------------- */
/* Text helpers. */

typedef struct wordlist {
	uint32_t n;
	char *buf;
	const char **w;
	uint32_t *len;
} wordlist;

/* Split space-separated words of a and b (either may be NULL); '-' in a separates words too, and
 * "and" is dropped, so a subject name turns into its words. */
static void wl_init(wordlist *wl, const char *a, const char *b)
{
	size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
	wl->buf = rbe_xmalloc(la + lb + 2);
	char *p = wl->buf;
	if (a) {
		for (size_t k = 0; k < la; k++)
			*p++ = a[k] == '-' ? ' ' : a[k];
		*p++ = ' ';
	}
	if (b)
		memcpy(p, b, lb), p += lb;
	*p = '\0';
	size_t cap = 1;
	for (char *q = wl->buf; *q; q++)
		cap += *q == ' ';
	wl->w = rbe_xcalloc(cap, sizeof(char *));
	wl->len = rbe_xcalloc(cap, sizeof(uint32_t));
	wl->n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(wl->buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "and"))
			continue;
		wl->w[wl->n] = tok;
		wl->len[wl->n] = (uint32_t)strlen(tok);
		wl->n++;
	}
	rbe_require(wl->n > 0);
}

static void wl_free(wordlist *wl)
{
	free(wl->buf);
	free(wl->w);
	free(wl->len);
	memset(wl, 0, sizeof(*wl));
}

typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = rbe_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_word(sbuf *b, const wordlist *wl, uint32_t k)
{
	if (b->len && b->p[b->len - 1] != '\0')
		sb_put(b, " ", 1);
	sb_put(b, wl->w[k], wl->len[k]);
}

static void sb_pick(sbuf *b, const wordlist *wl, grng *g)
{
	sb_word(b, wl, (uint32_t)rb_rng_below(&g->r, wl->n));
}

/* End the current string, keeping it in the buffer (responses are packed NUL-separated). */
static void sb_end(sbuf *b)
{
	sb_put(b, "", 0);
	b->len++;
	sb_put(b, "", 0);
}

/* The difficulty words a prompt shows: a noisy reading of d, so the text hints, not tells. */
static int level_of(double d, grng *g)
{
	double x = d + 0.5 * gnorm(g);
	return x < -0.45 ? 0 : x > 0.45 ? 2 : 1;
}

typedef struct vocab_set {
	wordlist task, level[3], filler;
	uint32_t n_topics;
	wordlist *topic;
} vocab_set;

static void vocab_common(vocab_set *v)
{
	for (int l = 0; l < 3; l++)
		wl_init(&v->level[l], NULL, rbe_gen_level_vocab[l].words);
	wl_init(&v->filler, NULL, rbe_gen_filler_words);
}

static void vocab_free(vocab_set *v)
{
	wl_free(&v->task);
	for (int l = 0; l < 3; l++)
		wl_free(&v->level[l]);
	wl_free(&v->filler);
	for (uint32_t k = 0; k < v->n_topics; k++)
		wl_free(&v->topic[k]);
	free(v->topic);
}

/* One prompt: `words` words, each from the topic, the task, the difficulty level or filler. */
static void make_prompt(sbuf *b, const vocab_set *v, uint32_t topic, int level, uint32_t words,
			double p_topic, grng *g)
{
	b->len = 0;
	for (uint32_t w = 0; w < words; w++) {
		double r = gunif(g);
		if (r < p_topic)
			sb_pick(b, &v->topic[topic], g);
		else if (r < p_topic + 0.15)
			sb_pick(b, &v->task, g);
		else if (r < p_topic + 0.27)
			sb_pick(b, &v->level[level], g);
		else
			sb_pick(b, &v->filler, g);
	}
	if (!b->len)
		sb_put(b, "", 0);
}

/* One response, packed into b after the previous ones. */
static void make_response(sbuf *b, const vocab_set *v, uint32_t topic, uint32_t completion,
			  uint32_t max_words, grng *g)
{
	if (completion <= 2) {
		char letter = (char)('A' + rb_rng_below(&g->r, 4));
		sb_put(b, &letter, 1);
	} else {
		uint32_t words = completion < max_words ? completion : max_words;
		for (uint32_t w = 0; w < words; w++)
			sb_pick(b, gunif(g) < 0.5 ? &v->topic[topic] : &v->filler, g);
	}
	sb_end(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Ranking and integer allocation. */

typedef struct keyed {
	double k;
	uint32_t i;
} keyed;

static int keyed_desc(const void *pa, const void *pb)
{
	const keyed *a = pa, *b = pb;
	if (a->k != b->k)
		return a->k > b->k ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int keyed_asc(const void *pa, const void *pb)
{
	const keyed *a = pa, *b = pb;
	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Split total into np integer shares, each at least 1, proportional to w (largest remainder,
 * ties to the earlier item). A total below np gives every item 1. */
static void distribute(const double *w, size_t np, uint64_t total, uint32_t *out, keyed *tmp)
{
	if (np == 0)
		return;
	double wsum = 0;
	for (size_t k = 0; k < np; k++)
		wsum += w[k];
	uint64_t rem = total > np ? total - np : 0;
	uint64_t given = 0;
	for (size_t k = 0; k < np; k++) {
		double share = wsum > 0 ? (double)rem * w[k] / wsum : (double)rem / (double)np;
		double fl = floor(share);
		out[k] = 1 + (uint32_t)fl;
		given += (uint64_t)fl;
		tmp[k].k = share - fl;
		tmp[k].i = (uint32_t)k;
	}
	if (given >= rem)
		return;
	uint64_t left = rem - given;
	qsort(tmp, np, sizeof(keyed), keyed_desc);
	for (size_t r = 0; r < np && left; r++, left--)
		out[tmp[r].i]++;
}

/* ---------------------------------------------------------------------------------------- */
/* The routerbench preset. */

typedef struct ptask {
	int t; /* paper task index */
	size_t n;
	int graded;
	uint32_t n_topics;
	uint32_t *topic;   /* [n] */
	uint32_t *sub;     /* [n] mmlu subject (eval_name index within the task), else 0 */
	uint32_t *words;   /* [n] prompt length in words */
	double *d;         /* [n] difficulty */
	double *eps;       /* [n * m] */
	double *ab;        /* [m * n_topics] topic ability */
	uint8_t *is_train; /* [n] */
	uint32_t *part[2]; /* sample indices of the test (0) and train (1) parts */
	size_t np[2];
	float *q;          /* [n * m] */
	uint32_t *ptok;    /* [n] */
	uint32_t *ctok;    /* [n * m] */
} ptask;

static void ptask_free(ptask *pt)
{
	free(pt->topic);
	free(pt->sub);
	free(pt->words);
	free(pt->d);
	free(pt->eps);
	free(pt->ab);
	free(pt->is_train);
	free(pt->part[0]);
	free(pt->part[1]);
	free(pt->q);
	free(pt->ptok);
	free(pt->ctok);
}

static const uint32_t base_words[RBE_GEN_PAPER_TASKS] = {18, 24, 16, 28, 14, 22, 16};

/* MT-Bench: integer tenths x = clamp(round(10·(b + MTB_SPREAD·z)), 0, 10) with b chosen so they
 * sum to exactly R; z are the standardised latent scores, keys sorted ascending. */
static void alloc_tenths(keyed *keys, size_t np, long R, int *x)
{
	double mean = 0, var = 0;
	for (size_t k = 0; k < np; k++)
		mean += keys[k].k;
	mean /= (double)np;
	for (size_t k = 0; k < np; k++)
		var += (keys[k].k - mean) * (keys[k].k - mean);
	double sd = np > 1 ? sqrt(var / (double)(np - 1)) : 0;
	for (size_t k = 0; k < np; k++)
		keys[k].k = sd > 0 ? (keys[k].k - mean) / sd : 0;
	qsort(keys, np, sizeof(keyed), keyed_asc);
	double lo = -30, hi = 30;
	long sum = 0;
	for (int it = 0; it < 100; it++) {
		double b = 0.5 * (lo + hi);
		long s = 0;
		for (size_t k = 0; k < np; k++) {
			long v = lround(10.0 * (b + MTB_SPREAD * keys[k].k));
			s += v < 0 ? 0 : v > 10 ? 10 : v;
		}
		if (s < R)
			lo = b;
		else
			hi = b;
	}
	for (size_t k = 0; k < np; k++) {
		long v = lround(10.0 * (hi + MTB_SPREAD * keys[k].k));
		x[k] = v < 0 ? 0 : v > 10 ? 10 : (int)v;
		sum += x[k];
	}
	/* Several scores can cross a rounding edge at the same b: settle the rest one tenth at a
	 * time at the low (or high) end, which keeps x non-decreasing in z. */
	while (sum > R) {
		size_t k = 0;
		while (k < np && x[k] == 0)
			k++;
		rbe_require(k < np);
		x[k]--, sum--;
	}
	while (sum < R) {
		size_t k = np;
		while (k > 0 && x[k - 1] == 10)
			k--;
		rbe_require(k > 0);
		x[k - 1]++, sum++;
	}
}

/* Set every model's scores for noise level lambda; returns the oracle quality (mean best
 * score: on the test part for right/wrong tasks, on all samples for MT-Bench as in Table 1). */
static double assign_quality(ptask *pt, uint32_t m, double lambda, keyed *keys, int *x)
{
	const int t = pt->t;
	for (uint32_t j = 0; j < m; j++) {
		double target = rbe_gen_table1[j][t].quality;
		long total_tenths = lround(target * 10.0 * (double)pt->n);
		for (int p = 0; p < 2; p++) {
			size_t np = pt->np[p];
			if (!np)
				continue;
			for (size_t k = 0; k < np; k++) {
				uint32_t i = pt->part[p][k];
				keys[k].k = -pt->d[i] + lambda * (TOPIC_WEIGHT * pt->ab[(size_t)j * pt->n_topics + pt->topic[i]] +
								    pt->eps[(size_t)i * m + j]);
				keys[k].i = i;
			}
			if (!pt->graded) {
				qsort(keys, np, sizeof(keyed), keyed_desc);
				size_t r = (size_t)llround(target * (double)np);
				for (size_t k = 0; k < np; k++)
					pt->q[(size_t)keys[k].i * m + j] = k < r ? 1.0f : 0.0f;
			} else {
				long test_tenths = lround(target * 10.0 * (double)pt->np[0]);
				long R = p == 0 ? test_tenths : total_tenths - test_tenths;
				if (R < 0)
					R = 0;
				if (R > (long)(10 * np))
					R = (long)(10 * np);
				alloc_tenths(keys, np, R, x);
				for (size_t k = 0; k < np; k++)
					pt->q[(size_t)keys[k].i * m + j] = (float)(x[k] / 10.0);
			}
		}
	}
	double best_sum = 0;
	size_t count = 0;
	for (int p = 0; p < 2; p++) {
		if (p == 1 && !pt->graded)
			break;
		for (size_t k = 0; k < pt->np[p]; k++) {
			const float *row = pt->q + (size_t)pt->part[p][k] * m;
			float best = 0;
			for (uint32_t j = 0; j < m; j++)
				best = row[j] > best ? row[j] : best;
			best_sum += best;
			count++;
		}
	}
	return count ? best_sum / (double)count : 0;
}

/* Bisect λ so the oracle matches Table 1's: the oracle rises with λ from the best single model
 * (λ = 0, everyone fails on the same hardest prompts) towards independent errors. */
static void tune_task(ptask *pt, uint32_t m, keyed *keys, int *x, rbe_gen_task_info *ti)
{
	double target = rbe_gen_table1[RBE_GEN_PAPER_MODELS][pt->t].quality;
	double best_l = 0, best_o = assign_quality(pt, m, 0, keys, x);
	if (best_o < target) {
		/* Converge on the smallest λ that reaches the target; keep the closest seen, the
		 * smaller λ among equals, so errors stay as correlated as the table allows. */
		double lo = 0, hi = LAMBDA_MAX;
		double o = assign_quality(pt, m, hi, keys, x);
		if (fabs(o - target) < fabs(best_o - target))
			best_l = hi, best_o = o;
		for (int it = 0; it < LAMBDA_STEPS && o >= target && hi - lo > LAMBDA_TOL; it++) {
			double mid = 0.5 * (lo + hi);
			double om = assign_quality(pt, m, mid, keys, x);
			double dm = fabs(om - target), db = fabs(best_o - target);
			if (dm < db || (dm == db && mid < best_l))
				best_l = mid, best_o = om;
			if (om < target)
				lo = mid;
			else
				hi = mid;
		}
	}
	ti->task = rbe_gen_paper_tasks[pt->t];
	ti->noise = best_l;
	ti->oracle_target = target;
	ti->oracle_got = assign_quality(pt, m, best_l, keys, x);
}

/* Token counts: per split part, the prompt tokens sum to P̄·n_part (P̄ is the largest mean prompt
 * length every model's Table 1 cost leaves room for), and each model's completion tokens sum to
 * what its Table 1 cost per query leaves after the prompt, so cost means match by construction. */
static void assign_tokens(ptask *pt, uint32_t m, uint64_t seed, keyed *keys)
{
	const int t = pt->t;
	const double n_test = (double)rbe_gen_paper_n_test(t);
	double pbar = INFINITY;
	for (uint32_t j = 0; j < m; j++) {
		double per_query = rbe_gen_table1[j][t].cost_total_usd / n_test * 1e6; /* USD·1e6 */
		double room = (per_query - MIN_COMPLETION_MEAN * rbe_gen_paper_prices[j][1]) / rbe_gen_paper_prices[j][0];
		pbar = room < pbar ? room : pbar;
	}
	if (pbar < 8)
		pbar = 8;
	size_t maxp = pt->np[0] > pt->np[1] ? pt->np[0] : pt->np[1];
	double *w = rbe_xmalloc((maxp ? maxp : 1) * sizeof(double));
	uint32_t *out = rbe_xmalloc((maxp ? maxp : 1) * sizeof(uint32_t));
	double *cw = rbe_xmalloc(pt->n * m * sizeof(double));
	grng g;
	grng_seed(&g, seed, S_COMPLETION, (uint64_t)t);
	for (size_t i = 0; i < pt->n; i++)
		for (uint32_t j = 0; j < m; j++)
			cw[i * m + j] = exp(0.35 * pt->d[i] + 0.3 * gnorm(&g));
	for (int p = 0; p < 2; p++) {
		size_t np = pt->np[p];
		if (!np)
			continue;
		const uint32_t *idx = pt->part[p];
		for (size_t k = 0; k < np; k++)
			w[k] = pt->words[idx[k]];
		distribute(w, np, (uint64_t)llround(pbar * (double)np), out, keys);
		double psum = 0;
		for (size_t k = 0; k < np; k++) {
			pt->ptok[idx[k]] = out[k];
			psum += out[k];
		}
		for (uint32_t j = 0; j < m; j++) {
			double per_query = rbe_gen_table1[j][t].cost_total_usd / n_test * 1e6;
			double ct = (per_query * (double)np - rbe_gen_paper_prices[j][0] * psum) / rbe_gen_paper_prices[j][1];
			uint64_t total = ct > (double)np ? (uint64_t)llround(ct) : np;
			for (size_t k = 0; k < np; k++)
				w[k] = cw[(size_t)idx[k] * m + j];
			distribute(w, np, total, out, keys);
			for (size_t k = 0; k < np; k++)
				pt->ctok[(size_t)idx[k] * m + j] = out[k];
		}
	}
	free(cw);
	free(w);
	free(out);
}

static void plan_task(ptask *pt, int t, uint32_t m, const rbe_gen_opts *o)
{
	memset(pt, 0, sizeof(*pt));
	size_t n = rbe_gen_paper_counts[t];
	pt->t = t;
	pt->n = n;
	pt->graded = !strcmp(rbe_gen_paper_tasks[t], "mt-bench");
	pt->n_topics = rbe_gen_topic_count[t];
	pt->topic = rbe_xcalloc(n, sizeof(uint32_t));
	pt->sub = rbe_xcalloc(n, sizeof(uint32_t));
	pt->words = rbe_xcalloc(n, sizeof(uint32_t));
	pt->d = rbe_xcalloc(n, sizeof(double));
	pt->eps = rbe_xcalloc(n * m, sizeof(double));
	pt->ab = rbe_xcalloc((size_t)m * pt->n_topics, sizeof(double));
	pt->is_train = rbe_xcalloc(n, 1);
	pt->q = rbe_xcalloc(n * m, sizeof(float));
	pt->ptok = rbe_xcalloc(n, sizeof(uint32_t));
	pt->ctok = rbe_xcalloc(n * m, sizeof(uint32_t));

	grng g;
	grng_seed(&g, o->seed, S_LATENT, (uint64_t)t);
	if (t == 0) { /* mmlu: subjects in order, each its own topic */
		size_t i = 0;
		for (uint32_t s = 0; s < RBE_GEN_MMLU_SUBJECTS; s++)
			for (uint32_t k = 0; k < rbe_gen_mmlu_counts[s]; k++, i++)
				pt->topic[i] = pt->sub[i] = s;
		rbe_require(i == n);
	} else if (pt->graded) { /* MT-Bench: eight categories of ten questions */
		for (size_t i = 0; i < n; i++)
			pt->topic[i] = (uint32_t)(i / 10 < pt->n_topics ? i / 10 : pt->n_topics - 1);
	} else {
		for (size_t i = 0; i < n; i++)
			pt->topic[i] = (uint32_t)rb_rng_below(&g.r, pt->n_topics);
	}
	for (size_t i = 0; i < n; i++)
		pt->d[i] = gnorm(&g);

	grng_seed(&g, o->seed, S_NOISE, (uint64_t)t);
	for (size_t k = 0; k < n * m; k++)
		pt->eps[k] = gnorm(&g);
	grng_seed(&g, o->seed, S_ABILITY, (uint64_t)t);
	for (size_t k = 0; k < (size_t)m * pt->n_topics; k++)
		pt->ab[k] = gnorm(&g);
	grng_seed(&g, o->seed, S_WORDS, (uint64_t)t);
	for (size_t i = 0; i < n; i++) {
		long w = (long)base_words[t] + lround(3.0 * pt->d[i] + 1.5 * gnorm(&g));
		pt->words[i] = (uint32_t)(w < 6 ? 6 : w > 48 ? 48 : w);
	}

	rbe_split_assign(n, o->split_seed, o->train_fraction, pt->is_train);
	for (size_t i = 0; i < n; i++)
		pt->np[pt->is_train[i] ? 1 : 0]++;
	pt->part[0] = rbe_xcalloc(pt->np[0] ? pt->np[0] : 1, sizeof(uint32_t));
	pt->part[1] = rbe_xcalloc(pt->np[1] ? pt->np[1] : 1, sizeof(uint32_t));
	size_t c[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		int p = pt->is_train[i] ? 1 : 0;
		pt->part[p][c[p]++] = (uint32_t)i;
	}
}

static void vocab_paper(vocab_set *v, int t)
{
	memset(v, 0, sizeof(*v));
	vocab_common(v);
	wl_init(&v->task, NULL, rbe_gen_task_vocab[t].words);
	v->n_topics = rbe_gen_topic_count[t];
	v->topic = rbe_xcalloc(v->n_topics, sizeof(wordlist));
	for (uint32_t k = 0; k < v->n_topics; k++) {
		const rbe_gen_vocab *tv = &rbe_gen_topic_vocab[t][k];
		/* MMLU subjects show their own name's words too, as real questions name their field. */
		wl_init(&v->topic[k], t == 0 ? tv->name : NULL, tv->words);
	}
}

static int add_paper_task(rbe_builder *b, const ptask *pt, uint32_t m, const rbe_gen_opts *o, rbe_error *e)
{
	const int t = pt->t;
	vocab_set v;
	vocab_paper(&v, t);
	grng g, gr;
	grng_seed(&g, o->seed, S_TEXT, (uint64_t)t);
	grng_seed(&gr, o->seed, S_RESPONSE, (uint64_t)t);
	sbuf text = {0}, resp = {0};
	char id[160], eval[96];
	double *cost = rbe_xmalloc(m * sizeof(double));
	const char **rptr = rbe_xmalloc(m * sizeof(char *));
	size_t *roff = rbe_xmalloc(m * sizeof(size_t));
	int rc = 0;
	uint32_t prev_sub = UINT32_MAX;
	size_t k_in_eval = 0;
	for (size_t i = 0; i < pt->n && rc == 0; i++) {
		if (t == 0) {
			if (pt->sub[i] != prev_sub)
				k_in_eval = 0, prev_sub = pt->sub[i];
			snprintf(eval, sizeof(eval), "mmlu-%s", rbe_gen_mmlu_subjects[pt->sub[i]]);
		} else {
			if (i == 0)
				k_in_eval = 0;
			snprintf(eval, sizeof(eval), "%s", rbe_gen_paper_tasks[t]);
		}
		snprintf(id, sizeof(id), "%s.gen.%zu", eval, k_in_eval++);
		int level = level_of(pt->d[i], &g);
		make_prompt(&text, &v, pt->topic[i], level, pt->words[i], 0.30, &g);
		for (uint32_t j = 0; j < m; j++)
			cost[j] = ((double)pt->ptok[i] * rbe_gen_paper_prices[j][0] +
				   (double)pt->ctok[i * m + j] * rbe_gen_paper_prices[j][1]) / 1e6;
		if (o->responses) {
			resp.len = 0;
			for (uint32_t j = 0; j < m; j++) {
				roff[j] = resp.len;
				make_response(&resp, &v, pt->topic[i], pt->ctok[i * m + j], 24, &gr);
			}
			for (uint32_t j = 0; j < m; j++)
				rptr[j] = resp.p + roff[j];
		}
		rbe_sample_in s = {
			.sample_id = id,
			.eval_name = eval,
			.prompt = text.p,
			.quality = pt->q + i * m,
			.cost = cost,
			.responses = o->responses ? rptr : NULL,
			.prompt_tokens = pt->ptok[i],
			.completion_tokens = pt->ctok + i * m,
		};
		rc = rbe_builder_add(b, &s, e);
	}
	free(text.p);
	free(resp.p);
	free(cost);
	free(rptr);
	free(roff);
	vocab_free(&v);
	return rc;
}

static int build_paper(const rbe_gen_opts *o, rbe_builder *b, rbe_gen_info *info, rbe_error *e)
{
	const uint32_t m = RBE_GEN_PAPER_MODELS;
	size_t maxn = 0;
	for (int t = 0; t < RBE_GEN_PAPER_TASKS; t++)
		maxn = rbe_gen_paper_counts[t] > maxn ? rbe_gen_paper_counts[t] : maxn;
	keyed *keys = rbe_xmalloc(maxn * sizeof(keyed));
	int *x = rbe_xmalloc(maxn * sizeof(int));
	int rc = 0;
	info->n_tasks = RBE_GEN_PAPER_TASKS;
	for (int t = 0; t < RBE_GEN_PAPER_TASKS && rc == 0; t++) {
		ptask pt;
		plan_task(&pt, t, m, o);
		tune_task(&pt, m, keys, x, &info->task[t]);
		assign_tokens(&pt, m, o->seed, keys);
		rc = add_paper_task(b, &pt, m, o, e);
		ptask_free(&pt);
	}
	free(keys);
	free(x);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The synthetic preset: any size, the same latent structure, outcomes drawn directly. */

#define SYN_TOPICS 8
#define SYN_TASK_WORDS 4
#define SYN_TOPIC_WORDS 6

/* A pronounceable made-up word, the same for the same (task, slot) whatever the seed, so two
 * synthetic datasets share their vocabulary. */
static void pseudo_word(char *out, uint64_t task, uint64_t slot)
{
	static const char cons[] = "bdfgklmnprstvz", vow[] = "aeiou";
	uint64_t h = mix3(0x766f636162ull, task, slot);
	int syl = 2 + (int)(h % 2);
	h /= 2;
	char *p = out;
	for (int s = 0; s < syl; s++) {
		*p++ = cons[h % (sizeof(cons) - 1)];
		h /= sizeof(cons) - 1;
		*p++ = vow[h % (sizeof(vow) - 1)];
		h /= sizeof(vow) - 1;
	}
	*p++ = cons[h % (sizeof(cons) - 1)];
	*p = '\0';
}

static void vocab_synthetic(vocab_set *v, uint32_t t)
{
	memset(v, 0, sizeof(*v));
	vocab_common(v);
	char buf[SYN_TOPIC_WORDS * 12 + 1], word[12];
	buf[0] = '\0';
	for (uint32_t k = 0; k < SYN_TASK_WORDS; k++) {
		pseudo_word(word, t, k);
		if (k)
			strcat(buf, " ");
		strcat(buf, word);
	}
	wl_init(&v->task, NULL, buf);
	v->n_topics = SYN_TOPICS;
	v->topic = rbe_xcalloc(SYN_TOPICS, sizeof(wordlist));
	for (uint32_t k = 0; k < SYN_TOPICS; k++) {
		buf[0] = '\0';
		for (uint32_t w = 0; w < SYN_TOPIC_WORDS; w++) {
			pseudo_word(word, t, 64 + (uint64_t)k * 16 + w);
			if (w)
				strcat(buf, " ");
			strcat(buf, word);
		}
		wl_init(&v->topic[k], NULL, buf);
	}
}

/* Models beyond the paper's eleven: prices spread over the paper's range (prompt 0.2–10 USD per
 * 1M tokens, completion 1–3× that), placed by the golden ratio so every prefix is spread. */
static void synthetic_price(uint32_t j, double *pp, double *cp)
{
	if (j < RBE_GEN_PAPER_MODELS) {
		*pp = rbe_gen_paper_prices[j][0];
		*cp = rbe_gen_paper_prices[j][1];
		return;
	}
	double f = fmod(0.5 + (double)(j - RBE_GEN_PAPER_MODELS) * 0.6180339887498949, 1.0);
	*pp = round(0.2 * pow(50.0, f) * 1000.0) / 1000.0;
	*cp = *pp * (double)(1 + j % 3);
}

static int build_synthetic(const rbe_gen_opts *o, rbe_builder *b, double *const prices[2], rbe_error *e)
{
	const uint32_t m = o->n_models, T = o->n_tasks;
	double *base = rbe_xmalloc(m * sizeof(double)), *verb = rbe_xmalloc(m * sizeof(double));
	grng g;
	grng_seed(&g, o->seed, S_MODELS, 0);
	for (uint32_t j = 0; j < m; j++) {
		double ability;
		if (j < RBE_GEN_PAPER_MODELS) {
			double mean = 0;
			for (int t = 0; t < RBE_GEN_PAPER_TASKS; t++)
				mean += rbe_gen_table1[j][t].quality / RBE_GEN_PAPER_TASKS;
			ability = 2.5 * (mean - 0.65);
		} else {
			/* dearer models are better on average, not always */
			double pos = log(prices[0][j] / 0.2) / log(50.0);
			ability = -0.3 + 0.7 * pos;
		}
		base[j] = ability + 0.3 * gnorm(&g);
		verb[j] = exp(0.4 * gnorm(&g));
	}
	double *ma = rbe_xmalloc((size_t)m * SYN_TOPICS * sizeof(double));
	double *cost = rbe_xmalloc(m * sizeof(double));
	float *q = rbe_xmalloc(m * sizeof(float));
	uint32_t *ctok = rbe_xmalloc(m * sizeof(uint32_t));
	const char **rptr = rbe_xmalloc(m * sizeof(char *));
	size_t *roff = rbe_xmalloc(m * sizeof(size_t));
	sbuf text = {0}, resp = {0};
	char id[64], eval[32];
	int rc = 0;
	for (uint32_t t = 0; t < T && rc == 0; t++) {
		size_t nt = o->n_prompts / T + (t < o->n_prompts % T ? 1 : 0);
		vocab_set v;
		vocab_synthetic(&v, t);
		grng_seed(&g, o->seed, S_TASK, t);
		for (uint32_t j = 0; j < m; j++) {
			double mu = base[j] + 0.4 * gnorm(&g);
			for (uint32_t k = 0; k < SYN_TOPICS; k++)
				ma[(size_t)j * SYN_TOPICS + k] = mu + 0.5 * gnorm(&g);
		}
		double tok_per_word = exp(log(1.3) + gunif(&g) * (log(40.0) - log(1.3)));
		double cbase = exp(log(2.0) + gunif(&g) * (log(300.0) - log(2.0)));
		snprintf(eval, sizeof(eval), "task-%u", t + 1);
		grng gr;
		grng_seed(&gr, o->seed, S_RESPONSE, t);
		for (size_t i = 0; i < nt && rc == 0; i++) {
			uint32_t topic = (uint32_t)rb_rng_below(&g.r, SYN_TOPICS);
			double d = gnorm(&g);
			long wl = 12 + lround(1.5 * d + gnorm(&g));
			uint32_t words = (uint32_t)(wl < 8 ? 8 : wl > 18 ? 18 : wl);
			make_prompt(&text, &v, topic, level_of(d, &g), words, 0.35, &g);
			uint32_t ptok = (uint32_t)fmax(1.0, round(tok_per_word * words));
			double len = cbase * exp(0.3 * d);
			for (uint32_t j = 0; j < m; j++) {
				uint64_t r = rb_rng_next(&g.r);
				double u1 = (double)(r >> 32) * 0x1.0p-32, u2 = (double)(r & 0xffffffffu) * 0x1.0p-32;
				double z = ma[(size_t)j * SYN_TOPICS + topic] - d;
				q[j] = u1 * (1.0 + exp(-1.7 * z)) < 1.0 ? 1.0f : 0.0f;
				double c = round(len * verb[j] * (0.5 + u2));
				ctok[j] = c < 1 ? 1 : c > 1e6 ? 1000000u : (uint32_t)c;
				cost[j] = ((double)ptok * prices[0][j] + (double)ctok[j] * prices[1][j]) / 1e6;
			}
			if (o->responses) {
				resp.len = 0;
				for (uint32_t j = 0; j < m; j++) {
					roff[j] = resp.len;
					make_response(&resp, &v, topic, ctok[j], 6, &gr);
				}
				for (uint32_t j = 0; j < m; j++)
					rptr[j] = resp.p + roff[j];
			}
			snprintf(id, sizeof(id), "%s.gen.%zu", eval, i);
			rbe_sample_in s = {
				.sample_id = id,
				.eval_name = eval,
				.prompt = text.p,
				.quality = q,
				.cost = cost,
				.responses = o->responses ? rptr : NULL,
				.prompt_tokens = ptok,
				.completion_tokens = ctok,
			};
			rc = rbe_builder_add(b, &s, e);
		}
		vocab_free(&v);
	}
	free(text.p);
	free(resp.p);
	free(base);
	free(verb);
	free(ma);
	free(cost);
	free(q);
	free(ctok);
	free(rptr);
	free(roff);
	return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Options and the entry point. */

void rbe_gen_opts_init(rbe_gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->preset = RBE_GEN_ROUTERBENCH;
	o->seed = 1;
	o->n_prompts = 100000;
	o->n_models = 11;
	o->n_tasks = 7;
	o->split_seed = 42;
	o->train_fraction = 0.7;
}

int rbe_gen_preset_parse(const char *name, rbe_gen_preset *out)
{
	if (!strcmp(name, "routerbench"))
		*out = RBE_GEN_ROUTERBENCH;
	else if (!strcmp(name, "synthetic"))
		*out = RBE_GEN_SYNTHETIC;
	else
		return -EINVAL;
	return 0;
}

const char *rbe_gen_preset_name(rbe_gen_preset p)
{
	return p == RBE_GEN_SYNTHETIC ? "synthetic" : "routerbench";
}

int rbe_gen_build(const rbe_gen_opts *o, rbe_dataset **out, rbe_gen_info *info, rbe_error *e)
{
	if (o->preset != RBE_GEN_ROUTERBENCH && o->preset != RBE_GEN_SYNTHETIC)
		return rbe_fail(e, -EINVAL, "unknown generator preset %d", (int)o->preset);
	if (!(o->train_fraction > 0 && o->train_fraction < 1))
		return rbe_fail(e, -EINVAL, "train fraction %g is not between 0 and 1", o->train_fraction);
	if (o->preset == RBE_GEN_SYNTHETIC) {
		if (o->n_prompts < 1 || o->n_prompts > RBE_GEN_MAX_PROMPTS)
			return rbe_fail(e, -EINVAL, "prompts must be between 1 and %zu, not %zu",
					RBE_GEN_MAX_PROMPTS, o->n_prompts);
		if (o->n_models < 1 || o->n_models > RBE_GEN_MAX_MODELS)
			return rbe_fail(e, -EINVAL, "models must be between 1 and %u, not %u",
					RBE_GEN_MAX_MODELS, o->n_models);
		if (o->n_tasks < 1 || o->n_tasks > o->n_prompts)
			return rbe_fail(e, -EINVAL, "tasks must be between 1 and the number of prompts (%zu), not %u",
					o->n_prompts, o->n_tasks);
	}
	rbe_gen_info local;
	if (!info)
		info = &local;
	memset(info, 0, sizeof(*info));

	int rc;
	rbe_builder *b;
	if (o->preset == RBE_GEN_ROUTERBENCH) {
		b = rbe_builder_new(RBE_GEN_PAPER_MODELS, rbe_gen_paper_models);
		rbe_builder_want_tokens(b);
		if (o->responses)
			rbe_builder_want_responses(b);
		rbe_builder_set_name(b, "routerbench");
		rc = build_paper(o, b, info, e);
	} else {
		uint32_t m = o->n_models;
		char **names = rbe_xcalloc(m, sizeof(char *));
		double *prices[2] = {rbe_xmalloc(m * sizeof(double)), rbe_xmalloc(m * sizeof(double))};
		for (uint32_t j = 0; j < m; j++) {
			if (j < RBE_GEN_PAPER_MODELS) {
				names[j] = rbe_xstrdup(rbe_gen_paper_models[j]);
			} else {
				char buf[32];
				snprintf(buf, sizeof(buf), "model-%u", j + 1);
				names[j] = rbe_xstrdup(buf);
			}
			synthetic_price(j, &prices[0][j], &prices[1][j]);
		}
		b = rbe_builder_new(m, (const char *const *)names);
		rbe_builder_want_tokens(b);
		if (o->responses)
			rbe_builder_want_responses(b);
		rbe_builder_set_name(b, "synthetic");
		rbe_builder_reserve(b, o->n_prompts);
		rc = build_synthetic(o, b, prices, e);
		for (uint32_t j = 0; j < m; j++)
			free(names[j]);
		free(names);
		free(prices[0]);
		free(prices[1]);
	}
	if (rc < 0) {
		rbe_builder_free(b);
		return rc;
	}
	rbe_dataset *ds = NULL;
	rc = rbe_builder_finish(b, &ds, e);
	if (rc < 0)
		return rc;
	*out = ds;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Calibration report. */

void rbe_gen_calib_free(rbe_gen_calib *c)
{
	if (!c)
		return;
	for (uint32_t j = 0; j < c->n_models; j++)
		free(c->model_names[j]);
	free(c->model_names);
	for (uint32_t g = 0; g < c->n_groups; g++) {
		rbe_gen_calib_group *gr = &c->groups[g];
		free(gr->name);
		free(gr->quality_test);
		free(gr->cost_test);
		free(gr->quality_all);
		free(gr->cost_all);
	}
	free(c->groups);
	free(c);
}

int rbe_gen_calibration(const rbe_dataset *ds, uint32_t split_seed, double train_fraction,
			rbe_gen_calib **out, rbe_error *e)
{
	rbe_grouping grouping;
	memset(&grouping, 0, sizeof(grouping));
	rbe_grouping_default(&grouping);
	rbe_split *s = NULL;
	int rc = rbe_split_make(ds, &grouping, split_seed, train_fraction, &s, e);
	rbe_grouping_clear(&grouping);
	if (rc < 0)
		return rc;
	const uint32_t m = ds->n_models;
	rbe_gen_calib *c = rbe_xcalloc(1, sizeof(*c));
	c->n_models = m;
	c->model_names = rbe_xcalloc(m, sizeof(char *));
	for (uint32_t j = 0; j < m; j++)
		c->model_names[j] = rbe_xstrdup(ds->model_names[j]);
	c->n_groups = s->n_groups;
	c->groups = rbe_xcalloc(s->n_groups ? s->n_groups : 1, sizeof(rbe_gen_calib_group));
	for (uint32_t g = 0; g < s->n_groups; g++) {
		rbe_gen_calib_group *gr = &c->groups[g];
		gr->name = rbe_xstrdup(s->group_names[g]);
		gr->quality_test = rbe_xcalloc(m, sizeof(double));
		gr->cost_test = rbe_xcalloc(m, sizeof(double));
		gr->quality_all = rbe_xcalloc(m, sizeof(double));
		gr->cost_all = rbe_xcalloc(m, sizeof(double));
	}
	for (size_t i = 0; i < ds->n; i++) {
		rbe_gen_calib_group *gr = &c->groups[s->group_of[i]];
		const int test = !s->is_train[i];
		const float *qr = ds->quality + i * m;
		const double *cr = ds->cost + i * m;
		int best = -1;
		for (uint32_t j = 0; j < m; j++) {
			gr->quality_all[j] += qr[j];
			gr->cost_all[j] += cr[j];
			if (test) {
				gr->quality_test[j] += qr[j];
				gr->cost_test[j] += cr[j];
			}
			if (best < 0 || qr[j] > qr[best] || (qr[j] == qr[best] && cr[j] < cr[best]))
				best = (int)j;
		}
		double bq = qr[best], bc = bq > 0 ? cr[best] : 0;
		gr->n++;
		gr->oracle_quality_all += bq;
		gr->oracle_cost_all += bc;
		if (test) {
			gr->n_test++;
			gr->oracle_quality_test += bq;
			gr->oracle_cost_test += bc;
		}
	}
	for (uint32_t g = 0; g < c->n_groups; g++) {
		rbe_gen_calib_group *gr = &c->groups[g];
		for (uint32_t j = 0; j < m; j++) {
			gr->quality_all[j] /= gr->n ? (double)gr->n : 1;
			gr->quality_test[j] /= gr->n_test ? (double)gr->n_test : 1;
		}
		gr->oracle_quality_all /= gr->n ? (double)gr->n : 1;
		gr->oracle_quality_test /= gr->n_test ? (double)gr->n_test : 1;
	}
	rbe_split_free(s);
	*out = c;
	return 0;
}

static void print_row(FILE *out, const char *task, const char *model, double q, double qt,
		      const rbe_gen_cell *ref, double cost, size_t n_used)
{
	if (ref) {
		/* per-query ratio, so the column stays meaningful for other split fractions */
		int t = rbe_gen_paper_task_index(task);
		double want = ref->cost_total_usd / (double)rbe_gen_paper_n_test(t);
		double got = n_used ? cost / (double)n_used : 0;
		fprintf(out, "%-18s %-34s %7.4f %7.3f %+7.4f %7.4f %10.4f %9.3f %6.3f\n", task, model, q,
			ref->quality, q - ref->quality, qt, cost, ref->cost_total_usd, want > 0 ? got / want : 0);
	} else {
		fprintf(out, "%-18s %-34s %7.4f %7s %7s %7.4f %10.4f %9s %6s\n", task, model, q, "-", "-",
			qt, cost, "-", "-");
	}
}

void rbe_gen_calib_print(const rbe_gen_calib *c, const rbe_gen_info *info, FILE *out)
{
	fprintf(out, "# generated vs Table 1: quality and cost_total over the test split "
		     "(mt-bench: all 80 questions, as in Table 1); q_test = test-split mean;\n"
		     "# ratio = generated cost per query / Table 1's (cost_total / its test-split size)\n");
	fprintf(out, "%-18s %-34s %7s %7s %7s %7s %10s %9s %6s\n", "task", "model", "quality", "paper",
		"delta", "q_test", "cost_total", "paper", "ratio");
	for (uint32_t g = 0; g < c->n_groups; g++) {
		const rbe_gen_calib_group *gr = &c->groups[g];
		int all = !strcmp(gr->name, "mt-bench");
		size_t n_used = all ? gr->n : gr->n_test;
		for (uint32_t j = 0; j < c->n_models; j++)
			print_row(out, gr->name, c->model_names[j], all ? gr->quality_all[j] : gr->quality_test[j],
				  gr->quality_test[j], rbe_gen_table1_lookup(c->model_names[j], gr->name),
				  all ? gr->cost_all[j] : gr->cost_test[j], n_used);
		print_row(out, gr->name, "oracle", all ? gr->oracle_quality_all : gr->oracle_quality_test,
			  gr->oracle_quality_test, rbe_gen_table1_lookup("oracle", gr->name),
			  all ? gr->oracle_cost_all : gr->oracle_cost_test, n_used);
		fprintf(out, "%-18s n=%zu n_test=%zu", gr->name, gr->n, gr->n_test);
		if (info)
			for (uint32_t t = 0; t < info->n_tasks; t++)
				if (info->task[t].task && !strcmp(info->task[t].task, gr->name))
					fprintf(out, " noise_lambda=%.4f", info->task[t].noise);
		fprintf(out, "\n");
	}
}
