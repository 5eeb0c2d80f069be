/* rbds_format.c — the compiled dataset file: streamed atomic writer and validating mmap reader. */
#include "data/rbds_format.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The numeric sections are used in place, so the host must share the file's byte order. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .rbds format is little-endian and its arrays are used in place"
#endif

#define RBDS_MAGIC "RBDS\r\n\x1a\n"
#define RBDS_HEADER_SIZE 128u /* of format 1; a reader accepts a larger one and skips the rest */
#define RBDS_ALIGN 64u

/* Layout in docs/rbds-format.md; all fields little-endian, naturally aligned, no padding. */
struct rbds_header {
	char magic[8];              /*   0 */
	uint32_t version;           /*   8 */
	uint32_t header_size;       /*  12: offset of the section table */
	uint64_t file_size;         /*  16 */
	uint64_t n_samples;         /*  24 */
	uint32_t n_models;          /*  32 */
	uint32_t n_evals;           /*  36 */
	uint32_t feature_dim;       /*  40 */
	uint32_t n_sections;        /*  44 */
	uint64_t flags;             /*  48: RBDS_F_* */
	uint8_t content_sha256[32]; /*  56: SHA-256 of bytes [header_size, file_size) */
	uint8_t reserved[40];       /*  88: zero */
};
_Static_assert(sizeof(struct rbds_header) == RBDS_HEADER_SIZE, "header layout");

struct rbds_section {
	uint32_t id;
	uint32_t reserved; /* zero */
	uint64_t offset;   /* from the start of the file, a multiple of RBDS_ALIGN */
	uint64_t size;     /* exact, without padding */
};
_Static_assert(sizeof(struct rbds_section) == 24, "section entry layout");

enum {
	RBDS_F_RESPONSES = 1u << 0,
	RBDS_F_PROMPT_TOKENS = 1u << 1,
	RBDS_F_COMPLETION_TOKENS = 1u << 2,
	RBDS_F_FEATURES = 1u << 3,
};

enum {
	SEC_META = 1,              /* {u64 name, u64 feature_name} string offsets */
	SEC_MODELS = 2,            /* u64[n_models] string offsets */
	SEC_EVALS = 3,             /* u64[n_evals] string offsets */
	SEC_SAMPLE_EVAL = 4,       /* u32[n] eval index */
	SEC_SAMPLE_ID = 5,         /* u64[n] string offsets */
	SEC_PROMPT = 6,            /* u64[n] string offsets */
	SEC_QUALITY = 7,           /* f32[n * n_models] */
	SEC_COST = 8,              /* f64[n * n_models] */
	SEC_RESPONSES = 9,         /* u64[n * n_models] string offsets, optional */
	SEC_PROMPT_TOKENS = 10,    /* u32[n], optional */
	SEC_COMPLETION_TOKENS = 11, /* u32[n * n_models], optional */
	SEC_FEATURES = 12,         /* f32[n * feature_dim], present iff feature_dim > 0 */
	SEC_STRINGS = 13,          /* NUL-terminated UTF-8 strings; the last byte is NUL */
	SEC_KNOWN_MAX = 13,
};

static const char *const section_names[SEC_KNOWN_MAX + 1] = {
	[SEC_META] = "META",
	[SEC_MODELS] = "MODELS",
	[SEC_EVALS] = "EVALS",
	[SEC_SAMPLE_EVAL] = "SAMPLE_EVAL",
	[SEC_SAMPLE_ID] = "SAMPLE_ID",
	[SEC_PROMPT] = "PROMPT",
	[SEC_QUALITY] = "QUALITY",
	[SEC_COST] = "COST",
	[SEC_RESPONSES] = "RESPONSES",
	[SEC_PROMPT_TOKENS] = "PROMPT_TOKENS",
	[SEC_COMPLETION_TOKENS] = "COMPLETION_TOKENS",
	[SEC_FEATURES] = "FEATURES",
	[SEC_STRINGS] = "STRINGS",
};

static uint64_t align_up(uint64_t x) { return (x + RBDS_ALIGN - 1) & ~(uint64_t)(RBDS_ALIGN - 1); }

/* ---- checks shared by writer and reader ---------------------------------------------------- */

static int cmp_names(const void *a, const void *b, void *ctx)
{
	const char *const *names = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(names[x], names[y]);
	return c ? c : (x > y) - (x < y);
}

/* The sorting way, O(n log n) whatever the names: the earliest second occurrence, as below. */
static long find_duplicate_sorted(const char *const *names, size_t n, size_t *first)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
	if (!idx)
		return -2;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(size_t), cmp_names, (void *)names);
	long dup = -1;
	for (size_t k = 1; k < n; k++)
		if (!strcmp(names[idx[k - 1]], names[idx[k]]) &&
		    (k < 2 || strcmp(names[idx[k - 2]], names[idx[k]]) != 0) &&
		    (dup < 0 || idx[k] < (size_t)dup)) {
			dup = (long)idx[k];
			*first = idx[k - 1];
		}
	free(idx);
	return dup;
}

