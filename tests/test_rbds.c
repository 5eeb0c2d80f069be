/* test_rbds.c — the .rbds file: round-trip, determinism, every refusal, and rbctl info. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.h"
#include "helpers.h"
#include "data/rbds_format.h"
#include "lib/util.h"

/* The byte layout from docs/rbds-format.md, restated here so the tests check the document. */
#define HDR_SIZE 128
#define OFF_VERSION 8
#define OFF_HEADER_SIZE 12
#define OFF_FILE_SIZE 16
#define OFF_N_SAMPLES 24
#define OFF_N_MODELS 32
#define OFF_N_EVALS 36
#define OFF_FEATURE_DIM 40
#define OFF_N_SECTIONS 44
#define OFF_FLAGS 48
#define OFF_HASH 56
enum { S_META = 1, S_MODELS, S_EVALS, S_SAMPLE_EVAL, S_SAMPLE_ID, S_PROMPT, S_QUALITY, S_COST,
       S_RESPONSES, S_PROMPT_TOKENS, S_COMPLETION_TOKENS, S_FEATURES, S_STRINGS };

enum { WANT_RESPONSES = 1, WANT_TOKENS = 2, WANT_FEATURES = 4, WANT_ALL = 7 };

static const char *const evals[] = {"mmlu-algebra", "mmlu-history", "gsm8k", "hellaswag", "mbpp"};

/* A deterministic dataset of n samples × m models; the same arguments give the same data. */
static rbe_dataset *make_ds(size_t n, uint32_t m, int want, size_t text)
{
	char **names = rbe_xcalloc(m, sizeof(char *));
	for (uint32_t j = 0; j < m; j++) {
		names[j] = rbe_xmalloc(32);
		snprintf(names[j], 32, "model-%u", j);
	}
	rbe_builder *b = rbe_builder_new(m, (const char *const *)names);
	rbe_builder_set_name(b, "synthetic");
	if (want & WANT_RESPONSES)
		rbe_builder_want_responses(b);
	if (want & WANT_TOKENS)
		rbe_builder_want_tokens(b);
	if (want & WANT_FEATURES)
		rbe_builder_want_features(b, 5, "embedding");
	float *q = rbe_xcalloc(m, sizeof(float));
	double *c = rbe_xcalloc(m, sizeof(double));
	uint32_t *ct = rbe_xcalloc(m, sizeof(uint32_t));
	char **resp = rbe_xcalloc(m, sizeof(char *));
	char *prompt = rbe_xmalloc(text + 64);
	for (uint32_t j = 0; j < m; j++)
		resp[j] = rbe_xmalloc(64);
	float feat[5];
	char id[32];
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "sample-%zu", i);
		int len = snprintf(prompt, 64, "prompt %zu: ", i);
		memset(prompt + len, 'a' + (int)(i % 26), text);
		prompt[len + text] = '\0';
		for (uint32_t j = 0; j < m; j++) {
			q[j] = (float)((i * 7 + j * 3) % 11) / 10.0f;
			c[j] = (j + 1) * 1e-5 * (double)(i % 5 + 1);
			ct[j] = (uint32_t)(i + j);
			snprintf(resp[j], 64, "response %zu/%u", i, j);
		}
		for (int k = 0; k < 5; k++)
			feat[k] = (float)i * 0.5f - (float)k;
		rbe_sample_in s = {
			.sample_id = id,
			.eval_name = evals[i % 5],
			.prompt = prompt,
			.quality = q,
			.cost = c,
			.responses = (const char *const *)resp,
			.prompt_tokens = (uint32_t)(3 * i),
			.completion_tokens = ct,
			.features = feat,
		};
		rbe_error e = {0};
		cr_assert_eq(rbe_builder_add(b, &s, &e), 0, "%s", e.msg);
	}
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), 0, "%s", e.msg);
	for (uint32_t j = 0; j < m; j++) {
		free(names[j]);
		free(resp[j]);
	}
	free(names);
	free(resp);
	free(q);
	free(c);
	free(ct);
	free(prompt);
	return ds;
}

/* Each test gets its own directory; removed at the end when the test passes. */
static char tmpdir[256];

static void setup_dir(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/rbds-test-XXXXXX", t && *t ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown_dir(void)
{
	DIR *d = opendir(tmpdir);
	if (!d)
		return;
	struct dirent *de;
	char p[512];
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(tmpdir);
}

TestSuite(rbds, .init = setup_dir, .fini = teardown_dir);

static char *path_in(const char *name)
{
	char *p = rbe_xmalloc(512);
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t k = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			k++;
	closedir(d);
	return k;
}

static void write_ok(const rbe_dataset *ds, const char *path)
{
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_write(ds, path, &e), 0, "%s", e.msg);
}

static rbe_dataset *open_ok(const char *path)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	cr_assert_not_null(ds);
	return ds;
}

/* Open must fail with a message containing want, and leave out untouched. */
static void open_fails(const char *path, const char *want)
{
	rbe_dataset *ds = (rbe_dataset *)0x1;
	rbe_error e = {0};
	int r = rbe_rbds_open(path, &ds, &e);
	cr_assert_lt(r, 0, "opened a bad file (expected '%s')", want);
	cr_expect_eq(e.code, r);
	cr_expect_eq(ds, (rbe_dataset *)0x1);
	cr_expect(strstr(e.msg, want) != NULL, "message '%s' lacks '%s'", e.msg, want);
	cr_expect(strncmp(e.msg, path, strlen(path)) == 0, "message '%s' does not start with the path", e.msg);
}

