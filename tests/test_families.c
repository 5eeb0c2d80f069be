/* test_families.c — RouteLLM, LLMRouterBench and RouterArena figures on hand-built blocks with
 * answers worked out by hand (docs/metrics.md, "Metric families of other benchmarks"). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "eval/families.h"

#define EPS 1e-12
#define MAX_N 16
#define MAX_M 4
#define MAX_P 8

/* A block built by hand: outcomes per prompt and model, then the router's picks per point. The
 * decision's quality and cost are the picked model's recorded ones. */
typedef struct test_block {
	rbe_block_view v;
	const char *names[MAX_M];
	const char *ids[MAX_N];
	float llm_q[MAX_N * MAX_M];
	double llm_c[MAX_N * MAX_M];
	uint32_t model[MAX_P * MAX_N];
	float q[MAX_P * MAX_N];
	double c[MAX_P * MAX_N];
} test_block;

static const char *const model_names[MAX_M] = {"A", "B", "C", "D"};
static const char *const prompt_ids[MAX_N] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7",
					      "p8", "p9", "p10", "p11", "p12", "p13", "p14", "p15"};

/* scores: [n][M] row-major; cost: per model, the same on every prompt. */
static void tb_init(test_block *b, size_t n, uint32_t M, const float *scores, const double *cost)
{
	cr_assert(n <= MAX_N && M <= MAX_M);
	memset(b, 0, sizeof(*b));
	for (uint32_t j = 0; j < M; j++)
		b->names[j] = model_names[j];
	for (size_t i = 0; i < n; i++) {
		b->ids[i] = prompt_ids[i];
		for (uint32_t j = 0; j < M; j++) {
			b->llm_q[i * M + j] = scores[i * M + j];
			b->llm_c[i * M + j] = cost[j];
		}
	}
	b->v = (rbe_block_view){
		.n = n,
		.M = M,
		.P = 0,
		.model_names = b->names,
		.sample_ids = b->ids,
		.llm_q = b->llm_q,
		.llm_c = b->llm_c,
		.model = b->model,
		.q = b->q,
		.c = b->c,
	};
}

/* Append a point: picks[i] is the model chosen for prompt i. */
static void tb_point(test_block *b, const uint32_t *picks)
{
	size_t n = b->v.n, M = b->v.M, p = b->v.P;
	cr_assert(p < MAX_P);
	for (size_t i = 0; i < n; i++) {
		b->model[p * n + i] = picks[i];
		b->q[p * n + i] = b->llm_q[i * M + picks[i]];
		b->c[p * n + i] = b->llm_c[i * M + picks[i]];
	}
	b->v.P++;
}

/* Every point routes every prompt to model j. */
static void tb_point_all(test_block *b, uint32_t j)
{
	uint32_t picks[MAX_N];
	for (size_t i = 0; i < b->v.n; i++)
		picks[i] = j;
	tb_point(b, picks);
}

static double get_num(json_t *o, const char *path)
{
	/* "a.b.c" through objects; a trailing "[k]" indexes an array. */
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = o;
	for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) {
		char *br = strchr(tok, '[');
		size_t idx = 0;
		if (br) {
			idx = strtoul(br + 1, NULL, 10);
			*br = '\0';
		}
		cur = json_object_get(cur, tok);
		cr_assert_not_null(cur, "no key %s in %s", tok, path);
		if (br)
			cur = json_array_get(cur, idx);
		cr_assert_not_null(cur, "no element in %s", path);
	}
	cr_assert(json_is_number(cur), "%s is not a number", path);
	return json_number_value(cur);
}

static int is_null_at(json_t *o, const char *a, const char *b)
{
	json_t *x = json_object_get(json_object_get(o, a), b);
	return x && json_is_null(x);
}

/* The result must serialise (no NaN slipped through). */
static json_t *families(const test_block *b)
{
	json_t *f = rbe_families_block(&b->v);
	cr_assert_not_null(f);
	char *s = json_dumps(f, 0);
	cr_assert_not_null(s, "the families object does not serialise");
	free(s);
	return f;
}

