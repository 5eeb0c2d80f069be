/* test_cli.c — rbctl end to end: usage and exit codes, and the real RouterBench rows imported
 * and evaluated with the paper-exact split (figures checked by tests/tools/realdata_points.py). */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "helpers.h"


Test(cli, usage_and_exit_codes)
{
	cmd_result r = rbctl_cmd((const char *[]){"--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "run"), "%s", r.out);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"frobnicate", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown command 'frobnicate'"));
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "--dataset"));
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--router", "random", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--dataset and --router are required"));
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", "x", "--router", "random", "--seed", "-1", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "rbctl run: --seed: '-1' is not a whole number between 0 and 4294967295"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", "x", "--router", "random", "--train-fraction", "1.5", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--train-fraction: '1.5' is not a number strictly between 0 and 1"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"routers", "--local", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "single") && strstr(r.out, "random"), "%s", r.out);
	cr_assert(strstr(r.out, "--set model=<model>"), "%s", r.out);
	cmd_free(&r);
}

Test(cli, missing_dataset_and_router_are_clear_errors)
{
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", "/nonexistent.rbds", "--router", "random", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "/nonexistent.rbds"), "%s", r.err);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", "/nonexistent.rbds", "--router", "nosuch", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "no router 'nosuch'"), "%s", r.err);
	cmd_free(&r);
}

/* Figures from tests/tools/realdata_points.py (stdlib Python, numpy's own permutations). */
static const struct {
	const char *task, *model;
	double quality, cost_total;
} real_points[] = {
	{"mbpp", "gpt-4-1106-preview", 0.68992248062015504, 1.2060699999999998},
	{"mbpp", "gpt-3.5-turbo-1106", 0.68992248062015504, 0.043247999999999995},
	{"mbpp", "mistralai/mistral-7b-chat", 0.37984496124031009, 0.0062544000000000028},
	{"mbpp", "meta/code-llama-instruct-34b-chat", 0.51937984496124034, 0.020394055999999994},
	{"mbpp", "claude-v2", 0.64341085271317833, 0.74513600000000024},
	{"winogrande", "gpt-4-1106-preview", 0.85564304461942253, 1.3453499999999996},
	{"winogrande", "zero-one-ai/Yi-34B-Chat", 0.7427821522309711, 0.10702080000000003},
	{"winogrande", "claude-v2", 0.47506561679790027, 1.080023999999999},
	{"winogrande", "WizardLM/WizardLM-13B-V1.2", 0.52755905511811019, 0.040141199999999981},
	{"winogrande", "mistralai/mixtral-8x7b-chat", 0.6824146981627297, 0.080490599999999912},
};

Test(cli, real_rows_paper_split_single_gpt4, .timeout = 120)
{
	const char *data = env_or("RB_REAL_DATA_DIR", "../shared/data/routerbench-routerdc");
	char probe[4096];
	snprintf(probe, sizeof(probe), "%s/mbpp_test.csv", data);
	if (access(probe, R_OK) != 0)
		cr_skip_test("real RouterBench rows absent (%s); skipping the real-data evaluation", data);
	char *dir = make_temp_dir(), out[512], files[6][4096];
	const char *names[6] = {"arc_challenge_train", "arc_challenge_test", "mbpp_train",
				"mbpp_test", "winograde_train", "winograde_test"};
	const char *args[16] = {"import"};
	size_t n = 1;
	for (int k = 0; k < 6; k++) {
		snprintf(files[k], sizeof(files[k]), "%s/%s.csv", data, names[k]);
		args[n++] = files[k];
	}
	snprintf(out, sizeof(out), "%s/rb3.rbds", dir);
	args[n++] = "-o";
	args[n++] = out;
	args[n] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "import failed: %s", r.err);
	cmd_free(&r);

	r = rbctl_cmd((const char *[]){"run", "--dataset", out, "--router", "single", "--set", "model=gpt-4-1106-preview",
				   "--json", NULL});
	cr_assert_eq(r.status, 0, "run failed: %s", r.err);
	json_error_t jerr;
	json_t *doc = json_loads(r.out, 0, &jerr);
	cr_assert_not_null(doc, "output is not JSON: %s", jerr.text);
	json_t *tasks = json_object_get(doc, "tasks");
	cr_assert_eq(json_object_size(tasks), 3);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(tasks, "mbpp"), "n_test")), 129);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(tasks, "winogrande"), "n_test")), 381);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(tasks, "arc-challenge"), "n_test")), 441);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "dataset"), "prompts")), 3164);
	for (size_t k = 0; k < sizeof(real_points) / sizeof(real_points[0]); k++) {
		json_t *p = json_object_get(json_object_get(json_object_get(tasks, real_points[k].task), "llms"),
					    real_points[k].model);
		cr_assert_not_null(p, "%s %s", real_points[k].task, real_points[k].model);
		cr_assert_float_eq(json_real_value(json_object_get(p, "quality")), real_points[k].quality, 1e-12,
				   "%s %s quality", real_points[k].task, real_points[k].model);
		cr_assert_float_eq(json_real_value(json_object_get(p, "cost_total")), real_points[k].cost_total, 1e-9,
				   "%s %s cost", real_points[k].task, real_points[k].model);
	}
	/* The router is gpt-4 alone: its point is gpt-4's point on every task. */
	json_t *wg = json_object_get(tasks, "winogrande");
	json_t *pt = json_array_get(json_object_get(json_object_get(wg, "router"), "points"), 0);
	cr_assert_float_eq(json_real_value(json_object_get(pt, "quality")), 0.85564304461942253, 1e-12);
	json_decref(doc);
	cmd_free(&r);
	unlink(out);
	rmdir(dir);
}