static void read_all(const char *path, uint8_t **buf, size_t *len)
{
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(path, (char **)buf, len, &e), 0, "%s", e.msg);
}

static void write_all(const char *path, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
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
static void put32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* Byte offset of the section-table entry for id, or 0 when absent. */
static size_t entry_of(const uint8_t *b, uint32_t id)
{
	uint32_t hs = get32(b, OFF_HEADER_SIZE), ns = get32(b, OFF_N_SECTIONS);
	for (uint32_t k = 0; k < ns; k++)
		if (get32(b, hs + 24 * k) == id)
			return hs + 24 * k;
	return 0;
}
static uint64_t sec_off(const uint8_t *b, uint32_t id) { return get64(b, entry_of(b, id) + 8); }
static uint64_t sec_size(const uint8_t *b, uint32_t id) { return get64(b, entry_of(b, id) + 16); }

/* After patching the body, store its correct hash so the deeper checks are what refuses it. */
static void fix_hash(uint8_t *b, size_t len)
{
	uint32_t hs = get32(b, OFF_HEADER_SIZE);
	rbe_sha256_buf(b + hs, len - hs, b + OFF_HASH);
}

/* A small valid file with every section; returns its bytes (owned). */
static uint8_t *good_file(const char *path, size_t *len, int want)
{
	rbe_dataset *ds = make_ds(20, 3, want, 10);
	write_ok(ds, path);
	rbe_dataset_free(ds);
	uint8_t *b;
	read_all(path, &b, len);
	return b;
}


/* ---- round trip ---------------------------------------------------------------------------- */

Test(rbds, round_trip_required_sections)
{
	rbe_dataset *ds = make_ds(50, 4, 0, 20);
	char *p = path_in("plain.rbds");
	write_ok(ds, p);
	static const uint8_t zero[32];
	cr_expect_eq(memcmp(ds->sha256, zero, 32), 0, "writing must not touch the dataset");
	rbe_dataset *rd = open_ok(p);
	expect_same_dataset(ds, rd);
	cr_expect_str_eq(rd->name, "plain");
	cr_expect_neq(memcmp(rd->sha256, zero, 32), 0);
	rbe_rbds_info info;
	cr_assert_eq(rbe_rbds_info_of(rd, &info), 0);
	cr_expect_eq(info.format_version, 1);
	cr_expect_str_eq(info.stored_name, "", "the name is not stored: the hash identifies the data alone");
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(info.file_size, (uint64_t)st.st_size);
	cr_expect_eq(rbe_rbds_info_of(ds, &info), -EINVAL, "a builder dataset is not a file");
	cr_expect_eq(dir_entries(tmpdir), 1, "no temporary file left behind");
	rbe_dataset_free(rd);
	rbe_dataset_free(ds);
	free(p);
}

Test(rbds, round_trip_all_sections)
{
	rbe_dataset *ds = make_ds(60, 5, WANT_ALL, 30);
	char *p = path_in("full.data.rbds");
	write_ok(ds, p);
	rbe_dataset *rd = open_ok(p);
	expect_same_dataset(ds, rd);
	cr_expect_str_eq(rd->name, "full.data");
	cr_expect_str_eq(rd->feature_name, "embedding");
	rbe_dataset_free(rd);
	rbe_dataset_free(ds);
	free(p);
}

Test(rbds, round_trip_each_optional_alone)
{
	int wants[] = {WANT_RESPONSES, WANT_TOKENS, WANT_FEATURES};
	for (int k = 0; k < 3; k++) {
		rbe_dataset *ds = make_ds(7, 2, wants[k], 3);
		char *p = path_in("one.rbds");
		write_ok(ds, p);
		rbe_dataset *rd = open_ok(p);
		expect_same_dataset(ds, rd);
		rbe_dataset_free(rd);
		rbe_dataset_free(ds);
		free(p);
	}
}

/* Sizes past the writer's 1 MiB buffer: strings, offset arrays and big arrays in chunks. */
Test(rbds, round_trip_large, .timeout = 60)
{
	rbe_dataset *ds = make_ds(30000, 16, WANT_ALL, 100);
	char *p = path_in("large.rbds");
	write_ok(ds, p);
	rbe_dataset *rd = open_ok(p);
	expect_same_dataset(ds, rd);
	rbe_dataset_free(rd);
	rbe_dataset_free(ds);
	free(p);
}

Test(rbds, header_layout_is_as_documented)
{
	char *p = path_in("layout.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	cr_expect_eq(memcmp(b, "RBDS\r\n\x1a\n", 8), 0);
	cr_expect_eq(get32(b, OFF_VERSION), 1);
	cr_expect_eq(get32(b, OFF_HEADER_SIZE), HDR_SIZE);
	cr_expect_eq(get64(b, OFF_FILE_SIZE), len);
	cr_expect_eq(get64(b, OFF_N_SAMPLES), 20);
	cr_expect_eq(get32(b, OFF_N_MODELS), 3);
	cr_expect_eq(get32(b, OFF_N_EVALS), 5);
	cr_expect_eq(get32(b, OFF_FEATURE_DIM), 5);
	cr_expect_eq(get32(b, OFF_N_SECTIONS), 13);
	cr_expect_eq(get64(b, OFF_FLAGS), 15);
	for (size_t k = 88; k < HDR_SIZE; k++)
		cr_expect_eq(b[k], 0, "reserved header byte %zu", k);
	uint8_t sum[32];
	rbe_sha256_buf(b + HDR_SIZE, len - HDR_SIZE, sum);
	cr_expect_eq(memcmp(sum, b + OFF_HASH, 32), 0, "hash covers every byte after the header");
	uint64_t prev_end = HDR_SIZE + 13 * 24;
	for (uint32_t id = S_META; id <= S_STRINGS; id++) {
		cr_assert_neq(entry_of(b, id), 0, "section %u", id);
		cr_expect_eq(sec_off(b, id) % 64, 0);
		cr_expect_geq(sec_off(b, id), prev_end, "written in id order without overlap");
		prev_end = sec_off(b, id) + sec_size(b, id);
	}
	cr_expect_eq(prev_end, len, "the file ends with STRINGS");
	cr_expect_eq(sec_size(b, S_META), 16);
	cr_expect_eq(sec_size(b, S_QUALITY), 20 * 3 * 4);
	cr_expect_eq(sec_size(b, S_COST), 20 * 3 * 8);
	cr_expect_eq(sec_size(b, S_FEATURES), 20 * 5 * 4);
	/* META's first string is the (empty) stored name, and the blob starts with it. */
	uint64_t so = sec_off(b, S_STRINGS);
	cr_expect_eq(get64(b, sec_off(b, S_META)), 0);
	cr_expect_str_eq((const char *)b + so, "");
	cr_expect_str_eq((const char *)b + so + get64(b, sec_off(b, S_META) + 8), "embedding");
	cr_expect_eq(b[len - 1], 0);
	free(b);
	free(p);
}

Test(rbds, numeric_arrays_are_used_in_place)
{
	char *p = path_in("inplace.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	rbe_dataset *rd = open_ok(p);
	cr_expect_eq((uintptr_t)rd->quality % 64, 0);
	cr_expect_eq((uintptr_t)rd->cost % 64, 0);
	cr_expect_eq((const char *)rd->cost - (const char *)rd->quality,
		     (ptrdiff_t)(sec_off(b, S_COST) - sec_off(b, S_QUALITY)));
	cr_expect_eq((const char *)rd->features - (const char *)rd->quality,
		     (ptrdiff_t)(sec_off(b, S_FEATURES) - sec_off(b, S_QUALITY)));
	/* MAP_SHARED: a write to the file shows through, so nothing was copied. */
	float before = rd->quality[4];
	float nq = 0.125f;
	int fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, &nq, 4, (off_t)(sec_off(b, S_QUALITY) + 16)), 4);
	close(fd);
	cr_expect_neq(before, nq);
	cr_expect_eq(rd->quality[4], nq);
	rbe_dataset_free(rd);
	free(b);
	free(p);
}

Test(rbds, same_data_same_bytes)
{
	/* Named after the dataset: an opened file's name is its stem, and it is written back. */
	char *p1 = path_in("synthetic.rbds"), *p2 = path_in("b.rbds"), *p3 = path_in("c.rbds");
	rbe_dataset *d1 = make_ds(40, 4, WANT_ALL, 8), *d2 = make_ds(40, 4, WANT_ALL, 8);
	write_ok(d1, p1);
	write_ok(d2, p2);
	write_ok(d1, p1); /* over an existing file */
	uint8_t *b1, *b2, *b3;
	size_t l1, l2, l3;
	read_all(p1, &b1, &l1);
	read_all(p2, &b2, &l2);
	cr_assert_eq(l1, l2);
	cr_expect_eq(memcmp(b1, b2, l1), 0, "identical data must give identical files");
	/* A dataset read back from a file writes the same file again. */
	rbe_dataset *rd = open_ok(p1);
	write_ok(rd, p3);
	read_all(p3, &b3, &l3);
	cr_assert_eq(l1, l3);
	cr_expect_eq(memcmp(b1, b3, l1), 0);
	uint8_t h[32];
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_hash(p1, h, &e), 0, "%s", e.msg);
	cr_expect_eq(memcmp(h, rd->sha256, 32), 0);
	cr_expect_eq(memcmp(h, b1 + OFF_HASH, 32), 0);
	/* Different data, different hash. */
	rbe_dataset *d3 = make_ds(40, 4, WANT_ALL, 9);
	write_ok(d3, p2);
	uint8_t h3[32];
	cr_assert_eq(rbe_rbds_hash(p2, h3, &e), 0, "%s", e.msg);
	cr_expect_neq(memcmp(h, h3, 32), 0);
	rbe_dataset_free(rd);
	rbe_dataset_free(d1);
	rbe_dataset_free(d2);
	rbe_dataset_free(d3);
	free(b1);
	free(b2);
	free(b3);
	free(p1);
	free(p2);
	free(p3);
}

