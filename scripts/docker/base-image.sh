#!/usr/bin/env bash
# Build the small local images koala's Docker tests use, WITHOUT pulling:
# no container registry is reachable from these machines, so every image
# is made from Debian packages (or a Go module) and `docker import`ed.
#
#   koala-test/base:1      busybox-static rootfs (/bin/sh + ~270 applets), ~2 MB.
#                          For test Dockerfiles: FROM koala-test/base:1, COPY, RUN echo.
#   koala-test/python:1    Debian bookworm minbase + python3 via debootstrap.
#                          Stands in for big images (e.g. apache/spark) in build tests.
#   koala-test/registry:3  distribution v3 registry (static Go binary) FROM scratch,
#                          listening on :5000, storage in /var/lib/registry.
#   koala-test/devcontainer:1  Debian bookworm minbase + libstdc++6 and CA certificates: what
#                          Node needs, for the real-kind tier's devcontainer (Node, koala and
#                          the tools are mounted into it; Docker is the host's, by its socket).
#
# Usage: scripts/docker/base-image.sh [base|python|registry|devcontainer|all]...   (default: all but devcontainer)
# Idempotent: an image whose tag already exists is skipped. KOALA_REBUILD=1
# forces a rebuild. Bump the tag (":1" -> ":2") when an image's content
# changes, so stale machines rebuild instead of reusing the old one.
#
# Environment knobs (optional):
#   KOALA_REBUILD=1        rebuild even if the tag exists
#   KOALA_DEBIAN_MIRROR    Debian mirror for debootstrap (default: taken from apt sources)
#   KOALA_REGISTRY_BIN     path to a prebuilt static `registry` binary
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/koala-docker
REGISTRY_MODULE=github.com/distribution/distribution/v3/cmd/registry
REGISTRY_VERSION=v3.1.2

BASE_TAG=koala-test/base:1
PYTHON_TAG=koala-test/python:1
DEVCONTAINER_TAG=koala-test/devcontainer:1
REGISTRY_TAG=koala-test/registry:3

