'use strict';

// The package as a user gets it: `npm pack` of this checkout (the main package) and of this
// platform's prebuilt package (npm/<platform>, with the binary built here), installed into a new
// app from the two tarballs (plus the main package's dependencies, packed from node_modules)
// with no registry and no cargo on PATH. The install takes seconds
// (the install script finds the prebuilt binary and builds nothing) and the app streams to the
// real mediasoup server. Without the prebuilt package, the install script's source fallback
// says plainly that it needs cargo.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bindingPlatform } = require('../lib/platform');
const { startServer, serverReceives } = require('./helpers/server');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const platform = bindingPlatform();
const platformPackage = `${pkg.name}-${platform}`;
const binary = `${pkg.name}.${platform}.node`;

// PATH without the directories that hold cargo: a user with no Rust toolchain.
const exe = process.platform === 'win32' ? '.exe' : '';
const pathDirs = (process.env.PATH || '').split(path.delimiter);
const hasCargo = (dir) => fs.existsSync(path.join(dir, `cargo${exe}`));
const pathWithoutCargo = pathDirs.filter((dir) => dir && !hasCargo(dir)).join(path.delimiter);

// The environment of a user's shell: no npm_* variables of the npm that runs these tests, an
// empty npm cache of its own (so `--offline` cannot be served from a warm one), and no cargo.
function userEnv(cache) {
  // (Windows spells PATH as it likes: one key for it)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_.*|path)$/i.test(k)));
  return { ...env, PATH: pathWithoutCargo, npm_config_cache: cache, npm_config_update_notifier: 'false' };
}

