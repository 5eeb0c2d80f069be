/* import_jsonl.c — JSONL files (one sample per line, wide or nested) read into the importer's rows. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/import_internal.h"
#include "data/pylit.h"

/* A JSON value for a message, compact and cut to cap. */
static void show_json(const json_t *v, char *out, size_t cap)
{
	if (!v) {
		snprintf(out, cap, "nothing");
		return;
	}
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text) {
		snprintf(out, cap, "a JSON value");
		return;
	}
	size_t len = strlen(text);
	if (len + 1 > cap && cap > 4)
		snprintf(out, cap, "%.*s...", (int)(cap - 4), text);
	else
		snprintf(out, cap, "%s", text);
	free(text);
}

/* A string value copied into the pool; NULL for an absent or null optional one. */
static int json_text(importer *im, const char *file, uint32_t line, const char *key, const json_t *v, int required,
		     const char **out, rbe_error *e)
{
	char shown[128];
	if (!v || json_is_null(v)) {
		if (!required) {
			*out = NULL;
			return 0;
		}
		return rbe_imp_fail(e, file, line, 0, v ? "key '%s' must be a string, got null" : "missing key '%s'", key);
	}
	if (!json_is_string(v)) {
		show_json(v, shown, sizeof(shown));
		return rbe_imp_fail(e, file, line, 0, "key '%s' must be a string, got %s", key, shown);
	}
	*out = rbe_imp_pool_strndup(&im->pool, json_string_value(v), json_string_length(v));
	return 0;
}

/* A prompt or response: a string (a Python list literal in it is decoded, as in CSV) or an
 * array of strings joined by "\n". */
static int json_body(importer *im, const char *file, uint32_t line, const char *key, const json_t *v, int required,
		     const char **out, rbe_error *e)
{
	char shown[128];
	if (json_is_array(v)) {
		size_t total = 0, i;
		json_t *item;
		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				show_json(item, shown, sizeof(shown));
				return rbe_imp_fail(e, file, line, 0, "key '%s[%zu]' must be a string, got %s", key, i, shown);
			}
			total += json_string_length(item) + 1;
		}
		char *text = rbe_imp_pool_alloc(&im->pool, total + 1), *w = text;
		json_array_foreach(v, i, item) {
			if (i)
				*w++ = '\n';
			memcpy(w, json_string_value(item), json_string_length(item));
			w += json_string_length(item);
		}
		*w = '\0';
		*out = text;
		return 0;
	}
	const char *s;
	int r = json_text(im, file, line, key, v, required, &s, e);
	if (r || !s) {
		*out = NULL;
		return r;
	}
	size_t len;
	if (rbe_pylit_decode(s, json_string_length(v), (char *)s, &len, e) < 0)
		return rbe_error_prefix(e, "%s:%u: key '%s' is not a valid Python list of strings", file, line, key);
	*out = s;
	return 0;
}

/* One model's outcome from its JSON values (any may be NULL when the key is absent). */
static int json_outcome(importer *im, const char *file, uint32_t line, size_t k, uint32_t g, const json_t *qv,
			const char *qkey, const json_t *cv, const char *ckey, const json_t *rv, const char *rkey,
			rbe_error *e)
{
	char shown[128];
	const char *name = im->models[g];
	size_t cell = k * im->M + g;
	if (!qv || json_is_null(qv))
		return 0;
	if (!json_is_number(qv) || bad_quality(json_number_value(qv))) {
		show_json(qv, shown, sizeof(shown));
		return rbe_imp_fail(e, file, line, 0, "key '%s': quality for model '%s' must be a number in [0, 1] or null, got %s",
				    qkey, name, shown);
	}
	if (!cv || !json_is_number(cv) || bad_cost(json_number_value(cv))) {
		show_json(cv, shown, sizeof(shown));
		return rbe_imp_fail(e, file, line, 0,
				    "key '%s': cost for model '%s' must be a number >= 0 (its quality is present), got %s", ckey,
				    name, shown);
	}
	im->q[cell] = (float)json_number_value(qv);
	im->c[cell] = json_number_value(cv);
	im->qline[cell] = line;
	im->qcol[cell] = 0;
	if (rv && !json_is_null(rv)) {
		const char *text;
		int r = json_body(im, file, line, rkey, rv, 0, &text, e);
		if (r)
			return r;
		if (!im->o->no_responses) {
			im->resp[cell] = text;
			im->any_responses = 1;
		}
	}
	return 0;
}

