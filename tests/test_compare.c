/* test_compare.c — `rbctl compare` on hand-made result documents small enough to check by hand:
 * identical results, a clearly better router, flip shares, refusals, malformed input, unpaired
 * mode and usage errors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "eval/compare.h"
#include "helpers.h"
#include "eval/metrics.h"

/* rbctl compare ARGS... (NULL-terminated), capturing stdout and stderr. */
static cmd_result compare(const char *const *args)
{
	const char *argv[32] = {"compare"};
	size_t n = 1;
	for (size_t k = 0; args[k] && n < 31; k++)
		argv[n++] = args[k];
	argv[n] = NULL;
	return rbctl_cmd(argv);
}

/* The --json document of a successful comparison. */
static json_t *compare_json(const char *a, const char *b, const char *extra1, const char *extra2)
{
	cmd_result r = compare((const char *[]){a, b, "--json", extra1, extra2, NULL});
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "output is not JSON (%s): %s", jerr.text, r.out);
	cmd_free(&r);
	return doc;
}

/* ---- hand-made results (docs/result-schema.md plus the decisions block) ---- */

typedef struct spec {
	const char *sha256, *split_mode;
	long long split_seed;
	double train_fraction;
	size_t n;
	uint32_t M, P;
	const char *const *models; /* [M] */
	const char *const *ids;    /* [n] */
	const double *lq, *lc;     /* [n * M] */
	const uint32_t *model;     /* [P * n] the router's choice at each point */
	const double *params;      /* [P] λ of each point */
	int decisions;             /* store the decisions block */
	const double *ci95;        /* [2] router.aiq_ci95, or NULL */
	const char *const *groups; /* task groups, NULL-terminated; NULL: {"t1"} */
	int boot_resamples;        /* > 0: a top-level "bootstrap" block */
	long long boot_seed;
} spec;

static const char *const models3[] = {"m-a", "m-b", "m-c"};
static const char *const ids4[] = {"s1", "s2", "s3", "s4"};
/* The worked example of docs/metrics.md: costs 0.001, 0.01, 0.1; scores by prompt. */
static const double lq4[] = {1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0};
static const double lc4[] = {0.001, 0.01, 0.1, 0.001, 0.01, 0.1, 0.001, 0.01, 0.1, 0.001, 0.01, 0.1};
static const double lambdas2[] = {0.5, 2.0};
/* Router A: point 0 → (0.022, 0.25), point 1 → (0.22, 0.75). */
static const uint32_t route_a[] = {0, 0, 1, 1, 1, 1, 2, 2};
/* Router B: point 0 → (0.031, 0.5), point 1 → (0.112, 0.5). */
static const uint32_t route_b[] = {0, 1, 1, 1, 1, 0, 2, 0};

static spec worked(const uint32_t *route)
{
	return (spec){.sha256 = "aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000", .split_mode = "paper", .split_seed = 42, .train_fraction = 0.7,
		      .n = 4, .M = 3, .P = 2, .models = models3, .ids = ids4, .lq = lq4, .lc = lc4, .model = route,
		      .params = lambdas2, .decisions = 1};
}

static json_t *point_json(double q, double c, size_t n)
{
	return json_pack("{sfsfsf}", "quality", q, "cost_total", c, "cost_mean", c / (double)n);
}

static json_t *hull_json(const rbe_point *pts, size_t n)
{
	rbe_point hull[64];
	size_t h = rbe_ndch(pts, n, hull);
	json_t *arr = json_array();
	for (size_t k = 0; k < h; k++)
		json_array_append_new(arr, json_pack("[ff]", hull[k].cost, hull[k].quality));
	return arr;
}

