#!/usr/bin/env bash
# A venv with Airflow (AIRFLOW_VERSION from versions.env) and the cncf.kubernetes provider,
# outside the repo, for the tests that parse DAGs with Airflow's own DagBag:
#   $KOALA_TESTBED_CACHE/airflow-<version>-<provider version>/
#
#   scripts/testbed/airflow.sh               install (no-op when present)
#   scripts/testbed/airflow.sh --print-python  print the venv's python
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
VENV="$KOALA_TESTBED_CACHE/airflow-$AIRFLOW_VERSION-$AIRFLOW_CNCF_KUBERNETES_VERSION"
case "${1:-}" in
  --print-python) echo "$VENV/bin/python"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-python]" >&2; exit 2 ;;
esac
[[ -f "$VENV/.done" ]] && exit 0
mkdir -p "$KOALA_TESTBED_CACHE"
exec 9>"$KOALA_TESTBED_CACHE/.airflow.lock"
flock 9
[[ -f "$VENV/.done" ]] && exit 0
rm -rf "$VENV"
t0=$(date +%s)
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  "apache-airflow-core==$AIRFLOW_VERSION" \
  "apache-airflow-providers-cncf-kubernetes==$AIRFLOW_CNCF_KUBERNETES_VERSION" >&2
touch "$VENV/.done"
echo "airflow.sh: Airflow $AIRFLOW_VERSION installed in $VENV in $(( $(date +%s) - t0 ))s" >&2
