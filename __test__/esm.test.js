'use strict';

// The package from both module systems, by its name (as an application imports it): every
// export of the CommonJS entry is a named export of the ES module entry, the same object.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const run = (args, code) => execFileSync(process.execPath, [...args, code], { cwd: root, encoding: 'utf8' });

test('named ES module imports and require() give the same objects', () => {
  const names = Object.keys(require('..')).sort();
  assert.ok(names.includes('Device') && names.includes('createTrack'));
  const out = run(
    ['--input-type=module', '-e'],
    `import * as esm from 'mediasoup-client-native';
     import { Device, createTrack } from 'mediasoup-client-native';
     import { createRequire } from 'node:module';
     const cjs = createRequire(import.meta.url)('mediasoup-client-native');
     const named = Object.keys(esm).filter((k) => k !== 'default').sort();
     const same = named.every((k) => esm[k] === cjs[k]) && esm.default === cjs;
     console.log(JSON.stringify({ named, same, device: typeof new Device().load, track: createTrack({ kind: 'audio' }).kind }));`
  );
  const result = JSON.parse(out);
  assert.deepEqual(result.named, names, 'every CommonJS export is a named ES export');
  assert.equal(result.same, true);
  assert.equal(result.device, 'function');
  assert.equal(result.track, 'audio');
});

test('require() by the package name works too', () => {
  const out = run(['-e'], `console.log(typeof require('mediasoup-client-native').Device)`);
  assert.equal(out.trim(), 'function');
});
