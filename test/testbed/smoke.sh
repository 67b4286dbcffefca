#!/usr/bin/env bash
# End-to-end check of the test bed: starts a cluster with scripts/testbed/cluster.sh, checks
# everything koala's tests rely on, deletes the cluster, and prints "N passed, N failed".
#
#   test/testbed/smoke.sh [workdir]     (default: a fresh mktemp dir, removed at the end)
#
# Needs: scripts/testbed/build.sh done, kubectl, curl, python3 (for a local HTTP server).
# Every server it starts listens on 127.0.0.1 only; every background process it starts is
# stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER="$REPO/scripts/testbed/cluster.sh"
# shellcheck source=../../scripts/testbed/env.sh
. "$REPO/scripts/testbed/env.sh"

NAME=koala-smoke
KEEP_WORKDIR=1
if [[ $# -ge 1 ]]; then W=$1; mkdir -p "$W"; else W=$(mktemp -d); KEEP_WORKDIR=0; fi
W=$(cd "$W" && pwd)
export KUBECONFIG="$W/kubeconfig"
KUBECTL=${KUBECTL:-kubectl}
k() { "$KUBECTL" "$@"; }
H() { HELM_CONFIG_HOME="$W/helm" HELM_CACHE_HOME="$W/helm" HELM_DATA_HOME="$W/helm" "$@"; }

PASSED=0 FAILED=0
BG_PIDS=()
ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { # check DESC CMD...: pass if CMD succeeds
  local d=$1; shift
  if "$@" >"$W/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/       /' "$W/last.out" | tail -n 15; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$CLUSTER" stop "$NAME" "$W" >/dev/null 2>&1 || true
  [[ $KEEP_WORKDIR == 1 ]] || rm -rf "$W"
}
trap cleanup EXIT

# --- start -----------------------------------------------------------------------------------
t0=$(date +%s.%N)
"$CLUSTER" start "$NAME" "$W"
echo "# cluster start took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"

# --- versions ----------------------------------------------------------------------------------
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  check "$c --version prints $KOALA_K8S_VERSION" grep -q "Kubernetes $KOALA_K8S_VERSION" <("$KOALA_TESTBED_BIN/$c" --version)
done
check "server /version is $KOALA_K8S_VERSION" bash -c "'$KUBECTL' get --raw /version | grep -q '\"gitVersion\": \"$KOALA_K8S_VERSION\"'"
check "helm3 version is ${HELM3_VERSION}" test "$(H helm3 version --template '{{.Version}}')" = "$HELM3_VERSION"
check "helm4 version is ${HELM4_VERSION}" test "$(H helm4 version --template '{{.Version}}')" = "$HELM4_VERSION"

# --- nodes and workloads -------------------------------------------------------------------------
check "all nodes Ready" k wait --for=condition=Ready node --all --timeout=30s
k create namespace apps >/dev/null
k -n apps create deployment web --image=registry.invalid/web:1 --replicas=3 >/dev/null
check "Deployment rolls out (3 Ready pods on kwok nodes)" k -n apps rollout status deployment/web --timeout=90s
check "Deployment created a ReplicaSet (kube-controller-manager runs)" \
  bash -c "'$KUBECTL' -n apps get rs -l app=web -o name | grep -q replicaset"
pods_on_kwok_nodes() { # every pod of the Deployment is bound to a node that kwok manages
  local n nodes
  nodes=$(k -n apps get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}')
  [[ -n "$nodes" ]] || return 1
  for n in $nodes; do
    [[ "$(k get node "$n" -o jsonpath='{.metadata.annotations.kwok\.x-k8s\.io/node}')" == fake ]] || return 1
  done
}
check "pods are bound to kwok nodes" pods_on_kwok_nodes

# --- helm ------------------------------------------------------------------------------------------
check "helm3 install --wait" H helm3 install r3 "$HERE/charts/tiny" -n helm3 --create-namespace --wait --timeout 2m
check "helm4 install --wait" H helm4 install r4 "$HERE/charts/tiny" -n helm4 --create-namespace --wait --timeout 2m
check "helm3 release deployed" bash -c "HELM_CONFIG_HOME='$W/helm' HELM_CACHE_HOME='$W/helm' HELM_DATA_HOME='$W/helm' helm3 -n helm3 status r3 | grep -q 'STATUS: deployed'"
check "helm4 release deployed" bash -c "HELM_CONFIG_HOME='$W/helm' HELM_CACHE_HOME='$W/helm' HELM_DATA_HOME='$W/helm' helm4 -n helm4 status r4 | grep -q 'STATUS: deployed'"

# --- logs (ClusterLogs serves a file on this host) -------------------------------------------------
# kwok parses the file like the kubelet parses container logs: CRI format
# "<RFC3339Nano time> <stdout|stderr> <F|P> <text>" (or Docker's JSON lines); plain text is
# rejected with "unsupported log format".
LOGF="$W/app.log"
cri() { printf '%s stdout F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$*"; }
{ cri "line one"; cri "line two"; } >"$LOGF"
k create namespace logs >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: smoke-logs
spec:
  selector:
    matchNamespaces: [logs]
  logs:
  - containers: [app]
    logsFile: $LOGF
    follow: true
EOF
k -n logs apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: logger
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: registry.invalid/logger:1
EOF
k -n logs wait --for=condition=Ready pod/logger --timeout=60s >/dev/null
check "kubectl logs returns the ClusterLogs file" bash -c "'$KUBECTL' -n logs logs logger | grep -q 'line two'"
k -n logs logs -f logger >"$W/follow.out" 2>&1 &
BG_PIDS+=($!)
FOLLOW_PID=$!
sleep 2
cri "line three (appended)" >>"$LOGF"
for _ in $(seq 1 20); do grep -q 'line three' "$W/follow.out" && break; sleep 0.5; done
check "kubectl logs -f follows appended lines" grep -q 'line three' "$W/follow.out"
check "kubectl logs -f is still streaming" kill -0 "$FOLLOW_PID"
kill "$FOLLOW_PID" 2>/dev/null || true

# --- port-forward (ClusterPortForward to a local HTTP server) --------------------------------------
HTTP_PORT=$(free_port)
mkdir -p "$W/www" && echo "hello from the koala test bed" >"$W/www/index.html"
python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$W/www" >"$W/http.log" 2>&1 &
BG_PIDS+=($!)
k create namespace pf >/dev/null
k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: smoke-pf
spec:
  selector:
    matchNamespaces: [pf]
  forwards:
  - ports: [8080]
    target:
      address: 127.0.0.1
      port: $HTTP_PORT
EOF
k -n pf apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: x
spec:
  containers:
  - name: web
    image: registry.invalid/web:1
    ports:
    - containerPort: 8080
EOF
k -n pf wait --for=condition=Ready pod/x --timeout=60s >/dev/null
PF_PORT=$(free_port)
k -n pf port-forward pod/x "$PF_PORT:8080" >"$W/pf.log" 2>&1 &
BG_PIDS+=($!)
PF_PID=$!
for _ in $(seq 1 20); do grep -q Forwarding "$W/pf.log" && break; sleep 0.5; done
check "kubectl port-forward reaches the local HTTP server" \
  bash -c "curl -fsS --max-time 5 http://127.0.0.1:$PF_PORT/index.html | grep -q 'hello from the koala test bed'"
kill "$PF_PID" 2>/dev/null || true

# --- exec (ClusterExec runs the command on this host, in workDir) --------------------------------
mkdir -p "$W/exec" && echo "exec-marker" >"$W/exec/marker.txt"
k apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: smoke-exec
spec:
  selector:
    matchNamespaces: [pf]
  execs:
  - local:
      workDir: $W/exec
EOF
check "kubectl exec runs on the host via ClusterExec" \
  bash -c "'$KUBECTL' -n pf exec x -- cat marker.txt | grep -q exec-marker"

# --- RBAC ----------------------------------------------------------------------------------------
check "RBAC denies an unprivileged user (can-i says no)" \
  bash -c "! '$KUBECTL' auth can-i list pods -n apps --as=someone"
check "RBAC denies a real request as that user (Forbidden)" \
  bash -c "'$KUBECTL' -n apps get pods --as=someone 2>&1 | grep -q Forbidden"
k -n apps create role pod-reader --verb=get,list --resource=pods >/dev/null
k -n apps create rolebinding someone-reads --role=pod-reader --user=someone >/dev/null
check "RBAC allows after a RoleBinding" k auth can-i list pods -n apps --as=someone

# --- kube-controller-manager: namespace deletion -------------------------------------------------
k create namespace doomed >/dev/null
k -n doomed create configmap c --from-literal=a=b >/dev/null
k -n doomed create deployment d --image=registry.invalid/d:1 >/dev/null
check "namespace deletion completes" k delete namespace doomed --wait=true --timeout=90s

# --- pod completion through koala's Stages ---------------------------------------------------------
k create namespace finish >/dev/null
k -n finish apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ok
  labels: {koala.test/complete: succeeded}
spec:
  restartPolicy: Never
  containers: [{name: main, image: registry.invalid/job:1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: boom
  labels: {koala.test/complete: failed}
  annotations: {koala.test/exit-code: "3", koala.test/complete-after: "2s"}
spec:
  restartPolicy: Never
  containers: [{name: main, image: registry.invalid/job:1}]
EOF
check "pod labelled koala.test/complete=succeeded reaches Succeeded" \
  k -n finish wait --for=jsonpath='{.status.phase}'=Succeeded pod/ok --timeout=60s
check "pod labelled koala.test/complete=failed reaches Failed" \
  k -n finish wait --for=jsonpath='{.status.phase}'=Failed pod/boom --timeout=60s
check "failed pod reports exit code 3" \
  test "$(k -n finish get pod boom -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 3
k -n finish create job j --image=registry.invalid/job:1 >/dev/null
check "a Job completes (kwok default pod-complete stage + job controller)" \
  k -n finish wait --for=condition=Complete job/j --timeout=90s

# --- teardown ------------------------------------------------------------------------------------
"$CLUSTER" stop "$NAME" "$W"
no_leftovers() { # no process mentions the cluster dir (this shell's own command line doesn't)
  local p
  for p in /proc/[0-9]*; do
    [[ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" == *"$W/kwok/clusters/$NAME/"* ]] && { echo "left: ${p#/proc/}"; return 1; }
  done
  return 0
}
check "no process of the cluster is left" no_leftovers

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
