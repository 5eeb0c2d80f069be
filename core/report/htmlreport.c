/* htmlreport.c — `rbctl report`: a leaderboard per task group as self-contained HTML or Markdown. */
#include "report/htmlreport.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rb/version.h"

/* ---- figures per row -------------------------------------------------------------------- */

enum row_kind { ROW_ROUTER, ROW_ZERO, ROW_ORACLE };

struct row {
	enum row_kind kind;
	size_t doc; /* ROW_ROUTER: the document */
	int has_aiq;
	double aiq, aiq_code;
	const json_t *aiq_ci, *aiq_code_ci; /* [lo, hi] or NULL */
	const json_t *max_point;            /* POINT: the highest quality */
	int reached;                        /* the hull reaches the best single model's quality */
	double saving;                      /* 1 − cost there / that model's cost */
};

struct best_model {
	const char *name;
	const json_t *point;
};

static double num(const json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }

/* Highest quality; among equals the cheaper; among those the first in the document. */
static struct best_model best_single(const json_t *block)
{
	struct best_model b = {NULL, NULL};
	const char *name;
	json_t *p;
	json_object_foreach(json_object_get(block, "llms"), name, p) {
		if (!b.point || num(p, "quality") > num(b.point, "quality") ||
		    (num(p, "quality") == num(b.point, "quality") && num(p, "cost_total") < num(b.point, "cost_total"))) {
			b.name = name;
			b.point = p;
		}
	}
	return b;
}

/* The cheapest cost at which a hull (quality strictly rising) reaches quality q: between two
 * operating points a router mixes them at random, so the cost interpolates linearly. */
static int hull_cost_at(const json_t *hull, double q, double *cost)
{
	size_t n = json_array_size(hull);
	for (size_t k = 0; k < n; k++) {
		const json_t *pt = json_array_get(hull, k);
		double c = json_number_value(json_array_get(pt, 0)), qk = json_number_value(json_array_get(pt, 1));
		if (qk < q)
			continue;
		if (k == 0) {
			*cost = c;
		} else {
			const json_t *pp = json_array_get(hull, k - 1);
			double c0 = json_number_value(json_array_get(pp, 0)), q0 = json_number_value(json_array_get(pp, 1));
			*cost = qk > q0 ? c0 + (q - q0) * (c - c0) / (qk - q0) : c;
		}
		return 1;
	}
	return 0;
}

static void set_saving(struct row *r, const json_t *hull, const struct best_model *best)
{
	double cost, base = num(best->point, "cost_total");
	r->reached = hull_cost_at(hull, num(best->point, "quality"), &cost) && base > 0.0;
	if (r->reached)
		r->saving = 1.0 - cost / base;
}

static const json_t *interval(const json_t *o, const char *key)
{
	const json_t *a = json_object_get(o, key);
	return json_is_array(a) ? a : NULL;
}

/* Rows for one task group: the Oracle first, then the routers and the Zero router by AIQ. */
static size_t build_rows(const rbr_resultset *rs, const char *task, struct row *rows, struct best_model *best)
{
	size_t ref = rbr_resultset_ref(rs, task), n = 0;
	const json_t *rb = rbr_resultset_block(rs, ref, task);
	*best = best_single(rb);

	const json_t *oracle = json_object_get(rb, "oracle");
	struct row o = {.kind = ROW_ORACLE, .max_point = oracle};
	json_t *hull = json_pack("[[f, f]]", num(oracle, "cost_total"), num(oracle, "quality"));
	set_saving(&o, hull, best);
	json_decref(hull);
	rows[n++] = o;

	size_t first = n;
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		const json_t *router = json_object_get(b, "router");
		struct row r = {.kind = ROW_ROUTER, .doc = i, .has_aiq = 1, .aiq = num(router, "aiq"),
				.aiq_code = num(router, "aiq_code"), .aiq_ci = interval(router, "aiq_ci95"),
				.aiq_code_ci = interval(router, "aiq_code_ci95"),
				.max_point = json_object_get(router, "max_quality")};
		set_saving(&r, json_object_get(router, "ndch"), best);
		rows[n++] = r;
	}
	const json_t *zero = json_object_get(rb, "zero");
	struct row z = {.kind = ROW_ZERO, .has_aiq = 1, .aiq = num(zero, "aiq"), .aiq_code = num(zero, "aiq_code"),
			.aiq_ci = interval(zero, "aiq_ci95"), .aiq_code_ci = interval(zero, "aiq_code_ci95"),
			.max_point = best->point};
	set_saving(&z, json_object_get(zero, "ndch"), best);
	rows[n++] = z;

	/* Insertion sort: stable (ties keep file order, the Zero router after routers) and n is small. */
	for (size_t k = first + 1; k < n; k++) {
		struct row t = rows[k];
		size_t j = k;
		while (j > first && rows[j - 1].aiq < t.aiq) {
			rows[j] = rows[j - 1];
			j--;
		}
		rows[j] = t;
	}
	return n;
}