/* ---- RouteLLM ---------------------------------------------------------------------------- */

/* Two models, W (index 0, cheap) and S (index 1, dear); W answers only prompts S answers too.
 * W = 1/4, S = 3/4, gap 1/2. */
static const float nested_scores[4 * 2] = {
	1, 1, /* both */
	0, 1, /* S only */
	0, 1, /* S only */
	0, 0, /* nobody */
};
static const double two_costs[2] = {0.001, 0.01};

Test(families, oracle_like_router_recovers_the_whole_gap_at_half_the_calls)
{
	test_block b;
	tb_init(&b, 4, 2, nested_scores, two_costs);
	/* Always the right one, the cheaper when both are right or both wrong. */
	tb_point(&b, (const uint32_t[]){0, 1, 1, 0});
	json_t *f = families(&b);
	json_t *rl = json_object_get(f, "routellm");
	cr_assert(json_is_object(rl));
	cr_assert_str_eq(json_string_value(json_object_get(rl, "strong")), "B");
	cr_assert_str_eq(json_string_value(json_object_get(rl, "weak")), "A");
	cr_assert_float_eq(get_num(f, "routellm.strong_share[0]"), 0.5, EPS);
	cr_assert_float_eq(get_num(f, "routellm.pgr[0]"), 1.0, EPS);
	/* Curve (0,0)–(0.5,1)–(1,1): 0.25 + 0.5. */
	cr_assert_float_eq(get_num(f, "routellm.apgr"), 0.75, EPS);
	cr_assert_float_eq(get_num(f, "routellm.cpt_20"), 0.1, EPS);
	cr_assert_float_eq(get_num(f, "routellm.cpt_50"), 0.25, EPS);
	cr_assert_float_eq(get_num(f, "routellm.cpt_80"), 0.4, EPS);
	cr_assert_float_eq(get_num(f, "routellm.max_quality.pgr"), 1.0, EPS);
	cr_assert_null(json_object_get(f, "routellm_note"));
	json_decref(f);
}

Test(families, oracle_like_router_on_complementary_models_beats_the_strong_one)
{
	/* W also answers a prompt S misses: the oracle's PGR is 2 at share 1/2. */
	static const float scores[4 * 2] = {1, 1, 0, 1, 0, 1, 1, 0};
	test_block b;
	tb_init(&b, 4, 2, scores, two_costs);
	tb_point(&b, (const uint32_t[]){0, 1, 1, 0});
	json_t *f = families(&b);
	cr_assert_float_eq(get_num(f, "routellm.pgr[0]"), 2.0, EPS);
	/* (0,0)–(0.5,2)–(1,1): 0.5 + 0.75 */
	cr_assert_float_eq(get_num(f, "routellm.apgr"), 1.25, EPS);
	cr_assert_float_eq(get_num(f, "routellm.cpt_80"), 0.2, EPS);
	json_decref(f);
}

Test(families, always_weak_and_always_strong_sit_on_the_random_mixing_line)
{
	for (uint32_t j = 0; j < 2; j++) {
		test_block b;
		tb_init(&b, 4, 2, nested_scores, two_costs);
		tb_point_all(&b, j);
		json_t *f = families(&b);
		cr_assert_float_eq(get_num(f, "routellm.strong_share[0]"), (double)j, EPS);
		cr_assert_float_eq(get_num(f, "routellm.pgr[0]"), (double)j, EPS);
		/* Only (0,0) and (1,1): the chord, area 1/2, CPT(x) = x. */
		cr_assert_float_eq(get_num(f, "routellm.apgr"), 0.5, EPS);
		cr_assert_float_eq(get_num(f, "routellm.cpt_20"), 0.2, EPS);
		cr_assert_float_eq(get_num(f, "routellm.cpt_50"), 0.5, EPS);
		cr_assert_float_eq(get_num(f, "routellm.cpt_80"), 0.8, EPS);
		json_decref(f);
	}
}

