/* features.c — hashed TF-IDF prompt features, imported embeddings, and attaching either to a
 * dataset. docs/features.md is the exact definition; keep the two in step. */
#include "data/features.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define MAX_THREADS 64u
/* Prompts handed to a thread at a time: small enough to balance two cores, large enough that
 * the shared counter is touched rarely. */
#define BLOCK 256u

static inline uint64_t fnv_byte(uint64_t h, unsigned char b) { return (h ^ b) * FNV64_PRIME; }

static inline uint64_t fnv_bytes(uint64_t h, const char *p, size_t len)
{
	for (size_t k = 0; k < len; k++)
		h = fnv_byte(h, (unsigned char)p[k]);
	return h;
}

/* MurmurHash3's fmix64: FNV-1a's low bits mix poorly, and the bucket is taken from them. */
static inline uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t rbe_tfidf_hash(int kind, const char *bytes, size_t len)
{
	return fmix64(fnv_bytes(fnv_byte(FNV64_OFFSET, (unsigned char)kind), bytes, len));
}

static inline uint32_t bucket_of(uint64_t h, uint32_t dim) { return (uint32_t)(h & 0xffffffffu) % dim; }

void rbe_tfidf_bucket(int kind, const char *bytes, size_t len, uint32_t dim, uint32_t *index, int *sign)
{
	uint64_t h = rbe_tfidf_hash(kind, bytes, len);
	*index = bucket_of(h, dim);
	*sign = (h >> 63) ? -1 : 1;
}

/* ---- pass 1: terms → signed, sublinear term frequencies per bucket, and document counts ---- */

static inline int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static inline unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }


typedef struct tfidf_job {
	const char *const *prompts;
	size_t n;
	uint32_t dim;
	int pass;           /* 1: terms and document counts; 2: idf weights and norms */
	float *out;         /* [n * dim]: v after pass 1, the rows after pass 2 */
	const double *idf;  /* [dim], for pass 2 */
	size_t next;        /* first prompt of the next unclaimed block (atomic) */
} tfidf_job;

typedef struct word {
	uint32_t start, len; /* a slice of the worker's text */
} word;

/* One thread's scratch space and its share of the results. */
typedef struct tfidf_worker {
	tfidf_job *job;
	pthread_t tid;
	uint32_t *df;      /* [dim] prompts with a term in each bucket (this thread's prompts) */
	size_t *stamp;     /* [dim] 1 + the last prompt that counted in df */
	uint32_t *count;   /* [2 * dim] term occurrences per (bucket, sign) in the current prompt */
	uint32_t *touched; /* keys (2 · bucket + negative) with count > 0, in order of first use */
	uint32_t n_touched;
	double *acc; /* [dim] */
	char *text;  /* the normalised text T of the current prompt */
	size_t text_cap;
	word *words;
	size_t words_cap;
	uint32_t *char_start; /* where each character of T starts, then T's length */
	size_t chars_cap;
	size_t nonzeros, empty_rows;
} tfidf_worker;

static void grow(void *bufp, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	*(void **)bufp = rbe_xrealloc(*(void **)bufp, c * elem);
	*cap = c;
}

static inline void count_hash(tfidf_worker *w, uint64_t h)
{
	uint32_t key = bucket_of(h, w->job->dim) * 2u + (uint32_t)(h >> 63);
	if (w->count[key]++ == 0)
		w->touched[w->n_touched++] = key;
}

