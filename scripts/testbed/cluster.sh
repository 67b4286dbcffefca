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
#   KOALA_TESTBED_WAIT    how long kwokctl waits for the control plane (default 90s; a
#                         start is tried up to 3 times, with fresh random ports each time)
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
WAIT=${KOALA_TESTBED_WAIT:-90s}
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

# PIDs of this cluster's components: kwokctl symlinks each binary into <cluster dir>/bin and
# starts it from there, so argv[0] starts with that path. They run under setsid, so they are
# not our children and outlive a crashed test run.
cluster_pids() {
  local p cmdline
  for p in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ "$cmdline" == "$CLUSTER_DIR/bin/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

apiserver_ready() { kc get --raw /readyz >/dev/null 2>&1; }

# kwokctl picks its ports deterministically (the first free port counting down from 32766),
# so two clusters created at the same moment (parallel test runs, several developers on one
# machine) grab the same ports and one of them never comes up. We pick random free ports
# ourselves, from a range below the kernel's ephemeral ports (32768+) and below kwokctl's.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_ports() { # pick_ports N: N distinct free ports in 20000-31999
  local -A seen=()
  local out=() p
  while ((${#out[@]} < $1)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [[ -n "${seen[$p]:-}" ]] && continue
    seen[$p]=1
    port_in_use "$p" || out+=("$p")
  done
  echo "${out[@]}"
}

# Undo a half-made cluster, keeping the component logs of the failed attempt.
discard_attempt() { # discard_attempt N
  if [[ -d "$CLUSTER_DIR/logs" ]]; then
    rm -rf "$WORKDIR/failed-logs-$1"
    cp -r "$CLUSTER_DIR/logs" "$WORKDIR/failed-logs-$1" || true
    log "attempt $1: component logs kept in $WORKDIR/failed-logs-$1"
  fi
  do_stop || true
}

# One attempt to bring the cluster up; returns non-zero (after logging why) on failure.
try_start() {
  local ports
  read -r -a ports <<<"$(pick_ports 6)"
  # The options go in a config file because bindAddress has no flag: kwokctl's default is
  # 0.0.0.0 for etcd, the apiserver, KCM, the scheduler and kwok's kubelet server. On a
  # shared runner everything must listen on loopback only.
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
  # Writes are audited to $CLUSTER_DIR/logs/audit.log, so tests can count them.
  kubeAuditPolicy: $REPO/test/testbed/audit-policy.yaml
  kubeApiserverPort: ${ports[0]}
  etcdPort: ${ports[1]}
  etcdPeerPort: ${ports[2]}
  kwokControllerPort: ${ports[3]}
  kubeControllerManagerPort: ${ports[4]}
  kubeSchedulerPort: ${ports[5]}
componentsPatches:
# kwok nodes carry Hostname=localhost plus InternalIP 192.0.2.x (a documentation range).
# The apiserver reaches the fake kubelet (logs, exec, port-forward) at the first address of
# the preferred types; pin that to Hostname so it always dials localhost, never 192.0.2.x.
- name: kube-apiserver
  extraArgs:
  - key: kubelet-preferred-address-types
    value: Hostname
EOF

  # --kubeconfig: kwokctl would otherwise add a context to ~/.kube/config.
  if ! kwokctl create cluster --name "$NAME" -c "$WORKDIR/kwokctl.yaml" \
      --kubeconfig "$KUBECONFIG_PATH" --wait "$WAIT" >"$WORKDIR/create.log" 2>&1; then
    tail -n 5 "$WORKDIR/create.log" >&2
    log "kwokctl create cluster failed (log: $WORKDIR/create.log)"
    return 1
  fi
  log "control plane up in $(elapsed)s (apiserver on 127.0.0.1:${ports[0]})"

  # Stages before nodes, so the first node is initialised by them.
  if ! kc apply -f "$TESTBED_DIR/share/kwok-stages/" -f "$REPO/test/testbed/stages/" >/dev/null; then
    log "applying kwok stages failed"
    return 1
  fi

  if [[ "$NODES" -gt 0 ]]; then
    if ! kwokctl scale node --name "$NAME" --replicas "$NODES" >>"$WORKDIR/create.log" 2>&1; then
      log "kwokctl scale node failed (log: $WORKDIR/create.log)"
      return 1
    fi
    # Normally ~3 s. Nodes that never get Ready mean kwok-controller is not working.
    if ! kc wait --for=condition=Ready node --all --timeout=45s >/dev/null; then
      log "nodes did not become Ready"
      return 1
    fi
  fi
  # Pods can only be created in a namespace once KCM has made its default ServiceAccount;
  # wait for it so the first test cannot race it.
  local i
  for i in $(seq 1 60); do
    kc -n default get serviceaccount default >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  log "no default ServiceAccount after 30s (kube-controller-manager not working?)"
  return 1
}

do_start() {
  local b attempt
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

  T0=$(date +%s.%N)
  for attempt in 1 2 3; do
    log "creating cluster '$NAME' (Kubernetes $K8S_VERSION, binaries from $TESTBED_BIN), attempt $attempt"
    if try_start; then
      log "cluster '$NAME' ready with $NODES node(s) in $(elapsed)s"
      log "KUBECONFIG=$KUBECONFIG_PATH"
      return 0
    fi
    discard_attempt "$attempt"
  done
  die "cluster '$NAME' did not come up in 3 attempts (see $WORKDIR/failed-logs-*)"
}
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

do_stop() {
  local pids p
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
    for _ in $(seq 1 20); do
      [[ -z "$(cluster_pids)" ]] && break
      sleep 0.25
    done
    for p in $(cluster_pids); do kill -KILL "$p" 2>/dev/null || true; done
    # SIGKILL is delivered asynchronously: give the kernel a moment to finish them.
    for _ in $(seq 1 20); do
      [[ -z "$(cluster_pids)" ]] && break
      sleep 0.1
    done
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