Test(families, cpt_and_apgr_on_a_hand_made_non_monotone_curve)
{
	/* Ten prompts; S answers all, W the first five: W = 0.5, S = 1, gap 0.5. */
	float scores[10 * 2];
	for (size_t i = 0; i < 10; i++) {
		scores[2 * i] = i < 5 ? 1.0f : 0.0f;
		scores[2 * i + 1] = 1.0f;
	}
	test_block b;
	tb_init(&b, 10, 2, scores, two_costs);
	/* share 0.2, PGR 0.4: S where W fails */
	tb_point(&b, (const uint32_t[]){0, 0, 0, 0, 0, 1, 1, 0, 0, 0});
	/* share 0.4, PGR 0: S only where W was right anyway (the curve dips) */
	tb_point(&b, (const uint32_t[]){1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
	/* share 0.6, PGR 0.8 */
	tb_point(&b, (const uint32_t[]){1, 1, 0, 0, 0, 1, 1, 1, 1, 0});
	/* share 0.2 again, PGR 0: at equal share the better point is kept */
	tb_point(&b, (const uint32_t[]){1, 1, 0, 0, 0, 0, 0, 0, 0, 0});
	json_t *f = families(&b);
	const double share[4] = {0.2, 0.4, 0.6, 0.2}, pgr[4] = {0.4, 0.0, 0.8, 0.0};
	for (size_t p = 0; p < 4; p++) {
		char path[64];
		snprintf(path, sizeof(path), "routellm.strong_share[%zu]", p);
		cr_assert_float_eq(get_num(f, path), share[p], EPS);
		snprintf(path, sizeof(path), "routellm.pgr[%zu]", p);
		cr_assert_float_eq(get_num(f, path), pgr[p], EPS);
	}
	/* Curve (0,0) (0.2,0.4) (0.4,0) (0.6,0.8) (1,1). */
	cr_assert_float_eq(get_num(f, "routellm.cpt_20"), 0.1, EPS);   /* first segment */
	cr_assert_float_eq(get_num(f, "routellm.cpt_50"), 0.525, EPS); /* after the dip: 0.4 + 0.2·0.5/0.8 */
	cr_assert_float_eq(get_num(f, "routellm.cpt_80"), 0.6, EPS);   /* a vertex */
	/* 0.2·0.2 + 0.2·0.2 + 0.2·0.4 + 0.4·0.9 */
	cr_assert_float_eq(get_num(f, "routellm.apgr"), 0.52, EPS);
	/* The max-quality point is the third (quality 0.9). */
	cr_assert_float_eq(get_num(f, "routellm.max_quality.strong_share"), 0.6, EPS);
	cr_assert_float_eq(get_num(f, "routellm.max_quality.pgr"), 0.8, EPS);
	json_decref(f);
}

Test(families, strong_is_the_better_model_whatever_its_index)
{
	/* Swap the columns: S is index 0 now. */
	static const float scores[4 * 2] = {1, 1, 1, 0, 1, 0, 0, 0};
	test_block b;
	tb_init(&b, 4, 2, scores, two_costs);
	tb_point(&b, (const uint32_t[]){1, 0, 0, 1});
	json_t *f = families(&b);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(f, "routellm"), "strong")), "A");
	cr_assert_float_eq(get_num(f, "routellm.strong_share[0]"), 0.5, EPS);
	cr_assert_float_eq(get_num(f, "routellm.pgr[0]"), 1.0, EPS);
	json_decref(f);
}

