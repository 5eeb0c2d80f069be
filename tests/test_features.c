/* test_features.c — hashed TF-IDF against a reference written from docs/features.md, its
 * properties (determinism, norms, similarity, idf), embeddings, and rbctl featurize. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/features.h"
#include "helpers.h"
#include "data/rbds_format.h"
#include "lib/util.h"

extern char **environ;


/* ---- a second implementation, written from the document, not from data/features.c ---- */

static uint64_t ref_hash(char kind, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h ^= (unsigned char)kind;
	h *= 0x100000001b3ull;
	for (size_t k = 0; k < len; k++) {
		h ^= (unsigned char)s[k];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

typedef struct ref_counts {
	uint32_t dim;
	uint32_t *pos, *neg; /* [dim] occurrences per bucket and sign */
} ref_counts;

static void ref_term(ref_counts *c, char kind, const char *s, size_t len)
{
	uint64_t h = ref_hash(kind, s, len);
	uint32_t b = (uint32_t)(h & 0xffffffffu) % c->dim;
	if (h >> 63)
		c->neg[b]++;
	else
		c->pos[b]++;
}

static int ref_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static void ref_terms(ref_counts *c, const char *prompt)
{
	size_t len = strlen(prompt);
	char *low = strdup(prompt);
	for (size_t k = 0; k < len; k++)
		if (low[k] >= 'A' && low[k] <= 'Z')
			low[k] = (char)(low[k] - 'A' + 'a');
	/* the words, and T = " w1 w2 ... wm " */
	char *t = calloc(len + 3, 1);
	size_t tl = 0, nw = 0, *ws = calloc(len + 1, sizeof(size_t)), *wl = calloc(len + 1, sizeof(size_t));
	for (size_t k = 0; k < len;) {
		if (!ref_word_char((unsigned char)low[k])) {
			k++;
			continue;
		}
		size_t s = k;
		while (k < len && ref_word_char((unsigned char)low[k]))
			k++;
		ws[nw] = s;
		wl[nw] = k - s;
		nw++;
	}
	if (nw) {
		t[tl++] = ' ';
		for (size_t w = 0; w < nw; w++) {
			memcpy(t + tl, low + ws[w], wl[w]);
			tl += wl[w];
			t[tl++] = ' ';
		}
	}
	char pair[8192];
	for (size_t w = 0; w < nw; w++) {
		ref_term(c, 'u', low + ws[w], wl[w]);
		if (w + 1 < nw) {
			int n = snprintf(pair, sizeof(pair), "%.*s %.*s", (int)wl[w], low + ws[w], (int)wl[w + 1],
					 low + ws[w + 1]);
			ref_term(c, 'b', pair, (size_t)n);
		}
	}
	/* characters of T: every byte that is not 10xxxxxx starts one */
	size_t *cs = calloc(tl + 1, sizeof(size_t)), nc = 0;
	for (size_t k = 0; k < tl; k++)
		if (((unsigned char)t[k] >> 6) != 2)
			cs[nc++] = k;
	cs[nc] = tl;
	for (size_t n = 3; n <= 5; n++)
		for (size_t s = 0; s + n <= nc; s++)
			ref_term(c, 'c', t + cs[s], cs[s + n] - cs[s]);
	free(cs);
	free(t);
	free(ws);
	free(wl);
	free(low);
}

/* Rows in double, straight from the formulas. */
static double *ref_tfidf(const char *const *prompts, size_t n, uint32_t dim, double *idf)
{
	double *v = calloc(n * dim, sizeof(double));
	uint32_t *df = calloc(dim, sizeof(uint32_t));
	ref_counts c = {dim, calloc(dim, 4), calloc(dim, 4)};
	for (size_t i = 0; i < n; i++) {
		memset(c.pos, 0, dim * 4);
		memset(c.neg, 0, dim * 4);
		ref_terms(&c, prompts[i]);
		for (uint32_t b = 0; b < dim; b++) {
			double x = 0;
			if (c.pos[b])
				x += 1 + log(c.pos[b]);
			if (c.neg[b])
				x -= 1 + log(c.neg[b]);
			/* the library keeps v as float32 between its two passes */
			v[i * dim + b] = (float)x;
			df[b] += c.pos[b] || c.neg[b];
		}
	}
	for (uint32_t b = 0; b < dim; b++)
		idf[b] = log((1.0 + n) / (1.0 + df[b])) + 1.0;
	for (size_t i = 0; i < n; i++) {
		double ss = 0;
		for (uint32_t b = 0; b < dim; b++) {
			v[i * dim + b] *= idf[b];
			ss += v[i * dim + b] * v[i * dim + b];
		}
		for (uint32_t b = 0; b < dim && ss > 0; b++)
			v[i * dim + b] /= sqrt(ss);
	}
	free(df);
	free(c.pos);
	free(c.neg);
	return v;
}

static const char *const mixed_prompts[] = {
	"Hello, World!",
	"hello world hello hello",
	"The cat sat on the mat. The cat!",
	"\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	"?!...",
	"",
	"a",
	"ab",
	"abc def",
	"Question: what is 12 * 7?\nAnswer with a number.\tA) 84 B) 74",
	"x y z w v u t s r q p o n m l k j i h g f e d c b a 0 1 2 3",
	"stray continuation \x80\x80 bytes \xff and CAPS",
	"HELLO WORLD",
};
#define N_MIXED (sizeof(mixed_prompts) / sizeof(mixed_prompts[0]))

static float *tfidf_or_fail(const char *const *p, size_t n, uint32_t dim, unsigned threads, float *idf,
			    rbe_tfidf_stats *st)
{
	float *out = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_features_tfidf_prompts(p, n, dim, threads, &out, idf, st, &e), 0, "%s", e.msg);
	return out;
}

static double dot(const float *a, const float *b, uint32_t dim)
{
	double s = 0;
	for (uint32_t k = 0; k < dim; k++)
		s += (double)a[k] * b[k];
	return s;
}

/* The hash values docs/features.md lists as test vectors. */
Test(features, documented_hash_vectors)
{
	static const struct {
		char kind;
		const char *text;
		uint64_t hash;
		uint32_t bucket256;
		int sign;
	} v[] = {
		{'u', "hello", 0x0555c4c59f0d503aull, 58, 1},
		{'b', "hello world", 0xb2a046bce9063e3bull, 59, -1},
		{'c', " he", 0xecfa63f146068c85ull, 133, -1},
		{'c', "wor", 0xa7f5169e1131a241ull, 65, -1},
		{'u', "caf\xc3\xa9", 0xf21b24da2eddbf67ull, 103, -1},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		size_t len = strlen(v[k].text);
		cr_assert_eq(rbe_tfidf_hash(v[k].kind, v[k].text, len), v[k].hash, "%c '%s'", v[k].kind, v[k].text);
		cr_assert_eq(ref_hash(v[k].kind, v[k].text, len), v[k].hash);
		uint32_t b;
		int s;
		rbe_tfidf_bucket(v[k].kind, v[k].text, len, 256, &b, &s);
		cr_assert_eq(b, v[k].bucket256, "%c '%s': bucket %u", v[k].kind, v[k].text, b);
		cr_assert_eq(s, v[k].sign);
	}
}

Test(features, matches_the_documented_definition)
{
	const uint32_t dims[] = {16, 256, 1000, 4096};
	for (size_t d = 0; d < 4; d++) {
		uint32_t dim = dims[d];
		float *idf = calloc(dim, sizeof(float));
		double *ridf = calloc(dim, sizeof(double));
		float *got = tfidf_or_fail(mixed_prompts, N_MIXED, dim, 1, idf, NULL);
		double *want = ref_tfidf(mixed_prompts, N_MIXED, dim, ridf);
		for (uint32_t b = 0; b < dim; b++)
			cr_assert_float_eq(idf[b], ridf[b], 1e-6, "dim %u idf[%u]", dim, b);
		for (size_t k = 0; k < N_MIXED * dim; k++)
			cr_assert_float_eq(got[k], want[k], 1e-6, "dim %u prompt %zu bucket %zu: %g vs %g", dim,
					   k / dim, k % dim, got[k], want[k]);
		free(got);
		free(want);
		free(idf);
		free(ridf);
	}
}

/* Many varied prompts, so every thread gets several blocks. */
static char **many_prompts(size_t n)
{
	static const char *const words[] = {"alpha", "beta", "Gamma", "delta", "eps", "zeta", "eta",
					     "theta", "iota", "kappa", "lambda", "mu", "caf\xc3\xa9", "42"};
	char **p = calloc(n, sizeof(char *));
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) {
		char buf[512];
		size_t len = 0;
		int nw = (int)(i % 37);
		for (int w = 0; w < nw; w++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", words[x % 14], (x >> 8) % 5 ? " " : ", ");
		}
		buf[len] = '\0';
		p[i] = strdup(buf);
	}
	return p;
}