/* -1 when all names are distinct, else the index of the earliest second occurrence; *first gets
 * the first one; -2 on ENOMEM. Open addressing over indices: no copies of the strings, so a
 * million ids is quick. A file crafted so that names collide gets the sort instead. */
static long find_duplicate(const char *const *names, size_t n, size_t *first)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	size_t *slot = calloc(cap, sizeof(size_t)); /* index + 1, 0 = empty */
	if (!slot)
		return -2;
	long dup = -1;
	for (size_t i = 0; i < n && dup < 0; i++) {
		size_t k = rbe_hash_str(names[i]) & (cap - 1), probes = 0;
		for (; slot[k]; k = (k + 1) & (cap - 1)) {
			if (++probes > 256) {
				free(slot);
				return find_duplicate_sorted(names, n, first);
			}
			if (!strcmp(names[slot[k] - 1], names[i])) {
				*first = slot[k] - 1;
				dup = (long)i;
				break;
			}
		}
		if (dup < 0)
			slot[k] = i + 1;
	}
	free(slot);
	return dup;
}

/* Everything rbe_builder_add promises about a dataset, checked again at the file boundary: the
 * writer refuses to produce a file the reader would refuse, and the reader trusts no writer. */
static int check_dataset(const rbe_dataset *ds, int values, rbe_error *e)
{
	size_t n = ds->n, m = ds->n_models;
	if (n == 0)
		return rbe_fail(e, -EINVAL, "the dataset has no samples");
	if (m == 0)
		return rbe_fail(e, -EINVAL, "the dataset has no models");
	size_t first = 0;
	long d = find_duplicate(ds->model_names, m, &first);
	if (d == -2)
		return rbe_fail(e, -ENOMEM, "out of memory checking model names");
	if (d >= 0)
		return rbe_fail(e, -EINVAL, "model name '%.200s' appears twice (models %zu and %ld)",
				ds->model_names[d], first, d);
	d = find_duplicate(ds->eval_names, ds->n_evals, &first);
	if (d == -2)
		return rbe_fail(e, -ENOMEM, "out of memory checking eval names");
	if (d >= 0)
		return rbe_fail(e, -EINVAL, "eval name '%.200s' appears twice (evals %zu and %ld)",
				ds->eval_names[d], first, d);
	for (size_t i = 0; i < n; i++)
		if (ds->eval[i] >= ds->n_evals)
			return rbe_fail(e, -EINVAL, "sample %zu: eval index %u is out of range (%u evals)", i,
					ds->eval[i], ds->n_evals);
	if (!values)
		return 0;
	/* Branch-free scan first, then look for the culprit only when there is one. */
	int bad = 0;
	for (size_t k = 0; k < n * m; k++)
		bad |= !(ds->quality[k] >= 0.0f && ds->quality[k] <= 1.0f) |
		       !(ds->cost[k] >= 0.0 && ds->cost[k] < HUGE_VAL);
	if (bad) {
		for (size_t k = 0; k < n * m; k++) {
			float q = ds->quality[k];
			double c = ds->cost[k];
			if (!(q >= 0.0f && q <= 1.0f))
				return rbe_fail(e, -EINVAL, "sample %.200s, model %.200s: quality %g is not in [0, 1]",
						ds->sample_ids[k / m], ds->model_names[k % m], (double)q);
			if (!(c >= 0.0 && isfinite(c)))
				return rbe_fail(e, -EINVAL,
						"sample %.200s, model %.200s: cost %g is not a finite value >= 0",
						ds->sample_ids[k / m], ds->model_names[k % m], c);
		}
	}
	if (ds->feature_dim) {
		if (!ds->features)
			return rbe_fail(e, -EINVAL, "feature_dim is %u but there are no features", ds->feature_dim);
		size_t nf = n * ds->feature_dim;
		for (size_t k = 0; k < nf; k++)
			if (!isfinite(ds->features[k]))
				return rbe_fail(e, -EINVAL, "sample %.200s: feature %zu is not finite",
						ds->sample_ids[k / ds->feature_dim], k % ds->feature_dim);
	}
	d = find_duplicate(ds->sample_ids, n, &first);
	if (d == -2)
		return rbe_fail(e, -ENOMEM, "out of memory checking sample ids");
	if (d >= 0)
		return rbe_fail(e, -EINVAL, "sample_id '%.200s' appears twice (samples %zu and %ld)",
				ds->sample_ids[d], first, d);
	return 0;
}

/* ---- writer ------------------------------------------------------------------------------- */

/* Buffered, hashing output: small values are copied into buf; big arrays go straight through in
 * chunks small enough to stay in cache between hashing and writing. */
struct out {
	FILE *fp;
	rbe_sha256 *h;
	uint8_t *buf;
	size_t len, cap;
	uint64_t pos; /* bytes of body written so far, counted from the start of the file */
	int err;
};

