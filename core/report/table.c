/* table.c — the per-task table printed by `rbctl run`. */
#include "report/table.h"

#include <stdlib.h>
#include <string.h>

static double num(const json_t *o, const char *path)
{
	/* path: "a.b.c" of object keys */
	char key[128];
	const json_t *cur = o;
	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key))
			return 0.0;
		memcpy(key, path, len);
		key[len] = '\0';
		cur = json_object_get(cur, key);
		path += len + (dot ? 1 : 0);
	}
	return cur ? json_number_value(cur) : 0.0;
}

/* "[lo, hi]" of an interval member, or blanks when the result has none. */
static const char *interval(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t *ci = json_object_get(obj, key);
	if (json_array_size(ci) != 2)
		return "";
	snprintf(buf, len, "[%.3f,%.3f]", json_number_value(json_array_get(ci, 0)),
		 json_number_value(json_array_get(ci, 1)));
	return buf;
}

static void row(FILE *out, const char *name, const json_t *b)
{
	const char *best_model = "";
	double best_q = -1.0;
	const char *m;
	json_t *p;
	json_object_foreach((json_t *)json_object_get(b, "llms"), m, p) {
		double q = json_number_value(json_object_get(p, "quality"));
		if (q > best_q) {
			best_q = q;
			best_model = m;
		}
	}
	const char *slash = strrchr(best_model, '/');
	char ci[64];
	fprintf(out, "%-18s %6lld  %7.4f %-15s %7.4f  %7.4f %7.4f  %7.4f %10.6f  %7.4f  %7.4f %s\n", name,
		(long long)json_integer_value(json_object_get(b, "n_test")), num(b, "router.aiq"),
		interval(json_object_get(b, "router"), "aiq_ci95", ci, sizeof(ci)), num(b, "router.aiq_code"),
		num(b, "zero.aiq"), num(b, "zero.aiq_code"),
		num(b, "router.max_quality.quality"), num(b, "router.max_quality.cost_mean"), num(b, "oracle.quality"),
		best_q, slash ? slash + 1 : best_model);
}

static void curve_row(FILE *out, const char *name, const json_t *block)
{
	fprintf(out, "%-18s", name);
	size_t k;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(block, "router"), "curves"), k, c)
		fprintf(out, " %9.4f", json_number_value(json_object_get(c, "aiq")));
	fputc('\n', out);
}

/* Routers that label their points with curves (the cascade's error rates): AIQ per curve. */
static void curves_table(FILE *out, const json_t *result)
{
	const json_t *overall = json_object_get(result, "overall");
	const json_t *curves = json_object_get(json_object_get(overall, "router"), "curves");
	if (!json_array_size(curves))
		return;
	fprintf(out, "\nrouter AIQ (paper definition) per curve:\n%-18s", "task \\ curve");
	size_t k;
	json_t *c;
	json_array_foreach(curves, k, c) {
		char *label = json_dumps(json_object_get(c, "curve"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(4));
		fprintf(out, " %9.9s", label ? label : "?");
		free(label);
	}
	fputc('\n', out);
	const char *name;
	json_t *b;
	json_object_foreach((json_t *)json_object_get(result, "tasks"), name, b)
		curve_row(out, name, b);
	curve_row(out, "overall", overall);
}

static void calibration_row(FILE *out, const char *name, const json_t *block)
{
	const json_t *cal = json_object_get(block, "calibration");
	if (!cal)
		return;
	char *param = json_dumps(json_object_get(cal, "param"), JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6));
	fprintf(out, "%-18s %-22.22s %10.6f %7.4f   %10.6f %7.4f\n", name, param ? param : "(per task)",
		num(cal, "validation.cost_mean"), num(cal, "validation.quality"), num(cal, "test.cost_mean"),
		num(cal, "test.quality"));
	free(param);
}

/* --target-budget / --target-share: the chosen point and what it realised. */
static void calibration_table(FILE *out, const json_t *result)
{
	const json_t *overall = json_object_get(result, "overall");
	const json_t *cal = json_object_get(overall, "calibration");
	if (!cal)
		return;
	char *target = json_dumps(json_object_get(cal, "target"), JSON_COMPACT | JSON_REAL_PRECISION(6));
	fprintf(out, "\ncalibration, target %s: point chosen on the validation part, realised on test\n", target);
	free(target);
	fprintf(out, "%-18s %-22s %10s %7s   %10s %7s\n", "task", "point", "val $/q", "val q", "test $/q", "test q");
	const char *name;
	json_t *b;
	json_object_foreach((json_t *)json_object_get(result, "tasks"), name, b)
		calibration_row(out, name, b);
	calibration_row(out, "overall", overall);
}

void rbr_report_table(FILE *out, const json_t *result)
{
	const json_t *router = json_object_get(result, "router"), *ds = json_object_get(result, "dataset"),
		     *split = json_object_get(result, "split");
	char *params = json_dumps(json_object_get(router, "params"), JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	fprintf(out, "router %s %s %s on %s (%lld prompts, sha256 %.12s), split %s seed %lld train %.2f\n",
		json_string_value(json_object_get(router, "name")), json_string_value(json_object_get(router, "version")),
		params ? params : "{}", json_string_value(json_object_get(ds, "name")),
		(long long)json_integer_value(json_object_get(ds, "prompts")),
		json_string_value(json_object_get(ds, "sha256")), json_string_value(json_object_get(split, "mode")),
		(long long)json_integer_value(json_object_get(split, "seed")),
		json_number_value(json_object_get(split, "train_fraction")));
	free(params);
	fprintf(out, "%-18s %6s  %-31s  %-15s  %-18s  %7s  %s\n", "", "", "router AIQ", "zero AIQ",
		"router max quality", "oracle", "best single model");
	fprintf(out, "%-18s %6s  %7s %-15s %7s  %7s %7s  %7s %10s  %7s  %7s %s\n", "task", "n_test", "paper", "95% interval",
		"code", "paper", "code", "quality", "USD/query", "quality", "quality", "model");
	const char *name;
	json_t *b;
	json_object_foreach((json_t *)json_object_get(result, "tasks"), name, b)
		row(out, name, b);
	row(out, "overall", json_object_get(result, "overall"));
	curves_table(out, result);
	calibration_table(out, result);
	const json_t *timing = json_object_get(result, "timing");
	fprintf(out, "fit %.3f s, routing %.3f s (%.2f µs per prompt), %lld decisions\n",
		num(timing, "fit_seconds"), num(timing, "route_seconds"), num(timing, "route_seconds_per_prompt") * 1e6,
		(long long)json_integer_value(json_object_get(timing, "decisions")));
}
