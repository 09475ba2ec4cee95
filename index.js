'use strict';

// mediasoup-client-native: the public entry point. The classes live in lib/; the native addon
// (loaded by the generated native.js) is an implementation detail.

const native = require('./native.js');
const errors = require('./lib/errors');

module.exports = {
  version: native.nativeVersion(),
  UnsupportedError: errors.UnsupportedError,
  InvalidStateError: errors.InvalidStateError,
};
