#!/usr/bin/env bash
# The whole test suite: Rust unit tests of the pure layers and the crates, the JS API and the
# end-to-end tests against the real mediasoup worker, and the typings check.
#
# The node tests run in a network namespace that has only loopback when the machine allows it
# (root, or unprivileged user namespaces), so that a stray address fails fast instead of
# leaving the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}/target}"

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