static void out_raw(struct out *o, const void *p, size_t n)
{
	if (o->err || !n)
		return;
	rbe_sha256_update(o->h, p, n);
	if (fwrite(p, 1, n, o->fp) != n)
		o->err = errno ? -errno : -EIO;
}

static void out_flush(struct out *o)
{
	out_raw(o, o->buf, o->len);
	o->len = 0;
}

static void out_bytes(struct out *o, const void *p, size_t n)
{
	o->pos += n;
	if (n <= o->cap - o->len) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return;
	}
	out_flush(o);
	if (n < o->cap) {
		memcpy(o->buf, p, n);
		o->len = n;
		return;
	}
	for (size_t done = 0; done < n;) {
		size_t chunk = n - done < o->cap ? n - done : o->cap;
		out_raw(o, (const uint8_t *)p + done, chunk);
		done += chunk;
	}
}

static void out_u64(struct out *o, uint64_t v) { out_bytes(o, &v, sizeof(v)); }

static void out_pad_to(struct out *o, uint64_t offset)
{
	static const uint8_t zeros[RBDS_ALIGN];
	rbe_require(offset >= o->pos && offset - o->pos <= RBDS_ALIGN);
	out_bytes(o, zeros, offset - o->pos);
}

/* Strings go into STRINGS in this order, each group contiguous, so each offset array is a running
 * sum from its group's base: name, feature name, models, evals, sample ids, prompts, responses. */
enum { G_META, G_MODELS, G_EVALS, G_IDS, G_PROMPTS, G_RESPONSES, G_COUNT };

struct strgroup {
	const char *const *s;
	size_t n;
};

static uint64_t group_bytes(struct strgroup g)
{
	uint64_t total = 0;
	for (size_t i = 0; i < g.n; i++)
		total += strlen(g.s[i]) + 1;
	return total;
}

static void out_offsets(struct out *o, struct strgroup g, uint64_t base)
{
	for (size_t i = 0; i < g.n; i++) {
		out_u64(o, base);
		base += strlen(g.s[i]) + 1;
	}
}

static void out_strings(struct out *o, struct strgroup g)
{
	for (size_t i = 0; i < g.n; i++)
		out_bytes(o, g.s[i], strlen(g.s[i]) + 1);
}

struct wsection {
	uint32_t id;
	uint64_t size, offset;
};

/* The sections a dataset needs, in file order, with their sizes and offsets; the header flags
 * for the optional ones. Returns the count. */
static uint32_t plan_sections(const rbe_dataset *ds, uint64_t strings_size, struct wsection sec[SEC_KNOWN_MAX],
			      uint64_t *flags)
{
	uint64_t n = ds->n, m = ds->n_models;
	uint32_t ns = 0;
	*flags = 0;
	sec[ns++] = (struct wsection){SEC_META, 16, 0};
	sec[ns++] = (struct wsection){SEC_MODELS, 8 * m, 0};
	sec[ns++] = (struct wsection){SEC_EVALS, 8 * (uint64_t)ds->n_evals, 0};
	sec[ns++] = (struct wsection){SEC_SAMPLE_EVAL, 4 * n, 0};
	sec[ns++] = (struct wsection){SEC_SAMPLE_ID, 8 * n, 0};
	sec[ns++] = (struct wsection){SEC_PROMPT, 8 * n, 0};
	sec[ns++] = (struct wsection){SEC_QUALITY, 4 * n * m, 0};
	sec[ns++] = (struct wsection){SEC_COST, 8 * n * m, 0};
	if (ds->responses) {
		sec[ns++] = (struct wsection){SEC_RESPONSES, 8 * n * m, 0};
		*flags |= RBDS_F_RESPONSES;
	}
	if (ds->prompt_tokens) {
		sec[ns++] = (struct wsection){SEC_PROMPT_TOKENS, 4 * n, 0};
		*flags |= RBDS_F_PROMPT_TOKENS;
	}
	if (ds->completion_tokens) {
		sec[ns++] = (struct wsection){SEC_COMPLETION_TOKENS, 4 * n * m, 0};
		*flags |= RBDS_F_COMPLETION_TOKENS;
	}
	if (ds->feature_dim) {
		sec[ns++] = (struct wsection){SEC_FEATURES, 4 * n * ds->feature_dim, 0};
		*flags |= RBDS_F_FEATURES;
	}
	sec[ns++] = (struct wsection){SEC_STRINGS, strings_size, 0};
	uint64_t at = align_up(RBDS_HEADER_SIZE + (uint64_t)ns * sizeof(struct rbds_section));
	for (uint32_t k = 0; k < ns; k++) {
		sec[k].offset = at;
		at = align_up(at + sec[k].size);
	}
	return ns;
}

