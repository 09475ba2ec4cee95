'use strict';

// Builds the native addon from source (release profile).
//
// In a checkout with dev dependencies, napi-rs's CLI builds it and regenerates the loader
// (native.js) and its typings (native.d.ts). Installed as a dependency (no CLI), plain cargo
// builds it and the committed loader is used. Cargo's output is kept outside the work tree, in
// ~/.cache/mediasoup-client-native/target (or CARGO_TARGET_DIR).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const debug = process.argv.includes('--debug');
const env = { ...process.env };
env.CARGO_TARGET_DIR ||= path.join(
  process.env.MSC_CACHE_DIR || path.join(os.homedir(), '.cache', 'mediasoup-client-native'),
  'target'
);

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `mediasoup-client-native: the native build failed (${cmd} exit ${result.status}); ` +
        'it needs a Rust toolchain (cargo) and a C compiler. Retry with `npm run build`.'
    );
    process.exit(result.status || 1);
  }
}

// libopus (decoding Opus to measure audio levels) is built from the `opus` crate's bundled
// source, with cmake. Installed from Debian when missing and this is root with apt-get, as
// the other setup scripts do; otherwise the build stops here saying what to install.
function ensureCmake() {
  const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  if (has('cmake')) return;
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.error('mediasoup-client-native: installing cmake from Debian (it builds libopus)');
    const apt = { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
    spawnSync('apt-get', ['update', '-qq'], apt);
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'cmake'], apt);
    if (has('cmake')) return;
  }
  console.error(
    'mediasoup-client-native: the native build needs cmake (to build libopus): install it ' +
      '(Debian/Ubuntu: apt-get install cmake) and retry with `npm run build`.'
  );
  process.exit(1);
}
ensureCmake();

const cli = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
if (fs.existsSync(cli)) {
  const args = [cli, 'build', '--platform', '--js', 'native.js', '--dts', 'native.d.ts'];
  if (!debug) args.push('--release');
  run(process.execPath, args);
} else {
  const profile = debug ? 'debug' : 'release';
  run('cargo', ['build', '--lib', '-p', 'mediasoup-client-native', ...(debug ? [] : ['--release'])]);
  const built = path.join(env.CARGO_TARGET_DIR, profile, 'libmediasoup_client_native.so');
  fs.copyFileSync(built, path.join(root, `mediasoup-client-native.${process.platform}-${process.arch}-gnu.node`));
}