Test(families, routellm_is_null_with_a_note_unless_two_models_differ)
{
	static const float three[2 * 3] = {1, 0, 1, 0, 1, 1};
	static const double three_costs[3] = {0.001, 0.01, 0.1};
	test_block b;
	tb_init(&b, 2, 3, three, three_costs);
	tb_point_all(&b, 0);
	json_t *f = families(&b);
	cr_assert(json_is_null(json_object_get(f, "routellm")));
	const char *note = json_string_value(json_object_get(f, "routellm_note"));
	cr_assert_not_null(note);
	cr_assert_not_null(strstr(note, "3 models"), "%s", note);
	/* The other families are still there. */
	cr_assert(json_is_object(json_object_get(f, "llmrouterbench")));
	cr_assert(json_is_object(json_object_get(f, "routerarena")));
	json_decref(f);

	static const float tied[2 * 2] = {1, 0, 0, 1};
	tb_init(&b, 2, 2, tied, two_costs);
	tb_point_all(&b, 0);
	f = families(&b);
	cr_assert(json_is_null(json_object_get(f, "routellm")));
	cr_assert_not_null(strstr(json_string_value(json_object_get(f, "routellm_note")), "same mean quality"));
	json_decref(f);
}

/* ---- LLMRouterBench ---------------------------------------------------------------------- */

/* Three models on five prompts (cost per prompt A 0.001, B 0.01, C 0.1):
 * A = 0.4, B = 0.6, C = 0.6 (B is the best single model: the tie goes to the cheaper),
 * the oracle answers everything: 1.0. */
static const float three_scores[5 * 3] = {
	1, 1, 1, /* p0 */
	0, 1, 1, /* p1 */
	0, 0, 1, /* p2 */
	1, 0, 0, /* p3 */
	0, 1, 0, /* p4 */
};
static const double three_costs[3] = {0.001, 0.01, 0.1};
/* R0: all to A — quality 0.4, cost_total 0.005. */
/* R1: A, B, B, A, B — quality 0.8 (misses p2), cost_total 0.032. */
static const uint32_t r1_picks[5] = {0, 1, 1, 0, 1};

Test(families, gain_over_best_single_and_gap_to_oracle)
{
	test_block b;
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point_all(&b, 0);
	tb_point(&b, r1_picks);
	json_t *f = families(&b);
	json_t *lb = json_object_get(f, "llmrouterbench");
	cr_assert_str_eq(json_string_value(json_object_get(lb, "best_single")), "B");
	cr_assert_float_eq(get_num(f, "llmrouterbench.best_single_quality"), 0.6, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.best_single_cost_total"), 0.05, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.oracle_quality"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.router_max_quality"), 0.8, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.perf_gain"), 0.2, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.oracle_gap"), 0.2, EPS);
	json_decref(f);
}

Test(families, cost_saving_interpolates_along_the_router_hull)
{
	test_block b;
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point_all(&b, 0);
	tb_point(&b, r1_picks);
	json_t *f = families(&b);
	/* Hull (0.005, 0.4)–(0.032, 0.8); quality 0.6 halfway: 0.005 + 0.5·0.027 = 0.0185. */
	cr_assert_float_eq(get_num(f, "llmrouterbench.cost_at_best_single_quality"), 0.0185, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.cost_save"), 1.0 - 0.0185 / 0.05, EPS);
	json_decref(f);

	/* Only R1: its first hull point already reaches 0.6. */
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point(&b, r1_picks);
	f = families(&b);
	cr_assert_float_eq(get_num(f, "llmrouterbench.cost_save"), 1.0 - 0.032 / 0.05, EPS);
	json_decref(f);
}

Test(families, cost_saving_is_null_when_the_router_never_reaches_the_best_single_model)
{
	test_block b;
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point_all(&b, 0);
	json_t *f = families(&b);
	cr_assert(is_null_at(f, "llmrouterbench", "cost_save"));
	cr_assert(is_null_at(f, "llmrouterbench", "cost_at_best_single_quality"));
	cr_assert_float_eq(get_num(f, "llmrouterbench.perf_gain"), -0.2, EPS);
	cr_assert_float_eq(get_num(f, "llmrouterbench.oracle_gap"), 0.6, EPS);
	json_decref(f);
}

/* ---- RouterArena ------------------------------------------------------------------------- */

Test(families, opt_sel_is_one_for_a_router_that_always_picks_the_cheapest_correct_model)
{
	/* Per prompt the cheapest correct model: A, B, C, A, B. R1 picks it wherever it is right
	 * (it misses p2, which RouterArena does not count). */
	test_block b;
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point(&b, r1_picks);
	tb_point(&b, (const uint32_t[]){0, 1, 2, 0, 1}); /* the oracle itself */
	json_t *f = families(&b);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[0]"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_cost[0]"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.counted[0]"), 4, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[1]"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.counted[1]"), 5, EPS);
	/* The oracle is the max-quality point. */
	cr_assert_float_eq(get_num(f, "routerarena.max_quality.counted"), 5, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.max_quality.opt_sel"), 1.0, EPS);
	json_decref(f);
}

Test(families, opt_sel_is_zero_for_a_router_that_never_does)
{
	/* p0 → B (right, A is cheaper), p1 → C (right, B is cheaper); the rest wrong, not counted. */
	test_block b;
	tb_init(&b, 5, 3, three_scores, three_costs);
	tb_point(&b, (const uint32_t[]){1, 2, 0, 1, 2});
	json_t *f = families(&b);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[0]"), 0.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.counted[0]"), 2, EPS);
	/* (0.001 + 0.01) / (0.01 + 0.1) */
	cr_assert_float_eq(get_num(f, "routerarena.opt_cost[0]"), 0.1, EPS);
	json_decref(f);
}

