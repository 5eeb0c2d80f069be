/* dataset.c — the in-memory outcome matrix and its builder. */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Growable arrays; strings live in one arena and are referenced by offset until finish,
 * because the arena moves while it grows. */
struct rbd_builder {
	uint32_t n_models;
	char **model_names;
	char *name;
	int want_responses, want_tokens;
	uint32_t feature_dim;
	char *feature_name;

	size_t n, cap;
	size_t *id_off, *prompt_off, *response_off;
	uint32_t *eval;
	float *quality;
	double *cost;
	uint32_t *prompt_tokens, *completion_tokens;
	float *features;

	char *arena;
	size_t arena_len, arena_cap;

	rbd_strmap *ids, *evals;
	char **eval_names;
	uint32_t n_evals;
};

struct owned_store {
	struct rbd_dataset_store base;
	rbd_builder *b; /* the arrays now owned by the dataset */
	rbd_dataset *ds;
};

rbd_builder *rbd_builder_new(uint32_t n_models, const char *const *model_names)
{
	rbd_builder *b = rbd_xcalloc(1, sizeof(*b));
	b->n_models = n_models;
	b->model_names = rbd_xcalloc(n_models, sizeof(char *));
	for (uint32_t j = 0; j < n_models; j++)
		b->model_names[j] = rbd_xstrdup(model_names[j]);
	b->ids = rbd_strmap_new();
	b->evals = rbd_strmap_new();
	return b;
}

static void builder_release_arrays(rbd_builder *b)
{
	free(b->id_off);
	free(b->prompt_off);
	free(b->response_off);
	free(b->eval);
	free(b->quality);
	free(b->cost);
	free(b->prompt_tokens);
	free(b->completion_tokens);
	free(b->features);
	free(b->arena);
	for (uint32_t j = 0; j < b->n_models; j++)
		free(b->model_names[j]);
	free(b->model_names);
	for (uint32_t k = 0; k < b->n_evals; k++)
		free(b->eval_names[k]);
	free(b->eval_names);
	free(b->name);
	free(b->feature_name);
	rbd_strmap_free(b->ids);
	rbd_strmap_free(b->evals);
	free(b);
}

void rbd_builder_free(rbd_builder *b)
{
	if (b)
		builder_release_arrays(b);
}

void rbd_builder_want_responses(rbd_builder *b) { rbd_require(b->n == 0); b->want_responses = 1; }
void rbd_builder_want_tokens(rbd_builder *b) { rbd_require(b->n == 0); b->want_tokens = 1; }

void rbd_builder_want_features(rbd_builder *b, uint32_t dim, const char *feature_name)
{
	rbd_require(b->n == 0 && dim > 0);
	b->feature_dim = dim;
	free(b->feature_name);
	b->feature_name = rbd_xstrdup(feature_name ? feature_name : "features");
}

void rbd_builder_set_name(rbd_builder *b, const char *name)
{
	free(b->name);
	b->name = rbd_xstrdup(name);
}

size_t rbd_builder_count(const rbd_builder *b) { return b->n; }

static size_t arena_add(rbd_builder *b, const char *s)
{
	size_t len = strlen(s) + 1;
	if (b->arena_len + len > b->arena_cap) {
		size_t cap = b->arena_cap ? b->arena_cap : 1 << 16;
		while (b->arena_len + len > cap)
			cap *= 2;
		b->arena = rbd_xrealloc(b->arena, cap);
		b->arena_cap = cap;
	}
	size_t off = b->arena_len;
	memcpy(b->arena + off, s, len);
	b->arena_len += len;
	return off;
}

static void grow_to(rbd_builder *b, size_t cap)
{
	size_t m = b->n_models;
	b->id_off = rbd_xrealloc(b->id_off, cap * sizeof(size_t));
	b->prompt_off = rbd_xrealloc(b->prompt_off, cap * sizeof(size_t));
	b->eval = rbd_xrealloc(b->eval, cap * sizeof(uint32_t));
	b->quality = rbd_xrealloc(b->quality, cap * m * sizeof(float));
	b->cost = rbd_xrealloc(b->cost, cap * m * sizeof(double));
	if (b->want_responses)
		b->response_off = rbd_xrealloc(b->response_off, cap * m * sizeof(size_t));
	if (b->want_tokens) {
		b->prompt_tokens = rbd_xrealloc(b->prompt_tokens, cap * sizeof(uint32_t));
		b->completion_tokens = rbd_xrealloc(b->completion_tokens, cap * m * sizeof(uint32_t));
	}
	if (b->feature_dim)
		b->features = rbd_xrealloc(b->features, cap * b->feature_dim * sizeof(float));
	b->cap = cap;
}

static void reserve(rbd_builder *b)
{
	if (b->n == b->cap)
		grow_to(b, b->cap ? b->cap * 2 : 1024);
}

