#!/usr/bin/env bash
# Builds what the benchmark measures, from a commit (default HEAD), in release mode, outside
# the work tree: a copy of the package at that commit with its release addon, and the
# srtp_floor and srtp_recv_floor programs (bench/native). Prints the package directory. Idempotent: a commit already built is
# reused.
#
#   bash bench/build-addon.sh [COMMIT]      # a snapshot of COMMIT (git archive)
#   bash bench/build-addon.sh --worktree    # the work tree as it is (uncommitted changes too)
#
# Why not the addon in the work tree: it may be a debug build (npm run build -- --debug), and
# others' uncommitted changes are not what a commit measures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
mkdir -p "$cache/bench"

if [ "${1:-}" = "--worktree" ]; then
	dir="$cache/bench/worktree"
	src="$root"
	rm -rf "$dir"
	mkdir -p "$dir"
	# the JS side as it is in the work tree
	(cd "$root" && cp -r index.js index.d.ts native.js native.d.ts lib package.json "$dir/")
else
	commit="$(git -C "$root" rev-parse "${1:-HEAD}^{commit}")"
	dir="$cache/bench/pkg-${commit:0:12}"
	if [ -f "$dir/READY" ]; then
		echo "$dir"
		exit 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	# -m: the files get the time of extraction, not the commit's. Cargo decides a crate is fresh
	# by comparing its sources' times with its last build, and the crates of every snapshot
	# share one target directory under the same names: with the commit's times, a snapshot of
	# a commit older than another snapshot's last build would reuse that build's crates.
	git -C "$root" archive "$commit" | tar -x -m -C "$dir"
	src="$dir"
	# keep the three newest snapshots
	ls -dt "$cache"/bench/pkg-* 2>/dev/null | tail -n +4 | xargs -r rm -rf
fi

echo "bench: building the release addon and srtp_floor from $src" >&2
(cd "$src" && cargo build --release --lib -p mediasoup-client-native >&2)
cp "$CARGO_TARGET_DIR/release/libmediasoup_client_native.so" "$dir/mediasoup-client-native.linux-x64-gnu.node"
if [ -f "$src/bench/native/Cargo.toml" ]; then
	(cd "$src" && cargo build --release -p msc-bench --bin srtp_floor >&2)
	cp "$CARGO_TARGET_DIR/release/srtp_floor" "$dir/srtp_floor"
	# the receive side's floor, from the commit that added it on
	if [ -f "$src/bench/native/src/bin/srtp_recv_floor.rs" ]; then
		(cd "$src" && cargo build --release -p msc-bench --bin srtp_recv_floor >&2)
		cp "$CARGO_TARGET_DIR/release/srtp_recv_floor" "$dir/srtp_recv_floor"
	fi
else # a commit from before bench/native: the floor was an example of msc-handler
	(cd "$src" && cargo build --release -p msc-handler --example srtp_floor >&2)
	cp "$CARGO_TARGET_DIR/release/examples/srtp_floor" "$dir/srtp_floor"
fi
if [ "${1:-}" = "--worktree" ]; then
	echo "worktree at $(git -C "$root" rev-parse HEAD) with uncommitted changes" >"$dir/COMMIT"
else
	echo "$commit" >"$dir/COMMIT"
fi
touch "$dir/READY"
echo "$dir"