static void terms_of_prompt(tfidf_worker *w, size_t i)
{
	const unsigned char *p = (const unsigned char *)w->job->prompts[i];
	size_t len = strlen((const char *)p);
	/* T = " w1 w2 ... wm ": the lower-cased words with one space around each. */
	grow(&w->text, &w->text_cap, len + 2, 1);
	size_t tl = 0, nw = 0;
	w->text[tl++] = ' ';
	for (size_t k = 0; k < len;) {
		if (!is_word_byte(lower(p[k]))) {
			k++;
			continue;
		}
		grow(&w->words, &w->words_cap, nw + 1, sizeof(word));
		w->words[nw].start = (uint32_t)tl;
		while (k < len && is_word_byte(lower(p[k])))
			w->text[tl++] = (char)lower(p[k++]);
		w->words[nw].len = (uint32_t)(tl - w->words[nw].start);
		w->text[tl++] = ' ';
		nw++;
	}
	if (nw == 0) {
		w->empty_rows++;
		return;
	}
	const char *t = w->text;
	const uint64_t hu = fnv_byte(FNV64_OFFSET, RBE_TFIDF_UNIGRAM);
	const uint64_t hb = fnv_byte(FNV64_OFFSET, RBE_TFIDF_BIGRAM);
	const uint64_t hc = fnv_byte(FNV64_OFFSET, RBE_TFIDF_CHARGRAM);
	for (size_t k = 0; k < nw; k++) {
		const word *a = &w->words[k];
		count_hash(w, fmix64(fnv_bytes(hu, t + a->start, a->len)));
		if (k + 1 < nw) /* "wk wk+1" is the slice of T from wk's start to wk+1's end */
			count_hash(w, fmix64(fnv_bytes(hb, t + a->start, a[1].start + a[1].len - a->start)));
	}
	/* A character starts at every byte that is not a UTF-8 continuation byte (10xxxxxx). */
	grow(&w->char_start, &w->chars_cap, tl + 1, sizeof(uint32_t));
	const uint32_t *cs = w->char_start;
	size_t nc = 0;
	for (size_t k = 0; k < tl; k++)
		if (((unsigned char)t[k] & 0xC0) != 0x80)
			w->char_start[nc++] = (uint32_t)k;
	w->char_start[nc] = (uint32_t)tl;
	for (size_t s = 0; s + 3 <= nc; s++) {
		/* The 4- and 5-gram hashes continue the 3-gram's FNV state. */
		uint64_t h = fnv_bytes(hc, t + cs[s], cs[s + 3] - cs[s]);
		count_hash(w, fmix64(h));
		for (size_t m = 4; m <= 5 && s + m <= nc; m++) {
			h = fnv_bytes(h, t + cs[s + m - 1], cs[s + m] - cs[s + m - 1]);
			count_hash(w, fmix64(h));
		}
	}
	/* v[b] = Σ over b's signs of sign · (1 + ln tf). A bucket gets at most two terms, and the
	 * sum of two doubles does not depend on their order. */
	float *row = w->job->out + i * w->job->dim;
	for (uint32_t k = 0; k < w->n_touched; k++) {
		uint32_t key = w->touched[k], b = key >> 1;
		double v = 1.0 + log((double)w->count[key]);
		w->acc[b] += (key & 1) ? -v : v;
		w->count[key] = 0;
		if (w->stamp[b] != i + 1) {
			w->stamp[b] = i + 1;
			w->df[b]++;
		}
	}
	for (uint32_t k = 0; k < w->n_touched; k++)
		row[w->touched[k] >> 1] = (float)w->acc[w->touched[k] >> 1];
	for (uint32_t k = 0; k < w->n_touched; k++)
		w->acc[w->touched[k] >> 1] = 0.0;
	w->n_touched = 0;
}

static void weigh_row(tfidf_worker *w, size_t i)
{
	uint32_t dim = w->job->dim;
	const double *idf = w->job->idf;
	float *row = w->job->out + i * dim;
	double ss = 0.0;
	for (uint32_t k = 0; k < dim; k++) {
		double x = row[k] * idf[k];
		ss += x * x;
	}
	if (ss == 0.0)
		return;
	double norm = sqrt(ss);
	for (uint32_t k = 0; k < dim; k++) {
		row[k] = (float)(row[k] * idf[k] / norm);
		w->nonzeros += row[k] != 0.0f;
	}
}

static void *worker_main(void *arg)
{
	tfidf_worker *w = arg;
	tfidf_job *job = w->job;
	for (;;) {
		size_t begin = __atomic_fetch_add(&job->next, BLOCK, __ATOMIC_RELAXED);
		if (begin >= job->n)
			break;
		size_t end = begin + BLOCK < job->n ? begin + BLOCK : job->n;
		for (size_t i = begin; i < end; i++) {
			if (job->pass == 1)
				terms_of_prompt(w, i);
			else
				weigh_row(w, i);
		}
	}
	return NULL;
}

/* Work is claimed block by block from a shared counter, so a thread that fails to start only
 * leaves its share to the others; the caller is always worker 0. */
