#!/usr/bin/env bash
# Runs the product locally: builds what is missing, starts a local control plane of its own (in .cluster/demo),
# installs the CRD and runs `deno task demo` (which finds the cluster through $LWS_CLUSTER_DIR or $KUBECONFIG).
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
deno="$(bash scripts/ensure-deno.sh)"
export PATH="$(dirname "$deno"):$PATH"
bash tests/cluster/build.sh >/dev/null
deno install --frozen >/dev/null

export LWS_CLUSTER_DIR="$PWD/.cluster/demo"
export KUBECONFIG="$LWS_CLUSTER_DIR/kubeconfig"
cleanup() { deno task cluster:down || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
deno task cluster:up
deno task demo
