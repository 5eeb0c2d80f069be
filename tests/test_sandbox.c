/* test_sandbox.c — a sandboxed child tries what a hostile router would; each attempt must be
 * refused and the things it aimed at left untouched. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "helpers.h"
#include "lib/kernel_support.h"
#include "worker/sandbox.h"

/* The child reports each unexpected outcome as a line on this pipe. */
static int report_fd = -1;
static int failures;

static void expect(int ok, const char *fmt, ...)
{
	if (ok)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(report_fd, line, (size_t)n);
	failures++;
}

/* A call that must fail with err. */
#define REFUSED(call, err) do { errno = 0; long rc_ = (long)(call); \
	expect(rc_ == -1 && errno == (err), "%s: returned %ld, errno %d (%s), wanted %s", #call, rc_, errno, \
	       strerror(errno), #err); } while (0)

static void require_landlock(void)
{
	rbe_sandbox_support s;
	rbe_sandbox_support_probe(&s);
	if (s.landlock_abi < 1 || !s.seccomp)
		cr_skip_test("this kernel lacks Landlock (ABI %d) or seccomp (%d): the sandbox cannot be tested here",
			     s.landlock_abi, s.seccomp);
}

/* A world-readable copy of a built-in router, as rbd's plugin store would hand a job. */
static char *plugin_copy(const char *dir)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/router.so", dir);
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s' && chmod 0644 '%s'", builtin_plugin("random"), path,
		 dir, path);
	cr_assert_eq(system(cmd), 0);
	return path;
}

static pid_t start_victim(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

typedef struct attack {
	const char *plugin;   /* the router's own copy */
	const char *secret;   /* a file of the server's, such as jobs.db */
	const char *dir;      /* the server's state directory */
	pid_t victim;         /* another job's worker */
	int stray_fd;         /* a descriptor the child inherited by accident */
	int kept_fd;          /* the one it keeps */
} attack;

static void attack_everything(const attack *a)
{
	REFUSED(open(a->secret, O_RDONLY), EACCES);
	REFUSED(open(a->secret, O_WRONLY), EACCES);
	REFUSED(open("/etc/passwd", O_RDONLY), EACCES);
	char path[4200];
	snprintf(path, sizeof(path), "%s/forged-result.json", a->dir);
	REFUSED(open(path, O_WRONLY | O_CREAT, 0644), EACCES);
	REFUSED(unlink(a->secret), EACCES);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)a->victim);
	REFUSED(open(path, O_RDONLY), EACCES);
	REFUSED(socket(AF_INET, SOCK_STREAM, 0), EPERM);
	REFUSED(socket(AF_UNIX, SOCK_STREAM, 0), EPERM);
	REFUSED(kill(a->victim, SIGKILL), EPERM);
	REFUSED(kill(0, SIGKILL), EPERM);
	REFUSED(kill(-1, SIGKILL), EPERM);
	REFUSED(ptrace(PTRACE_ATTACH, a->victim, NULL, NULL), EPERM);
	REFUSED(syscall(SYS_pidfd_open, a->victim, 0), EPERM);
	REFUSED(syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */), EPERM);
	char *const argv[] = {"/bin/true", NULL};
	REFUSED(execv("/bin/true", argv), EPERM);
	REFUSED(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), EPERM);
	expect(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "still dumpable");
	expect(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs not set");
	REFUSED(fcntl(a->stray_fd, F_GETFD), EBADF);
	expect(fcntl(a->kept_fd, F_GETFD) >= 0, "the kept descriptor %d was closed", a->kept_fd);
	/* What a router needs still works: its own plugin, memory, threads' signals to itself. */
	void *h = dlopen(a->plugin, RTLD_NOW | RTLD_LOCAL);
	expect(h != NULL, "dlopen of its own plugin: %s", h ? "" : dlerror());
	expect(h && (dlsym(h, "rb_router_entry_v1") || dlsym(h, "rb_router_entry")), "no entry point in the plugin");
	expect(kill(getpid(), 0) == 0, "signalling itself: %s", strerror(errno));
	void *mem = malloc(64 << 20);
	expect(mem != NULL, "64 MiB of memory");
	free(mem);
}

