/* options.h — table-driven command-line options: one table parses argv, checks values, and prints --help. */
#ifndef RBE_OPTIONS_H
#define RBE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/util.h"

/* What an option's argument is, and what dest points at. */
typedef enum rbe_arg_kind {
	RBE_ARG_FLAG = 1, /* no argument; int *dest = 1 */
	RBE_ARG_STRING,   /* const char **dest = the argument (borrowed from argv); the last one wins */
	RBE_ARG_UINT,     /* uint32_t or uint64_t *dest (size says which): a whole number in [min, max] */
	RBE_ARG_DOUBLE,   /* double *dest: a finite number within lo..hi (flags: open ends; hi may be INFINITY) */
	RBE_ARG_LIST,     /* rbe_opt_list *dest: every occurrence appended (a repeatable option) */
	RBE_ARG_CALL,     /* fn(opt, argument, e): the option's own syntax; dest is fn's context */
	RBE_ARG_HELP,     /* no argument; parsing stops and reports RBE_OPTS_HELP */
} rbe_arg_kind;

#define RBE_OPT_OPEN_LO 1u /* DOUBLE: lo itself is refused */
#define RBE_OPT_OPEN_HI 2u /* DOUBLE: hi itself is refused */

struct rbe_opt;
/* A CALL option's handler: 0, or -errno with e saying what is wrong with arg (the parser puts
 * "--NAME: " in front). */
typedef int (*rbe_opt_fn)(const struct rbe_opt *o, const char *arg, rbe_error *e);

/* One option. Tables end with RBE_OPT_END; they are built where the destinations live (usually
 * on the stack of a main), with the RBE_OPT_* macros below. */
typedef struct rbe_opt {
	const char *name;     /* long name without "--"; NULL for a short-only option */
	char short_name;      /* 0 for none */
	rbe_arg_kind kind;
	void *dest;           /* borrowed: where the value goes (see the kinds) */
	size_t size;          /* UINT: sizeof(*dest), 4 or 8 */
	uint64_t min, max;    /* UINT */
	double lo, hi;        /* DOUBLE */
	unsigned flags;       /* DOUBLE: RBE_OPT_OPEN_LO, RBE_OPT_OPEN_HI */
	rbe_opt_fn fn;        /* CALL */
	const char *metavar;  /* the argument's name in --help ("FILE"); NULL for no argument */
	const char *help;     /* --help text; '\n' starts another line in the same column */
	unsigned given;       /* out: how often the option was given */
} rbe_opt;

/* A repeatable string option's values, in order; items is NULL-terminated (or NULL while
 * empty) and borrows the strings from argv. The array is owned: rbe_opt_list_clear. */
typedef struct rbe_opt_list {
	const char **items;
	size_t n;
} rbe_opt_list;
void rbe_opt_list_clear(rbe_opt_list *l);

/* The pointer-type checks make a destination of the wrong type a compile error; UINT's
 * destination must be an unsigned type of 4 or 8 bytes. */
#define RBE_OPT_UINT_SIZE(d)                                                                       \
	sizeof(char[((__typeof__(*(d)))-1 > 0 && (sizeof(*(d)) == 4 || sizeof(*(d)) == 8)) ? sizeof(*(d)) : -1])
#define RBE_OPT_FLAG(l, s, d, h)                                                                   \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_FLAG, .dest = (1 ? (d) : (int *)0), .help = (h) }
#define RBE_OPT_STRING(l, s, d, m, h)                                                              \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_STRING, .dest = (1 ? (d) : (const char **)0), \
	  .metavar = (m), .help = (h) }
#define RBE_OPT_UINT(l, s, d, lo_, hi_, m, h)                                                      \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_UINT, .dest = (d), .size = RBE_OPT_UINT_SIZE(d), \
	  .min = (lo_), .max = (hi_), .metavar = (m), .help = (h) }
#define RBE_OPT_DOUBLE(l, s, d, lo_, hi_, f, m, h)                                                 \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_DOUBLE, .dest = (1 ? (d) : (double *)0),    \
	  .lo = (lo_), .hi = (hi_), .flags = (f), .metavar = (m), .help = (h) }
#define RBE_OPT_LIST(l, s, d, m, h)                                                                \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_LIST, .dest = (1 ? (d) : (rbe_opt_list *)0), \
	  .metavar = (m), .help = (h) }
#define RBE_OPT_CALL(l, s, f, ctx, m, h)                                                           \
	{ .name = (l), .short_name = (s), .kind = RBE_ARG_CALL, .fn = (f), .dest = (ctx), .metavar = (m), \
	  .help = (h) }
#define RBE_OPT_HELP { .name = "help", .short_name = 'h', .kind = RBE_ARG_HELP, .help = "this text" }
#define RBE_OPT_END { .name = NULL }

#define RBE_OPTS_HELP 1 /* rbe_opts_parse: --help was given */

/* Parse argv[1..argc) against opts (GNU getopt_long underneath: options and operands may mix,
 * "--" ends the options, unambiguous prefixes of long names are accepted). Fills the
 * destinations and counts each option's given. Returns 0 with *first the index of the first
 * operand (the operands are then argv[*first..argc), in their order); RBE_OPTS_HELP as soon as
 * --help comes; -ENOENT for an option the table lacks ("unknown option '--frob'", or an ambiguous
 * prefix); or -EINVAL with e naming the option and the problem ("--seed: 'x' is not a whole
 * number between 0 and 4294967295", "option -o needs a value", "option --json takes no value").
 * After a failure some destinations may already be set. Not reentrant (getopt's globals). */
int rbe_opts_parse(rbe_opt *opts, int argc, char **argv, int *first, rbe_error *e);

/* The options part of --help, from the table: "  -o, --output FILE   help", help aligned in one
 * column. */
void rbe_opts_help(FILE *out, const rbe_opt *opts);

/* How often the option with this long name was given (0 when there is none in the table). */
unsigned rbe_opts_given(const rbe_opt *opts, const char *name);

/* The number checks the parser makes, for values checked after parsing (a range that depends
 * on another option): text as a whole number in [min, max], or a finite number within lo..hi
 * (RBE_OPT_OPEN_* flags). 0, or -EINVAL with e worded as the parser words it for opt, the
 * option as named ("--dim: '8' is not a whole number between 16 and 4096"). *out is untouched on failure. */
int rbe_opt_parse_uint(const char *opt, const char *text, uint64_t min, uint64_t max, uint64_t *out, rbe_error *e);
int rbe_opt_parse_double(const char *opt, const char *text, double lo, double hi, unsigned flags, double *out,
			 rbe_error *e);

#endif
