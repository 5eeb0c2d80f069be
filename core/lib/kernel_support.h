/* kernel_support.h — what this kernel offers for confining a team's router (Landlock, seccomp):
 * rbd checks it before it starts, the worker before it builds the sandbox. */
#ifndef RBE_KERNEL_SUPPORT_H
#define RBE_KERNEL_SUPPORT_H

typedef struct rbe_sandbox_support {
	int landlock_abi; /* 0: no Landlock; 1…: the kernel's ABI (6 and above also scope signals) */
	int seccomp;      /* 1: seccomp filters can be installed */
} rbe_sandbox_support;

/* Probe without changing anything. */
void rbe_sandbox_support_probe(rbe_sandbox_support *s);

#endif
