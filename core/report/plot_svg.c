/* plot_svg.c — SVG pieces of the cost–quality plot: axes with tick labels, router colours and strokes,
 * the Oracle's star, and labels placed beside their markers without overlapping. */
#include "report/plot_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/text.h"

/* The SVG is laid out before any font is chosen, so this errs wide (DejaVu Sans, the widest
 * common sans, averages about 0.6 em). */
double rbr_text_width(const char *s, double font_size) { return (double)rbr_utf8_len(s) * font_size * 0.6; }

/* ---- axes --------------------------------------------------------------------------------- */

double rbr_ax_pos(const struct axis *a, double v)
{
	double t = a->log ? log10(v) : v;
	return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static double nice_step(double raw)
{
	double e = floor(log10(raw)), f = raw / pow(10.0, e);
	double nf = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
	return nf * pow(10.0, e);
}

static void add_tick(struct axis *a, double v, int label)
{
	if (a->n_ticks < MAX_TICKS)
		a->ticks[a->n_ticks++] = (struct tick){v, label};
}

/* Linear ticks inside [lo, hi] (values, not logs) with a 1-2-5 step. */
static void linear_ticks(struct axis *a, double lo, double hi)
{
	double step = nice_step((hi - lo) / 5.0);
	int d = (int)-floor(log10(step) + 1e-9);
	a->decimals = d < 0 ? 0 : d;
	for (long long k = (long long)ceil(lo / step - 1e-9); k <= (long long)floor(hi / step + 1e-9); k++)
		add_tick(a, (double)k * step, 1);
}

void rbr_axis_linear(struct axis *a, double dmin, double dmax, int clamp01)
{
	memset(a, 0, sizeof(*a));
	double lo = dmin, hi = dmax;
	if (!(hi > lo)) {
		double d = lo != 0.0 ? fabs(lo) * 0.1 : 0.001;
		lo -= d;
		hi += d;
	}
	double pad = (hi - lo) * 0.04;
	lo -= pad;
	hi += pad;
	if (lo < 0.0 && dmin >= 0.0)
		lo = 0.0;
	if (clamp01 && hi > 1.0 && dmax <= 1.0)
		hi = 1.0;
	a->lo = lo;
	a->hi = hi;
	linear_ticks(a, lo, hi);
}

void rbr_axis_log(struct axis *a, double dmin, double dmax)
{
	memset(a, 0, sizeof(*a));
	a->log = 1;
	double l0 = log10(dmin), l1 = log10(dmax);
	if (!(l1 - l0 > 1e-9)) {
		l0 -= 0.5;
		l1 += 0.5;
	}
	double pad = (l1 - l0) * 0.05;
	a->lo = l0 - pad;
	a->hi = l1 + pad;
	/* Over many decades: no minor ticks, and a label on every k-th decade only. */
	int decades = (int)ceil(a->hi) - (int)floor(a->lo), every = decades > 7 ? (decades + 6) / 7 : 1;
	for (int pass = 0; pass < 3; pass++) {
		a->n_ticks = 0;
		size_t labelled = 0;
		for (int d = (int)floor(a->lo); d <= (int)ceil(a->hi); d++)
			for (int m = 1; m <= (decades > 12 ? 1 : 9); m++) {
				double t = log10((double)m) + d;
				if (t < a->lo - 1e-9 || t > a->hi + 1e-9)
					continue;
				int label = (m == 1 && d % every == 0) || (pass >= 1 && (m == 2 || m == 5)) || pass == 2;
				add_tick(a, (double)m * pow(10.0, d), label);
				labelled += (size_t)label;
			}
		if (labelled >= 2)
			return;
	}
	a->n_ticks = 0;
	linear_ticks(a, pow(10.0, a->lo), pow(10.0, a->hi));
	a->log = 2; /* log scale, decimal labels */
}

/* Tick label: decimals on linear axes, m×10ⁿ (exponent as a raised tspan) on log axes. */
static void tick_label(FILE *out, const struct axis *a, double v)
{
	if (a->log != 1) {
		if (fabs(v) < 1e-15)
			fputs("0", out); /* never "-0.00" nor "0.0000" */
		else
			fprintf(out, "%.*f", a->decimals, v);
		return;
	}
	int d = (int)floor(log10(v) + 1e-9);
	int m = (int)lround(v / pow(10.0, d));
	if (m != 1)
		fprintf(out, "%d×", m);
	fprintf(out, "10<tspan dy=\"-6\" font-size=\"8\">%s%d</tspan>", d < 0 ? "−" : "", abs(d));
}

void rbr_draw_axes(FILE *out, const struct geom *g, const struct axis *x, const struct axis *y)
{
	double x0 = g->left, x1 = g->w - g->right, y0 = g->h - g->bottom, y1 = g->top;
	fputs("<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n", out);
	for (size_t k = 0; k < x->n_ticks; k++)
		if (x->ticks[k].label)
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", rbr_ax_pos(x, x->ticks[k].v), y0,
				rbr_ax_pos(x, x->ticks[k].v), y1);
	for (size_t k = 0; k < y->n_ticks; k++)
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, rbr_ax_pos(y, y->ticks[k].v), x1,
			rbr_ax_pos(y, y->ticks[k].v));
	fputs("</g>\n", out);
	fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999999\"/>\n",
		x0, y1, x1 - x0, y0 - y1);

	fprintf(out, "<g class=\"axis x%s\" font-size=\"10\" fill=\"#333333\" text-anchor=\"middle\">\n",
		x->log ? " log" : "");
	for (size_t k = 0; k < x->n_ticks; k++) {
		double px = rbr_ax_pos(x, x->ticks[k].v);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n", px, y0, px,
			y0 + (x->ticks[k].label ? 5 : 3));
		if (!x->ticks[k].label)
			continue;
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", px, y0 + 17);
		tick_label(out, x, x->ticks[k].v);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\">cost per query (USD%s)</text>\n",
		(x0 + x1) / 2, g->h - 8, x->log ? ", log scale" : "");
	fputs("</g>\n", out);

	fputs("<g class=\"axis y\" font-size=\"10\" fill=\"#333333\" text-anchor=\"end\">\n", out);
	for (size_t k = 0; k < y->n_ticks; k++) {
		double py = rbr_ax_pos(y, y->ticks[k].v);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n", x0 - 5, py, x0, py);
		fprintf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x0 - 7, py + 3.5);
		tick_label(out, y, y->ticks[k].v);
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 %.1f %.1f)\">quality (mean score)</text>\n",
		14.0, (y0 + y1) / 2, 14.0, (y0 + y1) / 2);
	fputs("</g>\n", out);
}

