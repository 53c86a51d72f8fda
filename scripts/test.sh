#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs Deno and the control-plane binaries (cached under
# $HOME/.cache/lws-deno), runs the static checks, starts a local control plane of its own (in .cluster/test-run,
# so a developer's `deno task cluster:up` cluster is neither used nor touched), runs every test against it, and
# stops what it started — also on failure or Ctrl-C. Extra arguments go to `deno test`.
set -euo pipefail
cd "$(dirname "$0")/.."
deno="$(bash scripts/ensure-deno.sh)"
export PATH="$(dirname "$deno"):$PATH"
bash tests/cluster/build.sh >/dev/null
bash scripts/ensure-chromium.sh
command -v openssl >/dev/null || { echo "test.sh: openssl is required (apt-get install openssl)" >&2; exit 1; }
deno install --frozen >/dev/null
deno fmt --check
deno lint
deno check

export LWS_CLUSTER_DIR="$PWD/.cluster/test-run"
unset LWS_TEST_KUBECONFIG
# Registered before the cluster starts, so a failing or interrupted `cluster:up` is cleaned up too. `cluster:down`
# only stops the PIDs recorded in $LWS_CLUSTER_DIR/state.json and does nothing when there are none.
cleanup() { deno task cluster:down || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
deno task cluster:up

# Deno's summary line is "ok | N passed | N failed"; print the plain "N passed, N failed" line as well.
mkdir -p tests/out
set +e
NO_COLOR=1 deno task test "$@" 2>&1 | tee tests/out/test-run.log
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' tests/out/test-run.log | tail -n 1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