#include "data/rbds_format.h"

static uint32_t feature_dim_of(const char *path)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(path, &ds, &e), 0, "%s", e.msg);
	uint32_t dim = ds->feature_dim;
	if (dim)
		cr_assert_str_eq(ds->feature_name, "tfidf");
	rbe_dataset_free(ds);
	return dim;
}

Test(cli, gen_and_import_attach_text_features)
{
	char *dir = make_temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/small.rbds", dir);
	gen_synthetic(path, "2000", "4", "2", NULL, NULL);
	cr_assert_eq(feature_dim_of(path), 0, "no features by default at synthetic scale");
	gen_synthetic(path, "2000", "4", "2", NULL, "tfidf:32");
	cr_assert_eq(feature_dim_of(path), 32);
	cmd_result r = rbctl_cmd((const char *[]){"gen", "--prompts", "2000", "-o", path, "--features", "words", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "--features 'words': expected none, tfidf or tfidf:DIM"), "%s", r.err);
	cmd_free(&r);

	char csv[512];
	snprintf(csv, sizeof(csv), "%s/tiny.csv", dir);
	FILE *f = fopen(csv, "w");
	fputs("sample_id,prompt,eval_name,a,a|model_response,a|total_cost\n"
	      "s1,\"['hello world']\",t,1.0,\"['x']\",0.5\n"
	      "s2,\"['other words']\",t,0.0,\"['y']\",0.5\n",
	      f);
	fclose(f);
	r = rbctl_cmd((const char *[]){"import", csv, "-o", path, "--quiet", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	cr_assert_eq(feature_dim_of(path), 256, "import attaches 256-dim tfidf by default");
	r = rbctl_cmd((const char *[]){"import", csv, "-o", path, "--features", "none", "--quiet", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	cr_assert_eq(feature_dim_of(path), 0);
	unlink(csv);
	unlink(path);
	rmdir(dir);
}

Test(cli, repeated_splits_summarise_mean_and_spread)
{
	char *dir = make_temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/small.rbds", dir);
	gen_synthetic(path, "3000", "4", "2", NULL, NULL);
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "random", "--splits", "3", "--bootstrap", "0",
				   "--json", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc);
	json_t *rep = json_object_get(doc, "repeated");
	cr_assert_eq(json_array_size(json_object_get(rep, "seeds")), 3);
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(rep, "seeds"), 2)), 44);
	json_t *aiq = json_object_get(json_object_get(rep, "overall"), "aiq");
	cr_assert_eq(json_array_size(json_object_get(aiq, "values")), 3);
	cr_assert_float_eq(json_real_value(json_array_get(json_object_get(aiq, "values"), 0)),
			   json_real_value(json_object_get(json_object_get(json_object_get(doc, "overall"), "router"), "aiq")),
			   0, "the first value is this result's own");
	cr_assert_gt(json_real_value(json_object_get(aiq, "sd")), 0.0, "different splits differ");
	json_decref(doc);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "random", "--splits", "0", NULL});
	cr_assert_eq(r.status, 2);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "random", "--target-share", "x", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "MODEL=P"), "%s", r.err);
	cmd_free(&r);
	unlink(path);
	rmdir(dir);
}