Test(rbds, open_fd_memfd_outlives_the_fd)
{
	char *p = path_in("mem.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	int fd = memfd_create("rbds-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b, len), (ssize_t)len);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL), 0);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open_fd(fd, "shm/gen-3.rbds", &ds, &e), 0, "%s", e.msg);
	close(fd);
	rbe_dataset *rd = open_ok(p);
	expect_same_dataset(rd, ds);
	cr_expect_str_eq(ds->name, "gen-3");
	cr_expect_eq(memcmp(ds->sha256, b + OFF_HASH, 32), 0);
	rbe_dataset_free(rd);
	rbe_dataset_free(ds);
	free(b);
	free(p);
}

Test(rbds, trust_hash_still_checks_structure)
{
	char *p = path_in("trust.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, 0);
	/* A changed prompt character: only the hash notices. */
	uint64_t so = sec_off(b, S_STRINGS);
	b[so + sec_size(b, S_STRINGS) - 2] ^= 1;
	write_all(p, b, len);
	open_fails(p, "checksum mismatch");
	int fd = open(p, O_RDONLY);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_expect_eq(rbe_rbds_open_fd_ex(fd, p, RBE_RBDS_TRUST_HASH, &ds, &e), 0, "%s", e.msg);
	rbe_dataset_free(ds);
	ds = NULL;
	/* A bad eval index is refused with or without the hash. */
	put32(b, sec_off(b, S_SAMPLE_EVAL) + 4, 77);
	write_all(p, b, len);
	cr_expect_lt(rbe_rbds_open_fd_ex(fd, p, RBE_RBDS_TRUST_HASH, &ds, &e), 0);
	cr_expect(strstr(e.msg, "eval index 77"), "message: %s", e.msg);
	cr_expect_null(ds);
	close(fd);
	free(b);
	free(p);
}

Test(rbds, forward_compatible_unknown_section)
{
	char *p = path_in("future.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, 0);
	/* 9 sections leave room for one more table entry before the first section. */
	uint32_t ns = get32(b, OFF_N_SECTIONS);
	cr_assert_eq(ns, 9);
	cr_assert_leq(HDR_SIZE + 24 * (ns + 1), sec_off(b, S_META));
	size_t at = (len + 63) & ~(size_t)63, nlen = at + 64;
	b = rbe_xrealloc(b, nlen);
	memset(b + len, 0, nlen - len);
	memset(b + at, 0xAB, 64);
	size_t ent = HDR_SIZE + 24 * ns;
	put32(b, ent, 4242);
	put32(b, ent + 4, 0);
	put64(b, ent + 8, at);
	put64(b, ent + 16, 64);
	put32(b, OFF_N_SECTIONS, ns + 1);
	put64(b, OFF_FILE_SIZE, nlen);
	fix_hash(b, nlen);
	write_all(p, b, nlen);
	rbe_dataset *ds = open_ok(p);
	cr_expect_eq(ds->n, 20);
	rbe_dataset_free(ds);
	/* But an unknown section must still lie inside the file. */
	put64(b, ent + 8, nlen);
	fix_hash(b, nlen);
	write_all(p, b, nlen);
	open_fails(p, "section #4242");
	free(b);
	free(p);
}

/* ---- writer failures ----------------------------------------------------------------------- */

Test(rbds, write_into_missing_directory_leaves_nothing)
{
	rbe_dataset *ds = make_ds(5, 2, 0, 1);
	char *dir = path_in("nope");
	char *p = path_in("nope/x.rbds");
	rbe_error e = {0};
	int r = rbe_rbds_write(ds, p, &e);
	cr_expect_eq(r, -ENOENT, "%s", e.msg);
	cr_expect(strstr(e.msg, p) == e.msg, "message: %s", e.msg);
	struct stat st;
	cr_expect_neq(stat(dir, &st), 0);
	cr_expect_eq(dir_entries(tmpdir), 0);
	rbe_dataset_free(ds);
	free(dir);
	free(p);
}

/* A dataset the reader would refuse is refused before any file is made. */
Test(rbds, write_refuses_invalid_dataset)
{
	rbe_dataset *ds = make_ds(5, 2, 0, 1);
	char *p = path_in("bad.rbds");
	rbe_error e = {0};
	float *q = (float *)ds->quality;
	q[3] = NAN;
	cr_expect_eq(rbe_rbds_write(ds, p, &e), -EINVAL);
	cr_expect(strstr(e.msg, "quality"), "message: %s", e.msg);
	q[3] = 0.5f;
	const char *keep = ds->model_names[1];
	ds->model_names[1] = ds->model_names[0];
	cr_expect_eq(rbe_rbds_write(ds, p, &e), -EINVAL);
	cr_expect(strstr(e.msg, "appears twice"), "message: %s", e.msg);
	ds->model_names[1] = keep;
	keep = ds->sample_ids[4];
	ds->sample_ids[4] = ds->sample_ids[2];
	cr_expect_eq(rbe_rbds_write(ds, p, &e), -EINVAL);
	cr_expect(strstr(e.msg, "sample-2") && strstr(e.msg, "twice"), "message: %s", e.msg);
	ds->sample_ids[4] = keep;
	cr_expect_eq(dir_entries(tmpdir), 0);
	write_ok(ds, p);
	rbe_dataset_free(ds);
	free(p);
}

Test(rbds, write_refuses_no_models)
{
	/* The builder refuses a dataset without models; build one by hand to check the writer too. */
	rbe_builder *b = rbe_builder_new(0, NULL);
	rbe_sample_in s = {.sample_id = "a", .eval_name = "e", .prompt = "p", .quality = (float[1]){0},
			   .cost = (double[1]){0}};
	cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), -EINVAL);
	cr_expect(strstr(e.msg, "no models"), "message: %s", e.msg);
	const char *no_names[1] = {NULL};
	const char *ids[1] = {"a"}, *prompts[1] = {"p"}, *eval_names[1] = {"e"};
	uint32_t ev[1] = {0};
	rbe_dataset bare = {.n = 1, .n_evals = 1, .model_names = no_names, .eval_names = eval_names, .sample_ids = ids,
			    .prompts = prompts, .eval = ev, .quality = (float[1]){0}, .cost = (double[1]){0}};
	char *p = path_in("empty.rbds");
	cr_expect_eq(rbe_rbds_write(&bare, p, &e), -EINVAL);
	cr_expect(strstr(e.msg, "no models"), "message: %s", e.msg);
	cr_expect_eq(dir_entries(tmpdir), 0);
	free(p);
}

