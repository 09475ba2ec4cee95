#!/usr/bin/env bash
# The whole test suite: cargo fmt and clippy, Rust unit tests of the pure layers and the crates,
# the JS API and the end-to-end tests against the real mediasoup worker, and the typings check.
#
# The node tests run in a network namespace that has only loopback when the machine allows it
# (root, or unprivileged user namespaces), so that a stray address fails fast instead of
# leaving the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}/target}"

# Formatting and lints first: they fail fast, before the long tests, with a clear message.
for tool in fmt clippy; do
	if ! cargo "$tool" --version >/dev/null 2>&1; then
		echo "npm test: cargo $tool is missing (rustup component add rustfmt clippy)" >&2
		exit 1
	fi
done
echo "== cargo fmt --check"
if ! cargo fmt --all -- --check; then
	echo "npm test: the Rust code is not formatted as above: run 'cargo fmt --all'" >&2
	exit 1
fi
echo "== cargo clippy (warnings are errors)"
if ! cargo clippy -q --workspace --all-targets -- -D warnings; then
	echo "npm test: clippy found the warnings above: fix them" >&2
	exit 1
fi

echo "== cargo test (ortc, sdp, handler, media, client)"
cargo test -q --workspace --exclude mediasoup-client-native

echo "== tsc --strict (index.d.ts and the README's bot)"
npx --no-install tsc -p __test__/tsconfig.json

echo "== node --test"
tests=(__test__/*.test.js)
if unshare -n true 2>/dev/null; then
	exec unshare -n sh -c 'ip link set lo up && exec node --test --test-concurrency=1 --test-timeout=120000 "$@"' sh "${tests[@]}"
else
	echo "(no network namespace available here: running on the host network, loopback addresses only)"
	exec node --test --test-concurrency=1 --test-timeout=120000 "${tests[@]}"
fi