/* ---- number text ------------------------------------------------------------------------ */

/* USD with three significant digits in plain decimals (0.000268, 0.0139, 1.23). */
static void fmt_usd(char *buf, size_t len, double v)
{
	if (!(fabs(v) > 0.0) || !isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	int d = 2 - (int)floor(log10(fabs(v)));
	snprintf(buf, len, "%.*f", d < 0 ? 0 : d, v);
}

static void fmt_ci(char *buf, size_t len, double v, const json_t *ci)
{
	if (ci)
		snprintf(buf, len, "%.3f [%.3f, %.3f]", v, json_number_value(json_array_get(ci, 0)),
			 json_number_value(json_array_get(ci, 1)));
	else
		snprintf(buf, len, "%.3f", v);
}

static void fmt_quality(char *buf, size_t len, const json_t *point)
{
	double lo, hi;
	if (rbr_point_ci(point, "quality", &lo, &hi))
		snprintf(buf, len, "%.3f [%.3f, %.3f]", num(point, "quality"), lo, hi);
	else
		snprintf(buf, len, "%.3f", num(point, "quality"));
}

static void fmt_saving(char *buf, size_t len, const struct row *r)
{
	if (!r->reached)
		snprintf(buf, len, "—");
	else
		snprintf(buf, len, "%s%.1f%%", r->saving < -0.0005 ? "−" : "", fabs(r->saving) * 100.0);
}

/* Every cell of a row as text (not yet escaped). */
struct cells {
	char rank[16], name[256], aiq[96], aiq_code[96], quality[96], cost[48], saving[32];
	char *params; /* owned */
};

static void row_cells(const rbr_resultset *rs, const struct row *r, size_t rank, struct cells *c)
{
	memset(c, 0, sizeof(*c));
	if (r->kind == ROW_ROUTER) {
		const json_t *router = json_object_get(rs->docs[r->doc], "router");
		snprintf(c->rank, sizeof(c->rank), "%zu", rank);
		snprintf(c->name, sizeof(c->name), "%s", json_string_value(json_object_get(router, "name")));
		c->params = rbr_params_summary(json_object_get(router, "params"), 0);
		/* Two results of one router with one parameter set: say which file each row is. */
		for (size_t j = 0; j < rs->n; j++) {
			const json_t *other = json_object_get(rs->docs[j], "router");
			if (j != r->doc && json_equal(json_object_get(router, "name"), json_object_get(other, "name")) &&
			    json_equal(json_object_get(router, "params"), json_object_get(other, "params"))) {
				const char *slash = strrchr(rs->paths[r->doc], '/');
				size_t need = strlen(c->params) + strlen(rs->paths[r->doc]) + 16;
				char *p = rbe_xmalloc(need);
				snprintf(p, need, "%s%s(%s)", c->params, *c->params ? " " : "",
					 slash ? slash + 1 : rs->paths[r->doc]);
				free(c->params);
				c->params = p;
				break;
			}
		}
	} else {
		snprintf(c->name, sizeof(c->name), "%s", r->kind == ROW_ZERO ? "Zero router" : "Oracle");
		c->params = rbe_xstrdup(r->kind == ROW_ZERO ? "reference: best mix of two single LLMs"
							 : "reference: best LLM per prompt, cheapest among ties");
	}
	if (r->has_aiq) {
		fmt_ci(c->aiq, sizeof(c->aiq), r->aiq, r->aiq_ci);
		fmt_ci(c->aiq_code, sizeof(c->aiq_code), r->aiq_code, r->aiq_code_ci);
	} else {
		snprintf(c->aiq, sizeof(c->aiq), "—");
		snprintf(c->aiq_code, sizeof(c->aiq_code), "—");
	}
	fmt_quality(c->quality, sizeof(c->quality), r->max_point);
	fmt_usd(c->cost, sizeof(c->cost), num(r->max_point, "cost_mean"));
	fmt_saving(c->saving, sizeof(c->saving), r);
}

static const char *task_title(const char *task) { return task ? task : "overall (all task groups pooled)"; }

/* ---- inputs ------------------------------------------------------------------------------ */

static char *seeds_text(const json_t *doc)
{
	char buf[512];
	size_t len = 0;
	const json_t *split = json_object_get(doc, "split"), *boot = json_object_get(doc, "bootstrap"),
		     *rep = json_object_get(doc, "repeated");
	buf[0] = '\0';
	if (split)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "split %.0f", num(split, "seed"));
	if (json_is_object(boot) && len < sizeof(buf))
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sbootstrap %.0f (%.0f resamples)", len ? "; " : "",
					num(boot, "seed"), num(boot, "resamples"));
	const json_t *seeds = json_object_get(rep, "seeds");
	if (json_is_array(seeds) && len < sizeof(buf)) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%srepeated over split seeds ", len ? "; " : "");
		for (size_t k = 0; k < json_array_size(seeds) && len < sizeof(buf); k++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%.0f", k ? ", " : "",
						json_number_value(json_array_get(seeds, k)));
	}
	return rbe_xstrdup(len ? buf : "—");
}

