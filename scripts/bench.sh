#!/usr/bin/env bash
# Runs every benchmark under bench/; each prints its figures and a ratio against a baseline
# measured in the same run. Needs the test bed binaries (scripts/testbed/build.sh) and Docker
# for some. `npm run bench -- startup` runs one by name.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node-env.sh
source scripts/node-env.sh
npm run --silent build
export KOALA_TESTBED_BIN=${KOALA_TESTBED_BIN:-$(bash scripts/testbed/env.sh)}
for file in bench/*.mjs bench/*.ts; do
  name=$(basename "${file%.*}")
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  printf '\n== %s\n' "$name"
  node "$file"
done
