/* sandbox.c — lock the calling process down before it loads a team's router (docs/security.md). */
#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/kernel_support.h"

/* Debian 12's kernel headers stop at Landlock ABI 2; the running kernel may offer more. The
 * values are the kernel's UAPI, which only ever grows. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; the kernel is told how much of it we fill. */
typedef struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
} ruleset_attr;

/* Where the dynamic loader finds a plugin's libraries: readable and mappable, never writable. */
static const char *const system_library_paths[] = {"/usr/lib", "/lib", "/usr/lib64", "/lib64", "/etc/ld.so.cache"};

static int is_kept(const worker_sandbox_opts *o, int fd)
{
	for (size_t i = 0; i < o->n_keep_fds; i++)
		if (o->keep_fds[i] == fd)
			return 1;
	return 0;
}

/* Close every descriptor above 2 but the kept ones: a router inherits nothing by accident. */
static int close_inherited(const worker_sandbox_opts *o, rbe_error *e)
{
	unsigned lo = 3;
	for (;;) {
		unsigned next = ~0U; /* the lowest kept descriptor at or above lo */
		for (size_t i = 0; i < o->n_keep_fds; i++)
			if (o->keep_fds[i] >= (int)lo && (unsigned)o->keep_fds[i] < next)
				next = (unsigned)o->keep_fds[i];
		if (next > lo && syscall(SYS_close_range, lo, next == ~0U ? ~0U : next - 1, 0) < 0)
			return rbe_fail(e, -errno, "sandbox: close_range: %s", strerror(errno));
		if (next == ~0U)
			return 0;
		lo = next + 1;
		while (is_kept(o, (int)lo))
			lo++;
	}
}

static int switch_user(const worker_sandbox_opts *o, rbe_error *e)
{
	if (geteuid() != 0 || o->uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid(o->gid, o->gid, o->gid) < 0 || setresuid(o->uid, o->uid, o->uid) < 0)
		return rbe_fail(e, -errno, "sandbox: switching to uid %u gid %u: %s", (unsigned)o->uid,
				(unsigned)o->gid, strerror(errno));
	uid_t r, ef, s;
	if (getresuid(&r, &ef, &s) < 0 || r != o->uid || ef != o->uid || s != o->uid)
		return rbe_fail(e, -EPERM, "sandbox: still not uid %u after setresuid", (unsigned)o->uid);
	return 0;
}

static int allow_path(int ruleset, const char *path, uint64_t access, int must_exist, rbe_error *e)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return rbe_fail(e, -errno, "sandbox: %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE; /* file rules take file rights */
	struct landlock_path_beneath_attr rule = {.allowed_access = access, .parent_fd = fd};
	int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	int err = errno;
	close(fd);
	if (rc < 0)
		return rbe_fail(e, -err, "sandbox: Landlock rule for %s: %s", path, strerror(err));
	return 0;
}

/* Landlock: the file system is read-only and limited to the system libraries and the given
 * paths; from ABI 4 no TCP, from ABI 6 no signals or abstract sockets out of the sandbox. The
 * ruleset is built while the process still has its own uid, which can reach the paths; it is
 * applied (landlock_restrict_self) after the switch to the job's user. */
static int landlock_ruleset(const worker_sandbox_opts *o, int abi, int *out, rbe_error *e)
{
	ruleset_attr attr = {0};
	size_t size = sizeof(attr.handled_access_fs);
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0–12 */
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 4) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return rbe_fail(e, -errno, "sandbox: landlock_create_ruleset: %s", strerror(errno));
	const uint64_t read = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(system_library_paths) / sizeof(system_library_paths[0]); i++)
		rc = allow_path(ruleset, system_library_paths[i], read, 0, e);
	for (size_t i = 0; !rc && i < o->n_read_paths; i++)
		rc = allow_path(ruleset, o->read_paths[i], read, 1, e);
	if (rc) {
		close(ruleset);
		return rc;
	}
	*out = ruleset;
	return 0;
}