static void free_prompts(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

Test(features, deterministic_for_any_thread_count)
{
	size_t n = 5000;
	char **p = many_prompts(n);
	float *base = tfidf_or_fail((const char *const *)p, n, 256, 1, NULL, NULL);
	const unsigned threads[] = {1, 2, 3, 8, 0};
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		rbe_tfidf_stats st;
		float *again = tfidf_or_fail((const char *const *)p, n, 256, threads[t], NULL, &st);
		cr_assert_eq(memcmp(base, again, n * 256 * sizeof(float)), 0, "threads %u", threads[t]);
		if (threads[t])
			cr_assert_eq(st.threads, threads[t]);
		free(again);
	}
	free(base);
	free_prompts(p, n);
}

Test(features, rows_have_unit_norm_and_empty_prompts_zero_rows)
{
	rbe_tfidf_stats st;
	float *f = tfidf_or_fail(mixed_prompts, N_MIXED, 256, 0, NULL, &st);
	size_t empty = 0, nonzeros = 0;
	for (size_t i = 0; i < N_MIXED; i++) {
		const float *row = f + i * 256;
		double norm = sqrt(dot(row, row, 256));
		for (size_t k = 0; k < 256; k++)
			nonzeros += row[k] != 0;
		if (!strcmp(mixed_prompts[i], "") || !strcmp(mixed_prompts[i], "?!...")) {
			cr_assert_eq(norm, 0.0, "prompt %zu '%s' has no terms", i, mixed_prompts[i]);
			empty++;
		} else {
			cr_assert_float_eq(norm, 1.0, 1e-5, "prompt %zu '%s': norm %g", i, mixed_prompts[i], norm);
		}
	}
	cr_assert_eq(st.empty_rows, empty);
	cr_assert_eq(st.nonzeros, nonzeros);
	free(f);
}