static char *split_text(const json_t *doc)
{
	const json_t *split = json_object_get(doc, "split");
	char buf[128];
	if (!split)
		return rbe_xstrdup("—");
	snprintf(buf, sizeof(buf), "%s, train fraction %g", json_string_value(json_object_get(split, "mode")),
		 num(split, "train_fraction"));
	return rbe_xstrdup(buf);
}

static const char *str_or(const json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : fallback;
}

/* ---- HTML -------------------------------------------------------------------------------- */

static void esc(FILE *out, const char *s) { rbr_xml_escape(out, s); }

static const char css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI','DejaVu Sans',Arial,sans-serif;color:#222;"
	"margin:24px auto;max-width:1180px;padding:0 16px;line-height:1.4}\n"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}\n"
	"h2 small{font-weight:normal;color:#666;font-size:.75em}\n"
	"table{border-collapse:collapse;margin:.6em 0;font-size:.9em}\n"
	"th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\n"
	"th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"tr.reference td{background:#fafafa;color:#555;font-style:italic}\n"
	"code{font-size:.9em}.params{color:#555;max-width:26em}\n"
	".note{color:#555;font-size:.9em}.warn{color:#a33}\n"
	"nav a{margin-right:1em}figure{margin:.5em 0}svg.plot{border:1px solid #eee}\n";

static void html_inputs(FILE *out, const rbr_resultset *rs)
{
	fputs("<table class=\"inputs\">\n<thead><tr><th>#</th><th>file</th><th>router</th><th>version</th>"
	      "<th>parameters</th><th>split</th><th>seeds</th><th>plugin sha256</th></tr></thead>\n<tbody>\n",
	      out);
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *doc = rs->docs[i], *router = json_object_get(doc, "router");
		char *params = rbr_params_summary(json_object_get(router, "params"), 0), *split = split_text(doc),
		     *seeds = seeds_text(doc);
		fprintf(out, "<tr><td class=\"num\">%zu</td><td><code>", i + 1);
		esc(out, rs->paths[i]);
		fputs("</code></td><td>", out);
		esc(out, str_or(router, "name", ""));
		fputs("</td><td>", out);
		esc(out, str_or(router, "version", "—"));
		fputs("</td><td class=\"params\">", out);
		esc(out, *params ? params : "—");
		fputs("</td><td>", out);
		esc(out, split);
		fputs("</td><td>", out);
		esc(out, seeds);
		fputs("</td><td><code>", out);
		esc(out, str_or(router, "sha256", "—"));
		fputs("</code></td></tr>\n", out);
		free(params);
		free(split);
		free(seeds);
	}
	fputs("</tbody>\n</table>\n", out);
}

