#!/usr/bin/env bash
# Runs the product locally: builds what is missing, starts the local control plane, installs the CRD and applies
# the samples. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
deno="$(bash scripts/ensure-deno.sh)"
export PATH="$(dirname "$deno"):$PATH"
bash tests/cluster/build.sh >/dev/null
deno install --frozen >/dev/null
cleanup() { deno task cluster:down || true; }
trap cleanup EXIT INT TERM
deno task cluster:up
deno task demo