/* ---- reader refusals ----------------------------------------------------------------------- */

Test(rbds, refuses_truncated)
{
	char *p = path_in("t.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	size_t cuts[] = {0, 3, 7, 8, 12, 23, 24, 100, 127, 128, 129, 400, len / 2, len - 64, len - 1};
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		write_all(p, b, cuts[k]);
		open_fails(p, "truncated");
		if (cuts[k] >= 24) {
			char want[128];
			snprintf(want, sizeof(want), "truncated: header says %zu bytes, file has %zu", len, cuts[k]);
			open_fails(p, want);
		}
		uint8_t h[32];
		rbe_error e = {0};
		cr_expect_lt(rbe_rbds_hash(p, h, &e), 0);
		cr_expect(strstr(e.msg, "truncated"), "hash of a %zu-byte cut: %s", cuts[k], e.msg);
	}
	b = rbe_xrealloc(b, len + 5);
	memset(b + len, 0, 5);
	write_all(p, b, len + 5);
	open_fails(p, "trailing data");
	free(b);
	free(p);
}

Test(rbds, refuses_flipped_byte)
{
	char *p = path_in("flip.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	size_t where[] = {HDR_SIZE, HDR_SIZE + 30, sec_off(b, S_QUALITY) + 5, sec_off(b, S_COST),
			  sec_off(b, S_STRINGS) + 3, len - 2, sec_off(b, S_META) - 1 /* padding */};
	for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		b[where[k]] ^= 0x40;
		write_all(p, b, len);
		open_fails(p, "checksum mismatch: the file is corrupted or was modified");
		b[where[k]] ^= 0x40;
	}
	/* The stored hash itself. */
	b[OFF_HASH + 31] ^= 1;
	write_all(p, b, len);
	open_fails(p, "checksum mismatch");
	free(b);
	free(p);
}