Test(features, shared_words_mean_higher_cosine)
{
	const char *const p[] = {
		"How do I sort a list of integers in Python?",
		"Sort this list of integers in Python, please.",
		"What is the capital city of Australia?",
		"Explain photosynthesis in green plants.",
		"Who wrote the novel War and Peace?",
	};
	float *f = tfidf_or_fail(p, 5, 256, 0, NULL, NULL);
	double related = dot(f, f + 256, 256);
	for (int j = 2; j < 5; j++) {
		double unrelated = dot(f, f + j * 256, 256);
		cr_assert_gt(related, unrelated + 0.2, "cos(0,1) %g vs cos(0,%d) %g", related, j, unrelated);
	}
	free(f);
}

Test(features, identical_prompts_identical_rows_case_folded)
{
	const char *const p[] = {"Repeat after me: the rain in Spain.", "something else entirely",
				 "Repeat after me: the rain in Spain.", "REPEAT AFTER ME: THE RAIN IN SPAIN."};
	float *f = tfidf_or_fail(p, 4, 512, 0, NULL, NULL);
	cr_assert_eq(memcmp(f, f + 2 * 512, 512 * sizeof(float)), 0);
	cr_assert_eq(memcmp(f, f + 3 * 512, 512 * sizeof(float)), 0, "ASCII letters are lower-cased");
	cr_assert_neq(memcmp(f, f + 512, 512 * sizeof(float)), 0);
	free(f);
}