Test(cli, models_option_routes_within_a_two_model_pool)
{
	char *dir = make_temp_dir(), path[512];
	snprintf(path, sizeof(path), "%s/small.rbds", dir);
	gen_synthetic(path, "2000", "4", "2", NULL, "tfidf:32");
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "knn", "--models",
				       "mistralai/mixtral-8x7b-chat,mistralai/mistral-7b-chat", "--bootstrap", "0", "--json", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert_not_null(doc);
	json_t *models = json_object_get(json_object_get(doc, "dataset"), "models");
	cr_assert_eq(json_array_size(models), 2);
	cr_assert_str_eq(json_string_value(json_array_get(models, 1)), "mistralai/mistral-7b-chat");
	json_t *routellm = json_object_get(json_object_get(json_object_get(doc, "overall"), "families"), "routellm");
	cr_assert(json_is_object(routellm), "a two-model pool has RouteLLM figures");
	cr_assert_str_eq(json_string_value(json_object_get(routellm, "weak")), "mistralai/mistral-7b-chat");
	json_decref(doc);
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"run", "--dataset", path, "--router", "random", "--models", "mistralai/mistral-7b-chat,nope",
				       NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "model 'nope' is not in the dataset"), "%s", r.err);
	cmd_free(&r);
	unlink(path);
	rmdir(dir);
}

/* The commands that talk to rbd: usage errors are 2, an rbd that is not there is 3, and each
 * --help lists the exit codes. The server side is tested in test_daemon.c. */
Test(cli, server_commands_usage_and_unreachable_rbd)
{
	static const char *const cmds[][4] = {
		{"status", "1", NULL},
		{"result", "1", NULL},
		{"cancel", "1", NULL},
		{"jobs", NULL},
		{"datasets", NULL},
		{"routers", NULL},
		{"info", NULL},
		{"submit", "--dataset", "demo", "--router"},
	};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		const char *args[12];
		size_t n = 0;
		for (size_t i = 0; i < 4 && cmds[k][i]; i++)
			args[n++] = cmds[k][i];
		if (!strcmp(cmds[k][0], "submit"))
			args[n++] = "random";
		args[n++] = "--socket";
		args[n++] = "/nonexistent/rbd.sock";
		args[n] = NULL;
		cmd_result r = rbctl_cmd(args);
		cr_assert_eq(r.status, 3, "rbctl %s: exit %d, stderr %s", cmds[k][0], r.status, r.err);
		char want[128];
		snprintf(want, sizeof(want), "rbctl %s: cannot connect to rbd at /nonexistent/rbd.sock", cmds[k][0]);
		cr_assert(strstr(r.err, want), "rbctl %s: %s", cmds[k][0], r.err);
		cr_assert(strstr(r.err, "is rbd running?"), "%s", r.err);
		cr_assert_str_empty(r.out);
		cmd_free(&r);

		/* Every --help lists the exit codes, the unreachable one included. */
		r = rbctl_cmd((const char *[]){cmds[k][0], "--help", NULL});
		cr_assert_eq(r.status, 0, "rbctl %s --help: %s", cmds[k][0], r.err);
		cr_assert(strstr(r.out, "--socket PATH") && strstr(r.out, "exit status:") && strstr(r.out, "3 cannot reach rbd"),
			  "rbctl %s --help: %s", cmds[k][0], r.out);
		cmd_free(&r);
	}

	/* RBD_SOCKET is the default socket. */
	setenv("RBD_SOCKET", "/nonexistent/env.sock", 1);
	cmd_result r = rbctl_cmd((const char *[]){"status", "7", NULL});
	unsetenv("RBD_SOCKET");
	cr_assert_eq(r.status, 3);
	cr_assert(strstr(r.err, "rbctl status: cannot connect to rbd at /nonexistent/env.sock"), "%s", r.err);
	cmd_free(&r);

	r = rbctl_cmd((const char *[]){"--help", NULL});
	cr_assert(strstr(r.out, "3 cannot reach rbd") && strstr(r.out, "4 job cancelled"), "%s", r.out);
	cr_assert(strstr(r.out, "submit") && strstr(r.out, "datasets"), "%s", r.out);
	cmd_free(&r);
}

