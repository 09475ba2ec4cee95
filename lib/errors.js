'use strict';

// Error classes of mediasoup-client v3, and the mapping from the native layer's errors.
//
// The native addon throws (or rejects with) a plain Error whose `code` names the class the
// user should see: 'TypeError', 'UnsupportedError', 'InvalidStateError'; anything else stays
// an Error.

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

// Turns an error from the native layer into the class its code names.
function fromNative(error) {
  if (!(error instanceof Error)) return error;
  const Cls = classes[error.code];
  if (!Cls || error instanceof Cls) return error;
  const converted = new Cls(error.message);
  converted.stack = `${converted.name}: ${error.message}\n${(error.stack || '').split('\n').slice(1).join('\n')}`;
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
