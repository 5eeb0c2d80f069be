/* params.h — a router's parameter schema, and a job's key=value settings checked against it. */
#ifndef RBE_PARAMS_H
#define RBE_PARAMS_H

#include <jansson.h>

#include "data/dataset.h"
#include "lib/util.h"
#include "rb/router.h"

/* One parameter as the engine knows it, whatever headers the plugin was built with. */
typedef struct rbe_param_def {
	char *name;
	uint32_t type;        /* RB_PARAM_* */
	char *default_value;  /* NULL: required */
	int has_min, has_max; /* inclusive, finite bounds for INT, REAL and each REAL_LIST item */
	double min, max;
	char *help;           /* "" when the plugin gave none */
} rbe_param_def;

/*
 * A router's parameters, described once: built from a loaded plugin's descriptor (its specs
 * read with the plugin's own stride and bounds convention) or from the probe's JSON in rbd,
 * checked by the same code either way (names, types, bounds, defaults), and the one thing
 * rbe_params_parse validates settings against, in rbctl run, rbd and rbd-worker alike.
 */
typedef struct rbe_param_schema {
	char *router;          /* the router's name, for messages */
	uint32_t n;
	rbe_param_def *params; /* [n] in the router's order */
	uint32_t value_stride; /* the plugin's sizeof(rb_param_value): rbe_params.abi_values' stride */
} rbe_param_schema;

/* From a descriptor whose stamp was checked (rbe_plugin_load). Errors name the router and the
 * parameter; the caller adds the file. Owned result: rbe_param_schema_free. */
int rbe_param_schema_from_router(const rb_router *r, rbe_param_schema **out, rbe_error *e);
/* params as rbe_param_schema_json wrote it, for router. Owned result. */
int rbe_param_schema_from_json(const char *router, const json_t *params, rbe_param_schema **out, rbe_error *e);
/* [{"name", "type", "default" (null: required), "min", "max" (null: no bound), "help"}].
 * Owned reference. */
json_t *rbe_param_schema_json(const rbe_param_schema *s);
void rbe_param_schema_free(rbe_param_schema *s); /* accepts NULL */

/* "int", "real", "bool", "string", "model", "real-list", or "?". */
const char *rbe_param_type_name(uint32_t type);

typedef struct rbe_params {
	uint32_t n;
	rb_param_value *values;           /* [n] in schema order, this host's layout: what the host
					   * reads; strings and lists owned here */
	const rb_param_value *abi_values; /* the same values with the plugin's stride: what
					   * rb_create_args.params gets; never index it here */
	void *strided;                    /* owned copy behind abi_values, or NULL when it is values */
	json_t *echo;                     /* {name: value} of every parameter, defaults included (owned ref) */
} rbe_params;

/* settings: n "name=value" strings. Unknown names, bad types, out-of-range values, unknown model
 * names (ds may be NULL: no model is known) and missing required parameters are refused with a
 * message naming the parameter. Owned result: rbe_params_free. */
int rbe_params_parse(const rbe_param_schema *schema, const rbe_dataset *ds, const char *const *settings, size_t n,
		     rbe_params **out, rbe_error *e);
void rbe_params_free(rbe_params *params);

/* Parse "a,b,c" into doubles (owned *out). */
int rbe_parse_real_list(const char *text, double **out, size_t *len, rbe_error *e);

#endif
