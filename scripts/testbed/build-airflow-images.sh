#!/usr/bin/env bash
# Build Airflow's images into the kind Docker daemon, from package registries only, for the
# real-kind Airflow test (test/realkind/platform-airflow.test.ts, opt-in):
#
#   koala-test/airflow:<AIRFLOW_VERSION>-<key>   Debian bookworm's Python 3.11 with apache-airflow
#       and the providers koala's DAGs and the chart use (cncf.kubernetes, amazon, fab, postgres)
#       from PyPI, laid out as the official apache/airflow image is: the user airflow (50000,
#       group 0) with packages in /home/airflow/.local, AIRFLOW_HOME=/opt/airflow, dumb-init
#       running /entrypoint, and /clean-logs for the chart's log groomers.
#   koala-test/postgres:<key>   Debian's PostgreSQL 15 under the postgres user 70 (the official
#       alpine image's, which koala's Postgres runs as), with an entrypoint that honours the
#       POSTGRES_* variables as the official one does.
#
# PyPI serves no constraints file (the official image's lives on GitHub), so pip resolves every
# package as of the release (AIRFLOW_RESOLVED_AT, versions.env), as those constraints did; the
# result is written to /home/airflow/.local/requirements.txt in the image.
#
#   scripts/testbed/build-airflow-images.sh           build what is missing (no-op when built)
#   scripts/testbed/build-airflow-images.sh --print   print KEY=image lines, build nothing
#   scripts/testbed/build-airflow-images.sh --check   exit 0 when both images are in the daemon
#
# Cache: $KOALA_TESTBED_CACHE/platform/rootfs/{airflow,postgres}-<key>.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES=$HERE/platform-images
# shellcheck source=versions.env
. "$HERE/versions.env"
# shellcheck source=kind-node.env
. "$HERE/kind-node.env"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
C=$KOALA_TESTBED_CACHE/platform
LOG_NAME=airflow-images
# shellcheck source=image-lib.sh
. "$HERE/image-lib.sh"
DOCKER_HOST=${KOALA_KIND_DOCKER_HOST:-$(bash "$HERE/../docker/ensure-kind-dockerd.sh" --host)}
export DOCKER_HOST

AIRFLOW_PKGS=python3,python3-venv,python-is-python3,dumb-init,bash,ca-certificates,procps,findutils
POSTGRES_PKGS=postgresql-15,bash
AIRFLOW_REQUIREMENTS=("apache-airflow[amazon,cncf.kubernetes,fab,postgres]==$AIRFLOW_VERSION")
RECIPE_REV=1
filesum() { sha256sum "$FILES/$1" | cut -c1-12; }
AIRFLOW_ROOTFS=$C/rootfs/airflow-$(key "$DEBIAN_SUITE" "$AIRFLOW_PKGS" "${AIRFLOW_REQUIREMENTS[@]}" \
  "$AIRFLOW_RESOLVED_AT" "$AIRFLOW_IMAGE_PIP_VERSION" \
  "$(filesum airflow-entrypoint.sh)" "$(filesum airflow-clean-logs.sh)" "$RECIPE_REV")
POSTGRES_ROOTFS=$C/rootfs/postgres-$(key "$DEBIAN_SUITE" "$POSTGRES_PKGS" "$(filesum postgres-entrypoint.sh)" "$RECIPE_REV")
AIRFLOW_IMAGE=koala-test/airflow:$AIRFLOW_VERSION-$(basename "$AIRFLOW_ROOTFS" | cut -d- -f2)
POSTGRES_IMAGE=koala-test/postgres:$(basename "$POSTGRES_ROOTFS" | cut -d- -f2)

case "${1:-}" in
  --print) printf 'airflow=%s\npostgres=%s\n' "$AIRFLOW_IMAGE" "$POSTGRES_IMAGE"; exit 0 ;;
  --check) have "$AIRFLOW_IMAGE" && have "$POSTGRES_IMAGE"; exit ;;
  "") ;;
  *) echo "usage: $0 [--print|--check]" >&2; exit 2 ;;
esac

bash "$HERE/../docker/ensure-kind-dockerd.sh"
if have "$AIRFLOW_IMAGE" && have "$POSTGRES_IMAGE"; then log "up to date: $AIRFLOW_IMAGE $POSTGRES_IMAGE"; exit 0; fi
mkdir -p "$C/rootfs" "$C/logs"
exec 9>"$C/.airflow.lock"
flock -n 9 || { log "another build holds $C/.airflow.lock; waiting"; flock 9; }
T0=$SECONDS