/* Run the attacks in a sandboxed child; returns what it reported (empty: all refused). */
static char *run_attack(attack *a, const worker_sandbox_opts *extra)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	a->kept_fd = p[1];
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		const char *paths[] = {a->plugin};
		int keep[] = {p[1]};
		worker_sandbox_opts o = extra ? *extra : (worker_sandbox_opts){0};
		o.read_paths = paths;
		o.n_read_paths = 1;
		o.keep_fds = keep;
		o.n_keep_fds = 1;
		o.need_landlock = 1;
		rbe_error e = {0};
		if (worker_sandbox_enter(&o, &e) < 0) {
			expect(0, "%s", e.msg);
			_exit(2);
		}
		attack_everything(a);
		if (extra && extra->uid)
			expect(getuid() == extra->uid && getgid() == extra->gid, "uid %u gid %u, wanted %u %u",
			       (unsigned)getuid(), (unsigned)getgid(), (unsigned)extra->uid, (unsigned)extra->gid);
		_exit(failures ? 1 : 0);
	}
	close(p[1]);
	static char out[16384];
	size_t len = 0;
	ssize_t n;
	while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(p[0]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the sandboxed child died of signal %d:\n%s", WTERMSIG(status), out);
	return out;
}

static void attack_and_check(const worker_sandbox_opts *extra)
{
	require_landlock();
	char *dir = make_temp_dir();
	cr_assert_eq(chmod(dir, 0755), 0);
	char secret[4096];
	snprintf(secret, sizeof(secret), "%s/jobs.db", dir);
	FILE *f = fopen(secret, "w");
	cr_assert_not_null(f);
	fputs("other teams' rows\n", f);
	fclose(f);
	cr_assert_eq(chmod(secret, 0644), 0);
	attack a = {.plugin = plugin_copy(dir), .secret = secret, .dir = dir, .victim = start_victim()};
	a.stray_fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: inherited by the fork */
	cr_assert_geq(a.stray_fd, 0);
	char *report = run_attack(&a, extra);
	/* Nothing it aimed at was touched. */
	cr_assert_eq(waitpid(a.victim, NULL, WNOHANG), 0, "the other job's worker died");
	kill(a.victim, SIGKILL);
	waitpid(a.victim, NULL, 0);
	char text[64] = {0};
	f = fopen(secret, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(text, sizeof(text), f));
	fclose(f);
	cr_assert_str_eq(text, "other teams' rows\n");
	char forged[4200];
	snprintf(forged, sizeof(forged), "%s/forged-result.json", dir);
	cr_assert_neq(access(forged, F_OK), 0, "a file was created in the state directory");
	close(a.stray_fd);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_str_eq(report, "", "the sandbox let through:\n%s", report);
}

Test(sandbox, a_hostile_router_reaches_nothing_outside_its_process, .timeout = 60)
{
	attack_and_check(NULL);
}

Test(sandbox, as_root_the_router_runs_as_the_job_user, .timeout = 60)
{
	if (geteuid() != 0)
		cr_skip_test("not root: rbd cannot switch users here, so the per-job uid is not tested");
	worker_sandbox_opts o = {.uid = 65534, .gid = 65534};
	attack_and_check(&o);
}

Test(sandbox, exec_stays_allowed_only_when_asked, .timeout = 60)
{
	require_landlock();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *paths[] = {"/usr/bin", "/bin"};
		worker_sandbox_opts o = {.read_paths = paths, .n_read_paths = 2, .allow_exec = 1, .need_landlock = 1};
		rbe_error e = {0};
		if (worker_sandbox_enter(&o, &e) < 0)
			_exit(2);
		char *const argv[] = {"/bin/true", NULL};
		execv("/bin/true", argv);
		_exit(3);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(sandbox, a_missing_plugin_path_is_named)
{
	require_landlock();
	pid_t pid;
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		const char *paths[] = {"/nonexistent/router.so"};
		int keep[] = {p[1]};
		worker_sandbox_opts o = {.read_paths = paths, .n_read_paths = 1, .keep_fds = keep, .n_keep_fds = 1};
		rbe_error e = {0};
		int rc = worker_sandbox_enter(&o, &e);
		(void)!write(p[1], e.msg, strlen(e.msg));
		_exit(rc < 0 ? 0 : 1);
	}
	close(p[1]);
	char msg[1100] = {0};
	cr_assert_gt(read(p[0], msg, sizeof(msg) - 1), 0);
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_str_eq(msg, "sandbox: /nonexistent/router.so: No such file or directory");
}

Test(sandbox, only_the_kept_descriptors_survive)
{
	require_landlock();
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fds[8];
		for (int i = 0; i < 8; i++)
			fds[i] = open("/dev/null", O_RDONLY);
		int keep[] = {fds[2], fds[5], fds[6]};
		worker_sandbox_opts o = {.keep_fds = keep, .n_keep_fds = 3};
		rbe_error e = {0};
		if (worker_sandbox_enter(&o, &e) < 0)
			_exit(2);
		for (int i = 0; i < 8; i++) {
			int open_now = fcntl(fds[i], F_GETFD) >= 0;
			if (open_now != (i == 2 || i == 5 || i == 6))
				_exit(10 + i);
		}
		_exit(fcntl(1, F_GETFD) >= 0 ? 0 : 9);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit %d", WEXITSTATUS(status));
}
