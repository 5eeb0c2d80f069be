/* params.h — validating a job's key=value settings against a router's declared schema. */
#ifndef RBE_PARAMS_H
#define RBE_PARAMS_H

#include <jansson.h>

#include "data/dataset.h"
#include "eval/plugin.h"

typedef struct rbe_params {
	uint32_t n;
	rb_param_value *values; /* [n] in schema order; strings and lists owned here */
	json_t *echo;           /* {name: value} of every parameter, defaults included (owned ref) */
} rbe_params;

/* settings: n "name=value" strings. Unknown names, bad types, out-of-range values, unknown model
 * names and missing required parameters are refused with a message naming the parameter. */
int rbe_params_parse(const rbe_plugin *p, const rbe_dataset *ds, const char *const *settings, size_t n,
		     rbe_params **out, rbe_error *e);
void rbe_params_free(rbe_params *params);

/* Parse "a,b,c" into doubles (owned *out). */
int rbe_parse_real_list(const char *text, double **out, size_t *len, rbe_error *e);

#endif
