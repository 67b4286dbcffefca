#!/usr/bin/env bash
# A second Docker daemon for the real-kind test tier, on its own socket, whose default OCI
# runtime is scripts/docker/runc-wrapper (kind's nodes are --privileged containers, and runc
# refuses those on machines whose capability bounding set lacks a capability Docker grants).
# The default daemon (scripts/docker/ensure-dockerd.sh, used by the other tests) is left alone:
# this one has its own data root, exec root, containerd, pid file, cgroup parent and address pool.
#
#   scripts/docker/ensure-kind-dockerd.sh          start it (no-op when it answers)
#   scripts/docker/ensure-kind-dockerd.sh --host   print its DOCKER_HOST and exit
#   scripts/docker/ensure-kind-dockerd.sh --stop   stop it (its containers stop with it)
#
# Why these settings:
#   --iptables=false, --ip-masq=false: no iptables chains of its own, so it never fights the
#     default daemon over DOCKER/DOCKER-ISOLATION chains. Published ports still work through
#     docker-proxy, and the embedded DNS on user networks too.
#   --bridge=koala-kind0 (10.231.0.1/24, made here): its own default bridge, not docker0. A
#     container must start on a bridge for -p to publish its port (koala's registry starts on
#     the default network and joins "kind" afterwards); with --bridge=none it gets no port, and
#     removing it leaves a stale endpoint on "kind".
#   default-address-pools: user networks (kind's "kind") come from 10.230.0.0/16, never from
#     172.17/16, which docker0 of the default daemon takes.
#   inotify limits raised to what kind asks for multi-node clusters: every node's systemd,
#     containerd, kubelet and pods take inotify instances from the host's one per-user budget
#     (all nodes run as root), and at the default of 128 a 4-node cluster can leave a node's
#     kubelet unable to start pods, so the node never turns Ready. koala's own preflight fails
#     on those limits; the real-kind tests run with it on.
#   FORWARD accepts bridged frames: with br_netfilter on, frames between two containers on one
#     bridge pass the host's FORWARD chain, whose policy the default daemon sets to DROP once it
#     enables ip_forward. Docker itself accepts same-bridge traffic for its own bridges.
#
# Environment: KOALA_KIND_DOCKER_ROOT (default /var/lib/koala-kind-docker),
#   KOALA_KIND_DOCKER_RUN (default /run/koala-kind-docker), KOALA_KIND_DOCKERD_LOG,
#   KOALA_KIND_DOCKER_POOL (default 10.230.0.0/16), KOALA_KIND_DOCKER_BRIDGE_CIDR (default
#   10.231.0.1/24), KOALA_TESTBED_CACHE (the wrapper's cache).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${KOALA_KIND_DOCKER_ROOT:-/var/lib/koala-kind-docker}
RUN=${KOALA_KIND_DOCKER_RUN:-/run/koala-kind-docker}
LOG=${KOALA_KIND_DOCKERD_LOG:-/var/log/koala-kind-dockerd.log}
POOL=${KOALA_KIND_DOCKER_POOL:-10.230.0.0/16}
BRIDGE=koala-kind0
BRIDGE_CIDR=${KOALA_KIND_DOCKER_BRIDGE_CIDR:-10.231.0.1/24}
SOCK=$RUN/docker.sock
PIDFILE=$RUN/docker.pid
export DOCKER_HOST=unix://$SOCK

say() { printf 'ensure-kind-dockerd: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
alive() { kill -0 "$1" 2>/dev/null && case $(ps -o stat= -p "$1" 2>/dev/null) in '' | Z*) false ;; *) true ;; esac; }

case "${1:-}" in
  --host) echo "$DOCKER_HOST"; exit 0 ;;
  --stop)
    if [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
      pid=$(cat "$PIDFILE"); kill "$pid"
      for _ in $(seq 60); do alive "$pid" || break; sleep 0.5; done
      say "stopped (pid $pid)"
    fi
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--host|--stop]" >&2; exit 2 ;;
esac

