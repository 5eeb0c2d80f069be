/* plot_panel.c — one task group's panel of the cost–quality plane: the LLMs, the Oracle, the Zero
 * router's hull and every result's operating points and hull. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/plot_svg.h"
#include "report/text.h"

static double pt_cost(const json_t *p) { return json_number_value(json_object_get(p, "cost_mean")); }
static double pt_quality(const json_t *p) { return json_number_value(json_object_get(p, "quality")); }
static double hull_cost(const json_t *h, size_t k, double n_test)
{
	return json_number_value(json_array_get(json_array_get(h, k), 0)) / n_test;
}
static double hull_quality(const json_t *h, size_t k)
{
	return json_number_value(json_array_get(json_array_get(h, k), 1));
}

/* ---- the extent of the data -------------------------------------------------------------------- */

struct range {
	double xmin, xmax, ymin, ymax;
	size_t hidden; /* points at cost <= 0 left off a log axis */
	int log;
};

/* count: a point of its own (hull vertices repeat points, so they are not counted as hidden). */
static void range_add(struct range *r, double x, double y, int count)
{
	if (!isfinite(x) || !isfinite(y))
		return;
	if (r->log && x <= 0.0) {
		r->hidden += (size_t)count;
		return;
	}
	if (x < r->xmin)
		r->xmin = x;
	if (x > r->xmax)
		r->xmax = x;
	if (y < r->ymin)
		r->ymin = y;
	if (y > r->ymax)
		r->ymax = y;
}

static void range_point(struct range *r, const json_t *p)
{
	double x = pt_cost(p), y = pt_quality(p), lo, hi;
	range_add(r, x, y, 1);
	if (rbr_point_ci(p, "quality", &lo, &hi)) {
		range_add(r, x, lo, 0);
		range_add(r, x, hi, 0);
	}
	if (rbr_point_ci(p, "cost_mean", &lo, &hi)) {
		range_add(r, lo, y, 0);
		range_add(r, hi, y, 0);
	}
}

static int drawable(const struct axis *x, double cost, double quality)
{
	return isfinite(cost) && isfinite(quality) && (!x->log || cost > 0.0);
}

/* Everything the panel draws, from the reference block rb and every result's block of task. */
static struct range panel_range(const rbr_resultset *rs, const char *task, const json_t *rb, int log_cost)
{
	double n_test = (double)json_integer_value(json_object_get(rb, "n_test"));
	const json_t *zero_hull = json_object_get(json_object_get(rb, "zero"), "ndch");
	struct range r = {INFINITY, -INFINITY, INFINITY, -INFINITY, 0, log_cost};
	const char *model;
	json_t *p;
	json_object_foreach(json_object_get(rb, "llms"), model, p)
		range_point(&r, p);
	range_point(&r, json_object_get(rb, "oracle"));
	for (size_t k = 0; k < json_array_size(zero_hull); k++)
		range_add(&r, hull_cost(zero_hull, k, n_test), hull_quality(zero_hull, k), 0);
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		double n = (double)json_integer_value(json_object_get(b, "n_test"));
		const json_t *router = json_object_get(b, "router"), *hull = json_object_get(router, "ndch");
		size_t k;
		json_array_foreach(json_object_get(router, "points"), k, p)
			range_point(&r, p);
		for (k = 0; k < json_array_size(hull); k++)
			range_add(&r, hull_cost(hull, k, n), hull_quality(hull, k), 0);
	}
	if (!(r.xmax >= r.xmin)) { /* nothing drawable (a log axis and every cost 0) */
		r.xmin = log_cost ? 1e-6 : 0.0;
		r.xmax = log_cost ? 1e-3 : 1.0;
		r.ymin = 0.0;
		r.ymax = 1.0;
	}
	return r;
}

/* ---- drawing ----------------------------------------------------------------------------------- */

/* A panel being drawn: its axes and the labels' bookkeeping. */
struct panel {
	FILE *out;
	struct axis x, y;
	struct labeller l;
};

static void draw_hull(FILE *out, struct labeller *l, const struct axis *x, const struct axis *y, const json_t *hull,
		      double n_test, const char *cls, const char *style)
{
	fprintf(out, "<polyline class=\"%s\" fill=\"none\" %s points=\"", cls, style);
	size_t k;
	json_t *pt;
	int first = 1;
	double px = 0, py = 0;
	json_array_foreach(hull, k, pt) {
		double c = hull_cost(hull, k, n_test), q = hull_quality(hull, k);
		if (!drawable(x, c, q))
			continue;
		double cx = rbr_ax_pos(x, c), cy = rbr_ax_pos(y, q);
		fprintf(out, "%s%.1f,%.1f", first ? "" : " ", cx, cy);
		rbr_lab_line(l, first ? cx : px, first ? cy : py, cx, cy);
		px = cx;
		py = cy;
		first = 0;
	}
	fputs("\"/>\n", out);
}

