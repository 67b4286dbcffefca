#!/bin/sh
# /usr/bin/docker-entrypoint.sh of koala's test MinIO image. The MinIO chart runs
# `/usr/bin/docker-entrypoint.sh minio server /export ...` under /bin/sh; like MinIO's own
# script, arguments that do not start with a command are given to minio.
set -e
case "${1:-}" in
  minio) ;;
  "") set -- minio ;;
  -*|server|gateway) set -- minio "$@" ;;
esac
exec "$@"
