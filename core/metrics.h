/* metrics.h — the RouterBench metrics on the cost–quality plane (see docs/metrics.md). */
#ifndef RBD_METRICS_H
#define RBD_METRICS_H

#include <stddef.h>

typedef struct rbd_point {
	double cost;    /* USD, summed over the test prompts (cost_total) */
	double quality; /* mean score over the test prompts */
} rbd_point;

/* Non-decreasing convex hull: the upper convex hull of pts sorted by cost (monotone chain,
 * O(n log n)), cut where quality stops rising. Writes at most n points to out (caller-sized
 * to n) and returns how many. Non-finite points are ignored. */
size_t rbd_ndch(const rbd_point *pts, size_t n, rbd_point *out);

/* AIQ as the paper defines it (§3.3): the NDCH of pts plus the null router (0, 0), read as a
 * piecewise-linear curve, flat after its last point, averaged over [c_min, c_max]. When
 * c_max <= c_min the curve's value at c_min. */
double rbd_aiq(const rbd_point *pts, size_t n, double c_min, double c_max);

/* AIQ as the official code computes it: trapezoid area under the router's own NDCH (from its
 * cheapest hull point, no null router), extended flat to C = max(c_max, last hull cost), divided
 * by C. When C == 0 the hull's last quality. */
double rbd_aiq_code(const rbd_point *pts, size_t n, double c_max);

/* Value of the piecewise-linear hull curve at cost c (flat beyond both ends). */
double rbd_curve_at(const rbd_point *hull, size_t n, double c);

#endif
