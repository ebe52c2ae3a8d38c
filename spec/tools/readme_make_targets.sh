#!/usr/bin/env bash
# Every `make <target>` the README names, and every .PHONY target of the
# Makefile, must be a target make can plan (`make -n`, nothing runs). A stray line in the Makefile once made
# `make bench-quick` ask for a target called "a"; no other test saw it.
set -euo pipefail
src=${1:?usage: readme_make_targets.sh SOURCE_DIR}
cd "$src"
targets=$( { grep -o 'make [a-z][a-z-]*' README.md | awk '{print $2}'
             sed -n 's/^\.PHONY://p' Makefile | tr ' ' '\n'; } | grep . | sort -u)
[ -n "$targets" ] || { echo "no make targets found in README.md" >&2; exit 1; }
fail=0
for t in $targets; do
  if ! out=$(make -n "$t" 2>&1 >/dev/null); then
    echo "not ok: make $t: $out" >&2
    fail=1
  else
    echo "ok: make $t"
  fi
done
exit "$fail"
