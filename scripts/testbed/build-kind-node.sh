#!/usr/bin/env bash
# Build the real-kind test tier's images into the kind Docker daemon
# (scripts/docker/ensure-kind-dockerd.sh), from package registries only:
#
#   koala-test/kind-node:<K8S_VERSION>-<hash>   a kind node image laid out as kind v0.33's
#       images/base and `kind build node-image` make it: Debian rootfs with systemd
#       (debootstrap), kind's base files from the kind module, containerd/runc/crictl/CNI plugins
#       and kubelet/kubeadm/kubectl built from their Go modules, and every image kubeadm and
#       kind's default manifests name preloaded into containerd (`docker import` of the static
#       binaries, `ctr images import` as kind does). The default CNI manifest is kind's, with a
#       routing-only kindnetd stand-in, plus kube-router in network-policy mode.
#   docker.io/envoyproxy/envoy:<kind's tag>     kind's load balancer for several control
#       planes. Envoy cannot be built here: this is haproxy (Debian) fed from kind's Envoy config
#       by scripts/testbed/kind-node/envoy. A stand-in for kind's internals, not for koala.
#
#   scripts/testbed/build-kind-node.sh                build what is missing (no-op when built)
#   scripts/testbed/build-kind-node.sh --print-image  print the node image's name, build nothing
#   scripts/testbed/build-kind-node.sh --print-kubectl  print the built kubectl's path
#   scripts/testbed/build-kind-node.sh --check        exit 0 when both images are in the daemon
#
# Pins: versions.env (K8S_VERSION, KIND_VERSION) and kind-node.env. The control-plane and etcd
# binaries are the kwok test bed's (scripts/testbed/build.sh, same K8S_VERSION); this script
# builds kubelet, kubeadm, kubectl and kube-proxy beside them, sharing its Go caches.
# Cache: $KOALA_TESTBED_CACHE/kind-node/ (tools/<tool>-<key>, rootfs/<name>-<key>, debs/).
# Each Go tool and each rootfs is keyed by its pins; the images by everything that goes in,
# so a changed pin or file rebuilds only what depends on it.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES=$HERE/kind-node
# shellcheck source=versions.env
. "$HERE/versions.env"
# shellcheck source=kind-node.env
. "$HERE/kind-node.env"
KOALA_TESTBED_CACHE=${KOALA_TESTBED_CACHE:-$HOME/.cache/koala-testbed}
C=$KOALA_TESTBED_CACHE/kind-node
DOCKER_HOST=${KOALA_KIND_DOCKER_HOST:-$(bash "$HERE/../docker/ensure-kind-dockerd.sh" --host)}
export DOCKER_HOST

log() { printf '[kind-node %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[kind-node] ERROR: %s\n' "$*" >&2; exit 1; }
key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

# Debian packages the build needs that a fresh machine lacks: runc links libseccomp through cgo
# (pkg-config finds it), and the rootfs comes from debootstrap. Installed before the keys below,
# which include libseccomp-dev's version; the print and check modes install nothing.
need_debs() { # need_debs PACKAGE...
  local missing=() p log=/tmp/koala-apt-kind-node.log
  for p in "$@"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}, and not root to apt-get install them"
  log "installing ${missing[*]} from Debian (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1 || {
    apt-get update -q >>"$log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
      die "apt-get install ${missing[*]} failed (log: $log)"
  }
}
case "${1:-}" in
  --print-image | --print-kubectl | --check) ;;
  *) need_debs libseccomp-dev pkg-config debootstrap ;;
esac

GOVERSION=$(GOTOOLCHAIN=local go env GOVERSION)
K8S_MINOR=$(cut -d. -f2 <<<"${K8S_VERSION#v}")
KIND_MOD=$KOALA_TESTBED_CACHE/gomod/sigs.k8s.io/kind@$KIND_VERSION
# Bump when the recipe below changes what goes into the images (the pins and the files under
# kind-node/ are part of the key already).
RECIPE_REV=1

