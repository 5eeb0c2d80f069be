/* workerproto.h — how rbd talks to rbd-worker (internal; one worker process per job or probe).
 *
 * Job:   rbd-worker --job
 *   fd 0  a pipe: rbd writes one JSON object, then closes it:
 *         {"dataset_name": "demo", "plugin": "/state/plugins/<sha256>.so",
 *          "job": {...the Submit parameters (eval/jobspec.h)...},
 *          "limits": {"address_space": bytes, "cpu_seconds": s, "open_files": n, "threads": n},
 *          "sandbox": {"enabled": true, "uid": N, "gid": N, "need_landlock": false}}
 *         (a limit of 0 or absent: none; "sandbox" absent: enabled, uid 0 (no switch), Landlock
 *         when the kernel has it; each of its members optional with those defaults)
 *   fd 1  a pipe: the worker writes NUL-terminated JSON messages, in order:
 *         {"phase": "create"|"predict"|"decide"|..., "task": "mmlu", "fraction": 0.25}
 *                   before each call into the router (so a failure is attributed) and as tasks
 *                   finish; fraction is the share of task groups done;
 *         {"crash": {"signal": 11, "vm_bytes": N}}  the worker itself crashed (never the router);
 *         then exactly one of {"result": {...}}, {"error": "message"} or
 *         {"error": "message", "router_fault": true}; then exit 0.
 *   fd 2  rbd's standard error (the router's output, forwarded: at most 1 MiB per job, then one
 *         "[router output truncated after 1 MiB]" line)
 *   fd 3  the dataset: a sealed memfd holding the .rbds image, mapped read-only
 * The worker asks the kernel to kill it when rbd dies (PR_SET_PDEATHSIG); it exits at once when
 * its parent is not the pid in RBW_PARENT_PID (rbd died before the worker got that far).
 *
 * The worker is the evaluator: it never loads the plugin. It starts a router process (itself,
 * re-executed) in a process group of its own, which gets only what the plugin ABI promises (each
 * task group's train view and query views, no test outcomes), a shared-memory channel, and
 * standard output and error on a pipe the worker forwards; no other descriptor. That process
 * sets the limits, enters the sandbox (core/worker/sandbox.h: uid/gid when rbd runs as root,
 * Landlock, seccomp; skipped when "enabled" is false, the admin's opt-out) and only then loads
 * the plugin. The worker computes every metric. When the job ends, however it ends, the worker
 * kills the router's whole process group.
 *
 * "router_fault": the router is to blame: its process died of a signal or exited ("router
 * crashed: SIGSEGV in predict (task mmlu)", "router exited with status 3 in predict (task
 * mmlu)", "router exceeded the memory limit (384 MiB) in predict (task mmlu): SIGSEGV",
 * "router exceeded the CPU time limit (60 s) in decide (task mmlu)"), broke the channel's
 * protocol, or returned invalid output (a NaN, a model index out of range, ...). Errors of the
 * job itself, the loader's refusal and failures of the worker never carry it. address_space and
 * cpu_seconds hold the router process; the worker is bounded by rbd's wall clock.
 *
 * Probe: rbd-worker --probe FILE
 *   fd 1  one JSON object: {"ok": true, "router": {"name", "version", "kind", "summary",
 *         "params": [{"name", "type", "default" (string or null), "min", "max", "help"}]}}
 *         or {"ok": false, "reason": "the loader's message"}; exit 0. The plugin is loaded in a
 *         sandboxed child answering on a descriptor of its own: a plugin that exits while
 *         loading is {"ok": false, "reason": "the plugin exited while loading (status N)"}; one
 *         killed by a signal kills the probe with that signal, a rejection reported by rbd.
 */
#ifndef RBW_WORKERPROTO_H
#define RBW_WORKERPROTO_H

#define RBW_WORKER_DATASET_FD 3
/* rbd's pid, in the environment it passes on: a worker that finds another parent exits. */
#define RBW_WORKER_PARENT_ENV "RBD_PARENT_PID"

#endif