Test(rbds, refuses_bad_magic_and_versions)
{
	char *p = path_in("m.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, 0);
	b[0] = 'X';
	write_all(p, b, len);
	open_fails(p, "not a routerbench dataset (bad magic)");
	b[0] = 'R';
	b[6] = '\n'; /* a text-mode transfer would do this */
	write_all(p, b, len);
	open_fails(p, "bad magic");
	b[6] = 0x1a;
	write_all(p, "hello world", 11);
	open_fails(p, "bad magic");

	put32(b, OFF_VERSION, 2);
	write_all(p, b, len);
	open_fails(p, "written by a newer routerbench (format 2); this build reads format 1");
	uint8_t h[32];
	rbe_error e = {0};
	cr_expect_lt(rbe_rbds_hash(p, h, &e), 0);
	cr_expect(strstr(e.msg, "newer routerbench"), "%s", e.msg);
	/* Newer is refused before anything else it might have changed. */
	put64(b, OFF_FILE_SIZE, 7);
	write_all(p, b, len);
	open_fails(p, "format 2");
	put64(b, OFF_FILE_SIZE, len);
	put32(b, OFF_VERSION, 0);
	write_all(p, b, len);
	open_fails(p, "unknown format version 0");
	put32(b, OFF_VERSION, 1);

	put32(b, OFF_HEADER_SIZE, 64);
	write_all(p, b, len);
	open_fails(p, "bad header size 64");
	put32(b, OFF_HEADER_SIZE, 130);
	write_all(p, b, len);
	open_fails(p, "bad header size 130");
	put32(b, OFF_HEADER_SIZE, 0xFFFFFFF8u);
	write_all(p, b, len);
	open_fails(p, "bad header size");
	free(b);
	free(p);
}

/* Patch, fix the hash, expect a refusal naming want. */
static void patched_fails(const char *p, uint8_t *b, size_t len, const char *want)
{
	fix_hash(b, len);
	write_all(p, b, len);
	open_fails(p, want);
}

Test(rbds, refuses_bad_section_table)
{
	char *p = path_in("sec.rbds");
	size_t len;
	uint8_t *orig = good_file(p, &len, WANT_ALL);
	uint8_t *b = rbe_xmalloc(len);
#define RESET() memcpy(b, orig, len)
	size_t q = entry_of(orig, S_QUALITY);

	RESET();
	put64(b, q + 8, ((uint64_t)len + 64) & ~(uint64_t)63);
	patched_fails(p, b, len, "section QUALITY: offset");
	RESET();
	put64(b, q + 8, 0xFFFFFFFFFFFFFFC0ull);
	patched_fails(p, b, len, "outside the file");
	RESET();
	put64(b, q + 16, 0xFFFFFFFFFFFFFFFFull);
	patched_fails(p, b, len, "outside the file");
	RESET();
	put64(b, entry_of(b, S_STRINGS) + 16, sec_size(b, S_STRINGS) + 1);
	patched_fails(p, b, len, "outside the file");
	RESET();
	put64(b, q + 8, 64); /* over the header and table */
	patched_fails(p, b, len, "outside the file");
	RESET();
	put64(b, q + 8, sec_off(b, S_QUALITY) + 4);
	patched_fails(p, b, len, "not a multiple of 64");
	RESET();
	put64(b, q + 8, sec_off(b, S_COST));
	patched_fails(p, b, len, "overlap");
	RESET();
	put64(b, q + 16, sec_size(b, S_QUALITY) - 4);
	patched_fails(p, b, len, "section QUALITY has 236 bytes, expected 240");
	RESET();
	put32(b, q, S_COST);
	patched_fails(p, b, len, "section COST appears twice");
	RESET();
	put32(b, q, 99); /* QUALITY renamed to an unknown id */
	patched_fails(p, b, len, "required section QUALITY is missing");
	RESET();
	put32(b, entry_of(b, S_FEATURES), 99);
	patched_fails(p, b, len, "required section FEATURES is missing");
	RESET();
	put64(b, OFF_FLAGS, get64(b, OFF_FLAGS) & ~1ull);
	patched_fails(p, b, len, "section RESPONSES is present but its header flag is clear");
	RESET();
	put32(b, OFF_FEATURE_DIM, 0);
	patched_fails(p, b, len, "feature_dim is 0 but the features flag is set");
	RESET();
	put32(b, OFF_N_SECTIONS, 1000000);
	patched_fails(p, b, len, "section table (1000000 entries) runs past the end of the file");
	RESET();
	put32(b, OFF_N_SECTIONS, 0);
	patched_fails(p, b, len, "required section META is missing");
	/* Counts that overflow the expected sizes. */
	RESET();
	put64(b, OFF_N_SAMPLES, 1ull << 62);
	patched_fails(p, b, len, "overflow");
	RESET();
	put64(b, OFF_N_SAMPLES, 21);
	patched_fails(p, b, len, "expected");
	RESET();
	put32(b, OFF_N_MODELS, 0xFFFFFFFFu);
	patched_fails(p, b, len, "section MODELS has 24 bytes, expected 34359738360");
	RESET();
	put64(b, OFF_N_SAMPLES, 0);
	patched_fails(p, b, len, "no samples");
#undef RESET
	free(orig);
	free(b);
	free(p);
}

Test(rbds, refuses_bad_strings)
{
	char *p = path_in("str.rbds");
	size_t len;
	uint8_t *orig = good_file(p, &len, WANT_ALL);
	uint8_t *b = rbe_xmalloc(len);
	uint64_t blob = sec_size(orig, S_STRINGS);
	char want[160];

	memcpy(b, orig, len);
	put64(b, sec_off(b, S_SAMPLE_ID) + 8 * 3, blob + 10);
	snprintf(want, sizeof(want), "sample_id of sample 3: string offset %llu is past the end of the string blob",
		 (unsigned long long)(blob + 10));
	patched_fails(p, b, len, want);
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_SAMPLE_ID), blob);
	patched_fails(p, b, len, "past the end of the string blob");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_PROMPT) + 8 * 19, ~0ull);
	patched_fails(p, b, len, "prompt of sample 19");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_RESPONSES) + 8 * 59, blob + 1);
	patched_fails(p, b, len, "response 59");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_MODELS) + 8, blob);
	patched_fails(p, b, len, "model 1");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_EVALS), blob);
	patched_fails(p, b, len, "eval 0");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_META) + 8, blob);
	patched_fails(p, b, len, "META string 1");

	memcpy(b, orig, len);
	b[len - 1] = 'x'; /* STRINGS is the last section */
	patched_fails(p, b, len, "unterminated string");
	memcpy(b, orig, len);
	put64(b, entry_of(b, S_STRINGS) + 16, 0);
	patched_fails(p, b, len, "unterminated string");

	/* An offset into the middle of a string is a valid (shorter) string. */
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_PROMPT), get64(b, sec_off(b, S_PROMPT)) + 3);
	fix_hash(b, len);
	write_all(p, b, len);
	rbe_dataset *ds = open_ok(p);
	cr_expect_str_eq(ds->prompts[0], "mpt 0: aaaaaaaaaa");
	rbe_dataset_free(ds);
	free(orig);
	free(b);
	free(p);
}

