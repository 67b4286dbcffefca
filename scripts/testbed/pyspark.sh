#!/usr/bin/env bash
# A venv with pyspark (PYSPARK_VERSION from versions.env) outside the repo, for the Spark tests:
#   $KOALA_TESTBED_CACHE/pyspark-<version>/          (default ~/.cache/koala-testbed/...)
# Its pyspark package dir is a SPARK_HOME with bin/spark-submit, which the real operator runs.
# Java comes from the machine (openjdk 17).
#
#   scripts/testbed/pyspark.sh              install (no-op when present), print nothing else
#   scripts/testbed/pyspark.sh --print-home print SPARK_HOME (the pyspark package dir)
#   scripts/testbed/pyspark.sh --print-venv print the venv dir
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
VENV="$KOALA_TESTBED_CACHE/pyspark-$PYSPARK_VERSION"
PY=${PYTHON:-python3}
home() { "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }
case "${1:-}" in
  --print-venv) echo "$VENV"; exit 0 ;;
  --print-home) home; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-home|--print-venv]" >&2; exit 2 ;;
esac
if [[ -f "$VENV/.done" ]]; then exit 0; fi
if ! command -v java >/dev/null; then
  # spark-submit needs a JVM; machines of this project's kind have openjdk 17, install it if not.
  [[ $(id -u) == 0 ]] || { echo "pyspark.sh: java not found (install openjdk-17-jre-headless)" >&2; exit 1; }
  echo "pyspark.sh: installing openjdk-17-jre-headless" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >/dev/null; }
fi
mkdir -p "$KOALA_TESTBED_CACHE"
exec 9>"$KOALA_TESTBED_CACHE/.pyspark.lock"
flock 9
[[ -f "$VENV/.done" ]] && exit 0
rm -rf "$VENV"
t0=$(date +%s)
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK_VERSION" >&2
[[ -x "$(home)/bin/spark-submit" ]] || { echo "pyspark.sh: no bin/spark-submit in $(home)" >&2; exit 1; }
touch "$VENV/.done"
echo "pyspark.sh: pyspark $PYSPARK_VERSION installed in $VENV in $(( $(date +%s) - t0 ))s" >&2
