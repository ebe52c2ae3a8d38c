#!/usr/bin/env bash
# floors_check_selftest.sh LUA REPO - the floors check must catch a wrong
# arrow: over a temporary copy of core/ and docs/DESIGN.md, the untouched
# copy passes, and each planted mistake (an include across the floors, an
# include of another module's internal.h, a soap/kube arrow in the doc, an
# arrow pointing up, a folder the doc does not know) fails with a message
# that names it.
set -euo pipefail
lua=$1
repo=$2
check=$repo/spec/tools/floors_check.lua
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fresh() {
    rm -rf "$tmp/t"
    mkdir -p "$tmp/t/docs"
    cp -r "$repo/core" "$tmp/t/core"
    cp "$repo/docs/DESIGN.md" "$tmp/t/docs/DESIGN.md"
}

# expect NAME WANT_RC PATTERN: runs the check over the copy.
expect() {
    local name=$1 want=$2 pattern=$3 rc=0
    "$lua" "$check" "$tmp/t" > "$tmp/out" 2>&1 || rc=$?
    if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
        echo "FAIL $name: exit $rc (want $want), output:"
        sed 's/^/    /' "$tmp/out"
        fails=$((fails + 1))
    else
        echo "ok   $name: $(grep -m1 -- "$pattern" "$tmp/out")"
    fi
}

fresh
expect "the tree as it is" 0 "all on their floors"

fresh
echo '#include "webhook/webhook.h"' >> "$tmp/t/core/filter/filter_stage.c"
expect "filter/ includes webhook/ (an arrow up)" 1 \
    'core/filter/filter_stage.c:[0-9]*: #include "webhook/webhook.h": filter/ may not call webhook/'

fresh
echo '#include "kube/client.h"' >> "$tmp/t/core/soap/xml.c"
expect "soap/ includes kube/" 1 'core/soap/xml.c:[0-9]*: #include "kube/client.h": soap/ may not call kube/'

fresh
echo '#include "lua/internal.h"' >> "$tmp/t/core/kube/lua_kube.c"
expect "kube/ includes lua/internal.h" 1 'core/kube/lua_kube.c:[0-9]*: #include "lua/internal.h": internal to lua/'

fresh
echo '#include "nowhere/x.h"' >> "$tmp/t/core/base/err.c"
expect "an include of no module" 1 'nowhere/ is no module of the floors'

fresh
sed -i 's/^- `soap\/` (floor 3): http, base/- `soap\/` (floor 3): http, kube, base/' "$tmp/t/docs/DESIGN.md"
expect "the doc lets soap/ call kube/" 1 'soap/ reaches kube/, which it must never know'

fresh
sed -i 's/^- `base\/` (floor 1): nothing/- `base\/` (floor 1): http/' "$tmp/t/docs/DESIGN.md"
expect "the doc lets base/ call http/ (up)" 1 'base/ (floor 1) -> http/ (floor 2): an arrow must point down'

fresh
mkdir "$tmp/t/core/newmod" && echo '#include "base/err.h"' > "$tmp/t/core/newmod/x.c"
expect "a folder the doc does not know" 1 'core/newmod/: not in'

echo "$((8 - fails)) passed, $fails failed"
[ "$fails" = 0 ]