/* One section's bytes: value arrays as they are, string arrays as offsets into the blob. */
static void write_section(struct out *o, const rbe_dataset *ds, const struct wsection *sec,
			  const struct strgroup groups[G_COUNT], const uint64_t base[G_COUNT + 1])
{
	switch (sec->id) {
	case SEC_META: out_offsets(o, groups[G_META], base[G_META]); break;
	case SEC_MODELS: out_offsets(o, groups[G_MODELS], base[G_MODELS]); break;
	case SEC_EVALS: out_offsets(o, groups[G_EVALS], base[G_EVALS]); break;
	case SEC_SAMPLE_EVAL: out_bytes(o, ds->eval, sec->size); break;
	case SEC_SAMPLE_ID: out_offsets(o, groups[G_IDS], base[G_IDS]); break;
	case SEC_PROMPT: out_offsets(o, groups[G_PROMPTS], base[G_PROMPTS]); break;
	case SEC_QUALITY: out_bytes(o, ds->quality, sec->size); break;
	case SEC_COST: out_bytes(o, ds->cost, sec->size); break;
	case SEC_RESPONSES: out_offsets(o, groups[G_RESPONSES], base[G_RESPONSES]); break;
	case SEC_PROMPT_TOKENS: out_bytes(o, ds->prompt_tokens, sec->size); break;
	case SEC_COMPLETION_TOKENS: out_bytes(o, ds->completion_tokens, sec->size); break;
	case SEC_FEATURES: out_bytes(o, ds->features, sec->size); break;
	case SEC_STRINGS:
		for (int g = 0; g < G_COUNT; g++)
			out_strings(o, groups[g]);
		break;
	default: rbe_require(!"unreachable section id");
	}
}

int rbe_rbds_write(const rbe_dataset *ds, const char *path, rbe_error *e)
{
	int r = check_dataset(ds, 1, e);
	if (r < 0)
		return rbe_error_prefix(e, "%s", path);

	size_t n = ds->n, m = ds->n_models;
	/* The name is not stored: the content hash identifies the data alone, so the same data
	 * written under two file names has one identity. An opened dataset is named by its file. */
	const char *meta[2] = {"",
			       ds->feature_dim ? (ds->feature_name ? ds->feature_name : "features") : ""};
	struct strgroup groups[G_COUNT] = {
		[G_META] = {meta, 2},
		[G_MODELS] = {ds->model_names, m},
		[G_EVALS] = {ds->eval_names, ds->n_evals},
		[G_IDS] = {ds->sample_ids, n},
		[G_PROMPTS] = {ds->prompts, n},
		[G_RESPONSES] = {ds->responses, ds->responses ? n * m : 0},
	};
	uint64_t base[G_COUNT + 1] = {0};
	for (int g = 0; g < G_COUNT; g++)
		base[g + 1] = base[g] + group_bytes(groups[g]);
	struct wsection sec[SEC_KNOWN_MAX];
	uint64_t flags;
	uint32_t ns = plan_sections(ds, base[G_COUNT], sec, &flags);

	rbe_atomic_file af;
	r = rbe_atomic_open(&af, path, e);
	if (r < 0)
		return r;
	struct out o = {.fp = af.fp, .h = rbe_sha256_new(), .cap = 1u << 20};
	o.buf = rbe_xmalloc(o.cap);
	/* A zeroed header first; the real one, with the content hash, once everything is written. */
	struct rbds_header hdr = {0};
	if (fwrite(&hdr, sizeof(hdr), 1, o.fp) != 1)
		o.err = errno ? -errno : -EIO;
	o.pos = sizeof(hdr);
	for (uint32_t k = 0; k < ns; k++) {
		struct rbds_section s = {.id = sec[k].id, .offset = sec[k].offset, .size = sec[k].size};
		out_bytes(&o, &s, sizeof(s));
	}
	for (uint32_t k = 0; k < ns && !o.err; k++) {
		out_pad_to(&o, sec[k].offset);
		write_section(&o, ds, &sec[k], groups, base);
		rbe_require(o.err || o.pos == sec[k].offset + sec[k].size);
	}
	out_flush(&o);
	free(o.buf);

	memcpy(hdr.magic, RBDS_MAGIC, 8);
	hdr.version = RBE_RBDS_FORMAT_VERSION;
	hdr.header_size = RBDS_HEADER_SIZE;
	hdr.file_size = sec[ns - 1].offset + sec[ns - 1].size;
	hdr.n_samples = n;
	hdr.n_models = ds->n_models;
	hdr.n_evals = ds->n_evals;
	hdr.feature_dim = ds->feature_dim;
	hdr.n_sections = ns;
	hdr.flags = flags;
	rbe_sha256_final(o.h, hdr.content_sha256);
	rbe_sha256_free(o.h);
	if (!o.err && (fseek(af.fp, 0, SEEK_SET) != 0 || fwrite(&hdr, sizeof(hdr), 1, af.fp) != 1))
		o.err = errno ? -errno : -EIO;
	if (o.err) {
		rbe_atomic_abort(&af);
		return rbe_fail(e, o.err, "%s: cannot write: %s", path, strerror(-o.err));
	}
	return rbe_atomic_commit(&af, e);
}

/* ---- reader ------------------------------------------------------------------------------- */

