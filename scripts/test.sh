#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs Deno and the control-plane binaries (cached under
# $HOME/.cache/lws-deno), starts a local control plane, runs every test against it, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
deno="$(bash scripts/ensure-deno.sh)"
export PATH="$(dirname "$deno"):$PATH"
bash tests/cluster/build.sh >/dev/null
deno install --frozen >/dev/null
started=0
cleanup() { if [ $started = 1 ]; then deno task cluster:down || true; fi; }
trap cleanup EXIT
deno task cluster:up
started=1
deno fmt --check
deno lint
deno check
deno task test "$@"
