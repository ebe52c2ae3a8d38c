#!/usr/bin/env bash
# ctest vsg-shellcheck: shellcheck (settings in .shellcheckrc) over every
# shell script in scripts/, spec/, bench/, tools/ and .ci/: the *.sh files
# and the files whose shebang names sh or bash, skipping dependency and
# build folders. Fails on any finding. --list prints the files checked.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck.sh: shellcheck is not installed (scripts/install-deps installs it)" >&2; exit 1; }
files=()
while IFS= read -r -d '' f; do
  f=${f#./}
  if [[ $f == *.sh ]] || head -n1 "$f" 2>/dev/null | grep -Eq '^#!.*(/|env +)(ba)?sh( |$)'; then
    files+=("$f")
  fi
done < <(find scripts spec bench tools .ci \
            -type d \( -name node_modules -o -name .run -o -name 'build*' -o -name __pycache__ -o -name .git \) -prune \
            -o -type f -print0 | LC_ALL=C sort -z)
if [ "${1:-}" = --list ]; then printf '%s\n' "${files[@]}"; exit 0; fi
[ "${#files[@]}" -gt 50 ] || { echo "shellcheck.sh: only ${#files[@]} scripts found" >&2; exit 1; }
# Directives name sourced files from the repository root, hence -x from here.
shellcheck -x "${files[@]}"
echo "shellcheck.sh: ${#files[@]} scripts clean"