say() { printf 'base-image: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Tags are versioned; an existing tag means this content is already built.
have_image() { [ "${KOALA_REBUILD:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

# Install Debian packages only when the command is missing. Update the
# lists only if the first attempt fails (fresh machine / stale lists).
need_pkg() { # need_pkg COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 missing and not root to apt-get install $2"
  say "installing $2"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$2" >/tmp/koala-apt-"$2".log 2>&1 || {
    apt-get update -q >>/tmp/koala-apt-"$2".log 2>&1 || true
    apt-get install -y -q --no-install-recommends "$2" >>/tmp/koala-apt-"$2".log 2>&1 ||
      die "apt-get install $2 failed (log: /tmp/koala-apt-$2.log)"
  }
}

# Work dirs live on disk (/var/tmp), not tmpfs, and are removed on any exit.
WORKDIRS=()
cleanup() {
  local d m
  for d in "${WORKDIRS[@]+"${WORKDIRS[@]}"}"; do
    # debootstrap may leave /proc etc. mounted in the target if it fails.
    for m in proc sys dev/pts dev; do
      mountpoint -q "$d/rootfs/$m" 2>/dev/null && umount -l "$d/rootfs/$m" || true
    done
    # --one-file-system: never descend into a mount debootstrap left behind.
    rm -rf --one-file-system "$d"
  done
}
trap cleanup EXIT
# Sets $w (not echoed: a $(...) subshell would lose the WORKDIRS entry).
new_workdir() { w=$(mktemp -d /var/tmp/koala-image.XXXXXX); WORKDIRS+=("$w"); }

# tar a rootfs dir into `docker import`. Fixed owner/mtime/order make the
# layer bytes (and so its digest) the same on every machine for the
# busybox/registry images, which keeps registry pushes cacheable.
import_rootfs() { # import_rootfs DIR TAG [--change ...]...
  local dir=$1 tag=$2; shift 2
  tar -C "$dir" --sort=name --numeric-owner --owner=0 --group=0 \
      --mtime=@0 -cf - . | docker import "$@" - "$tag" >/dev/null
}

# ---------------------------------------------------------------------------
build_base() {
  if have_image "$BASE_TAG"; then say "$BASE_TAG exists, skipping"; return; fi
  need_pkg busybox busybox-static
  local bb w r applet
  bb=$(command -v busybox)
  # The Debian busybox-static binary is fully static; refuse a dynamic one
  # (e.g. the `busybox` package) because the image has no libc.
  if ! LC_ALL=C file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    ldd "$bb" >/dev/null 2>&1 && die "$bb is dynamically linked; install busybox-static"
  fi
  new_workdir; r=$w/rootfs
  mkdir -p "$r"/{bin,etc,root,tmp,proc,sys,dev,var/tmp}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  cp "$bb" "$r/bin/busybox"
  # One relative symlink per applet, so /bin/sh, /bin/echo, /bin/cat... exist.
  # Everything goes in /bin (PATH below covers it); applets that busybox
  # lists with a path still resolve because we only take the basename.
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$r/bin/$applet"
  done
  # Minimal user db: RUN/USER root and tools like `id` need them.
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  import_rootfs "$r" "$BASE_TAG" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' \
    --change 'LABEL org.koala.test-image=base'
  say "built $BASE_TAG"
}

# ---------------------------------------------------------------------------
# The Debian mirror the machine's apt already uses (the only one reachable),
# read from deb822 .sources or one-line sources.list, for the host's suite.
debian_mirror() {
  [ -n "${KOALA_DEBIAN_MIRROR:-}" ] && { printf '%s\n' "$KOALA_DEBIAN_MIRROR"; return; }
  local suite=$1 m=""
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
      /^$/ { if (u != "" && ok) { print u; exit } u=""; ok=0; next }
      /^URIs:/ { u=$2 }
      /^Suites:/ { for (i=2;i<=NF;i++) if ($i==s) ok=1 }
      END { if (u != "" && ok) print u }' | head -n1)
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk -v s="$suite" '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1)==s) { print $i; exit } } }' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || die "no Debian mirror for '$suite' in apt sources; set KOALA_DEBIAN_MIRROR"
  printf '%s\n' "$m"
}

# debootstrap bookworm minbase plus PACKAGES, slimmed, imported as TAG.
build_debian() { # build_debian TAG PACKAGES LABEL CMD
  local tag=$1 packages=$2 label=$3 cmd=$4
  if have_image "$tag"; then say "$tag exists, skipping"; return; fi
  need_pkg debootstrap debootstrap
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  local suite=bookworm mirror w r
  mirror=$(debian_mirror "$suite")
  new_workdir; r=$w/rootfs
  # Keep downloaded .debs across runs: a rebuild (after `docker image prune`
  # or KOALA_REBUILD=1) then only unpacks and configures.
  mkdir -p "$CACHE/debootstrap"
  say "debootstrap $suite minbase + $packages (a minute or two cold)"
  if ! debootstrap --variant=minbase --include="$packages" --components=main \
        --cache-dir="$CACHE/debootstrap" \
        "$suite" "$r" "$mirror" >"$w/debootstrap.log" 2>&1; then
    tail -n 30 "$w/debootstrap.log" >&2
    [ -f "$r/debootstrap/debootstrap.log" ] && tail -n 30 "$r/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # Slim it (python: 148 MB -> ~115 MB): package caches, apt lists, docs and
  # translated messages (33 MB of /usr/share/locale) are not needed at run
  # time; LANG=C.UTF-8 below needs no locale data.
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin \
         "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* "$r"/usr/share/man/* \
         "$r"/usr/share/info/* "$r"/var/log/*.log "$r"/var/log/apt/*
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  # debootstrap copies the host's resolv.conf/hostname; docker manages them.
  : >"$r/etc/resolv.conf"; : >"$r/etc/hostname"
  import_rootfs "$r" "$tag" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "CMD $cmd" \
    --change "LABEL org.koala.test-image=$label"
  say "built $tag"
}
build_python() { build_debian "$PYTHON_TAG" python3 python '["python3"]'; }
build_devcontainer() { build_debian "$DEVCONTAINER_TAG" libstdc++6,ca-certificates devcontainer '["sleep", "infinity"]'; }

# ---------------------------------------------------------------------------
# A registry binary is a static Go build of distribution v3. Reuse one that
# exists (ours, or the one scripts/testbed/build.sh puts in
# ~/.cache/koala-testbed/<tag>/bin), else build it into our cache: a cold
# build downloads ~100 modules and compiles for ~3 minutes on 2 cores.
is_static_registry() {
  [ -x "$1" ] || return 1
  # `go version -m` reads the embedded build info: check module + no cgo.
  local info; info=$(go version -m "$1" 2>/dev/null) || return 1
  # `path` (not `mod`): scripts/testbed builds it from a wrapper module.
  grep -Eq "path[[:space:]]+$REGISTRY_MODULE\$" <<<"$info" &&
    grep -q 'CGO_ENABLED=0' <<<"$info"
}

find_registry_bin() {
  local c
  for c in "${KOALA_REGISTRY_BIN:-}" "$CACHE/bin/registry" \
           $(find "${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}" -maxdepth 3 -type f -name registry 2>/dev/null); do
    [ -n "$c" ] && is_static_registry "$c" && { printf '%s\n' "$c"; return 0; }
  done
  return 1
}

build_registry() {
  if have_image "$REGISTRY_TAG"; then say "$REGISTRY_TAG exists, skipping"; return; fi
  command -v go >/dev/null 2>&1 || die "go is required to build the registry binary"
  local bin w r
  if ! bin=$(find_registry_bin); then
    say "building $REGISTRY_MODULE@$REGISTRY_VERSION (static; ~2-3 min cold)"
    mkdir -p "$CACHE/bin"
    # CGO_ENABLED=0: the image is FROM scratch, so no libc to link against.
    # GOFLAGS is overridden because a caller's -mod=vendor etc. would break
    # `go install pkg@version`. GOTOOLCHAIN=local: never fetch another Go.
    # -X stamps the version, which `go install` would leave as "+unknown".
    CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$CACHE/bin" GOFLAGS=-trimpath \
      go install -ldflags="-s -w -X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" \
      "$REGISTRY_MODULE@$REGISTRY_VERSION" ||
      die "go install $REGISTRY_MODULE@$REGISTRY_VERSION failed"
    bin=$CACHE/bin/registry
    is_static_registry "$bin" || die "$bin is not a static distribution build"
  fi
  say "using registry binary $bin"
  new_workdir; r=$w/rootfs
  mkdir -p "$r"/bin "$r"/etc/distribution "$r"/var/lib/registry "$r"/tmp
  chmod 1777 "$r/tmp"
  cp "$bin" "$r/bin/registry"
  cp "$HERE/registry-config.yml" "$r/etc/distribution/config.yml"
  import_rootfs "$r" "$REGISTRY_TAG" \
    --change 'ENTRYPOINT ["/bin/registry"]' \
    --change 'CMD ["serve", "/etc/distribution/config.yml"]' \
    --change 'EXPOSE 5000' \
    --change 'LABEL org.koala.test-image=registry'
  say "built $REGISTRY_TAG"
}

# ---------------------------------------------------------------------------
docker info >/dev/null 2>&1 || die "no Docker daemon; run scripts/docker/ensure-dockerd.sh first"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(all)
for t in "${targets[@]}"; do
  case $t in
    base) build_base ;;
    python) build_python ;;
    registry) build_registry ;;
    devcontainer) build_devcontainer ;;
    all) build_base; build_registry; build_python ;;
    *) die "unknown target '$t' (base|python|registry|devcontainer|all)" ;;
  esac
done
