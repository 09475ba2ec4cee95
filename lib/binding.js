'use strict';

// The native addon, through the generated loader (native.js). When no binary for this platform
// loads, the error says which platform, where a binary was looked for and the command that
// builds one, instead of the loader's generic advice; what each place said is in its `cause`.

const { bindingPlatform } = require('./platform');

let native;
try {
  native = require('../native.js');
} catch (cause) {
  const platform = bindingPlatform();
  const error = new Error(
    `mediasoup-client-native: no native addon loads for ${platform}: neither the prebuilt ` +
      `package mediasoup-client-native-${platform} (an optional dependency) nor a binary built ` +
      `from source (mediasoup-client-native.${platform}.node in the package). Build it from ` +
      'source with `npm rebuild mediasoup-client-native` (needs Rust\'s cargo, a C compiler ' +
      'and cmake); error.cause has what each place tried said.'
  );
  error.cause = cause;
  throw error;
}

module.exports = native;