struct rbds_store {
	struct rbe_dataset_store base;
	void *map;
	size_t map_len;
	const char **ptrs; /* every const char * array of the dataset, in one block */
	char *name;
	const char *stored_name;
	uint32_t format_version;
};

static void rbds_release(struct rbe_dataset_store *store)
{
	struct rbds_store *s = (struct rbds_store *)store;
	if (s->map)
		munmap(s->map, s->map_len);
	free(s->ptrs);
	free(s->name);
	free(s);
}

static char *file_stem(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	char *s = rbe_xmalloc(len + 1);
	memcpy(s, base, len);
	s[len] = '\0';
	return s;
}

/* Magic, version and sizes: the part of the header that must be right before anything else is
 * read. size is the actual length of the file; p holds min(size, RBDS_HEADER_SIZE) bytes. */
static int check_header(const uint8_t *p, uint64_t size, const char *name, struct rbds_header *h,
			rbe_error *e)
{
	if (size < 8)
		return rbe_fail(e, -EINVAL, "%s: truncated: file has %llu bytes, too short for a .rbds header",
				name, (unsigned long long)size);
	if (memcmp(p, RBDS_MAGIC, 8) != 0)
		return rbe_fail(e, -EINVAL, "%s: not a routerbench dataset (bad magic)", name);
	memset(h, 0, sizeof(*h));
	memcpy(h, p, size < sizeof(*h) ? size : sizeof(*h));
	if (size < 24)
		return rbe_fail(e, -EINVAL, "%s: truncated: file has %llu bytes, too short for a .rbds header",
				name, (unsigned long long)size);
	if (h->version > RBE_RBDS_FORMAT_VERSION)
		return rbe_fail(e, -EPROTONOSUPPORT,
				"%s: written by a newer routerbench (format %u); this build reads format %u", name,
				h->version, RBE_RBDS_FORMAT_VERSION);
	if (h->version < 1)
		return rbe_fail(e, -EPROTONOSUPPORT, "%s: unknown format version %u; this build reads format %u",
				name, h->version, RBE_RBDS_FORMAT_VERSION);
	if (size < h->file_size)
		return rbe_fail(e, -EINVAL, "%s: truncated: header says %llu bytes, file has %llu", name,
				(unsigned long long)h->file_size, (unsigned long long)size);
	if (size > h->file_size)
		return rbe_fail(e, -EINVAL, "%s: trailing data: header says %llu bytes, file has %llu", name,
				(unsigned long long)h->file_size, (unsigned long long)size);
	if (h->header_size < RBDS_HEADER_SIZE || h->header_size % 8 != 0 || h->header_size > size)
		return rbe_fail(e, -EINVAL, "%s: bad header size %u (file has %llu bytes)", name,
				h->header_size, (unsigned long long)size);
	return 0;
}

/* A string offset array, checked and turned into pointers. The blob ends with NUL, so every
 * offset inside it starts a terminated string. */
static int resolve_strings(const uint64_t *offs, size_t n, const char *blob, uint64_t blob_size,
			   const char **out, const char *what, const char *name, rbe_error *e)
{
	for (size_t i = 0; i < n; i++) {
		if (offs[i] >= blob_size)
			return rbe_fail(e, -EINVAL,
					"%s: %s %zu: string offset %llu is past the end of the string blob (%llu bytes)",
					name, what, i, (unsigned long long)offs[i], (unsigned long long)blob_size);
		out[i] = blob + offs[i];
	}
	return 0;
}

