#!/usr/bin/env bash
# Installs the alternative client the benchmark compares against, outside the work tree and
# outside package.json: msc-node 0.0.21 (mediasoup-client on werift 0.18.17, pure JS), from
# the npm registry. Idempotent. Prints the directory holding its node_modules.
set -euo pipefail
cache="${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}"
dir="$cache/bench-peers"
mkdir -p "$dir"
if [ -f "$dir/node_modules/msc-node/package.json" ] &&
	grep -q '"version": "0.0.21"' "$dir/node_modules/msc-node/package.json"; then
	echo "$dir"
	exit 0
fi
[ -f "$dir/package.json" ] || echo '{ "name": "bench-peers", "private": true }' >"$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error msc-node@0.0.21 >&2)
echo "$dir"
