# shellcheck shell=bash
# Helpers shared by the scripts that build koala's test images into the kind Docker daemon from
# package registries (build-platform-images.sh, build-airflow-images.sh). Sourced, never run.
# The caller sets C (its cache dir) and LOG_NAME before sourcing.

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$LOG_NAME" -1 "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$LOG_NAME" "$*" >&2; exit 1; }
key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

timed() { # timed NAME COMMAND...: run it, log and record its wall time in $C/logs/timings.txt
  local name=$1 t=$SECONDS; shift
  "$@" || return
  log "$name: $((SECONDS - t))s"
  printf '%s %s %ss\n' "$(date -u +%FT%TZ)" "$name" "$((SECONDS - t))" >>"$C/logs/timings.txt"
}

# debian_rootfs DIR PACKAGES NAME: a minbase Debian ($DEBIAN_SUITE) with PACKAGES in DIR, sharing
# the kind node build's .debs; docs, man pages and apt's lists removed. No-op once complete.
debian_rootfs() {
  local dir=$1 pkgs=$2 name=$3
  [ -f "$dir/.complete" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
  log "$name rootfs: debootstrap $DEBIAN_SUITE (log: $C/logs/rootfs-$name.log)"
  rm -rf --one-file-system "$dir"; mkdir -p "$dir" "$KOALA_TESTBED_CACHE/kind-node/debs"
  nice -n 10 debootstrap --variant=minbase --include="$pkgs" --cache-dir="$KOALA_TESTBED_CACHE/kind-node/debs" \
    "$DEBIAN_SUITE" "$dir" "${KOALA_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$C/logs/rootfs-$name.log" 2>&1 ||
    { tail -n 20 "$C/logs/rootfs-$name.log" >&2; die "debootstrap of the $name rootfs failed"; }
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  : >"$dir/etc/resolv.conf"; : >"$dir/etc/hostname"
}

import_rootfs() { # import_rootfs DIR TAG [--change ...]...
  local dir=$1 tag=$2; shift 2
  tar -C "$dir" --exclude=./.complete --numeric-owner -cf - . | docker import "$@" - "$tag" >/dev/null
}

# A Dockerfile build from a local base (no pull: the base is in the daemon) in a temp context.
context_build() { # context_build TAG DOCKERFILE_TEXT FILE...
  local tag=$1 text=$2 ctx; shift 2
  ctx=$(mktemp -d /var/tmp/koala-platform.XXXXXX)
  [ $# -eq 0 ] || cp "$@" "$ctx/"
  printf '%s\n' "$text" >"$ctx/Dockerfile"
  docker build -q -t "$tag" "$ctx" >/dev/null || { rm -rf "$ctx"; die "docker build of $tag failed"; }
  rm -rf "$ctx"
}