static void run_pass(tfidf_job *job, tfidf_worker *w, unsigned threads, int pass)
{
	job->pass = pass;
	job->next = 0;
	int started[MAX_THREADS] = {0};
	for (unsigned t = 1; t < threads; t++)
		started[t] = pthread_create(&w[t].tid, NULL, worker_main, &w[t]) == 0;
	worker_main(&w[0]);
	for (unsigned t = 1; t < threads; t++)
		if (started[t])
			pthread_join(w[t].tid, NULL);
}

static unsigned pick_threads(unsigned threads, size_t n)
{
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned)cpus : 1;
	}
	size_t blocks = (n + BLOCK - 1) / BLOCK;
	if (threads > blocks)
		threads = (unsigned)blocks;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	return threads ? threads : 1;
}

int rbe_features_tfidf_prompts(const char *const *prompts, size_t n, uint32_t dim, unsigned threads,
			       float **out, float *idf_out, rbe_tfidf_stats *stats, rbe_error *e)
{
	if (dim < RBE_TFIDF_MIN_DIM || dim > RBE_TFIDF_MAX_DIM)
		return rbe_fail(e, -EINVAL, "tfidf dimension %u is outside %u..%u", dim, RBE_TFIDF_MIN_DIM,
				RBE_TFIDF_MAX_DIM);
	if (n == 0)
		return rbe_fail(e, -EINVAL, "no prompts to featurize");
	if (n > SIZE_MAX / sizeof(float) / dim)
		return rbe_fail(e, -ENOMEM, "%zu prompts × %u dimensions do not fit in memory", n, dim);
	float *rows = calloc(n * dim, sizeof(float));
	if (!rows)
		return rbe_fail(e, -ENOMEM, "cannot allocate %zu × %u features (%.1f MiB)", n, dim,
				(double)n * dim * 4 / (1 << 20));
	threads = pick_threads(threads, n);
	tfidf_job job = {.prompts = prompts, .n = n, .dim = dim, .out = rows};
	tfidf_worker *w = rbe_xcalloc(threads, sizeof(*w));
	for (unsigned t = 0; t < threads; t++) {
		w[t].job = &job;
		w[t].df = rbe_xcalloc(dim, sizeof(uint32_t));
		w[t].stamp = rbe_xcalloc(dim, sizeof(size_t));
		w[t].count = rbe_xcalloc(2 * (size_t)dim, sizeof(uint32_t));
		w[t].touched = rbe_xcalloc(2 * (size_t)dim, sizeof(uint32_t));
		w[t].acc = rbe_xcalloc(dim, sizeof(double));
	}
	run_pass(&job, w, threads, 1);

	/* Document frequencies are integers, so their sum over threads is exact in any order. */
	double *idf = rbe_xcalloc(dim, sizeof(double));
	for (uint32_t k = 0; k < dim; k++) {
		uint64_t df = 0;
		for (unsigned t = 0; t < threads; t++)
			df += w[t].df[k];
		idf[k] = log((1.0 + (double)n) / (1.0 + (double)df)) + 1.0;
	}
	job.idf = idf;
	run_pass(&job, w, threads, 2);

	rbe_tfidf_stats st = {.threads = threads};
	for (unsigned t = 0; t < threads; t++) {
		st.nonzeros += w[t].nonzeros;
		st.empty_rows += w[t].empty_rows;
		free(w[t].df);
		free(w[t].stamp);
		free(w[t].count);
		free(w[t].touched);
		free(w[t].acc);
		free(w[t].text);
		free(w[t].words);
		free(w[t].char_start);
	}
	free(w);
	if (idf_out)
		for (uint32_t k = 0; k < dim; k++)
			idf_out[k] = (float)idf[k];
	free(idf);
	if (stats)
		*stats = st;
	*out = rows;
	return 0;
}

int rbe_features_tfidf(const rbe_dataset *ds, uint32_t dim, float **out, rbe_error *e)
{
	return rbe_features_tfidf_prompts(ds->prompts, ds->n, dim, 0, out, NULL, NULL, e);
}

/* ---- embeddings ---- */

