# shellcheck shell=bash
# Shared by build.sh, env.sh and cluster.sh: where the test bed lives and what it is called.
# Sourced, never executed. It sets no shell options, so it is safe to source from an
# interactive shell.
#
# Layout (all outside the repo; binaries are never committed):
#   $KOALA_TESTBED_CACHE/                 default ~/.cache/koala-testbed
#     gomod/   GOMODCACHE shared by every tag (module downloads are content-addressed)
#     gocache/ GOCACHE shared by every tag
#     <tag>/bin/        the binaries
#     <tag>/src/<tool>/ one wrapper Go module per tool
#     <tag>/stamp       what was built with what (see testbed_stamp)
#   <tag> = k8s-<K8S_VERSION>-<12 hex of sha256(stamp)>, so any pin or Go change gets a new dir.

_testbed_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$_testbed_lib_dir/versions.env"

# Bump when the build recipe changes in a way that changes the binaries (flags, ldflags, ...).
TESTBED_RECIPE_REV=1

KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}

# Every binary build.sh produces; cluster.sh and env.sh rely on this list too.
TESTBED_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl helm3 helm4 registry)

# The content of the stamp file. The tag is derived from it, so the stamp of an existing
# tag dir can only differ if the build was interrupted or the dir was tampered with.
testbed_stamp() {
  echo "recipe=$TESTBED_RECIPE_REV"
  echo "go=$(GOTOOLCHAIN=local go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
  echo "K8S_VERSION=$K8S_VERSION"
  echo "ETCD_VERSION=$ETCD_VERSION"
  echo "KWOK_VERSION=$KWOK_VERSION"
  echo "HELM3_VERSION=$HELM3_VERSION"
  echo "HELM4_VERSION=$HELM4_VERSION"
  echo "REGISTRY_VERSION=$REGISTRY_VERSION"
}

if ! command -v go >/dev/null 2>&1; then
  echo "koala testbed: 'go' not found on PATH (needed to build and to name the cache dir)" >&2
  return 1
fi
TESTBED_STAMP_CONTENT=$(testbed_stamp)
TESTBED_TAG="k8s-${K8S_VERSION}-$(printf '%s\n' "$TESTBED_STAMP_CONTENT" | sha256sum | cut -c1-12)"
TESTBED_DIR="$KOALA_TESTBED_CACHE/$TESTBED_TAG"
TESTBED_BIN="$TESTBED_DIR/bin"