# --- the tools and their keys -----------------------------------------------------------
declare -A TOOL_KEY=(
  [k8s]=$(key k8s "$K8S_VERSION" "$GOVERSION" 1)
  [containerd]=$(key containerd "$CONTAINERD_VERSION" "$GOVERSION" 1)
  [runc]=$(key runc "$RUNC_VERSION" "$GOVERSION" "$(dpkg-query -W -f '${Version}' libseccomp-dev 2>/dev/null)" 1)
  [crictl]=$(key crictl "$CRICTL_VERSION" "$GOVERSION" 1)
  [cni]=$(key cni "$CNI_PLUGINS_VERSION" "$GOVERSION" 1)
  [coredns]=$(key coredns "$COREDNS_VERSION" "$GOVERSION" 1)
  [lpp]=$(key lpp "$LOCAL_PATH_PROVISIONER_VERSION" "$GOVERSION" 1)
  [kube-router]=$(key kube-router "$KUBE_ROUTER_VERSION" "$GOVERSION" 1)
  [pause]=$(key pause "$GOVERSION" "$(cat "$FILES/pause/go.mod" "$FILES/pause/main.go")")
)
TOOLS=(pause cni crictl runc containerd k8s coredns lpp kube-router)
NODE_PKGS=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,bash,ca-certificates,curl,jq,procps
NET_PKGS=bash,iptables,nftables,ipset,iproute2,conntrack,haproxy,busybox-static,ca-certificates
declare -A ROOTFS_KEY=([node]=$(key "$DEBIAN_SUITE" "$NODE_PKGS" 1) [net]=$(key "$DEBIAN_SUITE" "$NET_PKGS" 1))
tool_dir() { echo "$C/tools/$1-${TOOL_KEY[$1]}"; }
rootfs_dir() { echo "$C/rootfs/$1-${ROOTFS_KEY[$1]}"; }

TESTBED_BIN=$(bash "$HERE/build.sh" --print-bin-dir)
files_sum=$(cd "$FILES" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
IMAGE_KEY=$(key "$RECIPE_REV" "$K8S_VERSION" "$KIND_VERSION" "$ETCD_VERSION" "${TOOL_KEY[@]}" "${ROOTFS_KEY[@]}" "$files_sum")
NODE_IMAGE=koala-test/kind-node:$K8S_VERSION-$IMAGE_KEY
LB_KEY=$(key "$RECIPE_REV" "${ROOTFS_KEY[net]}" "$(sha256sum <"$FILES/envoy")")

lb_image() { sed -n 's/^const Image = "\(.*\)"$/\1/p' "$KIND_MOD/pkg/cluster/internal/loadbalancer/const.go"; }
have_images() {
  [ -d "$KIND_MOD" ] || return 1
  docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 &&
    [ "$(docker image inspect -f '{{index .Config.Labels "org.koala.recipe"}}' "$(lb_image)" 2>/dev/null)" = "$LB_KEY" ]
}

case "${1:-}" in
  --print-image) echo "$NODE_IMAGE"; exit 0 ;;
  --print-kubectl) echo "$(tool_dir k8s)/bin/kubectl"; exit 0 ;;
  --check) have_images; exit ;;
  "") ;;
  *) echo "usage: $0 [--print-image|--print-kubectl|--check]" >&2; exit 2 ;;
esac

bash "$HERE/../docker/ensure-kind-dockerd.sh"
if have_images; then log "up to date: $NODE_IMAGE"; exit 0; fi

mkdir -p "$C/tools" "$C/rootfs" "$C/debs" "$C/logs"
exec 9>"$C/.lock"
flock -n 9 || { log "another build holds $C/.lock; waiting"; flock 9; }
T0=$SECONDS
TIMINGS=$C/logs/timings.txt
timed() { # timed NAME FN: run FN, log and record its wall time
  local t=$SECONDS
  "$2"
  log "$1: $((SECONDS - t))s"
  printf '%s %s %ss\n' "$(date -u +%FT%TZ)" "$1" "$((SECONDS - t))" >>"$TIMINGS"
}

