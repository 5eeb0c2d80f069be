/* test_hostile.c — rbd-worker --job against routers that attack it (tests/plugins/hostile_*.c):
 * each attack is refused, the result is the honest evaluator's, and nothing else is touched. */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <sys/stat.h>

#include "helpers.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

typedef struct job_run {
	int status;
	char *raw; /* stdout: NUL-terminated messages (owned) */
	size_t len;
	json_t *last; /* the last message (owned) */
	char *log;    /* the worker's standard error (owned) */
} job_run;

static void job_run_free(job_run *j)
{
	free(j->raw);
	free(j->log);
	json_decref(j->last);
}

/* A fresh dataset DIR/demo.rbds; the folder is removed with remove_dir. */
static const char *make_dataset(char *dir, size_t len)
{
	snprintf(dir, len, "%s", make_temp_dir());
	static char path[512];
	snprintf(path, sizeof(path), "%s/demo.rbds", dir);
	gen_synthetic(path, "600", "4", "2", NULL, NULL);
	return path;
}

static void remove_dir(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The job message rbd would send for plugin with settings (NULL-terminated, may be NULL) and a
 * "sandbox" object (NULL: absent). */
static char *job_text(const char *plugin, const char *const *settings, json_t *sandbox)
{
	json_t *job = json_pack("{ssss}", "dataset", "demo", "router", "x");
	json_t *s = json_array();
	for (size_t k = 0; settings && settings[k]; k++)
		json_array_append_new(s, json_string(settings[k]));
	json_object_set_new(job, "settings", s);
	json_t *msg = json_pack("{sssssO}", "dataset_name", "demo", "plugin", plugin, "job", job);
	json_decref(job);
	if (sandbox)
		json_object_set_new(msg, "sandbox", sandbox);
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}

/* Run rbd-worker --job as rbd does: job on stdin, dataset on fd 3, messages on stdout. */
static job_run run_job(const char *dataset, const char *job)
{
	int in[2], out[2];
	char err_path[] = "/tmp/rbtest.hostile.XXXXXX";
	int err_fd = mkstemp(err_path);
	cr_assert(err_fd >= 0 && pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
	int ds = open(dataset, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(ds, 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int ds_high = fcntl(ds, F_DUPFD_CLOEXEC, 10);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err_fd, 2) < 0 || dup2(ds_high, 3) < 0)
			_exit(120);
		execl(env_or("RBD_WORKER", "build/rbd-worker"), "rbd-worker", "--job", (char *)NULL);
		_exit(127);
	}
	close(ds);
	close(err_fd);
	close(in[0]);
	close(out[1]);
	cr_assert_eq(write(in[1], job, strlen(job)), (ssize_t)strlen(job));
	close(in[1]);
	job_run j = {0};
	size_t cap = 1 << 16;
	j.raw = malloc(cap + 1);
	for (;;) {
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		cr_assert_gt(poll(&p, 1, 120000), 0, "no word from rbd-worker in 120 s");
		if (j.len == cap)
			j.raw = realloc(j.raw, (cap *= 2) + 1);
		ssize_t r = read(out[0], j.raw + j.len, cap - j.len);
		if (r <= 0)
			break;
		j.len += (size_t)r;
	}
	close(out[0]);
	cr_assert_eq(waitpid(pid, &j.status, 0), pid);
	j.raw[j.len] = '\0';
	/* The log as text: a router may have written NULs into it. */
	FILE *f = fopen(err_path, "rb");
	cr_assert_not_null(f);
	size_t log_cap = 1 << 16, log_len = 0, got;
	j.log = malloc(log_cap + 1);
	while ((got = fread(j.log + log_len, 1, log_cap - log_len, f)) > 0)
		if ((log_len += got) == log_cap)
			j.log = realloc(j.log, (log_cap *= 2) + 1);
	fclose(f);
	for (size_t k = 0; k < log_len; k++)
		if (j.log[k] == '\0')
			j.log[k] = '\n';
	j.log[log_len] = '\0';
	unlink(err_path);
	/* Every message is the evaluator's: a JSON object, NUL-terminated. */
	cr_assert(j.len > 0 && j.raw[j.len - 1] == '\0', "stdout does not end a message");
	for (size_t off = 0; off < j.len;) {
		size_t n = strlen(j.raw + off);
		json_t *m = json_loadb(j.raw + off, n, 0, NULL);
		cr_assert(json_is_object(m), "not a message: %s", j.raw + off);
		json_decref(j.last);
		j.last = m;
		off += n + 1;
	}
	return j;
}

/* The job's result, which must be there. Borrowed. */
static json_t *result_of(const job_run *j)
{
	cr_assert(WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0, "status 0x%x", j->status);
	json_t *r = json_object_get(j->last, "result");
	cr_assert_not_null(r, "no result: %s\nlog: %s", j->raw, j->log);
	return r;
}

/* The figures of a result (every task and overall), as text. Owned. */
static char *figures(const json_t *result)
{
	json_t *f = json_pack("{sOsO}", "tasks", json_object_get(result, "tasks"), "overall",
			      json_object_get(result, "overall"));
	char *s = json_dumps(f, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(f);
	return s;
}

/* Run plugin acting and as its honest twin ("act=false"); the results' figures must agree. */
static job_run run_against_twin(const char *dataset, const char *plugin, const char *const *settings)
{
	char *job = job_text(plugin, settings, NULL);
	job_run hostile = run_job(dataset, job);
	free(job);
	const char *twin_settings[8] = {"act=false"};
	for (size_t k = 0; settings && settings[k] && k < 6; k++)
		if (strncmp(settings[k], "act=", 4))
			twin_settings[1 + k] = settings[k];
	job = job_text(plugin, twin_settings, NULL);
	job_run twin = run_job(dataset, job);
	free(job);
	char *a = figures(result_of(&hostile)), *b = figures(result_of(&twin));
	cr_assert_str_eq(a, b, "the hostile run's figures differ from its honest twin's");
	free(a);
	free(b);
	job_run_free(&twin);
	return hostile;
}

/* The log line the fixture wrote ("router info: NAME: ..."). Borrowed from j. */
static const char *fixture_line(const job_run *j, const char *name)
{
	const char *line = strstr(j->log, name);
	cr_assert_not_null(line, "no log line of %s: %s", name, j->log);
	return line;
}

Test(hostile, forged_result_on_every_descriptor_is_not_the_result)
{
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	job_run j = run_against_twin(ds, fixture_plugin("hostile_forge"), NULL);
	cr_assert_null(json_object_get(result_of(&j), "forged"), "the forged result was taken");
	cr_assert_str_eq(json_string_value(json_object_get(result_of(&j), "schema")), RBE_RESULT_SCHEMA);
	cr_assert_null(strstr(j.raw, "forged"), "forged bytes reached the message stream");
	/* It wrote (to its own standard output and error, which go to the log, and nowhere else). */
	const char *line = fixture_line(&j, "hostile_forge: forged result written to ");
	int written = atoi(line + strlen("hostile_forge: forged result written to "));
	cr_assert(written >= 1 && written <= 3, "wrote to %d descriptors: %s", written, j.log);
	job_run_free(&j);
	remove_dir(dir);
}

static void peek_line(const job_run *j, char *memory, size_t *regions, long *hits, long *fd3, char *file)
{
	const char *line = fixture_line(j, "hostile_peek: ");
	cr_assert_eq(sscanf(line, "hostile_peek: memory %15s (%zu regions, %ld hits); fd 3 %ld; dataset file %15s", memory,
			    regions, hits, fd3, file),
		     5, "%s", line);
}

Test(hostile, peeking_router_finds_no_dataset)
{
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	char setting[600], hex[200] = "needle=";
	snprintf(setting, sizeof(setting), "path=%s", ds);
	/* The header up to its content hash: in the evaluator's mapping, and nowhere it gave away. */
	unsigned char head[88];
	FILE *f = fopen(ds, "rb");
	cr_assert(f && fread(head, 1, sizeof(head), f) == sizeof(head));
	fclose(f);
	for (size_t k = 0; k < sizeof(head); k++)
		snprintf(hex + 7 + 2 * k, 3, "%02x", head[k]);
	const char *settings[] = {setting, hex, NULL};
	job_run j = run_against_twin(ds, fixture_plugin("hostile_peek"), settings);
	char memory[16], file[16];
	size_t regions;
	long hits, fd3;
	peek_line(&j, memory, &regions, &hits, &fd3, file);
	cr_assert_eq(hits, 0, "the dataset is in the router's memory: %s", j.log);
	cr_assert_leq(fd3, 0, "descriptor 3 holds the dataset: %s", j.log);
	cr_assert_str_eq(file, "denied", "%s", j.log);
	job_run_free(&j);

	/* Without the sandbox the process split alone keeps the dataset out of its memory; and
	 * the fixture does find the magic where it is (the file), so its search works. */
	char *job = job_text(fixture_plugin("hostile_peek"), settings, json_pack("{sb}", "enabled", 0));
	j = run_job(ds, job);
	free(job);
	result_of(&j);
	peek_line(&j, memory, &regions, &hits, &fd3, file);
	cr_assert_str_eq(memory, "scanned", "%s", j.log);
	cr_assert_gt(regions, 5);
	cr_assert_eq(hits, 0, "the dataset is in the router's memory: %s", j.log);
	cr_assert_leq(fd3, 0, "%s", j.log);
	cr_assert_str_eq(file, "opened", "%s", j.log);
	cr_assert(strstr(j.log, "dataset file opened (1)"), "the search did not find the file's magic: %s", j.log);
	job_run_free(&j);
	remove_dir(dir);
}

Test(hostile, router_cannot_touch_rbds_files)
{
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	char db[600], setting[700];
	snprintf(db, sizeof(db), "%s/jobs.db", dir);
	FILE *f = fopen(db, "w");
	cr_assert_not_null(f);
	fputs("precious", f);
	fclose(f);
	snprintf(setting, sizeof(setting), "path=%s", db);
	char *job = job_text(fixture_plugin("hostile_files"), (const char *[]){setting, NULL}, NULL);
	job_run j = run_job(ds, job);
	free(job);
	result_of(&j);
	cr_assert(strstr(j.log, "hostile_files: write denied; list folder denied; read /etc/passwd denied"), "%s", j.log);
	char *content = slurp_file(db);
	cr_assert_str_eq(content, "precious");
	free(content);
	job_run_free(&j);
	remove_dir(dir);
}

/* As root with a job user, the router runs as that uid even though its plugin copy sits in a
 * folder only rbd's user may enter (rbd's state directory): it is opened before the switch. */
Test(hostile, router_runs_as_the_job_user_from_a_private_store)
{
	if (geteuid() != 0)
		cr_skip_test("not root: the worker cannot switch to a job user here");
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	char store[600], plugin[700], cmd[6000];
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(plugin, sizeof(plugin), "%s/hostile_files.so", store);
	snprintf(cmd, sizeof(cmd), "mkdir -m 0700 '%s' && cp '%s' '%s'", store, fixture_plugin("hostile_files"), plugin);
	cr_assert_eq(system(cmd), 0);
	char setting[700];
	snprintf(setting, sizeof(setting), "path=%s/jobs.db", dir);
	json_t *sandbox = json_pack("{sbsisisb}", "enabled", 1, "uid", 61000, "gid", 61000, "need_landlock", 1);
	char *job = job_text(plugin, (const char *[]){setting, NULL}, sandbox);
	job_run j = run_job(ds, job);
	free(job);
	result_of(&j);
	cr_assert(strstr(j.log, "read /etc/passwd denied; uid 61000"), "%s", j.log);
	job_run_free(&j);
	remove_dir(dir);
}

/* Whether pid is a live process (a zombie is not). */
static int alive(pid_t pid)
{
	char path[64], buf[512] = "";
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *state = strrchr(buf, ')');
	return state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

Test(hostile, forked_children_do_not_outlive_the_job)
{
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	char *job = job_text(fixture_plugin("hostile_fork"), NULL, NULL);
	job_run j = run_job(ds, job);
	free(job);
	result_of(&j);
	long a = 0, b = 0;
	const char *line = fixture_line(&j, "hostile_fork: pids ");
	cr_assert_eq(sscanf(line, "hostile_fork: pids %ld %ld", &a, &b), 2, "%s", line);
	cr_assert(a > 0 && b > 0, "%s", line);
	/* SIGKILL was sent before the worker exited; wait for it to land. */
	int left = 1;
	for (int k = 0; k < 500 && left; k++) {
		left = alive((pid_t)a) || alive((pid_t)b);
		if (left)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	cr_assert(!left, "a child of the router survived the job (%ld: %d, %ld: %d)", a, alive((pid_t)a), b,
		  alive((pid_t)b));
	job_run_free(&j);
	remove_dir(dir);
}

Test(hostile, router_cannot_signal_or_trace_another_process)
{
	char dir[256];
	const char *ds = make_dataset(dir, sizeof(dir));
	pid_t victim = fork();
	cr_assert_geq(victim, 0);
	if (victim == 0) {
		for (;;)
			pause();
	}
	char setting[64];
	snprintf(setting, sizeof(setting), "victim=%ld", (long)victim);
	char *job = job_text(fixture_plugin("hostile_kill"), (const char *[]){setting, NULL}, NULL);
	job_run j = run_job(ds, job);
	free(job);
	result_of(&j);
	int st;
	cr_assert_eq(waitpid(victim, &st, WNOHANG), 0, "the victim died");
	kill(victim, SIGKILL);
	waitpid(victim, &st, 0);
	cr_assert(strstr(j.log, "hostile_kill: kill denied; ptrace denied; pidfd_open denied; pidfd_getfd not tried"),
		  "%s", j.log);
	job_run_free(&j);
	remove_dir(dir);
}

Test(hostile, probe_of_a_plugin_exiting_in_its_constructor_is_a_refusal)
{
	char out_path[] = "/tmp/rbtest.hprobe.XXXXXX", err_path[] = "/tmp/rbtest.hperr.XXXXXX";
	close(mkstemp(out_path));
	close(mkstemp(err_path));
	char *argv[] = {(char *)env_or("RBD_WORKER", "build/rbd-worker"), "--probe", fixture_plugin("hostile_ctor_exit"),
			NULL};
	int status = spawn_wait(argv, out_path, err_path, 30);
	char *out = slurp_file(out_path);
	unlink(out_path);
	unlink(err_path);
	cr_assert_eq(status, 0, "probe status %d", status);
	json_t *a = json_loads(out, 0, NULL);
	cr_assert_not_null(a, "probe answer is not JSON: %s", out);
	cr_assert(json_is_false(json_object_get(a, "ok")), "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(a, "reason")), "the plugin exited while loading (status 0)");
	json_decref(a);
	free(out);
}
