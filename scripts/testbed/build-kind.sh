#!/usr/bin/env bash
# Build the real kind (sigs.k8s.io/kind, KIND_VERSION from versions.env) into
#   $KOALA_TESTBED_CACHE/kind-<KIND_VERSION>-<hash>/bin/kind
# for the test that holds the kind stand-in to kind's own answers. kind's go.mod has no
# replace directives, so a plain `go install` of the tag is the build.
#
#   scripts/testbed/build-kind.sh               build (no-op when the stamp matches)
#   scripts/testbed/build-kind.sh --print-bin   print the binary's path and exit
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
: "${KIND_VERSION:?versions.env must set KIND_VERSION}"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
STAMP="go=$(GOTOOLCHAIN=local go env GOVERSION) KIND_VERSION=$KIND_VERSION"
DIR="$KOALA_TESTBED_CACHE/kind-$KIND_VERSION-$(printf '%s\n' "$STAMP" | sha256sum | cut -c1-12)"
BIN="$DIR/bin/kind"
case "${1:-}" in
  --print-bin) echo "$BIN"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-bin]" >&2; exit 2 ;;
esac
if [[ -x "$BIN" && "$(cat "$DIR/stamp" 2>/dev/null)" == "$STAMP" ]]; then exit 0; fi
export GOMODCACHE="$KOALA_TESTBED_CACHE/gomod" GOCACHE="$KOALA_TESTBED_CACHE/gocache"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false"
mkdir -p "$DIR/bin"
t0=$SECONDS
GOBIN="$DIR/bin" go install "sigs.k8s.io/kind@$KIND_VERSION" >"$DIR/build.log" 2>&1 ||
  { tail -n 30 "$DIR/build.log" >&2; echo "[kind] ERROR: go install sigs.k8s.io/kind@$KIND_VERSION failed" >&2; exit 1; }
"$BIN" version | grep -q "kind ${KIND_VERSION} " || { echo "[kind] ERROR: $BIN does not report $KIND_VERSION" >&2; exit 1; }
printf '%s\n' "$STAMP" >"$DIR/stamp"
printf '[kind] built %s in %ss\n' "$("$BIN" version)" "$((SECONDS - t0))"