/* One BLOCK as eval/eval.c writes it, figures computed with the metrics module. */
static json_t *block_json(const spec *s)
{
	size_t n = s->n, M = s->M, P = s->P;
	cr_assert(M <= 64 && P <= 64);
	rbe_point llm[64], pts[64];
	double c_min = INFINITY, c_max = -INFINITY;
	json_t *llms = json_object();
	for (size_t j = 0; j < M; j++) {
		double q = 0, c = 0;
		for (size_t i = 0; i < n; i++) {
			q += s->lq[i * M + j];
			c += s->lc[i * M + j];
		}
		llm[j] = (rbe_point){c, q / (double)n};
		json_object_set_new(llms, s->models[j], point_json(q / (double)n, c, n));
		c_min = fmin(c_min, c);
		c_max = fmax(c_max, c);
	}
	json_t *points = json_array();
	size_t best = 0;
	for (size_t p = 0; p < P; p++) {
		double q = 0, c = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t m = s->model[p * n + i];
			q += s->lq[i * M + m];
			c += s->lc[i * M + m];
		}
		pts[p] = (rbe_point){c, q / (double)n};
		json_t *pt = point_json(q / (double)n, c, n), *share = json_object();
		json_object_set_new(pt, "param", json_real(s->params[p]));
		for (size_t j = 0; j < M; j++) {
			size_t picked = 0;
			for (size_t i = 0; i < n; i++)
				picked += s->model[p * n + i] == j;
			json_object_set_new(share, s->models[j], json_real((double)picked / (double)n));
		}
		json_object_set_new(pt, "share", share);
		json_array_append_new(points, pt);
		if (pts[p].quality > pts[best].quality || (pts[p].quality == pts[best].quality && pts[p].cost < pts[best].cost))
			best = p;
	}
	json_t *maxq = point_json(pts[best].quality, pts[best].cost, n);
	json_object_set_new(maxq, "param", json_real(s->params[best]));
	json_t *router = json_pack("{sosososfsfso}", "points", points, "ndch", hull_json(pts, P), "max_quality", maxq,
				   "aiq", rbe_aiq(pts, P, c_min, c_max), "aiq_code", rbe_aiq_code(pts, P, c_max),
				   "share", json_object());
	if (s->ci95)
		json_object_set_new(router, "aiq_ci95", json_pack("[ff]", s->ci95[0], s->ci95[1]));
	json_t *zero = json_pack("{sosfsf}", "ndch", hull_json(llm, M), "aiq", rbe_aiq(llm, M, c_min, c_max), "aiq_code",
				 rbe_aiq_code(llm, M, c_max));
	json_t *b = json_pack("{sIsIsosos[ff]soso}", "n_train", (json_int_t)(2 * n), "n_test", (json_int_t)n, "llms", llms,
			      "oracle", point_json(0, 0, n), "aiq_domain", c_min, c_max, "zero", zero, "router", router);
	if (s->decisions) {
		json_t *ids = json_array(), *lq = json_array(), *lc = json_array(), *model = json_array(),
		       *cost = json_array();
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(ids, json_string(s->ids[i]));
			json_t *rq = json_array(), *rc = json_array();
			for (size_t j = 0; j < M; j++) {
				json_array_append_new(rq, json_real(s->lq[i * M + j]));
				json_array_append_new(rc, json_real(s->lc[i * M + j]));
			}
			json_array_append_new(lq, rq);
			json_array_append_new(lc, rc);
		}
		for (size_t p = 0; p < P; p++) {
			json_t *rm = json_array(), *rc = json_array();
			for (size_t i = 0; i < n; i++) {
				uint32_t m = s->model[p * n + i];
				json_array_append_new(rm, json_integer(m));
				json_array_append_new(rc, json_real(s->lc[i * M + m]));
			}
			json_array_append_new(model, rm);
			json_array_append_new(cost, rc);
		}
		json_object_set_new(b, "decisions", json_pack("{sososososo}", "sample_ids", ids, "llm_quality", lq,
							      "llm_cost", lc, "model", model, "cost", cost));
	}
	return b;
}

