#!/usr/bin/env bash
# /entrypoint of koala's test Airflow image, run under dumb-init as the official image runs its
# own. The Airflow chart relies on what it does: `bash ...` and `python ...` run as they are,
# `airflow <command>` and a bare `<command>` run that Airflow command, and unless
# CONNECTION_CHECK_MAX_COUNT is 0 (the chart's probes set it so) each first waits until the
# metadata database answers. Written for the test image; it behaves as the official one does.
set -euo pipefail

AIRFLOW_COMMAND=${1:-}
: "${CONNECTION_CHECK_MAX_COUNT:=20}"
: "${CONNECTION_CHECK_SLEEP_TIME:=3}"

# Pods may run under a uid the image does not know (runAsUser); Python's getpass and Airflow's
# task runner want a passwd entry, which the official image adds the same way.
if ! whoami >/dev/null 2>&1 && [ -w /etc/passwd ]; then
  echo "${USER_NAME:-default}:x:$(id -u):0:${USER_NAME:-default} user:${AIRFLOW_USER_HOME_DIR}:/sbin/nologin" >>/etc/passwd
  export HOME=${AIRFLOW_USER_HOME_DIR}
fi

wait_for_airflow_db() {
  local attempt=1
  until airflow db check >/dev/null 2>&1; do
    if [ "$attempt" -ge "$CONNECTION_CHECK_MAX_COUNT" ]; then
      echo "entrypoint: the metadata database did not answer after $attempt attempts:" >&2
      airflow db check >&2 || true
      exit 1
    fi
    echo "entrypoint: waiting for the metadata database ($attempt/$CONNECTION_CHECK_MAX_COUNT)" >&2
    attempt=$((attempt + 1))
    sleep "$CONNECTION_CHECK_SLEEP_TIME"
  done
}

# Every command but `version` waits, `bash` and `python` included: the chart runs each component
# as `bash -c "exec airflow ..."`.
if [ "$AIRFLOW_COMMAND" != version ] && [ "$CONNECTION_CHECK_MAX_COUNT" -gt 0 ]; then
  wait_for_airflow_db
fi

case $AIRFLOW_COMMAND in
  bash) shift; exec /bin/bash "$@" ;;
  python) shift; exec python "$@" ;;
  airflow) shift ;;
esac
exec airflow "$@"
