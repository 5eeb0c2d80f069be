/* params.h — validating a job's key=value settings against a router's declared schema. */
#ifndef RBD_PARAMS_H
#define RBD_PARAMS_H

#include <jansson.h>

#include "dataset.h"
#include "plugin.h"

typedef struct rbd_params {
	uint32_t n;
	rb_param_value *values; /* [n] in schema order; strings and lists owned here */
	json_t *echo;           /* {name: value} of every parameter, defaults included (owned ref) */
} rbd_params;

/* settings: n "name=value" strings. Unknown names, bad types, out-of-range values, unknown model
 * names and missing required parameters are refused with a message naming the parameter. */
int rbd_params_parse(const rbd_plugin *p, const rbd_dataset *ds, const char *const *settings, size_t n,
		     rbd_params **out, rbd_error *e);
void rbd_params_free(rbd_params *params);

/* Parse "a,b,c" into doubles (owned *out). */
int rbd_parse_real_list(const char *text, double **out, size_t *len, rbd_error *e);

#endif
