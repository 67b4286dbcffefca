# shellcheck shell=bash
# Find koala's test bed binaries.
#
#   . scripts/testbed/env.sh          # sourced: exports the variables below, prepends PATH
#   scripts/testbed/env.sh            # executed: prints the bin dir
#
# Exports:
#   KOALA_TESTBED_BIN    dir with etcd, kube-*, kwok, kwokctl, helm3, helm4, registry
#   KOALA_TESTBED_TAG    k8s-<version>-<hash> (changes with versions.env / go version)
#   KOALA_TESTBED_READY  1 if build.sh finished for this tag, else 0
#   KOALA_K8S_VERSION    the pinned Kubernetes version, e.g. v1.36.3
# It builds nothing: run scripts/testbed/build.sh for that.

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh" || return 1 2>/dev/null || exit 1

KOALA_TESTBED_BIN=$TESTBED_BIN
KOALA_TESTBED_TAG=$TESTBED_TAG
KOALA_K8S_VERSION=$K8S_VERSION
if [[ "$(cat "$TESTBED_DIR/stamp" 2>/dev/null)" == "$TESTBED_STAMP_CONTENT" ]]; then
  KOALA_TESTBED_READY=1
else
  KOALA_TESTBED_READY=0
fi
export KOALA_TESTBED_BIN KOALA_TESTBED_TAG KOALA_TESTBED_READY KOALA_K8S_VERSION

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  # Executed, not sourced: just print the bin dir.
  echo "$KOALA_TESTBED_BIN"
else
  case ":$PATH:" in
    *":$KOALA_TESTBED_BIN:"*) ;;
    *) PATH="$KOALA_TESTBED_BIN:$PATH" ;;
  esac
  export PATH
fi