/* Every task group gets the same block; with one group, overall is that group, as eval pools it. */
static json_t *result_json(const spec *s)
{
	json_t *models = json_array();
	for (uint32_t j = 0; j < s->M; j++)
		json_array_append_new(models, json_string(s->models[j]));
	json_t *tasks = json_object();
	static const char *const one[] = {"t1", NULL};
	for (const char *const *g = s->groups ? s->groups : one; *g; g++)
		json_object_set_new(tasks, *g, block_json(s));
	json_t *doc = json_pack(
		"{sss{ssss}s{sssssIso}s{sssssssss{sf}}s{sssIsf}sosos{sfsfsfsIsf}}", "schema", "routerbench.result/1", "tool",
		"name", "routerbench", "version", "0.1.0", "dataset", "name", "hand", "sha256", s->sha256, "prompts",
		(json_int_t)(3 * s->n), "models", models, "router", "name", "hand", "version", "1", "kind", "predictive",
		"sha256", "0000000000000000000000000000000000000000000000000000000000000000", "params", "k", 1.0, "split", "mode", s->split_mode, "seed", (json_int_t)s->split_seed,
		"train_fraction", s->train_fraction, "tasks", tasks, "overall", block_json(s), "timing", "fit_seconds",
		0.0, "route_seconds", 0.0, "total_seconds", 0.0, "decisions", (json_int_t)0, "route_seconds_per_prompt",
		0.0);
	cr_assert_not_null(doc);
	if (s->boot_resamples > 0)
		json_object_set_new(doc, "bootstrap",
				    json_pack("{sIsIsfss}", "resamples", (json_int_t)s->boot_resamples, "seed",
					      (json_int_t)s->boot_seed, "level", 0.95, "method", "percentile"));
	return doc;
}

static const char *write_doc(const char *dir, const char *name, json_t *doc)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8];
	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	cr_assert_eq(json_dump_file(doc, path, JSON_INDENT(1) | JSON_REAL_PRECISION(17)), 0, "write %s", path);
	json_decref(doc);
	return path;
}

static const char *write_spec(const char *dir, const char *name, const spec *s)
{
	return write_doc(dir, name, result_json(s));
}

