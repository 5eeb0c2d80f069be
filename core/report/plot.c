/* plot.c — result sets drawn as one SVG: heading, legend and a grid of cost–quality panels. */
#include "report/plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/plot_svg.h"
#include "report/text.h"

/* ---- legend and layout --------------------------------------------------------------------- */

#define LEGEND_FS 11.0
#define LEGEND_ROW 18.0
#define LEGEND_MARK 26.0
#define LEGEND_GAP 18.0

struct legend_entry {
	int kind; /* 0 LLM, 1 Oracle, 2 Zero, 3 router */
	size_t router;
	char *text; /* owned, already cut to fit */
};

static size_t legend_entries(const rbr_resultset *rs, double width, struct legend_entry **out)
{
	size_t n = 3 + rs->n;
	struct legend_entry *e = rbe_xcalloc(n, sizeof(*e));
	e[0] = (struct legend_entry){0, 0, rbe_xstrdup("single LLM")};
	e[1] = (struct legend_entry){1, 0, rbe_xstrdup("Oracle")};
	e[2] = (struct legend_entry){2, 0, rbe_xstrdup("Zero router (hull of the LLMs)")};
	size_t max_chars = (size_t)((width - LEGEND_MARK - LEGEND_GAP) / (LEGEND_FS * 0.6));
	for (size_t i = 0; i < rs->n; i++) {
		const char *s = rs->labels[i];
		char *t;
		if (rbr_utf8_len(s) > max_chars) {
			size_t cut = rbr_utf8_prefix(s, max_chars - 1);
			t = rbe_xmalloc(cut + 4);
			memcpy(t, s, cut);
			memcpy(t + cut, "…", sizeof("…"));
		} else {
			t = rbe_xstrdup(s);
		}
		e[3 + i] = (struct legend_entry){3, i, t};
	}
	*out = e;
	return n;
}

/* Flow the entries into rows of the given width; returns the number of rows. */
static size_t legend_layout(const struct legend_entry *e, size_t n, double width, double *xs, size_t *rows)
{
	double x = 0;
	size_t row = 0;
	for (size_t k = 0; k < n; k++) {
		double w = LEGEND_MARK + rbr_text_width(e[k].text, LEGEND_FS) + LEGEND_GAP;
		if (x > 0 && x + w > width) {
			row++;
			x = 0;
		}
		xs[k] = x;
		rows[k] = row;
		x += w;
	}
	return row + 1;
}

static void draw_legend(FILE *out, const struct legend_entry *e, size_t n, const double *xs, const size_t *rows,
			double ox, double oy)
{
	fprintf(out, "<g class=\"legend\" font-size=\"%g\" fill=\"#222222\" transform=\"translate(%.1f,%.1f)\">\n",
		LEGEND_FS, ox, oy);
	for (size_t k = 0; k < n; k++) {
		double x = xs[k], y = (double)rows[k] * LEGEND_ROW + LEGEND_ROW / 2;
		fputs("<g class=\"legend-entry\">", out);
		switch (e[k].kind) {
		case 0:
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" LLM_COLOR "\"/>", x + 11, y);
			break;
		case 1:
			fputs("<path fill=\"" ORACLE_FILL "\" stroke=\"#333333\" stroke-width=\"0.8\" d=\"", out);
			rbr_star_path(out, x + 11, y, 7);
			fputs("\"/>", out);
			break;
		case 2:
			fprintf(out,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" ZERO_COLOR
				"\" stroke-width=\"1.6\" stroke-dasharray=\"6,4\"/>",
				x, y, x + 22, y);
			break;
		default: {
			char style[160];
			rbr_router_style(style, sizeof(style), e[k].router, 2.0);
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>", x, y, x + 22, y, style);
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\"/>", x + 11, y,
				rbr_router_color(e[k].router));
		}
		}
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + LEGEND_MARK, y + 4);
		rbr_xml_escape(out, e[k].text);
		fputs("</text></g>\n", out);
	}
	fputs("</g>\n", out);
}

static int has_task(const rbr_resultset *rs, const char *task)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rbr_resultset_block(rs, i, task))
			return 1;
	return 0;
}

static int check_tasks(const rbr_resultset *rs, const char *const *tasks, size_t n_tasks, rbe_error *e)
{
	for (size_t t = 0; t < n_tasks; t++) {
		if (has_task(rs, tasks[t]))
			continue;
		rbr_sbuf b = {0};
		for (size_t k = 0; k < rs->n_tasks; k++)
			rbr_sb_add(&b, "%s, ", rs->tasks[k]);
		rbr_sb_add(&b, "overall");
		int r = rbe_fail(e, -ENOENT, "no result has the task group '%s' (groups: %s)", tasks[t], b.s);
		free(b.s);
		return r;
	}
	return 0;
}

