#!/usr/bin/env bash
# Build koala's Kubernetes test bed from the Go module proxy (no GitHub, no images):
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kwokctl,
#   helm3, helm4, registry
# into $KOALA_TESTBED_CACHE/<tag>/bin (default ~/.cache/koala-testbed/<tag>/bin).
#
# Also copies kwok's default Stage manifests to <tag>/share/kwok-stages (used by cluster.sh).
#
# Usage:
#   scripts/testbed/build.sh                 build (no-op when the stamp matches)
#   scripts/testbed/build.sh --print-bin-dir print the bin dir and exit (builds nothing)
#   scripts/testbed/build.sh --check         exit 0 if the bin dir is complete, 1 if not
#   scripts/testbed/build.sh --force         rebuild every tool
#
# Pins live in versions.env. Idempotent: a stamp file (versions + go version) is written only
# after every tool built and reported the expected version; per-tool markers let an
# interrupted build resume where it stopped. Each tool is built in its own wrapper module
# (separate dirs), so Go's MVS never merges the dependency graphs of different tools.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

FORCE=0
case "${1:-}" in
  --print-bin-dir) echo "$TESTBED_BIN"; exit 0 ;;
  --check)
    for b in "${TESTBED_BINARIES[@]}"; do [[ -x "$TESTBED_BIN/$b" ]] || exit 1; done
    [[ -f "$TESTBED_DIR/share/kwok-stages/pod-ready.yaml" ]] || exit 1
    [[ "$(cat "$TESTBED_DIR/stamp" 2>/dev/null)" == "$TESTBED_STAMP_CONTENT" ]] || exit 1
    bash "$HERE/build-spark-operator.sh" --check || exit 1   # the Spark operator
    exit 0 ;;
  --force) FORCE=1 ;;
  "") ;;
  *) echo "usage: $0 [--print-bin-dir|--check|--force]" >&2; exit 2 ;;
esac

log() { printf '[testbed %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf '[testbed] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Spark job loop: the real Spark operator and pyspark (spark-submit). Separate
# scripts with their own cache dirs and stamps; each is a no-op when already built.
bash "$HERE/build-spark-operator.sh" || die "build-spark-operator.sh failed"
bash "$HERE/pyspark.sh" || die "pyspark.sh failed"
# Airflow, whose DagBag parses the DAGs koala writes (test/integration/app-dag-airflow.test.ts).
bash "$HERE/airflow.sh" || die "airflow.sh failed"
# The real kind, whose answers the kind stand-in is held to (test/integration).
bash "$HERE/build-kind.sh" || die "build-kind.sh failed"
# ---

# ---------------------------------------------------------------------------------------
# Go environment. Everything the build writes stays in the cache dir, outside the repo.
#  - GOTOOLCHAIN=local: never fetch another toolchain behind our back; if a pin needs a newer
#    Go the build fails loudly (see versions.env for the rule: pick the nearest version).
#  - GOWORK=off: a go.work somewhere above the cache dir must not leak in.
#  - -modcacherw: the module cache is deletable with plain `rm -rf`.
#  - -buildvcs=false: the wrapper dirs are not VCS checkouts.
#  - CGO_ENABLED=0: static binaries, no C toolchain needed (upstream releases are built so too).
#  GOPROXY/GOSUMDB are left as configured on the machine.
# ---------------------------------------------------------------------------------------
export GOMODCACHE="$KOALA_TESTBED_CACHE/gomod"
export GOCACHE="$KOALA_TESTBED_CACHE/gocache"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on CGO_ENABLED=0
export GOFLAGS="-modcacherw -buildvcs=false"

mkdir -p "$TESTBED_DIR" "$TESTBED_BIN" "$TESTBED_DIR/src" "$TESTBED_DIR/logs" "$TESTBED_DIR/done"

# Two builds at once (say CI and a developer) would trample each other's wrapper dirs.
exec 9>"$TESTBED_DIR/.lock"
if ! flock -n 9; then
  log "another build.sh holds $TESTBED_DIR/.lock; waiting for it"
  flock 9
fi

# kwok's default node/pod stages, copied out of the pinned kwok module for cluster.sh (which
# enables the Stage CRD, and then kwok installs no stage by itself).
KWOK_STAGES_DIR="$TESTBED_DIR/share/kwok-stages"
KWOK_STAGE_FILES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)

all_present() {
  local b
  for b in "${TESTBED_BINARIES[@]}"; do [[ -x "$TESTBED_BIN/$b" ]] || return 1; done
  [[ -f "$KWOK_STAGES_DIR/pod-ready.yaml" ]]
}

if [[ $FORCE == 0 ]] && all_present &&
   [[ "$(cat "$TESTBED_DIR/stamp" 2>/dev/null)" == "$TESTBED_STAMP_CONTENT" ]]; then
  log "up to date: $TESTBED_BIN"
  exit 0