Test(features, idf_downweights_a_word_in_every_prompt)
{
	const char *const p[] = {"xylophone common", "quartz common", "jukebox common", "vivid common",
				 "marmalade common", "zephyr common"};
	uint32_t dim = 4096;
	float idf[4096];
	float *f = tfidf_or_fail(p, 6, dim, 0, idf, NULL);
	uint32_t bc, bx;
	int sc, sx;
	rbe_tfidf_bucket(RBE_TFIDF_UNIGRAM, "common", 6, dim, &bc, &sc);
	rbe_tfidf_bucket(RBE_TFIDF_UNIGRAM, "xylophone", 9, dim, &bx, &sx);
	/* df = N gives idf = ln(1) + 1 = 1; a word in one prompt of six gives ln(7/2) + 1. */
	cr_assert_float_eq(idf[bc], 1.0, 1e-6);
	cr_assert_float_eq(idf[bx], log(7.0 / 2.0) + 1.0, 1e-6, "xylophone's bucket is shared: %g", idf[bx]);
	/* Both appear once in prompt 0, so the weights differ by the idf alone. */
	cr_assert_float_eq(fabs(f[bx]) / fabs(f[bc]), idf[bx] / idf[bc], 1e-5, "%g %g", f[bx], f[bc]);
	cr_assert_eq(f[bc] > 0, sc > 0, "the sign bit applies");
	cr_assert_gt(fabs(f[bx]), fabs(f[bc]));
	free(f);
}

Test(features, bad_dimensions_refused)
{
	const char *const p[] = {"a b c"};
	float *out = (float *)&out;
	rbe_error e = {0};
	cr_assert_eq(rbe_features_tfidf_prompts(p, 1, 15, 0, &out, NULL, NULL, &e), -EINVAL);
	cr_assert(strstr(e.msg, "16..4096"), "%s", e.msg);
	cr_assert_eq(rbe_features_tfidf_prompts(p, 1, 4097, 0, &out, NULL, NULL, &e), -EINVAL);
	cr_assert_eq(rbe_features_tfidf_prompts(p, 0, 256, 0, &out, NULL, NULL, &e), -EINVAL);
	cr_assert_eq(out, (float *)&out, "untouched on failure");
}

/* ---- datasets ---- */

enum { WITH_RESPONSES = 1, WITH_TOKENS = 2, WITH_FEATURES = 4 };

static rbe_dataset *make_ds(const char *const *prompts, size_t n, int with)
{
	const char *const models[] = {"small", "large"};
	rbe_builder *b = rbe_builder_new(2, models);
	rbe_builder_set_name(b, "tiny");
	if (with & WITH_RESPONSES)
		rbe_builder_want_responses(b);
	if (with & WITH_TOKENS)
		rbe_builder_want_tokens(b);
	if (with & WITH_FEATURES)
		rbe_builder_want_features(b, 3, "embedding");
	for (size_t i = 0; i < n; i++) {
		char id[32], r0[32], r1[32];
		snprintf(id, sizeof(id), "id-%zu", i);
		snprintf(r0, sizeof(r0), "small says %zu", i);
		snprintf(r1, sizeof(r1), "large says %zu", i);
		float q[2] = {(float)(i % 3) / 2.0f, 1.0f};
		double c[2] = {1e-5 * (double)(i + 1), 1e-3};
		const char *resp[2] = {r0, r1};
		uint32_t ct[2] = {(uint32_t)i, (uint32_t)(2 * i)};
		float feat[3] = {1, 2, (float)i};
		rbe_sample_in s = {.sample_id = id, .eval_name = i % 2 ? "gsm8k" : "mmlu-anatomy",
				   .prompt = prompts[i], .quality = q, .cost = c, .responses = resp,
				   .prompt_tokens = (uint32_t)(10 + i), .completion_tokens = ct, .features = feat};
		rbe_error e = {0};
		cr_assert_eq(rbe_builder_add(b, &s, &e), 0, "%s", e.msg);
	}
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), 0, "%s", e.msg);
	return ds;
}

