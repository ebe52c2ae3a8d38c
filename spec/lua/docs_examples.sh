#!/usr/bin/env bash
# Every Lua example in docs/filters.md loads and passes the adapter's dry
# run (`vsgate filter test` compiles it as the adapter would), so the guide
# cannot drift from the code. Usage: docs_examples.sh VSGATE SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
python3 - "$src/docs/filters.md" "$d" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
n = 0
for block in re.findall(r'```lua\n(.*?)```', text, re.S):
    # A block of alternatives ("-- filter.x: ..." then code) is one example each.
    parts = re.split(r'\n(?=-- filter\.)', block) if '\n-- filter.' in block else [block]
    for p in parts:
        if 'filter' not in p:
            continue
        n += 1
        open(f'{sys.argv[2]}/example{n}.lua', 'w').write(p)
print(n)
PY
n=0
for f in "$d"/example*.lua; do
  if ! out=$("$bin" filter test --script "$f" --record /dev/null 2>&1); then
    echo "FAIL: docs/filters.md example does not load:"; cat "$f"; echo "$out"; exit 1
  fi
  n=$((n + 1))
done
[ "$n" -ge 10 ] || { echo "FAIL: only $n examples found in docs/filters.md"; exit 1; }
echo "docs_examples: ok ($n examples load and pass the dry run)"
