/* test_methods.c — docs/protocol.md and rbd's method table agree: the same methods, each with the
 * same parameters and the same callers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/methods.h"
#include "lib/util.h"
#include "proto/proto.h"

#define MAX_DOC_METHODS 32
#define MAX_DOC_PARAMS 32

/* One "### Name" section under "## Methods": its "Caller: ..." and "Parameters: ..." lines, and
 * the first column of its tables (Submit's job members). */
typedef struct doc_method {
	char name[64];
	char caller[80];
	char params[MAX_DOC_PARAMS][48];
	size_t n_params;
	int n_caller_lines, n_param_lines;
} doc_method;

typedef struct doc {
	doc_method m[MAX_DOC_METHODS];
	size_t n;
} doc;

/* Every `name` on line (up to its end) into m's parameters. */
static void add_backticked(doc_method *m, const char *line, const char *end)
{
	for (const char *p = line; p < end; p++) {
		if (*p != '`')
			continue;
		const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
		cr_assert_not_null(q, "unbalanced ` in %s's section", m->name);
		cr_assert_lt(m->n_params, MAX_DOC_PARAMS);
		snprintf(m->params[m->n_params++], sizeof(m->params[0]), "%.*s", (int)(q - p - 1), p + 1);
		p = q;
	}
}

static void parse_line(doc *d, const char *line, const char *end)
{
	size_t len = (size_t)(end - line);
	if (len > 4 && !strncmp(line, "### ", 4)) {
		cr_assert_lt(d->n, MAX_DOC_METHODS);
		doc_method *m = &d->m[d->n++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s.%.*s", RBW_PROTO_INTERFACE, (int)(len - 4), line + 4);
		return;
	}
	if (!d->n)
		return;
	doc_method *m = &d->m[d->n - 1];
	if (len > 8 && !strncmp(line, "Caller: ", 8)) {
		const char *dot = memchr(line, '.', len);
		cr_assert_not_null(dot, "%s: the Caller: line ends with '.'", m->name);
		snprintf(m->caller, sizeof(m->caller), "%.*s", (int)(dot - line - 8), line + 8);
		m->n_caller_lines++;
	} else if (len > 12 && !strncmp(line, "Parameters: ", 12)) {
		m->n_param_lines++;
		add_backticked(m, line + 12, end);
	} else if (len > 3 && !strncmp(line, "| `", 3)) {
		const char *bar = memchr(line + 1, '|', len - 1);
		add_backticked(m, line + 1, bar ? bar : end);
	}
}

/* The method sections of a protocol.md text. */
static void parse_doc(const char *text, doc *d)
{
	d->n = 0;
	int in_methods = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (!strncmp(line, "## ", 3))
			in_methods = (size_t)(end - line) == 10 && !strncmp(line, "## Methods", 10);
		else if (in_methods)
			parse_line(d, line, end);
		line = *end ? end + 1 : end;
	}
}

static const char *caller_words(rbd_caller c)
{
	switch (c) {
	case RBD_CALLER_ANYONE: return "anyone";
	case RBD_CALLER_TEAM: return "team member or administrator";
	case RBD_CALLER_MEMBER: return "team member";
	case RBD_CALLER_ADMIN: return "administrator";
	}
	return "?";
}

static int has_param(const doc_method *m, const char *name)
{
	for (size_t i = 0; i < m->n_params; i++)
		if (!strcmp(m->params[i], name))
			return 1;
	return 0;
}

static void note(char *out, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t used = strlen(out);
	if (used + 1 < size)
		snprintf(out + used, size - used, fmt, a, b);
}

