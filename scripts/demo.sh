#!/usr/bin/env bash
# Runs the product locally: builds what is missing, starts a local control plane of its own (in .cluster/demo), then
# `deno task demo` (deploy/samples/demo.ts, which finds the cluster through $LWS_CLUSTER_DIR) runs `lws install` and
# `lws run` against it, applies the samples and prints the dashboard URL and things to try. Ctrl-C stops everything
# it started: `lws run` (which removes its webhook configurations), then the control plane.
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
# Every sample is applied at once. The subgroup samples place each subgroup exclusively in one rack and ask 4 TPUs per
# pod; with the default 8 TPUs per node, a leader that lands in a rack whose TPUs the other samples took strands its
# subgroup's worker (no gang scheduling in the demo). 16 per node leaves room whatever the scheduler picks.
deno task cluster:up --tpus-per-node 16
deno task demo
