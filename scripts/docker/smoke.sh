#!/usr/bin/env bash
# Smoke-check the local Docker setup that koala's tests rely on:
#   1. a Dockerfile build FROM koala-test/base:1 (COPY + RUN) works;
#   2. containers on a user-defined bridge network reach each other by name;
#   3. koala-test/registry:3 on 127.0.0.1:PORT accepts `docker push`, and a
#      second push of the unchanged image uploads no blob (counted from the
#      registry's access log: POST/PATCH/PUT on .../blobs/uploads).
# Prints "N passed, N failed". Leaves nothing behind (own names only).
#
# Usage: scripts/docker/smoke.sh    (after ensure-dockerd.sh and base-image.sh)
#   KOALA_SMOKE_REGISTRY_PORT  host port for the registry (default 5001, or the
#                              next free one if 5001 is taken by someone else)
set -euo pipefail

id=koala-smoke-$$
net=$id-net
reg=$id-reg
pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$*"; }
ko() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }

ctx=$(mktemp -d)
cleanup() {
  docker rm -f "$id-srv" "$reg" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  docker rmi -f "$id/app" "localhost:${port:-0}/$id" >/dev/null 2>&1 || true
  rm -rf "$ctx"
}
trap cleanup EXIT

# 1. build. The default `docker build` of the preinstalled 28.x client falls
# back to the legacy builder (no buildx here) and says so on stderr.
printf 'hello\n' >"$ctx/f.txt"
head -c 262144 /dev/urandom >"$ctx/blob"   # unique layer, so push 1 really uploads
printf 'FROM koala-test/base:1\nCOPY f.txt blob /data/\nRUN echo built && cat /data/f.txt\n' >"$ctx/Dockerfile"
if docker build -q -t "$id/app" "$ctx" >/dev/null 2>&1 &&
   [ "$(docker run --rm "$id/app" cat /data/f.txt)" = hello ]; then
  ok "docker build FROM koala-test/base:1 (COPY, RUN)"
else
  ko "docker build FROM koala-test/base:1"
fi

# 2. network by name. busybox wget's own -T timeout segfaults (busybox
# 1.35), so bound it with `timeout` instead.
docker network create "$net" >/dev/null
docker run -d --name "$id-srv" --network "$net" koala-test/base:1 httpd -f -p 8080 -h /etc >/dev/null
got=""
for _ in 1 2 3 4 5; do
  got=$(docker run --rm --network "$net" koala-test/base:1 \
        timeout 5 wget -qO- "http://$id-srv:8080/group" 2>/dev/null | head -n1) || true
  [ -n "$got" ] && break
  sleep 1
done
if [ "$got" = "root:x:0:" ]; then ok "container reaches another by name on a user-defined network"
else ko "container-to-container by name on a user-defined network (got '$got')"; fi

# 3. registry.
port=${KOALA_SMOKE_REGISTRY_PORT:-5001}
if [ -z "${KOALA_SMOKE_REGISTRY_PORT:-}" ]; then
  while ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; do port=$((port + 1)); done
fi
docker run -d --name "$reg" -p "127.0.0.1:$port:5000" koala-test/registry:3 >/dev/null
# --noproxy: never send loopback requests through any configured HTTP proxy.
for _ in $(seq 20); do
  curl --noproxy '*' -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.5
done
uploads() { docker logs "$reg" 2>&1 | grep -cE '"(POST|PATCH|PUT) /v2/[^"]*/blobs/uploads' || true; }
docker tag "$id/app" "localhost:$port/$id"
if docker push "localhost:$port/$id" >/dev/null 2>&1; then
  u1=$(uploads)
  ok "docker push to koala-test/registry:3 on 127.0.0.1:$port ($u1 upload requests)"
  out=$(docker push "localhost:$port/$id" 2>&1) || true
  u2=$(uploads)
  if [ "$u2" = "$u1" ] && ! grep -q ': Pushed' <<<"$out"; then
    ok "second push of the unchanged image uploaded no blob ($(grep -c 'Layer already exists' <<<"$out") x 'Layer already exists')"
  else
    ko "second push re-uploaded ($u1 -> $u2 upload requests)"
  fi
else
  ko "docker push to 127.0.0.1:$port"
fi

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
