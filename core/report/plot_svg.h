/* plot_svg.h — the parts of the cost–quality plot shared by plot.c and plot_panel.c: axes,
 * colours, markers, label placement and the panel; private to core/report/plot*.c. */
#ifndef RBR_PLOT_SVG_H
#define RBR_PLOT_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "report/plot.h"

#define LLM_COLOR "#4d4d4d"
#define ZERO_COLOR "#333333"
#define ORACLE_FILL "#f5c518"

struct geom {
	double w, h;                     /* panel */
	double left, right, top, bottom; /* margins */
};

/* ---- axes ---- */

#define MAX_TICKS 160

struct tick {
	double v;  /* data value (log axes: the value itself, not its log) */
	int label; /* labelled, with a grid line; otherwise a minor tick mark */
};

struct axis {
	int log;       /* 1 log10 with decade labels, 2 log10 with decimal labels, 0 linear */
	double lo, hi; /* data range in axis space (log axes: log10 of the value) */
	double p0, p1; /* pixel positions of lo and hi */
	size_t n_ticks;
	struct tick ticks[MAX_TICKS];
	int decimals; /* for linear labels */
};

/* Pixel position of data value v. */
double rbr_ax_pos(const struct axis *a, double v);
/* dmin..dmax: the data; clamp01: quality, kept inside [0, 1] when the data is. */
void rbr_axis_linear(struct axis *a, double dmin, double dmax, int clamp01);
/* Decade ticks; 2× and 5× get labels too when fewer than two decades show, and when even that
 * is not enough a linear 1-2-5 labelling inside the range. dmin > 0. */
void rbr_axis_log(struct axis *a, double dmin, double dmax);
/* Grid, frame, ticks, tick labels and axis titles of a panel. */
void rbr_draw_axes(FILE *out, const struct geom *g, const struct axis *x, const struct axis *y);

/* ---- colours and markers ---- */

/* Result i's colour, and its stroke attributes (after the palette runs out, with a dash). */
const char *rbr_router_color(size_t i);
void rbr_router_style(char *buf, size_t len, size_t i, double width);
/* The Oracle's five-pointed star as path data around (cx, cy). */
void rbr_star_path(FILE *out, double cx, double cy, double r);
/* Rough advance width of s in pixels at font_size. */
double rbr_text_width(const char *s, double font_size);

/* ---- labels beside markers ---- */

struct box {
	double x, y, w, h;
};

/* Labels next to their markers: the first of twelve places that collides with nothing already
 * placed and stays inside the plot, else the one that collides least. Start from {.area = ...};
 * free with rbr_lab_free. */
struct labeller {
	struct box *boxes; /* markers and labels: avoided hard */
	size_t n, cap;
	struct box *soft; /* lines and router points: avoided when it is cheap */
	size_t n_soft, cap_soft;
	struct box area;
};

void rbr_lab_add(struct labeller *l, struct box b);
void rbr_lab_soft(struct labeller *l, double x, double y);
/* A polyline segment as a chain of small soft boxes, one every few pixels. */
void rbr_lab_line(struct labeller *l, double x0, double y0, double x1, double y1);
/* text (fs pixels, colour color) placed beside the marker at (px, py), and remembered. */
void rbr_place_label(FILE *out, struct labeller *l, double px, double py, const char *text, double fs,
		     const char *color);
void rbr_lab_free(struct labeller *l);

/* ---- the panel ---- */

/* One task group's panel (task NULL: overall) with its top-left corner at (ox, oy). */
void rbr_draw_panel(FILE *out, const rbr_resultset *rs, const char *task, const struct geom *g, double ox,
		    double oy, const rbr_plot_opts *opts);

#endif
