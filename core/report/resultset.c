/* resultset.c — result documents loaded as a set, each checked against the result schema first. */
#include "report/resultset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/result_schema.h"
#include "report/text.h"

/* ---- checking a document ------------------------------------------------------------------ */

/* docs/result.schema.json says the shape of every field the views read (rbr_result_check); what
 * it cannot say is checked here: every block has a model, and intervals run from low to high.
 * Then drawing and reporting can index freely. */

/* Appends "/key" to the JSON pointer at[0..len), "~" and "/" escaped (RFC 6901), cut to fit
 * cap; returns the new length. */
static size_t ptr_push(char *at, size_t len, size_t cap, const char *key)
{
	if (len + 1 < cap)
		at[len++] = '/';
	for (; *key && len + 2 < cap; key++) {
		if (*key == '~' || *key == '/') {
			at[len++] = '~';
			at[len++] = *key == '~' ? '0' : '1';
		} else {
			at[len++] = *key;
		}
	}
	at[len] = '\0';
	return len;
}

static int check_interval(const char *file, const json_t *v, const char *at, rbe_error *e)
{
	if (!json_is_array(v) || json_array_size(v) != 2)
		return 0;
	double lo = json_number_value(json_array_get(v, 0)), hi = json_number_value(json_array_get(v, 1));
	if (lo > hi)
		return rbe_fail(e, -EINVAL, "%s: %s: the interval's low end %g is above its high end %g", file, at, lo, hi);
	return 0;
}

