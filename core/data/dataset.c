/* dataset.c — the in-memory outcome matrix and its builder. */
#include "data/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Growable arrays; strings live in one arena and are referenced by offset until finish,
 * because the arena moves while it grows. */
struct rbe_builder {
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

	rbe_strmap *ids, *evals;
	char **eval_names;
	uint32_t n_evals;
};

struct owned_store {
	struct rbe_dataset_store base;
	rbe_builder *b; /* the arrays now owned by the dataset */
	rbe_dataset *ds;
};

rbe_builder *rbe_builder_new(uint32_t n_models, const char *const *model_names)
{
	rbe_builder *b = rbe_xcalloc(1, sizeof(*b));
	b->n_models = n_models;
	b->model_names = rbe_xcalloc(n_models, sizeof(char *));
	for (uint32_t j = 0; j < n_models; j++)
		b->model_names[j] = rbe_xstrdup(model_names[j]);
	b->ids = rbe_strmap_new();
	b->evals = rbe_strmap_new();
	return b;
}

static void builder_release_arrays(rbe_builder *b)
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
	rbe_strmap_free(b->ids);
	rbe_strmap_free(b->evals);
	free(b);
}

void rbe_builder_free(rbe_builder *b)
{
	if (b)
		builder_release_arrays(b);
}

void rbe_builder_want_responses(rbe_builder *b) { rbe_require(b->n == 0); b->want_responses = 1; }
void rbe_builder_want_tokens(rbe_builder *b) { rbe_require(b->n == 0); b->want_tokens = 1; }

void rbe_builder_want_features(rbe_builder *b, uint32_t dim, const char *feature_name)
{
	rbe_require(b->n == 0 && dim > 0);
	b->feature_dim = dim;
	free(b->feature_name);
	b->feature_name = rbe_xstrdup(feature_name ? feature_name : "features");
}

void rbe_builder_set_name(rbe_builder *b, const char *name)
{
	free(b->name);
	b->name = rbe_xstrdup(name);
}

size_t rbe_builder_count(const rbe_builder *b) { return b->n; }

static size_t arena_add(rbe_builder *b, const char *s)
{
	size_t len = strlen(s) + 1;
	if (b->arena_len + len > b->arena_cap) {
		size_t cap = b->arena_cap ? b->arena_cap : 1 << 16;
		while (b->arena_len + len > cap)
			cap *= 2;
		b->arena = rbe_xrealloc(b->arena, cap);
		b->arena_cap = cap;
	}
	size_t off = b->arena_len;
	memcpy(b->arena + off, s, len);
	b->arena_len += len;
	return off;
}

static void grow_to(rbe_builder *b, size_t cap)
{
	size_t m = b->n_models;
	b->id_off = rbe_xrealloc(b->id_off, cap * sizeof(size_t));
	b->prompt_off = rbe_xrealloc(b->prompt_off, cap * sizeof(size_t));
	b->eval = rbe_xrealloc(b->eval, cap * sizeof(uint32_t));
	b->quality = rbe_xrealloc(b->quality, cap * m * sizeof(float));
	b->cost = rbe_xrealloc(b->cost, cap * m * sizeof(double));
	if (b->want_responses)
		b->response_off = rbe_xrealloc(b->response_off, cap * m * sizeof(size_t));
	if (b->want_tokens) {
		b->prompt_tokens = rbe_xrealloc(b->prompt_tokens, cap * sizeof(uint32_t));
		b->completion_tokens = rbe_xrealloc(b->completion_tokens, cap * m * sizeof(uint32_t));
	}
	if (b->feature_dim)
		b->features = rbe_xrealloc(b->features, cap * b->feature_dim * sizeof(float));
	b->cap = cap;
}

static void reserve(rbe_builder *b)
{
	if (b->n == b->cap)
		grow_to(b, b->cap ? b->cap * 2 : 1024);
}

void rbe_builder_reserve(rbe_builder *b, size_t n)
{
	if (n > b->cap)
		grow_to(b, n);
}