airflow_rootfs() {
  local r=$AIRFLOW_ROOTFS
  [ -f "$r/.complete" ] && return 0
  debian_rootfs "$r" "$AIRFLOW_PKGS" airflow
  install -m 0755 "$FILES/airflow-entrypoint.sh" "$r/entrypoint"
  install -m 0755 "$FILES/airflow-clean-logs.sh" "$r/clean-logs"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  # The host's CA bundle, for this install only: a network that inspects TLS signs with a CA the
  # image's bundle does not hold. It is not left in the image.
  cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$r/tmp/host-ca.crt"
  log "airflow: pip install ${AIRFLOW_REQUIREMENTS[*]} (log: $C/logs/airflow-pip.log)"
  # The packages are installed as the airflow user, into the venv the image's PATH starts with.
  chroot "$r" /bin/bash -ec '
    useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home --shell /bin/bash airflow
    mkdir -p /opt/airflow/dags /opt/airflow/logs /opt/airflow/plugins
    chown -R 50000:0 /opt/airflow && chmod -R g+rwX /opt/airflow /home/airflow
    chmod g+w /etc/passwd' >"$C/logs/airflow-pip.log" 2>&1
  nice -n 10 chroot --userspec=50000:0 "$r" /usr/bin/env -i HOME=/home/airflow PATH=/usr/bin:/bin \
    PIP_CERT=/tmp/host-ca.crt PIP_DEFAULT_TIMEOUT=180 /bin/bash -ec '
    python3 -m venv /home/airflow/.local
    pip=/home/airflow/.local/bin/pip
    $pip install -q --no-cache-dir --disable-pip-version-check "pip==$1"
    $pip install -q --no-cache-dir --disable-pip-version-check --uploaded-prior-to "$2" "${@:3}"
    $pip freeze >/home/airflow/.local/requirements.txt' \
    pip "$AIRFLOW_IMAGE_PIP_VERSION" "$AIRFLOW_RESOLVED_AT" "${AIRFLOW_REQUIREMENTS[@]}" >>"$C/logs/airflow-pip.log" 2>&1 ||
    { tail -n 30 "$C/logs/airflow-pip.log" >&2; die "pip install in the airflow rootfs failed"; }
  chmod -R g+rwX "$r/home/airflow"
  rm -f "$r/tmp/host-ca.crt"
  : >"$r/etc/resolv.conf"
  log "airflow: installed $(grep -iE '^apache-airflow|^psycopg|^boto3|^flask-appbuilder|^pydantic==' \
    "$r/home/airflow/.local/requirements.txt" | paste -sd' ')"
  touch "$r/.complete"
}

airflow_image() {
  airflow_rootfs
  import_rootfs "$AIRFLOW_ROOTFS" "$AIRFLOW_IMAGE" \
    --change 'ENV AIRFLOW_HOME=/opt/airflow' \
    --change 'ENV AIRFLOW_USER_HOME_DIR=/home/airflow' \
    --change 'ENV AIRFLOW_UID=50000' \
    --change 'ENV HOME=/home/airflow' \
    --change 'ENV PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change 'ENV DUMB_INIT_SETSID=1' \
    --change 'WORKDIR /opt/airflow' \
    --change 'USER 50000' \
    --change 'EXPOSE 8080' \
    --change 'ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]' \
    --change 'CMD []'
}

postgres_rootfs() {
  local r=$POSTGRES_ROOTFS
  [ -f "$r/.complete" ] && return 0
  debian_rootfs "$r" "$POSTGRES_PKGS" postgres
  install -m 0755 "$FILES/postgres-entrypoint.sh" "$r/usr/local/bin/docker-entrypoint.sh"
  # The official alpine image's postgres user is 70:70, which koala's StatefulSet runs as.
  chroot "$r" /bin/bash -ec '
    old_uid=$(id -u postgres); old_gid=$(id -g postgres)
    groupmod -g 70 postgres && usermod -u 70 -g 70 postgres
    find / -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h 70:70 {} +
    mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d
    chown -R 70:70 /var/lib/postgresql /var/run/postgresql && chmod 3777 /var/run/postgresql'
  touch "$r/.complete"
}

postgres_image() {
  postgres_rootfs
  import_rootfs "$POSTGRES_ROOTFS" "$POSTGRES_IMAGE-rootfs" \
    --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'USER 70' \
    --change 'EXPOSE 5432' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]'
  # SIGINT is Postgres's fast shutdown, as in the official image; docker import cannot set it.
  context_build "$POSTGRES_IMAGE" "FROM $POSTGRES_IMAGE-rootfs
STOPSIGNAL SIGINT"
  docker rmi "$POSTGRES_IMAGE-rootfs" >/dev/null
}

have "$POSTGRES_IMAGE" || timed postgres-image postgres_image
have "$AIRFLOW_IMAGE" || timed airflow-image airflow_image
log "done in $((SECONDS - T0))s: $AIRFLOW_IMAGE $POSTGRES_IMAGE"
