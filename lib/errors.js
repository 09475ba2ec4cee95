'use strict';

// Error classes of mediasoup-client v3, and the mapping from the native layer's errors.
//
// The native addon throws (or rejects with) an Error whose `code` names what went wrong (see
// src/node/errors.rs and index.d.ts): this module gives it the class that code stands for,
// keeping its message and code.

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

// The native codes and the class each stands for; ERR_REFUSED (the application's signalling
// refused) and ERR_FAILED (a failure below) stay plain Errors.
const CLASS_OF_CODE = {
  ERR_INVALID_ARGUMENT: TypeError,
  ERR_UNSUPPORTED: UnsupportedError,
  ERR_INVALID_STATE: InvalidStateError,
};

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

// `error` as an error of `Class` with `message`, keeping its stack frames.
function retyped(error, Class, message) {
  const converted = new Class(message);
  const frames = (error.stack || '').split('\n').slice(1).join('\n');
  converted.stack = `${converted.name}: ${message}\n${frames}`;
  return converted;
}

// Turns an error from the native layer into the class its code stands for.
function fromNative(error) {
  if (!(error instanceof Error)) return error;
  if (!(error instanceof TypeError) && CONVERSION_CODES.has(error.code)) {
    return retyped(error, TypeError, `invalid argument: ${error.message}`);
  }
  const Class = CLASS_OF_CODE[error.code];
  if (!Class || error instanceof Class) return error;
  const converted = retyped(error, Class, error.message);
  converted.code = error.code;
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