static void html_task(FILE *out, const rbr_resultset *rs, const char *task, size_t section)
{
	struct row *rows = rbe_xcalloc(rs->n + 2, sizeof(struct row));
	struct best_model best;
	size_t n = build_rows(rs, task, rows, &best);
	const json_t *rb = rbr_resultset_block(rs, rbr_resultset_ref(rs, task), task);

	fprintf(out, "<section id=\"task-%zu\">\n<h2>", section);
	esc(out, task_title(task));
	fprintf(out, " <small>n_test = %lld</small></h2>\n", (long long)json_integer_value(json_object_get(rb, "n_test")));
	fputs("<table class=\"leaderboard\">\n<thead><tr><th>#</th><th>router</th><th>parameters</th>"
	      "<th>AIQ</th><th>AIQ (code)</th><th>max quality</th><th>USD/query at max quality</th>"
	      "<th>saving vs best model</th></tr></thead>\n<tbody>\n",
	      out);
	size_t rank = 0;
	for (size_t k = 0; k < n; k++) {
		struct cells c;
		row_cells(rs, &rows[k], rows[k].kind == ROW_ROUTER ? ++rank : 0, &c);
		fprintf(out, "<tr class=\"%s\"", rows[k].kind == ROW_ROUTER ? "router" : "reference");
		if (rows[k].has_aiq)
			fprintf(out, " data-aiq=\"%.17g\"", rows[k].aiq);
		fputs("><td class=\"num\">", out);
		esc(out, c.rank);
		fputs("</td><td>", out);
		esc(out, c.name);
		fputs("</td><td class=\"params\">", out);
		esc(out, *c.params ? c.params : "—");
		fputs("</td><td class=\"num\">", out);
		esc(out, c.aiq);
		fputs("</td><td class=\"num\">", out);
		esc(out, c.aiq_code);
		fputs("</td><td class=\"num\">", out);
		esc(out, c.quality);
		fputs("</td><td class=\"num\">", out);
		esc(out, c.cost);
		fputs("</td><td class=\"num\">", out);
		esc(out, c.saving);
		fputs("</td></tr>\n", out);
		free(c.params);
	}
	fputs("</tbody>\n</table>\n", out);
	char q[96], cost[48];
	fmt_quality(q, sizeof(q), best.point);
	fmt_usd(cost, sizeof(cost), num(best.point, "cost_mean"));
	fputs("<p class=\"note\">Best single model: <b>", out);
	esc(out, best.name);
	fprintf(out, "</b>, quality %s at %s USD/query. The saving is the cost cut at that quality, read off each "
		     "row's hull.</p>\n", q, cost);

	rbr_plot_opts opts = {.log_cost = 1, .inline_svg = 1, .panel_width = 900, .panel_height = 460};
	const char *tasks[1] = {task};
	fputs("<figure>\n", out);
	rbe_require(rbr_plot_svg(out, rs, tasks, 1, &opts, NULL) == 0);
	fputs("</figure>\n</section>\n", out);
	free(rows);
}

static void write_html(FILE *out, const rbr_resultset *rs)
{
	const json_t *ds = json_object_get(rs->docs[0], "dataset");
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>routerbench report: ",
	      out);
	esc(out, str_or(ds, "name", ""));
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>routerbench report: ", css);
	esc(out, str_or(ds, "name", ""));
	fputs("</h1>\n<p>Dataset <b>", out);
	esc(out, str_or(ds, "name", ""));
	fputs("</b>, sha256 <code>", out);
	esc(out, str_or(ds, "sha256", ""));
	fprintf(out, "</code>, %lld prompts, %zu models. %zu result%s.</p>\n",
		(long long)json_integer_value(json_object_get(ds, "prompts")), json_array_size(json_object_get(ds, "models")),
		rs->n, rs->n == 1 ? "" : "s");
	if (!rbr_resultset_same_split(rs))
		fputs("<p class=\"warn\">The results use different splits; the Oracle, the Zero router and the single "
		      "LLMs shown for each task come from one of them (the first that has the task, preferring one with "
		      "bootstrap intervals).</p>\n",
		      out);
	html_inputs(out, rs);
	fputs("<p class=\"note\">Each table ranks the routers by AIQ (the paper's definition: mean quality of the "
	      "router's non-decreasing convex hull over the single models' cost range); “AIQ (code)” is the "
	      "official code's variant. Intervals in brackets are 95% bootstrap intervals when the results carry "
	      "them. The Oracle and the Zero router are references. The plots use a log cost axis.</p>\n<nav>",
	      out);
	for (size_t t = 0; t <= rs->n_tasks; t++) {
		fprintf(out, "<a href=\"#task-%zu\">", t + 1);
		esc(out, t < rs->n_tasks ? rs->tasks[t] : "overall");
		fputs("</a>", out);
	}
	fputs("</nav>\n", out);
	for (size_t t = 0; t < rs->n_tasks; t++)
		html_task(out, rs, rs->tasks[t], t + 1);
	html_task(out, rs, NULL, rs->n_tasks + 1);
	fprintf(out, "<p class=\"note\">Written by rbctl report (routerbench %s). Definitions: docs/metrics.md; "
		     "this report: docs/reports.md.</p>\n</body>\n</html>\n",
		RB_VERSION_STRING);
}

