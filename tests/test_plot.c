/* test_plot.c — rbctl plot and rbctl report end to end: real result files from gen and run,
 * the SVG/HTML/Markdown structure, errors and exit codes, and rendering in headless Chromium. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "helpers.h"


static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* ---- fixture: a small dataset and three real results ------------------------------------- */

static char dir[256], ds_path[512], random_path[512], single_path[512], knn_path[512];

static void path_in(char *out, size_t len, const char *name) { snprintf(out, len, "%s/%s", dir, name); }

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rbplot.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	path_in(ds_path, sizeof(ds_path), "small.rbds");
	path_in(random_path, sizeof(random_path), "random.json");
	path_in(single_path, sizeof(single_path), "single.json");
	path_in(knn_path, sizeof(knn_path), "knn.json");
	cmd_result r = rbctl_cmd((const char *[]){"gen", "--prompts", "3000", "--models", "5", "--tasks", "2", "--features",
					      "tfidf:32", "-o", ds_path, "--quiet", NULL});
	cr_assert_eq(r.status, 0, "gen: %s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds_path, "--router", "random", "--json", "-o", random_path, NULL});
	cr_assert_eq(r.status, 0, "run random: %s", r.err);
	cmd_free(&r);
	json_t *doc = json_load_file(random_path, 0, NULL);
	cr_assert_not_null(doc);
	json_t *models = json_object_get(json_object_get(doc, "dataset"), "models");
	char setting[512];
	snprintf(setting, sizeof(setting), "model=%s",
		 json_string_value(json_array_get(models, json_array_size(models) - 1)));
	json_decref(doc);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds_path, "--router", "single", "--set", setting, "--json", "-o",
				   single_path, NULL});
	cr_assert_eq(r.status, 0, "run single: %s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds_path, "--router", "knn", "--set", "k=20", "--json", "-o", knn_path,
				   NULL});
	cr_assert_eq(r.status, 0, "run knn: %s", r.err);
	cmd_free(&r);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void teardown(void)
{
	if (*dir)
		rm_tree(dir);
}

TestSuite(plot, .init = setup, .fini = teardown);

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	cr_assert_not_null(doc, "%s: %s", path, jerr.text);
	return doc;
}

static void save_json(json_t *doc, const char *path)
{
	cr_assert_eq(json_dump_file(doc, path, JSON_INDENT(1) | JSON_REAL_PRECISION(17)), 0);
	json_decref(doc);
}

/* ---- markup checks ------------------------------------------------------------------------ */