static const char *write_text(const char *dir, const char *name, const char *text)
{
	static char paths[4][512];
	static int next;
	char *path = paths[next++ % 4];
	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static double num_at(const json_t *doc, const char *block, const char *obj, const char *key)
{
	const json_t *b = !strcmp(block, "overall") ? json_object_get(doc, "overall")
						    : json_object_get(json_object_get(doc, "tasks"), block);
	const json_t *v = json_object_get(json_object_get(b, obj), key);
	cr_assert(json_is_number(v), "%s.%s.%s is not a number", block, obj, key);
	return json_number_value(v);
}

#define assert_near(x, y, tol) cr_assert(fabs((x) - (y)) <= (tol), "%s = %.12g, expected %.12g", #x, (double)(x), (double)(y))

/* ---- tests ---- */

/* Each test's temp dir, removed after it whether it passed or not. */
static char *test_dir;

static char *temp_dir(void)
{
	test_dir = make_temp_dir();
	return test_dir;
}

static void remove_temp_dir(void)
{
	if (!test_dir)
		return;
	DIR *d = opendir(test_dir);
	struct dirent *ent;
	char path[1024];
	while (d && (ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", test_dir, ent->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(test_dir);
}

TestSuite(compare, .fini = remove_temp_dir);

Test(compare, identical_results_give_zero_with_interval_zero_and_p_one)
{
	char *dir = temp_dir();
	spec s = worked(route_a);
	const char *a = write_spec(dir, "a.json", &s), *b = write_spec(dir, "b.json", &s);
	json_t *doc = compare_json(a, b, NULL, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "routerbench.compare/1");
	const json_t *boot = json_object_get(doc, "bootstrap");
	cr_assert(json_is_true(json_object_get(boot, "paired")));
	cr_assert_eq(json_integer_value(json_object_get(boot, "resamples")), 1000); /* no bootstrap block in A */
	cr_assert_eq(json_integer_value(json_object_get(boot, "seed")), 42);
	cr_assert_eq(json_array_size(json_object_get(doc, "notes")), 0);
	for (int k = 0; k < 2; k++) {
		const char *blk = k ? "overall" : "t1";
		cr_assert_eq(num_at(doc, blk, "aiq", "delta"), 0.0);
		cr_assert_eq(num_at(doc, blk, "aiq_code", "delta"), 0.0);
		cr_assert_eq(num_at(doc, blk, "max_quality", "delta"), 0.0);
		cr_assert_eq(num_at(doc, blk, "cost_at_quality", "delta"), 0.0);
		cr_assert_eq(num_at(doc, blk, "aiq", "p_value"), 1.0);
		const json_t *b_ = k ? json_object_get(doc, "overall") : json_object_get(json_object_get(doc, "tasks"), "t1");
		const json_t *ci = json_object_get(json_object_get(b_, "aiq"), "ci95");
		cr_assert_eq(json_number_value(json_array_get(ci, 0)), 0.0);
		cr_assert_eq(json_number_value(json_array_get(ci, 1)), 0.0);
		const json_t *d = json_object_get(b_, "decisions");
		cr_assert_str_eq(json_string_value(json_object_get(d, "compared")), "shared_points");
		cr_assert_eq(json_number_value(json_object_get(d, "differ_mean")), 0.0);
		cr_assert_eq(json_array_size(json_object_get(d, "top")), 0);
	}
	json_decref(doc);
}

Test(compare, worked_example_deltas_and_flip_shares_by_hand)
{
	char *dir = temp_dir();
	spec sa = worked(route_a), sb = worked(route_b);
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	json_t *doc = compare_json(a, b, "--resamples", "200");
	/* AIQ on [0.004, 0.4]: A (0,0)→(0.022,0.25)→(0.22,0.75): 0.23665909/0.396;
	 * B (0,0)→(0.031,0.5), flat: 0.19212097/0.396. */
	assert_near(num_at(doc, "t1", "aiq", "a"), 0.597623967, 1e-8);
	assert_near(num_at(doc, "t1", "aiq", "b"), 0.485153958, 1e-8);
	assert_near(num_at(doc, "t1", "aiq", "delta"), -0.112470009, 1e-8);
	assert_near(num_at(doc, "t1", "max_quality", "delta"), -0.25, 1e-12);
	/* q* = 0.5: A's hull reaches it halfway from 0.022 to 0.22 (0.121 total, 0.03025 per query);
	 * B's first hull point already has it (0.031 total, 0.00775 per query). */
	assert_near(num_at(doc, "t1", "cost_at_quality", "quality"), 0.5, 1e-12);
	assert_near(num_at(doc, "t1", "cost_at_quality", "a"), 0.03025, 1e-12);
	assert_near(num_at(doc, "t1", "cost_at_quality", "b"), 0.00775, 1e-12);
	assert_near(num_at(doc, "t1", "cost_at_quality", "delta"), -0.0225, 1e-12);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "bootstrap"), "resamples")), 200);

	/* Same λ at both points: point 0 differs on s2 (1/4), point 1 on s2 and s4 (2/4). */
	const json_t *d = json_object_get(json_object_get(json_object_get(doc, "tasks"), "t1"), "decisions");
	cr_assert_str_eq(json_string_value(json_object_get(d, "compared")), "shared_points");
	const json_t *pts = json_object_get(d, "points");
	cr_assert_eq(json_array_size(pts), 2);
	cr_assert_eq(json_number_value(json_object_get(json_array_get(pts, 0), "differ")), 0.25);
	cr_assert_eq(json_number_value(json_object_get(json_array_get(pts, 1), "differ")), 0.5);
	cr_assert_eq(json_number_value(json_object_get(json_array_get(pts, 1), "a_param")), 2.0);
	cr_assert_eq(json_number_value(json_object_get(d, "differ_mean")), 0.375);
	cr_assert_eq(json_number_value(json_object_get(d, "prompts_differing")), 0.5);
	const json_t *top = json_object_get(d, "top");
	cr_assert_eq(json_array_size(top), 2);
	const json_t *t0 = json_array_get(top, 0), *t1 = json_array_get(top, 1);
	cr_assert_str_eq(json_string_value(json_object_get(t0, "sample_id")), "s2");
	cr_assert_eq(json_integer_value(json_object_get(t0, "flips")), 2);
	json_t *want = json_pack("[ss]", "m-a", "m-b");
	cr_assert(json_equal(json_object_get(t0, "a"), want));
	json_decref(want);
	want = json_pack("[ss]", "m-b", "m-a");
	cr_assert(json_equal(json_object_get(t0, "b"), want));
	json_decref(want);
	cr_assert_str_eq(json_string_value(json_object_get(t1, "sample_id")), "s4");
	cr_assert_eq(json_integer_value(json_object_get(t1, "flips")), 1);
	json_decref(doc);

	/* --top 1 keeps the most flipped only. */
	doc = compare_json(a, b, "--top", "1");
	d = json_object_get(json_object_get(doc, "overall"), "decisions");
	cr_assert_eq(json_array_size(json_object_get(d, "top")), 1);
	json_decref(doc);

	/* The table says the same. */
	cmd_result r = compare((const char *[]){a, b, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "compare: B − A"), "%s", r.out);
	cr_assert(strstr(r.out, "-0.1125"), "%s", r.out);
	cr_assert(strstr(r.out, "2 shared points"), "%s", r.out);
	cr_assert(strstr(r.out, "m-a×1, m-b×1"), "%s", r.out);
	cr_assert(strstr(r.out, "2/2"), "%s", r.out);
	cmd_free(&r);
}