/* A "...ci95" member: an interval, or (a point's) an object of intervals. */
static int check_ci(const char *file, const json_t *v, char *at, size_t len, size_t cap, rbe_error *e)
{
	if (!json_is_object(v))
		return check_interval(file, v, at, e);
	const char *key;
	json_t *sub;
	json_object_foreach((json_t *)v, key, sub) {
		ptr_push(at, len, cap, key);
		int r = check_interval(file, sub, at, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every interval anywhere under v, whose JSON pointer is at[0..len). */
static int check_intervals(const char *file, const json_t *v, char *at, size_t len, size_t cap, rbe_error *e)
{
	const char *key;
	json_t *sub;
	size_t i;
	int r = 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, sub) {
			if (!json_is_object(sub) && !json_is_array(sub))
				continue; /* decisions are long arrays of numbers */
			char index[32];
			snprintf(index, sizeof(index), "%zu", i);
			if ((r = check_intervals(file, sub, at, ptr_push(at, len, cap, index), cap, e)) < 0)
				return r;
		}
		return 0;
	}
	json_object_foreach((json_t *)v, key, sub) {
		size_t n = ptr_push(at, len, cap, key), klen = strlen(key);
		if (klen >= 4 && !strcmp(key + klen - 4, "ci95"))
			r = check_ci(file, sub, at, n, cap, e);
		else
			r = check_intervals(file, sub, at, n, cap, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_block(const char *file, const json_t *b, const char *at, rbe_error *e)
{
	if (json_object_size(json_object_get(b, "llms")) == 0)
		return rbe_fail(e, -EINVAL, "%s: %s/llms: no model; a block has one point per model", file, at);
	return 0;
}

static int check_document(const char *file, const json_t *doc, rbe_error *e)
{
	int r = rbr_result_check(doc, file, e);
	if (r < 0)
		return r;
	const char *name;
	json_t *b;
	char at[1024];
	json_object_foreach(json_object_get(doc, "tasks"), name, b) {
		ptr_push(at, ptr_push(at, 0, sizeof(at), "tasks"), sizeof(at), name);
		if ((r = check_block(file, b, at, e)) < 0)
			return r;
	}
	if ((r = check_block(file, json_object_get(doc, "overall"), "/overall", e)) < 0)
		return r;
	at[0] = '\0';
	return check_intervals(file, doc, at, 0, sizeof(at), e);
}

/* ---- the set ---------------------------------------------------------------------------- */

void rbr_resultset_clear(rbr_resultset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->paths[i]);
		json_decref(rs->docs[i]);
		free(rs->labels ? rs->labels[i] : NULL);
	}
	for (size_t t = 0; t < rs->n_tasks; t++)
		free(rs->tasks[t]);
	free(rs->paths);
	free(rs->docs);
	free(rs->labels);
	free(rs->tasks);
	memset(rs, 0, sizeof(*rs));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Legend labels: router name and params, then the file name where that is ambiguous. */
static void make_labels(rbr_resultset *rs)
{
	rs->labels = rbe_xcalloc(rs->n, sizeof(char *));
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *router = json_object_get(rs->docs[i], "router");
		const char *name = json_string_value(json_object_get(router, "name"));
		char *params = rbr_params_summary(json_object_get(router, "params"), 0);
		size_t len = strlen(name) + strlen(params) + 4;
		rs->labels[i] = rbe_xmalloc(len);
		snprintf(rs->labels[i], len, *params ? "%s (%s)" : "%s", name, params);
		free(params);
	}
	for (int pass = 0; pass < 2; pass++) {
		char **fixed = rbe_xcalloc(rs->n, sizeof(char *));
		for (size_t i = 0; i < rs->n; i++)
			for (size_t j = 0; j < rs->n; j++) {
				if (i == j || strcmp(rs->labels[i], rs->labels[j]) != 0)
					continue;
				size_t len = strlen(rs->labels[i]) + strlen(rs->paths[i]) + 32;
				fixed[i] = rbe_xmalloc(len);
				if (pass == 0)
					snprintf(fixed[i], len, "%s, %s", rs->labels[i], base_name(rs->paths[i]));
				else
					snprintf(fixed[i], len, "%s #%zu", rs->labels[i], i + 1);
				break;
			}
		for (size_t i = 0; i < rs->n; i++)
			if (fixed[i]) {
				free(rs->labels[i]);
				rs->labels[i] = fixed[i];
			}
		free(fixed);
	}
}

static void add_task(rbr_resultset *rs, const char *name)
{
	for (size_t t = 0; t < rs->n_tasks; t++)
		if (!strcmp(rs->tasks[t], name))
			return;
	rs->tasks = rbe_xrealloc(rs->tasks, (rs->n_tasks + 1) * sizeof(char *));
	rs->tasks[rs->n_tasks++] = rbe_xstrdup(name);
}

int rbr_resultset_load(rbr_resultset *rs, const char *const *paths, size_t n, rbe_error *e)
{
	rbr_resultset s = {0};
	s.paths = rbe_xcalloc(n ? n : 1, sizeof(char *));
	s.docs = rbe_xcalloc(n ? n : 1, sizeof(json_t *));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		char *data = NULL;
		size_t len = 0;
		if ((r = rbe_read_file(paths[i], &data, &len, e)) < 0)
			goto fail;
		json_error_t jerr;
		json_t *doc = json_loadb(data, len, 0, &jerr);
		free(data);
		if (!doc) {
			r = rbe_fail(e, -EINVAL, "%s: line %d, column %d: %s", paths[i], jerr.line, jerr.column, jerr.text);
			goto fail;
		}
		s.paths[s.n] = rbe_xstrdup(paths[i]);
		s.docs[s.n++] = doc;
		if ((r = check_document(paths[i], doc, e)) < 0)
			goto fail;
		const char *sha = json_string_value(json_object_get(json_object_get(doc, "dataset"), "sha256"));
		const char *sha0 = json_string_value(json_object_get(json_object_get(s.docs[0], "dataset"), "sha256"));
		if (strcmp(sha, sha0) != 0) {
			r = rbe_fail(e, -EINVAL,
				     "%s and %s are results on different datasets (sha256 %.12s… and %.12s…); "
				     "plot and report only compare results on one dataset",
				     s.paths[0], paths[i], sha0, sha);
			goto fail;
		}
		const char *name;
		json_t *b;
		json_object_foreach(json_object_get(doc, "tasks"), name, b)
			add_task(&s, name);
	}
	make_labels(&s);
	*rs = s;
	return 0;
fail:
	rbr_resultset_clear(&s);
	return r;
}

const json_t *rbr_resultset_block(const rbr_resultset *rs, size_t i, const char *task)
{
	if (!task)
		return json_object_get(rs->docs[i], "overall");
	return json_object_get(json_object_get(rs->docs[i], "tasks"), task);
}

size_t rbr_resultset_ref(const rbr_resultset *rs, const char *task)
{
	/* Prefer a document whose references carry bootstrap intervals. */
	size_t first = rs->n;
	for (size_t i = 0; i < rs->n; i++) {
		const json_t *b = rbr_resultset_block(rs, i, task);
		if (!b)
			continue;
		if (json_object_get(json_object_get(b, "zero"), "aiq_ci95"))
			return i;
		if (first == rs->n)
			first = i;
	}
	return first < rs->n ? first : 0;
}

int rbr_resultset_same_split(const rbr_resultset *rs)
{
	for (size_t i = 1; i < rs->n; i++)
		if (!json_equal(json_object_get(rs->docs[0], "split"), json_object_get(rs->docs[i], "split")))
			return 0;
	return 1;
}

int rbr_point_ci(const json_t *point, const char *field, double *lo, double *hi)
{
	const json_t *ci = json_object_get(point, "ci95");
	if (json_is_object(ci))
		ci = json_object_get(ci, field);
	else if (strcmp(field, "quality") != 0)
		ci = NULL;
	if (!json_is_array(ci) || json_array_size(ci) != 2)
		return 0;
	*lo = json_number_value(json_array_get(ci, 0));
	*hi = json_number_value(json_array_get(ci, 1));
	return 1;
}
