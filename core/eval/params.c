/* params.c — the parameter schema of a router, and parsing and checking settings against it
 * before anything runs. */
#include "eval/params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_names[] = {"?", "int", "real", "bool", "string", "model", "real-list"};

const char *rbe_param_type_name(uint32_t type)
{
	return type >= RB_PARAM_INT && type <= RB_PARAM_REAL_LIST ? type_names[type] : "?";
}

static const char *type_phrase(uint32_t t)
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

static int bounded_type(uint32_t t)
{
	return t == RB_PARAM_INT || t == RB_PARAM_REAL || t == RB_PARAM_REAL_LIST;
}

static int out_of_range(const rbe_param_def *d, double v)
{
	return (d->has_min && v < d->min) || (d->has_max && v > d->max);
}

/* "[1, 100]", "[0, ∞)", "(-∞, 1]". */
static const char *range_text(const rbe_param_def *d, char *buf, size_t size)
{
	char lo[32] = "(-∞", hi[32] = "∞)";
	if (d->has_min)
		snprintf(lo, sizeof(lo), "[%g", d->min);
	if (d->has_max)
		snprintf(hi, sizeof(hi), "%g]", d->max);
	snprintf(buf, size, "%s, %s", lo, hi);
	return buf;
}

/* Parse one value into *val, owning strings and lists; echo it into the JSON object. */
static int parse_value(const rbe_param_def *s, const rbe_dataset *ds, const char *text, rb_param_value *val,
		       json_t *echo, rbe_error *e)
{
	char range[96];
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
				int r = rbe_fail(e, -ERANGE, "parameter '%s': item %g is out of range %s", s->name,
						 list[k], range_text(s, range, sizeof(range)));
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
	return rbe_fail(e, -EINVAL, "parameter '%s': '%s' is not %s", s->name, text, type_phrase(s->type));
bad_range:
	return rbe_fail(e, -ERANGE, "parameter '%s': %s is out of range %s", s->name, text,
			range_text(s, range, sizeof(range)));
}

static void value_clear(rb_param_value *v)
{
	free((char *)v->s);
	free((double *)v->list);
	memset(v, 0, sizeof(*v));
}

/* ---- the schema ---- */

void rbe_param_schema_free(rbe_param_schema *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n; i++) {
		free(s->params[i].name);
		free(s->params[i].default_value);
		free(s->params[i].help);
	}
	free(s->params);
	free(s->router);
	free(s);
}

static rbe_param_schema *schema_new(const char *router, uint32_t n)
{
	rbe_param_schema *s = rbe_xcalloc(1, sizeof(*s));
	s->router = rbe_xstrdup(router ? router : "?");
	s->n = n;
	s->params = rbe_xcalloc(n ? n : 1, sizeof(rbe_param_def));
	s->value_stride = sizeof(rb_param_value);
	return s;
}

/* An infinite bound is no bound (JSON cannot carry it anyway); NaN, +∞ as a minimum or −∞ as a
 * maximum bound nothing sensible and are refused. */
static int set_bound(rbe_param_def *d, int is_min, double v, rbe_error *e)
{
	if (isnan(v) || (is_min ? v == INFINITY : v == -INFINITY))
		return rbe_fail(e, -EINVAL, "parameter '%s': %s bound %g is not a number", d->name,
				is_min ? "lower" : "upper", v);
	if (isinf(v))
		return 0;
	if (is_min) {
		d->has_min = 1;
		d->min = v;
	} else {
		d->has_max = 1;
		d->max = v;
	}
	return 0;
}

/* The text can go into JSON (the probe's answer, the result's parameter echo). */
static int utf8_text(const char *text)
{
	json_t *v = json_string(text);
	json_decref(v);
	return v != NULL;
}

/* What a schema must satisfy however it was built: names, types, bounds, and defaults that
 * are valid values of their own parameters (a model name can only be checked against a
 * dataset, later). */
