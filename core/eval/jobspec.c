/* jobspec.c — the JSON job object: validation, and the one evaluation path rbctl run and rbd-worker share. */
#include "eval/jobspec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/repeat.h"
#include "data/split.h"

struct rbe_jobspec {
	json_t *job;           /* our reference: every string below is borrowed from it */
	const char **settings; /* [n_settings] "name=value" */
	size_t n_settings;
	const char **tasks; /* NULL when absent; present but empty means all, as --tasks '' */
	size_t n_tasks;
	const char **models; /* NULL: every model of the dataset */
	size_t n_models;
	double *lambdas; /* NULL: the paper's sweep */
	size_t n_lambdas;
	rbe_grouping grouping;
	uint32_t splits;
	rbe_eval_opts opts; /* points into this spec (grouping, tasks, lambdas, share model) */
};

const char *const rbe_jobspec_members[] = {
	"dataset", "router", "settings", "tasks", "models", "seed", "train_fraction", "split", "groups",
	"default_groups", "lambdas", "threads", "bootstrap", "bootstrap_seed", "splits", "keep_decisions",
	"overhead_cost_per_query", "target_budget", "target_share", "validation_fraction", NULL,
};

void rbe_jobspec_free(rbe_jobspec *s)
{
	if (!s)
		return;
	free(s->settings);
	free(s->tasks);
	free(s->models);
	free(s->lambdas);
	rbe_grouping_clear(&s->grouping);
	json_decref(s->job);
	free(s);
}

/* An integer member in [min, max]; absent leaves *out alone. */
static int get_uint(const json_t *job, const char *name, uint64_t min, uint64_t max, uint32_t *out, rbe_error *e)
{
	const json_t *v = json_object_get(job, name);
	if (!v)
		return 0;
	json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return rbe_fail(e, -EINVAL, "job member '%s' must be an integer from %llu to %llu", name,
				(unsigned long long)min, (unsigned long long)max);
	*out = (uint32_t)x;
	return 0;
}

/* A finite number member: open (0, 1) when unit, else >= 0. Absent leaves *out alone. */
static int get_real(const json_t *job, const char *name, int unit, double *out, rbe_error *e)
{
	const json_t *v = json_object_get(job, name);
	if (!v)
		return 0;
	double x = json_is_number(v) ? json_number_value(v) : NAN;
	if (unit ? !(x > 0 && x < 1) : !(isfinite(x) && x >= 0))
		return rbe_fail(e, -EINVAL, "job member '%s' must be a number %s", name,
				unit ? "between 0 and 1 (exclusive)" : ">= 0");
	*out = x;
	return 0;
}