static int json_embedding(importer *im, size_t fi, uint32_t line, import_row *r, const json_t *v, rbe_error *e)
{
	const char *file = im->paths[fi];
	char shown[128];
	size_t n = json_is_array(v) ? json_array_size(v) : 0;
	if (n == 0 || n > UINT32_MAX) {
		show_json(v, shown, sizeof(shown));
		return rbe_imp_fail(e, file, line, 0, "key 'embedding' must be a non-empty array of numbers, got %s", shown);
	}
	if (!im->fdim) {
		im->fdim = (uint32_t)n;
		im->fdim_file = fi;
		im->fdim_line = line;
	} else if (n != im->fdim) {
		return rbe_imp_fail(e, file, line, 0, "key 'embedding' has %zu numbers, but %s:%u has %u; every embedding must have the same length",
				    n, im->paths[im->fdim_file], im->fdim_line, im->fdim);
	}
	float *f = rbe_imp_pool_alloc(&im->pool, n * sizeof(float));
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(v, i);
		double d = json_is_number(x) ? json_number_value(x) : NAN;
		if (!(isfinite(d) && fabs(d) <= 3.4028234663852886e38)) {
			show_json(x, shown, sizeof(shown));
			return rbe_imp_fail(e, file, line, 0, "key 'embedding[%zu]' must be a number that fits a float, got %s", i,
					    shown);
		}
		f[i] = (float)d;
	}
	r->features = f;
	return 0;
}

static int is_fixed_key(const char *key)
{
	return !strcmp(key, "sample_id") || !strcmp(key, "eval_name") || !strcmp(key, "prompt") ||
	       !strcmp(key, "models") || !strcmp(key, "embedding") || !strcmp(key, ORACLE_COLUMN);
}

/* The model a wide key names (quality "<m>", "<m>|total_cost" or "<m>|model_response"), or -1. */
static long wide_model(const importer *im, const char *key, const char **suffix)
{
	size_t len = strlen(key);
	static const char *const suffixes[] = {RESPONSE_SUFFIX, COST_SUFFIX};
	for (size_t k = 0; k < 2; k++) {
		size_t sl = strlen(suffixes[k]);
		if (ends_with(key, len, suffixes[k], sl)) {
			char name[1024];
			if (len - sl >= sizeof(name))
				return -1;
			memcpy(name, key, len - sl);
			name[len - sl] = '\0';
			*suffix = suffixes[k];
			return rbe_strmap_get(im->model_of, name);
		}
	}
	*suffix = "";
	return rbe_strmap_get(im->model_of, key);
}

/* The first line of a JSONL file names its models: the keys of "models", else the wide
 * "<m>|model_response" keys, else the "<m>|total_cost" keys. */
static int json_models(importer *im, size_t fi, uint32_t line, json_t *obj, rbe_error *e)
{
	json_t *models = json_object_get(obj, "models");
	const char *key;
	json_t *v;
	size_t n = 0, cap = json_object_size(models ? models : obj) + 1;
	const char **names = rbe_xcalloc(cap, sizeof(char *));
	char **owned = rbe_xcalloc(cap, sizeof(char *));
	const char *expect;
	if (models) {
		expect = "model in key 'models'";
		json_object_foreach(models, key, v)
			names[n++] = key;
	} else {
		const char *suffix = RESPONSE_SUFFIX;
		expect = "'<model>" RESPONSE_SUFFIX "' or '<model>" COST_SUFFIX "' key";
		for (int pass = 0; pass < 2 && n == 0; pass++, suffix = COST_SUFFIX) {
			json_object_foreach(obj, key, v) {
				size_t len = strlen(key), sl = strlen(suffix);
				if (ends_with(key, len, suffix, sl)) {
					owned[n] = rbe_imp_pool_strndup(&im->pool, key, len - sl);
					names[n] = owned[n];
					n++;
				}
			}
		}
	}
	uint32_t *map = rbe_xcalloc(n + 1, sizeof(uint32_t));
	int r = rbe_imp_use_models(im, fi, line, names, n, map, expect, e);
	free(map);
	free(names);
	free(owned);
	return r;
}