Test(cli, server_commands_refuse_bad_job_ids_and_options)
{
	static const struct {
		const char *args[9], *needle;
	} cases[] = {
		{{"status", "abc"}, "rbctl status: job ID 'abc' must be an integer from 1 to 9223372036854775807"},
		{{"status", "0"}, "rbctl status: job ID '0' must be an integer"},
		{{"result", "-3"}, "rbctl result: job ID '-3' must be an integer"},
		{{"cancel", "92233720368547758070"}, "rbctl cancel: job ID '92233720368547758070' must be an integer"},
		{{"cancel", "1x"}, "rbctl cancel: job ID '1x'"},
		{{"status"}, "rbctl status: a job ID is required"},
		{{"status", "1", "2"}, "rbctl status: unexpected argument '2'"},
		{{"cancel", "1", "--json"}, "rbctl cancel: unknown option '--json' (rbctl cancel --help lists them)"},
		{{"jobs", "extra"}, "rbctl jobs: unexpected argument 'extra'"},
		{{"datasets", "--all"}, "rbctl datasets: unknown option '--all'"},
		{{"submit"}, "rbctl submit: --dataset and --router are required (rbctl submit --help)"},
		{{"submit", "--router", "random"}, "rbctl submit: --dataset and --router are required"},
		{{"submit", "--dataset", "demo", "--router", "random", "--seed"}, "rbctl submit: option --seed needs a value"},
		/* The options and their checks are rbctl run's. */
		{{"submit", "--dataset", "demo", "--router", "random", "--seed", "-1"},
		 "rbctl submit: --seed: '-1' is not a whole number between 0 and 4294967295"},
		{{"submit", "--dataset", "demo", "--router", "random", "--splits", "0"},
		 "rbctl submit: --splits: '0' is not a whole number between 1 and 1000"},
		{{"submit", "--dataset", "demo", "--router", "random", "--target-share", "x"}, "MODEL=P"},
		{{"submit", "--dataset", "demo", "--router", "random", "--plugin-dir", "x"}, "rbctl submit: unknown option '--plugin-dir'"},
		{{"routers", "--local", "--socket", "x"}, "rbctl routers: --socket is for rbd's listing, not --local"},
		{{"info", "x.rbds", "--socket", "x"}, "rbctl info: --socket is for asking rbd, not for a FILE"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		cmd_result r = rbctl_cmd(cases[k].args);
		cr_assert_eq(r.status, 2, "rbctl %s %s: exit %d, stderr %s", cases[k].args[0],
			     cases[k].args[1] ? cases[k].args[1] : "", r.status, r.err);
		cr_assert(strstr(r.err, cases[k].needle), "rbctl %s: lacks \"%s\": %s", cases[k].args[0], cases[k].needle, r.err);
		cmd_free(&r);
	}
	/* A job rbd would refuse is refused before connecting, as rbctl run refuses it. */
	cmd_result r = rbctl_cmd((const char *[]){"submit", "--dataset", "demo", "--router", "random", "--lambdas", "0.1,-1",
					      "--socket", "/nonexistent/rbd.sock", NULL});
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.err, "willingness to pay"), "%s", r.err);
	cmd_free(&r);
}

/* Every option of every command is in its --help (the options part is printed from the same
 * table that parses them), and a bad value names the option, the value and the range. */