/* ---- Markdown ----------------------------------------------------------------------------- */

/* Backslash-escape what Markdown (and the HTML it may carry) would read as syntax. */
static void md_esc(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\`*_[]<>|&#!~", *s))
			fputc('\\', out);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
}

static void md_task(FILE *out, const rbr_resultset *rs, const char *task)
{
	struct row *rows = rbe_xcalloc(rs->n + 2, sizeof(struct row));
	struct best_model best;
	size_t n = build_rows(rs, task, rows, &best);
	const json_t *rb = rbr_resultset_block(rs, rbr_resultset_ref(rs, task), task);
	fputs("## ", out);
	md_esc(out, task_title(task));
	fprintf(out, " (n_test = %lld)\n\n", (long long)json_integer_value(json_object_get(rb, "n_test")));
	fputs("| # | router | parameters | AIQ | AIQ (code) | max quality | USD/query at max quality | saving vs best "
	      "model |\n|---:|---|---|---:|---:|---:|---:|---:|\n",
	      out);
	size_t rank = 0;
	for (size_t k = 0; k < n; k++) {
		struct cells c;
		int ref = rows[k].kind != ROW_ROUTER;
		row_cells(rs, &rows[k], ref ? 0 : ++rank, &c);
		fprintf(out, "| %s | %s", c.rank, ref ? "*" : "");
		md_esc(out, c.name);
		fputs(ref ? "* | " : " | ", out);
		md_esc(out, *c.params ? c.params : "—");
		fprintf(out, " | %s | %s | %s | %s | %s |\n", c.aiq, c.aiq_code, c.quality, c.cost, c.saving);
		free(c.params);
	}
	char q[96], cost[48];
	fmt_quality(q, sizeof(q), best.point);
	fmt_usd(cost, sizeof(cost), num(best.point, "cost_mean"));
	fputs("\nBest single model: **", out);
	md_esc(out, best.name);
	fprintf(out, "**, quality %s at %s USD/query.\n\n", q, cost);
	free(rows);
}

static void write_md(FILE *out, const rbr_resultset *rs)
{
	const json_t *ds = json_object_get(rs->docs[0], "dataset");
	fputs("# routerbench report: ", out);
	md_esc(out, str_or(ds, "name", ""));
	fputs("\n\nDataset **", out);
	md_esc(out, str_or(ds, "name", ""));
	fputs("**, sha256 ", out);
	md_esc(out, str_or(ds, "sha256", ""));
	fprintf(out, ", %lld prompts, %zu models.\n\n", (long long)json_integer_value(json_object_get(ds, "prompts")),
		json_array_size(json_object_get(ds, "models")));
	if (!rbr_resultset_same_split(rs))
		fputs("The results use different splits; the Oracle, the Zero router and the single LLMs shown for each "
		      "task come from one of them (the first that has the task, preferring one with bootstrap intervals).\n\n",
		      out);
	fputs("| # | file | router | version | parameters | split | seeds |\n|---:|---|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *doc = rs->docs[i], *router = json_object_get(doc, "router");
		char *params = rbr_params_summary(json_object_get(router, "params"), 0), *split = split_text(doc),
		     *seeds = seeds_text(doc);
		fprintf(out, "| %zu | ", i + 1);
		md_esc(out, rs->paths[i]);
		fputs(" | ", out);
		md_esc(out, str_or(router, "name", ""));
		fputs(" | ", out);
		md_esc(out, str_or(router, "version", "—"));
		fputs(" | ", out);
		md_esc(out, *params ? params : "—");
		fputs(" | ", out);
		md_esc(out, split);
		fputs(" | ", out);
		md_esc(out, seeds);
		fputs(" |\n", out);
		free(params);
		free(split);
		free(seeds);
	}
	fputs("\nRouters are ranked by AIQ (paper definition); AIQ (code) is the official code's variant; intervals in "
	      "brackets are 95% bootstrap intervals when present. *Oracle* and *Zero router* are references. "
	      "Saving: cost cut at the best single model's quality, read off the hull (— when not reached).\n\n",
	      out);
	for (size_t t = 0; t < rs->n_tasks; t++)
		md_task(out, rs, rs->tasks[t]);
	md_task(out, rs, NULL);
}

int rbr_report_write(FILE *out, const rbr_resultset *rs, rbr_report_format format)
{
	if (format == RBR_REPORT_MD)
		write_md(out, rs);
	else
		write_html(out, rs);
	return 0;
}
