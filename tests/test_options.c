/* test_options.c — the table-driven option layer (core/lib/options.c): values, ranges, errors
 * naming the option, repeats, operands, and --help printed from the table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/options.h"

/* Everything one table can fill. */
typedef struct vals {
	int json, quiet;
	const char *output, *name;
	uint32_t count;
	uint64_t seed;
	double fraction, budget;
	rbe_opt_list dirs;
	char called[64];
} vals;

static int upper_only(const rbe_opt *o, const char *arg, rbe_error *e)
{
	vals *v = o->dest;
	for (const char *p = arg; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return rbe_fail(e, -EINVAL, "'%s' is not all capitals", arg);
	snprintf(v->called, sizeof(v->called), "%s", arg);
	return 0;
}

/* The table over v, written into t (room for 12). */
static void table(vals *v, rbe_opt *t)
{
	rbe_opt opts[] = {
		RBE_OPT_FLAG("json", 0, &v->json, "print JSON"),
		RBE_OPT_FLAG("quiet", 'q', &v->quiet, "say nothing"),
		RBE_OPT_STRING("output", 'o', &v->output, "FILE", "write to FILE"),
		RBE_OPT_UINT("count", 'n', &v->count, 1, 100, "N", "how many\nat most 100"),
		RBE_OPT_UINT("seed", 0, &v->seed, 0, UINT64_MAX, "S", "random seed"),
		RBE_OPT_DOUBLE("fraction", 0, &v->fraction, 0, 1, RBE_OPT_OPEN_LO | RBE_OPT_OPEN_HI, "F", "a share"),
		RBE_OPT_DOUBLE("budget", 0, &v->budget, 0, INFINITY, 0, "USD", "what it may cost"),
		RBE_OPT_LIST("dir", 0, &v->dirs, "DIR", "search DIR (repeatable)"),
		RBE_OPT_CALL("set", 0, upper_only, v, "WORD", "a word in capitals"),
		RBE_OPT_STRING("a-rather-long-option-name", 0, &v->name, "VALUE", "pushed past the column"),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	memcpy(t, opts, sizeof(opts));
}

typedef struct parsed {
	int rc, first;
	rbe_error e;
} parsed;

/* Parse args (NULL-terminated, without the command name) against a fresh table over v. */
static parsed parse(vals *v, rbe_opt *t, const char *const *args)
{
	static char *argv[32];
	int argc = 0;
	argv[argc++] = "test";
	for (size_t k = 0; args[k]; k++)
		argv[argc++] = (char *)args[k];
	argv[argc] = NULL;
	table(v, t);
	parsed p = {.first = -1};
	p.rc = rbe_opts_parse(t, argc, argv, &p.first, &p.e);
	return p;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(options, values_reach_their_destinations)
{
	vals v = {.count = 7, .fraction = 0.5};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("in.txt", "--json", "-q", "-o", "out", "--count=42", "--seed", "18446744073709551615",
				     "--fraction", "0.25", "--budget", "1e-3", "--set", "ABC", "more"));
	cr_assert_eq(p.rc, 0, "%s", p.e.msg);
	cr_assert_eq(v.json, 1);
	cr_assert_eq(v.quiet, 1);
	cr_assert_str_eq(v.output, "out");
	cr_assert_eq(v.count, 42);
	cr_assert_eq(v.seed, UINT64_MAX);
	cr_assert_float_eq(v.fraction, 0.25, 0);
	cr_assert_float_eq(v.budget, 1e-3, 0);
	cr_assert_str_eq(v.called, "ABC");
	cr_assert_null(v.name, "an option not given leaves its destination alone");
	cr_assert_eq(rbe_opts_given(t, "count"), 1);
	cr_assert_eq(rbe_opts_given(t, "a-rather-long-option-name"), 0);
	cr_assert_eq(rbe_opts_given(t, "no-such-option"), 0);
}

Test(options, operands_mix_with_options_and_double_dash_ends_them)
{
	vals v = {0};
	rbe_opt t[12];
	char *argv[] = {"test", "a", "--json", "b", "--", "--quiet", "-", NULL};
	table(&v, t);
	int first = -1;
	rbe_error e = {0};
	cr_assert_eq(rbe_opts_parse(t, 7, argv, &first, &e), 0, "%s", e.msg);
	cr_assert_eq(v.json, 1);
	cr_assert_eq(v.quiet, 0, "--quiet after -- is an operand");
	cr_assert_eq(7 - first, 4);
	cr_assert_str_eq(argv[first], "a");
	cr_assert_str_eq(argv[first + 1], "b");
	cr_assert_str_eq(argv[first + 2], "--quiet");
	cr_assert_str_eq(argv[first + 3], "-");
}

Test(options, bad_whole_numbers_name_the_option_and_the_range)
{
	static const char *const bad[] = {"abc", "-5", "1x", "", " 3", "+3", "3.0", "99999999999999999999999"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		vals v = {.count = 7};
		rbe_opt t[12];
		parsed p = parse(&v, t, ARGS("--count", bad[k]));
		cr_assert_eq(p.rc, -EINVAL, "'%s'", bad[k]);
		char want[128];
		snprintf(want, sizeof(want), "--count: '%s' is not a whole number between 1 and 100", bad[k]);
		cr_assert_str_eq(p.e.msg, want);
		cr_assert_eq(v.count, 7, "a refused value is not stored");
	}
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("-n", "x"));
	cr_assert_str_eq(p.e.msg, "--count: 'x' is not a whole number between 1 and 100", "a letter is named by its long name");
	p = parse(&v, t, ARGS("--seed", "18446744073709551616"));
	cr_assert_str_eq(p.e.msg, "--seed: '18446744073709551616' is not a whole number between 0 and 18446744073709551615");
}

Test(options, numbers_out_of_range_are_refused)
{
	static const struct {
		const char *opt, *value, *msg;
	} cases[] = {
		{"--count", "0", "--count: '0' is not a whole number between 1 and 100"},
		{"--count", "101", "--count: '101' is not a whole number between 1 and 100"},
		{"--fraction", "0", "--fraction: '0' is not a number strictly between 0 and 1"},
		{"--fraction", "1", "--fraction: '1' is not a number strictly between 0 and 1"},
		{"--fraction", "1.5", "--fraction: '1.5' is not a number strictly between 0 and 1"},
		{"--fraction", "nan", "--fraction: 'nan' is not a number strictly between 0 and 1"},
		{"--fraction", "0.5x", "--fraction: '0.5x' is not a number strictly between 0 and 1"},
		{"--budget", "-0.01", "--budget: '-0.01' is not a number >= 0"},
		{"--budget", "inf", "--budget: 'inf' is not a number >= 0"},
		{"--budget", "", "--budget: '' is not a number >= 0"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		vals v = {.count = 7, .fraction = 0.5, .budget = 2};
		rbe_opt t[12];
		parsed p = parse(&v, t, ARGS(cases[k].opt, cases[k].value));
		cr_assert_eq(p.rc, -EINVAL, "case %zu", k);
		cr_assert_str_eq(p.e.msg, cases[k].msg, "case %zu", k);
		cr_assert(v.count == 7 && v.fraction == 0.5 && v.budget == 2, "case %zu stored a refused value", k);
	}
	/* The ends that are allowed are. */
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("--count", "100", "--budget", "0", "--fraction", "0.999"));
	cr_assert_eq(p.rc, 0, "%s", p.e.msg);
	cr_assert_eq(v.count, 100);
	cr_assert_float_eq(v.budget, 0, 0);
}

Test(options, mixed_interval_and_checks_after_parsing_read_alike)
{
	rbe_error e = {0};
	double d = 7;
	cr_assert_eq(rbe_opt_parse_double("--p", "0", 0, 1, RBE_OPT_OPEN_LO, &d, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "--p: '0' is not a number in (0, 1]");
	cr_assert_eq(rbe_opt_parse_double("--p", "1", 0, 1, RBE_OPT_OPEN_LO, &d, &e), 0);
	cr_assert_float_eq(d, 1, 0);
	cr_assert_eq(rbe_opt_parse_double("--p", "0", 0, 1, 0, &d, &e), 0);
	cr_assert_eq(rbe_opt_parse_double("--p", "-1", 0, 1, 0, &d, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "--p: '-1' is not a number between 0 and 1");
	cr_assert_eq(rbe_opt_parse_double("--p", "0", 0, INFINITY, RBE_OPT_OPEN_LO, &d, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "--p: '0' is not a number > 0");
	uint64_t u = 5;
	cr_assert_eq(rbe_opt_parse_uint("--dim", "8", 16, 4096, &u, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "--dim: '8' is not a whole number between 16 and 4096");
	cr_assert_eq(u, 5);
	cr_assert_eq(rbe_opt_parse_uint("--dim", "4096", 16, 4096, &u, &e), 0);
	cr_assert_eq(u, 4096);
}

Test(options, missing_values_are_named_as_typed)
{
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("--output"));
	cr_assert_eq(p.rc, -EINVAL);
	cr_assert_str_eq(p.e.msg, "option --output needs a value");
	p = parse(&v, t, ARGS("--json", "-o"));
	cr_assert_eq(p.rc, -EINVAL);
	cr_assert_str_eq(p.e.msg, "option -o needs a value");
	p = parse(&v, t, ARGS("-qn"));
	cr_assert_str_eq(p.e.msg, "option -n needs a value");
	/* A value that looks like an option is still the value. */
	vals w = {0};
	p = parse(&w, t, ARGS("--output", "--json"));
	cr_assert_eq(p.rc, 0, "%s", p.e.msg);
	cr_assert_str_eq(w.output, "--json");
	cr_assert_eq(w.json, 0);
}

Test(options, unknown_ambiguous_and_valued_flags_are_refused)
{
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("--frobnicate"));
	cr_assert_eq(p.rc, -ENOENT);
	cr_assert_str_eq(p.e.msg, "unknown option '--frobnicate'");
	p = parse(&v, t, ARGS("--frob=1"));
	cr_assert_eq(p.rc, -ENOENT);
	cr_assert_str_eq(p.e.msg, "unknown option '--frob'");
	p = parse(&v, t, ARGS("-x"));
	cr_assert_eq(p.rc, -ENOENT);
	cr_assert_str_eq(p.e.msg, "unknown option '-x'");
	p = parse(&v, t, ARGS("-qx"));
	cr_assert_str_eq(p.e.msg, "unknown option '-x'", "the letter, not the cluster");
	p = parse(&v, t, ARGS("--s", "1"));
	cr_assert_eq(p.rc, -ENOENT);
	cr_assert_str_eq(p.e.msg, "option '--s' is ambiguous (--seed, --set)");
	p = parse(&v, t, ARGS("--json=yes"));
	cr_assert_eq(p.rc, -EINVAL);
	cr_assert_str_eq(p.e.msg, "option --json takes no value");
	/* An unambiguous prefix is the option. */
	p = parse(&v, t, ARGS("--se", "3"));
	cr_assert_eq(p.rc, -ENOENT, "--se is still both --seed and --set");
	p = parse(&v, t, ARGS("--fra", "0.5"));
	cr_assert_eq(p.rc, 0, "%s", p.e.msg);
	cr_assert_float_eq(v.fraction, 0.5, 0);
}

Test(options, callbacks_errors_get_the_option_name)
{
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("--set", "abc"));
	cr_assert_eq(p.rc, -EINVAL);
	cr_assert_str_eq(p.e.msg, "--set: 'abc' is not all capitals");
	cr_assert_str_empty(v.called);
}

Test(options, repeated_options)
{
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("-o", "first", "--dir", "a", "--count", "3", "--output=second", "--dir=b", "--count",
				     "4", "--json", "--json", "--dir", "c"));
	cr_assert_eq(p.rc, 0, "%s", p.e.msg);
	cr_assert_str_eq(v.output, "second", "the last value of a single option wins");
	cr_assert_eq(v.count, 4);
	cr_assert_eq(v.json, 1);
	cr_assert_eq(rbe_opts_given(t, "output"), 2);
	cr_assert_eq(rbe_opts_given(t, "json"), 2);
	cr_assert_eq(v.dirs.n, 3, "a list keeps every value");
	cr_assert_str_eq(v.dirs.items[0], "a");
	cr_assert_str_eq(v.dirs.items[1], "b");
	cr_assert_str_eq(v.dirs.items[2], "c");
	cr_assert_null(v.dirs.items[3], "NULL-terminated");
	rbe_opt_list_clear(&v.dirs);
	cr_assert(v.dirs.n == 0 && !v.dirs.items);

	/* A second parse in the same process starts afresh: counts and getopt's position. */
	vals w = {0};
	p = parse(&w, t, ARGS("--json"));
	cr_assert_eq(p.rc, 0);
	cr_assert_eq(rbe_opts_given(t, "output"), 0);
	cr_assert_eq(p.first, 2);
}

Test(options, help_stops_parsing)
{
	vals v = {0};
	rbe_opt t[12];
	parsed p = parse(&v, t, ARGS("--json", "--help", "--frobnicate"));
	cr_assert_eq(p.rc, RBE_OPTS_HELP);
	p = parse(&v, t, ARGS("-h"));
	cr_assert_eq(p.rc, RBE_OPTS_HELP);
}

Test(options, help_is_printed_from_the_table)
{
	vals v = {0};
	rbe_opt t[12];
	table(&v, t);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	rbe_opts_help(f, t);
	fclose(f);
	/* The column is two past the longest left part (-o, --output FILE); the one too long for
	 * any column keeps two spaces. */
	const char *want =
		"      --json         print JSON\n"
		"  -q, --quiet        say nothing\n"
		"  -o, --output FILE  write to FILE\n"
		"  -n, --count N      how many\n"
		"                     at most 100\n"
		"      --seed S       random seed\n"
		"      --fraction F   a share\n"
		"      --budget USD   what it may cost\n"
		"      --dir DIR      search DIR (repeatable)\n"
		"      --set WORD     a word in capitals\n"
		"      --a-rather-long-option-name VALUE  pushed past the column\n"
		"  -h, --help         this text\n";
	cr_assert_str_eq(text, want);
	/* Every option of the table is listed. */
	for (const rbe_opt *o = t; o->name; o++) {
		char name[64];
		snprintf(name, sizeof(name), "--%s", o->name);
		cr_assert(strstr(text, name), "%s missing", name);
	}
	free(text);
}
