#!/usr/bin/env bash
# Make sure a Docker daemon answers `docker info`, installing and starting
# Debian's docker.io if needed. Idempotent: a working daemon is left alone.
#
# Why this exists: the machines (dev and CI) ship only a docker *client*
# (/usr/local/bin/docker) and no init system that could start a daemon, and
# no container registry is reachable. Debian's docker.io package provides a
# dockerd that runs ordinary (non-privileged) containers here.
#
# The daemon is the one on the default socket, /var/run/docker.sock: other daemons (such as
# scripts/docker/ensure-kind-dockerd.sh's, on a socket of its own) are neither waited for nor
# touched. A daemon is recognised by the socket it serves, never by its process name.
#
# Environment knobs (all optional):
#   KOALA_DOCKERD_LOG            log file for dockerd (default /var/log/koala-dockerd.log)
#   KOALA_DOCKERD_TIMEOUT        seconds to wait for `docker info` (default 60)
#   KOALA_DOCKER_STORAGE_DRIVER  force a storage driver (default: auto, see below)
#   KOALA_DOCKERD_IPTABLES       "true"/"false" (default: auto, see below)
#   KOALA_DOCKERD_SOCKET         the daemon's socket (default /var/run/docker.sock); another one
#                                starts dockerd with -H, and then needs the two below
#   KOALA_DOCKERD_PIDFILE        its pid file (default /var/run/docker.pid)
#   KOALA_DOCKERD_DATA_ROOT      its data root (default /var/lib/docker)
set -euo pipefail

LOG=${KOALA_DOCKERD_LOG:-/var/log/koala-dockerd.log}
TIMEOUT=${KOALA_DOCKERD_TIMEOUT:-60}
DEFAULT_SOCK=/var/run/docker.sock
SOCK=${KOALA_DOCKERD_SOCKET:-$DEFAULT_SOCK}
PIDFILE=${KOALA_DOCKERD_PIDFILE:-/var/run/docker.pid}
DATA_ROOT=${KOALA_DOCKERD_DATA_ROOT:-/var/lib/docker}

say() { printf 'ensure-dockerd: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Asks the daemon on $SOCK, whatever DOCKER_HOST the caller has.
docker_ok() { DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# A daemon that answers may have lost its docker0 link to another daemon's start.
restore_bridge() { KOALA_DOCKERD_SOCKET=$SOCK bash "$HERE/restore-default-bridge.sh"; }

if docker_ok; then
  restore_bridge
  exit 0
fi

[ "$(id -u)" = 0 ] || die "not root and no working daemon; run as root (or start dockerd yourself)"

# --- install ------------------------------------------------------------
# The preinstalled client lives in /usr/local/bin; dockerd does not exist
# until docker.io is installed. The package also pulls containerd, runc,
# tini and iptables. --no-install-recommends skips apparmor/needrestart,
# which are useless (and noisy) on these machines.
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  say "dockerd or docker not found; installing Debian docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() {
    apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      docker.io >/tmp/koala-apt-docker.log 2>&1
  }
  # A fresh machine may have no (or stale) package lists: update only when
  # the first attempt fails, so a warm machine doesn't pay for it.
  if ! apt_install; then
    apt-get update -q >>/tmp/koala-apt-docker.log 2>&1 || true
    apt_install || { tail -n 30 /tmp/koala-apt-docker.log >&2; die "apt-get install docker.io failed (log: /tmp/koala-apt-docker.log)"; }
  fi
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd still not on PATH"
fi

# --- already starting? ---------------------------------------------------
# If a dockerd for $SOCK is alive (e.g. a parallel run just launched it, or the package's init
# script did), don't start a second one on the same data root: just wait for it below.
# Alive = exists and is not a zombie. PID 1 on these machines is not an init that reaps
# orphans, so a dockerd that died (kill -9, crash) can stay a zombie, which `kill -0` alone
# would take for a running daemon.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  case $(ps -o stat= -p "$1" 2>/dev/null) in ''|Z*) return 1 ;; esac
}

