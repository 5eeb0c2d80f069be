#!/usr/bin/env bash
# bench_predictive.sh — wall time of the predictive routers on the featurized demo dataset
# (~35k prompts × 11 models, 7 task groups, 256-dim tfidf): knn with k=40 and linear, plus mlp
# and cascade when their modules load; for each, the result's timing block and every task's
# AIQ beside the Zero router's. Each run is the full job with the paper's 32-value λ sweep.
# Usage: bench/bench_predictive.sh [BUILD_DIR] [WORK_DIR]   (defaults: build, /tmp/rb-bench-predictive)
# RUNS=N (default 3) runs per router; the best wall time is printed (the machine is shared).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/rb-bench-predictive}
runs=${RUNS:-3}
rbctl=$build/rbctl
mkdir -p "$work"
[ -x "$rbctl" ] || { meson setup "$build" >/dev/null && meson compile -C "$build" >/dev/null; }
command -v python3 >/dev/null || { echo "bench: python3 missing (apt-get install python3)"; exit 1; }

demo=$work/demo.rbds
data=$work/demo-tfidf.rbds
[ -f "$demo" ] || "$rbctl" gen --preset routerbench --seed 1 -o "$demo" --quiet
[ -f "$data" ] || "$rbctl" featurize "$demo" -o "$data" --quiet
echo "dataset: $data ($(stat -c %s "$data") bytes), $(nproc) CPUs"

# label, router, settings...: best-of-$runs wall time, then the summary of the last result.
bench() {
	local label=$1 router=$2
	shift 2
	local sets=()
	for s in "$@"; do sets+=(--set "$s"); done
	local best=""
	for _ in $(seq "$runs"); do
		local t0 t1
		t0=$(date +%s.%N)
		if ! "$rbctl" run --dataset "$data" --router "$router" "${sets[@]}" --json -o "$work/$label.json" \
			2>"$work/$label.err"; then
			echo "$label: skipped ($(head -n1 "$work/$label.err"))"
			return 0
		fi
		t1=$(date +%s.%N)
		best=$(python3 -c "import sys; a, b, c = sys.argv[1:]; t = float(b) - float(a); print(t if c == '' else min(t, float(c)))" "$t0" "$t1" "$best")
	done
	python3 - "$label" "$best" "$work/$label.json" "$runs" <<'EOF'
import json, sys
label, wall, path, runs = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
doc = json.load(open(path))
t = doc["timing"]
print(f"{label}: {wall:.3f} s wall (best of {runs}); last run's engine: fit {t['fit_seconds']:.3f} s, "
      f"route {t['route_seconds']:.3f} s, total {t['total_seconds']:.3f} s, "
      f"{t['decisions']} decisions")
print(f"    {'task':<22}{'aiq':>8}{'zero':>8}{'diff':>9}")
for name, block in list(doc["tasks"].items()) + [("overall", doc["overall"])]:
    a, z = block["router"]["aiq"], block["zero"]["aiq"]
    print(f"    {name:<22}{a:8.4f}{z:8.4f}{a - z:+9.4f}")
EOF
}

bench knn-k40 knn k=40
bench linear linear
bench mlp mlp
bench cascade cascade
