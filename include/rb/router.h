/* rb/router.h — the router plugin ABI: what a router .so exports and what the host hands it. */
#ifndef RB_ROUTER_H
#define RB_ROUTER_H

#include <errno.h> /* errors are negative errno values: return -ENOMEM, -EINVAL, ... */
#include <stddef.h>
#include <stdint.h>

#include "rb/rng.h"
#include "rb/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A router plugin is one shared object exporting one function,
 *
 *     RB_EXPORT const rb_router *rb_router_entry_v1(void);
 *
 * returning a pointer to a static, const descriptor that starts with RB_ABI_STAMP. Write it with
 * RB_ROUTER_DEFINE (end of this file), which declares both. The entry's name carries the ABI
 * major, so a later host can still find and load a 1.x plugin beside 2.x ones; hosts also accept
 * the unversioned rb_router_entry of plugins built against 1.0 and 1.1 headers.
 *
 * The host checks the stamp before touching anything else. Structs in this file only ever grow
 * by appending fields; each side reads a field only when the other side's declared size covers
 * it and its ABI minor has it. Fields are fixed-width integers, never enums, so their size does
 * not depend on the compiler; the enums below only name values.
 *
 * Errors: a function returning int returns 0 or a negative errno value, written -ENOMEM,
 * -EINVAL, -EIO (<errno.h> is included here), never a bare number.
 *
 * Threads: the host calls create, predict, n_points, describe_point, decide, distribution and
 * destroy of one state from one thread at a time. A router may start threads of its own inside
 * predict (at most host->threads in all) and must join them before predict returns.
 *
 * The host computes every metric. A router only decides (policy kind) or predicts qualities
 * (predictive kind); it never reports its own cost or quality.
 */

#define RB_EXPORT __attribute__((visibility("default")))
#define RB_ROUTER_ENTRY_SYMBOL "rb_router_entry_v1"     /* what RB_ROUTER_DEFINE exports */
#define RB_ROUTER_ENTRY_SYMBOL_LEGACY "rb_router_entry" /* ABI 1.0 and 1.1 plugins */
#define RB_ROUTER_MAGIC 0x54524252u /* "RBRT" in little-endian memory */

typedef struct rb_abi_stamp {
	uint32_t magic;           /* RB_ROUTER_MAGIC */
	uint16_t abi_major;       /* RB_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;       /* RB_ABI_MINOR the plugin was built with */
	uint16_t pointer_size;    /* sizeof(void *) */
	uint16_t stamp_size;      /* sizeof(rb_abi_stamp) */
	uint32_t router_size;     /* sizeof(rb_router) as the plugin saw it */
	uint32_t host_api_size;   /* sizeof(rb_host_api) as the plugin saw it */
	uint32_t view_size;       /* sizeof(rb_view) as the plugin saw it */
	uint32_t param_spec_size; /* sizeof(rb_param_spec) as the plugin saw it */
} rb_abi_stamp;

/* Values of rb_router.kind. */
typedef enum rb_router_kind {
	/* fit(train) once, then predict q̂ (and optionally ĉ) for every test prompt; the host
	 * sweeps the willingness-to-pay λ and picks argmax_j λ·q̂_ij − ĉ_ij itself. */
	RB_ROUTER_PREDICTIVE = 1,
	/* decide(prompt, operating point, caller) → model, at each of the router's points. */
	RB_ROUTER_POLICY = 2,
} rb_router_kind;

/* Values of rb_param_spec.type and rb_param_value.type. */
typedef enum rb_param_type {
	RB_PARAM_INT = 1,   /* value.i */
	RB_PARAM_REAL,      /* value.r */
	RB_PARAM_BOOL,      /* value.i: 0 or 1; text true/false/1/0/yes/no */
	RB_PARAM_STRING,    /* value.s */
	RB_PARAM_MODEL,     /* a model name of the dataset: value.s its name, value.model its index */
	RB_PARAM_REAL_LIST, /* comma-separated reals: value.list, value.list_len */
} rb_param_type;

/* Bits of rb_param_spec.flags (ABI 1.2). */
enum rb_param_flags {
	RB_PARAM_HAS_MIN = 1u << 0, /* min is an inclusive lower bound */
	RB_PARAM_HAS_MAX = 1u << 1, /* max is an inclusive upper bound */
};

/* One declared parameter. The host rejects unknown names, bad types and out-of-range values
 * before the router is created, and refuses at load a plugin whose default is not a valid
 * value of its own parameter. */
