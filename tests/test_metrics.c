/* test_metrics.c — NDCH and AIQ on the worked examples of docs/metrics.md, plus edge cases. */
#include <criterion/criterion.h>
#include <math.h>

#include "eval/metrics.h"

#define EPS 1e-12

/* docs/metrics.md, "Worked example": three models on four prompts. */
static const rbe_point llms[3] = {{0.004, 0.25}, {0.04, 0.5}, {0.4, 0.75}};
static const rbe_point router_pts[3] = {{0.3, 0.6}, {0.02, 0.5}, {0.1, 0.625}};

Test(metrics, zero_router_hull_keeps_all_three_models)
{
	rbe_point hull[3];
	size_t h = rbe_ndch(llms, 3, hull);
	cr_assert_eq(h, 3);
	for (size_t k = 0; k < 3; k++) {
		cr_assert_float_eq(hull[k].cost, llms[k].cost, EPS);
		cr_assert_float_eq(hull[k].quality, llms[k].quality, EPS);
	}
}

Test(metrics, zero_router_aiq_worked_example)
{
	/* (0.036·0.375 + 0.36·0.625) / 0.396 */
	cr_assert_float_eq(rbe_aiq(llms, 3, 0.004, 0.4), 0.2385 / 0.396, EPS);
	/* official code: same area, divided by c_max = 0.4 */
	cr_assert_float_eq(rbe_aiq_code(llms, 3, 0.4), 0.2385 / 0.4, EPS);
}

Test(metrics, router_hull_cuts_the_falling_point)
{
	rbe_point hull[3];
	size_t h = rbe_ndch(router_pts, 3, hull);
	cr_assert_eq(h, 2);
	cr_assert_float_eq(hull[0].cost, 0.02, EPS);
	cr_assert_float_eq(hull[1].cost, 0.1, EPS);
	cr_assert_float_eq(hull[1].quality, 0.625, EPS);
}

Test(metrics, router_aiq_worked_example)
{
	/* Curve (0,0)→(0.02,0.5)→(0.1,0.625), flat after; f(0.004) = 0.1.
	 * 0.016·0.3 + 0.08·0.5625 + 0.3·0.625 = 0.2373 over 0.396. */
	cr_assert_float_eq(rbe_aiq(router_pts, 3, 0.004, 0.4), 0.2373 / 0.396, EPS);
	/* Code variant: 0.08·0.5625 + 0.3·0.625 = 0.2325 over 0.4. */
	cr_assert_float_eq(rbe_aiq_code(router_pts, 3, 0.4), 0.2325 / 0.4, EPS);
}

Test(metrics, hull_drops_points_under_a_chord_and_collinear_points)
{
	rbe_point pts[] = {{0, 0}, {1, 0.1}, {2, 1.25}, {3, 1.625}, {4, 2}, {5, 2}};
	rbe_point hull[6];
	size_t h = rbe_ndch(pts, 6, hull);
	/* (1, 0.1) lies under (0,0)–(2,1.25); (3,1.625) is collinear with (2,1.25)–(4,2); (5,2) does not rise. */
	cr_assert_eq(h, 3);
	cr_assert_float_eq(hull[0].cost, 0, EPS);
	cr_assert_float_eq(hull[1].cost, 2, EPS);
	cr_assert_float_eq(hull[2].cost, 4, EPS);
}

Test(metrics, hull_of_equal_costs_keeps_the_best_and_ignores_nan)
{
	rbe_point pts[] = {{1, 0.2}, {1, 0.7}, {NAN, 0.9}, {2, INFINITY}, {1, 0.5}};
	rbe_point hull[5];
	size_t h = rbe_ndch(pts, 5, hull);
	cr_assert_eq(h, 1);
	cr_assert_float_eq(hull[0].quality, 0.7, EPS);
}

Test(metrics, empty_and_single_point)
{
	rbe_point hull[1];
	cr_assert_eq(rbe_ndch(NULL, 0, hull), 0);
	rbe_point one = {2, 0.5};
	cr_assert_eq(rbe_ndch(&one, 1, hull), 1);
	/* Mixing with the null router: f(c) = 0.25·c on [0, 2], then 0.5. Over [1, 3]: (0.375 + 0.5)/2. */
	cr_assert_float_eq(rbe_aiq(&one, 1, 1, 3), (0.5 * (0.25 + 0.5) + 0.5) / 2, EPS);
	/* Degenerate domain: the curve's value. */
	cr_assert_float_eq(rbe_aiq(&one, 1, 2, 2), 0.5, EPS);
	/* Code variant from the router's own cheapest point: area 1·0.5 over 3. */
	cr_assert_float_eq(rbe_aiq_code(&one, 1, 3), 0.5 / 3, EPS);
	cr_assert_float_eq(rbe_aiq_code(NULL, 0, 3), 0.0, EPS);
}

Test(metrics, free_model_replaces_the_null_router)
{
	rbe_point pts[] = {{0, 0.4}, {1, 0.8}};
	/* Curve (0,0.4)→(1,0.8): mean over [0,1] is 0.6. */
	cr_assert_float_eq(rbe_aiq(pts, 2, 0, 1), 0.6, EPS);
	cr_assert_float_eq(rbe_aiq_code(pts, 2, 1), 0.6, EPS);
	cr_assert_float_eq(rbe_curve_at(pts, 2, 0.5), 0.6, EPS);
}

Test(metrics, hull_beyond_the_domain_extends_code_variant)
{
	/* A router point dearer than the dearest model widens the code variant's domain. */
	rbe_point pts[] = {{1, 0.5}, {4, 1.0}};
	/* trapz (1→4) = 3·0.75 = 2.25 over C = max(2, 4) = 4 */
	cr_assert_float_eq(rbe_aiq_code(pts, 2, 2), 2.25 / 4, EPS);
	/* paper: curve (0,0)→(1,0.5)→(4,1) on [0.5, 2]: 0.5·(0.25+0.5)/2 + 1·(0.5+0.6667)/2 */
	double f2 = 0.5 + 0.5 / 3.0;
	cr_assert_float_eq(rbe_aiq(pts, 2, 0.5, 2), (0.5 * 0.375 + (0.5 + f2) / 2) / 1.5, EPS);
}
