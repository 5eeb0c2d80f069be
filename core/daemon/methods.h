/* methods.h — rbd's methods, declared once: name, handler, the parameters each takes and who may
 * call it. Dispatch reads this table, and a test holds docs/protocol.md to it. */
#ifndef RBD_METHODS_H
#define RBD_METHODS_H

#include <jansson.h>
#include <stddef.h>

/* Who may call a method; docs/protocol.md says it on each method's "Caller:" line. */
typedef enum rbd_caller {
	RBD_CALLER_ANYONE, /* "anyone": also a caller in no team */
	RBD_CALLER_TEAM,   /* "team member or administrator" */
	RBD_CALLER_MEMBER, /* "team member": the call acts for the caller's team */
	RBD_CALLER_ADMIN,  /* "administrator" */
} rbd_caller;

struct rbd_conn;

typedef struct rbd_method {
	const char *name; /* "io.routerbench.v1.Submit" */
	/* Runs after the caller and the parameter names have passed this entry's checks. */
	void (*handler)(struct rbd_conn *c, const json_t *params, int more);
	const char *const *params; /* the parameters it takes, NULL-terminated; others are refused */
	rbd_caller caller;
} rbd_method;

/* The table (static; *n its length). */
const rbd_method *rbd_methods(size_t *n);

#endif
