#!/usr/bin/env bash
# bench_daemon.sh — rbd on the demo dataset: submit→result latency of a `single` job (p50/p99),
# sustained jobs/s with 8 concurrent clients, and the memory each extra running worker adds
# compared with the dataset's size.
# Usage: bench/bench_daemon.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, /tmp/rb-bench-daemon)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build}
work=${2:-/tmp/rb-bench-daemon}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null
mkdir -p "$work" demo
[ -f demo/demo.rbds ] || "$build/rbctl" gen --preset routerbench --seed 1 -o demo/demo.rbds
rm -rf "$work/state"
cat > "$work/rbd.ini" <<EOF
[server]
socket = $work/rbd.sock
state_dir = $work/state
plugin_dir = $root/$build/plugins
workers = $(nproc)
max_connections_per_uid = 64
[limits]
wall_time = 600
threads = $(nproc)
[dataset.demo]
file = $root/demo/demo.rbds
[team.bench]
members = $(id -u)
EOF
"$build/rbd" --config "$work/rbd.ini" --foreground > "$work/rbd.log" 2>&1 &
rbd_pid=$!
trap 'kill $rbd_pid 2>/dev/null; wait $rbd_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -S "$work/rbd.sock" ] && break; sleep 0.05; done

single='{"dataset":"demo","router":"single","settings":["model=gpt-4-1106-preview"],"bootstrap":0}'
echo "== latency: one client, 200 single jobs on the demo dataset (bootstrap off)"
"$build/bench-daemon" --socket "$work/rbd.sock" --job "$single" --jobs 200
echo "== latency: the same job with the default 1,000-resample bootstrap (on all CPUs)"
"$build/bench-daemon" --socket "$work/rbd.sock" --job "${single%\}},\"bootstrap\":1000}" --jobs 50
echo "== throughput: 8 clients x 50 single jobs (bootstrap off, one thread per job)"
"$build/bench-daemon" --socket "$work/rbd.sock" --job "${single%\}},\"threads\":1}" --jobs 50 --clients 8

echo "== memory: peak private memory of each worker while 2 clients run single jobs, one thread each (sampled every ms)"
dataset_bytes=$(stat -c %s demo/demo.rbds)
sample_workers() { # seconds: the peak Private_* of every rbd-worker seen, one line per worker, in KiB
  python3 - "$1" <<'PY'
import glob, re, sys, time
peak, end = {}, time.time() + float(sys.argv[1])
while time.time() < end:
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        pid = path.split("/")[2]
        try:
            if b"rbd-worker\0--job" not in open(path, "rb").read():
                continue
            text = open("/proc/%s/smaps_rollup" % pid).read()
        except OSError:
            continue
        priv = sum(int(v) for v in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+)", text, re.M))
        peak[pid] = max(peak.get(pid, 0), priv)
    time.sleep(0.001)
for v in sorted(peak.values()):
    print(v)
PY
}
for boot in 0 1000; do
  job="{\"dataset\":\"demo\",\"router\":\"single\",\"settings\":[\"model=gpt-4-1106-preview\"],\"bootstrap\":$boot,\"threads\":1}"
  "$build/bench-daemon" --socket "$work/rbd.sock" --job "$job" --jobs 40 --clients 2 --warmup 0 >/dev/null &
  bench_pid=$!
  peaks=$(sample_workers 2)
  wait $bench_pid
  n=$(echo "$peaks" | grep -c . || true)
  median=$(echo "$peaks" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  maxv=$(echo "$peaks" | sort -n | tail -1)
  printf 'bootstrap %4d: %d workers sampled; peak private memory per worker: median %.1f MiB, max %.1f MiB = %.1f%% / %.1f%% of the %.1f MiB dataset\n' \
    "$boot" "$n" "$(echo "$median / 1024" | bc -l)" "$(echo "$maxv / 1024" | bc -l)" \
    "$(echo "100 * $median * 1024 / $dataset_bytes" | bc -l)" "$(echo "100 * $maxv * 1024 / $dataset_bytes" | bc -l)" \
    "$(echo "$dataset_bytes / 1048576" | bc -l)"
done
rbd_rss=$(awk '/^Rss:/ {print $2}' /proc/$rbd_pid/smaps_rollup)
echo "rbd itself: RSS $((rbd_rss / 1024)) MiB (the shared-memory dataset counts here once)"