// Runs a command to its end, in a session of its own on Unix (no terminal: the install script's
// output stays in these pipes); resolves with its exit code and output.
function run(cmd, args, { cwd, env }) {
  const windows = process.platform === 'win32';
  return new Promise((resolve, reject) => {
    const child = spawn(windows ? `${cmd}.cmd` : cmd, args, {
      cwd,
      env,
      detached: !windows,
      shell: windows,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function npm(args, options) {
  const result = await run('npm', args, options);
  assert.equal(result.code, 0, `npm ${args.join(' ')}:\n${result.out}`);
  return result.out;
}

let tmp;
let mainTarball;
let mainFiles;
let platformTarball;
// the main package's own dependencies (and theirs), packed from this checkout's node_modules:
// what an app installs with it, here without a registry
let dependencyTarballs = [];

// Packs `names` and their dependencies from the checkout's node_modules into `tmp`.
async function packDependencies(names, env, seen = new Set()) {
  const tarballs = [];
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = path.join(root, 'node_modules', name);
    const [packed] = JSON.parse(await npm(['pack', '--json', '--pack-destination', tmp, dir], { cwd: root, env }));
    tarballs.push(path.join(tmp, packed.filename));
    const manifest = require(path.join(dir, 'package.json'));
    tarballs.push(...(await packDependencies(Object.keys(manifest.dependencies || {}), env, seen)));
  }
  return tarballs;
}

test.before(async () => {
  assert.ok(fs.existsSync(path.join(root, binary)), `${binary} is built here (npm run build)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-package-'));
  const env = userEnv(path.join(tmp, 'npm-cache'));
  const [main] = JSON.parse(await npm(['pack', '--json', '--pack-destination', tmp], { cwd: root, env }));
  mainTarball = path.join(tmp, main.filename);
  mainFiles = main.files.map((f) => f.path);

  // the platform package as napi's `artifacts` step fills it: its folder plus the binary
  const staged = path.join(tmp, platform);
  fs.cpSync(path.join(root, 'npm', platform), staged, { recursive: true });
  fs.copyFileSync(path.join(root, binary), path.join(staged, binary));
  const [prebuilt] = JSON.parse(await npm(['pack', '--json', '--pack-destination', tmp], { cwd: staged, env }));
  platformTarball = path.join(tmp, prebuilt.filename);
  assert.deepEqual(prebuilt.files.map((f) => f.path).sort(), [binary, 'package.json', 'README.md'].sort());
  dependencyTarballs = await packDependencies(Object.keys(pkg.dependencies || {}), env);
});

test.after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// A new app (its own package.json) in which `npm install` is given `tarballs` (and the main
// package's dependencies), offline.
async function installApp(name, tarballs) {
  const app = path.join(tmp, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const env = userEnv(path.join(tmp, `${name}-npm-cache`));
  // --omit=optional: the other platforms' packages are not looked for (they are not in this
  // offline cache); this platform's comes from its tarball, named on the command line.
  const args = ['install', '--offline', '--no-audit', '--no-fund', '--omit=optional', ...tarballs, ...dependencyTarballs];
  const started = Date.now();
  const result = await run('npm', args, { cwd: app, env });
  return { app, env, seconds: (Date.now() - started) / 1000, ...result };
}

test('the tarball: the library, its loader and sources, LICENSE, examples and samples; no tests', () => {
  for (const file of ['LICENSE', 'README.md', 'index.js', 'index.mjs', 'index.d.ts', 'native.js', 'lib/binding.js',
    'scripts/build.js', 'Cargo.toml', 'Cargo.lock', 'src/lib.rs', 'examples/bot.ts', 'examples/play-file.js',
    'demo/server.js', 'samples/vp8.ivf', 'samples/opus.ogg']) {
    assert.ok(mainFiles.includes(file), `${file} is in the tarball`);
  }
  // bench/native is there only as a member of the cargo workspace, which cargo needs whole
  const unwanted = mainFiles.filter((f) =>
    /^(__test__|bench\/(?!native\/)|npm\/)|\/(tests|testdata|examples)\/|\/(tests(_\w+)?|fuzz|proptest_config)\.rs$|\.node$/.test(f) &&
    !f.startsWith('examples/')
  );
  assert.deepEqual(unwanted, [], 'no tests, test data, bench harness or binary');
});

test('the tarball\'s sources are a whole cargo workspace, locked (what a build from source needs)', async (t) => {
  if (!pathDirs.some((dir) => dir && hasCargo(dir))) return t.skip('no cargo here');
  // the tarball's files (as npm pack listed them), copied from here
  const unpacked = path.join(tmp, 'unpacked');
  for (const file of mainFiles) {
    fs.mkdirSync(path.dirname(path.join(unpacked, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(unpacked, file));
  }
  const args = ['metadata', '--locked', '--offline', '--format-version', '1', '--no-deps'];
  const metadata = await run('cargo', args, { cwd: unpacked, env: process.env });
  assert.equal(metadata.code, 0, metadata.out);
});

// The platform packages become the main package's optional dependencies when it is published
// (`napi pre-publish`, run by prepublishOnly, writes them into package.json): the checkout
// lists none, so its package-lock.json stays complete for `npm ci` before any is published.
test('every napi target: its npm/ folder of this version, built and tested by CI, made an optional dependency at publish', () => {
  const workflow = fs.readFileSync(path.join(root, '.github', 'workflows', 'prebuilt.yml'), 'utf8');
  for (const dir of fs.readdirSync(path.join(root, 'npm'))) {
    const manifest = require(path.join(root, 'npm', dir, 'package.json'));
    assert.equal(manifest.version, pkg.version, `npm/${dir} has the package's version`);
    assert.equal(manifest.name, `${pkg.name}-${dir}`);
    const jobs = workflow.split(`{ platform: ${dir},`).length - 1;
    assert.equal(jobs, 2, `the workflow builds and tests ${dir}`);
  }
  assert.equal(fs.readdirSync(path.join(root, 'npm')).length, pkg.napi.targets.length);
  assert.match(pkg.scripts.prepublishOnly, /^napi pre-publish\b/);
  assert.equal(pkg.optionalDependencies, undefined, 'the checkout lists no unpublished package');
  const lock = require('../package-lock.json');
  assert.ok(!Object.keys(lock.packages).some((p) => p.includes(`${pkg.name}-`)), 'the lock names no platform package');
});

test('package-lock.json is complete: npm ci accepts it (checked offline, without installing)', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'ci-'));
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(root, file), path.join(dir, file));
  const args = ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'];
  const result = await run('npm', args, { cwd: dir, env: userEnv(path.join(dir, 'npm-cache')) });
  assert.equal(result.code, 0, result.out);
});