forward_rule() {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -C FORWARD -m physdev --physdev-is-bridged -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD 1 -m physdev --physdev-is-bridged -j ACCEPT ||
    say "WARNING: could not add the FORWARD rule for bridged frames"
}

# Raises fs.inotify.* to at least what multi-node kind needs (the values koala's preflight checks).
host_limits() {
  local key min have
  for kv in max_user_watches=524288 max_user_instances=512; do
    key=${kv%%=*} min=${kv#*=}
    have=$(cat "/proc/sys/fs/inotify/$key")
    [ "$have" -ge "$min" ] && continue
    if ! sysctl -qw "fs.inotify.$key=$min" 2>/dev/null; then
      [ "${CI:-}" = true ] && die "fs.inotify.$key is $have and could not be raised to $min (kind's nodes need it)"
      say "WARNING: fs.inotify.$key is $have and could not be raised to $min; koala's preflight will refuse multi-node clusters"
    fi
  done
}

# The wrapper: built from its source into the test bed cache, keyed by the source's hash.
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
sum=$(cat "$HERE/runc-wrapper/go.mod" "$HERE/runc-wrapper/main.go" | sha256sum | cut -c1-12)
WRAPPER=$KOALA_TESTBED_CACHE/runc-wrapper-$sum/runc-wrapper
if [ ! -x "$WRAPPER" ]; then
  command -v go >/dev/null 2>&1 || die "go is needed to build $HERE/runc-wrapper"
  mkdir -p "$(dirname "$WRAPPER")"
  (cd "$HERE/runc-wrapper" && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    GOCACHE="$KOALA_TESTBED_CACHE/gocache" go build -trimpath -ldflags='-s -w' -o "$WRAPPER.tmp" .) ||
    die "building the runc wrapper failed"
  mv "$WRAPPER.tmp" "$WRAPPER"
fi

forward_rule
host_limits
if docker info >/dev/null 2>&1; then
  rt=$(docker info --format '{{.DefaultRuntime}}')
  [ "$rt" = koala-runc ] || die "the daemon on $SOCK runs with default runtime '$rt', not koala-runc"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "not root: cannot start a Docker daemon"
command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed: run scripts/docker/ensure-dockerd.sh (it installs docker.io)"
REAL_RUNC=$(command -v runc || true)
[ -n "$REAL_RUNC" ] || die "runc is not installed (it comes with docker.io)"

if [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
  say "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
else
  rm -f "$PIDFILE"
  mkdir -p "$ROOT" "$RUN" "$(dirname "$LOG")"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    { ip link add "$BRIDGE" type bridge && ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"; } || die "could not create bridge $BRIDGE"
  fi
  ip link set "$BRIDGE" up
  cat >"$RUN/daemon.json" <<JSON
{
  "runtimes": { "koala-runc": { "path": "$WRAPPER" } },
  "default-runtime": "koala-runc",
  "default-address-pools": [ { "base": "$POOL", "size": 24 } ]
}
JSON
  say "starting dockerd on $SOCK (runtime $WRAPPER -> $REAL_RUNC), log: $LOG"
  KOALA_REAL_RUNC=$REAL_RUNC setsid nohup dockerd \
    --config-file "$RUN/daemon.json" \
    -H "$DOCKER_HOST" \
    --data-root "$ROOT" \
    --exec-root "$RUN/exec" \
    --pidfile "$PIDFILE" \
    --storage-driver overlay2 \
    --iptables=false --ip-masq=false --bridge="$BRIDGE" \
    --cgroup-parent /koala-kind \
    >>"$LOG" 2>&1 </dev/null &
fi
deadline=$((SECONDS + ${KOALA_DOCKERD_TIMEOUT:-60}))
until docker info >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOG" >&2; die "no answer on $SOCK within the timeout"; }
  sleep 1
done
say "up: $(docker info --format '{{.ServerVersion}} {{.Driver}} runtime={{.DefaultRuntime}} cgroup v{{.CgroupVersion}}')"
# This daemon's start deleted the default daemon's docker0 (dockerd does that when --bridge names
# another bridge): give it back.
bash "$HERE/restore-default-bridge.sh"