/* The <svg> element's start, its title and description, the background and, in a standalone
 * file, a heading naming the dataset. */
static void draw_header(FILE *out, const rbr_resultset *rs, double width, double height, double pad, int inline_svg)
{
	const json_t *ds = json_object_get(rs->docs[0], "dataset");
	const char *ds_name = json_string_value(json_object_get(ds, "name"));
	const char *sha = json_string_value(json_object_get(ds, "sha256"));

	if (!inline_svg)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" ");
	if (inline_svg)
		fprintf(out, "class=\"plot\" style=\"max-width:100%%;height:auto\" ");
	fprintf(out,
		"width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"DejaVu Sans, Verdana, Arial, Helvetica, sans-serif\" font-size=\"11\">\n",
		width, height, width, height);
	fputs("<title>routerbench: cost and quality on ", out);
	rbr_xml_escape(out, ds_name);
	fputs("</title>\n<desc>Dataset sha256 ", out);
	rbr_xml_escape(out, sha);
	fputs(". Per task group: single LLMs, the Oracle, the Zero router's hull and each router's operating points "
	      "and non-decreasing convex hull; x is the cost per query in USD, y the mean quality.</desc>\n",
	      out);
	fprintf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
	if (inline_svg)
		return;
	fprintf(out, "<text class=\"heading\" x=\"%.1f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\">", pad, 22.0);
	fputs("Cost–quality plane: ", out);
	rbr_xml_escape(out, ds_name);
	/* The full hash when it fits; the <desc> always has it. */
	double need = rbr_text_width("Cost–quality plane: ", 15) + rbr_text_width(ds_name, 15) +
		      rbr_text_width("   dataset sha256 ", 11) + rbr_text_width(sha, 11);
	fputs("<tspan font-weight=\"normal\" font-size=\"11\" fill=\"#555555\">   dataset sha256 ", out);
	if (need > width - 2 * pad) {
		char *head12 = rbe_xstrdup(sha);
		head12[rbr_utf8_prefix(sha, 12)] = '\0';
		rbr_xml_escape(out, head12);
		fputs("…", out);
		free(head12);
	} else {
		rbr_xml_escape(out, sha);
	}
	fputs("</tspan></text>\n", out);
}

int rbr_plot_svg(FILE *out, const rbr_resultset *rs, const char *const *tasks, size_t n_tasks,
		 const rbr_plot_opts *opts, rbe_error *e)
{
	int r = check_tasks(rs, tasks, n_tasks, e);
	if (r)
		return r;
	struct geom g = {opts->panel_width > 0 ? opts->panel_width : 500, opts->panel_height > 0 ? opts->panel_height : 380,
			 64, 16, 40, 44};
	size_t cols = n_tasks <= 1 ? 1 : n_tasks <= 4 ? 2 : 3;
	size_t grid_rows = n_tasks ? (n_tasks + cols - 1) / cols : 0;
	/* Inline in a report the page says what the data is; a standalone file says it itself. */
	const double pad = 12, head = opts->inline_svg ? 8 : 34;
	double width = (double)cols * g.w + 2 * pad;

	struct legend_entry *le;
	size_t n_le = legend_entries(rs, width - 2 * pad, &le);
	double *xs = rbe_xcalloc(n_le, sizeof(double));
	size_t *lrows = rbe_xcalloc(n_le, sizeof(size_t));
	size_t legend_rows = legend_layout(le, n_le, width - 2 * pad, xs, lrows);
	double legend_h = (double)legend_rows * LEGEND_ROW + 8;
	double height = head + legend_h + (double)grid_rows * g.h + pad;

	draw_header(out, rs, width, height, pad, opts->inline_svg);
	draw_legend(out, le, n_le, xs, lrows, pad, head);
	for (size_t k = 0; k < n_le; k++)
		free(le[k].text);
	free(le);
	free(xs);
	free(lrows);

	for (size_t t = 0; t < n_tasks; t++)
		rbr_draw_panel(out, rs, tasks[t], &g, pad + (double)(t % cols) * g.w,
			       head + legend_h + (double)(t / cols) * g.h, opts);
	fputs("</svg>\n", out);
	return 0;
}