Test(rbds, refuses_bad_values)
{
	char *p = path_in("val.rbds");
	size_t len;
	uint8_t *orig = good_file(p, &len, WANT_ALL);
	uint8_t *b = rbe_xmalloc(len);

	memcpy(b, orig, len);
	put32(b, sec_off(b, S_SAMPLE_EVAL) + 4 * 7, 5);
	patched_fails(p, b, len, "sample 7: eval index 5 is out of range (5 evals)");

	float badq[] = {1.5f, -0.25f, NAN, INFINITY};
	for (size_t k = 0; k < 4; k++) {
		memcpy(b, orig, len);
		memcpy(b + sec_off(b, S_QUALITY) + 4 * 7, &badq[k], 4); /* sample 2, model 1 */
		patched_fails(p, b, len, "sample sample-2, model model-1: quality");
	}
	double badc[] = {-1e-9, NAN, INFINITY};
	for (size_t k = 0; k < 3; k++) {
		memcpy(b, orig, len);
		memcpy(b + sec_off(b, S_COST) + 8 * 5, &badc[k], 8); /* sample 1, model 2 */
		patched_fails(p, b, len, "sample sample-1, model model-2: cost");
	}
	memcpy(b, orig, len);
	float nanf_ = NAN;
	memcpy(b + sec_off(b, S_FEATURES) + 4 * 6, &nanf_, 4);
	patched_fails(p, b, len, "sample sample-1: feature 1 is not finite");

	memcpy(b, orig, len);
	put64(b, sec_off(b, S_SAMPLE_ID) + 8 * 9, get64(b, sec_off(b, S_SAMPLE_ID) + 8 * 4));
	patched_fails(p, b, len, "sample_id 'sample-4' appears twice (samples 4 and 9)");
	memcpy(b, orig, len);
	put64(b, sec_off(b, S_MODELS) + 8 * 2, get64(b, sec_off(b, S_MODELS)));
	patched_fails(p, b, len, "model name 'model-0' appears twice");
	free(orig);
	free(b);
	free(p);
}