# The sockets a dockerd process serves, from its command line (-H/--host, any spelling); none
# given means the default socket (fd:// is systemd handing it the default socket).
dockerd_sockets() {
  local prev="" arg
  local -a hosts=()
  while IFS= read -r -d '' arg; do
    case $prev in -H | --host) hosts+=("$arg") ;; esac
    case $arg in --host=* | -H=*) hosts+=("${arg#*=}") ;; -H?*) hosts+=("${arg#-H}") ;; esac
    prev=$arg
  done 2>/dev/null <"/proc/$1/cmdline" || return 1
  [ ${#hosts[@]} -gt 0 ] || hosts=("unix://$DEFAULT_SOCK")
  for arg in "${hosts[@]}"; do
    case $arg in fd://*) echo "$DEFAULT_SOCK" ;; unix://*) echo "${arg#unix://}" ;; esac
  done
}

same_path() { [ "$(readlink -m "$1")" = "$(readlink -m "$2")" ]; }

dockerd_pid() {
  local pid sock
  if [ -s "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    alive "$pid" && { printf '%s\n' "$pid"; return 0; }
  fi
  # A daemon started with another --pidfile may still serve $SOCK: ask each dockerd which
  # sockets it serves. Its name alone says nothing: a second daemon has its own socket.
  for pid in $(pgrep -x dockerd 2>/dev/null || true); do
    alive "$pid" || continue
    while IFS= read -r sock; do
      same_path "$sock" "$SOCK" && { printf '%s\n' "$pid"; return 0; }
    done < <(dockerd_sockets "$pid")
  done
  return 1
}

if ! pid=$(dockerd_pid); then
  # dockerd refuses to start while its pid file names a live pid, and a
  # zombie counts as live to it: drop a pid file whose daemon is gone.
  rm -f "$PIDFILE"
  # --- choose settings ---------------------------------------------------
  # Storage driver: overlay2 is fast and space-efficient, but needs the
  # kernel's overlay fs AND a backing fs that isn't itself overlay (as in a
  # container-in-container). Here / is ext4 and the kernel has overlay built
  # in, so overlay2 works; fall back to vfs (full copy per layer: slow, big,
  # but works everywhere) when the check fails.
  driver=${KOALA_DOCKER_STORAGE_DRIVER:-}
  if [ -z "$driver" ]; then
    mkdir -p "$DATA_ROOT"
    backing=$(stat -fc %T "$DATA_ROOT" 2>/dev/null || echo unknown)
    if grep -qw overlay /proc/filesystems && [ "$backing" != overlayfs ] && [ "$backing" != tmpfs ]; then
      driver=overlay2
    else
      driver=vfs
    fi
  fi

  # iptables: keep Docker's iptables management ON when the kernel's nat
  # table works. Reason: on a user-defined network containers resolve each
  # other by name through the embedded DNS at 127.0.0.11, which Docker wires
  # with NAT rules inside each container's netns; and -p host:container
  # publishing plus inter-container traffic are set up with the same rules.
  # Only if iptables can't touch the nat table (kernel without netfilter)
  # do we fall back to --iptables=false (name resolution on user networks
  # may then break; see test/images/README.md).
  iptables_flag=${KOALA_DOCKERD_IPTABLES:-}
  if [ -z "$iptables_flag" ]; then
    if command -v iptables >/dev/null 2>&1 && iptables -t nat -S >/dev/null 2>&1; then
      iptables_flag=true
    else
      iptables_flag=false
      say "iptables nat table unusable; starting dockerd with --iptables=false"
    fi
  fi

  mkdir -p "$(dirname "$LOG")"
  say "starting dockerd on $SOCK (storage-driver=$driver, iptables=$iptables_flag), log: $LOG"
  # No systemd/sysvinit here (PID 1 is not an init system), so run dockerd
  # directly. setsid+nohup detach it from this shell so it outlives the
  # script (and the CI step that called it). dockerd starts its own
  # containerd child because no system containerd is running.
  # The default socket is dockerd's own default (daemon.json may name hosts too; -H would clash).
  where=()
  same_path "$SOCK" "$DEFAULT_SOCK" || where=(-H "unix://$SOCK")
  setsid nohup dockerd "${where[@]}" \
    --pidfile="$PIDFILE" \
    --data-root="$DATA_ROOT" \
    --storage-driver="$driver" \
    --iptables="$iptables_flag" \
    >>"$LOG" 2>&1 </dev/null &
  started_pid=$!
else
  say "dockerd for $SOCK already running (pid $pid); waiting for it"
  started_pid=$pid
fi

# --- wait (bounded) -------------------------------------------------------
deadline=$((SECONDS + TIMEOUT))
until docker_ok; do
  if ! alive "$started_pid"; then
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    die "dockerd (pid $started_pid) exited during startup; see $LOG"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    die "dockerd did not answer 'docker info' on $SOCK within ${TIMEOUT}s; see $LOG"
  fi
  sleep 1
done
say "dockerd is up on $SOCK ($(DOCKER_HOST=unix://$SOCK docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
