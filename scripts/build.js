'use strict';

// Makes the native addon available: the package's `install` script, and `npm run build`.
//
// Installed as a dependency: when the prebuilt binary of this platform (the optional dependency
// mediasoup-client-native-<platform>, of this package's version) loads, there is nothing to do.
// Otherwise (a platform with no prebuilt package, optional dependencies omitted, or
// `--build-from-source`), the addon is built from the shipped sources with cargo (release
// profile, the shipped Cargo.lock) and copied next to the loader as
// mediasoup-client-native.<platform>.node, which the loader tries first. Cargo's own progress
// goes to the terminal even where npm hides an install script's output (it writes to /dev/tty).
//
// In a checkout (the napi-rs CLI, a dev dependency, is installed) the addon is always built from
// source, by napi build, which also regenerates the loader (native.js) and its typings; other
// arguments than --debug are napi build's (CI: `--target <triple>`, `--use-napi-cross`).
//
// Cargo's output is kept outside the package, in ~/.cache/mediasoup-client-native/target (or
// CARGO_TARGET_DIR, or MSC_CACHE_DIR/target).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bindingPlatform } = require('../lib/platform');

const root = path.resolve(__dirname, '..');
const { name, version } = require('../package.json');
const debug = process.argv.includes('--debug');
const fromSource = /^(1|true)$/i.test(process.env.npm_config_build_from_source || '');
const platform = bindingPlatform();
const env = { ...process.env };
env.CARGO_TARGET_DIR ||= path.join(
  process.env.MSC_CACHE_DIR || path.join(os.homedir(), '.cache', 'mediasoup-client-native'),
  'target'
);

// Where a build from source reports: the terminal when there is one, even when npm captures the
// script's stderr (cargo then sees a terminal and draws its progress bar); else stderr.
function progressOutput() {
  if (process.stderr.isTTY || process.platform === 'win32') return 'inherit';
  try {
    return fs.openSync('/dev/tty', 'w');
  } catch {
    return 'inherit';
  }
}

function say(output, line) {
  const text = `${name}: ${line}\n`;
  if (typeof output === 'number') fs.writeSync(output, text);
  process.stderr.write(text);
}

function run(cmd, args, output) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: ['ignore', output, output] });
  if (result.error && result.error.code === 'ENOENT') {
    fail(
      output,
      `\`${cmd}\` is not on PATH. Building from source needs Rust (cargo, from rustup), a ` +
        `C compiler and cmake; with them, run \`npm rebuild ${name}\`.`
    );
  }
  if (result.status !== 0) {
    fail(
      output,
      `the native build failed (${cmd} ${result.error ? result.error.message : `exit ${result.status}`}); ` +
        `it needs Rust (cargo), a C compiler and cmake. Retry with \`npm rebuild ${name}\`.`
    );
  }
}

function fail(output, line) {
  say(output, line);
  process.exit(1);
}

// Why this platform's prebuilt package does not do, or null when it loads.
function prebuiltProblem() {
  const pkg = `${name}-${platform}`;
  let manifest;
  try {
    manifest = require(require.resolve(`${pkg}/package.json`, { paths: [root] }));
  } catch {
    return `no prebuilt package ${pkg} is installed`;
  }
  if (manifest.version !== version) {
    return `the prebuilt package ${pkg} is version ${manifest.version}, not ${version}`;
  }
  try {
    require(require.resolve(pkg, { paths: [root] }));
    return null;
  } catch (err) {
    return `the prebuilt package ${pkg} does not load (${String(err.message).split('\n')[0]})`;
  }
}

const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

// libopus (decoding Opus to measure audio levels) is built from the `opus` crate's bundled
// source, with cmake. In a checkout it is installed from Debian when missing and this is root
// with apt-get, as the other setup scripts do; otherwise the build stops here saying what to
// install.
function ensureCmake() {
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

const cli = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
if (fs.existsSync(cli)) {
  // other arguments go to napi build (CI: --target, --use-napi-cross)
  const extra = process.argv.slice(2).filter((arg) => arg !== '--debug');
  const args = [cli, 'build', '--platform', '--js', 'native.js', '--dts', 'native.d.ts', ...extra];
  if (!debug) args.push('--release');
  ensureCmake();
  run(process.execPath, args, 'inherit');
  process.exit(0);
}

const problem = fromSource ? 'a build from source was asked for' : prebuiltProblem();
if (problem === null) process.exit(0);

const output = progressOutput();
say(
  output,
  `${problem}: building the addon for ${platform} from source with cargo ` +
    `(a few minutes; its build files go to ${env.CARGO_TARGET_DIR})`
);
// an installed package installs nothing on the system: it says what is missing
const missing = ['cargo', 'cmake'].filter((tool) => !has(tool));
if (missing.length > 0) {
  fail(
    output,
    `not on PATH: ${missing.join(', ')}. Building from source needs Rust (cargo, from rustup), ` +
      `a C compiler and cmake; with them, run \`npm rebuild ${name}\`.`
  );
}
const profile = debug ? 'debug' : 'release';
run(
  'cargo',
  ['build', '--lib', '-p', 'mediasoup-client-native', '--locked', ...(debug ? [] : ['--release'])],
  output
);
const library = {
  win32: 'mediasoup_client_native.dll',
  darwin: 'libmediasoup_client_native.dylib',
}[process.platform] || 'libmediasoup_client_native.so';
const target = path.join(root, `${name}.${platform}.node`);
fs.copyFileSync(path.join(env.CARGO_TARGET_DIR, profile, library), target);
say(output, `built ${path.basename(target)}`);
