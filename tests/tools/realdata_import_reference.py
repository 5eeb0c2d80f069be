#!/usr/bin/env python3
"""Independent reference figures for tests/test_realdata.c (run once by hand, standard library only).

    python3 tests/tools/realdata_import_reference.py ../shared/data/routerbench-routerdc

Reads the RouterBench CSVs with the csv module, orders rows by the leading index column, merges
rows sharing a sample_id (each model's quality, cost and response from the row holding its
quality; prompt and eval_name from the first row), decodes prompts and responses with
ast.literal_eval (items joined by "\n") and prints the counts, per-model means and a SHA-256
digest over every value the importer produces, in the format test_realdata.c hashes.
"""
import ast, csv, glob, hashlib, os, struct, sys

files = sorted(glob.glob(os.path.join(sys.argv[1], '*.csv')))
rows, models = [], None
for f in files:
    with open(f, newline='', encoding='utf-8') as fh:
        r = csv.reader(fh)
        h = next(r)
        ms = [c[:-len('|model_response')] for c in h if c.endswith('|model_response')]
        models = models or ms
        col = {c: i for i, c in enumerate(h)}
        for row in r:
            rows.append((float(row[0]), len(rows), row, col))
rows.sort(key=lambda t: (t[0], t[1]))

samples, order = {}, []
for _, _, row, col in rows:
    sid = row[col['sample_id']]
    if sid not in samples:
        samples[sid] = {'rows': 0, 'eval': row[col['eval_name']], 'prompt': row[col['prompt']], 'q': {}, 'c': {}, 'r': {}}
        order.append(sid)
    s = samples[sid]
    s['rows'] += 1
    for m in models:
        if row[col[m]] != '':
            assert m not in s['q']
            s['q'][m] = float(row[col[m]])
            s['c'][m] = float(row[col[m + '|total_cost']])
            s['r'][m] = row[col[m + '|model_response']]


def dec(v):
    return '\n'.join(ast.literal_eval(v)) if v.lstrip().startswith('[') else v


keep = [sid for sid in order if len(samples[sid]['q']) == len(models)]
evals = list(dict.fromkeys(samples[s]['eval'] for s in keep))
print('rows', len(rows), 'samples', len(keep), 'merged', sum(samples[s]['rows'] > 1 for s in keep),
      'skipped', len(order) - len(keep))
print('models', models)
print('evals', evals, 'first', keep[0], 'last', keep[-1])
for m in models:
    print('%-36s mean quality %.10f  mean cost %.12e' % (
        m, sum(samples[s]['q'][m] for s in keep) / len(keep), sum(samples[s]['c'][m] for s in keep) / len(keep)))
for ev in evals:
    ks = [s for s in keep if samples[s]['eval'] == ev]
    for m in ('gpt-4-1106-preview', 'mistralai/mistral-7b-chat'):
        print('%s %s n=%d mean quality %.10f mean cost %.12e' % (
            ev, m, len(ks), sum(samples[s]['q'][m] for s in ks) / len(ks), sum(samples[s]['c'][m] for s in ks) / len(ks)))

h = hashlib.sha256()
for s in keep:
    S = samples[s]
    h.update(('%s\x1f%s\x1f%s\x1e' % (s, S['eval'], dec(S['prompt']))).encode())
    for m in models:
        q32 = struct.unpack('f', struct.pack('f', S['q'][m]))[0]
        h.update(('%.9g\x1f%.17g\x1f%s\x1e' % (q32, S['c'][m], dec(S['r'][m]))).encode())
print('digest', h.hexdigest())
