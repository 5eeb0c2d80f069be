/* params.c — parse and check router parameters before anything runs. */
#include "eval/params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_name(rb_param_type t)
{
	switch (t) {
	case RB_PARAM_INT:
		return "an integer";
	case RB_PARAM_REAL:
		return "a number";
	case RB_PARAM_BOOL:
		return "true or false";
	case RB_PARAM_STRING:
		return "a string";
	case RB_PARAM_MODEL:
		return "a model name";
	case RB_PARAM_REAL_LIST:
		return "a comma-separated list of numbers";
	}
	return "?";
}

static int parse_real(const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int rbe_parse_real_list(const char *text, double **out, size_t *len, rbe_error *e)
{
	size_t n = 0, cap = 8;
	double *v = rbe_xmalloc(cap * sizeof(double));
	char *copy = rbe_xstrdup(text), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (n == cap)
			v = rbe_xrealloc(v, (cap *= 2) * sizeof(double));
		if (parse_real(tok, &v[n]) < 0) {
			rbe_fail(e, -EINVAL, "'%s' in '%s' is not a number", tok, text);
			free(copy);
			free(v);
			return -EINVAL;
		}
		n++;
	}
	free(copy);
	if (n == 0) {
		free(v);
		return rbe_fail(e, -EINVAL, "'%s' holds no numbers", text);
	}
	*out = v;
	*len = n;
	return 0;
}

static int out_of_range(const rb_param_spec *s, double v)
{
	return s->min <= s->max && (v < s->min || v > s->max);
}

/* Parse one value into *val, owning strings and lists; echo it into the JSON object. */
static int parse_value(const rb_param_spec *s, const rbe_dataset *ds, const char *text, rb_param_value *val,
		       json_t *echo, rbe_error *e)
{
	val->type = s->type;
	switch (s->type) {
	case RB_PARAM_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (errno || end == text || *end)
			goto bad_type;
		if (out_of_range(s, (double)v))
			goto bad_range;
		val->i = v;
		json_object_set_new(echo, s->name, json_integer(v));
		return 0;
	}
	case RB_PARAM_REAL:
		if (parse_real(text, &val->r) < 0)
			goto bad_type;
		if (out_of_range(s, val->r))
			goto bad_range;
		json_object_set_new(echo, s->name, json_real(val->r));
		return 0;
	case RB_PARAM_BOOL:
		if (!strcasecmp(text, "true") || !strcmp(text, "1") || !strcasecmp(text, "yes"))
			val->i = 1;
		else if (!strcasecmp(text, "false") || !strcmp(text, "0") || !strcasecmp(text, "no"))
			val->i = 0;
		else
			goto bad_type;
		json_object_set_new(echo, s->name, json_boolean(val->i));
		return 0;
	case RB_PARAM_STRING:
		val->s = rbe_xstrdup(text);
		json_object_set_new(echo, s->name, json_string(text));
		return 0;
	case RB_PARAM_MODEL: {
		int j = ds ? rbe_dataset_model_index(ds, text) : -1;
		if (j < 0) {
			char models[1024] = "";
			for (uint32_t k = 0; ds && k < ds->n_models; k++) {
				if (strlen(models) + strlen(ds->model_names[k]) + 3 >= sizeof(models))
					break;
				if (k)
					strcat(models, ", ");
				strcat(models, ds->model_names[k]);
			}
			return rbe_fail(e, -EINVAL, "parameter '%s': no model '%s' in the dataset (models: %s)",
					s->name, text, models);
		}
		val->model = (uint32_t)j;
		val->s = rbe_xstrdup(text);
		json_object_set_new(echo, s->name, json_string(text));
		return 0;
	}
	case RB_PARAM_REAL_LIST: {
		double *list;
		size_t len;
		if (rbe_parse_real_list(text, &list, &len, NULL) < 0)
			goto bad_type;
		json_t *arr = json_array();
		for (size_t k = 0; k < len; k++) {
			if (out_of_range(s, list[k])) {
				int r = rbe_fail(e, -ERANGE, "parameter '%s': item %g is out of range [%g, %g]", s->name,
						 list[k], s->min, s->max);
				free(list);
				json_decref(arr);
				return r;
			}
			json_array_append_new(arr, json_real(list[k]));
		}
		val->list = list;
		val->list_len = len;
		json_object_set_new(echo, s->name, arr);
		return 0;
	}
	}
bad_type:
	return rbe_fail(e, -EINVAL, "parameter '%s': '%s' is not %s", s->name, text, type_name(s->type));
bad_range:
	return rbe_fail(e, -ERANGE, "parameter '%s': %s is out of range [%g, %g]", s->name, text, s->min, s->max);
}

void rbe_params_free(rbe_params *params)
{
	if (!params)
		return;
	for (uint32_t i = 0; i < params->n; i++) {
		free((char *)params->values[i].s);
		free((double *)params->values[i].list);
	}
	free(params->values);
	json_decref(params->echo);
	free(params);
}

int rbe_params_parse(const rbe_plugin *p, const rbe_dataset *ds, const char *const *settings, size_t n,
		     rbe_params **out, rbe_error *e)
{
	const rb_router *r = p->router;
	rbe_params *params = rbe_xcalloc(1, sizeof(*params));
	params->n = r->n_params;
	params->values = rbe_xcalloc(r->n_params ? r->n_params : 1, sizeof(rb_param_value));
	params->echo = json_object();
	const char **given = rbe_xcalloc(r->n_params ? r->n_params : 1, sizeof(char *));
	int rc = 0;

	for (size_t k = 0; k < n && rc == 0; k++) {
		const char *eq = strchr(settings[k], '=');
		if (!eq || eq == settings[k]) {
			rc = rbe_fail(e, -EINVAL, "setting '%s': expected NAME=VALUE", settings[k]);
			break;
		}
		size_t name_len = (size_t)(eq - settings[k]);
		uint32_t i;
		for (i = 0; i < r->n_params; i++) {
			const char *name = rbe_plugin_param(p, i)->name;
			if (strlen(name) == name_len && !strncmp(name, settings[k], name_len))
				break;
		}
		if (i == r->n_params) {
			char known[1024] = "";
			for (uint32_t j = 0; j < r->n_params; j++) {
				const char *name = rbe_plugin_param(p, j)->name;
				if (strlen(known) + strlen(name) + 3 >= sizeof(known))
					break;
				if (j)
					strcat(known, ", ");
				strcat(known, name);
			}
			rc = rbe_fail(e, -EINVAL, "router '%s' has no parameter '%.*s' (parameters: %s)", r->name,
				      (int)name_len, settings[k], *known ? known : "none");
		} else if (given[i]) {
			rc = rbe_fail(e, -EINVAL, "parameter '%s' is set twice", rbe_plugin_param(p, i)->name);
		} else {
			given[i] = eq + 1;
		}
	}
	for (uint32_t i = 0; i < r->n_params && rc == 0; i++) {
		const rb_param_spec *s = rbe_plugin_param(p, i);
		const char *text = given[i] ? given[i] : s->default_value;
		if (!text) {
			rc = rbe_fail(e, -EINVAL, "router '%s' needs parameter '%s' (%s): --set %s=VALUE", r->name,
				      s->name, s->help ? s->help : type_name(s->type), s->name);
			break;
		}
		rc = parse_value(s, ds, text, &params->values[i], params->echo, e);
		if (rc < 0 && !given[i])
			rbe_error_prefix(e, "router '%s' default", r->name);
	}
	free(given);
	if (rc < 0) {
		rbe_params_free(params);
		return rc;
	}
	*out = params;
	return 0;
}