/* Calls a router never needs and that reach out of its process: other processes, the network,
 * namespaces, the kernel's keyrings and tracing, io_uring (which would bypass this filter). */
static const char *const denied_syscalls[] = {
	"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
	"pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
	"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
	"fspick", "move_mount", "open_tree", "mount_setattr",
	"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"open_by_handle_at", "name_to_handle_at", "personality", "acct", "swapon", "swapoff", "reboot",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
	"setfsuid", "setfsgid", "quotactl", "vhangup", "syslog",
	/* The evaluator ends the router's whole process group: no child of it may leave. */
	"setsid", "setpgid",
};

static int deny(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call of this architecture */
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, n, cmp);
}

static int build_filter(scmp_filter_ctx ctx, const worker_sandbox_opts *o)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(denied_syscalls) / sizeof(denied_syscalls[0]); i++)
		rc = deny(ctx, denied_syscalls[i], 0, NULL);
	if (!rc && !o->allow_exec)
		rc = deny(ctx, "execve", 0, NULL) ?: deny(ctx, "execveat", 0, NULL);
	/* Signals go to this process alone (raise and abort use tgkill on it). */
	const struct scmp_arg_cmp not_self = SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)getpid());
	const char *const signalling[] = {"kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"};
	for (size_t i = 0; !rc && i < sizeof(signalling) / sizeof(signalling[0]); i++)
		rc = deny(ctx, signalling[i], 1, &not_self);
	/* No new namespaces through clone; clone3 passes its flags in memory, which a filter
	 * cannot read, so it answers ENOSYS and the C library falls back to clone. */
	const struct scmp_arg_cmp new_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	if (!rc)
		rc = deny(ctx, "clone", 1, &new_ns);
	int nr = seccomp_syscall_resolve_name("clone3");
	if (!rc && nr != __NR_SCMP_ERROR)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	/* Dumpable again, or a tracer named: both undo a layer. TIOCSTI types into a terminal. */
	const struct scmp_arg_cmp dumpable = SCMP_A0(SCMP_CMP_EQ, PR_SET_DUMPABLE);
	const struct scmp_arg_cmp ptracer = SCMP_A0(SCMP_CMP_EQ, PR_SET_PTRACER);
	const struct scmp_arg_cmp tiocsti = SCMP_A1(SCMP_CMP_EQ, TIOCSTI);
	if (!rc)
		rc = deny(ctx, "prctl", 1, &dumpable) ?: deny(ctx, "prctl", 1, &ptracer) ?: deny(ctx, "ioctl", 1, &tiocsti);
	return rc;
}

/* seccomp: the calls above answer EPERM; a call of another architecture (x32, i386) kills. */
static int enter_seccomp(const worker_sandbox_opts *o, rbe_error *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return rbe_fail(e, -ENOMEM, "sandbox: seccomp_init failed");
	int rc = build_filter(ctx, o);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return rbe_fail(e, rc, "sandbox: seccomp filter: %s", strerror(-rc));
	return 0;
}

int worker_sandbox_enter(const worker_sandbox_opts *o, rbe_error *e)
{
	int rc = close_inherited(o, e);
	rbe_sandbox_support support;
	rbe_sandbox_support_probe(&support);
	int abi = support.landlock_abi, ruleset = -1;
	if (!rc && abi > 0)
		rc = landlock_ruleset(o, abi, &ruleset, e);
	else if (!rc && o->need_landlock)
		rc = rbe_fail(e, -ENOSYS, "sandbox: this kernel has no Landlock (needed: file-system isolation)");
	if (!rc)
		rc = switch_user(o, e);
	if (!rc && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		rc = rbe_fail(e, -errno, "sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = rbe_fail(e, -errno, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (!rc && ruleset >= 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = rbe_fail(e, -errno, "sandbox: landlock_restrict_self: %s", strerror(errno));
	if (ruleset >= 0)
		close(ruleset);
	return rc ? rc : enter_seccomp(o, e);
}
