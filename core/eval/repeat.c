/* repeat.c — mean and spread of a router's figures over repeated splits. */
#include "eval/repeat.h"

#include <math.h>

static double get(const json_t *block, const char *a, const char *b, const char *c)
{
	const json_t *v = json_object_get(json_object_get(block, a), b);
	if (c)
		v = json_object_get(v, c);
	return json_number_value(v);
}

static json_t *spread(const double *x, size_t k)
{
	double mean = 0.0, ss = 0.0, lo = INFINITY, hi = -INFINITY;
	json_t *values = json_array();
	for (size_t i = 0; i < k; i++) {
		mean += x[i] / (double)k;
		lo = fmin(lo, x[i]);
		hi = fmax(hi, x[i]);
		json_array_append_new(values, json_real(x[i]));
	}
	for (size_t i = 0; i < k; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	return json_pack("{sfsfsfsfso}", "mean", mean, "sd", k > 1 ? sqrt(ss / (double)(k - 1)) : 0.0, "min", lo,
			 "max", hi, "values", values);
}

static json_t *summary(json_t *const *results, size_t k, const char *task)
{
	static const struct {
		const char *key, *a, *b, *c;
	} figures[] = {
		{"aiq", "router", "aiq", NULL},
		{"aiq_code", "router", "aiq_code", NULL},
		{"max_quality", "router", "max_quality", "quality"},
		{"zero_aiq", "zero", "aiq", NULL},
	};
	double x[1024];
	json_t *out = json_object();
	for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
		size_t n = 0;
		for (size_t i = 0; i < k && n < 1024; i++) {
			const json_t *block = task ? json_object_get(json_object_get(results[i], "tasks"), task)
						   : json_object_get(results[i], "overall");
			if (block)
				x[n++] = get(block, figures[f].a, figures[f].b, figures[f].c);
		}
		json_object_set_new(out, figures[f].key, spread(x, n));
	}
	return out;
}

json_t *rbe_repeated_summary(json_t *const *results, size_t k)
{
	json_t *seeds = json_array(), *tasks = json_object();
	for (size_t i = 0; i < k; i++)
		json_array_append(seeds, json_object_get(json_object_get(results[i], "split"), "seed"));
	const char *name;
	json_t *block;
	json_object_foreach(json_object_get(results[0], "tasks"), name, block)
		json_object_set_new(tasks, name, summary(results, k, name));
	return json_pack("{sososo}", "seeds", seeds, "tasks", tasks, "overall", summary(results, k, NULL));
}
