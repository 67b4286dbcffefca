#!/usr/bin/env bash
# Build the images of koala's platform into the kind Docker daemon, from package registries
# only (no container registry is reachable here), for the real-kind platform test:
#
#   koala-test/spark:<PYSPARK_VERSION>-<key>   Spark for apps: Debian bookworm with OpenJDK 17,
#       Python 3 and pyspark from PyPI laid out as apache/spark images are: SPARK_HOME=/opt/spark
#       (bin/, jars/, sbin/), /opt/entrypoint.sh for Spark's `driver`/`executor` pods under tini,
#       the spark user 185, WORKDIR /opt/spark/work-dir.
#   koala-test/spark-operator:<SPARK_OPERATOR_VERSION>-<key>   that image plus the operator's
#       controller (build-spark-operator.sh) as /usr/bin/spark-operator, started by
#       /usr/bin/entrypoint.sh, with the webhook's certificate dir writable by 185.
#   koala-test/minio:<key>, koala-test/mc:<key>   busybox (koala-test/base:1) plus the MinIO
#       server and client built from their Go modules. MinIO's community edition is archived and
#       the proxy serves neither the pinned release's tag nor its commit, so both are the newest
#       commit it serves (MINIO_VERSION, MC_VERSION below).
#   koala-test/caddy:<CADDY_VERSION>-<key>   busybox plus Caddy built from its Go module at the
#       pinned release, laid out as the official caddy image is (/usr/bin/caddy, XDG_CONFIG_HOME
#       /config, XDG_DATA_HOME /data, WORKDIR /srv): koala's gateway.
#
#   scripts/testbed/build-platform-images.sh              build what is missing (no-op when built)
#   scripts/testbed/build-platform-images.sh --print      print KEY=image lines, build nothing
#   scripts/testbed/build-platform-images.sh --check      exit 0 when every image is in the daemon
#   scripts/testbed/build-platform-images.sh --caddy-bin  build (when missing) and print the caddy binary
#
# Cache: $KOALA_TESTBED_CACHE/platform/ (tools/<tool>-<key>, rootfs/spark-<key>; the .debs are the
# kind node build's, kind-node/debs). Each tag carries a key of everything that goes into it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES=$HERE/platform-images
# shellcheck source=versions.env
. "$HERE/versions.env"
# shellcheck source=kind-node.env
. "$HERE/kind-node.env"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
C=$KOALA_TESTBED_CACHE/platform
DOCKER_HOST=${KOALA_KIND_DOCKER_HOST:-$(bash "$HERE/../docker/ensure-kind-dockerd.sh" --host)}
export DOCKER_HOST

# The newest commits of the archived MinIO server and client that the Go module proxy serves.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
# Caddy at the release of koala's pinned gateway image (assets/charts/pins.yaml images.gateway).
CADDY_VERSION=v2.11.9
SPARK_PKGS=openjdk-17-jre-headless,python3,tini,procps,bash,ca-certificates,libnss-wrapper
RECIPE_REV=1

LOG_NAME=platform-images
# shellcheck source=image-lib.sh
. "$HERE/image-lib.sh"

GOVERSION=$(GOTOOLCHAIN=local go env GOVERSION)
OPERATOR_BIN=$(bash "$HERE/build-spark-operator.sh" --print-bin)
declare -A TOOL_KEY=(
  [minio]=$(key minio "$MINIO_VERSION" "$GOVERSION" 1)
  [mc]=$(key mc "$MC_VERSION" "$GOVERSION" 1)
  [caddy]=$(key caddy "$CADDY_VERSION" "$GOVERSION" 1)
)
ROOTFS_KEY=$(key "$DEBIAN_SUITE" "$SPARK_PKGS" "$PYSPARK_VERSION" 1)
tool_dir() { echo "$C/tools/$1-${TOOL_KEY[$1]}"; }
ROOTFS=$C/rootfs/spark-$ROOTFS_KEY
filesum() { sha256sum "$FILES/$1" | cut -c1-12; }

SPARK_IMAGE=koala-test/spark:$PYSPARK_VERSION-$(key "$RECIPE_REV" "$ROOTFS_KEY" "$(filesum spark-entrypoint.sh)")
OPERATOR_IMAGE=koala-test/spark-operator:$SPARK_OPERATOR_VERSION-$(key "$RECIPE_REV" "$SPARK_IMAGE" \
  "$(basename "$(dirname "$(dirname "$OPERATOR_BIN")")")" "$(filesum operator-entrypoint.sh)")
