#!/usr/bin/env bash
# bench_paper.sh — the paper's router comparison, reproduced: per task, AIQ of the Zero router,
# knn (k = 5, 10, 40), mlp, linear and the cascade at ε = 0, 0.1, 0.2, next to the paper's
# figures (../shared/reference/routerbench-paper.json, when present), with wall times.
# Runs on the real rows (../shared/data/routerbench-routerdc, skipped when absent) and on the
# generated demo dataset. Usage: bench/bench_paper.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/rb-bench}
rbctl=$build/rbctl
mkdir -p "$work"
[ -x "$rbctl" ] || { meson setup "$build" >/dev/null && meson compile -C "$build" >/dev/null; }
data=../shared/data/routerbench-routerdc
ref=../shared/reference/routerbench-paper.json

datasets=()
if [ -d "$data" ]; then
  "$rbctl" import "$data"/*.csv -o "$work/rb3.rbds" --quiet
  datasets+=("$work/rb3.rbds")
else
  echo "real rows absent ($data): only the demo dataset is measured"
fi
[ -f "$work/demo.rbds" ] || "$rbctl" gen --preset routerbench --seed 1 -o "$work/demo.rbds" --quiet
datasets+=("$work/demo.rbds")

for ds in "${datasets[@]}"; do
  name=$(basename "$ds" .rbds)
  for spec in "knn-5:knn --set k=5" "knn-10:knn --set k=10" "knn-40:knn --set k=40" "mlp:mlp" "linear:linear" "cascade:cascade"; do
    label=${spec%%:*}
    args=${spec#*:}
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$rbctl" run --dataset "$ds" --router $args --json -o "$work/$name-$label.json"
    t1=$(date +%s.%N)
    printf '%s %s: %.2f s wall\n' "$name" "$label" "$(echo "$t1 - $t0" | bc -l)"
  done
  python3 - "$work" "$name" "$ref" <<'PY'
import json, os, sys
work, name, ref = sys.argv[1:4]
paper = json.load(open(ref)) if os.path.exists(ref) else {}
fig4 = paper.get("aiq_figure4_zero_knn_mlp", {})
fig58 = paper.get("aiq_figures5_8_zero_vs_cascade_eps0", {})
res = {l: json.load(open(f"{work}/{name}-{l}.json")) for l in ["knn-5", "knn-10", "knn-40", "mlp", "linear", "cascade"]}
print(f"\n{name}: AIQ (paper definition / official-code variant); paper columns from Figures 4, 5 and 8")
cols = ["zero", "knn-5", "knn-10", "knn-40", "mlp", "linear", "casc e=0", "casc e=.1", "casc e=.2"]
print(f"{'task':18s} " + " ".join(f"{c:>13s}" for c in cols) + "   paper zero/knn/mlp   paper zero/cascade0")
tasks = list(res["knn-5"]["tasks"].keys()) + ["overall"]
for t in tasks:
    blk = lambda l: res[l]["overall"] if t == "overall" else res[l]["tasks"][t]
    z = blk("knn-5")["zero"]
    cells = [f"{z['aiq']:.3f}/{z['aiq_code']:.3f}"]
    for l in ["knn-5", "knn-10", "knn-40", "mlp", "linear"]:
        r = blk(l)["router"]
        cells.append(f"{r['aiq']:.3f}/{r['aiq_code']:.3f}")
    curves = {c["curve"]: c for c in blk("cascade")["router"]["curves"]}
    for e in [0, 0.1, 0.2]:
        c = curves.get(e) or curves.get(float(e))
        cells.append(f"{c['aiq']:.3f}/{c['aiq_code']:.3f}" if c else "-")
    p4 = "/".join(str(v) for v in fig4[t]) if t in fig4 else "-"
    p58 = "/".join(str(v) for v in fig58[t]) if t in fig58 else "-"
    print(f"{t:18s} " + " ".join(f"{c:>13s}" for c in cells) + f"   {p4:20s} {p58}")
print("router timing (engine): " + ", ".join(f"{l} fit {res[l]['timing']['fit_seconds']:.2f}s route {res[l]['timing']['route_seconds']:.2f}s" for l in res))
PY
done