/* Whether a point is a vertex of the hull: the hull's coordinates are copies of point values,
 * printed with 17 digits, so they compare exactly. */
static int on_hull(const json_t *hull, const json_t *p)
{
	double c = json_number_value(json_object_get(p, "cost_total")), q = pt_quality(p);
	size_t k;
	json_t *h;
	json_array_foreach(hull, k, h)
		if (json_number_value(json_array_get(h, 0)) == c && json_number_value(json_array_get(h, 1)) == q)
			return 1;
	return 0;
}

/* Bootstrap intervals as thin whiskers: vertical for quality, horizontal for cost. */
static void error_bar(FILE *out, const struct axis *x, const struct axis *y, const json_t *p, const char *color)
{
	double c = pt_cost(p), q = pt_quality(p), lo, hi;
	if (!drawable(x, c, q))
		return;
	double px = rbr_ax_pos(x, c), py = rbr_ax_pos(y, q);
	if (rbr_point_ci(p, "quality", &lo, &hi)) {
		double y0 = rbr_ax_pos(y, lo), y1 = rbr_ax_pos(y, hi);
		fprintf(out,
			"<path class=\"ci\" stroke=\"%s\" stroke-opacity=\"0.55\" d=\"M%.1f,%.1f V%.1f M%.1f,%.1f H%.1f "
			"M%.1f,%.1f H%.1f\"/>\n",
			color, px, y0, y1, px - 2, y0, px + 2, px - 2, y1, px + 2);
	}
	if (rbr_point_ci(p, "cost_mean", &lo, &hi) && drawable(x, lo, q) && drawable(x, hi, q)) {
		double x0 = rbr_ax_pos(x, lo), x1 = rbr_ax_pos(x, hi);
		fprintf(out,
			"<path class=\"ci\" stroke=\"%s\" stroke-opacity=\"0.55\" d=\"M%.1f,%.1f H%.1f M%.1f,%.1f V%.1f "
			"M%.1f,%.1f V%.1f\"/>\n",
			color, x0, py, x1, x0, py - 2, py + 2, x1, py - 2, py + 2);
	}
}

static void draw_title(FILE *out, const char *task, const struct geom *g, double ox, double oy, double n_test,
		       size_t hidden)
{
	fprintf(out, "<g class=\"panel\" transform=\"translate(%.1f,%.1f)\">\n<title>", ox, oy);
	rbr_xml_escape(out, task ? task : "overall");
	fputs("</title>\n", out);
	fprintf(out, "<text class=\"panel-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\">", g->left,
		g->top - 12);
	rbr_xml_escape(out, task ? task : "overall (all task groups)");
	fprintf(out, "<tspan font-weight=\"normal\" fill=\"#555555\">   n_test = %lld</tspan>", (long long)n_test);
	if (hidden)
		fprintf(out,
			"<tspan font-weight=\"normal\" font-size=\"10\" fill=\"#555555\">   (%zu zero-cost point%s not on "
			"the log axis)</tspan>",
			hidden, hidden == 1 ? "" : "s");
	fputs("</text>\n", out);
}

/* Result i's block b: its operating points, hull and hull vertices in its colour. */
static void draw_router(struct panel *pn, const rbr_resultset *rs, size_t i, const json_t *b)
{
	FILE *out = pn->out;
	const struct axis *x = &pn->x, *y = &pn->y;
	double n = (double)json_integer_value(json_object_get(b, "n_test"));
	const json_t *router = json_object_get(b, "router");
	const char *color = rbr_router_color(i);
	char style[160];
	rbr_router_style(style, sizeof(style), i, 2.0);
	fprintf(out, "<g class=\"router\">\n<title>");
	rbr_xml_escape(out, rs->labels[i]);
	fputs("</title>\n", out);
	const json_t *hull = json_object_get(router, "ndch");
	size_t k;
	json_t *p;
	json_array_foreach(json_object_get(router, "points"), k, p) {
		/* Whiskers on every operating point would bury the picture; the hull's are the
		 * ones a reader compares. */
		if (on_hull(hull, p))
			error_bar(out, x, y, p, color);
		if (!drawable(x, pt_cost(p), pt_quality(p)))
			continue;
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\" fill-opacity=\"0.45\"/>\n",
			rbr_ax_pos(x, pt_cost(p)), rbr_ax_pos(y, pt_quality(p)), color);
		rbr_lab_soft(&pn->l, rbr_ax_pos(x, pt_cost(p)), rbr_ax_pos(y, pt_quality(p)));
	}
	draw_hull(out, &pn->l, x, y, hull, n, "hull router", style);
	for (k = 0; k < json_array_size(hull); k++) {
		double c = hull_cost(hull, k, n), q = hull_quality(hull, k);
		if (drawable(x, c, q))
			fprintf(out,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\" stroke=\"#ffffff\" "
				"stroke-width=\"0.8\"/>\n",
				rbr_ax_pos(x, c), rbr_ax_pos(y, q), color);
	}
	fputs("</g>\n", out);
}