Test(cli, every_help_lists_every_option)
{
#define EVAL_OPTS "-d, --dataset", "-r, --router", "--set", "--tasks", "--models", "--seed", "--train-fraction", \
	"--split", "--group", "--no-default-groups", "--lambdas", "--threads", "--bootstrap", "--bootstrap-seed", \
	"--splits", "--keep-decisions", "--overhead-cost-per-query", "--target-budget", "--target-share",       \
	"--validation-fraction"
	static const struct {
		const char *cmd, *opts[32];
	} cases[] = {
		{"import", {"-o, --output", "-q, --quiet", "--no-responses", "--features"}},
		{"info", {"--json", "--socket"}},
		{"gen", {"--preset", "--seed", "-o, --output", "--prompts", "--models", "--tasks", "--responses", "--split-seed",
			 "--train-fraction", "--report", "--features", "-q, --quiet"}},
		{"featurize", {"--tfidf", "--embeddings", "-o, --output", "--dim", "--name", "--no-normalize", "--threads",
			       "-q, --quiet"}},
		{"run", {EVAL_OPTS, "--plugin-dir", "--json", "-o, --output"}},
		{"submit", {EVAL_OPTS, "--wait", "--json", "--socket"}},
		{"compare", {"--resamples", "--seed", "--top", "--json", "-o, --output"}},
		{"plot", {"-o, --output", "--log-cost", "--task"}},
		{"report", {"-o, --output", "--format"}},
		{"routers", {"--local", "--plugin-dir", "--json", "--socket"}},
		{"status", {"--json", "--socket"}},
		{"result", {"--json", "-o, --output", "--socket"}},
		{"cancel", {"--socket"}},
		{"jobs", {"--all", "--json", "--socket"}},
		{"datasets", {"--json", "--socket"}},
	};
#undef EVAL_OPTS
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		cmd_result r = rbctl_cmd((const char *[]){cases[k].cmd, "--help", NULL});
		cr_assert_eq(r.status, 0, "rbctl %s --help: %s", cases[k].cmd, r.err);
		cr_assert(strstr(r.out, "usage: rbctl ") && strstr(r.out, "exit status:"), "%s", r.out);
		for (size_t i = 0; cases[k].opts[i]; i++) {
			char line[64], bare[64];
			snprintf(line, sizeof(line), "  %s ", cases[k].opts[i]);
			snprintf(bare, sizeof(bare), "  %s\n", cases[k].opts[i]);
			cr_assert(strstr(r.out, line) || strstr(r.out, bare), "rbctl %s --help lacks %s:\n%s", cases[k].cmd,
				  cases[k].opts[i], r.out);
		}
		cr_assert(strstr(r.out, "  -h, --help "), "rbctl %s --help lacks -h, --help", cases[k].cmd);
		cmd_free(&r);
	}

	cmd_result r = rbctl_cmd((const char *[]){"gen", "--prompts", "abc", "-o", "/nonexistent/x.rbds", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "rbctl gen: --prompts: 'abc' is not a whole number between 1 and 100000000\n");
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"compare", "a.json", "b.json", "--frob", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "rbctl compare: unknown option '--frob' (rbctl compare --help lists them)\n");
	cmd_free(&r);
	r = rbctl_cmd((const char *[]){"plot", "a.json", "--task", NULL});
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "rbctl plot: option --task needs a value\n");
	cmd_free(&r);
}

/* ---- -o never replaces what is not a regular file ------------------------------------------------ */

/* Entries of dir other than . and .., for "nothing else was created or left behind". */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "opendir %s", dir);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Everything read from a FIFO until its writer closes it. */
typedef struct fifo_reader {
	const char *path;
	char *data;
	size_t len;
} fifo_reader;

static void *read_fifo(void *arg)
{
	fifo_reader *r = arg;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 16;
	r->data = malloc(cap + 1);
	for (ssize_t n; (n = read(fd, r->data + r->len, cap - r->len)) > 0;) {
		r->len += (size_t)n;
		if (r->len == cap)
			r->data = realloc(r->data, (cap *= 2) + 1);
	}
	r->data[r->len] = '\0';
	close(fd);
	return NULL;
}