void rbd_builder_reserve(rbd_builder *b, size_t n)
{
	if (n > b->cap)
		grow_to(b, n);
}

int rbd_builder_add(rbd_builder *b, const rbd_sample_in *s, rbd_error *e)
{
	if (!s->sample_id || !s->eval_name || !s->prompt || !s->quality || !s->cost)
		return rbd_fail(e, -EINVAL, "sample %s: sample_id, eval_name, prompt, quality and cost are required",
				s->sample_id ? s->sample_id : "(no id)");
	if (b->want_responses && !s->responses)
		return rbd_fail(e, -EINVAL, "sample %s: responses missing", s->sample_id);
	if (b->want_tokens && !s->completion_tokens)
		return rbd_fail(e, -EINVAL, "sample %s: token counts missing", s->sample_id);
	if (b->feature_dim && !s->features)
		return rbd_fail(e, -EINVAL, "sample %s: features missing", s->sample_id);
	for (uint32_t j = 0; j < b->n_models; j++) {
		float q = s->quality[j];
		double c = s->cost[j];
		if (!(q >= 0.0f && q <= 1.0f))
			return rbd_fail(e, -EINVAL, "sample %s, model %s: quality %g is not in [0, 1]",
					s->sample_id, b->model_names[j], (double)q);
		if (!(c >= 0.0 && isfinite(c)))
			return rbd_fail(e, -EINVAL, "sample %s, model %s: cost %g is not a finite value >= 0",
					s->sample_id, b->model_names[j], c);
	}
	if (b->feature_dim)
		for (uint32_t k = 0; k < b->feature_dim; k++)
			if (!isfinite(s->features[k]))
				return rbd_fail(e, -EINVAL, "sample %s: feature %u is not finite", s->sample_id, k);
	if (rbd_strmap_get(b->ids, s->sample_id) >= 0)
		return rbd_fail(e, -EEXIST, "sample_id %s appears twice", s->sample_id);

	reserve(b);
	size_t i = b->n, m = b->n_models;
	rbd_strmap_put(b->ids, s->sample_id, (long)i);
	long ev = rbd_strmap_get(b->evals, s->eval_name);
	if (ev < 0) {
		ev = b->n_evals++;
		b->eval_names = rbd_xrealloc(b->eval_names, b->n_evals * sizeof(char *));
		b->eval_names[ev] = rbd_xstrdup(s->eval_name);
		rbd_strmap_put(b->evals, s->eval_name, ev);
	}
	b->eval[i] = (uint32_t)ev;
	b->id_off[i] = arena_add(b, s->sample_id);
	b->prompt_off[i] = arena_add(b, s->prompt);
	memcpy(b->quality + i * m, s->quality, m * sizeof(float));
	memcpy(b->cost + i * m, s->cost, m * sizeof(double));
	if (b->want_responses)
		for (size_t j = 0; j < m; j++)
			b->response_off[i * m + j] = arena_add(b, s->responses[j] ? s->responses[j] : "");
	if (b->want_tokens) {
		b->prompt_tokens[i] = s->prompt_tokens;
		memcpy(b->completion_tokens + i * m, s->completion_tokens, m * sizeof(uint32_t));
	}
	if (b->feature_dim)
		memcpy(b->features + i * b->feature_dim, s->features, b->feature_dim * sizeof(float));
	b->n++;
	return 0;
}

static void owned_release(struct rbd_dataset_store *store)
{
	struct owned_store *o = (struct owned_store *)store;
	rbd_dataset *ds = o->ds;
	free(ds->sample_ids);
	free(ds->prompts);
	free(ds->responses);
	builder_release_arrays(o->b);
	free(o);
}

