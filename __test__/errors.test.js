'use strict';

// The native layer's errors reach JS as the classes mediasoup-client users expect.

const test = require('node:test');
const assert = require('node:assert/strict');
const native = require('../native.js');
const { UnsupportedError, InvalidStateError, version } = require('..');
const { callNative } = require('../lib/errors');

test('the addon loads and reports its version', () => {
  assert.equal(version, require('../package.json').version);
});

for (const [code, Cls] of [
  ['TypeError', TypeError],
  ['UnsupportedError', UnsupportedError],
  ['InvalidStateError', InvalidStateError],
]) {
  test(`a native ${code} becomes a ${Cls.name} with the message intact`, () => {
    assert.throws(
      () => callNative(native.nativeThrow, code, 'missing codec.mimeType'),
      (error) => error instanceof Cls && error.name === code && error.message === 'missing codec.mimeType'
    );
  });
}

test('an untagged native error stays a plain Error', () => {
  assert.throws(
    () => callNative(native.nativeThrow, 'Error', 'boom'),
    (error) => error.constructor === Error && error.message === 'boom'
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