/* The single LLMs and the Oracle, labelled; drawn last, so their markers and labels sit on top. */
static void draw_references(struct panel *pn, const json_t *llms, const json_t *oracle)
{
	FILE *out = pn->out;
	const struct axis *x = &pn->x, *y = &pn->y;
	const char *model;
	json_t *p;
	/* Every marker is placed before any label, so no label covers a marker drawn after it. */
	json_object_foreach((json_t *)llms, model, p)
		if (drawable(x, pt_cost(p), pt_quality(p)))
			rbr_lab_add(&pn->l, (struct box){rbr_ax_pos(x, pt_cost(p)) - 4, rbr_ax_pos(y, pt_quality(p)) - 4, 8, 8});
	double ox_px = rbr_ax_pos(x, pt_cost(oracle)), oy_px = rbr_ax_pos(y, pt_quality(oracle));
	int oracle_shown = drawable(x, pt_cost(oracle), pt_quality(oracle));
	if (oracle_shown)
		rbr_lab_add(&pn->l, (struct box){ox_px - 7, oy_px - 7, 14, 14});

	fputs("<g class=\"llms\">\n", out);
	json_object_foreach((json_t *)llms, model, p) {
		error_bar(out, x, y, p, LLM_COLOR);
		if (!drawable(x, pt_cost(p), pt_quality(p)))
			continue;
		double px = rbr_ax_pos(x, pt_cost(p)), py = rbr_ax_pos(y, pt_quality(p));
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" LLM_COLOR "\" stroke=\"#ffffff\"><title>", px, py);
		rbr_xml_escape(out, model);
		fputs("</title></circle>\n", out);
		rbr_place_label(out, &pn->l, px, py, rbr_short_model(model), 10, "#222222");
	}
	fputs("</g>\n", out);
	if (oracle_shown) {
		fputs("<g class=\"oracle\">\n", out);
		error_bar(out, x, y, oracle, "#000000");
		fputs("<path fill=\"" ORACLE_FILL "\" stroke=\"#333333\" stroke-width=\"0.8\" d=\"", out);
		rbr_star_path(out, ox_px, oy_px, 7);
		fputs("\"><title>Oracle</title></path>\n", out);
		rbr_place_label(out, &pn->l, ox_px, oy_px, "Oracle", 10, "#222222");
		fputs("</g>\n", out);
	}
}

void rbr_draw_panel(FILE *out, const rbr_resultset *rs, const char *task, const struct geom *g, double ox,
		    double oy, const rbr_plot_opts *opts)
{
	/* The LLMs, the Oracle and the Zero router come from one document: they are the same in all. */
	const json_t *rb = rbr_resultset_block(rs, rbr_resultset_ref(rs, task), task);
	double n_test = (double)json_integer_value(json_object_get(rb, "n_test"));
	struct range r = panel_range(rs, task, rb, opts->log_cost);

	struct panel pn = {.out = out,
			   .l = {.area = {g->left, g->top, g->w - g->left - g->right, g->h - g->top - g->bottom}}};
	if (opts->log_cost)
		rbr_axis_log(&pn.x, r.xmin, r.xmax);
	else
		rbr_axis_linear(&pn.x, r.xmin, r.xmax, 0);
	rbr_axis_linear(&pn.y, r.ymin, r.ymax, 1);
	pn.x.p0 = g->left;
	pn.x.p1 = g->w - g->right;
	pn.y.p0 = g->h - g->bottom;
	pn.y.p1 = g->top;

	draw_title(out, task, g, ox, oy, n_test, r.hidden);
	rbr_draw_axes(out, g, &pn.x, &pn.y);
	fputs("<g class=\"zero\">\n", out);
	draw_hull(out, &pn.l, &pn.x, &pn.y, json_object_get(json_object_get(rb, "zero"), "ndch"), n_test, "hull zero",
		  "stroke=\"" ZERO_COLOR "\" stroke-width=\"1.6\" stroke-dasharray=\"6,4\"");
	fputs("</g>\n", out);
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (b)
			draw_router(&pn, rs, i, b);
	}
	draw_references(&pn, json_object_get(rb, "llms"), json_object_get(rb, "oracle"));
	rbr_lab_free(&pn.l);
	fputs("</g>\n", out);
}