/* An opened .rbds is named after its file's stem, so names are compared only in memory. */
static void assert_same_samples(const rbe_dataset *a, const rbe_dataset *b, int same_name)
{
	cr_assert_eq(a->n, b->n);
	cr_assert_eq(a->n_models, b->n_models);
	cr_assert_eq(a->n_evals, b->n_evals);
	if (same_name)
		cr_assert_str_eq(a->name, b->name);
	size_t m = a->n_models;
	for (size_t j = 0; j < m; j++)
		cr_assert_str_eq(a->model_names[j], b->model_names[j]);
	for (size_t i = 0; i < a->n; i++) {
		cr_assert_str_eq(a->sample_ids[i], b->sample_ids[i]);
		cr_assert_str_eq(a->prompts[i], b->prompts[i]);
		cr_assert_str_eq(a->eval_names[a->eval[i]], b->eval_names[b->eval[i]]);
	}
	cr_assert_eq(memcmp(a->quality, b->quality, a->n * m * sizeof(float)), 0);
	cr_assert_eq(memcmp(a->cost, b->cost, a->n * m * sizeof(double)), 0);
	cr_assert_eq(!a->responses, !b->responses);
	for (size_t k = 0; a->responses && k < a->n * m; k++)
		cr_assert_str_eq(a->responses[k], b->responses[k]);
	cr_assert_eq(!a->prompt_tokens, !b->prompt_tokens);
	cr_assert_eq(!a->completion_tokens, !b->completion_tokens);
	if (a->prompt_tokens)
		cr_assert_eq(memcmp(a->prompt_tokens, b->prompt_tokens, a->n * sizeof(uint32_t)), 0);
	if (a->completion_tokens)
		cr_assert_eq(memcmp(a->completion_tokens, b->completion_tokens, a->n * m * sizeof(uint32_t)), 0);
}

static const char *const ds_prompts[] = {"What is 2 + 2?", "Name a prime number.", "", "Translate 'chat' to English.",
					 "What is 2 + 2?"};

Test(features, dataset_with_features_keeps_everything_else)
{
	const int variants[] = {0, WITH_RESPONSES, WITH_TOKENS, WITH_RESPONSES | WITH_TOKENS | WITH_FEATURES};
	for (size_t v = 0; v < 4; v++) {
		rbe_dataset *ds = make_ds(ds_prompts, 5, variants[v]);
		float *f = NULL;
		rbe_error e = {0};
		cr_assert_eq(rbe_features_tfidf(ds, 64, &f, &e), 0, "%s", e.msg);
		rbe_dataset *out = NULL;
		cr_assert_eq(rbe_dataset_with_features(ds, 64, f, RBE_TFIDF_NAME, &out, &e), 0, "%s", e.msg);
		assert_same_samples(ds, out, 1);
		cr_assert_eq(out->feature_dim, 64);
		cr_assert_str_eq(out->feature_name, "tfidf");
		cr_assert_eq(memcmp(out->features, f, 5 * 64 * sizeof(float)), 0);
		rbe_dataset_free(out);
		free(f);
		rbe_dataset_free(ds);
	}
}

Test(features, dataset_with_features_refusals)
{
	rbe_dataset *ds = make_ds(ds_prompts, 5, 0);
	float f[5 * 2] = {0};
	rbe_dataset *out = (rbe_dataset *)&out;
	rbe_error e = {0};
	cr_assert_eq(rbe_dataset_with_features(ds, 2, f, "any", &out, &e), -EINVAL);
	cr_assert(strstr(e.msg, "reserved"), "%s", e.msg);
	cr_assert_eq(rbe_dataset_with_features(ds, 2, f, "", &out, &e), -EINVAL);
	cr_assert_eq(rbe_dataset_with_features(ds, 2, f, "has space", &out, &e), -EINVAL);
	f[7] = NAN;
	cr_assert_eq(rbe_dataset_with_features(ds, 2, f, "embedding", &out, &e), -EINVAL);
	cr_assert(strstr(e.msg, "id-3") && strstr(e.msg, "feature 1"), "%s", e.msg);
	cr_assert_eq(out, (rbe_dataset *)&out, "untouched on failure");
	rbe_dataset_free(ds);
}

/* ---- embeddings ---- */