Test(rbds, refuses_non_files)
{
	open_fails(tmpdir, "not a regular file");
	char *p = path_in("missing.rbds");
	open_fails(p, "No such file");
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	cr_expect_lt(rbe_rbds_open_fd(fds[0], "pipe", &ds, &e), 0);
	cr_expect(strstr(e.msg, "pipe: not a regular file"), "%s", e.msg);
	close(fds[0]);
	close(fds[1]);
	free(p);
}

/* Random damage with the hash repaired, so every structural check meets garbage: each open either
 * succeeds or fails with a message, never crashes or reads outside the mapping (run under ASan). */
Test(rbds, survives_random_damage, .timeout = 120)
{
	char *p = path_in("fuzz.rbds");
	size_t len;
	uint8_t *orig = good_file(p, &len, WANT_ALL);
	uint8_t *b = rbe_xmalloc(len);
	uint64_t x = 0x9E3779B97F4A7C15ull;
	size_t opened = 0;
	for (int it = 0; it < 3000; it++) {
		memcpy(b, orig, len);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Mostly the header and table, where damage is most interesting. */
			size_t span = (it % 3) ? 24 * 14 + HDR_SIZE : len;
			size_t at = (size_t)(x % span);
			if (at >= OFF_HASH && at < OFF_HASH + 32)
				continue;
			b[at] = (uint8_t)(x >> 32);
		}
		size_t blen = len;
		if (it % 7 == 0)
			blen = (size_t)(x >> 40) % len;
		if (blen > HDR_SIZE) /* the header-size field may be damaged: hash from the real one */
			rbe_sha256_buf(b + HDR_SIZE, blen - HDR_SIZE, b + OFF_HASH);
		write_all(p, b, blen);
		rbe_dataset *ds = NULL;
		rbe_error e = {0};
		int r = rbe_rbds_open(p, &ds, &e);
		if (r == 0) {
			opened++;
			/* Touch everything the dataset exposes. */
			size_t sum = 0;
			for (size_t i = 0; i < ds->n; i++)
				sum += strlen(ds->sample_ids[i]) + strlen(ds->prompts[i]) + ds->eval[i];
			for (uint32_t k = 0; k < ds->n_evals; k++)
				sum += strlen(ds->eval_names[k]);
			cr_expect_gt(sum, 0);
			rbe_dataset_free(ds);
		} else {
			cr_assert_neq(strlen(e.msg), 0);
			cr_assert_null(ds);
		}
	}
	cr_log_info("random damage: %zu of 3000 still valid", opened);
	free(orig);
	free(b);
	free(p);
}

/* ---- rbctl info ---------------------------------------------------------------------------- */

/* Run RBCTL with args; stdout and stderr into files in tmpdir. Returns the exit status. */
static int run_rbctl(const char *const *args, char **out, char **err)
{
	cmd_result r = rbctl_cmd(args);
	*out = r.out;
	*err = r.err;
	return r.status;
}

