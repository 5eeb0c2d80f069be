/* helpers.h — shared by the test suites: paths from the environment, temp dirs, small datasets. */
#ifndef RB_TEST_HELPERS_H
#define RB_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "eval/eval.h"
#include "eval/params.h"
#include "eval/plugin.h"
#include "data/rbds_format.h"

static inline const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* Path of a fixture plugin built beside the tests, or of a built-in router. */
static inline char *fixture_plugin(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s.so", env_or("RB_TEST_PLUGIN_DIR", "build/tests"), name);
	return path;
}

static inline char *builtin_plugin(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s.so", env_or("RB_PLUGIN_DIR", "build/plugins"), name);
	return path;
}

static inline rbe_plugin *load_or_fail(const char *path)
{
	rbe_plugin *p = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_plugin_load(path, &p, &e), 0, "loading %s: %s", path, e.msg);
	return p;
}

static inline char *make_temp_dir(void)
{
	static char dir[256];
	snprintf(dir, sizeof(dir), "/tmp/rbtest.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

/* Evaluate the router at plugin_path on ds with settings ("name=value") and options (NULL:
 * defaults). The result (owned), or NULL with e filled when the parameters or the run fail. */
static inline json_t *run_router(const char *plugin_path, const rbe_dataset *ds, const char *const *settings,
				 size_t n_settings, const rbe_eval_opts *o, rbe_error *e)
{
	rbe_plugin *p = load_or_fail(plugin_path);
	rbe_params *params = NULL;
	json_t *result = NULL;
	int rc = rbe_params_parse(p->schema, ds, settings, n_settings, &params, e);
	if (rc == 0) {
		rbe_eval_opts defaults;
		rbe_eval_opts_default(&defaults);
		rc = rbe_evaluate(ds, p, params, o ? o : &defaults, &result, e);
	}
	rbe_params_free(params);
	rbe_plugin_free(p);
	return rc == 0 ? result : NULL;
}

/* The schema check refuses setting for the router, before anything runs, naming the problem. */
static inline void expect_param_refused(const char *plugin_path, const rbe_dataset *ds, const char *setting,
					const char *needle)
{
	rbe_plugin *p = load_or_fail(plugin_path);
	rbe_params *params = NULL;
	rbe_error e = {0};
	const char *settings[1] = {setting};
	cr_assert_lt(rbe_params_parse(p->schema, ds, settings, setting ? 1 : 0, &params, &e), 0, "%s should be refused", setting);
	cr_assert_null(params);
	cr_assert(strstr(e.msg, needle), "%s: message lacks '%s': %s", setting, needle, e.msg);
	rbe_plugin_free(p);
}

/* The evaluation with setting (and options o, NULL: defaults) fails, naming the problem. */
static inline void expect_run_refused(const char *plugin_path, const rbe_dataset *ds, const char *setting,
				      const rbe_eval_opts *o, const char *needle)
{
	rbe_error e = {0};
	const char *settings[1] = {setting};
	json_t *r = run_router(plugin_path, ds, settings, setting ? 1 : 0, o, &e);
	cr_assert_null(r, "%s should fail", setting ? setting : "(defaults)");
	cr_assert(strstr(e.msg, needle), "%s: message lacks '%s': %s", setting ? setting : "(defaults)", needle, e.msg);
}

/* Every field of two datasets is equal (names, order, values, optional sections). */
static inline void expect_same_dataset(const rbe_dataset *a, const rbe_dataset *b)
{
	cr_assert_eq(a->n, b->n);
	cr_assert_eq(a->n_models, b->n_models);
	cr_assert_eq(a->n_evals, b->n_evals);
	size_t n = a->n, m = a->n_models;
	for (size_t j = 0; j < m; j++)
		cr_assert_str_eq(a->model_names[j], b->model_names[j]);
	for (size_t k = 0; k < a->n_evals; k++)
		cr_assert_str_eq(a->eval_names[k], b->eval_names[k]);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(a->sample_ids[i], b->sample_ids[i]);
		cr_assert_str_eq(a->prompts[i], b->prompts[i]);
		cr_assert_eq(a->eval[i], b->eval[i]);
	}
	cr_assert_eq(memcmp(a->quality, b->quality, n * m * sizeof(float)), 0);
	cr_assert_eq(memcmp(a->cost, b->cost, n * m * sizeof(double)), 0);
	cr_assert_eq(!a->responses, !b->responses);
	if (a->responses)
		for (size_t k = 0; k < n * m; k++)
			cr_assert_str_eq(a->responses[k], b->responses[k]);
	cr_assert_eq(!a->prompt_tokens, !b->prompt_tokens);
	if (a->prompt_tokens)
		cr_assert_eq(memcmp(a->prompt_tokens, b->prompt_tokens, n * sizeof(uint32_t)), 0);
	cr_assert_eq(!a->completion_tokens, !b->completion_tokens);
	if (a->completion_tokens)
		cr_assert_eq(memcmp(a->completion_tokens, b->completion_tokens, n * m * sizeof(uint32_t)), 0);
	cr_assert_eq(a->feature_dim, b->feature_dim);
	cr_assert_eq(!a->features, !b->features);
	if (a->features) {
		cr_assert_eq(memcmp(a->features, b->features, n * a->feature_dim * sizeof(float)), 0);
		cr_assert_str_eq(a->feature_name, b->feature_name);
	} else {
		cr_assert_null(b->feature_name);
	}
}

/* ds written to a temporary .rbds and opened again (owned: rbe_dataset_free); the file is gone
 * already, the mapping stays. */
static inline rbe_dataset *rbds_round_trip(const rbe_dataset *ds)
{
	char dir[] = "/tmp/rbtest-rt.XXXXXX", path[64];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rt.rbds", dir);
	rbe_error e = {0};
	rbe_dataset *back = NULL;
	cr_assert_eq(rbe_rbds_write(ds, path, &e), 0, "%s", e.msg);
	cr_assert_eq(rbe_rbds_open(path, &back, &e), 0, "%s", e.msg);
	unlink(path);
	rmdir(dir);
	return back;
}

/* A built-in router driven directly, without the engine, so its own outputs (q̂, decisions)
 * can be checked. */
static inline void quiet_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void quiet_log(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

typedef struct direct {
	rbe_plugin *plugin;
	rbe_params *params;
	rb_host_api host;
	void *state;
	char err[512];
} direct;

/* Create the router on a hand-made train view; returns create()'s result. */
static inline int direct_create(direct *d, const char *router, const char *setting, const rb_view *train, uint32_t threads)
{
	memset(d, 0, sizeof(*d));
	d->plugin = load_or_fail(builtin_plugin(router));
	rbe_error e = {0};
	const char *settings[1] = {setting};
	cr_assert_eq(rbe_params_parse(d->plugin->schema, NULL, settings, setting ? 1 : 0, &d->params, &e), 0, "%s", e.msg);
	d->host = (rb_host_api){.size = sizeof(rb_host_api), .abi_minor = RB_ABI_MINOR, .log = quiet_log, .threads = threads};
	rb_create_args args = {
		.size = sizeof(args), .host = &d->host, .params = d->params->abi_values, .train = train, .seed = 1, .task = "t"};
	return d->plugin->router->create(&args, &d->state, d->err, sizeof(d->err));
}

static inline void direct_free(direct *d)
{
	if (d->state)
		d->plugin->router->destroy(d->state);
	rbe_params_free(d->params);
	rbe_plugin_free(d->plugin);
}

/* The number at a slash-separated path of object keys and array indices ("tasks/t/llms/A/quality"). */
static inline double json_at(json_t *root, const char *path)
{
	json_t *cur = root;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
	cr_assert_not_null(cur, "no %s in the result", path);
	return json_number_value(cur);
}

extern char **environ;

/* A whole file as a NUL-terminated string (owned: free). */
static inline char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Run argv (argv[0] a path) in its own process group with stdin from /dev/null and stdout and
 * stderr to the given files; kill the whole group after timeout_s. Exit status, 128 + signal,
 * or -1 on timeout. */
static inline int spawn_wait(char *const argv[], const char *out_path, const char *err_path, int timeout_s)
{
	int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(out_fd >= 0 && err_fd >= 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out_fd);
	close(err_fd);
	cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));
	int st = 0;
	for (int waited_ms = 0;; waited_ms += 50) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (waited_ms >= timeout_s * 1000) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	}
	kill(-pid, SIGKILL); /* helpers the main process left behind, if any */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

