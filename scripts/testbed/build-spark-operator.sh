#!/usr/bin/env bash
# Build the real Spark operator (github.com/kubeflow/spark-operator/v2, cmd/operator) from the
# Go module proxy, for koala's Spark job-loop tests, into
#   $KOALA_TESTBED_CACHE/spark-operator-<SPARK_OPERATOR_VERSION>-<hash>/bin/spark-operator
# and its chart's CRDs (SparkApplication, ScheduledSparkApplication, SparkConnect: the controller
# refuses to start without all three) into <that dir>/share/crds/.
# Kept apart from build.sh's tag dir (its stamp and binary list are not touched), so the two
# builds can evolve independently; build.sh may call this script at its end.
#
# Usage:
#   scripts/testbed/build-spark-operator.sh                  build (no-op when the stamp matches)
#   scripts/testbed/build-spark-operator.sh --print-bin      print the binary's path and exit
#   scripts/testbed/build-spark-operator.sh --print-crds     print the CRD dir and exit
#   scripts/testbed/build-spark-operator.sh --check          exit 0 if built, 1 if not
#
# Why a wrapper module: the operator's go.mod pins every k8s.io module with `replace`
# directives (k8s.io/api => v0.32.5 and so on) that Go ignores for a dependency, so
# `go install …@v2.5.2` would resolve other k8s versions. The wrapper copies those replaces.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
: "${SPARK_OPERATOR_VERSION:?versions.env must set SPARK_OPERATOR_VERSION}"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
MOD=github.com/kubeflow/spark-operator/v2
RECIPE=1
STAMP="recipe=$RECIPE
go=$(GOTOOLCHAIN=local go env GOVERSION) $(go env GOOS)/$(go env GOARCH)
SPARK_OPERATOR_VERSION=$SPARK_OPERATOR_VERSION"
DIR="$KOALA_TESTBED_CACHE/spark-operator-$SPARK_OPERATOR_VERSION-$(printf '%s\n' "$STAMP" | sha256sum | cut -c1-12)"
BIN="$DIR/bin/spark-operator"

case "${1:-}" in
  --print-bin) echo "$BIN"; exit 0 ;;
  --print-crds) echo "$DIR/share/crds"; exit 0 ;;
  --check) [[ -x "$BIN" && -d "$DIR/share/crds" && "$(cat "$DIR/stamp" 2>/dev/null)" == "$STAMP" ]]; exit ;;
  "") ;;
  *) echo "usage: $0 [--print-bin|--check]" >&2; exit 2 ;;
esac

log() { printf '[spark-operator %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf '[spark-operator] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -x "$BIN" && -d "$DIR/share/crds" && "$(cat "$DIR/stamp" 2>/dev/null)" == "$STAMP" ]]; then
  log "up to date: $BIN"; exit 0
fi

# Same Go environment as build.sh: caches outside the repo, no toolchain download, static.
export GOMODCACHE="$KOALA_TESTBED_CACHE/gomod" GOCACHE="$KOALA_TESTBED_CACHE/gocache"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0
export GOFLAGS="-modcacherw -buildvcs=false"
mkdir -p "$DIR/bin" "$DIR/logs"
exec 9>"$DIR/.lock"
flock 9
LOG="$DIR/logs/build.log"; : >"$LOG"
run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "$* failed (log: $LOG)"; }; }

t0=$(date +%s.%N)
W="$DIR/src"; rm -rf "$W"; mkdir -p "$W"; cd "$W"
run go mod init koala.local/testbed/spark-operator
gomod=$(go mod download -json "$MOD@$SPARK_OPERATOR_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[[ -f "$gomod" ]] || die "could not download $MOD@$SPARK_OPERATOR_VERSION"
goline=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
run go mod edit -go="$goline" -require="$MOD@$SPARK_OPERATOR_VERSION"
# Every `replace a => b vX` line of the replace block (single-line replaces too).
replaces=$(awk '/^replace \(/{b=1;next} b&&/^\)/{b=0} b{print} /^replace [^(]/{sub(/^replace /,"");print}' "$gomod" |
  sed -n 's#^[[:space:]]*\([^[:space:]]*\)[[:space:]]*=>[[:space:]]*\([^[:space:]]*\)[[:space:]]\+\(v[^[:space:]]*\).*#\1=\2@\3#p')
[[ -n "$replaces" ]] || die "no replace directives found in $gomod (recipe needs a look)"
for r in $replaces; do run go mod edit -replace="$r"; done
run go get "$MOD/cmd/operator@$SPARK_OPERATOR_VERSION"
t1=$(date +%s.%N)
commit=$(go mod download -json "$MOD@$SPARK_OPERATOR_VERSION" | sed -n 's/.*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -n1)
mkdir -p stage
# Stamped as the upstream Makefile does (its version package reads component-base's).
v=k8s.io/component-base/version
run go build -trimpath -ldflags "-s -w -X $v.gitVersion=$SPARK_OPERATOR_VERSION -X $v.gitCommit=$commit -X $v.gitTreeState=clean" \
  -o stage/spark-operator "$MOD/cmd/operator"
mv -f stage/spark-operator "$BIN"
t2=$(date +%s.%N)
"$BIN" version >>"$LOG" 2>&1 || die "$BIN version failed (log: $LOG)"
src=$(go mod download -json "$MOD@$SPARK_OPERATOR_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -d "$src/charts/spark-operator-chart/crds" ]] || die "no charts/spark-operator-chart/crds in $MOD@$SPARK_OPERATOR_VERSION"
rm -rf "$DIR/share/crds" && mkdir -p "$DIR/share/crds"
cp "$src"/charts/spark-operator-chart/crds/*.yaml "$DIR/share/crds/" && chmod 0644 "$DIR/share/crds/"*.yaml
printf '%s\n' "$STAMP" >"$DIR/stamp"
line=$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "spark-operator total %.1fs (resolve+download %.1fs, compile+link %.1fs)", c-a, b-a, c-b}')
echo "$line  $(date -u +%FT%TZ) $(nproc) cores" >>"$DIR/timings.txt"
log "$line: $BIN"