fi
[[ $FORCE == 1 ]] && rm -f "$TESTBED_DIR"/done/* "$TESTBED_DIR/stamp"

log "building test bed $TESTBED_TAG into $TESTBED_BIN ($(go env GOVERSION), $(nproc) cores)"

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
CURRENT_TOOL=""
TOOL_LOG=""
# run DESC CMD...: run CMD with its output in the tool's log; on failure show the tail and stop.
run() {
  local desc=$1; shift
  echo "+ $*" >>"$TOOL_LOG"
  if ! "$@" >>"$TOOL_LOG" 2>&1; then
    echo "----- last 40 lines of $TOOL_LOG -----" >&2
    tail -n 40 "$TOOL_LOG" >&2
    die "$CURRENT_TOOL: $desc failed (command: $*; full log: $TOOL_LOG)"
  fi
}

# new_wrapper TOOL: a fresh, empty wrapper module in $TESTBED_DIR/src/TOOL; cds into it.
new_wrapper() {
  local dir="$TESTBED_DIR/src/$1"
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  run "go mod init" go mod init "koala.local/testbed/$1"
}

# origin_hash MOD@VER: the git commit the proxy reports for a module version ("" if none).
origin_hash() {
  go mod download -json "$1" 2>/dev/null | sed -n 's/.*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' | head -n 1
}

# install_from STAGE NAME...: move freshly built binaries into the bin dir (atomic per file).
install_from() {
  local stage=$1 n; shift
  for n in "$@"; do
    [[ -x "$stage/$n" ]] || die "$CURRENT_TOOL: $stage/$n was not produced"
    mv -f "$stage/$n" "$TESTBED_BIN/$n"
  done
}

# expect_version DESC EXPECTED CMD...: CMD's output must contain EXPECTED.
expect_version() {
  local desc=$1 want=$2 out; shift 2
  out=$("$@" 2>&1) || die "$CURRENT_TOOL: '$*' failed: $out"
  [[ "$out" == *"$want"* ]] || die "$CURRENT_TOOL: $desc prints '$out', expected '$want'"
  echo "$desc: $(head -n 1 <<<"$out")" >>"$TESTBED_DIR/versions.txt"
}

TIMINGS="$TESTBED_DIR/timings.txt"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
TOTAL_T0=$(now)
echo "# build started $(date -u +%FT%TZ), $(go env GOVERSION), $(nproc) cores" >>"$TIMINGS"
: >"$TESTBED_DIR/versions.txt"

# build_tool NAME FUNC: run FUNC unless NAME's done marker exists; time resolve and compile.
# FUNC sets RESOLVE_DONE=$(now) once module resolution/download is finished.
build_tool() {
  local name=$1 fn=$2 t0 t1
  CURRENT_TOOL=$name
  TOOL_LOG="$TESTBED_DIR/logs/$name.log"
  if [[ -e "$TESTBED_DIR/done/$name" ]]; then
    log "$name: already built (marker $TESTBED_DIR/done/$name)"
    return 0
  fi
  : >"$TOOL_LOG"
  log "$name: building (log: $TOOL_LOG)"
  t0=$(now); RESOLVE_DONE=$t0
  "$fn"
  t1=$(now)
  local line
  line=$(printf '%-10s total %6ss  (resolve+download %6ss, compile+link %6ss)' "$name" \
    "$(secs "$t0" "$t1")" "$(secs "$t0" "$RESOLVE_DONE")" "$(secs "$RESOLVE_DONE" "$t1")")
  log "$line"
  echo "$line" >>"$TIMINGS"
  touch "$TESTBED_DIR/done/$name"
  cd "$HERE"
}

# ---------------------------------------------------------------------------------------
# kube-apiserver, kube-controller-manager, kube-scheduler
# k8s.io/kubernetes requires every staging module at v0.0.0 and replaces it with
# ./staging/src/...; those replaces are ignored when it is a dependency, so our wrapper
# replaces each one with the published twin v0.<minor>.<patch>. The staging list is read
# from the downloaded go.mod, because it changes between minors (1.36 added cri-streaming
# and streaming).
# ---------------------------------------------------------------------------------------
build_k8s() {
  local ver=$K8S_VERSION stg="v0.${K8S_VERSION#v1.}" gomod mods m goline godebug commit minor
  new_wrapper k8s
  gomod=$(go mod download -json "k8s.io/kubernetes@$ver" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -f "$gomod" ]] || die "k8s: could not download k8s.io/kubernetes@$ver"
  mods=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")
  grep -qx 'k8s.io/api' <<<"$mods" || die "k8s: no staging replaces found in $gomod"
  echo "staging modules ($(wc -l <<<"$mods")): $(tr '\n' ' ' <<<"$mods")" >>"$TOOL_LOG"
  # Same language version and GODEBUG defaults as the upstream build.
  goline=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  godebug=$(sed -n 's/^godebug \([^( ]*\)$/\1/p' "$gomod")
  run "go mod edit" go mod edit -go="$goline" -require="k8s.io/kubernetes@$ver"
  if [[ -n "$godebug" ]]; then run "go mod edit -godebug" go mod edit -godebug="$godebug"; fi
  local edits=()
  for m in $mods; do edits+=("-replace=$m=$m@$stg"); done
  run "go mod edit -replace" go mod edit "${edits[@]}"
  run "go get" go get "k8s.io/kubernetes/cmd/kube-apiserver@$ver" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$ver" "k8s.io/kubernetes/cmd/kube-scheduler@$ver"
  RESOLVE_DONE=$(now)
  # Stamp the version the way hack/lib/version.sh does, into both version packages; the
  # default "v0.0.0-master+$Format:%H$" confuses helm's kubeVersion checks, kubectl's skew
  # warning and kwokctl.
  commit=$(origin_hash "k8s.io/kubernetes@$ver")
  minor=$(cut -d. -f2 <<<"${ver#v}")
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf+=" -X $p.gitCommit=$commit -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%FT%TZ)"
  done
  mkdir -p stage
  run "go build" go build -trimpath -ldflags "$ldf" -o stage/ \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  install_from stage kube-apiserver kube-controller-manager kube-scheduler
}

# ---------------------------------------------------------------------------------------
# etcd: server/go.mod replaces its siblings with ../..., but it also *requires* their
# published versions, so a wrapper needs no replace at all. The version string is a
# constant in go.etcd.io/etcd/api/v3/version (no ldflags needed).
# ---------------------------------------------------------------------------------------
build_etcd() {
  new_wrapper etcd
  run "go get" go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  RESOLVE_DONE=$(now)
  mkdir -p stage
  run "go build" go build -trimpath -ldflags "-s -w" -o stage/etcd go.etcd.io/etcd/server/v3
  install_from stage etcd
}

# ---------------------------------------------------------------------------------------
# kwok + kwokctl: no replaces upstream, so plain `go get` works. We stamp KubeVersion so
# kwokctl's default Kubernetes version matches the control plane we built (cluster.sh also
# passes KWOK_KUBE_VERSION explicitly).
# ---------------------------------------------------------------------------------------
build_kwok() {
  new_wrapper kwok
  run "go get" go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  RESOLVE_DONE=$(now)
  local c=sigs.k8s.io/kwok/pkg/consts
  mkdir -p stage
  run "go build" go build -trimpath \
    -ldflags "-s -w -X $c.Version=${KWOK_VERSION#v} -X $c.KubeVersion=${K8S_VERSION#v}" \
    -o stage/ sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  install_from stage kwok kwokctl
}

# ---------------------------------------------------------------------------------------
# helm 3 / helm 4: without ldflags, `helm version` prints the placeholder "v3.22"/"v4.3".
# Helm's Makefile stamps internal/version.{version,gitCommit,gitTreeState}. Helm 3 also
# stamps the default Kubernetes version used by `helm template`/lint from client-go's
# version (k8s.io/client-go v0.X.Y -> 1.X); helm 4 reads that from the build info itself.
# ---------------------------------------------------------------------------------------
build_helm() { # MAJOR VERSION
  local major=$1 ver=$2 mod="helm.sh/helm/v$1" commit ldf
  new_wrapper "helm$major"
  run "go get" go get "$mod/cmd/helm@$ver"
  RESOLVE_DONE=$(now)
  commit=$(origin_hash "$mod@$ver")
  ldf="-s -w -X $mod/internal/version.version=$ver -X $mod/internal/version.gitCommit=$commit"
  ldf+=" -X $mod/internal/version.gitTreeState=clean"
  if [[ $major == 3 ]]; then
    local cg kmaj kmin
    cg=$(go list -m -f '{{.Version}}' k8s.io/client-go)       # e.g. v0.35.1
    kmaj=$(( $(cut -d. -f1 <<<"${cg#v}") + 1 )); kmin=$(cut -d. -f2 <<<"$cg")
    ldf+=" -X $mod/pkg/lint/rules.k8sVersionMajor=$kmaj -X $mod/pkg/lint/rules.k8sVersionMinor=$kmin"
    ldf+=" -X $mod/pkg/chartutil.k8sVersionMajor=$kmaj -X $mod/pkg/chartutil.k8sVersionMinor=$kmin"
  fi
  mkdir -p stage
  run "go build" go build -trimpath -ldflags "$ldf" -o "stage/helm$major" "$mod/cmd/helm"
  install_from stage "helm$major"
}
build_helm3() { build_helm 3 "$HELM3_VERSION"; }
build_helm4() { build_helm 4 "$HELM4_VERSION"; }

# ---------------------------------------------------------------------------------------
# registry (CNCF distribution): version defaults to "vX.Y.Z+unknown"; stamp it as its
# Makefile does.
# ---------------------------------------------------------------------------------------
build_registry() {
  local mod=github.com/distribution/distribution/v3 commit
  new_wrapper registry
  run "go get" go get "$mod/cmd/registry@$REGISTRY_VERSION"
  RESOLVE_DONE=$(now)
  commit=$(origin_hash "$mod@$REGISTRY_VERSION")
  mkdir -p stage
  run "go build" go build -trimpath \
    -ldflags "-s -w -X $mod/version.version=$REGISTRY_VERSION -X $mod/version.revision=$commit -X $mod/version.mainpkg=$mod" \
    -o stage/registry "$mod/cmd/registry"
  install_from stage registry
}

# Order: the small ones first so a broken proxy/toolchain shows up quickly; k8s is the long one.
build_tool etcd build_etcd
build_tool kwok build_kwok
build_tool k8s build_k8s
build_tool helm3 build_helm3
build_tool helm4 build_helm4
build_tool registry build_registry

# The default stages: cheap, so redone whenever the dir is incomplete.
if [[ ! -f "$KWOK_STAGES_DIR/pod-ready.yaml" ]]; then
  CURRENT_TOOL=kwok-stages TOOL_LOG="$TESTBED_DIR/logs/kwok-stages.log"
  : >"$TOOL_LOG"
  kwok_src=$(cd "$TESTBED_DIR" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [[ -d "$kwok_src/kustomize/stage" ]] || die "kwok-stages: no kustomize/stage in sigs.k8s.io/kwok@$KWOK_VERSION"
  rm -rf "$KWOK_STAGES_DIR.tmp" && mkdir -p "$KWOK_STAGES_DIR.tmp"
  for f in "${KWOK_STAGE_FILES[@]}"; do
    cp "$kwok_src/kustomize/stage/$f" "$KWOK_STAGES_DIR.tmp/" || die "kwok-stages: $f not found"
  done
  chmod 0644 "$KWOK_STAGES_DIR.tmp"/*.yaml
  rm -rf "$KWOK_STAGES_DIR" && mv "$KWOK_STAGES_DIR.tmp" "$KWOK_STAGES_DIR"
  log "kwok-stages: copied ${#KWOK_STAGE_FILES[@]} default stages to $KWOK_STAGES_DIR"
fi

# ---------------------------------------------------------------------------------------
# Every binary must report the pinned version; a wrong stamp is a build failure.
# ---------------------------------------------------------------------------------------
CURRENT_TOOL=verify
B=$TESTBED_BIN
expect_version "etcd --version" "etcd Version: ${ETCD_VERSION#v}" "$B/etcd" --version
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  expect_version "$c --version" "Kubernetes $K8S_VERSION" "$B/$c" --version
done
expect_version "kwok --version" "${KWOK_VERSION#v}" "$B/kwok" --version
expect_version "kwokctl --version" "${KWOK_VERSION#v}" "$B/kwokctl" --version
# helm reads/creates nothing for `version`, but keep its dirs out of $HOME anyway.
hv() { HELM_CONFIG_HOME="$TESTBED_DIR/.helm" HELM_CACHE_HOME="$TESTBED_DIR/.helm" HELM_DATA_HOME="$TESTBED_DIR/.helm" "$@"; }
[[ "$(hv "$B/helm3" version --template '{{.Version}}')" == "$HELM3_VERSION" ]] ||
  die "helm3 version prints '$(hv "$B/helm3" version --template '{{.Version}}')', expected $HELM3_VERSION"
[[ "$(hv "$B/helm4" version --template '{{.Version}}')" == "$HELM4_VERSION" ]] ||
  die "helm4 version prints '$(hv "$B/helm4" version --template '{{.Version}}')', expected $HELM4_VERSION"
echo "helm3 version: $(hv "$B/helm3" version --short)" >>"$TESTBED_DIR/versions.txt"
echo "helm4 version: $(hv "$B/helm4" version --short)" >>"$TESTBED_DIR/versions.txt"
expect_version "registry --version" "$REGISTRY_VERSION" "$B/registry" --version

printf '%s\n' "$TESTBED_STAMP_CONTENT" >"$TESTBED_DIR/stamp"
TOTAL=$(secs "$TOTAL_T0" "$(now)")
echo "all       total ${TOTAL}s" >>"$TIMINGS"
log "done in ${TOTAL}s: $TESTBED_BIN"
sed 's/^/  /' "$TESTBED_DIR/versions.txt"