Test(families, prompts_no_model_answers_and_wrong_picks_are_not_counted)
{
	test_block b;
	tb_init(&b, 4, 2, nested_scores, two_costs);
	tb_point(&b, (const uint32_t[]){0, 1, 1, 1}); /* p3: nobody answers, whatever the pick */
	tb_point(&b, (const uint32_t[]){1, 0, 0, 0}); /* right only on p0, and not the cheapest */
	static const float opposite[2 * 2] = {1, 0, 0, 1};
	json_t *f = families(&b);
	cr_assert_float_eq(get_num(f, "routerarena.counted[0]"), 3, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[0]"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.counted[1]"), 1, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[1]"), 0.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_cost[1]"), 0.1, EPS);
	json_decref(f);

	/* A router that is always wrong has nothing to count: null, not 0. */
	tb_init(&b, 2, 2, opposite, two_costs);
	tb_point(&b, (const uint32_t[]){1, 0});
	f = families(&b);
	json_t *sel = json_array_get(json_object_get(json_object_get(f, "routerarena"), "opt_sel"), 0);
	json_t *cost = json_array_get(json_object_get(json_object_get(f, "routerarena"), "opt_cost"), 0);
	cr_assert(json_is_null(sel) && json_is_null(cost));
	json_decref(f);
}

Test(families, equal_cost_ties_count_as_optimal_and_overhead_lowers_opt_cost)
{
	/* A and B score and cost the same: picking either is optimal. */
	static const float scores[2 * 2] = {1, 1, 1, 1};
	static const double costs[2] = {0.01, 0.01};
	test_block b;
	tb_init(&b, 2, 2, scores, costs);
	tb_point(&b, (const uint32_t[]){1, 0});
	/* A per-query overhead is charged on top of the model: 0.01 + 0.01 per prompt. */
	for (size_t i = 0; i < 2; i++)
		b.c[i] += 0.01;
	json_t *f = families(&b);
	cr_assert_float_eq(get_num(f, "routerarena.opt_sel[0]"), 1.0, EPS);
	cr_assert_float_eq(get_num(f, "routerarena.opt_cost[0]"), 0.5, EPS);
	json_decref(f);
}

Test(families, a_block_without_points_gives_nulls_not_a_crash)
{
	test_block b;
	tb_init(&b, 4, 2, nested_scores, two_costs);
	json_t *f = families(&b);
	cr_assert(is_null_at(f, "llmrouterbench", "perf_gain"));
	cr_assert(is_null_at(f, "routerarena", "max_quality"));
	cr_assert(is_null_at(f, "routellm", "max_quality"));
	cr_assert_float_eq(get_num(f, "routellm.apgr"), 0.5, EPS);
	json_decref(f);
}