/* ---- colours and markers -------------------------------------------------------------------- */

static const char *const palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
				      "#56b4e9", "#882255", "#117733", "#999933", "#aa4499"};
#define N_COLORS (sizeof(palette) / sizeof(palette[0]))
/* After the palette runs out, colours repeat with a dash pattern. */
static const char *const dashes[] = {"", "8,3", "2,3", "8,3,2,3"};

void rbr_star_path(FILE *out, double cx, double cy, double r)
{
	fputs("M", out);
	for (int k = 0; k < 10; k++) {
		double a = -M_PI / 2 + k * M_PI / 5, rr = k % 2 ? r * 0.45 : r;
		fprintf(out, "%s%.1f,%.1f", k ? " L" : "", cx + rr * cos(a), cy + rr * sin(a));
	}
	fputs(" Z", out);
}

const char *rbr_router_color(size_t i) { return palette[i % N_COLORS]; }

void rbr_router_style(char *buf, size_t len, size_t i, double width)
{
	const char *dash = dashes[(i / N_COLORS) % (sizeof(dashes) / sizeof(dashes[0]))];
	snprintf(buf, len, "stroke=\"%s\" stroke-width=\"%g\" stroke-linejoin=\"round\"%s%s%s", palette[i % N_COLORS],
		 width, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
}

/* ---- labels beside markers ------------------------------------------------------------------ */

static double overlap(struct box a, struct box b)
{
	double w = fmin(a.x + a.w, b.x + b.w) - fmax(a.x, b.x), h = fmin(a.y + a.h, b.y + b.h) - fmax(a.y, b.y);
	return w > 0 && h > 0 ? w * h : 0.0;
}

static void box_push(struct box **v, size_t *n, size_t *cap, struct box b)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = rbe_xrealloc(*v, *cap * sizeof(struct box));
	}
	(*v)[(*n)++] = b;
}

