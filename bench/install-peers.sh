#!/usr/bin/env bash
# Installs an alternative client the benchmark compares against, outside the work tree and
# outside package.json, from the registries. Idempotent. Prints the directory holding its
# node_modules.
#
#   bash bench/install-peers.sh [msc-node|aiortc]      (default msc-node)
#
# - msc-node: msc-node 0.0.21 (mediasoup-client on werift 0.18.17, pure JS), from npm.
# - aiortc: mediasoup-client-aiortc 3.16.1 from npm; its postinstall pip-installs aiortc 1.14
#   and PyAV (wheels with libvpx and opus inside) from PyPI into its own folder. Needs python3
#   >= 3.10 (PYTHON picks another interpreter).
set -euo pipefail
cache="${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}"
name="${1:-msc-node}"
case "$name" in
msc-node) dir="$cache/bench-peers" package=msc-node version=0.0.21 ;;
aiortc) dir="$cache/bench-aiortc" package=mediasoup-client-aiortc version=3.16.1 ;;
*) echo "install-peers: unknown alternative '$name' (msc-node or aiortc)" >&2; exit 2 ;;
esac
installed() {
	[ -f "$dir/node_modules/$package/package.json" ] &&
		grep -q "\"version\": \"$version\"" "$dir/node_modules/$package/package.json" &&
		{ [ "$name" != aiortc ] || [ -d "$dir/node_modules/$package/worker/pip_deps/aiortc" ]; }
}
if installed; then
	echo "$dir"
	exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo "{ \"name\": \"bench-$name\", \"private\": true }" >"$dir/package.json"
# --foreground-scripts: aiortc's postinstall (pip) prints what it does; its failure fails this
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error --foreground-scripts "$package@$version" >&2)
installed || { echo "install-peers: $package@$version did not install completely in $dir" >&2; exit 1; }
echo "$dir"
