#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into $HOME/.cache/lws-deno/deno-<version>/ (once) and prints
# the path of the deno executable. Nothing is installed globally.
set -euo pipefail
DENO_VERSION="${DENO_VERSION:-2.9.6}"
dir="${LWS_CACHE_DIR:-$HOME/.cache/lws-deno}/deno-$DENO_VERSION"
deno="$dir/node_modules/.bin/deno"
if [ ! -x "$deno" ] || ! "$deno" --version >/dev/null 2>&1; then
  command -v npm >/dev/null || { echo "ensure-deno: npm is required to install Deno $DENO_VERSION" >&2; exit 1; }
  echo "ensure-deno: installing deno@$DENO_VERSION from npm into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
fi
echo "$deno"
