'use strict';

// When no binary of the native addon loads (no prebuilt package, no build from source), the
// package says so plainly, with the command that builds one, from require() and import alike.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { bindingPlatform } = require('../lib/platform');

const root = path.join(__dirname, '..');

// Runs `code` in a new node, with the loader pointed at a binary that is not there (the
// generated loader then looks nowhere else).
function runWithoutBinary(args, code) {
  return spawnSync(process.execPath, [...args, code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: path.join(root, 'no-such-binary.node') },
  });
}

function assertPlainMessage({ message, cause }) {
  const platform = bindingPlatform();
  assert.match(message, /npm rebuild mediasoup-client-native/);
  assert.ok(message.includes(`mediasoup-client-native-${platform}`), message);
  assert.ok(message.includes(`mediasoup-client-native.${platform}.node`), message);
  assert.doesNotMatch(message, /wasi|npm has a bug/i);
  assert.ok(cause, 'the loader\'s own error is kept as the cause');
}

test('require() without a binary: the platform, the places looked at and `npm rebuild`', () => {
  const result = runWithoutBinary(
    ['-e'],
    `try { require('mediasoup-client-native'); console.log('null') }
     catch (e) { console.log(JSON.stringify({ message: e.message, cause: String(e.cause) })) }`
  );
  assert.equal(result.status, 0, result.stderr);
  assertPlainMessage(JSON.parse(result.stdout));
});

test('import without a binary: the same message', () => {
  const result = runWithoutBinary(['--input-type=module', '-e'], `import 'mediasoup-client-native';`);
  assert.notEqual(result.status, 0);
  const [message] = result.stderr.split('\n').filter((line) => line.startsWith('Error: '));
  assertPlainMessage({ message, cause: /\bcause: Error: /.test(result.stderr) });
});

test('the platform name is the one of the binary a build from source leaves here', () => {
  const built = fs.readdirSync(root).filter((f) => /^mediasoup-client-native\..*\.node$/.test(f));
  assert.deepEqual(built, [`mediasoup-client-native.${bindingPlatform()}.node`]);
});