static int get_bool(const json_t *job, const char *name, int *out, rbe_error *e)
{
	const json_t *v = json_object_get(job, name);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return rbe_fail(e, -EINVAL, "job member '%s' must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* An array of strings, borrowed from the job; absent leaves *out NULL. nonempty refuses []. */
static int get_strings(const json_t *job, const char *name, int nonempty, const char ***out, size_t *n, rbe_error *e)
{
	const json_t *v = json_object_get(job, name);
	if (!v)
		return 0;
	size_t k, len = json_array_size(v);
	const json_t *item;
	if (!json_is_array(v) || (nonempty && len == 0))
		return rbe_fail(e, -EINVAL, "job member '%s' must be a%s array of strings", name,
				nonempty ? " non-empty" : "n");
	json_array_foreach(v, k, item)
		if (!json_is_string(item))
			return rbe_fail(e, -EINVAL, "job member '%s' must be an array of strings (item %zu is not)", name, k);
	const char **arr = rbe_xcalloc(len + 1, sizeof(char *));
	json_array_foreach(v, k, item)
		arr[k] = json_string_value(item);
	*out = arr;
	*n = len;
	return 0;
}

static int get_name(const json_t *job, const char *name, rbe_error *e)
{
	const json_t *v = json_object_get(job, name);
	if (!v)
		return rbe_fail(e, -EINVAL, "job member '%s' is required", name);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return rbe_fail(e, -EINVAL, "job member '%s' must be a non-empty string", name);
	return 0;
}

static int parse_members(const json_t *job, rbe_jobspec *s, rbe_error *e)
{
	rbe_eval_opts *o = &s->opts;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)job, key, v) {
		size_t k = 0;
		while (rbe_jobspec_members[k] && strcmp(key, rbe_jobspec_members[k]) != 0)
			k++;
		if (!rbe_jobspec_members[k])
			return rbe_fail(e, -EINVAL, "unknown job member '%s'", key);
	}
	int rc;
	if ((rc = get_name(job, "dataset", e)) < 0 || (rc = get_name(job, "router", e)) < 0 ||
	    (rc = get_strings(job, "settings", 0, &s->settings, &s->n_settings, e)) < 0 ||
	    (rc = get_strings(job, "tasks", 0, &s->tasks, &s->n_tasks, e)) < 0 ||
	    (rc = get_strings(job, "models", 1, &s->models, &s->n_models, e)) < 0 ||
	    (rc = get_uint(job, "seed", 0, UINT32_MAX, &o->seed, e)) < 0 ||
	    (rc = get_real(job, "train_fraction", 1, &o->train_fraction, e)) < 0)
		return rc;
	if ((v = json_object_get(job, "split"))) {
		const char *mode = json_string_value(v);
		if (mode && !strcmp(mode, "paper"))
			o->mode = RBE_SPLIT_PAPER;
		else if (mode && !strcmp(mode, "ood"))
			o->mode = RBE_SPLIT_OOD;
		else
			return rbe_fail(e, -EINVAL, "job member 'split' must be \"paper\" or \"ood\"");
	}

	/* Grouping as rbctl run builds it: the first matching rule wins, so the extra rules come
	 * first and the paper's (unless turned off) last. */
	int default_groups = 1;
	const char **groups = NULL;
	size_t n_groups = 0;
	if ((rc = get_bool(job, "default_groups", &default_groups, e)) < 0 ||
	    (rc = get_strings(job, "groups", 0, &groups, &n_groups, e)) < 0)
		return rc;
	for (size_t k = 0; k < n_groups && rc == 0; k++)
		if ((rc = rbe_grouping_add(&s->grouping, groups[k], e)) < 0)
			rbe_error_prefix(e, "job member 'groups'");
	free(groups);
	if (rc < 0)
		return rc;
	if (default_groups)
		rbe_grouping_add(&s->grouping, "mmlu-*=mmlu", NULL);
	o->grouping = &s->grouping;

	if ((v = json_object_get(job, "lambdas"))) {
		size_t k, n = json_array_size(v);
		const json_t *item;
		if (!json_is_array(v) || n == 0)
			return rbe_fail(e, -EINVAL, "job member 'lambdas' must be an array of 1 to %d numbers",
					RBE_JOBSPEC_MAX_LAMBDAS);
		if (n > RBE_JOBSPEC_MAX_LAMBDAS)
			return rbe_fail(e, -EINVAL, "job member 'lambdas': %zu values; at most %d are allowed", n,
					RBE_JOBSPEC_MAX_LAMBDAS);
		s->lambdas = rbe_xcalloc(n, sizeof(double));
		json_array_foreach(v, k, item) {
			double x = json_is_number(item) ? json_number_value(item) : NAN;
			if (!(isfinite(x) && x >= 0))
				return rbe_fail(e, -EINVAL,
						"job member 'lambdas': item %zu: willingness to pay λ must be a finite number >= 0",
						k);
			s->lambdas[k] = x;
		}
		s->n_lambdas = n;
		o->lambdas = s->lambdas;
		o->n_lambdas = n;
	}

	/* rbctl run's defaults where they differ from the engine's: 1000 resamples. */
	uint32_t resamples = 1000, bootstrap_seed = 42;
	s->splits = 1;
	if ((rc = get_uint(job, "threads", 1, 1024, &o->threads, e)) < 0 ||
	    (rc = get_uint(job, "bootstrap", 0, 1000000, &resamples, e)) < 0 ||
	    (rc = get_uint(job, "bootstrap_seed", 0, UINT32_MAX, &bootstrap_seed, e)) < 0 ||
	    (rc = get_uint(job, "splits", 1, 1000, &s->splits, e)) < 0 ||
	    (rc = get_bool(job, "keep_decisions", &o->keep_decisions, e)) < 0 ||
	    (rc = get_real(job, "overhead_cost_per_query", 0, &o->overhead_cost_per_query, e)) < 0 ||
	    (rc = get_real(job, "target_budget", 0, &o->target_budget, e)) < 0 ||
	    (rc = get_real(job, "validation_fraction", 1, &o->validation_fraction, e)) < 0)
		return rc;
	o->bootstrap_resamples = resamples;
	o->bootstrap_seed = bootstrap_seed;
	if ((uint64_t)o->seed + s->splits - 1 > UINT32_MAX)
		return rbe_fail(e, -EINVAL, "job member 'splits': %u splits from seed %u pass 4294967295", s->splits,
				o->seed);

	if ((v = json_object_get(job, "target_share"))) {
		const json_t *model = json_object_get(v, "model"), *share = json_object_get(v, "share");
		double p = json_is_number(share) ? json_number_value(share) : NAN;
		if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_string(model) ||
		    json_string_length(model) == 0 || !(p >= 0 && p <= 1))
			return rbe_fail(e, -EINVAL,
					"job member 'target_share' must be {\"model\": NAME, \"share\": P} with P from 0 to 1");
		o->target_share_model = json_string_value(model);
		o->target_share = p;
	}
	if (s->tasks) {
		o->tasks = s->tasks;
		o->n_tasks = s->n_tasks;
	}
	return 0;
}

