#!/usr/bin/env bash
# Start/stop a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) with fake kwok nodes, as plain host processes on 127.0.0.1.
#
#   scripts/testbed/cluster.sh start  <name> <workdir>   create the cluster, add nodes, wait
#   scripts/testbed/cluster.sh stop   <name> <workdir>   delete it; no process is left behind
#   scripts/testbed/cluster.sh status <name> <workdir>   exit 0 if the apiserver is ready
#   scripts/testbed/cluster.sh env    <name> <workdir>   print `export KUBECONFIG=...` etc.
#
# After `start`: KUBECONFIG=<workdir>/kubeconfig (context kwok-<name>, user in system:masters).
# Everything the cluster writes is under <workdir> (kwok state in <workdir>/kwok); nothing goes
# to ~/.kube or ~/.kwok.
#
# Knobs (environment):
#   KOALA_TESTBED_NODES   number of fake nodes (default 2; 0 for none)
#   KOALA_TESTBED_WAIT    how long kwokctl waits for the control plane (default 180s)
#   KUBECTL               kubectl to use (default: kubectl on PATH)
#
# kwok behaviour that tests can change at run time (all are CRDs, enabled here):
#   Stage                        how nodes/pods move between states; cluster.sh applies kwok's
#                                own default stages plus test/testbed/stages/*.yaml
#   Logs / ClusterLogs           `kubectl logs` serves a file on this host
#   PortForward / ClusterPortForward  `kubectl port-forward` connects to a local address
#   Exec / ClusterExec, Attach / ClusterAttach  `kubectl exec` runs a command on this host
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() { echo "usage: $0 start|stop|status|env <name> <workdir>" >&2; exit 2; }
log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 3 ]] || usage
CMD=$1 NAME=$2
[[ "$NAME" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "cluster name '$NAME' must be a DNS label"
mkdir -p "$3"
WORKDIR=$(cd "$3" && pwd)

KUBECTL=${KUBECTL:-kubectl}
NODES=${KOALA_TESTBED_NODES:-2}
WAIT=${KOALA_TESTBED_WAIT:-180s}
KUBECONFIG_PATH="$WORKDIR/kubeconfig"

# kwokctl reads KWOK_* variables; KWOK_WORKDIR also decides where it looks for its default
# config (<workdir>/kwok.yaml), so a ~/.kwok/kwok.yaml on a developer machine cannot leak in.
export KWOK_WORKDIR="$WORKDIR/kwok"
export KWOK_KUBE_VERSION="$K8S_VERSION"
CLUSTER_DIR="$KWOK_WORKDIR/clusters/$NAME"

# The CRDs that make kwok's fake kubelet configurable at run time. With Stage enabled,
# kwok-controller takes its stages *only* from Stage objects (kwokctl then installs none), so
# `start` applies kwok's default stages itself (copied from the pinned kwok module by build.sh).
CRDS=Stage,Logs,ClusterLogs,PortForward,ClusterPortForward,Exec,ClusterExec,Attach,ClusterAttach

kwokctl() { "$TESTBED_BIN/kwokctl" "$@"; }
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# PIDs of processes whose command line mentions this cluster's dir (etcd, kube-*, kwok).
# kwokctl starts them with setsid, so they are not our children and survive our exit.
cluster_pids() {
  local p cmdline
  for p in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    [[ "$cmdline" == *"$CLUSTER_DIR/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

apiserver_ready() { kc get --raw /readyz >/dev/null 2>&1; }

do_start() {
  local b t0 t1
  for b in "${TESTBED_BINARIES[@]}"; do
    [[ -x "$TESTBED_BIN/$b" ]] || die "$TESTBED_BIN/$b missing: run scripts/testbed/build.sh first"
  done
  [[ -d "$TESTBED_DIR/share/kwok-stages" ]] ||
    die "$TESTBED_DIR/share/kwok-stages missing: run scripts/testbed/build.sh"
  command -v "$KUBECTL" >/dev/null || die "kubectl not found (set KUBECTL)"
  if [[ -d "$CLUSTER_DIR" ]]; then
    die "cluster '$NAME' already exists in $KWOK_WORKDIR (run: $0 stop $NAME $WORKDIR)"
  fi
  mkdir -p "$KWOK_WORKDIR" && chmod 700 "$WORKDIR"   # keys and etcd data live here

  # The options go in a config file because bindAddress has no flag: kwokctl's default is
  # 0.0.0.0 for etcd, the apiserver, KCM, the scheduler and kwok's kubelet server. On a shared
  # runner everything must listen on loopback only.
  # Binaries are given one by one: a local path is symlinked, only http(s) is downloaded.
  cat >"$WORKDIR/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: $K8S_VERSION
  etcdBinary: $TESTBED_BIN/etcd
  kubeApiserverBinary: $TESTBED_BIN/kube-apiserver
  kubeControllerManagerBinary: $TESTBED_BIN/kube-controller-manager
  kubeSchedulerBinary: $TESTBED_BIN/kube-scheduler
  kwokControllerBinary: $TESTBED_BIN/kwok
  enableCRDs: [${CRDS//,/, }]
componentsPatches:
# kwok nodes carry Hostname=localhost plus InternalIP 192.0.2.x (a documentation range).
# The apiserver reaches the fake kubelet (logs, exec, port-forward) at the first address of
# the preferred types; pin that to Hostname so it always dials localhost, never 192.0.2.x.
- name: kube-apiserver
  extraArgs:
  - key: kubelet-preferred-address-types
    value: Hostname
EOF

  t0=$(date +%s.%N)
  log "creating cluster '$NAME' (Kubernetes $K8S_VERSION, binaries from $TESTBED_BIN)"
  # --kubeconfig: kwokctl would otherwise add a context to ~/.kube/config.
  if ! kwokctl create cluster --name "$NAME" -c "$WORKDIR/kwokctl.yaml" \
      --kubeconfig "$KUBECONFIG_PATH" --wait "$WAIT" >"$WORKDIR/create.log" 2>&1; then
    tail -n 30 "$WORKDIR/create.log" >&2
    log "create failed; cleaning up (component logs: $CLUSTER_DIR/logs)"
    do_stop || true
    die "kwokctl create cluster failed (log: $WORKDIR/create.log)"
  fi
  t1=$(date +%s.%N)
  log "control plane up in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s"

  # Stages before nodes, so the first node is initialised by them.
  kc apply -f "$TESTBED_DIR/share/kwok-stages/" -f "$REPO/test/testbed/stages/" >/dev/null ||
    die "applying kwok stages failed"

  if [[ "$NODES" -gt 0 ]]; then
    kwokctl scale node --name "$NAME" --replicas "$NODES" >>"$WORKDIR/create.log" 2>&1 ||
      die "kwokctl scale node failed (log: $WORKDIR/create.log)"
    kc wait --for=condition=Ready node --all --timeout=60s >/dev/null ||
      die "nodes did not become Ready"
  fi
  # The admission controller needs the default ServiceAccount before pods can be created in
  # a namespace; KCM creates it shortly after start. Wait for it so the first test can't race.
  local i
  for i in $(seq 1 60); do
    kc -n default get serviceaccount default >/dev/null 2>&1 && break
    sleep 0.5
  done
  t1=$(date +%s.%N)
  log "cluster '$NAME' ready with $NODES node(s) in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s"
  log "KUBECONFIG=$KUBECONFIG_PATH"
}

do_stop() {
  local pids p i
  if [[ -d "$CLUSTER_DIR" ]]; then
    log "deleting cluster '$NAME'"
    kwokctl delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_PATH" >>"$WORKDIR/delete.log" 2>&1 ||
      log "kwokctl delete cluster failed (log: $WORKDIR/delete.log); killing leftovers"
  fi
  # kwokctl stops what it started; anything still running from this cluster dir is a leftover
  # (e.g. a create that died half way). Ask nicely, then insist, by PID.
  pids=$(cluster_pids)
  if [[ -n "$pids" ]]; then
    log "leftover processes: $(tr '\n' ' ' <<<"$pids")"
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 1 20); do
      [[ -z "$(cluster_pids)" ]] && break
      sleep 0.25
    done
    for p in $(cluster_pids); do kill -KILL "$p" 2>/dev/null || true; done
  fi
  rm -rf "$CLUSTER_DIR"
  [[ -z "$(cluster_pids)" ]] || die "processes of cluster '$NAME' still running"
}

do_status() {
  if [[ ! -d "$CLUSTER_DIR" ]]; then echo "cluster '$NAME': absent"; return 1; fi
  if apiserver_ready; then
    echo "cluster '$NAME': ready ($(kc get nodes --no-headers 2>/dev/null | wc -l) nodes, KUBECONFIG=$KUBECONFIG_PATH)"
  else
    echo "cluster '$NAME': not ready (processes: $(cluster_pids | wc -l))"
    return 1
  fi
}

do_env() {
  echo "export KUBECONFIG='$KUBECONFIG_PATH'"
  echo "export KWOK_WORKDIR='$KWOK_WORKDIR'"
  echo "export KOALA_TESTBED_BIN='$TESTBED_BIN'"
}

case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  env) do_env ;;
  *) usage ;;
esac
