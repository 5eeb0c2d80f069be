/* workerproto.h — how rbd talks to rbd-worker (internal; one worker process per job or probe).
 *
 * Job:   rbd-worker --job
 *   fd 0  a pipe: rbd writes one JSON object, then closes it:
 *         {"dataset_name": "demo", "plugin": "/state/plugins/<sha256>.so",
 *          "job": {...the Submit parameters (eval/jobspec.h)...},
 *          "limits": {"address_space": bytes, "cpu_seconds": s, "open_files": n, "threads": n}}
 *         (a limit of 0 or absent: none)
 *   fd 1  a pipe: the worker writes NUL-terminated JSON messages, in order:
 *         {"phase": "create"|"predict"|"decide"|..., "task": "mmlu", "fraction": 0.25}
 *                   before each call into the router (so a crash is attributed) and as tasks
 *                   finish; fraction is the share of task groups done;
 *         {"crash": {"signal": 11, "vm_bytes": N}}  from the fatal-signal handler;
 *         then exactly one of {"result": {...}} or {"error": "message"}; then exit 0.
 *   fd 2  rbd's standard error (router log lines)
 *   fd 3  the dataset: a sealed memfd holding the .rbds image, mapped read-only
 * The worker sets its own rlimits before loading the plugin and asks the kernel to kill it
 * when rbd dies (PR_SET_PDEATHSIG); it exits at once when its parent is not the pid in
 * RBW_PARENT_PID (rbd died before the worker got that far).
 *
 * Probe: rbd-worker --probe FILE
 *   fd 1  one JSON object: {"ok": true, "router": {"name", "version", "kind", "summary",
 *         "params": [{"name", "type", "default" (string or null), "min", "max", "help"}]}}
 *         or {"ok": false, "reason": "the loader's message"}; exit 0. A crash or a non-zero
 *         exit is a rejection reported by rbd.
 */
#ifndef RBW_WORKERPROTO_H
#define RBW_WORKERPROTO_H

#define RBW_WORKER_DATASET_FD 3
/* rbd's pid, in the environment it passes on: a worker that finds another parent exits. */
#define RBW_WORKER_PARENT_ENV "RBD_PARENT_PID"

#endif