Test(compare, different_points_compare_at_max_quality)
{
	char *dir = temp_dir();
	static const double other_lambdas[] = {0.5, 3.0};
	spec sa = worked(route_a), sb = worked(route_b);
	sb.params = other_lambdas;
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	json_t *doc = compare_json(a, b, "--resamples", "50");
	/* A's best is point 1 [m-b m-b m-c m-c]; B's points tie at 0.5, the cheaper is point 0
	 * [m-a m-b m-b m-b]: they differ on s1, s3 and s4. */
	const json_t *d = json_object_get(json_object_get(doc, "overall"), "decisions");
	cr_assert_str_eq(json_string_value(json_object_get(d, "compared")), "max_quality");
	const json_t *p0 = json_array_get(json_object_get(d, "points"), 0);
	cr_assert_eq(json_integer_value(json_object_get(p0, "a")), 1);
	cr_assert_eq(json_integer_value(json_object_get(p0, "b")), 0);
	cr_assert_eq(json_number_value(json_object_get(p0, "differ")), 0.75);
	const json_t *top = json_object_get(d, "top");
	cr_assert_eq(json_array_size(top), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(top, 0), "sample_id")), "s1");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(top, 2), "sample_id")), "s4");
	json_decref(doc);
}

/* Cheap m0 is right on even prompts only, dear m1 on all: A always asks m0, B asks m0 on the
 * even prompts and m1 on the odd ones, so B is better on every resample but the all-even one. */
#define NB 20
static double lq_nb[NB * 2], lc_nb[NB * 2];
static uint32_t route_cheap[NB], route_smart[NB];
static const char *ids_nb[NB];
static const char *const models2[] = {"cheap", "dear"};
static const double one_lambda[] = {1.0};

static spec better_spec(const uint32_t *route)
{
	static char names[NB][8];
	for (int i = 0; i < NB; i++) {
		lq_nb[i * 2] = i % 2 == 0;
		lq_nb[i * 2 + 1] = 1;
		lc_nb[i * 2] = 0.001;
		lc_nb[i * 2 + 1] = 0.01;
		route_cheap[i] = 0;
		route_smart[i] = i % 2;
		snprintf(names[i], sizeof(names[i]), "q%02d", i);
		ids_nb[i] = names[i];
	}
	return (spec){.sha256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", .split_mode = "paper", .split_seed = 42, .train_fraction = 0.7, .n = NB,
		      .M = 2, .P = 1, .models = models2, .ids = ids_nb, .lq = lq_nb, .lc = lc_nb, .model = route,
		      .params = one_lambda, .decisions = 1};
}

Test(compare, clearly_better_router_has_positive_interval_and_small_p)
{
	char *dir = temp_dir();
	spec sa = better_spec(route_cheap), sb = better_spec(route_smart);
	sa.boot_resamples = 400; /* A's own bootstrap settings are the defaults */
	sa.boot_seed = 7;
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	json_t *doc = compare_json(a, b, NULL, NULL);
	const json_t *boot = json_object_get(doc, "bootstrap");
	cr_assert_eq(json_integer_value(json_object_get(boot, "resamples")), 400);
	cr_assert_eq(json_integer_value(json_object_get(boot, "seed")), 7);
	/* Domain [0.02, 0.2]: A is flat at 0.5; B's hull (0,0)→(0.11,1) averages 35/44. */
	assert_near(num_at(doc, "overall", "aiq", "delta"), 13.0 / 44.0, 1e-12);
	const json_t *ci = json_object_get(json_object_get(json_object_get(doc, "overall"), "aiq"), "ci95");
	double lo = json_number_value(json_array_get(ci, 0)), hi = json_number_value(json_array_get(ci, 1));
	cr_assert(lo > 0.0 && lo < 13.0 / 44.0 && hi > 13.0 / 44.0, "interval [%g, %g]", lo, hi);
	assert_near(num_at(doc, "overall", "aiq", "p_value"), 1.0 / 400.0, 1e-12);
	json_decref(doc);

	/* Swapped, the interval is the mirror image; the p-value the same. */
	doc = compare_json(b, a, "--resamples", "400");
	ci = json_object_get(json_object_get(json_object_get(doc, "overall"), "aiq"), "ci95");
	assert_near(json_number_value(json_array_get(ci, 1)), -lo, 1e-12);
	assert_near(num_at(doc, "overall", "aiq", "p_value"), 1.0 / 400.0, 1e-12);
	/* B's own bootstrap block is absent: --seed was not given, so 42. */
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "bootstrap"), "seed")), 42);
	json_decref(doc);
}

