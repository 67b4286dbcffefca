#!/usr/bin/env bash
# Installs koala from this checkout: dependencies, a build, and a `koala` command on PATH
# (a link in ~/.local/bin, or /usr/local/bin when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node-env.sh
source scripts/node-env.sh
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
if [ "$(id -u)" = 0 ]; then target=/usr/local/bin; else target="$HOME/.local/bin"; fi
mkdir -p "$target"
ln -sf "$(pwd)/bin/koala" "$target/koala"
echo "koala $(./bin/koala --version | cut -d' ' -f1 | cut -d/ -f2) is installed as $target/koala"
case ":$PATH:" in
  *":$target:"*) ;;
  *) echo "Add $target to PATH, e.g.: export PATH=\"$target:\$PATH\"" ;;
esac
