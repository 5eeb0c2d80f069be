#!/usr/bin/env bash
# demo.sh — install what is missing, build, generate the calibrated demo dataset and evaluate
# every built-in router on it, printing a per-task table for each.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
mkdir -p demo
[ -f demo/demo.rbds ] || ./build/rbctl gen --preset routerbench --seed 1 -o demo/demo.rbds
./build/rbctl info demo/demo.rbds
for so in build/plugins/*.so; do
  router=$(basename "$so" .so)
  args=()
  [ "$router" = single ] && args=(--set model=gpt-4-1106-preview)
  echo
  ./build/rbctl run --dataset demo/demo.rbds --router "$router" "${args[@]}"
done

# The same evaluation through the server: rbd with the demo config, a `random` job submitted
# over its socket, and the metrics compared with `rbctl run`'s (all but the timing block).
echo
echo "== rbd: the shared server (config demo/rbd.ini, socket demo/rbd.sock)"
./scripts/demo-config.sh > demo/rbd.ini
rm -f demo/rbd.log
./build/rbd --config demo/rbd.ini --foreground 2>demo/rbd.log &
rbd_pid=$!
trap 'kill $rbd_pid 2>/dev/null; wait $rbd_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -S demo/rbd.sock ] && break; sleep 0.05; done
./build/rbctl info --socket demo/rbd.sock
./build/rbctl submit --socket demo/rbd.sock --dataset demo --router random --wait --json > demo/random-rbd.json
./build/rbctl run --dataset demo/demo.rbds --router random --json > demo/random-run.json
python3 - demo/random-rbd.json demo/random-run.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("timing", None)
    d.get("router", {}).pop("path", None)
same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
print("rbctl submit --wait (rbd) and rbctl run give %s metrics" % ("the same" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY
./build/rbctl jobs --all --socket demo/rbd.sock
