/* hostile_kill.c — test fixture: a router that reaches for another process (its "victim"
 * parameter): kill, ptrace, pidfd_getfd. It logs what happened; then it routes honestly. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "victim", .type = RB_PARAM_INT, .default_value = "1", RB_PARAM_AT_LEAST(1), .help = "a pid"},
};

static const char *outcome(long rc)
{
	return rc == 0 ? "allowed" : errno == EPERM || errno == EACCES ? "denied" : strerror(errno);
}

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	pid_t victim = (pid_t)a->params[0].i;
	const char *killed = outcome(kill(victim, SIGKILL));
	const char *traced = outcome(ptrace(PTRACE_ATTACH, victim, NULL, NULL));
	long pidfd = syscall(SYS_pidfd_open, victim, 0);
	const char *opened = outcome(pidfd < 0 ? -1 : 0);
	const char *grabbed = "not tried";
	if (pidfd >= 0)
		grabbed = outcome(syscall(SYS_pidfd_getfd, (int)pidfd, 0, 0) < 0 ? -1 : 0);
	a->host->log(RB_LOG_INFO, "hostile_kill: kill %s; ptrace %s; pidfd_open %s; pidfd_getfd %s", killed, traced,
		     opened, grabbed);
	return 0;
}

PREDICTIVE_FIXTURE("hostile_kill", .summary = "fixture: signals and traces another process",
		   RB_ROUTER_PARAMS(params), .create = create, .destroy = stateless_destroy, .predict = half_predict)