static int cmp_by_offset(const void *a, const void *b)
{
	const struct rbds_section *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int checked_size(uint64_t count, uint64_t count2, uint64_t elem, uint64_t *out)
{
	uint64_t t;
	return __builtin_mul_overflow(count, count2, &t) || __builtin_mul_overflow(t, elem, out) ? -1 : 0;
}

static const char *section_name(uint32_t id, char buf[32])
{
	if (id <= SEC_KNOWN_MAX && section_names[id])
		return section_names[id];
	snprintf(buf, 32, "#%u", id);
	return buf;
}

/* The whole file is mapped at base, size bytes, header already checked. Fills ds and s. */
/* The section table: every entry aligned and inside the data area, each known section once.
 * known[id] points into tab. */
static int check_section_table(const struct rbds_section *tab, const struct rbds_header *h, uint64_t size,
			       const char *name, const struct rbds_section *known[SEC_KNOWN_MAX + 1], rbe_error *e)
{
	uint64_t table_end = h->header_size + (uint64_t)h->n_sections * sizeof(struct rbds_section);
	char nb[32];
	for (uint32_t k = 0; k < h->n_sections; k++) {
		const struct rbds_section *t = &tab[k];
		const char *sn = section_name(t->id, nb);
		if (t->offset % RBDS_ALIGN != 0)
			return rbe_fail(e, -EINVAL, "%s: section %s: offset %llu is not a multiple of %u", name, sn,
					(unsigned long long)t->offset, RBDS_ALIGN);
		if (t->offset < table_end || t->offset > size || t->size > size - t->offset)
			return rbe_fail(e, -EINVAL,
					"%s: section %s: offset %llu + size %llu is outside the file's data area [%llu, %llu)",
					name, sn, (unsigned long long)t->offset, (unsigned long long)t->size,
					(unsigned long long)table_end, (unsigned long long)size);
		if (t->id <= SEC_KNOWN_MAX && section_names[t->id]) {
			if (known[t->id])
				return rbe_fail(e, -EINVAL, "%s: section %s appears twice", name, sn);
			known[t->id] = t;
		}
	}
	return 0;
}

/* No two non-empty sections overlap: sort a copy by offset and compare each one with the
 * furthest-reaching before it. */
static int check_overlaps(const struct rbds_section *tab, uint32_t n_sections, const char *name, rbe_error *e)
{
	struct rbds_section *sorted = rbe_xcalloc(n_sections ? n_sections : 1, sizeof(*sorted));
	memcpy(sorted, tab, (size_t)n_sections * sizeof(*tab));
	qsort(sorted, n_sections, sizeof(*sorted), cmp_by_offset);
	uint64_t reach = 0;
	uint32_t reach_id = 0;
	int r = 0;
	for (uint32_t k = 0; k < n_sections && !r; k++) {
		if (!sorted[k].size)
			continue;
		if (sorted[k].offset < reach) {
			char nb[32], nb2[32];
			r = rbe_fail(e, -EINVAL, "%s: sections %s and %s overlap", name, section_name(reach_id, nb),
				     section_name(sorted[k].id, nb2));
		}
		if (sorted[k].offset + sorted[k].size > reach) {
			reach = sorted[k].offset + sorted[k].size;
			reach_id = sorted[k].id;
		}
	}
	free(sorted);
	return r;
}

/* The exact size section id must have for the header's counts; 1 when they overflow. */
static int section_size_needed(uint32_t id, const struct rbds_header *h, const struct rbds_section *t, uint64_t *need)
{
	uint64_t n = h->n_samples, m = h->n_models;
	*need = 0;
	switch (id) {
	case SEC_META: *need = 16; return 0;
	case SEC_MODELS: return checked_size(m, 1, 8, need);
	case SEC_EVALS: return checked_size(h->n_evals, 1, 8, need);
	case SEC_SAMPLE_EVAL: return checked_size(n, 1, 4, need);
	case SEC_SAMPLE_ID: return checked_size(n, 1, 8, need);
	case SEC_PROMPT: return checked_size(n, 1, 8, need);
	case SEC_QUALITY: return checked_size(n, m, 4, need);
	case SEC_COST: return checked_size(n, m, 8, need);
	case SEC_RESPONSES: return checked_size(n, m, 8, need);
	case SEC_PROMPT_TOKENS: return checked_size(n, 1, 4, need);
	case SEC_COMPLETION_TOKENS: return checked_size(n, m, 4, need);
	case SEC_FEATURES: return checked_size(n, h->feature_dim, 4, need);
	case SEC_STRINGS: *need = t->size; return 0;
	}
	return 0;
}

/* Which sections must be there (the required ones, and the optional ones whose header flag is
 * set), and their exact sizes. */
static int check_sections_present(const struct rbds_header *h, const struct rbds_section *const known[],
				  const char *name, rbe_error *e)
{
	static const struct {
		uint32_t id, flag;
		int required;
	} want[] = {
		{SEC_META, 0, 1},
		{SEC_MODELS, 0, 1},
		{SEC_EVALS, 0, 1},
		{SEC_SAMPLE_EVAL, 0, 1},
		{SEC_SAMPLE_ID, 0, 1},
		{SEC_PROMPT, 0, 1},
		{SEC_QUALITY, 0, 1},
		{SEC_COST, 0, 1},
		{SEC_RESPONSES, RBDS_F_RESPONSES, 0},
		{SEC_PROMPT_TOKENS, RBDS_F_PROMPT_TOKENS, 0},
		{SEC_COMPLETION_TOKENS, RBDS_F_COMPLETION_TOKENS, 0},
		{SEC_FEATURES, RBDS_F_FEATURES, 0},
		{SEC_STRINGS, 0, 1},
	};
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		uint32_t id = want[w].id;
		const struct rbds_section *t = known[id];
		int expected = want[w].required || (h->flags & want[w].flag);
		if (id == SEC_FEATURES && (h->feature_dim != 0) != !!(h->flags & RBDS_F_FEATURES))
			return rbe_fail(e, -EINVAL, "%s: feature_dim is %u but the features flag is %s", name,
					h->feature_dim, h->flags & RBDS_F_FEATURES ? "set" : "clear");
		if (expected && !t)
			return rbe_fail(e, -EINVAL, "%s: required section %s is missing", name, section_names[id]);
		if (!expected && t)
			return rbe_fail(e, -EINVAL, "%s: section %s is present but its header flag is clear", name,
					section_names[id]);
		if (!t)
			continue;
		uint64_t need;
		if (section_size_needed(id, h, t, &need))
			return rbe_fail(e, -EINVAL, "%s: section %s: the header's counts overflow its size", name,
					section_names[id]);
		if (t->size != need)
			return rbe_fail(e, -EINVAL, "%s: section %s has %llu bytes, expected %llu", name,
					section_names[id], (unsigned long long)t->size, (unsigned long long)need);
	}
	return 0;
}