/* Every key must be known: a typo in a model name should be loud, not a skipped model. */
static int check_keys(const importer *im, const char *file, uint32_t line, json_t *obj, const json_t *models,
		      rbe_error *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (is_fixed_key(key))
			continue;
		const char *suffix;
		if (models || wide_model(im, key, &suffix) < 0)
			return rbe_imp_fail(e, file, line, 0,
					    "unknown key '%s': expected sample_id, eval_name, prompt, models, embedding%s " ORACLE_COLUMN "%s",
					    key, models ? " or" : ",",
					    models ? "" : " or a model's '<m>', '<m>" COST_SUFFIX "' or '<m>" RESPONSE_SUFFIX "' key");
	}
	return 0;
}

/* sample_id, eval_name, prompt and the optional embedding. */
static int read_json_sample(importer *im, size_t fi, uint32_t line, import_row *rw, json_t *obj, rbe_error *e)
{
	const char *file = im->paths[fi];
	int r;
	if ((r = json_text(im, file, line, "sample_id", json_object_get(obj, "sample_id"), 1, &rw->sample_id, e)))
		return r;
	if (!*rw->sample_id)
		return rbe_imp_fail(e, file, line, 0, "key 'sample_id' must not be empty");
	if ((r = json_text(im, file, line, "eval_name", json_object_get(obj, "eval_name"), 1, &rw->eval_name, e)))
		return r;
	if (!*rw->eval_name)
		return rbe_imp_fail(e, file, line, 0, "key 'eval_name' must not be empty (sample '%s')", rw->sample_id);
	if ((r = json_body(im, file, line, "prompt", json_object_get(obj, "prompt"), 1, &rw->prompt, e)))
		return r;
	json_t *emb = json_object_get(obj, "embedding");
	if (emb && (r = json_embedding(im, fi, line, rw, emb, e)))
		return r;
	return 0;
}

/* Outcomes nested as "models": {m: {"quality": ..., "cost": ..., "response": ...}}. */
static int read_nested_outcomes(importer *im, const char *file, uint32_t line, size_t k, json_t *models, rbe_error *e)
{
	char qkey[1100], ckey[1100], rkey[1100], shown[128];
	const char *key;
	json_t *v;
	json_object_foreach(models, key, v) {
		long g = rbe_strmap_get(im->model_of, key);
		if (g < 0)
			return rbe_imp_fail(e, file, line, 0, "key 'models.%s': model '%s' is not among the models of %s:%u", key,
					    key, im->paths[im->model_file], im->model_line);
		if (json_is_null(v))
			continue;
		if (!json_is_object(v)) {
			show_json(v, shown, sizeof(shown));
			return rbe_imp_fail(e, file, line, 0, "key 'models.%s' must be an object {\"quality\": ..., \"cost\": ...}, got %s",
					    key, shown);
		}
		const char *sub;
		json_t *x;
		json_object_foreach(v, sub, x) {
			if (strcmp(sub, "quality") && strcmp(sub, "cost") && strcmp(sub, "response"))
				return rbe_imp_fail(e, file, line, 0, "unknown key 'models.%s.%s': expected quality, cost and response",
						    key, sub);
		}
		snprintf(qkey, sizeof(qkey), "models.%s.quality", key);
		snprintf(ckey, sizeof(ckey), "models.%s.cost", key);
		snprintf(rkey, sizeof(rkey), "models.%s.response", key);
		int r = json_outcome(im, file, line, k, (uint32_t)g, json_object_get(v, "quality"), qkey,
				     json_object_get(v, "cost"), ckey, json_object_get(v, "response"), rkey, e);
		if (r)
			return r;
	}
	return 0;
}

/* Outcomes as wide keys "<m>", "<m>|total_cost" and "<m>|model_response", as in the CSV. */
static int read_wide_outcomes(importer *im, const char *file, uint32_t line, size_t k, json_t *obj, rbe_error *e)
{
	char qkey[1100], ckey[1100], rkey[1100];
	for (uint32_t g = 0; g < im->M; g++) {
		const char *name = im->models[g];
		snprintf(qkey, sizeof(qkey), "%s", name);
		snprintf(ckey, sizeof(ckey), "%s" COST_SUFFIX, name);
		snprintf(rkey, sizeof(rkey), "%s" RESPONSE_SUFFIX, name);
		int r = json_outcome(im, file, line, k, g, json_object_get(obj, qkey), qkey, json_object_get(obj, ckey), ckey,
				     json_object_get(obj, rkey), rkey, e);
		if (r)
			return r;
	}
	return 0;
}