typedef struct rb_param_spec {
	const char *name;
	uint32_t type;             /* RB_PARAM_* */
	const char *default_value; /* as typed after --set name=; NULL means the parameter is required */
	double min, max;           /* inclusive bounds for INT, REAL and each REAL_LIST item, each one
				    * only when flags says so (RB_PARAM_BOUNDS and friends set both) */
	const char *help;
	/* ABI 1.2: RB_PARAM_HAS_MIN / RB_PARAM_HAS_MAX; 0 means no bounds. Plugins built against
	 * older headers have no flags: their bounds hold when min <= max, none when min > max. */
	uint32_t flags;
} rb_param_spec;

/* Designated-initializer pieces for a spec's bounds: {.name = "k", .type = RB_PARAM_INT,
 * .default_value = "10", RB_PARAM_BOUNDS(1, 100), .help = "..."}. */
#define RB_PARAM_BOUNDS(lo, hi) .min = (lo), .max = (hi), .flags = RB_PARAM_HAS_MIN | RB_PARAM_HAS_MAX
#define RB_PARAM_AT_LEAST(lo) .min = (lo), .flags = RB_PARAM_HAS_MIN
#define RB_PARAM_AT_MOST(hi) .max = (hi), .flags = RB_PARAM_HAS_MAX

/* A validated parameter value, handed to create() in the order of the schema. The host lays
 * the array out with the plugin's rb_router.param_value_size as its stride. */
typedef struct rb_param_value {
	uint32_t type; /* RB_PARAM_* */
	int64_t i;
	double r;
	const char *s;
	uint32_t model;
	const double *list;
	size_t list_len;
} rb_param_value;

/*
 * A read-only view of some prompts (borrowed: valid until the call it was passed to returns,
 * or for the train view, until destroy()). Row i of a matrix is [i * n_models, (i+1) * n_models).
 * A query view (test prompts) has quality == NULL and cost == NULL: routers never see test
 * outcomes except through rb_host_api.call() in a policy router.
 */
typedef struct rb_view {
	size_t n;                       /* prompts in the view */
	uint32_t n_models;
	const char *const *model_names; /* [n_models], dataset order (the order that breaks ties) */
	const char *const *sample_ids;  /* [n] */
	const char *const *prompts;     /* [n] decoded prompt text */
	const char *const *tasks;       /* [n] eval_name of each prompt */
	const float *quality;           /* [n * n_models] in 0..1, or NULL */
	const double *cost;             /* [n * n_models] USD, or NULL */
	const uint32_t *prompt_tokens;  /* [n] or NULL when the dataset has no token counts */
	uint32_t feature_dim;           /* 0 when the dataset has no features */
	const float *features;          /* [n * feature_dim] or NULL */
	const char *feature_name;       /* what the features are, or NULL */
} rb_view;

typedef struct rb_caller rb_caller; /* opaque: the host's record of one decision in progress */

enum rb_log_level { RB_LOG_ERROR = 0, RB_LOG_WARNING = 1, RB_LOG_INFO = 2, RB_LOG_DEBUG = 3 };

/* Services the host offers; plugins link against nothing of the host. */
typedef struct rb_host_api {
	uint32_t size; /* sizeof(rb_host_api) as the host built it; check before reading newer fields */
	uint32_t abi_minor;
	/* One line to the host's log (standard error), level an rb_log_level. Thread-safe: any
	 * thread may call it, including threads the router starts, from create until destroy
	 * returns; concurrent lines do not interleave. */
	void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Policy routers only: "call" model j on the prompt being decided. The host charges that
	 * model's recorded cost (once per model per decision) and returns its recorded quality,
	 * or a negative value when j is out of range. Only from inside decide(), on the thread that
	 * runs it, with the caller decide() was given. */
	double (*call)(rb_caller *caller, uint32_t model);
	/* How many threads predict() may use (the host's CPU budget for this job). */
	uint32_t threads;
} rb_host_api;

/* Everything create() gets. Borrowed for the call; train and host stay valid until destroy(). */
typedef struct rb_create_args {
	uint32_t size;                /* sizeof(rb_create_args) as the host built it */
	const rb_host_api *host;
	const rb_param_value *params; /* [router->n_params], schema order, defaults filled in; the
				       * stride is the router's param_value_size */
	const rb_view *train;         /* the training prompts, with quality and cost */
	uint64_t seed;                /* seed this router's randomness from it (rb_rng_seed) */
	const char *task;             /* task group being evaluated */
} rb_create_args;

