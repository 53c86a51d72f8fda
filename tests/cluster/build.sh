#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules and caches them under
# $HOME/.cache/lws-deno/bin/<versions>/. A second run with the same versions does nothing.
# Volcano's scheduler (gang scheduling tests) is cached under its own key, bin/volcano-<version>/ (with the CRDs it
# needs), and linked into the control-plane directory as vc-scheduler and volcano-crds/, so changing one version
# never rebuilds the other. KWOK likewise: bin/kwok-<version>-<patch>/, built from the module's source with
# tests/cluster/kwok/uid-preconditions.patch applied (stage jobs delete and patch a pod only if its UID still matches),
# linked in as kwok and kwokctl.
# Prints the bin directory on the last line of stdout.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
VOLCANO_VERSION="${VOLCANO_VERSION:-v1.10.0}"
# Our patch to KWOK (tests/cluster/kwok/): bump the suffix whenever the patch changes, so caches rebuild kwok.
KWOK_PATCH="${KWOK_PATCH:-lws1}"

cache="${LWS_CACHE_DIR:-$HOME/.cache/lws-deno}"
bin="$cache/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
vbin="$cache/bin/volcano-$VOLCANO_VERSION"
kbin="$cache/bin/kwok-$KWOK_VERSION-$KWOK_PATCH"
work="$cache/build"
want=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd etcdctl)
# The CRDs vc-scheduler lists and watches (numatopologies: its ResourceTopology feature gate is on by default).
volcano_crds=(scheduling.volcano.sh_podgroups.yaml scheduling.volcano.sh_queues.yaml
  nodeinfo.volcano.sh_numatopologies.yaml)