static int read_json_row(importer *im, size_t fi, uint32_t line, json_t *obj, int first, rbe_error *e)
{
	const char *file = im->paths[fi];
	char shown[128];
	if (!json_is_object(obj)) {
		show_json(obj, shown, 40);
		return rbe_imp_fail(e, file, line, 0, "expected a JSON object, got %s", shown);
	}
	json_t *models = json_object_get(obj, "models");
	if (models && !json_is_object(models)) {
		show_json(models, shown, sizeof(shown));
		return rbe_imp_fail(e, file, line, 0, "key 'models' must be an object {model: {\"quality\": ..., \"cost\": ...}}, got %s",
				    shown);
	}
	int r;
	if (first) {
		if ((r = json_models(im, fi, line, obj, e)) || (r = rbe_imp_use_index_mode(im, fi, 0, line, e)))
			return r;
	}
	size_t k = rbe_imp_add_row(im, (uint32_t)fi, line);
	if ((r = check_keys(im, file, line, obj, models, e)) || (r = read_json_sample(im, fi, line, &im->rows[k], obj, e)))
		return r;
	return models ? read_nested_outcomes(im, file, line, k, models, e) : read_wide_outcomes(im, file, line, k, obj, e);
}

static int is_blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/*
 * The next line of in, without its '\n', at *p (valid until the next call): 1, or 0 at the end.
 * Stops early after a NUL byte, which the text check then refuses, so a file of zeros fails at
 * once rather than at the line limit.
 */
static int next_line(rbe_inbuf *in, const char *file, uint32_t line, char **p, size_t *n, rbe_error *e)
{
	size_t rel = 0; /* scanned, relative to in->pos (which rbe_inbuf_more may move) */
	for (;;) {
		char *s = in->buf + in->pos;
		size_t avail = in->len - in->pos;
		char *nl = memchr(s + rel, '\n', avail - rel);
		char *nul = memchr(s + rel, '\0', (nl ? (size_t)(nl - s) : avail) - rel);
		if (nul || nl || (in->eof && avail > 0)) {
			size_t len = nul ? (size_t)(nul - s) + 1 : nl ? (size_t)(nl - s) : avail;
			*p = s;
			*n = len;
			in->pos += nl && !nul ? len + 1 : len;
			return 1;
		}
		if (in->eof)
			return 0;
		rel = avail;
		int r = rbe_inbuf_more(in);
		if (r == -E2BIG)
			return rbe_imp_fail(e, file, line, 0, "line longer than %zu bytes", in->max);
		if (r < 0)
			return rbe_fail(e, r, "%s: read error: %s", file, strerror(-r));
	}
}

static int read_lines(importer *im, size_t fi, rbe_inbuf *in, rbe_error *e)
{
	const char *file = im->paths[fi];
	uint32_t line = 0;
	size_t lines = 0;
	char *p = NULL;
	size_t n = 0;
	int r;
	while ((r = next_line(in, file, line + 1, &p, &n, e)) > 0) {
		line++;
		if ((r = rbe_imp_check_text(file, p, n, line, 1, e)))
			return r;
		if (is_blank_line(p, n))
			continue;
		im->rows_read++;
		json_error_t je;
		json_t *obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
		if (!obj)
			return rbe_imp_fail(e, file, line, je.column > 0 ? (uint32_t)je.column : 0, "invalid JSON: %s", je.text);
		r = read_json_row(im, fi, line, obj, lines == 0, e);
		json_decref(obj);
		if (r)
			return r;
		lines++;
	}
	if (r < 0)
		return r;
	if (lines == 0)
		return rbe_imp_fail(e, file, 0, 0, "the file is empty: expected one JSON object per line");
	return 0;
}

int rbe_imp_read_jsonl(importer *im, size_t fi, rbe_inbuf *in, rbe_error *e)
{
	int r = read_lines(im, fi, in, e);
	rbe_inbuf_free(in);
	return r;
}