/* Point ds's string arrays and value arrays into the mapped file; s->ptrs owns the pointer
 * arrays. Sizes are already bounded by the file, so the counts cannot overflow. */
static int bind_dataset(const uint8_t *base, const struct rbds_header *h, const struct rbds_section *const known[],
			const char *name, rbe_dataset *ds, struct rbds_store *s, rbe_error *e)
{
	uint64_t n = h->n_samples, m = h->n_models;
	/* Strings: the blob must end with NUL, then any offset inside it is a terminated string. */
	const char *blob = (const char *)base + known[SEC_STRINGS]->offset;
	uint64_t blob_size = known[SEC_STRINGS]->size;
	if (blob_size == 0 || blob[blob_size - 1] != '\0')
		return rbe_fail(e, -EINVAL, "%s: section STRINGS: unterminated string at the end of the blob", name);
	size_t nresp = known[SEC_RESPONSES] ? (size_t)(n * m) : 0;
	size_t nptr = (size_t)m + h->n_evals + 2 * (size_t)n + nresp;
	s->ptrs = malloc(nptr * sizeof(char *));
	if (!s->ptrs)
		return rbe_fail(e, -ENOMEM, "%s: out of memory for %zu string pointers", name, nptr);
	ds->model_names = s->ptrs;
	ds->eval_names = ds->model_names + m;
	ds->sample_ids = ds->eval_names + h->n_evals;
	ds->prompts = ds->sample_ids + n;
	ds->responses = nresp ? ds->prompts + n : NULL;
#define SEC(id) ((const void *)(base + known[id]->offset))
	const char *meta[2] = {NULL, NULL};
	int r;
	if ((r = resolve_strings(SEC(SEC_META), 2, blob, blob_size, meta, "META string", name, e)) < 0 ||
	    (r = resolve_strings(SEC(SEC_MODELS), m, blob, blob_size, ds->model_names, "model", name, e)) < 0 ||
	    (r = resolve_strings(SEC(SEC_EVALS), h->n_evals, blob, blob_size, ds->eval_names, "eval", name,
				 e)) < 0 ||
	    (r = resolve_strings(SEC(SEC_SAMPLE_ID), n, blob, blob_size, ds->sample_ids, "sample_id of sample",
				 name, e)) < 0 ||
	    (r = resolve_strings(SEC(SEC_PROMPT), n, blob, blob_size, ds->prompts, "prompt of sample", name,
				 e)) < 0 ||
	    (nresp && (r = resolve_strings(SEC(SEC_RESPONSES), nresp, blob, blob_size, ds->responses,
					   "response", name, e)) < 0))
		return r;
	s->stored_name = meta[0];
	ds->n = n;
	ds->n_models = h->n_models;
	ds->n_evals = h->n_evals;
	ds->eval = SEC(SEC_SAMPLE_EVAL);
	ds->quality = SEC(SEC_QUALITY);
	ds->cost = SEC(SEC_COST);
	ds->prompt_tokens = known[SEC_PROMPT_TOKENS] ? SEC(SEC_PROMPT_TOKENS) : NULL;
	ds->completion_tokens = known[SEC_COMPLETION_TOKENS] ? SEC(SEC_COMPLETION_TOKENS) : NULL;
	ds->feature_dim = h->feature_dim;
	ds->features = h->feature_dim ? SEC(SEC_FEATURES) : NULL;
	ds->feature_name = h->feature_dim ? meta[1] : NULL;
#undef SEC
	memcpy(ds->sha256, h->content_sha256, 32);
	return 0;
}

static int parse(const uint8_t *base, uint64_t size, const struct rbds_header *h, unsigned flags,
		 const char *name, rbe_dataset *ds, struct rbds_store *s, rbe_error *e)
{
	if (!(flags & RBE_RBDS_TRUST_HASH)) {
		uint8_t sum[32];
		rbe_sha256_buf(base + h->header_size, size - h->header_size, sum);
		if (memcmp(sum, h->content_sha256, 32) != 0)
			return rbe_fail(e, -EBADMSG, "%s: checksum mismatch: the file is corrupted or was modified",
					name);
	}
	uint64_t room = size - h->header_size;
	if (h->n_sections > room / sizeof(struct rbds_section))
		return rbe_fail(e, -EINVAL, "%s: section table (%u entries) runs past the end of the file", name,
				h->n_sections);
	/* A copy of the table: the mapping may not be aligned for it. */
	struct rbds_section *tab = rbe_xcalloc(h->n_sections ? h->n_sections : 1, sizeof(*tab));
	memcpy(tab, base + h->header_size, (size_t)h->n_sections * sizeof(*tab));
	const struct rbds_section *known[SEC_KNOWN_MAX + 1] = {0};
	int r = check_section_table(tab, h, size, name, known, e);
	if (r == 0)
		r = check_overlaps(tab, h->n_sections, name, e);
	if (r == 0 && (h->n_samples == 0 || h->n_models == 0))
		r = rbe_fail(e, -EINVAL, "%s: the dataset has no %s", name, h->n_samples == 0 ? "samples" : "models");
	if (r == 0)
		r = check_sections_present(h, known, name, e);
	if (r == 0)
		r = bind_dataset(base, h, known, name, ds, s, e);
	if (r == 0 && (r = check_dataset(ds, !(flags & RBE_RBDS_TRUST_VALUES), e)) < 0)
		rbe_error_prefix(e, "%s", name);
	free(tab);
	return r;
}

