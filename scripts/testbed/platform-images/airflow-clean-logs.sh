#!/usr/bin/env bash
# /clean-logs of koala's test Airflow image: the chart's log groomer sidecars run
# `bash /clean-logs`. Every AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES it deletes task logs older
# than AIRFLOW__LOG_RETENTION_DAYS under $AIRFLOW_HOME/logs, as the official image's script does.
set -euo pipefail
readonly DIRECTORY="${AIRFLOW_HOME:-/opt/airflow}/logs"
readonly RETENTION="${AIRFLOW__LOG_RETENTION_DAYS:-15}"
readonly EVERY=$(( ${AIRFLOW__LOG_CLEANUP_FREQUENCY_MINUTES:-15} * 60 ))
trap 'exit 0' INT TERM
echo "Cleaning logs every $EVERY seconds"
while true; do
  echo "Trimming airflow logs to ${RETENTION} days."
  find "$DIRECTORY" -type d -name 'lost+found' -prune -o -type f -mtime +"$RETENTION" -name '*.log' -print0 |
    xargs -0 rm -f || true
  find "$DIRECTORY" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  sleep "$EVERY" & wait $!
done