static char *temp_dir(void)
{
	static char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/rbfeat.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static char *join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

Test(features, embeddings_read_normalised_or_as_given)
{
	char *dir = temp_dir(), *path = join(dir, "e.f32");
	float raw[3 * 2] = {3, 4, 0, 0, -1, 0.5f};
	write_bytes(path, raw, sizeof(raw));
	float *f = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_features_read_f32(path, 3, 2, NULL, 0, &f, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(f, raw, sizeof(raw)), 0);
	free(f);
	cr_assert_eq(rbe_features_read_f32(path, 3, 2, NULL, 1, &f, &e), 0, "%s", e.msg);
	cr_assert_float_eq(f[0], 0.6f, 1e-7);
	cr_assert_float_eq(f[1], 0.8f, 1e-7);
	cr_assert(f[2] == 0 && f[3] == 0, "a zero row stays zero");
	cr_assert_float_eq(sqrt(dot(f + 4, f + 4, 2)), 1.0, 1e-6);
	free(f);
	unlink(path);
	rmdir(dir);
	free(path);
}

Test(features, embeddings_wrong_size_and_non_finite_refused)
{
	char *dir = temp_dir(), *path = join(dir, "e.f32");
	float raw[4 * 3] = {0};
	const char *const ids[] = {"a", "b", "c", "d"};
	write_bytes(path, raw, sizeof(raw));
	float *f = (float *)&f;
	rbe_error e = {0};
	cr_assert_eq(rbe_features_read_f32(path, 4, 4, ids, 1, &f, &e), -EINVAL);
	cr_assert(strstr(e.msg, "48 bytes") && strstr(e.msg, "64 bytes") && strstr(e.msg, "4 samples"), "%s", e.msg);
	cr_assert(strstr(e.msg, "dimension 3"), "the hint names the dimension that fits: %s", e.msg);
	cr_assert_eq(rbe_features_read_f32(path, 5, 3, ids, 1, &f, &e), -EINVAL);
	cr_assert(strstr(e.msg, "4 rows of dimension 3"), "%s", e.msg);
	raw[2 * 3 + 1] = NAN;
	write_bytes(path, raw, sizeof(raw));
	cr_assert_eq(rbe_features_read_f32(path, 4, 3, ids, 1, &f, &e), -EINVAL);
	cr_assert(strstr(e.msg, "row 2 (sample c), column 1: NaN"), "%s", e.msg);
	raw[2 * 3 + 1] = 0;
	raw[3 * 3 + 2] = -INFINITY;
	write_bytes(path, raw, sizeof(raw));
	cr_assert_eq(rbe_features_read_f32(path, 4, 3, NULL, 0, &f, &e), -EINVAL);
	cr_assert(strstr(e.msg, "row 3, column 2: -inf"), "%s", e.msg);
	cr_assert_eq(rbe_features_read_f32("/nonexistent/e.f32", 4, 3, NULL, 0, &f, &e), -ENOENT);
	cr_assert(strstr(e.msg, "/nonexistent/e.f32"), "%s", e.msg);
	cr_assert_eq(f, (float *)&f, "untouched on failure");
	unlink(path);
	rmdir(dir);
	free(path);
}

/* ---- rbctl featurize ---- */

typedef struct feat_result {
	int status;
	char err[8192];
} feat_result;

/* rbctl featurize ARGS... (NULL-terminated); stderr kept, stdout dropped. */
static feat_result featurize(const char *const *args)
{
	const char *argv[32] = {"featurize"};
	size_t n = 1;
	for (size_t k = 0; args[k] && n < 31; k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	cmd_result c = rbctl_cmd(argv);
	feat_result r = {.status = c.status};
	snprintf(r.err, sizeof(r.err), "%s", c.err);
	cmd_free(&c);
	return r;
}

static char *write_ds(const char *dir, const char *name, const char *const *prompts, size_t n, int with)
{
	rbe_dataset *ds = make_ds(prompts, n, with);
	char *path = join(dir, name);
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_write(ds, path, &e), 0, "%s", e.msg);
	rbe_dataset_free(ds);
	return path;
}

static rbe_dataset *open_ds(const char *path)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	return ds;
}

static int same_bytes(const char *a, const char *b)
{
	char *da, *db;
	size_t la, lb;
	cr_assert_eq(rbe_read_file(a, &da, &la, NULL), 0);
	cr_assert_eq(rbe_read_file(b, &db, &lb, NULL), 0);
	int same = la == lb && !memcmp(da, db, la);
	free(da);
	free(db);
	return same;
}

