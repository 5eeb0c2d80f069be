/* gen-rbds-corpus.c — writes the seed corpus of fuzz-rbds: small valid files from the builder and
 * rbe_rbds_write, and damaged copies that each break one rule of docs/rbds-format.md.
 * Run once by hand (tests/fuzz/README.md); the output is committed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "data/rbds_format.h"
#include "lib/util.h"

/* Header offsets and section ids, restated from docs/rbds-format.md. */
enum { OFF_VERSION = 8, OFF_HEADER_SIZE = 12, OFF_FILE_SIZE = 16, OFF_N_SAMPLES = 24, OFF_N_MODELS = 32,
       OFF_N_EVALS = 36, OFF_FEATURE_DIM = 40, OFF_N_SECTIONS = 44, OFF_FLAGS = 48, OFF_HASH = 56,
       HDR = 128, ENTRY = 24 };
enum { S_META = 1, S_MODELS, S_EVALS, S_SAMPLE_EVAL, S_SAMPLE_ID, S_PROMPT, S_QUALITY, S_COST,
       S_RESPONSES, S_PROMPT_TOKENS, S_COMPLETION_TOKENS, S_FEATURES, S_STRINGS };
enum { WANT_RESPONSES = 1, WANT_TOKENS = 2, WANT_FEATURES = 4 };

static const char *outdir;

static void die(const char *what, const rbe_error *e)
{
	fprintf(stderr, "gen-rbds-corpus: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(1);
}

static rbe_dataset *make(size_t n, uint32_t m, uint32_t n_evals, int want)
{
	static const char *const models[] = {"gpt-4-1106-preview", "claude-v1", "mistral/7b", "m\xc3\xa9"};
	static const char *const evals[] = {"mmlu-algebra", "gsm8k", "mbpp"};
	rbe_builder *b = rbe_builder_new(m, models);
	if (want & WANT_RESPONSES)
		rbe_builder_want_responses(b);
	if (want & WANT_TOKENS)
		rbe_builder_want_tokens(b);
	if (want & WANT_FEATURES)
		rbe_builder_want_features(b, 3, "embedding");
	for (size_t i = 0; i < n; i++) {
		char id[32], prompt[64], resp[4][32];
		const char *rp[4];
		float q[4], feat[3];
		double c[4];
		uint32_t ct[4];
		snprintf(id, sizeof(id), "s.%zu", i);
		snprintf(prompt, sizeof(prompt), "What is %zu+%zu?%s", i, i, i % 2 ? "\n\xe2\x82\xac" : "");
		for (uint32_t j = 0; j < m; j++) {
			q[j] = (float)((i + j) % 3) / 2.0f;
			c[j] = 1e-4 * (double)(j + 1);
			ct[j] = (uint32_t)(i * 10 + j);
			snprintf(resp[j], sizeof(resp[j]), "answer %zu", i + j);
			if (i == 0 && j == 0)
				resp[j][0] = '\0'; /* an empty response, as the importer stores a missing one */
			rp[j] = resp[j];
		}
		for (int k = 0; k < 3; k++)
			feat[k] = (float)i - 0.5f * (float)k;
		rbe_sample_in s = {
			.sample_id = id,
			.eval_name = evals[i % n_evals],
			.prompt = prompt,
			.quality = q,
			.cost = c,
			.responses = rp,
			.prompt_tokens = (uint32_t)(5 + i),
			.completion_tokens = ct,
			.features = feat,
		};
		rbe_error e = {0};
		if (rbe_builder_add(b, &s, &e) < 0)
			die("builder", &e);
	}
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	if (rbe_builder_finish(b, &ds, &e) < 0)
		die("builder", &e);
	return ds;
}

static char *path_of(const char *name)
{
	size_t len = strlen(outdir) + strlen(name) + 2;
	char *p = rbe_xmalloc(len);
	snprintf(p, len, "%s/%s", outdir, name);
	return p;
}

/* Writes ds as name, then returns the file's bytes (owned: free). */
static uint8_t *write_valid(const char *name, rbe_dataset *ds, size_t *len)
{
	char *p = path_of(name);
	rbe_error e = {0};
	if (rbe_rbds_write(ds, p, &e) < 0)
		die(p, &e);
	char *data = NULL;
	if (rbe_read_file(p, &data, len, &e) < 0)
		die(p, &e);
	free(p);
	rbe_dataset_free(ds);
	return (uint8_t *)data;
}

static void put(const char *name, const uint8_t *data, size_t len)
{
	char *p = path_of(name);
	FILE *fp = fopen(p, "wb");
	if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		die(p, NULL);
	free(p);
}

static uint32_t get32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}
static uint64_t get64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}
static void set32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void set64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* Offset of section id's table entry. */
static size_t entry_of(const uint8_t *b, uint32_t id)
{
	uint32_t n = get32(b, OFF_N_SECTIONS);
	for (uint32_t k = 0; k < n; k++)
		if (get32(b, HDR + (size_t)k * ENTRY) == id)
			return HDR + (size_t)k * ENTRY;
	fprintf(stderr, "gen-rbds-corpus: no section %u\n", id);
	exit(1);
}
static size_t sec_off(const uint8_t *b, uint32_t id) { return (size_t)get64(b, entry_of(b, id) + 8); }
static size_t sec_size(const uint8_t *b, uint32_t id) { return (size_t)get64(b, entry_of(b, id) + 16); }

