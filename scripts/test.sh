#!/usr/bin/env bash
# Runs all of koala's tests on a fresh machine: installs dependencies, builds koala, builds
# (or reuses) the test bed binaries, starts Docker and builds the local test images, then runs
# the unit tier, the test-bed tier (a real control plane, Helm 3 and 4, Docker, a registry) and
# the real-kind tier (koala up with the real kind and real nodes; test/realkind/README.md).
#
#   npm test                 everything
#   npm test -- <vitest args> e.g. `npm test -- --project unit` or a file filter
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node-env.sh
source scripts/node-env.sh

step() { printf '\n== %s\n' "$*" >&2; }
timed() { local t0=$SECONDS; "$@"; printf '   (%ss)\n' "$((SECONDS - t0))" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  timed npm ci --no-audit --no-fund
fi
step "build koala"
timed npm run --silent build

only_unit=false
for arg in "$@"; do [ "$arg" = unit ] && only_unit=true; done
# The real-kind tier runs with no arguments or when one names it (`--project realkind`,
# test/realkind/...); a run of other files does not wait for its images.
realkind=$([ $# -eq 0 ] && echo true || echo false)
for arg in "$@"; do case $arg in *realkind*) realkind=true ;; esac; done
if ! $only_unit; then
  step "test bed binaries (cached in ${KOALA_TESTBED_CACHE:-~/.cache/koala-testbed})"
  timed bash scripts/testbed/build.sh
  step "Docker daemon and local images"
  timed bash scripts/docker/ensure-dockerd.sh
  timed bash scripts/docker/base-image.sh all
  if $realkind; then
    step "real kind: its Docker daemon, the node and load balancer images, the platform's images (cached), local images"
    timed bash scripts/docker/ensure-kind-dockerd.sh
    timed bash scripts/testbed/build-kind-node.sh
    timed env DOCKER_HOST="$(bash scripts/docker/ensure-kind-dockerd.sh --host)" bash scripts/docker/base-image.sh base registry devcontainer
    timed bash scripts/testbed/build-platform-images.sh
    # The opt-in full platform test runs Airflow too (test/realkind/README.md).
    if [ -n "${KOALA_TEST_PLATFORM_FULL:-}" ]; then timed bash scripts/testbed/build-airflow-images.sh; fi
  fi
fi

step "vitest"
exec npx vitest run "$@"