int rbe_rbds_open_fd_ex(int fd, const char *display_name, unsigned flags, rbe_dataset **out,
			rbe_error *e)
{
	const char *name = display_name ? display_name : "(dataset)";
	struct stat st;
	if (fstat(fd, &st) != 0)
		return rbe_fail(e, -errno, "%s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return rbe_fail(e, -EINVAL, "%s: not a regular file", name);
	uint64_t size = (uint64_t)st.st_size;
	struct rbds_header h;
	if (size < RBDS_HEADER_SIZE) {
		/* Too short to map meaningfully: read what is there for the precise message. */
		uint8_t head[RBDS_HEADER_SIZE];
		ssize_t got = pread(fd, head, sizeof(head), 0);
		if (got < 0)
			return rbe_fail(e, -errno, "%s: %s", name, strerror(errno));
		int r = check_header(head, (uint64_t)got, name, &h, e);
		return r < 0 ? r : rbe_fail(e, -EINVAL, "%s: truncated: file has %llu bytes, the header alone is %u",
					    name, (unsigned long long)got, RBDS_HEADER_SIZE);
	}
	/* Hashing reads every page anyway: prefault them in one go. */
	int mflags = MAP_SHARED | (flags & RBE_RBDS_TRUST_HASH ? 0 : MAP_POPULATE);
	void *map = mmap(NULL, size, PROT_READ, mflags, fd, 0);
	if (map == MAP_FAILED)
		return rbe_fail(e, -errno, "%s: cannot map %llu bytes: %s", name, (unsigned long long)size,
				strerror(errno));
	int r = check_header(map, size, name, &h, e);
	if (r < 0) {
		munmap(map, size);
		return r;
	}
	rbe_dataset *ds = rbe_xcalloc(1, sizeof(*ds));
	struct rbds_store *s = rbe_xcalloc(1, sizeof(*s));
	s->base.release = rbds_release;
	s->map = map;
	s->map_len = size;
	s->format_version = h.version;
	r = parse(map, size, &h, flags, name, ds, s, e);
	if (r < 0) {
		rbds_release(&s->base);
		free(ds);
		return r;
	}
	s->name = file_stem(name);
	ds->name = s->name;
	ds->store = &s->base;
	*out = ds;
	return 0;
}

int rbe_rbds_open_fd(int fd, const char *display_name, rbe_dataset **out, rbe_error *e)
{
	return rbe_rbds_open_fd_ex(fd, display_name, 0, out, e);
}

int rbe_rbds_open(const char *path, rbe_dataset **out, rbe_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	int r = rbe_rbds_open_fd(fd, path, out, e);
	close(fd);
	return r;
}

int rbe_rbds_hash(const char *path, uint8_t sha256[32], rbe_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	uint8_t head[RBDS_HEADER_SIZE];
	ssize_t got = -1;
	int r = 0;
	if (fstat(fd, &st) != 0 || (got = pread(fd, head, sizeof(head), 0)) < 0)
		r = rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	close(fd);
	if (r < 0)
		return r;
	struct rbds_header h;
	/* A short read of a long file would look like truncation: judge by what was read. */
	r = check_header(head, (uint64_t)got < RBDS_HEADER_SIZE ? (uint64_t)got : (uint64_t)st.st_size,
			 path, &h, e);
	if (r < 0)
		return r;
	if ((uint64_t)got < RBDS_HEADER_SIZE)
		return rbe_fail(e, -EINVAL, "%s: truncated: file has %lld bytes, the header alone is %u", path,
				(long long)got, RBDS_HEADER_SIZE);
	memcpy(sha256, h.content_sha256, 32);
	return 0;
}

int rbe_rbds_info_of(const rbe_dataset *ds, rbe_rbds_info *out)
{
	if (!ds || !ds->store || ds->store->release != rbds_release)
		return -EINVAL;
	const struct rbds_store *s = (const struct rbds_store *)ds->store;
	out->format_version = s->format_version;
	out->file_size = s->map_len;
	out->stored_name = s->stored_name;
	return 0;
}
