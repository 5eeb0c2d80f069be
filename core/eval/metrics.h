/* metrics.h — the RouterBench metrics on the cost–quality plane (see docs/metrics.md). */
#ifndef RBE_METRICS_H
#define RBE_METRICS_H

#include <stddef.h>

typedef struct rbe_point {
	double cost;    /* USD, summed over the test prompts (cost_total) */
	double quality; /* mean score over the test prompts */
} rbe_point;

/* Non-decreasing convex hull: the upper convex hull of pts sorted by cost (monotone chain,
 * O(n log n)), cut where quality stops rising. Writes at most n points to out (caller-sized
 * to n) and returns how many. Non-finite points are ignored. */
size_t rbe_ndch(const rbe_point *pts, size_t n, rbe_point *out);

/* AIQ as the paper defines it (§3.3): the NDCH of pts plus the null router (0, 0), read as a
 * piecewise-linear curve, flat after its last point, averaged over [c_min, c_max]. When
 * c_max <= c_min the curve's value at c_min. */
double rbe_aiq(const rbe_point *pts, size_t n, double c_min, double c_max);

/* AIQ as the official code computes it: trapezoid area under the router's own NDCH (from its
 * cheapest hull point, no null router), extended flat to C = max(c_max, last hull cost), divided
 * by C. When C == 0 the hull's last quality. */
double rbe_aiq_code(const rbe_point *pts, size_t n, double c_max);

/* Value of the piecewise-linear hull curve at cost c (flat beyond both ends). */
double rbe_curve_at(const rbe_point *hull, size_t n, double c);

#endif