Test(cli, output_to_devices_and_fifos_is_written_in_place)
{
	char *dir = make_temp_dir(), ds[512], fifo[512], dev[512];
	snprintf(ds, sizeof(ds), "%s/ds.rbds", dir);
	gen_synthetic(ds, "300", "3", "2", NULL, NULL);

	/* /dev/null stays the character device it is. */
	cmd_result r = rbctl_cmd((const char *[]){"gen", "--prompts", "200", "-o", "/dev/null", "--quiet", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	struct stat st;
	cr_assert_eq(stat("/dev/null", &st), 0);
	cr_assert(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3, "/dev/null was replaced");

	/* A character device of our own (root only): written in place, no temporary file beside it. */
	snprintf(dev, sizeof(dev), "%s/null", dir);
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		r = rbctl_cmd((const char *[]){"run", "--dataset", ds, "--router", "random", "--json", "-o", dev, NULL});
		cr_assert_eq(r.status, 0, "%s", r.err);
		cmd_free(&r);
		cr_assert_eq(lstat(dev, &st), 0);
		cr_assert(S_ISCHR(st.st_mode), "%s was replaced by a regular file", dev);
		cr_assert_eq(dir_entries(dir), 2, "only ds.rbds and null in %s", dir);
		unlink(dev);
	}

	/* A FIFO gets the stream: the same document rbctl writes to a regular file. */
	snprintf(fifo, sizeof(fifo), "%s/pipe", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	fifo_reader fr = {.path = fifo};
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, read_fifo, &fr), 0);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds, "--router", "random", "--json", "-o", fifo, NULL});
	pthread_join(t, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	cr_assert_not_null(fr.data);
	json_t *doc = json_loads(fr.data, 0, NULL);
	cr_assert_not_null(doc, "the FIFO got %zu bytes that are not the result: %.200s", fr.len, fr.data);
	cr_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "routerbench.result/1");
	json_decref(doc);
	free(fr.data);
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "%s was replaced", fifo);
	cr_assert_eq(dir_entries(dir), 2, "only ds.rbds and pipe in %s", dir);
	unlink(fifo);
	unlink(ds);
	rmdir(dir);
}

Test(cli, output_onto_a_directory_or_bad_link_is_refused)
{
	char *dir = make_temp_dir(), ds[512], sub[512], link[512], target[512], dangling[512];
	snprintf(ds, sizeof(ds), "%s/ds.rbds", dir);
	gen_synthetic(ds, "300", "3", "2", NULL, NULL);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);

	char csv[512];
	snprintf(csv, sizeof(csv), "%s/import/good.csv", env_or("RB_TEST_DATA", "tests/data"));
	const char *cmds[][9] = {
		{"run", "--dataset", ds, "--router", "random", "--json", "-o", sub, NULL},
		{"gen", "--prompts", "100", "--quiet", "-o", sub, NULL},
		{"import", csv, "--quiet", "-o", sub, NULL},
	};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		cmd_result r = rbctl_cmd(cmds[k]);
		cr_assert_eq(r.status, 1, "%s: %s", cmds[k][0], r.err);
		char want[600];
		snprintf(want, sizeof(want), "%s: is a directory; give a file name", sub);
		cr_assert(strstr(r.err, want), "rbctl %s: %s", cmds[k][0], r.err);
		cmd_free(&r);
		cr_assert_eq(dir_entries(sub), 0, "%s left something in %s", cmds[k][0], sub);
		cr_assert_eq(dir_entries(dir), 2, "%s left something in %s", cmds[k][0], dir);
	}

	/* A link to a regular file: the file is replaced, the link stays. A link to a directory or
	 * to nothing is refused. */
	snprintf(target, sizeof(target), "%s/target.json", dir);
	snprintf(link, sizeof(link), "%s/link.json", dir);
	FILE *f = fopen(target, "w");
	fputs("old\n", f);
	fclose(f);
	cr_assert_eq(symlink("target.json", link), 0);
	cmd_result r = rbctl_cmd((const char *[]){"run", "--dataset", ds, "--router", "random", "--json", "-o", link, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmd_free(&r);
	struct stat st;
	cr_assert(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
	char *text = slurp_file(target);
	cr_assert(strstr(text, "routerbench.result/1"), "the link's target was not written: %.100s", text);
	free(text);
	unlink(link);
	cr_assert_eq(symlink("sub", link), 0);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds, "--router", "random", "--json", "-o", link, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "link.json: a symbolic link to a directory"), "%s", r.err);
	cmd_free(&r);
	snprintf(dangling, sizeof(dangling), "%s/dangling.json", dir);
	cr_assert_eq(symlink("nothing-here", dangling), 0);
	r = rbctl_cmd((const char *[]){"run", "--dataset", ds, "--router", "random", "--json", "-o", dangling, NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "dangling.json: a symbolic link to nothing usable"), "%s", r.err);
	cmd_free(&r);
	cr_assert_eq(dir_entries(dir), 5, "ds.rbds, sub, target.json, link.json, dangling.json only");
	unlink(dangling);
	unlink(link);
	unlink(target);
	rmdir(sub);
	unlink(ds);
	rmdir(dir);
}

/* ---- rbctl import streams its input ----------------------------------------------------------------- */

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* rbctl ARGS with its address space limited to as_bytes (not under AddressSanitizer, whose shadow
 * memory needs far more): the exit status, stderr in *err (owned). */