Test(compare, results_do_not_depend_on_threads_or_runs)
{
	char *dir = temp_dir();
	spec sa = better_spec(route_cheap), sb = better_spec(route_smart);
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	json_t *x = compare_json(a, b, "--seed", "9"), *y = compare_json(a, b, "--seed", "9");
	cr_assert(json_equal(x, y));
	json_t *z = compare_json(a, b, "--seed", "10");
	cr_assert(!json_equal(json_object_get(json_object_get(x, "overall"), "aiq"),
			      json_object_get(json_object_get(z, "overall"), "aiq")));
	json_decref(x);
	json_decref(y);
	json_decref(z);
}

Test(compare, refuses_other_dataset_or_split)
{
	char *dir = temp_dir();
	spec sa = worked(route_a), sb = worked(route_b);
	const char *a = write_spec(dir, "a.json", &sa);
	sb.sha256 = "cccc1111cccc1111cccc1111cccc1111cccc1111cccc1111cccc1111cccc1111";
	const char *b = write_spec(dir, "other-data.json", &sb);
	cmd_result r = compare((const char *[]){a, b, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, a) && strstr(r.err, b) && strstr(r.err, "different datasets"), "%s", r.err);
	cmd_free(&r);

	struct {
		const char *mode;
		long long seed;
		double fraction;
	} splits[] = {{"ood", 42, 0.7}, {"paper", 1, 0.7}, {"paper", 42, 0.8}};
	for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
		sb = worked(route_b);
		sb.split_mode = splits[k].mode;
		sb.split_seed = splits[k].seed;
		sb.train_fraction = splits[k].fraction;
		b = write_spec(dir, "other-split.json", &sb);
		r = compare((const char *[]){a, b, "--json", NULL});
		cr_assert_eq(r.status, 1, "split %zu", k);
		cr_assert(strstr(r.err, a) && strstr(r.err, b) && strstr(r.err, "different splits"), "%s", r.err);
		cr_assert_str_eq(r.out, "");
		cmd_free(&r);
	}
}