void rbe_features_normalize(float *rows, size_t n, uint32_t dim)
{
	for (size_t i = 0; i < n; i++) {
		float *row = rows + i * dim;
		double ss = 0.0;
		for (uint32_t k = 0; k < dim; k++)
			ss += (double)row[k] * row[k];
		if (ss == 0.0)
			continue;
		double norm = sqrt(ss);
		for (uint32_t k = 0; k < dim; k++)
			row[k] = (float)(row[k] / norm);
	}
}

static const char *nonfinite_name(float x)
{
	return isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf";
}

int rbe_features_read_f32(const char *path, size_t n, uint32_t dim, const char *const *sample_ids,
			  int normalize, float **out, rbe_error *e)
{
	if (dim == 0 || n == 0)
		return rbe_fail(e, -EINVAL, "%s: the embedding dimension and the sample count must be > 0", path);
	if (n > SIZE_MAX / sizeof(float) / dim)
		return rbe_fail(e, -ENOMEM, "%s: %zu samples × %u dimensions do not fit in memory", path, n, dim);
	size_t want = n * dim * sizeof(float);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = -errno;
		close(fd);
		return rbe_fail(e, err, "%s: %s", path, strerror(-err));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return rbe_fail(e, -EISDIR, "%s: is a directory", path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size != (uint64_t)want) {
		uint64_t have = (uint64_t)st.st_size;
		char hint[160] = "";
		if (have % 4 == 0 && have / 4 % n == 0 && have > 0)
			snprintf(hint, sizeof(hint), "; it would fit dimension %llu", (unsigned long long)(have / 4 / n));
		else if (have % (4ull * dim) == 0)
			snprintf(hint, sizeof(hint), "; it holds %llu rows of dimension %u",
				 (unsigned long long)(have / 4 / dim), dim);
		close(fd);
		return rbe_fail(e, -EINVAL,
				"%s: file size is %llu bytes, expected %zu samples × %u dimensions × 4 bytes = %zu bytes%s",
				path, (unsigned long long)have, n, dim, want, hint);
	}
	float *rows = malloc(want);
	if (!rows) {
		close(fd);
		return rbe_fail(e, -ENOMEM, "%s: cannot allocate %zu bytes", path, want);
	}
	/* Read one byte past the expected end, so a pipe or a file that grew is caught too. */
	size_t got = 0;
	char extra;
	int err = 0;
	while (got < want) {
		ssize_t r = read(fd, (char *)rows + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		got += (size_t)r;
	}
	ssize_t more = 0;
	if (!err && got == want) {
		do
			more = read(fd, &extra, 1);
		while (more < 0 && errno == EINTR);
		if (more < 0)
			err = -errno;
	}
	close(fd);
	if (err) {
		free(rows);
		return rbe_fail(e, err, "%s: %s", path, strerror(-err));
	}
	if (got != want || more > 0) {
		free(rows);
		return rbe_fail(e, -EINVAL, "%s: %s than %zu samples × %u dimensions × 4 bytes = %zu bytes", path,
				got != want ? "shorter" : "longer", n, dim, want);
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t k = 0; k < n * dim; k++) {
		uint32_t u;
		memcpy(&u, rows + k, 4);
		u = __builtin_bswap32(u);
		memcpy(rows + k, &u, 4);
	}
#endif
	for (size_t k = 0; k < n * dim; k++)
		if (!isfinite(rows[k])) {
			size_t r = k / dim;
			uint32_t c = (uint32_t)(k % dim);
			float x = rows[k];
			free(rows);
			if (sample_ids)
				return rbe_fail(e, -EINVAL, "%s: row %zu (sample %.200s), column %u: %s is not a finite value",
						path, r, sample_ids[r], c, nonfinite_name(x));
			return rbe_fail(e, -EINVAL, "%s: row %zu, column %u: %s is not a finite value", path, r, c,
					nonfinite_name(x));
		}
	if (normalize)
		rbe_features_normalize(rows, n, dim);
	*out = rows;
	return 0;
}

/* ---- attaching features to a dataset ---- */

int rbe_features_check_name(const char *name, rbe_error *e)
{
	if (!name || !*name)
		return rbe_fail(e, -EINVAL, "the feature name is empty");
	if (!strcmp(name, "any"))
		return rbe_fail(e, -EINVAL, "the feature name 'any' is reserved (routers read it as 'whatever the dataset has')");
	size_t len = strlen(name);
	if (len > 64)
		return rbe_fail(e, -EINVAL, "the feature name '%.64s...' is longer than 64 bytes", name);
	for (size_t k = 0; k < len; k++) {
		char c = name[k];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return rbe_fail(e, -EINVAL, "the feature name '%s' has '%c'; use letters, digits, '_', '-' and '.'",
					name, c);
	}
	return 0;
}

int rbe_dataset_with_features(const rbe_dataset *ds, uint32_t dim, const float *features,
			      const char *name, rbe_dataset **out, rbe_error *e)
{
	int r = rbe_features_check_name(name, e);
	if (r)
		return r;
	if (dim == 0 || !features)
		return rbe_fail(e, -EINVAL, "no features to attach (dimension %u)", dim);
	size_t m = ds->n_models;
	rbe_builder *b = rbe_builder_new(ds->n_models, (const char *const *)ds->model_names);
	rbe_builder_set_name(b, ds->name ? ds->name : "dataset");
	if (ds->responses)
		rbe_builder_want_responses(b);
	/* The builder keeps prompt and completion tokens together; a dataset holding only one of
	 * them gets zeros for the other, which are dropped again after finishing. */
	int tokens = ds->prompt_tokens || ds->completion_tokens;
	if (tokens)
		rbe_builder_want_tokens(b);
	rbe_builder_want_features(b, dim, name);
	uint32_t *zero_tokens = tokens && !ds->completion_tokens ? rbe_xcalloc(m, sizeof(uint32_t)) : NULL;
	for (size_t i = 0; i < ds->n; i++) {
		rbe_sample_in s = {
			.sample_id = ds->sample_ids[i],
			.eval_name = ds->eval_names[ds->eval[i]],
			.prompt = ds->prompts[i],
			.quality = ds->quality + i * m,
			.cost = ds->cost + i * m,
			.responses = ds->responses ? ds->responses + i * m : NULL,
			.prompt_tokens = ds->prompt_tokens ? ds->prompt_tokens[i] : 0,
			.completion_tokens = ds->completion_tokens ? ds->completion_tokens + i * m : zero_tokens,
			.features = features + i * (size_t)dim,
		};
		r = rbe_builder_add(b, &s, e);
		if (r) {
			free(zero_tokens);
			rbe_builder_free(b);
			rbe_error_prefix(e, "attaching features");
			return r;
		}
	}
	free(zero_tokens);
	rbe_dataset *nd = NULL;
	r = rbe_builder_finish(b, &nd, e);
	if (r)
		return r;
	/* The arrays stay owned by the builder's store; only the view of them changes. */
	if (tokens && !ds->prompt_tokens)
		nd->prompt_tokens = NULL;
	if (tokens && !ds->completion_tokens)
		nd->completion_tokens = NULL;
	*out = nd;
	return 0;
}

int rbe_features_parse_option(const char *text, uint32_t *dim, rbe_error *e)
{
	if (!strcmp(text, "none")) {
		*dim = 0;
		return 0;
	}
	if (!strcmp(text, RBE_TFIDF_NAME)) {
		*dim = RBE_TFIDF_DEFAULT_DIM;
		return 0;
	}
	const char *prefix = RBE_TFIDF_NAME ":";
	if (!strncmp(text, prefix, strlen(prefix))) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(text + strlen(prefix), &end, 10);
		if (!errno && end != text + strlen(prefix) && !*end && v >= RBE_TFIDF_MIN_DIM && v <= RBE_TFIDF_MAX_DIM) {
			*dim = (uint32_t)v;
			return 0;
		}
	}
	return rbe_fail(e, -EINVAL, "--features '%s': expected none, tfidf or tfidf:DIM with DIM from %u to %u", text,
			RBE_TFIDF_MIN_DIM, RBE_TFIDF_MAX_DIM);
}

int rbe_dataset_attach_tfidf(rbe_dataset **ds, uint32_t dim, rbe_error *e)
{
	float *features = NULL;
	int r = rbe_features_tfidf(*ds, dim, &features, e);
	if (r < 0)
		return r;
	rbe_dataset *with = NULL;
	r = rbe_dataset_with_features(*ds, dim, features, RBE_TFIDF_NAME, &with, e);
	free(features);
	if (r < 0)
		return r;
	rbe_dataset_free(*ds);
	*ds = with;
	return 0;
}