/* A damaged copy: edit runs on a private copy; fix_hash recomputes the content hash so the
 * damage is what the reader reports, not the checksum. */
typedef void (*edit_fn)(uint8_t *b, size_t *len);

static void variant(const char *name, const uint8_t *src, size_t len, edit_fn edit, int fix_hash)
{
	uint8_t *b = rbe_xmalloc(len + 64);
	memcpy(b, src, len);
	memset(b + len, 0, 64);
	edit(b, &len);
	if (fix_hash && len >= HDR)
		rbe_sha256_buf(b + HDR, len - HDR, b + OFF_HASH);
	put(name, b, len);
	free(b);
}

static void e_trunc_header(uint8_t *b, size_t *len) { (void)b; *len = 100; }
static void e_trunc_tiny(uint8_t *b, size_t *len) { (void)b; *len = 12; }
static void e_trunc_half(uint8_t *b, size_t *len) { (void)b; *len /= 2; }
static void e_trunc_fixed(uint8_t *b, size_t *len)
{
	*len -= 8;
	set64(b, OFF_FILE_SIZE, *len);
}
static void e_trailing(uint8_t *b, size_t *len) { (void)b; *len += 64; }
static void e_magic(uint8_t *b, size_t *len) { (void)len; b[3] = 'X'; }
static void e_version2(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_VERSION, 2); }
static void e_version0(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_VERSION, 0); }
static void e_header_size(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_HEADER_SIZE, 120); }
static void e_header_size_huge(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_HEADER_SIZE, 0xFFFFFFF8u); }
static void e_nsections_huge(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_N_SECTIONS, 0xFFFFFFFFu); }
static void e_nsections_zero(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_N_SECTIONS, 0); }
static void e_body_flip(uint8_t *b, size_t *len) { b[*len - 1] ^= 1; }
static void e_unaligned(uint8_t *b, size_t *len)
{
	(void)len;
	set64(b, entry_of(b, S_QUALITY) + 8, sec_off(b, S_QUALITY) + 4);
}
static void e_overlap(uint8_t *b, size_t *len)
{
	(void)len;
	set64(b, entry_of(b, S_COST) + 8, sec_off(b, S_QUALITY));
}
static void e_past_end(uint8_t *b, size_t *len)
{
	set64(b, entry_of(b, S_STRINGS) + 16, *len);
}
static void e_offset_huge(uint8_t *b, size_t *len)
{
	(void)len;
	set64(b, entry_of(b, S_PROMPT) + 8, 0xFFFFFFFFFFFFFFC0ull);
}
static void e_size_wrap(uint8_t *b, size_t *len)
{
	(void)len;
	set64(b, entry_of(b, S_STRINGS) + 16, 0xFFFFFFFFFFFFFFFFull);
}
static void e_dup_id(uint8_t *b, size_t *len)
{
	(void)len;
	set32(b, entry_of(b, S_PROMPT), S_SAMPLE_ID);
}
static void e_missing_strings(uint8_t *b, size_t *len)
{
	(void)len;
	set32(b, entry_of(b, S_STRINGS), 99); /* an unknown id: skipped, so STRINGS is missing */
}
static void e_flag_without_section(uint8_t *b, size_t *len) { (void)len; set64(b, OFF_FLAGS, 1); }
static void e_flag_clear(uint8_t *b, size_t *len) { (void)len; set64(b, OFF_FLAGS, 0); }
static void e_feature_dim(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_FEATURE_DIM, 0); }
static void e_samples_plus(uint8_t *b, size_t *len) { (void)len; set64(b, OFF_N_SAMPLES, get64(b, OFF_N_SAMPLES) + 1); }
static void e_samples_zero(uint8_t *b, size_t *len) { (void)len; set64(b, OFF_N_SAMPLES, 0); }
static void e_samples_huge(uint8_t *b, size_t *len) { (void)len; set64(b, OFF_N_SAMPLES, 1ull << 62); }
static void e_models_zero(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_N_MODELS, 0); }
static void e_models_huge(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_N_MODELS, 0xFFFFFFFFu); }
static void e_evals_zero(uint8_t *b, size_t *len) { (void)len; set32(b, OFF_N_EVALS, 0); }
static void e_unterminated(uint8_t *b, size_t *len)
{
	(void)len;
	b[sec_off(b, S_STRINGS) + sec_size(b, S_STRINGS) - 1] = 'x';
}
static void e_string_past_end(uint8_t *b, size_t *len)
{
	(void)len;
	set64(b, sec_off(b, S_PROMPT), sec_size(b, S_STRINGS));
}
static void e_quality_nan(uint8_t *b, size_t *len)
{
	(void)len;
	float v = NAN;
	memcpy(b + sec_off(b, S_QUALITY) + 4, &v, 4);
}
static void e_quality_high(uint8_t *b, size_t *len)
{
	(void)len;
	float v = 1.5f;
	memcpy(b + sec_off(b, S_QUALITY), &v, 4);
}
static void e_cost_negative(uint8_t *b, size_t *len)
{
	(void)len;
	double v = -1e-9;
	memcpy(b + sec_off(b, S_COST) + 8, &v, 8);
}
static void e_cost_inf(uint8_t *b, size_t *len)
{
	(void)len;
	double v = INFINITY;
	memcpy(b + sec_off(b, S_COST), &v, 8);
}
static void e_feature_inf(uint8_t *b, size_t *len)
{
	(void)len;
	float v = -INFINITY;
	memcpy(b + sec_off(b, S_FEATURES) + 4, &v, 4);
}
static void e_eval_range(uint8_t *b, size_t *len)
{
	(void)len;
	set32(b, sec_off(b, S_SAMPLE_EVAL) + 4, get32(b, OFF_N_EVALS));
}
static void e_dup_sample(uint8_t *b, size_t *len)
{
	(void)len;
	size_t o = sec_off(b, S_SAMPLE_ID);
	set64(b, o + 8, get64(b, o));
}
static void e_dup_model(uint8_t *b, size_t *len)
{
	(void)len;
	size_t o = sec_off(b, S_MODELS);
	set64(b, o + 8, get64(b, o));
}
static void e_dup_eval(uint8_t *b, size_t *len)
{
	(void)len;
	size_t o = sec_off(b, S_EVALS);
	set64(b, o + 8, get64(b, o));
}
/* Allowed: an unknown section id is skipped (it still has to lie inside the file). */
static void e_unknown_section(uint8_t *b, size_t *len)
{
	(void)len;
	set32(b, entry_of(b, S_PROMPT_TOKENS), 200);
	set64(b, OFF_FLAGS, get64(b, OFF_FLAGS) & ~2ull);
}
/* Allowed: the string blob may be shared, any offset inside it is a string. */
static void e_shared_strings(uint8_t *b, size_t *len)
{
	(void)len;
	size_t o = sec_off(b, S_PROMPT), n = get64(b, OFF_N_SAMPLES);
	for (size_t i = 1; i < n; i++)
		set64(b, o + 8 * i, get64(b, o));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	size_t len;
	free(write_valid("valid-min", make(1, 1, 1, 0), &len));
	free(write_valid("valid-resp", make(4, 3, 2, WANT_RESPONSES), &len));
	free(write_valid("valid-feat", make(2, 1, 1, WANT_FEATURES), &len));
	uint8_t *all = write_valid("valid-all", make(3, 2, 2, WANT_RESPONSES | WANT_TOKENS | WANT_FEATURES),
				   &len);

	static const struct {
		const char *name;
		edit_fn edit;
		int fix_hash;
	} v[] = {
		{"bad-trunc-tiny", e_trunc_tiny, 0},
		{"bad-trunc-header", e_trunc_header, 0},
		{"bad-trunc-half", e_trunc_half, 0},
		{"bad-trunc-size-fixed", e_trunc_fixed, 1},
		{"bad-trailing", e_trailing, 0},
		{"bad-magic", e_magic, 0},
		{"bad-version-2", e_version2, 0},
		{"bad-version-0", e_version0, 0},
		{"bad-header-size", e_header_size, 0},
		{"bad-header-size-huge", e_header_size_huge, 0},
		{"bad-n-sections-huge", e_nsections_huge, 0},
		{"bad-n-sections-zero", e_nsections_zero, 0},
		{"bad-checksum", e_body_flip, 0},
		{"bad-section-unaligned", e_unaligned, 1},
		{"bad-section-overlap", e_overlap, 1},
		{"bad-section-past-end", e_past_end, 1},
		{"bad-section-offset-huge", e_offset_huge, 1},
		{"bad-section-size-wrap", e_size_wrap, 1},
		{"bad-section-twice", e_dup_id, 1},
		{"bad-strings-missing", e_missing_strings, 1},
		{"bad-flags-cleared", e_flag_clear, 0},
		{"bad-feature-dim", e_feature_dim, 0},
		{"bad-n-samples-plus-one", e_samples_plus, 0},
		{"bad-n-samples-zero", e_samples_zero, 0},
		{"bad-n-samples-huge", e_samples_huge, 0},
		{"bad-n-models-zero", e_models_zero, 0},
		{"bad-n-models-huge", e_models_huge, 0},
		{"bad-n-evals-zero", e_evals_zero, 0},
		{"bad-strings-unterminated", e_unterminated, 1},
		{"bad-string-offset", e_string_past_end, 1},
		{"bad-quality-nan", e_quality_nan, 1},
		{"bad-quality-high", e_quality_high, 1},
		{"bad-cost-negative", e_cost_negative, 1},
		{"bad-cost-inf", e_cost_inf, 1},
		{"bad-feature-inf", e_feature_inf, 1},
		{"bad-eval-index", e_eval_range, 1},
		{"bad-dup-sample-id", e_dup_sample, 1},
		{"bad-dup-model", e_dup_model, 1},
		{"bad-dup-eval", e_dup_eval, 1},
		{"ok-unknown-section", e_unknown_section, 1},
		{"ok-shared-strings", e_shared_strings, 1},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		variant(v[k].name, all, len, v[k].edit, v[k].fix_hash);
	free(all);

	/* The minimal file with a flag for a section it does not have. */
	char *p = path_of("valid-min");
	char *min = NULL;
	rbe_error e = {0};
	if (rbe_read_file(p, &min, &len, &e) < 0)
		die(p, &e);
	free(p);
	variant("bad-flag-without-section", (uint8_t *)min, len, e_flag_without_section, 0);
	free(min);
	return 0;
}