Test(compare, malformed_input_names_the_file)
{
	char *dir = temp_dir();
	spec sa = worked(route_a);
	const char *a = write_spec(dir, "a.json", &sa);
	const char *bad = write_text(dir, "broken.json", "{\"schema\": \"routerbench.result/1\",\n  \"tasks\": [1,\n");
	cmd_result r = compare((const char *[]){a, bad, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, bad) && strstr(r.err, "line"), "%s", r.err);
	cmd_free(&r);

	r = compare((const char *[]){bad, a, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, bad), "%s", r.err);
	cmd_free(&r);

	r = compare((const char *[]){a, "/nonexistent/b.json", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "/nonexistent/b.json"), "%s", r.err);
	cmd_free(&r);

	const char *other = write_text(dir, "array.json", "[1, 2]\n");
	r = compare((const char *[]){a, other, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, other) && strstr(r.err, "not a JSON object"), "%s", r.err);
	cmd_free(&r);

	/* A result missing a field it needs: the schema check names the file and the JSON pointer. */
	json_t *doc = result_json(&sa);
	json_object_del(json_object_get(json_object_get(json_object_get(doc, "tasks"), "t1"), "router"), "ndch");
	const char *no_hull = write_doc(dir, "no-hull.json", doc);
	r = compare((const char *[]){a, no_hull, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, no_hull) && strstr(r.err, ": /tasks/t1/router/ndch: required property is missing"), "%s",
		  r.err);
	cmd_free(&r);

	/* Values the schema refuses, in either file: a quality above 1, a hash that is not one. */
	doc = result_json(&sa);
	json_t *pt = json_array_get(json_object_get(json_object_get(json_object_get(doc, "overall"), "router"), "points"), 1);
	json_object_set_new(pt, "quality", json_real(1.5));
	const char *high = write_doc(dir, "high.json", doc);
	r = compare((const char *[]){high, a, "--json", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, high) && strstr(r.err, ": /overall/router/points/1/quality: 1.5 is above maximum 1"), "%s",
		  r.err);
	cr_assert_str_eq(r.out, "");
	cmd_free(&r);
	spec short_hash = worked(route_b);
	short_hash.sha256 = "aaaa0000";
	const char *bad_hash = write_spec(dir, "short-hash.json", &short_hash);
	r = compare((const char *[]){a, bad_hash, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, bad_hash) && strstr(r.err, ": /dataset/sha256: "), "%s", r.err);
	cmd_free(&r);

	/* Decisions that point at a model the dataset does not have. */
	doc = result_json(&sa);
	json_t *row = json_array_get(
		json_object_get(json_object_get(json_object_get(doc, "overall"), "decisions"), "model"), 1);
	json_array_set_new(row, 2, json_integer(3));
	const char *bad_model = write_doc(dir, "bad-model.json", doc);
	r = compare((const char *[]){bad_model, a, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, bad_model) && strstr(r.err, "overall.decisions.model[1][2]"), "%s", r.err);
	cmd_free(&r);

	/* Not a result at all. */
	doc = result_json(&sa);
	json_object_set_new(doc, "schema", json_string("something/else"));
	const char *wrong_schema = write_doc(dir, "schema.json", doc);
	r = compare((const char *[]){a, wrong_schema, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, wrong_schema) && strstr(r.err, "not a routerbench result"), "%s", r.err);
	cmd_free(&r);
}

Test(compare, unpaired_without_decisions)
{
	char *dir = temp_dir();
	static const double ci_a[] = {0.5, 0.65}, ci_b[] = {0.4, 0.55};
	spec sa = worked(route_a), sb = worked(route_b);
	sa.ci95 = ci_a;
	sb.ci95 = ci_b;
	sb.decisions = 0;
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b-nodec.json", &sb);
	json_t *doc = compare_json(a, b, NULL, NULL);
	const json_t *boot = json_object_get(doc, "bootstrap");
	cr_assert(json_is_false(json_object_get(boot, "paired")));
	cr_assert(strstr(json_string_value(json_object_get(boot, "reason")), b));
	cr_assert_null(json_object_get(boot, "resamples"));
	cr_assert(json_is_true(json_object_get(json_object_get(doc, "a"), "decisions")));
	cr_assert(json_is_false(json_object_get(json_object_get(doc, "b"), "decisions")));
	const json_t *aiq = json_object_get(json_object_get(doc, "overall"), "aiq");
	cr_assert(json_is_false(json_object_get(aiq, "paired")));
	cr_assert_null(json_object_get(aiq, "ci95"));
	cr_assert_null(json_object_get(aiq, "p_value"));
	cr_assert_eq(json_number_value(json_array_get(json_object_get(aiq, "a_ci95"), 1)), 0.65);
	cr_assert_eq(json_number_value(json_array_get(json_object_get(aiq, "b_ci95"), 0)), 0.4);
	cr_assert_null(json_object_get(json_object_get(doc, "overall"), "decisions"));
	/* The point figures do not need decisions. */
	assert_near(num_at(doc, "overall", "aiq", "delta"), -0.112470009, 1e-8);
	assert_near(num_at(doc, "overall", "cost_at_quality", "delta"), -0.0225, 1e-12);
	json_decref(doc);

	cmd_result r = compare((const char *[]){a, b, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "unpaired"), "%s", r.out);
	cr_assert(strstr(r.out, "[+0.5000, +0.6500]"), "%s", r.out);
	cr_assert(!strstr(r.out, "decisions that differ"), "%s", r.out);
	cmd_free(&r);

	/* Neither has decisions, nor intervals: still the point figures. */
	sa.decisions = 0;
	sa.ci95 = NULL;
	a = write_spec(dir, "a-nodec.json", &sa);
	doc = compare_json(a, b, NULL, NULL);
	cr_assert(strstr(json_string_value(json_object_get(json_object_get(doc, "bootstrap"), "reason")), " and "));
	aiq = json_object_get(json_object_get(doc, "overall"), "aiq");
	cr_assert_null(json_object_get(aiq, "a_ci95"));
	cr_assert_not_null(json_object_get(aiq, "b_ci95"));
	json_decref(doc);
}