int rbd_builder_finish(rbd_builder *b, rbd_dataset **out, rbd_error *e)
{
	if (b->n == 0 || b->n_models == 0) {
		int r = rbd_fail(e, -EINVAL, "the dataset has no %s", b->n ? "models" : "samples");
		rbd_builder_free(b);
		return r;
	}
	for (uint32_t j = 0; j < b->n_models; j++)
		for (uint32_t k = 0; k < j; k++)
			if (!strcmp(b->model_names[j], b->model_names[k])) {
				int r = rbd_fail(e, -EINVAL, "model name '%s' appears twice", b->model_names[j]);
				rbd_builder_free(b);
				return r;
			}
	/* The lookup maps are only needed while adding. */
	rbd_strmap_free(b->ids);
	rbd_strmap_free(b->evals);
	b->ids = b->evals = NULL;
	rbd_dataset *ds = rbd_xcalloc(1, sizeof(*ds));
	size_t n = b->n, m = b->n_models;
	ds->n = n;
	ds->n_models = b->n_models;
	ds->n_evals = b->n_evals;
	ds->model_names = (const char **)b->model_names;
	ds->eval_names = (const char **)b->eval_names;
	ds->sample_ids = rbd_xmalloc(n * sizeof(char *));
	ds->prompts = rbd_xmalloc(n * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		ds->sample_ids[i] = b->arena + b->id_off[i];
		ds->prompts[i] = b->arena + b->prompt_off[i];
	}
	if (b->want_responses) {
		ds->responses = rbd_xmalloc(n * m * sizeof(char *));
		for (size_t k = 0; k < n * m; k++)
			ds->responses[k] = b->arena + b->response_off[k];
	}
	ds->eval = b->eval;
	ds->quality = b->quality;
	ds->cost = b->cost;
	ds->prompt_tokens = b->prompt_tokens;
	ds->completion_tokens = b->completion_tokens;
	ds->feature_dim = b->feature_dim;
	ds->features = b->features;
	ds->feature_name = b->feature_name;
	ds->name = b->name ? b->name : "dataset";
	struct owned_store *o = rbd_xcalloc(1, sizeof(*o));
	o->base.release = owned_release;
	o->b = b;
	o->ds = ds;
	ds->store = &o->base;
	*out = ds;
	return 0;
}

void rbd_dataset_free(rbd_dataset *ds)
{
	if (!ds)
		return;
	if (ds->store)
		ds->store->release(ds->store);
	free(ds);
}

int rbd_dataset_model_index(const rbd_dataset *ds, const char *name)
{
	for (uint32_t j = 0; j < ds->n_models; j++)
		if (!strcmp(ds->model_names[j], name))
			return (int)j;
	return -1;
}

int rbd_dataset_select_models(const rbd_dataset *ds, const char *const *names, uint32_t k, rbd_dataset **out,
			      rbd_error *e)
{
	if (k == 0)
		return rbd_fail(e, -EINVAL, "no models selected");
	uint32_t *idx = rbd_xmalloc(k * sizeof(uint32_t));
	for (uint32_t a = 0; a < k; a++) {
		int j = rbd_dataset_model_index(ds, names[a]);
		int repeated = 0;
		for (uint32_t b = 0; b < a; b++)
			repeated |= !strcmp(names[a], names[b]);
		if (j < 0 || repeated) {
			free(idx);
			return rbd_fail(e, -EINVAL, "model '%s' %s", names[a],
					repeated ? "is named twice" : "is not in the dataset");
		}
		idx[a] = (uint32_t)j;
	}
	rbd_builder *b = rbd_builder_new(k, names);
	if (ds->responses)
		rbd_builder_want_responses(b);
	if (ds->completion_tokens)
		rbd_builder_want_tokens(b);
	if (ds->feature_dim)
		rbd_builder_want_features(b, ds->feature_dim, ds->feature_name);
	rbd_builder_reserve(b, ds->n);
	float *q = rbd_xmalloc(k * sizeof(float));
	double *c = rbd_xmalloc(k * sizeof(double));
	const char **resp = rbd_xmalloc(k * sizeof(char *));
	uint32_t *tok = rbd_xmalloc(k * sizeof(uint32_t));
	int rc = 0;
	size_t M = ds->n_models;
	for (size_t i = 0; i < ds->n && rc == 0; i++) {
		for (uint32_t a = 0; a < k; a++) {
			q[a] = ds->quality[i * M + idx[a]];
			c[a] = ds->cost[i * M + idx[a]];
			if (ds->responses)
				resp[a] = ds->responses[i * M + idx[a]];
			if (ds->completion_tokens)
				tok[a] = ds->completion_tokens[i * M + idx[a]];
		}
		rbd_sample_in s = {
			.sample_id = ds->sample_ids[i],
			.eval_name = ds->eval_names[ds->eval[i]],
			.prompt = ds->prompts[i],
			.quality = q,
			.cost = c,
			.responses = ds->responses ? resp : NULL,
			.prompt_tokens = ds->prompt_tokens ? ds->prompt_tokens[i] : 0,
			.completion_tokens = ds->completion_tokens ? tok : NULL,
			.features = ds->feature_dim ? ds->features + i * ds->feature_dim : NULL,
		};
		rc = rbd_builder_add(b, &s, e);
	}
	free(q);
	free(c);
	free(resp);
	free(tok);
	free(idx);
	if (rc < 0) {
		rbd_builder_free(b);
		return rc;
	}
	rbd_builder_set_name(b, ds->name ? ds->name : "dataset");
	rbd_dataset *sub = NULL;
	rc = rbd_builder_finish(b, &sub, e);
	if (rc < 0)
		return rc;
	memcpy(sub->sha256, ds->sha256, sizeof(sub->sha256));
	*out = sub;
	return 0;
}
