/* kernel_support.c — what this kernel offers for confining a team's router. */
#include "lib/kernel_support.h"

#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void rbe_sandbox_support_probe(rbe_sandbox_support *s)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	s->landlock_abi = abi < 0 ? 0 : (int)abi;
	/* PR_GET_SECCOMP answers EINVAL on kernels built without seccomp. */
	s->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}