void rbr_lab_add(struct labeller *l, struct box b) { box_push(&l->boxes, &l->n, &l->cap, b); }

void rbr_lab_soft(struct labeller *l, double x, double y)
{
	box_push(&l->soft, &l->n_soft, &l->cap_soft, (struct box){x - 2.5, y - 2.5, 5, 5});
}

void rbr_lab_line(struct labeller *l, double x0, double y0, double x1, double y1)
{
	double len = hypot(x1 - x0, y1 - y0);
	size_t steps = (size_t)ceil(len / 4.0);
	for (size_t s = 0; s <= steps; s++) {
		double t = steps ? (double)s / (double)steps : 0.0;
		rbr_lab_soft(l, x0 + t * (x1 - x0), y0 + t * (y1 - y0));
	}
}

void rbr_place_label(FILE *out, struct labeller *l, double px, double py, const char *text, double fs,
		     const char *color)
{
	double w = rbr_text_width(text, fs), h = fs + 1;
	static const struct {
		double dx, dy; /* baseline anchor offset */
		int anchor;    /* 0 start, 1 middle, 2 end */
	} cand[] = {{7, 4, 0},   {-7, 4, 2},  {0, -8, 1},  {0, 16, 1},  {6, -6, 0},
		    {6, 14, 0},  {-6, -6, 2}, {-6, 14, 2}, {9, -14, 0}, {9, 22, 0},
		    {-9, -14, 2}, {-9, 22, 2}};
	static const char *const anchors[] = {"start", "middle", "end"};
	size_t best = 0;
	double best_score = INFINITY;
	for (size_t c = 0; c < sizeof(cand) / sizeof(cand[0]); c++) {
		double bx = px + cand[c].dx - (cand[c].anchor == 1 ? w / 2 : cand[c].anchor == 2 ? w : 0);
		struct box b = {bx, py + cand[c].dy - fs * 0.8, w, h};
		double score = 0.0;
		for (size_t k = 0; k < l->n; k++)
			score += overlap(b, l->boxes[k]);
		for (size_t k = 0; k < l->n_soft; k++)
			score += 0.1 * overlap(b, l->soft[k]);
		score += (b.w * b.h - overlap(b, l->area)) * 4.0;
		if (score < best_score) {
			best_score = score;
			best = c;
		}
		if (score == 0.0)
			break;
	}
	double x = px + cand[best].dx, y = py + cand[best].dy;
	double bx = x - (cand[best].anchor == 1 ? w / 2 : cand[best].anchor == 2 ? w : 0);
	rbr_lab_add(l, (struct box){bx, y - fs * 0.8, w, h});
	/* A white halo first, so the label stays legible over lines (SVG 1.1 has no paint-order). */
	for (int pass = 0; pass < 2; pass++) {
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%g\" text-anchor=\"%s\"", x, y, fs,
			anchors[cand[best].anchor]);
		if (pass == 0)
			fprintf(out, " fill=\"#ffffff\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\">");
		else
			fprintf(out, " fill=\"%s\">", color);
		rbr_xml_escape(out, text);
		fputs("</text>\n", out);
	}
}

void rbr_lab_free(struct labeller *l)
{
	free(l->boxes);
	free(l->soft);
}
