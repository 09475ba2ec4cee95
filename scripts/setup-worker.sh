#!/usr/bin/env bash
# Installs the real mediasoup server (npm `mediasoup`) with its C++ worker built from the npm
# package's own sources, using only the package registries (Debian, PyPI, npm, crates.io).
#
# Idempotent: the result is cached outside the work tree, in
#   ${MSC_CACHE_DIR:-~/.cache/mediasoup-client-native}/mediasoup-<version>/node_modules/mediasoup
# with the worker binary at its default place (worker/out/Release/mediasoup-worker). A warm run
# takes about a second. A failed run names the step and leaves nothing half-built in the cache.
#
# Env: MSC_CACHE_DIR (cache root), MSC_WORKER_JOBS (default: nproc).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MS_VERSION="$(tr -d '[:space:]' <"$HERE/worker/version")"
CACHE="${MSC_CACHE_DIR:-$HOME/.cache/mediasoup-client-native}"
JOBS="${MSC_WORKER_JOBS:-$(nproc)}"
FINAL="$CACHE/mediasoup-$MS_VERSION"
OSSL_CRATE="300.0.13+3.0.8" # crates.io openssl-src carrying OpenSSL 3.0.8, the version mediasoup pins
OSSL_PREFIX="$CACHE/openssl-3.0.8"
MESON_VERSION="1.5.0"
NINJA_VERSION="1.10.2.4"

if [ -f "$FINAL/READY" ] && [ -x "$FINAL/node_modules/mediasoup/worker/out/Release/mediasoup-worker" ]; then
	echo "mediasoup $MS_VERSION with a local worker: $FINAL (cached)"
	exit 0
fi

mkdir -p "$CACHE"
# One build at a time per cache: a second caller waits, then finds the result.
exec 9>"$CACHE/.setup-worker.lock"
flock 9
if [ -f "$FINAL/READY" ]; then
	echo "mediasoup $MS_VERSION with a local worker: $FINAL (built by another run)"
	exit 0
fi

STEP="start"
SCRATCH="$(mktemp -d "$CACHE/build-XXXXXX")"
on_exit() {
	local rc=$?
	rm -rf "$SCRATCH"
	if [ "$rc" -ne 0 ]; then
		echo >&2
		echo "setup-worker: FAILED at step '$STEP' (exit $rc). Nothing was left in $FINAL." >&2
		echo "setup-worker: fix the cause above, then retry with: bash scripts/setup-worker.sh" >&2
	fi
}
trap on_exit EXIT
step() {
	STEP="$1"
	printf '\n==> setup-worker: %s\n' "$1"
}
START=$(date +%s)

step "Debian packages"
PKGS=(build-essential pkg-config python3 python3-venv ca-certificates perl
	libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

step "meson $MESON_VERSION and ninja from PyPI"
if [ ! -x "$CACHE/venv/bin/meson" ]; then
	# a venv's scripts carry its path, so it is made in place; meson appears last
	rm -rf "$CACHE/venv"
	python3 -m venv "$CACHE/venv"
	"$CACHE/venv/bin/pip" install -q "ninja==$NINJA_VERSION" "meson==$MESON_VERSION" ||
		{ rm -rf "$CACHE/venv"; exit 1; }
fi
export PATH="$CACHE/venv/bin:$PATH"

step "OpenSSL 3.0.8 (static) from the crates.io crate openssl-src"
# Debian's OpenSSL 3.0.x builds a worker that crashes in the DTLS handshake: never link it.
if [ ! -f "$OSSL_PREFIX/lib/libssl.a" ]; then
	mkdir -p "$SCRATCH/ossl-fetch/src"
	printf '[package]\nname = "msc-openssl-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nopenssl-src = "=%s"\n' \
		"$OSSL_CRATE" >"$SCRATCH/ossl-fetch/Cargo.toml"
	: >"$SCRATCH/ossl-fetch/src/lib.rs"
	(cd "$SCRATCH/ossl-fetch" && cargo vendor --versioned-dirs --quiet vendor >/dev/null)
	cp -a "$SCRATCH/ossl-fetch/vendor/openssl-src-$OSSL_CRATE/openssl" "$SCRATCH/ossl-build"
	(
		cd "$SCRATCH/ossl-build"
		./config no-shared no-tests -fPIC --prefix="$SCRATCH/ossl-prefix" --libdir=lib \
			--openssldir="$OSSL_PREFIX/ssl" >/dev/null
		make -j "$JOBS" build_libs >/dev/null
		make install_dev >/dev/null
	)
	# the prefix is only read for headers and static libraries: moving it is safe
	rm -rf "$OSSL_PREFIX"
	mv "$SCRATCH/ossl-prefix" "$OSSL_PREFIX"
fi
grep -q 'define OPENSSL_VERSION_STR "3.0.8"' "$OSSL_PREFIX/include/openssl/opensslv.h"

step "mediasoup@$MS_VERSION sources from the npm registry"
(cd "$SCRATCH" && npm pack --silent "mediasoup@$MS_VERSION" >/dev/null)
tar -xzf "$SCRATCH/mediasoup-$MS_VERSION.tgz" -C "$SCRATCH"
WORKER_SRC="$SCRATCH/package/worker"

step "local meson subprojects over Debian packages"
bash "$HERE/worker/subprojects.sh" "$WORKER_SRC" "$OSSL_PREFIX"

step "compile mediasoup-worker ($JOBS jobs)"
(
	cd "$WORKER_SRC"
	# liburing is an optional send-path optimisation that meson would download: off.
	meson setup build --buildtype release -Db_ndebug=true -Dms_disable_liburing=true >/dev/null
	# the generated flatbuffers headers first, as mediasoup's own tasks do
	meson compile -C build flatbuffers-generator >/dev/null
	meson compile -C build -j "$JOBS" mediasoup-worker
)
WORKER_BIN="$WORKER_SRC/build/mediasoup-worker"
test -x "$WORKER_BIN"
if ldd "$WORKER_BIN" | grep -qE 'lib(ssl|crypto)\.so'; then
	echo "mediasoup-worker links a shared system OpenSSL; refusing it" >&2
	exit 1
fi

step "Node package mediasoup@$MS_VERSION (no install scripts: no download)"
APP="$SCRATCH/app"
mkdir -p "$APP"
echo '{ "name": "msc-mediasoup-server", "private": true }' >"$APP/package.json"
(cd "$APP" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error "mediasoup@$MS_VERSION")
install -D -m 0755 "$WORKER_BIN" "$APP/node_modules/mediasoup/worker/out/Release/mediasoup-worker"

step "check that the worker starts"
(cd "$APP" && node -e '
  require("mediasoup").createWorker({ logLevel: "error" })
    .then((w) => { console.log("worker pid", w.pid); w.close(); })
    .catch((e) => { console.error(e); process.exit(1); });')

step "publish to the cache"
date -u +%FT%TZ >"$APP/READY"
rm -rf "$FINAL"
mv "$APP" "$FINAL"
echo "mediasoup $MS_VERSION with a local worker: $FINAL (built in $(($(date +%s) - START)) s)"