int rbe_builder_add(rbe_builder *b, const rbe_sample_in *s, rbe_error *e)
{
	if (!s->sample_id || !s->eval_name || !s->prompt || !s->quality || !s->cost)
		return rbe_fail(e, -EINVAL, "sample %s: sample_id, eval_name, prompt, quality and cost are required",
				s->sample_id ? s->sample_id : "(no id)");
	if (b->want_responses && !s->responses)
		return rbe_fail(e, -EINVAL, "sample %s: responses missing", s->sample_id);
	if (b->want_tokens && !s->completion_tokens)
		return rbe_fail(e, -EINVAL, "sample %s: token counts missing", s->sample_id);
	if (b->feature_dim && !s->features)
		return rbe_fail(e, -EINVAL, "sample %s: features missing", s->sample_id);
	for (uint32_t j = 0; j < b->n_models; j++) {
		float q = s->quality[j];
		double c = s->cost[j];
		if (!(q >= 0.0f && q <= 1.0f))
			return rbe_fail(e, -EINVAL, "sample %s, model %s: quality %g is not in [0, 1]",
					s->sample_id, b->model_names[j], (double)q);
		if (!(c >= 0.0 && isfinite(c)))
			return rbe_fail(e, -EINVAL, "sample %s, model %s: cost %g is not a finite value >= 0",
					s->sample_id, b->model_names[j], c);
	}
	if (b->feature_dim)
		for (uint32_t k = 0; k < b->feature_dim; k++)
			if (!isfinite(s->features[k]))
				return rbe_fail(e, -EINVAL, "sample %s: feature %u is not finite", s->sample_id, k);
	if (rbe_strmap_get(b->ids, s->sample_id) >= 0)
		return rbe_fail(e, -EEXIST, "sample_id %s appears twice", s->sample_id);

	reserve(b);
	size_t i = b->n, m = b->n_models;
	rbe_strmap_put(b->ids, s->sample_id, (long)i);
	long ev = rbe_strmap_get(b->evals, s->eval_name);
	if (ev < 0) {
		ev = b->n_evals++;
		b->eval_names = rbe_xrealloc(b->eval_names, b->n_evals * sizeof(char *));
		b->eval_names[ev] = rbe_xstrdup(s->eval_name);
		rbe_strmap_put(b->evals, s->eval_name, ev);
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

static void owned_release(struct rbe_dataset_store *store)
{
	struct owned_store *o = (struct owned_store *)store;
	rbe_dataset *ds = o->ds;
	free(ds->sample_ids);
	free(ds->prompts);
	free(ds->responses);
	builder_release_arrays(o->b);
	free(o);
}

int rbe_builder_finish(rbe_builder *b, rbe_dataset **out, rbe_error *e)
{
	if (b->n == 0 || b->n_models == 0) {
		int r = rbe_fail(e, -EINVAL, "the dataset has no %s", b->n ? "models" : "samples");
		rbe_builder_free(b);
		return r;
	}
	for (uint32_t j = 0; j < b->n_models; j++)
		for (uint32_t k = 0; k < j; k++)
			if (!strcmp(b->model_names[j], b->model_names[k])) {
				int r = rbe_fail(e, -EINVAL, "model name '%s' appears twice", b->model_names[j]);
				rbe_builder_free(b);
				return r;
			}
	/* The lookup maps are only needed while adding. */
	rbe_strmap_free(b->ids);
	rbe_strmap_free(b->evals);
	b->ids = b->evals = NULL;
	rbe_dataset *ds = rbe_xcalloc(1, sizeof(*ds));
	size_t n = b->n, m = b->n_models;
	ds->n = n;
	ds->n_models = b->n_models;
	ds->n_evals = b->n_evals;
	ds->model_names = (const char **)b->model_names;
	ds->eval_names = (const char **)b->eval_names;
	ds->sample_ids = rbe_xmalloc(n * sizeof(char *));
	ds->prompts = rbe_xmalloc(n * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		ds->sample_ids[i] = b->arena + b->id_off[i];
		ds->prompts[i] = b->arena + b->prompt_off[i];
	}
	if (b->want_responses) {
		ds->responses = rbe_xmalloc(n * m * sizeof(char *));
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
	struct owned_store *o = rbe_xcalloc(1, sizeof(*o));
	o->base.release = owned_release;
	o->b = b;
	o->ds = ds;
	ds->store = &o->base;
	*out = ds;
	return 0;
}

void rbe_dataset_free(rbe_dataset *ds)
{
	if (!ds)
		return;
	if (ds->store)
		ds->store->release(ds->store);
	free(ds);
}

int rbe_dataset_model_index(const rbe_dataset *ds, const char *name)
{
	for (uint32_t j = 0; j < ds->n_models; j++)
		if (!strcmp(ds->model_names[j], name))
			return (int)j;
	return -1;
}

int rbe_dataset_select_models(const rbe_dataset *ds, const char *const *names, uint32_t k, rbe_dataset **out,
			      rbe_error *e)
{
	if (k == 0)
		return rbe_fail(e, -EINVAL, "no models selected");
	uint32_t *idx = rbe_xmalloc(k * sizeof(uint32_t));
	for (uint32_t a = 0; a < k; a++) {
		int j = rbe_dataset_model_index(ds, names[a]);
		int repeated = 0;
		for (uint32_t b = 0; b < a; b++)
			repeated |= !strcmp(names[a], names[b]);
		if (j < 0 || repeated) {
			free(idx);
			return rbe_fail(e, -EINVAL, "model '%s' %s", names[a],
					repeated ? "is named twice" : "is not in the dataset");
		}
		idx[a] = (uint32_t)j;
	}
	rbe_builder *b = rbe_builder_new(k, names);
	if (ds->responses)
		rbe_builder_want_responses(b);
	if (ds->completion_tokens)
		rbe_builder_want_tokens(b);
	if (ds->feature_dim)
		rbe_builder_want_features(b, ds->feature_dim, ds->feature_name);
	rbe_builder_reserve(b, ds->n);
	float *q = rbe_xmalloc(k * sizeof(float));
	double *c = rbe_xmalloc(k * sizeof(double));
	const char **resp = rbe_xmalloc(k * sizeof(char *));
	uint32_t *tok = rbe_xmalloc(k * sizeof(uint32_t));
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
		rbe_sample_in s = {
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
		rc = rbe_builder_add(b, &s, e);
	}
	free(q);
	free(c);
	free(resp);
	free(tok);
	free(idx);
	if (rc < 0) {
		rbe_builder_free(b);
		return rc;
	}
	rbe_builder_set_name(b, ds->name ? ds->name : "dataset");
	rbe_dataset *sub = NULL;
	rc = rbe_builder_finish(b, &sub, e);
	if (rc < 0)
		return rc;
	memcpy(sub->sha256, ds->sha256, sizeof(sub->sha256));
	*out = sub;
	return 0;
}