/* Every difference between d and the method table, one per line into out; how many. */
static int compare(const doc *d, char *out, size_t size)
{
	size_t n;
	const rbd_method *t = rbd_methods(&n);
	int diffs = 0;
	*out = '\0';
	for (size_t i = 0; i < n; i++) {
		const doc_method *m = NULL;
		for (size_t k = 0; k < d->n; k++)
			if (!strcmp(d->m[k].name, t[i].name))
				m = &d->m[k];
		if (!m) {
			note(out, size, "%s%s: in the table, not in docs/protocol.md\n", t[i].name, "");
			diffs++;
			continue;
		}
		if (m->n_caller_lines != 1 || strcmp(m->caller, caller_words(t[i].caller))) {
			note(out, size, "%s: documented caller differs (the table: %s)\n", t[i].name, caller_words(t[i].caller));
			diffs++;
		}
		if (m->n_param_lines != 1) {
			note(out, size, "%s%s: needs one Parameters: line\n", t[i].name, "");
			diffs++;
		}
		size_t n_table = 0;
		for (const char *const *p = t[i].params; *p; p++, n_table++)
			if (!has_param(m, *p)) {
				note(out, size, "%s: parameter %s is not documented\n", t[i].name, *p);
				diffs++;
			}
		for (size_t k = 0; k < m->n_params; k++) {
			size_t j = 0;
			while (t[i].params[j] && strcmp(t[i].params[j], m->params[k]))
				j++;
			if (!t[i].params[j]) {
				note(out, size, "%s: documented parameter %s is not taken\n", t[i].name, m->params[k]);
				diffs++;
			}
		}
	}
	for (size_t k = 0; k < d->n; k++) {
		size_t i = 0;
		while (i < n && strcmp(t[i].name, d->m[k].name))
			i++;
		if (i == n) {
			note(out, size, "%s%s: documented, not in the table\n", d->m[k].name, "");
			diffs++;
		}
	}
	return diffs;
}

static char *read_protocol_md(void)
{
	const char *root = getenv("RB_SOURCE_ROOT");
	cr_assert_not_null(root, "RB_SOURCE_ROOT is not set");
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/protocol.md", root);
	char *text = NULL;
	size_t len = 0;
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(path, &text, &len, &e), 0, "%s", e.msg);
	return text;
}

Test(methods, table_is_well_formed)
{
	size_t n;
	const rbd_method *t = rbd_methods(&n);
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(t[i].handler, "%s", t[i].name);
		cr_assert_not_null(t[i].params, "%s", t[i].name);
		cr_assert(!strncmp(t[i].name, RBW_PROTO_INTERFACE ".", strlen(RBW_PROTO_INTERFACE ".")), "%s", t[i].name);
		for (size_t k = i + 1; k < n; k++)
			cr_assert_str_neq(t[i].name, t[k].name);
	}
}

Test(methods, protocol_md_documents_exactly_the_table)
{
	char *text = read_protocol_md();
	static doc d;
	parse_doc(text, &d);
	char diffs[4096];
	int n = compare(&d, diffs, sizeof(diffs));
	cr_assert_eq(n, 0, "docs/protocol.md and the method table differ:\n%s", diffs);
	free(text);
}

/* text with the first occurrence of what replaced by with (owned). */
static char *edited(const char *text, const char *what, const char *with)
{
	const char *at = strstr(text, what);
	cr_assert_not_null(at, "'%s' is not in docs/protocol.md", what);
	size_t n = strlen(text) - strlen(what) + strlen(with) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, with, at + strlen(what));
	return out;
}

static int diffs_of(const char *text, char *out, size_t size)
{
	static doc d;
	parse_doc(text, &d);
	return compare(&d, out, size);
}

/* The comparison sees each kind of drift: a method, a parameter or a caller out of step. */
Test(methods, drift_is_caught)
{
	char *text = read_protocol_md();
	char out[4096];
	static const struct {
		const char *what, *with, *needle;
	} cases[] = {
		{"### Reload\n", "### Frobnicate\nCaller: anyone.\nParameters: none.\n\n### Reload\n",
		 "io.routerbench.v1.Frobnicate: documented, not in the table"},
		{"### ListDatasets\n", "### ListDatasetz\n", "io.routerbench.v1.ListDatasets: in the table, not in"},
		{"Parameters: `all`", "Parameters: `all`, `verbose`", "ListJobs: documented parameter verbose is not taken"},
		{"| `bootstrap_seed` |", "| `bootstrap_sed` |", "Submit: parameter bootstrap_seed is not documented"},
		{"### Reload\nCaller: administrator.", "### Reload\nCaller: anyone.", "Reload: documented caller differs"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = edited(text, cases[i].what, cases[i].with);
		cr_expect_gt(diffs_of(t, out, sizeof(out)), 0, "no difference found for '%s'", cases[i].with);
		cr_expect(strstr(out, cases[i].needle), "'%s' not in:\n%s", cases[i].needle, out);
		free(t);
	}
	free(text);
}
