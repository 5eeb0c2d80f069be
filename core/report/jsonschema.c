/* jsonschema.c — a validator for the JSON Schema subset of docs/result.schema.json (jsonschema.h). */
#include "report/jsonschema.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define META_SCHEMA "https://json-schema.org/draft/2020-12/schema"
#define REF_PREFIX "#/$defs/"
/* Schema applications nested deeper than this are a $ref cycle, or a document no result is. */
#define MAX_DEPTH 256

/* ---- JSON pointers (RFC 6901), grown and cut back as the walk descends and returns ---- */

typedef struct pointer {
	char *s;
	size_t len, cap;
} pointer;

static void ptr_reserve(pointer *p, size_t more)
{
	if (p->len + more + 1 <= p->cap)
		return;
	size_t cap = p->cap ? p->cap : 128;
	while (p->len + more + 1 > cap)
		cap *= 2;
	p->s = rbe_xrealloc(p->s, cap);
	p->cap = cap;
}

/* Append "/key" with "~" and "/" escaped; returns the length to restore with ptr_cut. */
static size_t ptr_push_key(pointer *p, const char *key)
{
	size_t old = p->len, n = strlen(key);
	ptr_reserve(p, 2 * n + 1);
	p->s[p->len++] = '/';
	for (size_t i = 0; i < n; i++) {
		if (key[i] == '~' || key[i] == '/') {
			p->s[p->len++] = '~';
			p->s[p->len++] = key[i] == '~' ? '0' : '1';
		} else {
			p->s[p->len++] = key[i];
		}
	}
	p->s[p->len] = '\0';
	return old;
}

static size_t ptr_push_index(pointer *p, size_t i)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%zu", i);
	return ptr_push_key(p, buf);
}

static void ptr_cut(pointer *p, size_t len)
{
	p->len = len;
	if (p->s)
		p->s[len] = '\0';
}

static const char *ptr_str(const pointer *p) { return p->len ? p->s : ""; }

/* ---- values: description for messages, comparison, type names ---- */

/* Shortest decimal that reads back as the same double. */
static void format_double(double d, char *out, size_t n)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

static void describe(const json_t *x, char *out, size_t n)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT:
		snprintf(out, n, "an object");
		return;
	case JSON_ARRAY:
		snprintf(out, n, "an array");
		return;
	case JSON_INTEGER:
		snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
		return;
	case JSON_REAL:
		format_double(json_real_value(x), out, n);
		return;
	case JSON_TRUE:
		snprintf(out, n, "true");
		return;
	case JSON_FALSE:
		snprintf(out, n, "false");
		return;
	case JSON_NULL:
		snprintf(out, n, "null");
		return;
	case JSON_STRING:
		break;
	}
	char *s = json_dumps(x, JSON_ENCODE_ANY);
	if (!s) {
		snprintf(out, n, "a string");
		return;
	}
	/* Long strings are cut: the start is enough to recognise the value. */
	if (strlen(s) > 80)
		snprintf(out, n, "%.72s...\"", s);
	else
		snprintf(out, n, "%s", s);
	free(s);
}

static const char *type_name(const json_t *x)
{
	switch (json_typeof(x)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/* JSON Schema's integer: any number with no fractional part (1.0 included). */
static int is_integral(const json_t *x)
{
	if (json_is_integer(x))
		return 1;
	if (!json_is_real(x))
		return 0;
	double d = json_real_value(x);
	return isfinite(d) && floor(d) == d;
}

/* Compare two numbers: exactly when both are integers, as doubles otherwise. */
static int num_cmp(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return (x > y) - (x < y);
	}
	double x = json_number_value(a), y = json_number_value(b);
	return (x > y) - (x < y);
}

/* JSON Schema equality: numbers by value (1 == 1.0), containers member by member. */
static int values_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		const char *key;
		json_t *va;
		json_object_foreach((json_t *)a, key, va) {
			const json_t *vb = json_object_get(b, key);
			if (!vb || !values_equal(va, vb))
				return 0;
		}
		return 1;
	}
	if (json_is_string(a))
		return json_equal((json_t *)a, (json_t *)b);
	return 1; /* true, false, null: the type is the value */
}

static const char *const type_names[] = {"null", "boolean", "object", "array", "number", "integer", "string"};

static int is_type_name(const char *t)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(t, type_names[i]) == 0)
			return 1;
	return 0;
}

static int type_matches(const char *t, const json_t *x)
{
	if (strcmp(t, "integer") == 0)
		return is_integral(x);
	if (strcmp(t, "number") == 0)
		return json_is_number(x);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(x);
	return strcmp(t, type_name(x)) == 0;
}

