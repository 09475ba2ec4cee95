'use strict';

// Error classes of mediasoup-client v3, and the mapping from the native layer's errors.
//
// The native addon throws (or rejects with) a plain Error whose message starts with a tag
// naming the class the user should see: '[TypeError] ', '[UnsupportedError] ',
// '[InvalidStateError] ' (see src/node/errors.rs); an untagged error stays an Error.

class UnsupportedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

class InvalidStateError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidStateError';
  }
}

const classes = { TypeError, UnsupportedError, InvalidStateError };
const TAG = /^\[(TypeError|UnsupportedError|InvalidStateError)\] /;

// napi's codes for a JS value it could not convert to the Rust type of an argument. The JS
// classes check every argument first, so one of these means a check is missing; it is still
// bad input, so it surfaces as a TypeError.
const CONVERSION_CODES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
  'DetachableArraybufferExpected',
]);

// Turns an error from the native layer into the class its tag names.
function fromNative(error) {
  if (!(error instanceof Error)) return error;
  if (!(error instanceof TypeError) && CONVERSION_CODES.has(error.code)) {
    const converted = new TypeError(`invalid argument: ${error.message}`);
    converted.stack = `TypeError: ${converted.message}\n${(error.stack || '').split('\n').slice(1).join('\n')}`;
    return converted;
  }
  const match = TAG.exec(error.message);
  if (!match) return error;
  const message = error.message.slice(match[0].length);
  const converted = new classes[match[1]](message);
  const frames = (error.stack || '').split('\n').slice(1).join('\n');
  converted.stack = `${converted.name}: ${message}\n${frames}`;
  return converted;
}

// Calls a native function, rethrowing its error as the right class.
function callNative(fn, ...args) {
  try {
    return fn(...args);
  } catch (error) {
    throw fromNative(error);
  }
}

// Awaits a native promise, rejecting with the right class.
async function awaitNative(promise) {
  try {
    return await promise;
  } catch (error) {
    throw fromNative(error);
  }
}

module.exports = { UnsupportedError, InvalidStateError, fromNative, callNative, awaitNative };
