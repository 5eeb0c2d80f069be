/* hostile_fork.c — test fixture: a router that leaves processes behind: one child tries to leave
 * the process group and sleeps, another keeps the standard error pipe open and sleeps. It logs
 * their pids; then it routes honestly. No process of it may outlive the job. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static pid_t leave(int escape)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (escape)
			setsid();
		for (;;)
			pause();
	}
	return pid;
}

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	static int done;
	if (done++)
		return 0;
	pid_t escaper = leave(1), holder = leave(0);
	a->host->log(RB_LOG_INFO, "hostile_fork: pids %ld %ld", (long)escaper, (long)holder);
	return 0;
}

PREDICTIVE_FIXTURE("hostile_fork", .summary = "fixture: leaves sleeping children behind", .create = create,
		   .destroy = stateless_destroy, .predict = half_predict)