Test(rbds, rbctl_info_text)
{
	char *p = path_in("routerbench-demo.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_TOKENS);
	char *out, *err;
	int st = run_rbctl((const char *[]){"info", p, NULL}, &out, &err);
	cr_assert_eq(st, 0, "stderr: %s", err);
	char hex[65];
	rbe_hex(b + OFF_HASH, 32, hex);
	cr_expect(strstr(out, "name:      routerbench-demo\n"), "%s", out);
	cr_expect(!strstr(out, "built as:"), "%s", out);
	cr_expect(strstr(out, hex), "sha256 missing: %s", out);
	cr_expect(strstr(out, "samples:   20\n"), "%s", out);
	cr_expect(strstr(out, "format:    1\n"), "%s", out);
	char size[64];
	snprintf(size, sizeof(size), "file size: %zu bytes", len);
	cr_expect(strstr(out, size), "%s", out);
	/* Models in order; model-0 scores q = (7i % 11)/10 and costs 1e-5 * (i % 5 + 1). */
	char *m0 = strstr(out, "model-0"), *m1 = strstr(out, "model-1"), *m2 = strstr(out, "model-2");
	cr_expect(m0 && m1 && m2 && m0 < m1 && m1 < m2, "%s", out);
	double qsum = 0, csum = 0;
	for (int i = 0; i < 20; i++) {
		qsum += (float)((i * 7) % 11) / 10.0f;
		csum += 1e-5 * (i % 5 + 1);
	}
	char line[128];
	snprintf(line, sizeof(line), "model-0  %12.4f  %14.8f\n", qsum / 20, csum / 20);
	cr_expect(strstr(out, line), "want '%s' in:\n%s", line, out);
	cr_expect(strstr(out, "evals (5):"), "%s", out);
	cr_expect(strstr(out, "mmlu-algebra  4\n"), "%s", out);
	cr_expect(strstr(out, "task groups (4):"), "%s", out);
	cr_expect(strstr(out, "  mmlu          8\n"), "%s", out);
	cr_expect(strstr(out, "  gsm8k         4\n"), "%s", out);
	cr_expect(strstr(out, "responses: no\n"), "%s", out);
	cr_expect(strstr(out, "tokens:    yes\n"), "%s", out);
	cr_expect(strstr(out, "features:  none\n"), "%s", out);
	cr_expect_str_empty(err);
	free(out);
	free(err);
	free(b);
	free(p);
}

Test(rbds, rbctl_info_json)
{
	char *p = path_in("full.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, WANT_ALL);
	char *out, *err;
	int st = run_rbctl((const char *[]){"info", "--json", p, NULL}, &out, &err);
	cr_assert_eq(st, 0, "stderr: %s", err);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	cr_assert_not_null(j, "not JSON (%s): %s", je.text, out);
	char hex[65];
	rbe_hex(b + OFF_HASH, 32, hex);
	cr_expect_str_eq(json_string_value(json_object_get(j, "name")), "full");
	cr_expect_str_eq(json_string_value(json_object_get(j, "stored_name")), "");
	cr_expect_str_eq(json_string_value(json_object_get(j, "path")), p);
	cr_expect_str_eq(json_string_value(json_object_get(j, "sha256")), hex);
	cr_expect_eq(json_integer_value(json_object_get(j, "format_version")), 1);
	cr_expect_eq(json_integer_value(json_object_get(j, "file_size")), (json_int_t)len);
	cr_expect_eq(json_integer_value(json_object_get(j, "samples")), 20);
	json_t *models = json_object_get(j, "models");
	cr_assert_eq(json_array_size(models), 3);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(models, 2), "name")), "model-2");
	double q2 = 0;
	for (int i = 0; i < 20; i++)
		q2 += (float)((i * 7 + 6) % 11) / 10.0f;
	cr_expect_float_eq(json_real_value(json_object_get(json_array_get(models, 2), "mean_quality")), q2 / 20,
			   1e-9);
	json_t *evals_j = json_object_get(j, "evals"), *groups = json_object_get(j, "task_groups");
	cr_assert_eq(json_array_size(evals_j), 5);
	cr_assert_eq(json_array_size(groups), 4);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(groups, 0), "name")), "mmlu");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(groups, 0), "count")), 8);
	cr_expect(json_is_true(json_object_get(j, "responses")));
	cr_expect(json_is_true(json_object_get(j, "tokens")));
	json_t *f = json_object_get(j, "features");
	cr_expect_str_eq(json_string_value(json_object_get(f, "name")), "embedding");
	cr_expect_eq(json_integer_value(json_object_get(f, "dim")), 5);
	json_decref(j);
	free(out);
	free(err);

	/* No features: null. */
	free(b);
	b = good_file(p, &len, 0);
	st = run_rbctl((const char *[]){"info", p, "--json", NULL}, &out, &err);
	cr_assert_eq(st, 0, "stderr: %s", err);
	j = json_loads(out, 0, &je);
	cr_assert_not_null(j);
	cr_expect(json_is_null(json_object_get(j, "features")));
	cr_expect(json_is_false(json_object_get(j, "tokens")));
	json_decref(j);
	free(out);
	free(err);
	free(b);
	free(p);
}

Test(rbds, rbctl_info_bad_file_and_usage)
{
	char *p = path_in("broken.rbds");
	size_t len;
	uint8_t *b = good_file(p, &len, 0);
	b[len - 3] ^= 1;
	write_all(p, b, len);
	char *out, *err;
	int st = run_rbctl((const char *[]){"info", p, NULL}, &out, &err);
	cr_expect_eq(st, 1);
	char want[600];
	snprintf(want, sizeof(want), "rbctl info: %s: checksum mismatch: the file is corrupted or was modified\n", p);
	cr_expect_str_eq(err, want);
	cr_expect_str_empty(out);
	free(out);
	free(err);

	write_all(p, b, 100);
	st = run_rbctl((const char *[]){"info", "--json", p, NULL}, &out, &err);
	cr_expect_eq(st, 1);
	cr_expect(strstr(err, "rbctl info: ") == err && strstr(err, "truncated"), "%s", err);
	cr_expect_str_empty(out);
	free(out);
	free(err);

	st = run_rbctl((const char *[]){"info", NULL}, &out, &err);
	cr_expect_eq(st, 2);
	cr_expect(strstr(err, "usage: rbctl info"), "%s", err);
	free(out);
	free(err);
	st = run_rbctl((const char *[]){"info", "--bogus", p, NULL}, &out, &err);
	cr_expect_eq(st, 2);
	cr_expect(strstr(err, "unknown option '--bogus'"), "%s", err);
	free(out);
	free(err);
	st = run_rbctl((const char *[]){"info", "--help", NULL}, &out, &err);
	cr_expect_eq(st, 0);
	cr_expect(strstr(out, "usage: rbctl info"), "%s", out);
	free(out);
	free(err);
	free(b);
	free(p);
}
