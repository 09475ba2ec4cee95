#!/usr/bin/env bash
# Where the client's CPU goes under load: perf over one load step of the benchmark, summed by
# the layers that own the code (ours, webrtc-rs's PeerConnection driver, the kernel).
#
#   bash bench/profile.sh [PEERS] [peers|one-transport|recv] [SECONDS]     (default: 200 peers 5 s)
#
# `recv` profiles the receive side instead: N receiving peers (bench/recv-phases.js), two
# workers from 300 peers on as `npm run bench` has.
#
# Builds the work tree's addon with symbols (release, line tables, not stripped) in its own
# cargo target directory, runs bench/phase.js (N peers, each a transport with VP8 ~1 Mbps and
# Opus) against the real worker, records `perf --call-graph dwarf` for SECONDS once the load
# is steady, and prints the inclusive share of each part. perf.data is left in the cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}"
peers="${1:-200}"
layout="${2:-peers}"
seconds="${3:-5}"
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

dir="$cache/bench/profile"
rm -rf "$dir"
mkdir -p "$dir"
(cd "$root" && cp -r index.js index.d.ts native.js native.d.ts lib package.json "$dir/")
echo "profile: building the addon with symbols" >&2
(cd "$root" && CARGO_TARGET_DIR="$cache/proftarget" CARGO_PROFILE_RELEASE_STRIP=none \
	CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --lib -p mediasoup-client-native >&2)
cp "$cache/proftarget/release/libmediasoup_client_native.so" "$dir/mediasoup-client-native.linux-x64-gnu.node"

if [ "$layout" = recv ]; then
	workers=1
	[ "$peers" -ge 300 ] && workers=2
	options="{\"phase\":\"recv-load\",\"client\":\"native\",\"clientDir\":\"$dir\",\"peers\":$peers,\"workers\":$workers,\"warmup\":3,\"seconds\":$((seconds + 8))}"
else
	options="{\"phase\":\"load\",\"client\":\"native\",\"clientDir\":\"$dir\",\"layout\":\"$layout\",\"peers\":$peers,\"workers\":1,\"warmup\":3,\"seconds\":$((seconds + 8))}"
fi
data="$cache/bench/profile.perf.data"
script='node --expose-gc "$1/bench/phase.js" "$2" > "$4.phase" &
pid=$!
# setup and warm-up first: perf once the load is steady
while ! grep -q . "/proc/$pid/task/$pid/comm" 2>/dev/null; do sleep 0.1; done
sleep $(( ($5 / 100) + 8 ))
perf record -q -F 499 --call-graph dwarf,16384 -p "$pid" -o "$4" -- sleep "$3" 2>/dev/null
wait "$pid"'
echo "profile: $peers $layout, perf for $seconds s" >&2
if unshare -n true 2>/dev/null; then
	unshare -n sh -c "ip link set lo up && exec bash -c '$script' sh \"\$@\"" sh "$root" "$options" "$seconds" "$data" "$peers"
else
	bash -c "$script" sh "$root" "$options" "$seconds" "$data" "$peers"
fi
tail -1 "$data.phase" | cut -c1-400 >&2

perf report -i "$data" --children --sort sym -g none 2>/dev/null | node "$root/bench/profile-summary.js"
