#!/bin/bash
# /usr/bin/entrypoint.sh of koala's test Spark operator image: the controller (and the webhook,
# same binary) under tini, as the operator's own image starts it. The chart passes only
# arguments (`controller start ...`, `webhook start ...`).
set -e
exec /usr/bin/tini -s -- /usr/bin/spark-operator "$@"