static int schema_check(const rbe_param_schema *s, rbe_error *e)
{
	char range[96];
	for (uint32_t i = 0; i < s->n; i++) {
		const rbe_param_def *d = &s->params[i];
		if (!d->name || !*d->name)
			return rbe_fail(e, -EINVAL, "router '%s' parameter %u has no name", s->router, i);
		if (d->type < RB_PARAM_INT || d->type > RB_PARAM_REAL_LIST)
			return rbe_fail(e, -EINVAL, "router '%s' parameter '%s' has unknown type %u", s->router, d->name,
					d->type);
		if (strpbrk(d->name, "= \t\n") || !utf8_text(d->name))
			return rbe_fail(e, -EINVAL, "router '%s' parameter %u: name '%s' must be UTF-8 without '=' or spaces",
					s->router, i, d->name);
		if ((d->default_value && !utf8_text(d->default_value)) || !utf8_text(d->help))
			return rbe_fail(e, -EINVAL, "router '%s' parameter '%s': default and help must be UTF-8 text",
					s->router, d->name);
		for (uint32_t k = 0; k < i; k++)
			if (!strcmp(s->params[k].name, d->name))
				return rbe_fail(e, -EINVAL, "router '%s' declares parameter '%s' twice", s->router,
						d->name);
		if ((d->has_min || d->has_max) && !bounded_type(d->type))
			return rbe_fail(e, -EINVAL, "router '%s' parameter '%s': a %s parameter takes no bounds", s->router,
					d->name, rbe_param_type_name(d->type));
		if (d->has_min && d->has_max && d->min > d->max)
			return rbe_fail(e, -EINVAL, "router '%s' parameter '%s': empty range %s", s->router, d->name,
					range_text(d, range, sizeof(range)));
		if (!d->default_value)
			continue;
		if (d->type == RB_PARAM_MODEL) {
			if (!*d->default_value)
				return rbe_fail(e, -EINVAL, "router '%s' parameter '%s': the default model name is empty",
						s->router, d->name);
			continue;
		}
		rb_param_value v = {0};
		json_t *echo = json_object();
		int rc = parse_value(d, NULL, d->default_value, &v, echo, e);
		value_clear(&v);
		json_decref(echo);
		if (rc < 0)
			return rbe_error_prefix(e, "router '%s' default", s->router);
	}
	return 0;
}

/* The last step of both constructors: check the whole schema; on success *out owns it, else
 * it is freed. */
