#!/usr/bin/env python3
"""Print one of kind's default node-image manifests, read from the kind module's Go source.

kind v0.33 keeps them as Go raw-string constants in pkg/build/nodeimage (const_cni.go,
const_storage.go), joined with image-name constants: `...` + kindnetdImage + `...`.
Usage: kind-manifests.py <kind module dir> cni|storage
"""
import re
import sys

root, which = sys.argv[1], sys.argv[2]
fn, name = {'cni': ('const_cni.go', 'defaultCNIManifest'),
            'storage': ('const_storage.go', 'defaultStorageManifest')}[which]
src = open(f'{root}/pkg/build/nodeimage/{fn}').read()
consts = {m.group(1): m.group(2) for m in re.finditer(r'const (\w+)\s*=\s*"([^"]*)"', src)}
body = src[src.index('`', src.index(name)):]
parts, i = [], 0
while True:
    j = body.index('`', i + 1)
    parts.append(body[i + 1:j])
    i = j + 1
    m = re.match(r'\s*\+\s*(\w+)\s*\+\s*', body[i:])
    if not m:
        break
    parts.append(consts[m.group(1)])
    i += m.end()
sys.stdout.write(''.join(parts))