MINIO_IMAGE=koala-test/minio:$(key "$RECIPE_REV" "${TOOL_KEY[minio]}" "$(filesum minio-entrypoint.sh)")
MC_IMAGE=koala-test/mc:$(key "$RECIPE_REV" "${TOOL_KEY[mc]}")
CADDY_IMAGE=koala-test/caddy:${CADDY_VERSION#v}-$(key "$RECIPE_REV" "${TOOL_KEY[caddy]}")
IMAGES=("$SPARK_IMAGE" "$OPERATOR_IMAGE" "$MINIO_IMAGE" "$MC_IMAGE" "$CADDY_IMAGE")

# --- MinIO, mc and Caddy from their Go modules ----------------------------------------------------
export GOMODCACHE="$KOALA_TESTBED_CACHE/gomod" GOCACHE="$KOALA_TESTBED_CACHE/gocache"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false"
go_tool() { # go_tool NAME MODULE VERSION
  local d; d=$(tool_dir "$1")
  [ -x "$d/bin/$1" ] && return 0
  log "$1: go install $2@$3 (log: $C/logs/$1.log)"
  rm -rf "$d"; mkdir -p "$d/bin.tmp"
  GOBIN="$d/bin.tmp" nice -n 10 go install -trimpath -ldflags "-s -w" "$2@$3" >"$C/logs/$1.log" 2>&1 ||
    { tail -n 20 "$C/logs/$1.log" >&2; die "building $1 failed"; }
  mv "$d/bin.tmp" "$d/bin"
}

have_all() { local i; for i in "${IMAGES[@]}"; do have "$i" || return 1; done; }

case "${1:-}" in
  --print)
    printf 'spark=%s\nsparkOperator=%s\nminio=%s\nmc=%s\ngateway=%s\n' "$SPARK_IMAGE" "$OPERATOR_IMAGE" "$MINIO_IMAGE" \
      "$MC_IMAGE" "$CADDY_IMAGE"
    exit 0 ;;
  --check) have_all; exit ;;
  --caddy-bin) # the gateway's tests run the binary itself on the host
    mkdir -p "$C/tools" "$C/logs"
    exec 9>"$C/.lock"; flock 9
    go_tool caddy github.com/caddyserver/caddy/v2/cmd/caddy "$CADDY_VERSION" >&2
    echo "$(tool_dir caddy)/bin/caddy"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print|--check|--caddy-bin]" >&2; exit 2 ;;
esac

bash "$HERE/../docker/ensure-kind-dockerd.sh"
if have_all; then log "up to date: ${IMAGES[*]}"; exit 0; fi
have koala-test/base:1 || die "koala-test/base:1 is missing in $DOCKER_HOST (scripts/docker/base-image.sh base)"

mkdir -p "$C/tools" "$C/rootfs" "$C/logs"
exec 9>"$C/.lock"
flock -n 9 || { log "another build holds $C/.lock; waiting"; flock 9; }
T0=$SECONDS
# --- inputs built elsewhere in the test bed (cached there) ----------------------------------------
bash "$HERE/build-spark-operator.sh" >&2
bash "$HERE/pyspark.sh"
PYSPARK_SITE=$(dirname "$(bash "$HERE/pyspark.sh" --print-home)")
[ -x "$PYSPARK_SITE/pyspark/bin/spark-submit" ] || die "no pyspark in $PYSPARK_SITE (scripts/testbed/pyspark.sh)"

# --- the Spark rootfs (debootstrap, sharing the kind node build's .debs) --------------------------
spark_rootfs() {
  [ -f "$ROOTFS/.complete" ] && return 0
  debian_rootfs "$ROOTFS" "$SPARK_PKGS" spark
  # pyspark as apache/spark lays Spark out: the package is SPARK_HOME, importable by python3.
  cp -a "$PYSPARK_SITE/pyspark" "$ROOTFS/opt/spark"
  cp -a "$PYSPARK_SITE/py4j" "$ROOTFS/usr/lib/python3/dist-packages/py4j"
  ln -s /opt/spark "$ROOTFS/usr/lib/python3/dist-packages/pyspark"
  install -m 0755 "$FILES/spark-entrypoint.sh" "$ROOTFS/opt/entrypoint.sh"
  chroot "$ROOTFS" /bin/sh -ec '
    groupadd --system --gid 185 spark
    useradd --system --uid 185 --gid spark --home-dir /nonexistent --shell /bin/false spark
    mkdir -p /opt/spark/work-dir /opt/spark/conf
    chown -R spark:spark /opt/spark
    chmod g+w /opt/spark/work-dir'
  touch "$ROOTFS/.complete"
}

