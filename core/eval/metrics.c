/* metrics.c — NDCH, AIQ (paper and official-code variants). */
#include "eval/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int by_cost_then_quality_desc(const void *a, const void *b)
{
	const rbe_point *p = a, *q = b;
	if (p->cost != q->cost)
		return p->cost < q->cost ? -1 : 1;
	if (p->quality != q->quality)
		return p->quality > q->quality ? -1 : 1;
	return 0;
}

/* > 0 when o→a→b turns left (counter-clockwise). */
static double cross(rbe_point o, rbe_point a, rbe_point b)
{
	return (a.cost - o.cost) * (b.quality - o.quality) - (a.quality - o.quality) * (b.cost - o.cost);
}

size_t rbe_ndch(const rbe_point *pts, size_t n, rbe_point *out)
{
	rbe_point *sorted = rbe_xmalloc((n ? n : 1) * sizeof(rbe_point));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(pts[i].cost) && isfinite(pts[i].quality))
			sorted[m++] = pts[i];
	qsort(sorted, m, sizeof(rbe_point), by_cost_then_quality_desc);

	/* Upper hull, left to right: drop the last point while it is not strictly above the chord
	 * from its predecessor to the new point. Equal costs: the best quality came first, so the
	 * others never rise above it and are dropped by the monotone cut below. */
	size_t h = 0;
	for (size_t i = 0; i < m; i++) {
		if (h > 0 && sorted[i].cost == out[h - 1].cost)
			continue;
		while (h >= 2 && cross(out[h - 2], out[h - 1], sorted[i]) >= 0)
			h--;
		out[h++] = sorted[i];
	}
	free(sorted);
	/* Cut where quality stops rising: the hull is concave, so keep the prefix up to the first
	 * point of maximum quality. */
	size_t keep = h ? 1 : 0;
	while (keep < h && out[keep].quality > out[keep - 1].quality)
		keep++;
	return keep;
}

double rbe_curve_at(const rbe_point *hull, size_t n, double c)
{
	if (n == 0)
		return 0.0;
	if (c <= hull[0].cost)
		return hull[0].quality;
	for (size_t k = 1; k < n; k++) {
		if (c <= hull[k].cost) {
			const rbe_point a = hull[k - 1], b = hull[k];
			double t = (c - a.cost) / (b.cost - a.cost);
			return a.quality + t * (b.quality - a.quality);
		}
	}
	return hull[n - 1].quality;
}

/* Exact integral of the curve over [lo, hi]: it is linear between breakpoints, so trapezoids
 * over the breakpoints inside the interval are exact. */
static double curve_integral(const rbe_point *hull, size_t n, double lo, double hi)
{
	double area = 0.0, x = lo, y = rbe_curve_at(hull, n, lo);
	for (size_t k = 0; k < n; k++) {
		if (hull[k].cost <= x)
			continue;
		if (hull[k].cost >= hi)
			break;
		area += (hull[k].cost - x) * (y + hull[k].quality) / 2.0;
		x = hull[k].cost;
		y = hull[k].quality;
	}
	double y_hi = rbe_curve_at(hull, n, hi);
	area += (hi - x) * (y + y_hi) / 2.0;
	return area;
}

double rbe_aiq(const rbe_point *pts, size_t n, double c_min, double c_max)
{
	rbe_point *with_null = rbe_xmalloc((n + 1) * sizeof(rbe_point));
	memcpy(with_null, pts, n * sizeof(rbe_point));
	with_null[n] = (rbe_point){0.0, 0.0};
	rbe_point *hull = rbe_xmalloc((n + 1) * sizeof(rbe_point));
	size_t h = rbe_ndch(with_null, n + 1, hull);
	double aiq = c_max > c_min ? curve_integral(hull, h, c_min, c_max) / (c_max - c_min)
				   : rbe_curve_at(hull, h, c_min);
	free(hull);
	free(with_null);
	return aiq;
}

double rbe_aiq_code(const rbe_point *pts, size_t n, double c_max)
{
	rbe_point *hull = rbe_xmalloc((n + 1) * sizeof(rbe_point));
	size_t h = rbe_ndch(pts, n, hull);
	if (h == 0) {
		free(hull);
		return 0.0;
	}
	double last_q = hull[h - 1].quality, c = fmax(c_max, hull[h - 1].cost);
	hull[h++] = (rbe_point){c, last_q};
	double area = 0.0;
	for (size_t k = 1; k < h; k++)
		area += (hull[k].cost - hull[k - 1].cost) * (hull[k].quality + hull[k - 1].quality) / 2.0;
	free(hull);
	return c > 0.0 ? area / c : last_q;
}