typedef struct rb_router {
	rb_abi_stamp stamp;
	const char *name;    /* [a-z0-9_-]+, unique in a plugin directory */
	const char *version; /* free text, recorded in results */
	const char *summary; /* one line for `rbctl routers` */
	uint32_t kind;       /* RB_ROUTER_PREDICTIVE or RB_ROUTER_POLICY */
	const rb_param_spec *params;
	uint32_t n_params;

	/* Build the router for one task group. Return 0, or a negative errno with a message in
	 * err (NUL-terminated, at most errlen bytes). *state is owned by the plugin. */
	int (*create)(const rb_create_args *args, void **state, char *err, size_t errlen);
	void (*destroy)(void *state); /* accepts NULL */

	/* Predictive: fill q_hat[i * n_models + j] with the predicted quality of model j on query i.
	 * When the router also predicts costs it fills c_hat likewise and sets *has_cost = 1; else
	 * the host uses each model's mean cost per query on the train view. Return 0 or -errno. */
	int (*predict)(void *state, const rb_view *queries, float *q_hat, double *c_hat, int *has_cost);

	/* Policy: the router's operating points; describe_point writes a JSON object of the
	 * point's settings (e.g. {"budget":0.01}) into buf; decide picks the final model for
	 * query i at the point, calling models through host->call(caller, j) as it likes. */
	uint32_t (*n_points)(void *state);
	int (*describe_point)(void *state, uint32_t point, char *buf, size_t len);
	int (*decide)(void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
		      uint32_t *model);
	/* Optional (may be NULL): the exact probability of each final model at query i, when the
	 * router decides at random; the host then also reports the expected point exactly. */
	int (*distribution)(void *state, const rb_view *queries, size_t i, uint32_t point, double *probs);

	/* ABI 1.1: inputs the router never reads (RB_IGNORES_* bits), so the host need not build
	 * them: a worker then keeps no private copy of, e.g., the train split's feature vectors.
	 * 0 (and every router built against 1.0, whose descriptor ends before this field): all. */
	uint32_t ignores;

	/* ABI 1.2: sizeof(rb_param_value) as the plugin saw it, the stride of create's params
	 * array (RB_ROUTER_DEFINE sets it). 0, and every router built against older headers: the
	 * 1.1 size, which 1.2 did not change. */
	uint32_t param_value_size;
} rb_router;

enum rb_ignores {
	RB_IGNORES_FEATURES = 1u << 0,       /* rb_view.features stays NULL (feature_dim 0) */
	RB_IGNORES_TRAIN_OUTCOMES = 1u << 1, /* the train view's quality and cost stay NULL */
};

/* The size of a 1.0 descriptor: hosts accept it and read ignores only past it. */
#define RB_ROUTER_SIZE_1_0 offsetof(rb_router, ignores)
/* The size of a 1.1 parameter spec: where the fields 1.2 appended begin. */
#define RB_PARAM_SPEC_SIZE_1_1 offsetof(rb_param_spec, flags)

#define RB_ABI_STAMP                                                                               \
	{                                                                                          \
		.magic = RB_ROUTER_MAGIC, .abi_major = RB_ABI_MAJOR, .abi_minor = RB_ABI_MINOR,    \
		.pointer_size = sizeof(void *), .stamp_size = sizeof(rb_abi_stamp),                \
		.router_size = sizeof(rb_router), .host_api_size = sizeof(rb_host_api),            \
		.view_size = sizeof(rb_view), .param_spec_size = sizeof(rb_param_spec),            \
	}

typedef const rb_router *(*rb_router_entry_fn)(void);

/* The symbol a router plugin exports (declared here so its definition is type-checked), and the
 * unversioned one of plugins built against 1.0 and 1.1 headers. */
RB_EXPORT const rb_router *rb_router_entry_v1(void);
RB_EXPORT const rb_router *rb_router_entry(void);

/*
 * The whole descriptor and its entry in one statement, at file scope:
 *
 *     RB_ROUTER_DEFINE("myrouter", .version = "1.0", .summary = "...",
 *                      .kind = RB_ROUTER_POLICY, RB_ROUTER_PARAMS(params),
 *                      .create = my_create, .destroy = my_destroy,
 *                      .n_points = my_n_points, .decide = my_decide)
 *
 * name is the router's name (a string); the rest are the descriptor's other fields, as
 * designated initializers. The stamp and param_value_size are filled in. The descriptor is
 * rb_router_descriptor, should the plugin want it.
 */
#define RB_ROUTER_DEFINE(router_name, ...)                                                         \
	static const rb_router rb_router_descriptor = {                                            \
		.stamp = RB_ABI_STAMP,                                                             \
		.param_value_size = sizeof(rb_param_value),                                        \
		.name = (router_name),                                                             \
		__VA_ARGS__};                                                                      \
	RB_EXPORT const rb_router *rb_router_entry_v1(void)                                        \
	{                                                                                          \
		return &rb_router_descriptor;                                                      \
	}

/* .params and .n_params from a static array of rb_param_spec. */
#define RB_ROUTER_PARAMS(array) .params = (array), .n_params = (uint32_t)(sizeof(array) / sizeof((array)[0]))

#ifdef __cplusplus
}
#endif

#endif