spark_image() {
  spark_rootfs
  import_rootfs "$ROOTFS" "$SPARK_IMAGE" \
    --change 'ENV SPARK_HOME=/opt/spark' \
    --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
    --change 'ENV PATH=/usr/lib/jvm/java-17-openjdk-amd64/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'WORKDIR /opt/spark/work-dir' \
    --change 'USER 185' \
    --change 'ENTRYPOINT ["/opt/entrypoint.sh"]'
}

operator_image() {
  context_build "$OPERATOR_IMAGE" "FROM $SPARK_IMAGE
USER 0
COPY spark-operator /usr/bin/spark-operator
COPY operator-entrypoint.sh /usr/bin/entrypoint.sh
RUN mkdir -p /etc/k8s-webhook-server/serving-certs /home/spark && chmod -R g+rw /etc/k8s-webhook-server/serving-certs && chown -R 185:185 /etc/k8s-webhook-server /home/spark
USER 185:185
ENTRYPOINT [\"/usr/bin/entrypoint.sh\"]" "$OPERATOR_BIN" "$FILES/operator-entrypoint.sh"
}

minio_image() {
  context_build "$MINIO_IMAGE" "FROM koala-test/base:1
COPY minio /usr/bin/minio
COPY minio-entrypoint.sh /usr/bin/docker-entrypoint.sh
ENV MC_CONFIG_DIR=/tmp/.mc
EXPOSE 9000 9001
VOLUME /data
ENTRYPOINT [\"/usr/bin/docker-entrypoint.sh\"]
CMD [\"minio\"]" "$(tool_dir minio)/bin/minio" "$FILES/minio-entrypoint.sh"
}

mc_image() {
  context_build "$MC_IMAGE" "FROM koala-test/base:1
COPY mc /usr/bin/mc
ENV MC_CONFIG_DIR=/tmp/.mc
ENTRYPOINT [\"/usr/bin/mc\"]" "$(tool_dir mc)/bin/mc"
}

caddy_image() {
  context_build "$CADDY_IMAGE" "FROM koala-test/base:1
COPY caddy /usr/bin/caddy
RUN mkdir -p /config/caddy /data/caddy /etc/caddy /srv
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
WORKDIR /srv
EXPOSE 80 443 2019
CMD [\"caddy\", \"run\", \"--config\", \"/etc/caddy/Caddyfile\", \"--adapter\", \"caddyfile\"]" "$(tool_dir caddy)/bin/caddy"
}

# debootstrap waits on the network and the Go builds on the CPU: the rootfs is made beside them.
rootfs_pid=
if ! have "$SPARK_IMAGE"; then
  spark_rootfs & rootfs_pid=$!
  # A failed Go build must not leave debootstrap running (and holding the cache's lock).
  trap '[ -z "$rootfs_pid" ] || kill "$rootfs_pid" 2>/dev/null || true' EXIT
fi
have "$MINIO_IMAGE" || timed minio go_tool minio github.com/minio/minio "$MINIO_VERSION"
have "$MC_IMAGE" || timed mc go_tool mc github.com/minio/mc "$MC_VERSION"
have "$CADDY_IMAGE" || timed caddy go_tool caddy github.com/caddyserver/caddy/v2/cmd/caddy "$CADDY_VERSION"
[ -z "$rootfs_pid" ] || wait "$rootfs_pid" || die "the spark rootfs failed (log: $C/logs/rootfs-spark.log)"
rootfs_pid=
have "$SPARK_IMAGE" || timed spark-image spark_image
have "$OPERATOR_IMAGE" || timed operator-image operator_image
have "$MINIO_IMAGE" || timed minio-image minio_image
have "$MC_IMAGE" || timed mc-image mc_image
have "$CADDY_IMAGE" || timed caddy-image caddy_image
log "done in $((SECONDS - T0))s: ${IMAGES[*]}"
