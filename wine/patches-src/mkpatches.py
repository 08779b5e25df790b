#!/usr/bin/python3
# Regenerate wine/patches/ from groups.py: apply each group's edits to the
# prepared Debian source (wine/fetch.sh), in order, and write one patch per
# group with its subject and message.
#   wine/patches-src/mkpatches.py [OUTDIR]      (default: wine/patches)
# Each edit must match exactly once, so a stale edit fails loudly.
import os, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.environ.get('WSCLOSE_CACHE', os.path.expanduser('~/.cache/wsclose')),
                   'wine-8.0~repack-4', 'src')
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'patches')
TMP = tempfile.mkdtemp()
files = {}
def get(path):
    if path not in files:
        files[path] = open(os.path.join(SRC, path)).read()
    return files[path]
def edit(path, old, new, count=1):
    s = get(path)
    if s.count(old) != count:
        raise SystemExit(f"{path}: {old[:70]!r} found {s.count(old)} times")
    files[path] = s.replace(old, new)

series = []
def patch(name, subject, body, fn):
    before = dict((k, v) for k, v in files.items())
    fn()
    diff = ''
    for p in sorted(files):
        old = before[p] if p in before else open(os.path.join(SRC, p)).read()
        if old == files[p]:
            continue
        a = os.path.join(TMP, 'a'); b = os.path.join(TMP, 'b')
        open(a, 'w').write(old); open(b, 'w').write(files[p])
        r = subprocess.run(['diff', '-u', '-p', '--label', 'a/' + p, '--label', 'b/' + p, a, b],
                           capture_output=True, text=True)
        diff += r.stdout
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(f"From: wsclose project\nSubject: [PATCH] {subject}\n\n{body.strip()}\n---\n{diff}")
    series.append(name)

for f in os.listdir(OUT):
    if f.endswith('.patch') or f == 'series':
        os.remove(os.path.join(OUT, f))
exec(open(os.path.join(HERE, 'groups.py')).read())
with open(os.path.join(OUT, 'series'), 'w') as f:
    f.write('\n'.join(series) + '\n')