static int schema_finish(rbe_param_schema *s, int rc, rbe_param_schema **out, rbe_error *e)
{
	if (rc == 0)
		rc = schema_check(s, e);
	if (rc < 0) {
		rbe_param_schema_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int rbe_param_schema_from_router(const rb_router *r, rbe_param_schema **out, rbe_error *e)
{
	const rb_abi_stamp *st = &r->stamp;
	/* 1.2 plugins say which bounds hold; older ones meant min > max as "none". The minor is
	 * checked as well as the size: a 1.1 spec's tail padding may cover where flags is now. */
	int has_flags = st->abi_minor >= 2 && st->param_spec_size >= offsetof(rb_param_spec, flags) + sizeof(uint32_t);
	int has_stride = st->abi_minor >= 2 && st->router_size >= offsetof(rb_router, param_value_size) + sizeof(uint32_t);
	rbe_param_schema *s = schema_new(r->name, r->n_params);
	if (has_stride && r->param_value_size)
		s->value_stride = r->param_value_size;
	if (s->value_stride < sizeof(rb_param_value) || s->value_stride > 4096 || s->value_stride % sizeof(void *)) {
		int rc = rbe_fail(e, -EINVAL, "router '%s' declares parameter values of %u bytes; expected a multiple of %zu, at "
				  "least %zu (param_value_size = sizeof(rb_param_value))",
				  s->router, s->value_stride, sizeof(void *), sizeof(rb_param_value));
		rbe_param_schema_free(s);
		return rc;
	}
	int rc = 0;
	for (uint32_t i = 0; i < r->n_params && rc == 0; i++) {
		/* The plugin's array, read with its own stride. */
		const rb_param_spec *p = (const rb_param_spec *)((const char *)r->params + (size_t)i * st->param_spec_size);
		rbe_param_def *d = &s->params[i];
		d->name = p->name ? rbe_xstrdup(p->name) : NULL;
		d->type = p->type;
		d->default_value = p->default_value ? rbe_xstrdup(p->default_value) : NULL;
		d->help = rbe_xstrdup(p->help ? p->help : "");
		if (!d->name)
			break; /* schema_check names the problem */
		uint32_t flags = has_flags ? p->flags
				 : p->min <= p->max && bounded_type(p->type) ? RB_PARAM_HAS_MIN | RB_PARAM_HAS_MAX
									  : 0;
		if (flags & RB_PARAM_HAS_MIN)
			rc = set_bound(d, 1, p->min, e);
		if (rc == 0 && (flags & RB_PARAM_HAS_MAX))
			rc = set_bound(d, 0, p->max, e);
		if (rc < 0)
			rbe_error_prefix(e, "router '%s'", s->router);
	}
	return schema_finish(s, rc, out, e);
}

int rbe_param_schema_from_json(const char *router, const json_t *params, rbe_param_schema **out, rbe_error *e)
{
	if (!json_is_array(params))
		return rbe_fail(e, -EINVAL, "router '%s': params is not an array", router ? router : "?");
	rbe_param_schema *s = schema_new(router, (uint32_t)json_array_size(params));
	int rc = 0;
	for (uint32_t i = 0; i < s->n && rc == 0; i++) {
		const json_t *p = json_array_get(params, i);
		rbe_param_def *d = &s->params[i];
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *type = json_string_value(json_object_get(p, "type"));
		const char *def = json_string_value(json_object_get(p, "default"));
		const char *help = json_string_value(json_object_get(p, "help"));
		const json_t *min = json_object_get(p, "min"), *max = json_object_get(p, "max");
		d->name = name ? rbe_xstrdup(name) : NULL;
		d->default_value = def ? rbe_xstrdup(def) : NULL;
		d->help = rbe_xstrdup(help ? help : "");
		for (uint32_t t = RB_PARAM_INT; t <= RB_PARAM_REAL_LIST; t++)
			if (type && !strcmp(type, type_names[t]))
				d->type = t;
		if (!d->name || !d->type) {
			rc = rbe_fail(e, -EINVAL, "router '%s': parameter %u lacks a name or a known type", s->router, i);
			break;
		}
		/* Both numbers with min > max: a description written before bounds were flags. */
		if (json_is_number(min) && json_is_number(max) && json_number_value(min) > json_number_value(max))
			continue;
		if (json_is_number(min))
			rc = set_bound(d, 1, json_number_value(min), e);
		if (rc == 0 && json_is_number(max))
			rc = set_bound(d, 0, json_number_value(max), e);
		if (rc < 0)
			rbe_error_prefix(e, "router '%s'", s->router);
	}
	return schema_finish(s, rc, out, e);
}

json_t *rbe_param_schema_json(const rbe_param_schema *s)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < s->n; i++) {
		const rbe_param_def *d = &s->params[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "type", json_string(rbe_param_type_name(d->type)));
		json_object_set_new(o, "default", d->default_value ? json_string(d->default_value) : json_null());
		json_object_set_new(o, "min", d->has_min ? json_real(d->min) : json_null());
		json_object_set_new(o, "max", d->has_max ? json_real(d->max) : json_null());
		json_object_set_new(o, "help", json_string(d->help));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- settings ---- */

void rbe_params_free(rbe_params *params)
{
	if (!params)
		return;
	for (uint32_t i = 0; i < params->n; i++)
		value_clear(&params->values[i]);
	free(params->values);
	free(params->strided);
	json_decref(params->echo);
	free(params);
}

/* The values as the plugin indexes them: with its stride, each holding the fields both sides
 * know (the rest zero). */
static void lay_out_for_plugin(rbe_params *params, uint32_t stride)
{
	if (stride == sizeof(rb_param_value)) {
		params->abi_values = params->values;
		return;
	}
	char *buf = rbe_xcalloc(params->n ? params->n : 1, stride);
	size_t common = stride < sizeof(rb_param_value) ? stride : sizeof(rb_param_value);
	for (uint32_t i = 0; i < params->n; i++)
		memcpy(buf + (size_t)i * stride, &params->values[i], common);
	params->strided = buf;
	params->abi_values = (const rb_param_value *)buf;
}

int rbe_params_parse(const rbe_param_schema *schema, const rbe_dataset *ds, const char *const *settings, size_t n,
		     rbe_params **out, rbe_error *e)
{
	uint32_t np = schema->n;
	rbe_params *params = rbe_xcalloc(1, sizeof(*params));
	params->n = np;
	params->values = rbe_xcalloc(np ? np : 1, sizeof(rb_param_value));
	params->echo = json_object();
	const char **given = rbe_xcalloc(np ? np : 1, sizeof(char *));
	int rc = 0;

	for (size_t k = 0; k < n && rc == 0; k++) {
		const char *eq = strchr(settings[k], '=');
		if (!eq || eq == settings[k]) {
			rc = rbe_fail(e, -EINVAL, "setting '%s': expected NAME=VALUE", settings[k]);
			break;
		}
		size_t name_len = (size_t)(eq - settings[k]);
		uint32_t i;
		for (i = 0; i < np; i++) {
			const char *name = schema->params[i].name;
			if (strlen(name) == name_len && !strncmp(name, settings[k], name_len))
				break;
		}
		if (i == np) {
			char known[1024] = "";
			for (uint32_t j = 0; j < np; j++) {
				const char *name = schema->params[j].name;
				if (strlen(known) + strlen(name) + 3 >= sizeof(known))
					break;
				if (j)
					strcat(known, ", ");
				strcat(known, name);
			}
			rc = rbe_fail(e, -EINVAL, "router '%s' has no parameter '%.*s' (parameters: %s)", schema->router,
				      (int)name_len, settings[k], *known ? known : "none");
		} else if (given[i]) {
			rc = rbe_fail(e, -EINVAL, "parameter '%s' is set twice", schema->params[i].name);
		} else {
			given[i] = eq + 1;
		}
	}
	for (uint32_t i = 0; i < np && rc == 0; i++) {
		const rbe_param_def *s = &schema->params[i];
		const char *text = given[i] ? given[i] : s->default_value;
		if (!text) {
			rc = rbe_fail(e, -EINVAL, "router '%s' needs parameter '%s' (%s): --set %s=VALUE", schema->router,
				      s->name, *s->help ? s->help : type_phrase(s->type), s->name);
			break;
		}
		rc = parse_value(s, ds, text, &params->values[i], params->echo, e);
		if (rc < 0 && !given[i])
			rbe_error_prefix(e, "router '%s' default", schema->router);
	}
	free(given);
	if (rc < 0) {
		rbe_params_free(params);
		return rc;
	}
	lay_out_for_plugin(params, schema->value_stride);
	*out = params;
	return 0;
}