log() { printf '[cluster:build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Points the control-plane directory at the binaries cached under their own keys (cheap: done on every run, so a
# changed VOLCANO_VERSION or KWOK_PATCH takes effect without rebuilding the rest).
link_own_keys() {
  ln -sfn "$vbin/vc-scheduler" "$bin/vc-scheduler"
  ln -sfn "$vbin/crds" "$bin/volcano-crds"
  ln -sfn "$kbin/kwok" "$bin/kwok"
  ln -sfn "$kbin/kwokctl" "$bin/kwokctl"
}

missing=()
for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
[ -x "$vbin/vc-scheduler" ] || missing+=(vc-scheduler)
for b in kwok kwokctl; do [ -x "$kbin/$b" ] || missing+=("$b ($KWOK_PATCH)"); done
for c in "${volcano_crds[@]}"; do [ -f "$vbin/crds/$c" ] || missing+=("volcano-crds/$c"); done
if [ ${#missing[@]} -eq 0 ]; then
  link_own_keys
  log "cached: $bin (volcano: $vbin, kwok: $kbin)"
  echo "$bin"
  exit 0
fi
log "building into $bin (missing: ${missing[*]}); a cold build takes many minutes on 2 cores"
command -v go >/dev/null || { log "Go is required to build the control plane (not found on PATH)"; exit 1; }
mkdir -p "$bin" "$work"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Keep printing while a long step runs, so a 15-minute build does not look like a hang.
heartbeat() {
  local what="$1" start=$SECONDS
  while sleep 30; do log "still building $what ($((SECONDS - start))s)"; done
}
run_step() {
  local what="$1"; shift
  heartbeat "$what" & local hb=$!
  local rc=0
  "$@" || rc=$?
  kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
  return $rc
}

# --- Kubernetes: a tool module of our own that maps every staging module to its published version.
need_k8s=0
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do [ -x "$bin/$b" ] || need_k8s=1; done
if [ $need_k8s = 1 ]; then
  kdir="$work/k8s-$K8S_VERSION"
  mkdir -p "$kdir"
  staging_version="v0.${K8S_VERSION#v1.}"
  gomod_path=$(cd "$kdir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module lwsdeno.local/k8stools"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$gomod_path" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } > "$kdir/go.mod"
  cat > "$kdir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving Kubernetes $K8S_VERSION modules"
  (cd "$kdir" && run_step "go mod tidy (kubernetes)" go mod tidy -e >&2)
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  log "compiling kube-apiserver, kube-controller-manager, kube-scheduler, kubectl"
  (cd "$kdir" && run_step "kubernetes binaries" go build -trimpath -ldflags "-s -w $ld" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl >&2)
fi

# --- etcd: a separate tool module, so its dependency pins do not mix with Kubernetes'.
if [ ! -x "$bin/etcd" ] || [ ! -x "$bin/etcdctl" ]; then
  edir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$edir"
  cat > "$edir/go.mod" <<GOMOD
module lwsdeno.local/etcdtools

go 1.26.0

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION
)
GOMOD
  cat > "$edir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
GO
  log "resolving etcd $ETCD_VERSION modules"
  (cd "$edir" && run_step "go mod tidy (etcd)" go mod tidy -e >&2)
  log "compiling etcd and etcdctl"
  (cd "$edir" && run_step "etcd" go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3 >&2)
  (cd "$edir" && run_step "etcdctl" go build -trimpath -ldflags "-s -w" -o "$bin/etcdctl" go.etcd.io/etcd/etcdctl/v3 >&2)
fi

# --- KWOK, patched: a copy of the module's source with our patch applied, built as its own main module.
# Unpatched, KWOK v0.8.0 deletes and patches pods by name from stage jobs queued earlier, which under load removed
# the successor a StatefulSet had just created under the same name (and, under RecreateGroupOnPodRestart, restarted
# its whole group). The patch makes those calls carry the pod's UID as a precondition.
if [ ! -x "$kbin/kwok" ] || [ ! -x "$kbin/kwokctl" ]; then
  log "compiling kwok and kwokctl $KWOK_VERSION with tests/cluster/kwok/uid-preconditions.patch"
  kdir="$work/kwok-$KWOK_VERSION-$KWOK_PATCH"
  kwok_src=$(cd "$work" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$kdir"
  cp -r "$kwok_src" "$kdir"
  chmod -R u+w "$kdir"
  patch_file="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kwok/uid-preconditions.patch"
  (cd "$kdir" && git apply -p1 "$patch_file")
  mkdir -p "$kbin"
  (cd "$kdir" && run_step "kwok" go build -trimpath -ldflags "-s -w" -o "$kbin/kwok" ./cmd/kwok >&2)
  (cd "$kdir" && run_step "kwokctl" go build -trimpath -ldflags "-s -w" -o "$kbin/kwokctl" ./cmd/kwokctl >&2)
fi

# --- Volcano: vc-scheduler only (it creates the default Queue and writes PodGroup status itself; the
# controller-manager is not needed for PodGroups made by someone else). Volcano pins Kubernetes libraries with
# replace directives, which only apply in the main module: copy them from its go.mod, like the Kubernetes step.
need_volcano=0
[ -x "$vbin/vc-scheduler" ] || need_volcano=1
for c in "${volcano_crds[@]}"; do [ -f "$vbin/crds/$c" ] || need_volcano=1; done
if [ $need_volcano = 1 ]; then
  vdir="$work/volcano-$VOLCANO_VERSION"
  mkdir -p "$vdir" "$vbin/crds"
  vc_json=$(cd "$vdir" && go mod download -json "volcano.sh/volcano@$VOLCANO_VERSION")
  vc_gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$vc_json")
  vc_src=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$vc_json")
  {
    echo "module lwsdeno.local/volcanotools"
    echo
    echo "go 1.26.0"
    echo
    echo "require volcano.sh/volcano $VOLCANO_VERSION"
    echo
    sed -n '/^replace (/,/^)/p' "$vc_gomod"
  } > "$vdir/go.mod"
  cat > "$vdir/tools.go" <<'GO'
//go:build tools

package tools

import _ "volcano.sh/volcano/cmd/scheduler"
GO
  log "resolving Volcano $VOLCANO_VERSION modules"
  (cd "$vdir" && run_step "go mod tidy (volcano)" go mod tidy -e >&2)
  log "compiling vc-scheduler $VOLCANO_VERSION"
  (cd "$vdir" && run_step "vc-scheduler" go build -trimpath \
    -ldflags "-s -w -X volcano.sh/volcano/pkg/version.Version=$VOLCANO_VERSION" \
    -o "$vbin/vc-scheduler" volcano.sh/volcano/cmd/scheduler >&2)
  for c in "${volcano_crds[@]}"; do
    install -m 0644 "$vc_src/installer/helm/chart/volcano/crd/bases/$c" "$vbin/crds/$c"
  done
fi
link_own_keys

for b in "${want[@]}" vc-scheduler kwok kwokctl; do [ -x "$bin/$b" ] || { log "build finished but $b is missing"; exit 1; }; done
log "done: $bin"
echo "$bin"