# --- Debian rootfs (debootstrap; the .debs are kept in $C/debs) --------------------------------
MIRROR=${KOALA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
make_rootfs() { # make_rootfs NAME PACKAGES
  local r; r=$(rootfs_dir "$1")
  [ -x "$r/bin/bash" ] && [ -f "$r/.complete" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
  log "rootfs $1: debootstrap $DEBIAN_SUITE (log: $C/logs/rootfs-$1.log)"
  rm -rf --one-file-system "$r"; mkdir -p "$r"
  local t0=$SECONDS
  nice -n 10 debootstrap --variant=minbase --include="$2" --cache-dir="$C/debs" "$DEBIAN_SUITE" "$r" "$MIRROR" \
    >"$C/logs/rootfs-$1.log" 2>&1 || { tail -n 20 "$C/logs/rootfs-$1.log" >&2; die "debootstrap $1 failed"; }
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
    "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/*
  : >"$r/etc/resolv.conf"; : >"$r/etc/hostname"
  touch "$r/.complete"
  printf '%s debootstrap %s %ss\n' "$(date -u +%FT%TZ)" "$1" "$((SECONDS - t0))" >>"$TIMINGS"
}
make_rootfs node "$NODE_PKGS"
make_rootfs net "$NET_PKGS"

# --- Go builds ------------------------------------------------------------------------------
export GOMODCACHE="$KOALA_TESTBED_CACHE/gomod" GOCACHE="$KOALA_TESTBED_CACHE/gocache"
export GOTOOLCHAIN=local GOWORK=off GO111MODULE=on GOFLAGS="-modcacherw -buildvcs=false"
gobuild() { nice -n 10 go build -trimpath "$@"; }
# wrapper DIR VERSION PACKAGE...: a module of our own that requires the packages at VERSION (so
# the upstream go.mod's replace lines do not apply, and no other tool joins its module graph).
wrapper() {
  local dir=$1 ver=$2 p args=(); shift 2
  rm -rf "$dir/src" && mkdir -p "$dir/src" && cd "$dir/src"
  go mod init "koala.local/kind-node/$(basename "$dir")"
  for p in "$@"; do args+=("$p@$ver"); done
  go get "${args[@]}"
}

build_k8s() { # kubelet kubeadm kubectl kube-proxy, with the test bed's staging replaces
  local d ver=$K8S_VERSION stg="v0.${K8S_VERSION#v1.}" gomod mods m edits=() ldf="-s -w" p
  d=$(tool_dir k8s)
  rm -rf "$d/src" && mkdir -p "$d/src" && cd "$d/src"
  go mod init koala.local/kind-node/k8s >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$ver" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  mods=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")
  go mod edit -go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")" -require="k8s.io/kubernetes@$ver"
  for m in $mods; do edits+=("-replace=$m=$m@$stg"); done
  go mod edit "${edits[@]}"
  go get "k8s.io/kubernetes/cmd/kubelet@$ver" "k8s.io/kubernetes/cmd/kubeadm@$ver" \
    "k8s.io/kubernetes/cmd/kubectl@$ver" "k8s.io/kubernetes/cmd/kube-proxy@$ver" >/dev/null
  # Stamped as upstream's hack/lib/version.sh does; without it kubeadm reports v0.0.0 and
  # refuses the control plane's version. A fixed date keeps the link cacheable.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean -X $p.buildDate=2000-01-01T00:00:00Z"
  done
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -ldflags "$ldf" -o "$d/stage/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm \
    k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kube-proxy
  "$d/stage/kubeadm" version -o short | grep -qx "$ver" || die "kubeadm does not report $ver"
}
build_containerd() { # static, with kind's build tags
  local d m=github.com/containerd/containerd/v2
  d=$(tool_dir containerd)
  wrapper "$d" "$CONTAINERD_VERSION" "$m/cmd/containerd" "$m/cmd/ctr" "$m/cmd/containerd-shim-runc-v2"
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -tags "no_aufs no_zfs no_btrfs no_devmapper" \
    -ldflags "-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Revision=koala-testbed" \
    -o "$d/stage/" "$m/cmd/containerd" "$m/cmd/ctr" "$m/cmd/containerd-shim-runc-v2"
}
build_runc() { # cgo (nsenter) and libseccomp, linked against the host's bookworm libraries
  local d; d=$(tool_dir runc)
  [ -e /usr/include/seccomp.h ] || die "runc needs libseccomp-dev (apt-get install libseccomp-dev)"
  wrapper "$d" "$RUNC_VERSION" github.com/opencontainers/runc
  mkdir -p "$d/stage"
  CGO_ENABLED=1 gobuild -tags "seccomp urfave_cli_no_docs" \
    -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -X main.gitCommit=koala-testbed" -o "$d/stage/runc" github.com/opencontainers/runc
}
build_crictl() {
  local d; d=$(tool_dir crictl)
  wrapper "$d" "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" -o "$d/stage/crictl" sigs.k8s.io/cri-tools/cmd/crictl
}
build_cni() { # the four plugins kind's base image carries
  local d m=github.com/containernetworking/plugins/plugins
  d=$(tool_dir cni)
  wrapper "$d" "$CNI_PLUGINS_VERSION" "$m/ipam/host-local" "$m/main/loopback" "$m/main/ptp" "$m/meta/portmap"
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -ldflags "-s -w" -o "$d/stage/" "$m/ipam/host-local" "$m/main/loopback" "$m/main/ptp" "$m/meta/portmap"
}
build_coredns() {
  local d; d=$(tool_dir coredns)
  wrapper "$d" "$COREDNS_VERSION" github.com/coredns/coredns
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=koala-testbed" -o "$d/stage/coredns" github.com/coredns/coredns
}
build_lpp() {
  local d; d=$(tool_dir lpp)
  wrapper "$d" "$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner
  mkdir -p "$d/stage"
  CGO_ENABLED=0 gobuild -ldflags "-s -w -X main.VERSION=$LOCAL_PATH_PROVISIONER_VERSION" -o "$d/stage/local-path-provisioner" github.com/rancher/local-path-provisioner
}
build_kube-router() { # its go.mod has replace lines, so it is built inside its own module
  local d m=github.com/cloudnativelabs/kube-router/v2 dir
  d=$(tool_dir kube-router)
  mkdir -p "$d/stage"
  dir=$(go mod download -json "$m@$KUBE_ROUTER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir" ] || die "kube-router: go mod download $m@$KUBE_ROUTER_VERSION failed"
  rm -rf "$d/src" && cp -r "$dir" "$d/src" && chmod -R u+w "$d/src" && cd "$d/src"
  CGO_ENABLED=0 gobuild -ldflags "-s -w -X $m/pkg/version.Version=$KUBE_ROUTER_VERSION" -o "$d/stage/kube-router" ./cmd/kube-router
}
build_pause() {
  local d; d=$(tool_dir pause)
  rm -rf "$d/src" && mkdir -p "$d/stage" && cp -r "$FILES/pause" "$d/src" && cd "$d/src"
  CGO_ENABLED=0 gobuild -ldflags "-s -w" -o "$d/stage/pause" .
}
tool() { # tool NAME: build into <dir>/stage, then rename to <dir>/bin (never half-written)
  local d; d=$(tool_dir "$1")
  [ -d "$d/bin" ] && return 0
  log "$1: building (log: $C/logs/$1.log)"
  rm -rf "$d/stage"
  if ! ( "build_$1" ) >"$C/logs/$1.log" 2>&1; then
    tail -n 30 "$C/logs/$1.log" >&2; die "$1: build failed (log: $C/logs/$1.log)"
  fi
  mv "$d/stage" "$d/bin"
  rm -rf "$d/src"
}
for t in "${TOOLS[@]}"; do
  [ -d "$(tool_dir "$t")/bin" ] && continue
  t0=$SECONDS; tool "$t"
  printf '%s go build %s %ss\n' "$(date -u +%FT%TZ)" "$t" "$((SECONDS - t0))" >>"$TIMINGS"
done
cd "$HERE"
for b in kube-apiserver kube-controller-manager kube-scheduler etcd; do
  [ -x "$TESTBED_BIN/$b" ] || die "$TESTBED_BIN/$b is missing: run scripts/testbed/build.sh first (the control plane is shared)"
done
[ -d "$KIND_MOD" ] || bash "$HERE/build-kind.sh"   # it downloads the kind module we read files from
[ -d "$KIND_MOD" ] || die "no kind module at $KIND_MOD"
K8S=$(tool_dir k8s)/bin

# --- images (docker import of small rootfs trees; no registry) ----------------------------------
W=$(mktemp -d /var/tmp/koala-kind-node.XXXXXX)
BUILD_CTR=""
cleanup() {
  [ -n "$BUILD_CTR" ] && docker rm -f -v "$BUILD_CTR" >/dev/null 2>&1
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
IMAGES=$W/images; mkdir -p "$IMAGES"
PATHENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
import_dir() { # import_dir DIR TAG [--change ...]: fixed owner and order, label with the key
  local dir=$1 tag=$2; shift 2
  tar -C "$dir" --sort=name --numeric-owner --owner=0 --group=0 -cf - . |
    docker import --change "$PATHENV" --change "LABEL org.koala.recipe=$IMAGE_KEY" "$@" - "$tag" >/dev/null
}
save() { docker save "$@" -o "$IMAGES/$(tr '/:' '__' <<<"$1").tar"; }
skeleton() { # a scratch-like tree: passwd, group, tmp, CA certificates
  local r=$1
  mkdir -p "$r"/usr/local/bin "$r"/etc/ssl/certs "$r"/tmp "$r"/var/run "$r"/root
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"
}
static_image() { # static_image TAG BINARY [--change ...]
  local tag=$1 bin=$2 r; shift 2
  r=$W/img-$RANDOM; skeleton "$r"; install -m0755 "$bin" "$r/usr/local/bin/"
  import_dir "$r" "$tag" "$@"; rm -rf "$r"; save "$tag"
}
net_image() { # net_image TAG OVERLAY [--change ...]: the net rootfs plus an overlay tree
  local tag=$1 ov=$2 m; shift 2
  m=$W/net-$RANDOM; cp -al "$(rootfs_dir net)/." "$m/"
  rm -f "$m/.complete"
  cp -a --remove-destination "$ov/." "$m/"
  mkdir -p "$m/usr/sbin"
  install -m0755 "$FILES/iptables-wrapper" "$m/usr/sbin/iptables-wrapper.new"; mv "$m/usr/sbin/iptables-wrapper.new" "$m/usr/sbin/iptables-wrapper"
  local n; for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    rm -f "$m/usr/sbin/$n"; ln -s iptables-wrapper "$m/usr/sbin/$n"
  done
  import_dir "$m" "$tag" "$@"; rm -rf "$m"
}

build_images() {
  # What kubeadm pulls for this version (etcd, coredns and pause tags included).
  local want; want=$("$K8S/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
  img_of() { grep "/$1:" <<<"$want" | head -n1; }
  local etcd coredns pause
  etcd=$(img_of etcd); coredns=$(img_of coredns); pause=$(img_of pause)
  [[ -n "$etcd" && -n "$coredns" && -n "$pause" ]] || die "kubeadm config images list: unexpected output: $want"
  local c; for c in kube-apiserver kube-controller-manager kube-scheduler; do
    static_image "registry.k8s.io/$c:$K8S_VERSION" "$TESTBED_BIN/$c"
  done
  # etcd is the test bed's (ETCD_VERSION), under the tag kubeadm asks for.
  static_image "$etcd" "$TESTBED_BIN/etcd"
  local r=$W/coredns; mkdir -p "$r"; install -m0755 "$(tool_dir coredns)/bin/coredns" "$r/coredns"
  import_dir "$r" "$coredns" --change 'ENTRYPOINT ["/coredns"]'; save "$coredns"
  # pause: kubeadm's tag, and containerd's sandbox image from kind's config.toml.
  local sandbox; sandbox=$(sed -n 's/.*sandbox_image = "\(.*\)"/\1/p; s/.*sandbox = "\(.*\)"/\1/p' "$KIND_MOD/images/base/files/etc/containerd/config.toml" | head -n1)
  r=$W/pause; mkdir -p "$r"; install -m0755 "$(tool_dir pause)/bin/pause" "$r/pause"
  import_dir "$r" "$pause" --change 'ENTRYPOINT ["/pause"]'
  [ -n "$sandbox" ] && [ "$sandbox" != "$pause" ] && docker tag "$pause" "$sandbox"
  save "$pause" ${sandbox:+"$sandbox"}
  # kube-proxy: iptables (nft or legacy, as the node uses) next to the binary.
  r=$W/proxy; mkdir -p "$r/usr/local/bin"; install -m0755 "$K8S/kube-proxy" "$r/usr/local/bin/"
  net_image "registry.k8s.io/kube-proxy:$K8S_VERSION" "$r"; save "registry.k8s.io/kube-proxy:$K8S_VERSION"
  # kind's default manifests, and the images they name.
  python3 "$FILES/kind-manifests.py" "$KIND_MOD" cni >"$W/default-cni.yaml"
  python3 "$FILES/kind-manifests.py" "$KIND_MOD" storage >"$W/default-storage.yaml"
  local kindnetd lpp helper router=docker.io/koala-test/kube-router:$KUBE_ROUTER_VERSION
  kindnetd=$(sed -n 's/^ *image: \(.*kindnetd.*\)$/\1/p' "$W/default-cni.yaml" | head -n1)
  lpp=$(sed -n 's/^ *image: \(.*local-path-provisioner.*\)$/\1/p' "$W/default-storage.yaml" | head -n1)
  helper=$(sed -n 's/^ *image: \(.*local-path-helper.*\)$/\1/p' "$W/default-storage.yaml" | head -n1)
  [[ -n "$kindnetd" && -n "$lpp" && -n "$helper" ]] || die "image names not found in kind's manifests"
  r=$W/kindnetd; mkdir -p "$r/usr/local/bin"; install -m0755 "$K8S/kubectl" "$FILES/kindnetd" "$r/usr/local/bin/"
  net_image "$kindnetd" "$r" --change 'ENTRYPOINT ["/usr/local/bin/kindnetd"]'; save "$kindnetd"
  static_image "$lpp" "$(tool_dir lpp)/bin/local-path-provisioner" --change 'ENTRYPOINT ["/usr/local/bin/local-path-provisioner"]'
  # local-path-helper runs sh scripts (mkdir, rm): busybox.
  r=$W/helper; skeleton "$r"; mkdir -p "$r/bin"; cp "$(rootfs_dir net)/bin/busybox" "$r/bin/"
  local a; for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  import_dir "$r" "$helper"; save "$helper"
  r=$W/router; mkdir -p "$r/usr/local/bin" "$r/var/lib/kube-router"; install -m0755 "$(tool_dir kube-router)/bin/kube-router" "$r/usr/local/bin/"
  net_image "$router" "$r" --change 'ENTRYPOINT ["/usr/local/bin/kube-router"]'; save "$router"
  { cat "$W/default-cni.yaml"; printf '\n---\n'; sed "s#KUBE_ROUTER_IMAGE#$router#" "$FILES/kube-router-netpol.yaml"; } >"$W/test-cni.yaml"
}

build_lb() {
  local r=$W/lb tag; tag=$(lb_image)
  mkdir -p "$r/usr/local/bin" "$r/home/envoy"; install -m0755 "$FILES/envoy" "$r/usr/local/bin/envoy"
  net_image "$tag" "$r" --change "LABEL org.koala.recipe=$LB_KEY"
}

build_base() { # kind's images/base layout on the node rootfs, in a copy
  local R=$W/node F=$KIND_MOD/images/base/files T
  T=$(tool_dir containerd)/bin
  cp -a "$(rootfs_dir node)/." "$R/"; rm -f "$R/.complete"
  install -m0755 "$F"/usr/local/bin/* "$R/usr/local/bin/"
  mkdir -p "$R/kind/bin" "$R/LICENSES" "$R/etc/containerd" "$R/etc/default" "$R/etc/sysctl.d" "$R/etc/systemd/system/kubelet.service.d"
  install -m0644 "$F/kind/README.txt" "$R/kind/"; install -m0755 "$F"/kind/bin/* "$R/kind/bin/"; chmod 755 "$R/kind" "$R/kind/bin"
  install -m0644 "$F"/LICENSES/* "$R/LICENSES/"
  install -m0644 "$F/etc/crictl.yaml" "$R/etc/"
  install -m0644 "$F"/etc/containerd/* "$R/etc/containerd/"
  install -m0644 "$F"/etc/default/* "$R/etc/default/"
  install -m0644 "$F"/etc/sysctl.d/* "$R/etc/sysctl.d/"
  install -m0644 "$F"/etc/systemd/system/*.service "$F"/etc/systemd/system/*.slice "$R/etc/systemd/system/"
  install -m0644 "$F"/etc/systemd/system/kubelet.service.d/* "$R/etc/systemd/system/kubelet.service.d/"
  # No process here holds CAP_SYS_RESOURCE, so none may lower oom_score_adj, and every pod
  # sandbox would fail ("nsexec: failed to update /proc/self/oom_score_adj"): let containerd
  # clamp it instead, as kind does for rootless nodes.
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$R/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$R/etc/containerd/config.toml" || die "restrict_oom_score_adj not found in kind's containerd config"
  # The same clean-up as kind's Dockerfile.
  find "$R/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
    "$R"/lib/systemd/system/local-fs.target.wants/* "$R"/lib/systemd/system/sockets.target.wants/*udev* \
    "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
  grep -q '^ReadKMsg=no' "$R/etc/systemd/journald.conf" || echo ReadKMsg=no >>"$R/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$R/sbin/init"
  # kind's "build" stages: containerd, runc, crictl, CNI plugins.
  install -m0755 "$T/containerd" "$T/ctr" "$T/containerd-shim-runc-v2" "$(tool_dir crictl)/bin/crictl" "$R/usr/local/bin/"
  mkdir -p "$R/usr/local/sbin" "$R/opt/cni/bin"
  install -m0755 "$(tool_dir runc)/bin/runc" "$R/usr/local/sbin/runc"
  install -m0755 "$(tool_dir cni)"/bin/* "$R/opt/cni/bin/"
  chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$R" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  [ -L "$R/etc/systemd/system/multi-user.target.wants/containerd.service" ] || die "containerd.service not enabled"
  mkdir -p "$R/etc/kubernetes/manifests"
  chroot "$R" sh -c 'ctr oci spec | jq ".hooks.createContainer[.hooks.createContainer|length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" | jq "del(.process.rlimits)" > /etc/containerd/cri-base.json'
  # `kind build node-image`: the Kubernetes binaries, the version, the default manifests.
  install -m0755 "$K8S/kubeadm" "$K8S/kubelet" "$K8S/kubectl" "$R/usr/bin/"
  printf '%s' "$K8S_VERSION" >"$R/kind/version"
  mkdir -p "$R/kind/manifests"
  install -m0644 "$W/test-cni.yaml" "$R/kind/manifests/default-cni.yaml"
  install -m0644 "$W/default-storage.yaml" "$R/kind/manifests/default-storage.yaml"
  rm -rf "${R:?}"/tmp/* "${R:?}"/root/*
  import_dir "$R" "koala-test/kind-node-build:$IMAGE_KEY" --change 'ENV container=docker' \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]'
  rm -rf --one-file-system "$R"
}

build_node() { # preload the images into the node's containerd as kind's node-image build does
  BUILD_CTR=koala-kind-node-build-$$
  docker run -d --name "$BUILD_CTR" --entrypoint=sleep --security-opt seccomp=unconfined \
    "koala-test/kind-node-build:$IMAGE_KEY" infinity >/dev/null
  docker exec "$BUILD_CTR" sh -c 'nohup containerd >/var/log/build-containerd.log 2>&1 &'
  docker exec "$BUILD_CTR" sh -c 'for i in $(seq 50); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1' ||
    die "containerd did not start in the build container"
  local f
  for f in "$IMAGES"/*.tar; do
    docker exec -i "$BUILD_CTR" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
      --all-platforms --no-unpack --digests - <"$f" >>"$C/logs/ctr-import.log" 2>&1 || die "ctr import $f failed (log: $C/logs/ctr-import.log)"
  done
  docker exec "$BUILD_CTR" sh -c 'kill $(pidof containerd); for i in $(seq 50); do pidof containerd >/dev/null || break; sleep 0.2; done; rm -f /var/log/build-containerd.log'
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    --change "LABEL org.koala.recipe=$IMAGE_KEY" "$BUILD_CTR" "koala-test/kind-node-build:$IMAGE_KEY-loaded" >/dev/null
  docker rm -f -v "$BUILD_CTR" >/dev/null; BUILD_CTR=""
  # Docker 20.10's import and commit refuse STOPSIGNAL as a change: one classic build step adds
  # it (the base is local, nothing is pulled).
  mkdir -p "$W/stopsignal"
  printf 'FROM koala-test/kind-node-build:%s-loaded\nSTOPSIGNAL SIGRTMIN+3\n' "$IMAGE_KEY" >"$W/stopsignal/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$NODE_IMAGE" "$W/stopsignal" >/dev/null
  docker rmi "koala-test/kind-node-build:$IMAGE_KEY-loaded" "koala-test/kind-node-build:$IMAGE_KEY" >/dev/null 2>&1 || true
}

t0=$SECONDS
build_images
build_lb
build_base
build_node
printf '%s images %ss\n' "$(date -u +%FT%TZ)" "$((SECONDS - t0))" >>"$TIMINGS"
# The images preloaded in the node stay in the daemon too (kind load, tests); drop older nodes.
docker images --format '{{.Repository}}:{{.Tag}}' koala-test/kind-node | grep -vx "$NODE_IMAGE" | xargs -r docker rmi >/dev/null 2>&1 || true
log "built $NODE_IMAGE and $(lb_image) in $((SECONDS - T0))s"