static size_t name_len(const char *p)
{
	size_t n = 0;
	while (p[n] && (p[n] == '-' || p[n] == '_' || p[n] == ':' || p[n] == '.' || (p[n] >= 'a' && p[n] <= 'z') ||
			(p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
		n++;
	return n;
}

static int entity_ok(const char *p)
{
	static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
	for (size_t k = 0; k < 5; k++)
		if (!strncmp(p, names[k], strlen(names[k])))
			return 1;
	if (p[1] != '#')
		return 0;
	size_t n = 2;
	while ((p[n] >= '0' && p[n] <= '9') || p[n] == 'x' || (p[n] >= 'a' && p[n] <= 'f') || (p[n] >= 'A' && p[n] <= 'F'))
		n++;
	return n > 2 && p[n] == ';';
}

/* Well-formed markup: elements nest and close, attributes are quoted, every '&' starts an
 * entity, no stray '<'. Applies to the SVG and to the HTML (whose void elements self-close).
 * Returns NULL, or a message naming the offset. */
static const char *markup_error(const char *s)
{
	static char msg[256];
	const char *stack[512];
	size_t lens[512], depth = 0;
	const char *p = s;
#define FAIL(what)                                                                                             \
	do {                                                                                                   \
		snprintf(msg, sizeof(msg), "%s at offset %ld: %.40s", what, (long)(p - s), p);                 \
		return msg;                                                                                    \
	} while (0)
	while (*p) {
		if (*p == '&') {
			if (!entity_ok(p))
				FAIL("bare '&'");
			p++;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		if (!strncmp(p, "<?", 2) || !strncmp(p, "<!--", 4) || !strncmp(p, "<!DOCTYPE", 9)) {
			const char *end = strstr(p, p[1] == '?' ? "?>" : p[2] == '-' ? "-->" : ">");
			if (!end)
				FAIL("unterminated declaration");
			p = end + 1;
			continue;
		}
		if (p[1] == '/') {
			size_t n = name_len(p + 2);
			if (!depth || n != lens[depth - 1] || strncmp(p + 2, stack[depth - 1], n) != 0)
				FAIL("mismatched close tag");
			depth--;
			p += 2 + n;
			if (*p != '>')
				FAIL("bad close tag");
			p++;
			continue;
		}
		size_t n = name_len(p + 1);
		if (!n)
			FAIL("stray '<'");
		const char *name = p + 1;
		p += 1 + n;
		for (;;) {
			while (*p == ' ' || *p == '\n' || *p == '\t')
				p++;
			if (!strncmp(p, "/>", 2)) {
				p += 2;
				break;
			}
			if (*p == '>') {
				if (depth == 512)
					FAIL("too deep");
				stack[depth] = name;
				lens[depth++] = n;
				p++;
				break;
			}
			size_t an = name_len(p);
			if (!an || p[an] != '=' || (p[an + 1] != '"' && p[an + 1] != '\''))
				FAIL("bad attribute");
			char q = p[an + 1];
			p += an + 2;
			while (*p && *p != q) {
				if (*p == '<')
					FAIL("'<' in an attribute");
				if (*p == '&' && !entity_ok(p))
					FAIL("bare '&' in an attribute");
				p++;
			}
			if (!*p)
				FAIL("unterminated attribute");
			p++;
		}
	}
	if (depth) {
		snprintf(msg, sizeof(msg), "%zu unclosed element(s), innermost <%.*s>", depth, (int)lens[depth - 1],
			 stack[depth - 1]);
		return msg;
	}
	return NULL;
#undef FAIL
}

static long long n_test_of(const char *result, const char *task)
{
	json_t *doc = load_json(result);
	const json_t *b = task ? json_object_get(json_object_get(doc, "tasks"), task) : json_object_get(doc, "overall");
	cr_assert_not_null(b, "%s has no block %s", result, task ? task : "overall");
	long long n = (long long)json_integer_value(json_object_get(b, "n_test"));
	json_decref(doc);
	return n;
}

/* ---- plot --------------------------------------------------------------------------------- */

static char *plot_to(const char *name, const char *extra1, const char *extra2)
{
	char out[600];
	path_in(out, sizeof(out), name);
	const char *args[16] = {"plot", random_path, single_path, knn_path, "-o", out};
	size_t n = 6;
	if (extra1)
		args[n++] = extra1;
	if (extra2)
		args[n++] = extra2;
	args[n] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "plot failed (%d): %s", r.status, r.err);
	cmd_free(&r);
	return slurp_file(out);
}

Test(plot, svg_has_a_panel_per_task_with_hulls_legend_and_axes)
{
	char *svg = plot_to("all.svg", NULL, NULL);
	cr_assert(!strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36), "%.80s", svg);
	cr_assert(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""), "%.300s", svg);
	const char *err = markup_error(svg);
	cr_assert_null(err, "SVG is not well-formed: %s", err);
	/* two task groups and overall */
	cr_assert_eq(count(svg, "<g class=\"panel\""), 3);
	cr_assert_eq(count(svg, "<polyline class=\"hull zero\""), 3);
	cr_assert_eq(count(svg, "<polyline class=\"hull router\""), 9, "one hull per result per panel");
	cr_assert_eq(count(svg, "<g class=\"legend\""), 1);
	cr_assert_eq(count(svg, "<g class=\"legend-entry\">"), 6, "LLM, Oracle, Zero and three routers");
	cr_assert(strstr(svg, ">knn (k=20, "), "legend names knn with its params");
	cr_assert(strstr(svg, ">single (model="));
	cr_assert(strstr(svg, ">random</text>"));
	cr_assert(strstr(svg, ">Oracle</text>"));
	cr_assert(strstr(svg, "Zero router"));
	cr_assert_eq(count(svg, ">cost per query (USD)</text>"), 3);
	cr_assert_eq(count(svg, ">quality (mean score)</text>"), 3);
	cr_assert_eq(count(svg, "class=\"axis x\""), 3);
	cr_assert_eq(count(svg, "class=\"axis x log\""), 0);
	cr_assert_geq(count(svg, "class=\"tick\""), 3 * 6, "ticks on both axes of every panel");
	/* panel titles carry the task and n_test */
	char want[128];
	snprintf(want, sizeof(want), "task-1<tspan font-weight=\"normal\" fill=\"#555555\">   n_test = %lld<",
		 n_test_of(knn_path, "task-1"));
	cr_assert(strstr(svg, want), "missing title %s", want);
	snprintf(want, sizeof(want),
		 "overall (all task groups)<tspan font-weight=\"normal\" fill=\"#555555\">   n_test = %lld<",
		 n_test_of(knn_path, NULL));
	cr_assert(strstr(svg, want), "missing title %s", want);
	/* LLM points carry short labels and full names as tooltips */
	json_t *doc = load_json(knn_path);
	const char *model = json_string_value(json_array_get(json_object_get(json_object_get(doc, "dataset"), "models"), 0));
	char title[300];
	snprintf(title, sizeof(title), "<title>%s</title>", model);
	cr_assert_eq(count(svg, title), 3, "%s", title);
	const char *slash = strrchr(model, '/');
	snprintf(title, sizeof(title), ">%s</text>", slash ? slash + 1 : model);
	cr_assert_geq(count(svg, title), 3, "%s", title);
	json_decref(doc);
	free(svg);
}

Test(plot, log_cost_axis_has_decade_ticks)
{
	char *svg = plot_to("log.svg", "--log-cost", NULL);
	cr_assert_null(markup_error(svg), "%s", markup_error(svg));
	cr_assert_eq(count(svg, "class=\"axis x log\""), 3);
	cr_assert_eq(count(svg, ">cost per query (USD, log scale)</text>"), 3);
	cr_assert_geq(count(svg, ">10<tspan dy=\"-6\" font-size=\"8\">−"), 3, "decade labels 10^-n");
	free(svg);
}

Test(plot, task_selection_and_deterministic_output)
{
	char *a = plot_to("one.svg", "--task", "overall");
	cr_assert_eq(count(a, "<g class=\"panel\""), 1);
	cr_assert(strstr(a, "overall (all task groups)"));
	char *b = plot_to("one-again.svg", "--task", "overall");
	cr_assert_str_eq(a, b, "the same inputs give the same bytes");
	free(a);
	free(b);
	a = plot_to("t2.svg", "--task", "task-2");
	cr_assert_eq(count(a, "<g class=\"panel\""), 1);
	cr_assert(strstr(a, ">task-2<tspan"));
	free(a);

	cmd_result r = rbctl_cmd((const char *[]){"plot", knn_path, "--task", "nosuch", "-o", "/dev/null", NULL});
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "'nosuch'") && strstr(r.err, "task-1, task-2, overall"), "%s", r.err);
	cmd_free(&r);
	/* standard output when -o is absent */
	r = rbctl_cmd((const char *[]){"plot", knn_path, "--task", "task-1", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	cmd_free(&r);
}

static void expect_fail(const char *cmd, const char *a, const char *b, int status, const char *must1,
			const char *must2)
{
	char out[600];
	path_in(out, sizeof(out), !strcmp(cmd, "plot") ? "x.svg" : "x.html");
	cmd_result r = rbctl_cmd((const char *[]){cmd, a, b, "-o", out, NULL});
	cr_assert_eq(r.status, status, "%s %s %s: status %d: %s", cmd, a, b, r.status, r.err);
	cr_assert(strstr(r.err, must1), "%s: stderr lacks '%s': %s", cmd, must1, r.err);
	if (must2)
		cr_assert(strstr(r.err, must2), "%s: stderr lacks '%s': %s", cmd, must2, r.err);
	cr_assert_neq(access(out, F_OK), 0, "no output on failure");
	cmd_free(&r);
}

Test(plot, results_on_different_datasets_are_refused)
{
	char other[600];
	path_in(other, sizeof(other), "other-dataset.json");
	json_t *doc = load_json(knn_path);
	json_object_set_new(json_object_get(doc, "dataset"), "sha256",
			    json_string("00000000000000000000000000000000000000000000000000000000000000ff"));
	save_json(doc, other);
	expect_fail("plot", random_path, other, 1, random_path, other);
	expect_fail("report", random_path, other, 1, random_path, other);
	expect_fail("plot", other, random_path, 1, "different datasets", NULL);
}

Test(plot, malformed_results_name_the_file_and_field)
{
	char broken[600], partial[600], alien[600];
	path_in(broken, sizeof(broken), "broken.json");
	path_in(partial, sizeof(partial), "partial.json");
	path_in(alien, sizeof(alien), "alien.json");
	FILE *f = fopen(broken, "w");
	fputs("{\"schema\": \"routerbench.result/1\", \"tasks\": {", f);
	fclose(f);
	expect_fail("plot", knn_path, broken, 1, broken, "line");
	expect_fail("report", knn_path, broken, 1, broken, "line");

	json_t *doc = load_json(knn_path);
	json_t *pt = json_array_get(json_object_get(json_object_get(json_object_get(doc, "overall"), "router"), "points"), 0);
	json_object_set_new(pt, "quality", json_string("high"));
	save_json(doc, partial);
	expect_fail("plot", knn_path, partial, 1, partial, "/overall/router/points/0/quality: expected number, got string");
	expect_fail("report", partial, knn_path, 1, partial, "/overall/router/points/0/quality");

	doc = load_json(knn_path);
	json_object_del(json_object_get(json_object_get(doc, "tasks"), "task-2"), "zero");
	save_json(doc, partial);
	expect_fail("plot", partial, knn_path, 1, partial, "/tasks/task-2/zero: required property is missing");

	/* what only the schema says: a quality above 1 */
	doc = load_json(knn_path);
	pt = json_array_get(json_object_get(json_object_get(json_object_get(doc, "overall"), "router"), "points"), 0);
	json_object_set_new(pt, "quality", json_real(1.5));
	save_json(doc, partial);
	expect_fail("plot", knn_path, partial, 1, partial,
		    "/overall/router/points/0/quality: 1.5 is above maximum 1 (docs/result.schema.json)");
	/* and what it cannot say: a block without models */
	doc = load_json(knn_path);
	json_object_set_new(json_object_get(json_object_get(doc, "tasks"), "task-2"), "llms", json_object());
	save_json(doc, partial);
	expect_fail("report", partial, knn_path, 1, partial, "/tasks/task-2/llms: no model");

	f = fopen(alien, "w");
	fputs("{\"schema\": \"something/else\"}\n", f);
	fclose(f);
	expect_fail("report", alien, knn_path, 1, alien, "not a routerbench result");

	char missing[600];
	path_in(missing, sizeof(missing), "missing.json");
	expect_fail("plot", knn_path, missing, 1, missing, NULL);
}

Test(plot, usage_errors_exit_2)
{
	cmd_result r = rbctl_cmd((const char *[]){"plot", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "at least one result file"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"plot", knn_path, "--frobnicate", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown option '--frobnicate'"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"plot", knn_path, "-o", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "needs a value"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"plot", "--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: rbctl plot") && strstr(r.out, "--log-cost"), "%s", r.out);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"report", NULL});
	cr_assert_eq(r.status, 2);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"report", knn_path, "--format", "pdf", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--format 'pdf' must be html or md"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"report", knn_path, "-o", "/tmp/report.txt", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "cannot tell the format from '/tmp/report.txt'"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"report", "--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: rbctl report"), "%s", r.out);
	cmd_free(&r);
}

/* ---- report ------------------------------------------------------------------------------- */

static char *report_to(const char *name, const char *extra1, const char *extra2)
{
	char out[600];
	path_in(out, sizeof(out), name);
	const char *args[16] = {"report", random_path, single_path, knn_path, "-o", out};
	size_t n = 6;
	if (extra1)
		args[n++] = extra1;
	if (extra2)
		args[n++] = extra2;
	args[n] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "report failed (%d): %s", r.status, r.err);
	cmd_free(&r);
	return slurp_file(out);
}

/* The data-aiq values of one leaderboard table, in order, must not rise. Returns the rows. */
static size_t check_sorted_html(const char *table, const char *end)
{
	double prev = 2.0;
	size_t rows = 0;
	for (const char *p = strstr(table, "data-aiq=\""); p && p < end; p = strstr(p + 1, "data-aiq=\"")) {
		double v = strtod(p + 10, NULL);
		cr_assert_leq(v, prev, "leaderboard not sorted by AIQ near %.60s", p);
		prev = v;
		rows++;
	}
	return rows;
}

Test(plot, html_report_has_a_sorted_table_and_a_plot_per_task)
{
	char *html = report_to("report.html", NULL, NULL);
	cr_assert(!strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 32), "%.60s", html);
	const char *err = markup_error(html);
	cr_assert_null(err, "HTML is not well-formed: %s", err);
	cr_assert(strstr(html, "<meta charset=\"utf-8\"/>"));
	cr_assert_eq(count(html, "<table class=\"leaderboard\">"), 3);
	cr_assert_eq(count(html, "<svg xmlns=\"http://www.w3.org/2000/svg\""), 3, "one inline plot per task");
	cr_assert_eq(count(html, "<g class=\"panel\""), 3);
	cr_assert_eq(count(html, "<?xml"), 0, "inline SVG has no XML declaration");
	/* self-contained */
	cr_assert_eq(count(html, "<script"), 0);
	cr_assert_eq(count(html, "<link"), 0);
	cr_assert_eq(count(html, " src="), 0);
	cr_assert_eq(count(html, "url("), 0);
	cr_assert_eq(count(html, "http"), 3, "only the SVG namespace, once per plot");
	/* dataset, split, seeds */
	json_t *doc = load_json(knn_path);
	cr_assert(strstr(html, json_string_value(json_object_get(json_object_get(doc, "dataset"), "sha256"))));
	json_decref(doc);
	cr_assert(strstr(html, "split 42"), "split seed shown");
	cr_assert(strstr(html, "paper, train fraction 0.7"));
	/* each table: Oracle, Zero router and three routers ranked 1..3, sorted by AIQ */
	const char *p = html;
	for (int t = 0; t < 3; t++) {
		const char *table = strstr(p, "<table class=\"leaderboard\">");
		cr_assert_not_null(table);
		const char *end = strstr(table, "</table>");
		size_t len = (size_t)(end - table);
		char *copy = strndup(table, len);
		cr_assert_eq(check_sorted_html(copy, copy + len), 4, "three routers and the Zero router have an AIQ");
		cr_assert_eq(count(copy, "<tr class=\"router\""), 3);
		cr_assert_eq(count(copy, "<tr class=\"reference\""), 2);
		cr_assert(strstr(copy, ">Oracle</td>") && strstr(copy, ">Zero router</td>"));
		cr_assert(strstr(copy, "<td class=\"num\">1</td>") && strstr(copy, "<td class=\"num\">3</td>"));
		free(copy);
		p = end;
	}
	cr_assert(strstr(html, "overall (all task groups pooled)"));
	free(html);
}

Test(plot, markdown_report_has_a_sorted_table_per_task)
{
	char *md = report_to("report.md", NULL, NULL);
	cr_assert(!strncmp(md, "# routerbench report: ", 22), "%.60s", md);
	cr_assert_eq(count(md, "\n## "), 3);
	cr_assert_eq(count(md, "| # | router | parameters | AIQ |"), 3);
	cr_assert_eq(count(md, "<"), 0, "no HTML in the Markdown");
	/* AIQ (4th column) of the ranked rows and the Zero row must not rise */
	const char *p = md;
	for (int t = 0; t < 3; t++) {
		p = strstr(p, "\n## ");
		cr_assert_not_null(p);
		p++;
		const char *end = strstr(p, "\nBest single model");
		cr_assert_not_null(end);
		double prev = 2.0;
		size_t rows = 0;
		for (const char *line = strchr(p, '\n'); line && line < end; line = strchr(line + 1, '\n')) {
			if (strncmp(line, "\n| ", 3) != 0 || strstr(line, "\n| #") == line || strstr(line, "\n|---") == line)
				continue;
			const char *cell = line + 1;
			for (int k = 0; k < 3; k++)
				cell = strchr(cell + 1, '|');
			if (!strncmp(cell, "| —", 4))
				continue; /* the Oracle has no AIQ */
			double v = strtod(cell + 1, NULL);
			cr_assert_leq(v, prev, "not sorted near %.80s", line + 1);
			prev = v;
			rows++;
		}
		cr_assert_eq(rows, 4);
		p = end;
	}
	free(md);
	/* --format md to standard output */
	cmd_result r = rbctl_cmd((const char *[]){"report", knn_path, "--format", "md", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!strncmp(r.out, "# routerbench report", 20));
	cmd_free(&r);
}

Test(plot, intervals_are_shown_when_present)
{
	json_t *doc = load_json(knn_path);
	json_t *b = json_object_get(doc, "overall"), *router = json_object_get(b, "router");
	double aiq = json_number_value(json_object_get(router, "aiq"));
	json_object_set_new(router, "aiq_ci95", json_pack("[f, f]", aiq - 0.0114, aiq + 0.0106));
	size_t k;
	json_t *pt;
	json_array_foreach(json_object_get(router, "points"), k, pt) {
		double q = json_number_value(json_object_get(pt, "quality")),
		       c = json_number_value(json_object_get(pt, "cost_mean"));
		json_object_set_new(pt, "ci95", json_pack("{s:[f,f], s:[f,f]}", "quality", q - 0.01, q + 0.01, "cost_mean",
							   c * 0.95, c * 1.05));
	}
	size_t n_points = json_array_size(json_object_get(router, "points"));
	save_json(doc, knn_path);
	char want[96];
	snprintf(want, sizeof(want), "%.3f [%.3f, %.3f]", aiq, aiq - 0.0114, aiq + 0.0106);
	char *md = report_to("ci.md", NULL, NULL);
	cr_assert(strstr(md, want), "missing '%s' in\n%s", want, md);
	free(md);
	char *svg = plot_to("ci.svg", "--task", "overall");
	cr_assert_null(markup_error(svg));
	cr_assert_geq(count(svg, "<path class=\"ci\""), 2 * n_points - 2, "quality and cost whiskers");
	free(svg);
	/* a malformed interval is an error naming it */
	doc = load_json(knn_path);
	json_object_set_new(json_object_get(json_object_get(doc, "overall"), "router"), "aiq_ci95", json_pack("[f]", 0.5));
	char bad[600];
	path_in(bad, sizeof(bad), "bad-ci.json");
	save_json(doc, bad);
	expect_fail("report", bad, random_path, 1, bad, "/overall/router/aiq_ci95: 1 items, fewer than minItems 2");
	/* and one the schema cannot see: its ends swapped */
	doc = load_json(knn_path);
	json_object_set_new(json_object_get(json_object_get(doc, "overall"), "router"), "aiq_ci95", json_pack("[f, f]", 0.6, 0.5));
	save_json(doc, bad);
	expect_fail("plot", random_path, bad, 1, bad, "/overall/router/aiq_ci95: the interval's low end 0.6 is above its high end 0.5");
	/* inside a point's ci95 object too */
	doc = load_json(knn_path);
	pt = json_array_get(json_object_get(json_object_get(json_object_get(doc, "overall"), "router"), "points"), 1);
	json_object_set_new(json_object_get(pt, "ci95"), "cost_mean", json_pack("[f, f]", 0.25, 0.125));
	save_json(doc, bad);
	expect_fail("report", bad, random_path, 1, bad,
		    "/overall/router/points/1/ci95/cost_mean: the interval's low end 0.25 is above its high end 0.125");
}

Test(plot, text_is_escaped)
{
	char odd[600];
	path_in(odd, sizeof(odd), "odd.json");
	json_t *doc = load_json(knn_path);
	json_object_set_new(json_object_get(doc, "router"), "name", json_string("<b>&\"x'</b>"));
	json_object_set_new(json_object_get(json_object_get(doc, "router"), "params"), "note", json_string("a|b*c"));
	save_json(doc, odd);
	const char *esc = "&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;";
	char out[600];
	path_in(out, sizeof(out), "odd.svg");
	cmd_result r = rbctl_cmd((const char *[]){"plot", odd, random_path, "-o", out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	char *s = slurp_file(out);
	cr_assert_null(markup_error(s), "%s", markup_error(s));
	cr_assert(strstr(s, esc));
	cr_assert_null(strstr(s, "<b>"));
	free(s);
	path_in(out, sizeof(out), "odd.html");
	r = rbctl_cmd((const char *[]){"report", odd, random_path, "-o", out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	s = slurp_file(out);
	cr_assert_null(markup_error(s), "%s", markup_error(s));
	cr_assert_geq(count(s, esc), 4, "tables, inputs and legends");
	cr_assert_null(strstr(s, "<b>&"));
	free(s);
	path_in(out, sizeof(out), "odd.md");
	r = rbctl_cmd((const char *[]){"report", odd, random_path, "-o", out, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	s = slurp_file(out);
	cr_assert(strstr(s, "\\<b\\>\\&\"x'\\</b\\>"), "%s", s);
	cr_assert(strstr(s, "note=a\\|b\\*c"), "%s", s);
	free(s);
}

/* ---- rendering in headless Chromium ------------------------------------------------------- */

static int find_chromium(char *out, size_t len)
{
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char *copy = strdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/chromium", *d ? d : ".");
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* Screenshot file://page at 1200×900 into png; returns the PNG's size in bytes after checking
 * its header says 1200×900. */
static long screenshot(const char *chromium, const char *page, const char *png)
{
	char profile[600], shot[700], url[700], log_out[600], log_err[600];
	path_in(profile, sizeof(profile), "chromium-profile.XXXXXX");
	cr_assert_not_null(mkdtemp(profile));
	snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	snprintf(url, sizeof(url), "file://%s", page);
	char user_data[700];
	snprintf(user_data, sizeof(user_data), "--user-data-dir=%s", profile);
	path_in(log_out, sizeof(log_out), "chromium.out");
	path_in(log_err, sizeof(log_err), "chromium.err");
	char *argv[] = {(char *)chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update",
			"--disable-sync", user_data, shot, "--window-size=1200,900", url, NULL};
	/* Two screenshots per test must fit the test's 120 s, or a hung browser outlives the test. */
	int st = spawn_wait(argv, log_out, log_err, 50);
	char *err = slurp_file(log_err);
	cr_assert_eq(st, 0, "chromium exit %d for %s:\n%.2000s", st, page, err);
	free(err);
	rm_tree(profile);

	FILE *f = fopen(png, "rb");
	cr_assert_not_null(f, "chromium wrote no %s", png);
	unsigned char h[24];
	cr_assert_eq(fread(h, 1, sizeof(h), f), sizeof(h));
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	cr_assert(!memcmp(h, "\x89PNG\r\n\x1a\n", 8) && !memcmp(h + 12, "IHDR", 4), "not a PNG");
	uint32_t w = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
	uint32_t hh = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 | (uint32_t)h[22] << 8 | h[23];
	cr_assert(w == 1200 && hh == 900, "screenshot is %u×%u", w, hh);
	return size;
}

/* A white page of the same size: what "blank" compresses to. */
static long blank_size(const char *chromium)
{
	char page[600], png[600];
	path_in(page, sizeof(page), "blank.svg");
	path_in(png, sizeof(png), "blank.png");
	FILE *f = fopen(page, "w");
	fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1200\" height=\"900\">"
	      "<rect width=\"1200\" height=\"900\" fill=\"#ffffff\"/></svg>\n",
	      f);
	fclose(f);
	return screenshot(chromium, page, png);
}

Test(plot, svg_renders_in_chromium, .timeout = 120)
{
	char chromium[4096];
	if (!find_chromium(chromium, sizeof(chromium)))
		cr_skip_test("chromium is not on PATH (scripts/deps.sh installs it); skipping the SVG rendering check");
	free(plot_to("render.svg", "--log-cost", NULL));
	char page[600], png[600];
	path_in(page, sizeof(page), "render.svg");
	path_in(png, sizeof(png), "render.png");
	long blank = blank_size(chromium), size = screenshot(chromium, page, png);
	cr_assert_gt(size, 8 * 1024, "screenshot only %ld bytes", size);
	cr_assert_gt(size, 4 * blank, "screenshot %ld bytes vs %ld for a blank page", size, blank);
}

Test(plot, html_renders_in_chromium, .timeout = 120)
{
	char chromium[4096];
	if (!find_chromium(chromium, sizeof(chromium)))
		cr_skip_test("chromium is not on PATH (scripts/deps.sh installs it); skipping the HTML rendering check");
	free(report_to("render.html", NULL, NULL));
	char page[600], png[600];
	path_in(page, sizeof(page), "render.html");
	path_in(png, sizeof(png), "render-html.png");
	long blank = blank_size(chromium), size = screenshot(chromium, page, png);
	cr_assert_gt(size, 8 * 1024, "screenshot only %ld bytes", size);
	cr_assert_gt(size, 4 * blank, "screenshot %ld bytes vs %ld for a blank page", size, blank);
}