Test(compare, different_task_groups_compare_the_common_ones)
{
	char *dir = temp_dir();
	static const char *const ga[] = {"t1", "t2", NULL}, *const gb[] = {"t3", "t1", NULL}, *const gc[] = {"t4", NULL};
	spec sa = worked(route_a), sb = worked(route_b);
	sa.groups = ga;
	sb.groups = gb;
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	json_t *doc = compare_json(a, b, "--resamples", "20");
	const json_t *tasks = json_object_get(doc, "tasks");
	cr_assert_eq(json_object_size(tasks), 1);
	cr_assert_not_null(json_object_get(tasks, "t1"));
	cr_assert(json_is_null(json_object_get(doc, "overall")));
	const char *note = json_string_value(json_array_get(json_object_get(doc, "notes"), 0));
	cr_assert(note && strstr(note, "only in") && strstr(note, "t2") && strstr(note, "t3") && strstr(note, "overall"),
		  "%s", note);
	json_decref(doc);

	cmd_result r = compare((const char *[]){a, b, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "note: task groups in only one result"), "%s", r.out);
	cr_assert(strstr(r.out, "(t1, 2 listed)"), "%s", r.out);
	cmd_free(&r);

	sb.groups = gc;
	b = write_spec(dir, "c.json", &sb);
	r = compare((const char *[]){a, b, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "share no task group") && strstr(r.err, a) && strstr(r.err, b), "%s", r.err);
	cmd_free(&r);
}

Test(compare, output_file)
{
	char *dir = temp_dir(), path[600];
	spec sa = worked(route_a), sb = worked(route_b);
	const char *a = write_spec(dir, "a.json", &sa), *b = write_spec(dir, "b.json", &sb);
	snprintf(path, sizeof(path), "%s/out.json", dir);
	cmd_result r = compare((const char *[]){a, b, "--json", "-o", path, "--resamples", "10", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cmd_free(&r);
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "a"), "file")), a);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "b"), "file")), b);
	json_decref(doc);
}

Test(compare, usage_errors_exit_2)
{
	const char *const cases[][6] = {
		{NULL},
		{"a.json", NULL},
		{"a.json", "b.json", "c.json", NULL},
		{"a.json", "b.json", "--resamples", "0", NULL},
		{"a.json", "b.json", "--resamples", "2000001", NULL},
		{"a.json", "b.json", "--resamples", "ten", NULL},
		{"a.json", "b.json", "--seed", "-1", NULL},
		{"a.json", "b.json", "--top", "x", NULL},
		{"a.json", "b.json", "--frobnicate", NULL},
		{"a.json", "b.json", "--top", NULL},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		cmd_result r = compare(cases[k]);
		cr_assert_eq(r.status, 2, "case %zu: exit %d (%s)", k, r.status, r.err);
		cr_assert(strlen(r.err) > 0, "case %zu", k);
		cmd_free(&r);
	}
	cmd_result r = compare((const char *[]){"--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: rbctl compare A.json B.json"), "%s", r.out);
	cmd_free(&r);
}

/* The library entry point leaves *out alone on failure and reports the file. */
Test(compare, api_refusal_leaves_output_untouched)
{
	spec sa = worked(route_a), sb = worked(route_b);
	sb.sha256 = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
	json_t *a = result_json(&sa), *b = result_json(&sb), *out = (json_t *)0x1;
	rbe_compare_opts o;
	rbe_compare_opts_default(&o);
	o.name_a = "left.json";
	o.name_b = "right.json";
	rbe_error e = {0};
	cr_assert_eq(rbe_compare(a, b, &o, &out, &e), -EXDEV);
	cr_assert_eq(out, (json_t *)0x1);
	cr_assert(strstr(e.msg, "left.json") && strstr(e.msg, "right.json"), "%s", e.msg);
	json_decref(a);
	json_decref(b);
}