static int rbctl_limited(const char *const *args, size_t as_bytes, char **err)
{
	const char *bin = env_or("RBCTL", "build/rbctl");
	char *argv[32] = {(char *)bin};
	size_t n = 1;
	for (size_t k = 0; args[k] && n < 31; k++)
		argv[n++] = (char *)args[k];
	char err_path[] = "/tmp/rbtest.err.XXXXXX";
	int err_fd = mkstemp(err_path);
	cr_assert_geq(err_fd, 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
#if !defined(UNDER_ASAN)
		struct rlimit rl = {as_bytes, as_bytes};
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(99);
#else
		(void)as_bytes;
#endif
		int null_fd = open("/dev/null", O_WRONLY);
		dup2(null_fd, 1);
		dup2(err_fd, 2);
		execv(bin, argv);
		_exit(98);
	}
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(err_fd);
	*err = slurp_file(err_path);
	unlink(err_path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(cli, import_of_dev_zero_fails_fast_in_bounded_memory)
{
	char *dir = make_temp_dir(), out[512];
	snprintf(out, sizeof(out), "%s/x.rbds", dir);
	char *err;
	int status = rbctl_limited((const char *[]){"import", "/dev/zero", "-o", out, NULL}, (size_t)512 << 20, &err);
	cr_assert_eq(status, 1, "exit %d: %s", status, err);
	cr_assert_str_eq(err, "rbctl import: /dev/zero:1:1: a NUL byte; text must be UTF-8 without NUL characters\n");
	free(err);
	cr_assert_eq(dir_entries(dir), 0, "nothing is written on failure");

	cmd_result r = rbctl_cmd((const char *[]){"import", dir, "-o", out, NULL});
	cr_assert_eq(r.status, 1);
	char want[600];
	snprintf(want, sizeof(want), "rbctl import: %s: is a directory\n", dir);
	cr_assert_str_eq(r.err, want);
	cmd_free(&r);
	cr_assert_eq(dir_entries(dir), 0);
	rmdir(dir);
}

/* Feeds a FIFO a CSV of rows, each carrying a 1 MiB cell the dataset does not keep. */
typedef struct big_writer {
	const char *path;
	int rows;
} big_writer;

static void *write_big_csv(void *arg)
{
	const big_writer *w = arg;
	FILE *f = fopen(w->path, "w");
	if (!f)
		return NULL;
	char *pad = malloc((1 << 20) + 1);
	memset(pad, 'x', 1 << 20);
	pad[1 << 20] = '\0';
	fputs("sample_id,prompt,eval_name,a,a|total_cost,b,b|total_cost," "oracle_model_to_route_to\n", f);
	for (int i = 0; i < w->rows; i++)
		fprintf(f, "s%d,prompt %d,e,0.5,0.1,1,0.2,%s\n", i, i, pad);
	free(pad);
	fclose(f);
	return NULL;
}

Test(cli, import_memory_follows_the_dataset_not_the_input, .timeout = 120)
{
	/* 192 MiB of input under a 96 MiB address space: only possible when it is streamed. */
	char *dir = make_temp_dir(), fifo[512], out[512];
	snprintf(fifo, sizeof(fifo), "%s/in.csv", dir);
	snprintf(out, sizeof(out), "%s/x.rbds", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	big_writer w = {fifo, 192};
	pthread_t t;
	signal(SIGPIPE, SIG_IGN); /* an importer that gives up must fail the test, not kill it */
	cr_assert_eq(pthread_create(&t, NULL, write_big_csv, &w), 0);
	char *err;
	int status = rbctl_limited((const char *[]){"import", fifo, "-o", out, "--features", "none", "--quiet", NULL},
				   (size_t)96 << 20, &err);
	/* Unblock the writer if rbctl never opened the FIFO; its writes then fail with EPIPE. */
	int unblock = open(fifo, O_RDONLY | O_NONBLOCK);
	close(unblock);
	pthread_join(t, NULL);
	cr_assert_eq(status, 0, "exit %d: %s", status, err);
	free(err);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(out, &ds, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 192);
	cr_assert_str_eq(ds->prompts[191], "prompt 191");
	rbe_dataset_free(ds);
	unlink(out);
	unlink(fifo);
	rmdir(dir);
}