int rbe_jobspec_parse(const json_t *job, rbe_jobspec **out, rbe_error *e)
{
	if (!json_is_object(job))
		return rbe_fail(e, -EINVAL, "the job must be a JSON object");
	rbe_jobspec *s = rbe_xcalloc(1, sizeof(*s));
	s->job = json_incref((json_t *)job);
	rbe_eval_opts_default(&s->opts);
	int rc = parse_members(job, s, e);
	if (rc < 0) {
		rbe_jobspec_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The parameters against the whole dataset, then the pool and the parameters again against it,
 * so a model-valued parameter must name a model of the pool; the order rbctl run always had. On
 * success *pool is the pool (owned) or NULL when "models" is absent. named: prefix errors with
 * the job member, for a submission refused before it is stored. */
static int prepare(const rbe_jobspec *s, const rbe_param_schema *schema, const rbe_dataset *ds, int named,
		   rbe_dataset **pool, rbe_params **params, rbe_error *e)
{
	rbe_params *p = NULL;
	rbe_dataset *sub = NULL;
	int rc = rbe_params_parse(schema, ds, s->settings, s->n_settings, &p, e);
	if (rc < 0)
		return named ? rbe_error_prefix(e, "job member 'settings'") : rc;
	if (s->models) {
		rbe_params_free(p);
		p = NULL;
		rc = rbe_dataset_select_models(ds, s->models, (uint32_t)s->n_models, &sub, e);
		if (rc < 0)
			return rbe_error_prefix(e, named ? "job member 'models'" : "models");
		rc = rbe_params_parse(schema, sub, s->settings, s->n_settings, &p, e);
		if (rc < 0) {
			rbe_dataset_free(sub);
			return named ? rbe_error_prefix(e, "job member 'settings'") : rc;
		}
	}
	*pool = sub;
	*params = p;
	return 0;
}

/* The work the job implies on ds, bounded before any of it is allocated: the host's own arrays
 * grow with operating points × test prompts (every decision of every point) and with bootstrap
 * resamples × the quantities resampled (two per point and per model), and a failed allocation
 * there ends the worker, whoever submitted. The bounds keep each under about 1 GiB. */
static int check_work(const rbe_jobspec *s, const rbe_dataset *ds, rbe_error *e)
{
	uint64_t points = s->n_lambdas ? s->n_lambdas : RBE_PAPER_LAMBDA_COUNT, prompts = ds->n;
	uint64_t kept = s->opts.keep_decisions ? s->splits : 1;
	uint64_t decisions = points * prompts * kept;
	if (decisions > RBE_JOBSPEC_MAX_DECISIONS)
		return rbe_fail(e, -EINVAL,
				"job member '%s': %llu λ values × %llu prompts%s is %llu decisions; at most %llu are "
				"allowed",
				s->n_lambdas ? "lambdas" : "keep_decisions", (unsigned long long)points,
				(unsigned long long)prompts, kept > 1 ? " × splits kept" : "",
				(unsigned long long)decisions, (unsigned long long)RBE_JOBSPEC_MAX_DECISIONS);
	uint64_t quantities = 2 * points + 2 * (uint64_t)ds->n_models + 2;
	uint64_t values = (uint64_t)s->opts.bootstrap_resamples * quantities;
	if (values > RBE_JOBSPEC_MAX_BOOTSTRAP_VALUES)
		return rbe_fail(e, -EINVAL,
				"job member 'bootstrap': %u resamples × %llu quantities (%llu λ values, %u models) is "
				"%llu values; at most %llu are allowed",
				s->opts.bootstrap_resamples, (unsigned long long)quantities, (unsigned long long)points,
				ds->n_models, (unsigned long long)values,
				(unsigned long long)RBE_JOBSPEC_MAX_BOOTSTRAP_VALUES);
	return 0;
}

int rbe_jobspec_check(const rbe_jobspec *s, const rbe_param_schema *schema, const rbe_dataset *ds, rbe_error *e)
{
	rbe_dataset *pool = NULL;
	rbe_params *params = NULL;
	int rc = check_work(s, ds, e);
	if (rc < 0)
		return rc;
	rc = prepare(s, schema, ds, 1, &pool, &params, e);
	if (rc == 0 && s->opts.target_share_model &&
	    rbe_dataset_model_index(pool ? pool : ds, s->opts.target_share_model) < 0)
		rc = rbe_fail(e, -EINVAL, "job member 'target_share': no model '%s' in the dataset",
			      s->opts.target_share_model);
	rbe_params_free(params);
	rbe_dataset_free(pool);
	return rc;
}

/* Progress over K splits: split i covers the fractions [i/K, (i+1)/K]. */
typedef struct split_progress {
	rbe_eval_progress_fn fn;
	void *ctx;
	uint32_t i, k;
} split_progress;

static void on_split_progress(void *ctx, const char *phase, const char *task, double fraction)
{
	const split_progress *sp = ctx;
	sp->fn(sp->ctx, phase, task, (sp->i + fraction) / sp->k);
}

/* One evaluation, or K over consecutive split seeds: the first result carries a "repeated"
 * summary of all K (the bootstrap runs on the first only). */
static int evaluate_splits(const rbe_dataset *ds, const rbe_plugin *plugin, const rbe_params *params,
			   const rbe_eval_opts *opts, uint32_t k, json_t **result, rbe_error *e)
{
	json_t **all = rbe_xcalloc(k, sizeof(json_t *));
	split_progress sp = {opts->progress, opts->progress_ctx, 0, k};
	int rc = 0;
	for (uint32_t i = 0; i < k && rc == 0; i++) {
		rbe_eval_opts o = *opts;
		o.seed += i; /* the parser refused seeds that would pass UINT32_MAX */
		if (i > 0)
			o.bootstrap_resamples = 0;
		if (k > 1 && o.progress) {
			sp.i = i;
			o.progress = on_split_progress;
			o.progress_ctx = &sp;
		}
		rc = rbe_evaluate(ds, plugin, params, &o, &all[i], e);
	}
	if (rc == 0) {
		if (k > 1)
			json_object_set_new(all[0], "repeated", rbe_repeated_summary(all, k));
		*result = json_incref(all[0]);
	}
	for (uint32_t i = 0; i < k; i++)
		json_decref(all[i]);
	free(all);
	return rc;
}

int rbe_jobspec_run(const rbe_jobspec *s, const rbe_dataset *ds, const rbe_plugin *plugin,
		    rbe_eval_progress_fn progress, void *progress_ctx, json_t **result, rbe_error *e)
{
	rbe_dataset *pool = NULL;
	rbe_params *params = NULL;
	int rc = check_work(s, ds, e);
	if (rc < 0)
		return rc;
	rc = prepare(s, plugin->schema, ds, 0, &pool, &params, e);
	if (rc < 0)
		return rc;
	rbe_eval_opts o = s->opts;
	o.progress = progress;
	o.progress_ctx = progress_ctx;
	rc = evaluate_splits(pool ? pool : ds, plugin, params, &o, s->splits, result, e);
	rbe_params_free(params);
	rbe_dataset_free(pool);
	return rc;
}

const char *rbe_jobspec_error_member(const char *msg, char *out, size_t size)
{
	static const char *const heads[] = {"job member '", "unknown job member '"};
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(heads[k]);
		if (strncmp(msg, heads[k], n) != 0)
			continue;
		const char *name = msg + n, *end = strchr(name, '\'');
		if (!end || size == 0 || (size_t)(end - name) >= size)
			return NULL;
		memcpy(out, name, (size_t)(end - name));
		out[end - name] = '\0';
		return out;
	}
	return NULL;
}