Test(features, cli_tfidf_in_place_and_thread_independent)
{
	char *dir = temp_dir();
	char *in = write_ds(dir, "in.rbds", ds_prompts, 5, WITH_RESPONSES | WITH_TOKENS);
	char *one = join(dir, "one.rbds"), *two = join(dir, "two.rbds");
	feat_result r = featurize((const char *[]){in, "-o", one, "--threads", "1", "--dim", "64", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "tfidf features, dim 64, 5 prompts") && strstr(r.err, "nonzeros per prompt") &&
			  strstr(r.err, "1 empty prompt"),
		  "%s", r.err);
	r = featurize((const char *[]){"--tfidf", "--dim=64", "--threads=2", "-q", "--output", two, in, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, "", "--quiet");
	cr_assert(same_bytes(one, two), "the written file does not depend on the thread count");

	rbe_dataset *orig = open_ds(in), *got = open_ds(one);
	assert_same_samples(orig, got, 0);
	cr_assert_eq(got->feature_dim, 64);
	cr_assert_str_eq(got->feature_name, "tfidf");
	float *f = NULL;
	cr_assert_eq(rbe_features_tfidf(orig, 64, &f, NULL), 0);
	cr_assert_eq(memcmp(f, got->features, 5 * 64 * sizeof(float)), 0);
	free(f);
	rbe_dataset_free(got);
	rbe_dataset_free(orig);

	/* IN == OUT: the writer renames into place, so the mapped input stays valid. */
	r = featurize((const char *[]){in, "-o", in, "-q", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	got = open_ds(in);
	cr_assert_eq(got->feature_dim, RBE_TFIDF_DEFAULT_DIM);
	cr_assert_str_eq(got->feature_name, "tfidf");
	cr_assert_str_eq(got->prompts[3], ds_prompts[3]);
	rbe_dataset_free(got);
	r = featurize((const char *[]){in, "-o", in, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "replacing 'tfidf' (dim 256)"), "%s", r.err);

	unlink(in);
	unlink(one);
	unlink(two);
	rmdir(dir);
	free(in);
	free(one);
	free(two);
}

Test(features, cli_embeddings_round_trip)
{
	char *dir = temp_dir();
	char *in = write_ds(dir, "in.rbds", ds_prompts, 5, WITH_FEATURES);
	char *emb = join(dir, "e.f32"), *out = join(dir, "out.rbds");
	float raw[5 * 4];
	for (int k = 0; k < 20; k++)
		raw[k] = (float)(k % 7) - 2.5f;
	write_bytes(emb, raw, sizeof(raw));

	feat_result r = featurize((const char *[]){in, "--embeddings", emb, "--dim", "4", "--no-normalize", "--name",
					      "e5-small", "-o", out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "e5-small features, dim 4") && strstr(r.err, "replacing 'embedding' (dim 3)"), "%s", r.err);
	rbe_dataset *orig = open_ds(in), *got = open_ds(out);
	assert_same_samples(orig, got, 0);
	cr_assert_eq(got->feature_dim, 4);
	cr_assert_str_eq(got->feature_name, "e5-small");
	cr_assert_eq(memcmp(got->features, raw, sizeof(raw)), 0, "--no-normalize keeps the bits");
	rbe_dataset_free(got);

	r = featurize((const char *[]){in, "--embeddings", emb, "--dim", "4", "-o", out, "-q", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	got = open_ds(out);
	cr_assert_str_eq(got->feature_name, "embedding");
	for (size_t i = 0; i < 5; i++) {
		double norm = sqrt(dot(got->features + i * 4, got->features + i * 4, 4));
		cr_assert_float_eq(norm, 1.0, 1e-6, "row %zu", i);
		double cosv = dot(got->features + i * 4, raw + i * 4, 4) / sqrt(dot(raw + i * 4, raw + i * 4, 4));
		cr_assert_float_eq(cosv, 1.0, 1e-6, "row %zu keeps its direction", i);
	}
	rbe_dataset_free(got);
	rbe_dataset_free(orig);

	/* wrong size: exit 1, the sizes named */
	r = featurize((const char *[]){in, "--embeddings", emb, "--dim", "3", "-o", out, NULL});
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "80 bytes") && strstr(r.err, "expected 5 samples × 3 dimensions × 4 bytes = 60 bytes"),
		  "%s", r.err);
	/* a NaN: exit 1, row and column named */
	raw[1 * 4 + 3] = NAN;
	write_bytes(emb, raw, sizeof(raw));
	r = featurize((const char *[]){in, "--embeddings", emb, "--dim", "4", "-o", out, NULL});
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "row 1 (sample id-1), column 3: NaN"), "%s", r.err);

	unlink(in);
	unlink(emb);
	unlink(out);
	rmdir(dir);
	free(in);
	free(emb);
	free(out);
}

Test(features, cli_usage_and_exit_codes)
{
	char *dir = temp_dir();
	char *in = write_ds(dir, "in.rbds", ds_prompts, 5, 0), *out = join(dir, "out.rbds");
	struct {
		const char *args[12];
		int status;
		const char *says;
	} cases[] = {
		{{"--help"}, 0, ""},
		{{NULL}, 2, "no input dataset"},
		{{in}, 2, "no output file"},
		{{in, "-o", out, "--frob"}, 2, "unknown option '--frob'"},
		{{in, "-o"}, 2, "needs a value"},
		{{in, in, "-o", out}, 2, "more than one input"},
		{{in, "-o", out, "--dim", "8"}, 2, "--dim: '8' is not a whole number between 16 and 4096"},
		{{in, "-o", out, "--dim", "12x"}, 2, "--dim: '12x'"},
		{{in, "-o", out, "--threads", "-1"}, 2, "--threads: '-1' is not a whole number between 0 and 1024"},
		{{in, "-o", out, "--embeddings", "e.f32"}, 2, "--embeddings needs --dim"},
		{{in, "-o", out, "--embeddings", "e.f32", "--tfidf", "--dim", "4"}, 2, "exclude each other"},
		{{in, "-o", out, "--name", "x"}, 2, "--name applies to --embeddings"},
		{{in, "-o", out, "--no-normalize"}, 2, "--no-normalize applies to --embeddings"},
		{{in, "-o", out, "--embeddings", "e.f32", "--dim", "4", "--name", "any"}, 2, "reserved"},
		{{in, "-o", out, "--embeddings", "/nonexistent.f32", "--dim", "4"}, 1, "/nonexistent.f32"},
		{{"/nonexistent.rbds", "-o", out}, 1, "/nonexistent.rbds"},
		{{in, "-o", "/nonexistent/dir/out.rbds"}, 1, "/nonexistent/dir/out.rbds"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		feat_result r = featurize(cases[k].args);
		cr_assert_eq(r.status, cases[k].status, "case %zu: exit %d: %s", k, r.status, r.err);
		cr_assert(strstr(r.err, cases[k].says), "case %zu: '%s' not in: %s", k, cases[k].says, r.err);
	}
	struct stat st;
	cr_assert_neq(stat(out, &st), 0, "no output after failures");
	unlink(in);
	rmdir(dir);
	free(in);
	free(out);
}

/* The demo data at its real size: every prompt gets a unit-length row (speed is measured by
 * bench/, not here). */
Test(features, demo_dataset_featurizes, .timeout = 240)
{
	char *dir = temp_dir(), *demo = join(dir, "demo.rbds"), *out = join(dir, "demo-tfidf.rbds");
	const char *bin = env_or("RBCTL", "build/rbctl");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' gen --preset routerbench --seed 1 -o '%s' --quiet", bin, demo);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	feat_result r = featurize((const char *[]){demo, "-o", out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	rbe_dataset *ds = open_ds(out);
	cr_assert_eq(ds->n, 34778);
	cr_assert_str_eq(ds->feature_name, "tfidf");
	cr_assert_eq(ds->feature_dim, 256);
	for (size_t i = 0; i < ds->n; i++) {
		double norm = 0.0;
		for (uint32_t k = 0; k < ds->feature_dim; k++)
			norm += (double)ds->features[i * ds->feature_dim + k] * ds->features[i * ds->feature_dim + k];
		cr_assert_float_eq(norm, 1.0, 1e-4, "row %zu", i);
	}
	rbe_dataset_free(ds);
	unlink(demo);
	unlink(out);
	rmdir(dir);
	free(demo);
	free(out);
}
