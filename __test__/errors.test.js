'use strict';

// The native layer's errors reach JS as the classes mediasoup-client users expect.

const test = require('node:test');
const assert = require('node:assert/strict');
const native = require('../native.js');
const { UnsupportedError, InvalidStateError, version } = require('..');
const { callNative, awaitNative } = require('../lib/errors');

test('the addon loads and reports its version', () => {
  assert.equal(version, require('../package.json').version);
});

for (const [name, Cls, code] of [
  ['TypeError', TypeError, 'ERR_INVALID_ARGUMENT'],
  ['UnsupportedError', UnsupportedError, 'ERR_UNSUPPORTED'],
  ['InvalidStateError', InvalidStateError, 'ERR_INVALID_STATE'],
]) {
  test(`a native ${name} becomes a ${Cls.name} with the message intact and error.code ${code}`, () => {
    assert.throws(
      () => callNative(native.nativeThrow, name, 'missing codec.mimeType'),
      (error) =>
        error instanceof Cls && error.name === name && error.message === 'missing codec.mimeType' && error.code === code
    );
  });
}

test('a native rejection carries its code too, and becomes its class', async () => {
  await assert.rejects(awaitNative(new native.NativeDevice().load({ codecs: 'x' })), (error) => {
    assert.ok(error instanceof TypeError, `${error}`);
    assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
    return true;
  });
});

test('an untagged native error stays a plain Error', () => {
  assert.throws(
    () => callNative(native.nativeThrow, 'Error', 'boom'),
    (error) => error.constructor === Error && error.message === 'boom' && error.code === 'ERR_FAILED'
  );
});

test("a value napi cannot convert to an argument's Rust type is a TypeError, never a napi message alone", () => {
  const track = new native.NativeTrack('video');
  for (const call of [
    () => track.writeFrame(Buffer.alloc(3), undefined, undefined, 'yes', 0),
    () => track.writeFrame(Buffer.alloc(3), 'soon', undefined, undefined, 0),
    () => new native.NativeDevice().validateSendTransportOptions({ iceCandidates: [{ port: NaN }] }),
  ]) {
    assert.throws(() => callNative(call), (error) => error instanceof TypeError && /^invalid argument: /.test(error.message));
  }
});