test('installed with the prebuilt package and no cargo: seconds, nothing built, media reach the server', async (t) => {
  const install = await installApp('app', [mainTarball, platformTarball]);
  assert.equal(install.code, 0, install.out);
  t.diagnostic(`npm install of the two tarballs: ${install.seconds} s`);
  assert.ok(install.seconds < 30, `npm install took ${install.seconds} s`);
  const installed = path.join(install.app, 'node_modules', pkg.name);
  assert.ok(fs.existsSync(path.join(installed, 'index.mjs')));
  assert.ok(!fs.existsSync(path.join(installed, binary)), 'nothing was built from source');
  assert.doesNotMatch(install.out, /Compiling|building the addon/);

  const server = await startServer();
  t.after(() => server.close());
  fs.writeFileSync(path.join(install.app, 'bot.js'), botScript);
  const bot = fork(path.join(install.app, 'bot.js'), { cwd: install.app, env: install.env, stdio: 'pipe' });
  let output = '';
  bot.stdout.on('data', (d) => (output += d));
  bot.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => bot.on('exit', resolve));
  t.after(async () => {
    bot.kill();
    await exited;
  });

  // the app's signalling, answered by the test's server
  let serverTransport;
  let producing;
  const serverProducer = new Promise((resolve, reject) => {
    producing = { resolve, reject };
    exited.then((code) => reject(new Error(`the app exited (${code}) before producing:\n${output}`)));
  });
  const answers = {
    routerRtpCapabilities: () => server.router.rtpCapabilities,
    createTransport: async () => {
      const created = await server.createWebRtcTransport();
      serverTransport = created.transport;
      return created.clientOptions;
    },
    connect: ({ dtlsParameters }) => serverTransport.connect({ dtlsParameters }),
    produce: async ({ kind, rtpParameters }) => {
      const producer = await serverTransport.produce({ kind, rtpParameters });
      producing.resolve(producer);
      return { id: producer.id };
    },
  };
  let loaded;
  bot.on('message', async (m) => {
    if (m.loaded) loaded = m.loaded;
    if (!m.method) return;
    try {
      bot.send({ id: m.id, result: (await answers[m.method](m.data)) ?? null });
    } catch (err) {
      bot.send({ id: m.id, error: String(err) });
    }
  });

  const counters = await serverReceives(await serverProducer, { packets: 30, timeout: 10000 });
  assert.ok(counters.packets >= 30);
  assert.ok(loaded, 'the app said which binary it loaded');
  assert.ok(
    loaded.startsWith(path.join(fs.realpathSync(install.app), 'node_modules', platformPackage) + path.sep),
    `the binary is the prebuilt package's: ${loaded}`
  );
});

test('installed without a prebuilt package and no cargo: the install says it needs cargo', async () => {
  const install = await installApp('source-app', [mainTarball]);
  assert.notEqual(install.code, 0, 'the install fails: nothing could provide the addon');
  assert.match(install.out, new RegExp(`no prebuilt package ${platformPackage} is installed`));
  assert.match(install.out, /not on PATH: cargo\b/);
  assert.match(install.out, /npm rebuild mediasoup-client-native/);
});

// The app: loads the installed package, signals over the IPC channel to the test, and sends VP8
// frames (headers the server reads plus random bytes) until the test ends it.
const botScript = `'use strict';
const crypto = require('node:crypto');
const { Device, createTrack } = require('mediasoup-client-native');

const waiting = new Map();
let nextId = 0;
function signal(method, data) {
  const id = ++nextId;
  process.send({ id, method, data });
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}
process.on('message', (m) => {
  const { resolve, reject } = waiting.get(m.id);
  waiting.delete(m.id);
  if (m.error) reject(new Error(m.error));
  else resolve(m.result);
});

function vp8Frame(keyframe) {
  const header = keyframe
    ? Buffer.from([0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
    : Buffer.from([0x11, 0x00, 0x00]);
  return Buffer.concat([header, crypto.randomBytes(800)]);
}

(async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: await signal('routerRtpCapabilities') });
  const transport = device.createSendTransport(await signal('createTransport'));
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connect', { dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', ({ kind, rtpParameters }) => signal('produce', { kind, rtpParameters }));
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  process.send({ loaded: Object.keys(require.cache).find((file) => file.endsWith('.node')) });
  let n = 0;
  const timer = setInterval(() => {
    const keyframe = n % 30 === 0;
    track.writeFrame(vp8Frame(keyframe), { timestamp: n * 33333, keyframe });
    n += 1;
  }, 33);
  process.on('disconnect', () => {
    clearInterval(timer);
    transport.close();
  });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;
