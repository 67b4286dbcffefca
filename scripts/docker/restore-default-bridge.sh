#!/usr/bin/env bash
# Puts back the default Docker daemon's bridge (docker0) when its link is gone while the daemon
# still runs. A dockerd started with --bridge=<another> deletes the link named docker0 as it
# starts, whichever daemon owns it: scripts/docker/ensure-kind-dockerd.sh's second daemon does
# that. The first daemon then fails every container on its default network with "could not find
# bridge docker0". It looks the bridge up by name when a container joins, so a new link with the
# network's name and gateway address serves it again (its iptables rules match by name too).
#
#   scripts/docker/restore-default-bridge.sh     no-op when the link exists or no daemon answers
#
# Environment: KOALA_DOCKERD_SOCKET (default /var/run/docker.sock), the default daemon's socket.
set -euo pipefail
export DOCKER_HOST=unix://${KOALA_DOCKERD_SOCKET:-/var/run/docker.sock}
say() { printf 'restore-default-bridge: %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || exit 0
name=$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
[ -n "$name" ] || exit 0
ip link show "$name" >/dev/null 2>&1 && exit 0
read -r gateway subnet < <(docker network inspect bridge \
  --format '{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}')
[ -n "${gateway:-}" ] && [ -n "${subnet:-}" ] || { say "ERROR: no address for bridge $name"; exit 1; }
say "the link $name of the default daemon's bridge network is gone (another dockerd deleted it); creating it again with $gateway/${subnet#*/}"
ip link add "$name" type bridge
ip addr add "$gateway/${subnet#*/}" dev "$name"
ip link set "$name" up