/* UTF-8 code points: JSON Schema lengths count characters, not bytes. */
static size_t code_points(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int regex_compile(regex_t *re, const char *pattern, char *err, size_t n)
{
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, re, err, n);
		regfree(re);
		return -EINVAL;
	}
	return 0;
}

/* 1 when pattern matches somewhere in s[0..len) (REG_STARTEND: embedded NULs are part of s). */
static int regex_search(regex_t *re, const char *s, size_t len)
{
	regmatch_t m[1] = {{.rm_so = 0, .rm_eo = (regoff_t)len}};
	return regexec(re, s, 1, m, REG_STARTEND) == 0;
}

/* ---- checking the schema ---- */

typedef enum kw_form {
	KW_ANNOTATION, /* a string, no effect */
	KW_META,       /* $schema: the 2020-12 URI, at the root */
	KW_DEFS,       /* $defs: object of schemas, at the root */
	KW_REF,        /* "#/$defs/NAME" */
	KW_TYPE,
	KW_ANY,        /* const: any value */
	KW_ENUM,       /* non-empty array */
	KW_REQUIRED,   /* array of strings */
	KW_SCHEMAS,    /* properties: object of schemas */
	KW_PATTERNS,   /* patternProperties: object of regex → schema */
	KW_SCHEMA,     /* additionalProperties, items */
	KW_SCHEMA_LIST, /* prefixItems: non-empty array of schemas */
	KW_COUNT,      /* minItems, maxItems, minLength: integer >= 0 */
	KW_NUMBER,     /* minimum, maximum, exclusiveMinimum, exclusiveMaximum */
	KW_REGEX,      /* pattern */
} kw_form;

static const struct {
	const char *name;
	kw_form form;
} keywords[] = {
	{"title", KW_ANNOTATION},
	{"description", KW_ANNOTATION},
	{"$comment", KW_ANNOTATION},
	{"$schema", KW_META},
	{"$defs", KW_DEFS},
	{"$ref", KW_REF},
	{"type", KW_TYPE},
	{"const", KW_ANY},
	{"enum", KW_ENUM},
	{"required", KW_REQUIRED},
	{"properties", KW_SCHEMAS},
	{"patternProperties", KW_PATTERNS},
	{"additionalProperties", KW_SCHEMA},
	{"items", KW_SCHEMA},
	{"prefixItems", KW_SCHEMA_LIST},
	{"minItems", KW_COUNT},
	{"maxItems", KW_COUNT},
	{"minLength", KW_COUNT},
	{"minimum", KW_NUMBER},
	{"maximum", KW_NUMBER},
	{"exclusiveMinimum", KW_NUMBER},
	{"exclusiveMaximum", KW_NUMBER},
	{"pattern", KW_REGEX},
};

typedef struct checker {
	const json_t *defs; /* the root's $defs, or NULL */
	pointer where;      /* place in the schema */
	rbe_error *e;
} checker;

