'use strict';

// The typings as a TypeScript user of mediasoup-client and mediasoup meets them: a program
// with a typed mediasoup server and a bot written for mediasoup-client (examples/port/)
// compiles with `tsc --strict` against this package's index.d.ts and the real mediasoup's
// typings, values passing from one package's API to the other's; and every value the typings
// declare exists at runtime.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');
const { serverDir } = require('../scripts/mediasoup-server');

const root = path.join(__dirname, '..');
const mediasoupDir = path.join(serverDir, 'node_modules', 'mediasoup');

test('a mediasoup server and a mediasoup-client bot in one program compile with tsc --strict', (t) => {
  assert.ok(
    fs.existsSync(path.join(mediasoupDir, 'package.json')),
    `mediasoup is not installed in ${serverDir}: run \`bash scripts/setup-worker.sh\``
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-types-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Both packages as a user's project resolves them; no DOM library: the bot runs in Node.
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'node16',
      moduleResolution: 'node16',
      typeRoots: [path.join(root, 'node_modules', '@types')],
      types: ['node'],
      paths: {
        mediasoup: [mediasoupDir],
        'mediasoup-client-native': [path.join(root, 'index.d.ts')],
      },
    },
    files: [path.join(root, 'examples', 'port', 'server-and-bot.ts')],
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = spawnSync('npx', ['--no-install', 'tsc', '-p', path.join(dir, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
});

// The exports of index.d.ts, as the TypeScript compiler sees them.
function typingsExports() {
  const file = path.join(root, 'index.d.ts');
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    typeRoots: [path.join(root, 'node_modules', '@types')],
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  return { checker, exports: checker.getExportsOfModule(moduleSymbol) };
}

// The names index.d.ts exports as values (classes, functions, constants, namespaces), not
// those exported as types only.
function valueExportsOfTypings() {
  const { checker, exports } = typingsExports();
  return exports
    .filter((symbol) => {
      if (symbol.flags & ts.SymbolFlags.Alias) {
        if (checker.getTypeOnlyAliasDeclaration(symbol)) return false;
        return (checker.getAliasedSymbol(symbol).flags & ts.SymbolFlags.Value) !== 0;
      }
      return (symbol.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((symbol) => symbol.name)
    .sort();
}

// The string literals of the union type `name` exported by index.d.ts.
function literalsOfTypings(name) {
  const { checker, exports } = typingsExports();
  const symbol = exports.find((s) => s.name === name);
  assert.ok(symbol, `index.d.ts exports ${name}`);
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  return new Set((type.isUnion() ? type.types : [type]).map((t) => t.value));
}

test('the values the typings narrow fit them at runtime', async (t) => {
  const { createTrack } = require('..');
  const { startServerAndDevice } = require('./helpers/server');
  const uris = literalsOfTypings('RtpHeaderExtensionUri');
  const algorithms = literalsOfTypings('FingerprintAlgorithm');
  const { server, device } = await startServerAndDevice();
  t.after(() => server.close());

  const caps = device.rtpCapabilities;
  assert.ok(caps.codecs.length > 0);
  for (const codec of caps.codecs) {
    assert.equal(typeof codec.preferredPayloadType, 'number', `${codec.mimeType}: preferredPayloadType`);
  }
  assert.ok(caps.headerExtensions.length > 0);
  for (const { uri } of caps.headerExtensions) assert.ok(uris.has(uri), `device header extension ${uri}`);

  const { transport, connects } = await server.sendTransport(t, device);
  for (const kind of ['audio', 'video']) {
    const producer = await transport.produce({ track: createTrack({ kind }) });
    assert.ok(producer.rtpParameters.headerExtensions.length > 0);
    for (const { uri } of producer.rtpParameters.headerExtensions) {
      assert.ok(uris.has(uri), `${kind} producer header extension ${uri}`);
    }
  }
  assert.equal(connects.length, 1);
  for (const { algorithm } of connects[0].fingerprints) assert.ok(algorithms.has(algorithm), algorithm);
});

test('every value index.d.ts exports is an export of the package, and the reverse', () => {
  assert.deepEqual(valueExportsOfTypings(), Object.keys(require('..')).sort());
});

test('types: a runtime export as in mediasoup-client, holding no values', () => {
  const { types } = require('..');
  assert.equal(typeof types, 'object');
  assert.deepEqual(Object.keys(types), []);
});

test('package.json gives a TypeScript user the Node typings that index.d.ts uses', () => {
  const pkg = require('../package.json');
  assert.ok(
    pkg.dependencies?.['@types/node'],
    'index.d.ts imports node:events: @types/node must be installed with the package'
  );
});
