#!/usr/bin/env python3
"""Independent check of the real-data test figures (python3 stdlib only, no numpy).

Reads the RouterBench CSVs, orders rows by the leading pandas index column, merges rows that
share a sample_id, splits each task with numpy's own permutation from
shared/fixtures/numpy_legacy_shuffle.json (seed 42; available for n = 427 and 1267, i.e.
mbpp and winogrande), and prints every model's test-split quality and cost_total.
Usage: realdata_points.py DATA_DIR FIXTURE_JSON
"""
import csv, json, sys, glob, os

csv.field_size_limit(1 << 30)
data_dir, fixture = sys.argv[1], sys.argv[2]
rows = []
models = None
for path in sorted(glob.glob(os.path.join(data_dir, "*.csv"))):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        if models is None:
            models = [h[: -len("|model_response")] for h in header if h.endswith("|model_response")]
        for row in r:
            rows.append(dict(zip(header, row)))
rows.sort(key=lambda d: int(d[""]))
samples = {}
order = []
for d in rows:
    sid = d["sample_id"]
    if sid not in samples:
        samples[sid] = {"eval": d["eval_name"], "q": {}, "c": {}}
        order.append(sid)
    for m in models:
        if d[m] != "":
            samples[sid]["q"][m] = float(d[m])
            samples[sid]["c"][m] = float(d[m + "|total_cost"])
perms = {(c["seed"], c["n"]): c["permutation"] for c in json.load(open(fixture))["cases"]}
for task in ["mbpp", "winogrande"]:
    ids = [s for s in order if samples[s]["eval"] == task]
    perm = perms[(42, len(ids))]
    shuffled = [ids[k] for k in perm]
    test = shuffled[int(len(ids) * 0.7):]
    print(task, "n", len(ids), "test", len(test))
    for m in models:
        q = sum(samples[s]["q"][m] for s in test) / len(test)
        c = sum(samples[s]["c"][m] for s in test)
        print(f"  {m:40s} quality {q:.17g} cost_total {c:.17g}")