static int check_fail(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check_fail(checker *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rbe_fail(c->e, -EINVAL, "schema #%s: %s", ptr_str(&c->where), msg);
}

static int check_schema(checker *c, const json_t *s, int at_root);

/* The $defs name a "$ref" points to, or NULL when it is not of the supported form. */
static const char *ref_name(const char *ref)
{
	size_t n = strlen(REF_PREFIX);
	if (strncmp(ref, REF_PREFIX, n) != 0 || ref[n] == '\0' || strpbrk(ref + n, "/~%"))
		return NULL;
	return ref + n;
}

static int check_sub(checker *c, const char *key, const json_t *sub)
{
	size_t old = ptr_push_key(&c->where, key);
	int rc = check_schema(c, sub, 0);
	if (rc == 0)
		ptr_cut(&c->where, old);
	return rc;
}

static int check_keyword(checker *c, const char *kw, kw_form form, const json_t *v, int at_root)
{
	char err[256];
	const char *key;
	json_t *sub;
	size_t i;
	switch (form) {
	case KW_ANNOTATION:
		return json_is_string(v) ? 0 : check_fail(c, "'%s' must be a string", kw);
	case KW_META:
		if (!at_root)
			return check_fail(c, "'$schema' is supported at the root only");
		if (!json_is_string(v) || strcmp(json_string_value(v), META_SCHEMA) != 0)
			return check_fail(c, "'$schema' must be \"%s\" (draft 2020-12)", META_SCHEMA);
		return 0;
	case KW_DEFS:
		if (!at_root)
			return check_fail(c, "'$defs' is supported at the root only (\"$ref\" resolves there)");
		if (!json_is_object(v))
			return check_fail(c, "'$defs' must be an object of schemas");
		json_object_foreach((json_t *)v, key, sub) {
			size_t old = ptr_push_key(&c->where, "$defs");
			int rc = check_sub(c, key, sub);
			if (rc < 0)
				return rc;
			ptr_cut(&c->where, old);
		}
		return 0;
	case KW_REF: {
		const char *name = json_is_string(v) ? ref_name(json_string_value(v)) : NULL;
		if (!name)
			return check_fail(c, "'$ref' must be a string \"" REF_PREFIX "NAME\" (the only form supported)");
		if (!json_object_get(c->defs, name))
			return check_fail(c, "'$ref' \"%s\": no '%s' in the root's $defs", json_string_value(v), name);
		return 0;
	}
	case KW_TYPE:
		if (json_is_string(v)) {
			if (!is_type_name(json_string_value(v)))
				return check_fail(c, "unknown type \"%s\"", json_string_value(v));
			return 0;
		}
		if (!json_is_array(v) || json_array_size(v) == 0)
			return check_fail(c, "'type' must be a type name or a non-empty array of them");
		json_array_foreach(v, i, sub) {
			if (!json_is_string(sub) || !is_type_name(json_string_value(sub)))
				return check_fail(c, "'type' item %zu is not a type name", i);
			for (size_t j = 0; j < i; j++)
				if (json_equal(sub, json_array_get(v, j)))
					return check_fail(c, "'type' names \"%s\" twice", json_string_value(sub));
		}
		return 0;
	case KW_ANY:
		return 0;
	case KW_ENUM:
		return json_is_array(v) && json_array_size(v) > 0 ? 0 : check_fail(c, "'enum' must be a non-empty array");
	case KW_REQUIRED:
		if (!json_is_array(v))
			return check_fail(c, "'required' must be an array of strings");
		json_array_foreach(v, i, sub)
			if (!json_is_string(sub))
				return check_fail(c, "'required' item %zu is not a string", i);
		return 0;
	case KW_SCHEMAS:
	case KW_PATTERNS:
		if (!json_is_object(v))
			return check_fail(c, "'%s' must be an object of schemas", kw);
		json_object_foreach((json_t *)v, key, sub) {
			size_t old = ptr_push_key(&c->where, kw);
			if (form == KW_PATTERNS) {
				regex_t re;
				if (regex_compile(&re, key, err, sizeof(err)) < 0)
					return check_fail(c, "pattern \"%s\" is not a POSIX extended regex: %s", key, err);
				regfree(&re);
			}
			int rc = check_sub(c, key, sub);
			if (rc < 0)
				return rc;
			ptr_cut(&c->where, old);
		}
		return 0;
	case KW_SCHEMA:
		return check_sub(c, kw, v);
	case KW_SCHEMA_LIST:
		if (!json_is_array(v) || json_array_size(v) == 0)
			return check_fail(c, "'%s' must be a non-empty array of schemas", kw);
		json_array_foreach(v, i, sub) {
			size_t old = ptr_push_key(&c->where, kw);
			ptr_push_index(&c->where, i);
			int rc = check_schema(c, sub, 0);
			if (rc < 0)
				return rc;
			ptr_cut(&c->where, old);
		}
		return 0;
	case KW_COUNT:
		if (!is_integral(v) || json_number_value(v) < 0)
			return check_fail(c, "'%s' must be an integer >= 0", kw);
		return 0;
	case KW_NUMBER:
		return json_is_number(v) ? 0 : check_fail(c, "'%s' must be a number", kw);
	case KW_REGEX: {
		if (!json_is_string(v))
			return check_fail(c, "'pattern' must be a string");
		regex_t re;
		if (regex_compile(&re, json_string_value(v), err, sizeof(err)) < 0)
			return check_fail(c, "pattern \"%s\" is not a POSIX extended regex: %s", json_string_value(v),
					  err);
		regfree(&re);
		return 0;
	}
	}
	return check_fail(c, "keyword '%s' has no checker", kw);
}

static int check_schema(checker *c, const json_t *s, int at_root)
{
	if (json_is_boolean(s))
		return 0;
	if (!json_is_object(s))
		return check_fail(c, "a schema must be an object or a boolean, not %s", type_name(s));
	const char *kw;
	json_t *v;
	json_object_foreach((json_t *)s, kw, v) {
		size_t k = 0, n = sizeof(keywords) / sizeof(keywords[0]);
		while (k < n && strcmp(keywords[k].name, kw) != 0)
			k++;
		if (k == n)
			return check_fail(c, "unsupported keyword '%s'", kw);
		int rc = check_keyword(c, kw, keywords[k].form, v, at_root);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int rbr_jsonschema_check(const json_t *schema, rbe_error *e)
{
	if (!schema)
		return rbe_fail(e, -EINVAL, "schema #: no schema");
	checker c = {.defs = json_is_object(schema) ? json_object_get(schema, "$defs") : NULL, .e = e};
	int rc = check_schema(&c, schema, 1);
	free(c.where.s);
	return rc;
}

/* ---- validating a document ---- */

typedef struct validator {
	const json_t *defs;
	pointer where; /* place in the document */
	unsigned depth;
	rbe_error *e;
} validator;

static int vfail(validator *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vfail(validator *v, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rbe_fail(v->e, -EINVAL, "%s: %s", v->where.len ? v->where.s : "(root)", msg);
}

static int validate(validator *v, const json_t *s, const json_t *x);

static int validate_type(validator *v, const json_t *t, const json_t *x)
{
	char want[128] = "";
	if (json_is_string(t)) {
		if (type_matches(json_string_value(t), x))
			return 0;
		snprintf(want, sizeof(want), "%s", json_string_value(t));
	} else {
		size_t i;
		json_t *name;
		json_array_foreach(t, i, name) {
			if (type_matches(json_string_value(name), x))
				return 0;
			size_t len = strlen(want);
			snprintf(want + len, sizeof(want) - len, "%s%s", i ? " or " : "", json_string_value(name));
		}
	}
	return vfail(v, "expected %s, got %s", want, type_name(x));
}

static int validate_enum(validator *v, const json_t *options, const json_t *x)
{
	size_t i;
	json_t *o;
	json_array_foreach(options, i, o)
		if (values_equal(o, x))
			return 0;
	char got[128], list[512] = "", one[128];
	describe(x, got, sizeof(got));
	json_array_foreach(options, i, o) {
		describe(o, one, sizeof(one));
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", one);
	}
	return vfail(v, "%s is not one of %s", got, list);
}

static int validate_number(validator *v, const json_t *s, const json_t *x)
{
	static const struct {
		const char *kw, *words;
		int fails_when; /* num_cmp(x, limit) result that breaks the rule; 2: <= 0, -2: >= 0 */
	} bounds[] = {
		{"minimum", "is below minimum", -1},
		{"maximum", "is above maximum", 1},
		{"exclusiveMinimum", "is not above exclusiveMinimum", 2},
		{"exclusiveMaximum", "is not below exclusiveMaximum", -2},
	};
	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		const json_t *limit = json_object_get(s, bounds[k].kw);
		if (!limit)
			continue;
		int cmp = num_cmp(x, limit), f = bounds[k].fails_when;
		int broken = f == 2 ? cmp <= 0 : f == -2 ? cmp >= 0 : cmp == f;
		if (broken) {
			char a[64], b[64];
			describe(x, a, sizeof(a));
			describe(limit, b, sizeof(b));
			return vfail(v, "%s %s %s", a, bounds[k].words, b);
		}
	}
	return 0;
}

static int validate_string(validator *v, const json_t *s, const json_t *x)
{
	const char *str = json_string_value(x);
	size_t len = json_string_length(x);
	const json_t *k;
	if ((k = json_object_get(s, "minLength"))) {
		size_t chars = code_points(str, len);
		if ((double)chars < json_number_value(k)) {
			char got[128];
			describe(x, got, sizeof(got));
			return vfail(v, "%s has %zu characters, fewer than minLength %.0f", got, chars,
				     json_number_value(k));
		}
	}
	if ((k = json_object_get(s, "pattern"))) {
		regex_t re;
		char err[256];
		if (regex_compile(&re, json_string_value(k), err, sizeof(err)) < 0)
			return vfail(v, "pattern \"%s\" does not compile: %s", json_string_value(k), err);
		int ok = regex_search(&re, str, len);
		regfree(&re);
		if (!ok) {
			char got[128];
			describe(x, got, sizeof(got));
			return vfail(v, "%s does not match pattern %s", got, json_string_value(k));
		}
	}
	return 0;
}

static int validate_array(validator *v, const json_t *s, const json_t *x)
{
	size_t n = json_array_size(x);
	const json_t *k;
	if ((k = json_object_get(s, "minItems")) && (double)n < json_number_value(k))
		return vfail(v, "%zu items, fewer than minItems %.0f", n, json_number_value(k));
	if ((k = json_object_get(s, "maxItems")) && (double)n > json_number_value(k))
		return vfail(v, "%zu items, more than maxItems %.0f", n, json_number_value(k));
	const json_t *prefix = json_object_get(s, "prefixItems"), *items = json_object_get(s, "items");
	size_t n_prefix = json_array_size(prefix); /* 0 when absent */
	for (size_t i = 0; i < n; i++) {
		const json_t *sub = i < n_prefix ? json_array_get(prefix, i) : items;
		if (!sub)
			break;
		size_t old = ptr_push_index(&v->where, i);
		int rc = json_is_false(sub) && i >= n_prefix
				 ? vfail(v, "item not allowed ('items' is false after %zu prefixItems)", n_prefix)
				 : validate(v, sub, json_array_get(x, i));
		if (rc < 0)
			return rc;
		ptr_cut(&v->where, old);
	}
	return 0;
}

static int validate_object(validator *v, const json_t *s, const json_t *x)
{
	const json_t *required = json_object_get(s, "required");
	size_t i;
	json_t *name;
	json_array_foreach(required, i, name) {
		if (json_object_get(x, json_string_value(name)))
			continue;
		ptr_push_key(&v->where, json_string_value(name));
		return vfail(v, "required property is missing");
	}
	const json_t *props = json_object_get(s, "properties"), *patterns = json_object_get(s, "patternProperties"),
		     *additional = json_object_get(s, "additionalProperties");
	if (!props && !patterns && !additional)
		return 0;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)x, key, val) {
		size_t old = ptr_push_key(&v->where, key);
		int matched = 0, rc = 0;
		const json_t *sub = json_object_get(props, key);
		if (sub) {
			matched = 1;
			rc = validate(v, sub, val);
		}
		const char *pattern;
		json_t *psub;
		json_object_foreach((json_t *)patterns, pattern, psub) {
			if (rc < 0)
				break;
			regex_t re;
			char err[256];
			if (regex_compile(&re, pattern, err, sizeof(err)) < 0)
				return vfail(v, "pattern \"%s\" does not compile: %s", pattern, err);
			int hit = regex_search(&re, key, strlen(key));
			regfree(&re);
			if (hit) {
				matched = 1;
				rc = validate(v, psub, val);
			}
		}
		if (rc == 0 && !matched && additional)
			rc = json_is_false(additional) ? vfail(v, "property not allowed (additionalProperties is false)")
						       : validate(v, additional, val);
		if (rc < 0)
			return rc;
		ptr_cut(&v->where, old);
	}
	return 0;
}

static int validate_keywords(validator *v, const json_t *s, const json_t *x)
{
	const json_t *k;
	int rc;
	/* 2020-12: "$ref" is one applicator among its siblings, so both apply. */
	if ((k = json_object_get(s, "$ref"))) {
		rc = validate(v, json_object_get(v->defs, ref_name(json_string_value(k))), x);
		if (rc < 0)
			return rc;
	}
	if ((k = json_object_get(s, "type")) && (rc = validate_type(v, k, x)) < 0)
		return rc;
	if ((k = json_object_get(s, "const")) && !values_equal(k, x)) {
		char got[128], want[128];
		describe(x, got, sizeof(got));
		describe(k, want, sizeof(want));
		return vfail(v, "%s is not the constant %s", got, want);
	}
	if ((k = json_object_get(s, "enum")) && (rc = validate_enum(v, k, x)) < 0)
		return rc;
	if (json_is_number(x))
		return validate_number(v, s, x);
	if (json_is_string(x))
		return validate_string(v, s, x);
	if (json_is_array(x))
		return validate_array(v, s, x);
	if (json_is_object(x))
		return validate_object(v, s, x);
	return 0;
}

static int validate(validator *v, const json_t *s, const json_t *x)
{
	if (json_is_true(s))
		return 0;
	if (json_is_false(s))
		return vfail(v, "no value is allowed here (schema false)");
	if (v->depth >= MAX_DEPTH)
		return vfail(v, "schemas nested deeper than %d (a $ref cycle?)", MAX_DEPTH);
	v->depth++;
	int rc = validate_keywords(v, s, x);
	v->depth--;
	return rc;
}

int rbr_jsonschema_validate(const json_t *schema, const json_t *doc, rbe_error *e)
{
	int rc = rbr_jsonschema_check(schema, e);
	if (rc < 0)
		return rc;
	if (!doc)
		return rbe_fail(e, -EINVAL, "(root): no document");
	validator v = {.defs = json_is_object(schema) ? json_object_get(schema, "$defs") : NULL, .e = e};
	rc = validate(&v, schema, doc);
	free(v.where.s);
	return rc;
}