typedef struct cmd_result {
	int status;
	char *out, *err; /* owned: cmd_free */
} cmd_result;

/* Run $RBCTL with args (NULL-terminated), capturing stdout and stderr. */
static inline cmd_result rbctl_cmd(const char *const *args)
{
	const char *bin = env_or("RBCTL", "build/rbctl");
	char *argv[64];
	size_t n = 0;
	argv[n++] = (char *)bin;
	for (size_t k = 0; args[k] && n < 63; k++)
		argv[n++] = (char *)args[k];
	argv[n] = NULL;
	char out_path[] = "/tmp/rbtest.out.XXXXXX", err_path[] = "/tmp/rbtest.err.XXXXXX";
	close(mkstemp(out_path));
	close(mkstemp(err_path));
	cmd_result r = {.status = spawn_wait(argv, out_path, err_path, 200)};
	r.out = slurp_file(out_path);
	r.err = slurp_file(err_path);
	unlink(out_path);
	unlink(err_path);
	return r;
}

static inline void cmd_free(cmd_result *r)
{
	free(r->out);
	free(r->err);
}

/* A synthetic dataset at path from `rbctl gen`: prompts x models x tasks; seed and features
 * (NULL: gen's defaults). */
static inline void gen_synthetic(const char *path, const char *prompts, const char *models, const char *tasks,
				 const char *seed, const char *features)
{
	const char *args[20] = {"gen", "--prompts", prompts, "--models", models, "--tasks", tasks, "-o", path, "--quiet"};
	size_t n = 10;
	if (seed) {
		args[n++] = "--seed";
		args[n++] = seed;
	}
	if (features) {
		args[n++] = "--features";
		args[n++] = features;
	}
	args[n] = NULL;
	cmd_result r = rbctl_cmd(args);
	cr_assert_eq(r.status, 0, "rbctl gen: %s", r.err);
	cmd_free(&r);
}

#endif
