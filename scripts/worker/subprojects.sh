#!/usr/bin/env bash
# Replaces the meson subprojects that mediasoup's worker would download (GitHub, wrapdb)
# with small local subprojects over Debian -dev packages and a static OpenSSL.
# Usage: subprojects.sh <worker source dir> <openssl prefix>
set -euo pipefail
SP="$1/subprojects"
OSSL_PREFIX="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for w in openssl libuv libsrtp3 usrsctp abseil-cpp flatbuffers catch2 liburing; do
	rm -f "$SP/$w.wrap"
done
for d in openssl libuv libsrtp3 usrsctp abseil-cpp flatbuffers catch2; do
	mkdir -p "$SP/$d"
	# mediasoup lists each subproject's library in link_whole of its (unused here) static
	# library target, so every stand-in exports an empty static library.
	printf 'int msc_placeholder_%s(void) { return 0; }\n' "${d//-/_}" >"$SP/$d/placeholder.c"
done

cat >"$SP/openssl/meson.build" <<EOF
project('openssl', 'c')
cc = meson.get_compiler('c')
ossl_args = ['-I$OSSL_PREFIX/include']
libcrypto_dep = declare_dependency(
  compile_args: ossl_args,
  dependencies: [
    cc.find_library('crypto', dirs: ['$OSSL_PREFIX/lib'], static: true),
    dependency('threads'),
    cc.find_library('dl', required: false),
  ],
)
libssl_dep = declare_dependency(
  compile_args: ossl_args,
  dependencies: [cc.find_library('ssl', dirs: ['$OSSL_PREFIX/lib'], static: true), libcrypto_dep],
)
openssl_dep = declare_dependency(dependencies: [libssl_dep, libcrypto_dep])
libcrypto_lib = static_library('msc_placeholder_libcrypto', 'placeholder.c')
libssl_lib = static_library('msc_placeholder_libssl', 'placeholder.c')
EOF

cat >"$SP/libuv/meson.build" <<'EOF'
project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('msc_placeholder_libuv', 'placeholder.c')
EOF
cat >"$SP/libuv/meson_options.txt" <<'EOF'
option('build_tests', type: 'boolean', value: false, description: 'unused (Debian libuv)')
option('build_benchmarks', type: 'boolean', value: false, description: 'unused (Debian libuv)')
EOF

cat >"$SP/usrsctp/meson.build" <<'EOF'
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('msc_placeholder_usrsctp', 'placeholder.c')
EOF
cat >"$SP/usrsctp/meson_options.txt" <<'EOF'
option('sctp_build_programs', type: 'boolean', value: false, description: 'unused (Debian usrsctp)')
EOF

cat >"$SP/abseil-cpp/meson.build" <<'EOF'
project('abseil-cpp', 'c', 'cpp')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_btree'),
  dependency('absl_inlined_vector'),
])
absl_strings_dep = declare_dependency(dependencies: [dependency('absl_strings')])
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_memory')])
absl_base_dep = declare_dependency(dependencies: [dependency('absl_base')])
absl_container_lib = static_library('msc_placeholder_absl', 'placeholder.c')
EOF

# flatc (found on PATH by worker/fbs/meson.build) and the headers are both Debian's 2.0.8.
cat >"$SP/flatbuffers/meson.build" <<'EOF'
project('flatbuffers', 'c', 'cpp')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('msc_placeholder_flatbuffers', 'placeholder.c')
EOF

# Catch2 only serves the worker's own test binary, which is not built.
cat >"$SP/catch2/meson.build" <<'EOF'
project('catch2', 'c', 'cpp')
catch2_dep = declare_dependency()
catch2_with_main_dep = declare_dependency()
EOF

cat >"$SP/libsrtp3/meson.build" <<'EOF'
project('libsrtp3', 'c')
libsrtp3_dep = declare_dependency(
  include_directories: include_directories('include'),
  dependencies: [dependency('libsrtp2')],
)
libsrtp3 = static_library('msc_placeholder_libsrtp3', 'placeholder.c')
EOF
cat >"$SP/libsrtp3/meson_options.txt" <<'EOF'
option('crypto-library', type: 'string', value: 'openssl', description: 'unused (Debian libsrtp2)')
option('crypto-library-kdf', type: 'string', value: 'disabled', description: 'unused (Debian libsrtp2)')
option('tests', type: 'string', value: 'disabled', description: 'unused (Debian libsrtp2)')
EOF
mkdir -p "$SP/libsrtp3/include"
cp "$HERE/srtp.h" "$SP/libsrtp3/include/srtp.h"
