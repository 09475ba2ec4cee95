'use strict';

// This platform's name as napi-rs spells it ('linux-x64-gnu', 'linux-arm64-musl', 'darwin-arm64',
// 'win32-x64-msvc'): the suffix of the prebuilt package (mediasoup-client-native-<platform>) and
// of a binary built from source (mediasoup-client-native.<platform>.node), the names the
// generated loader (native.js) looks for.

function bindingPlatform() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const musl = isMusl();
    const abi = arch === 'arm' ? (musl ? 'musleabihf' : 'gnueabihf') : musl ? 'musl' : 'gnu';
    return `linux-${arch}-${abi}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

// Node reports the glibc it runs on; a Linux without one is musl (Alpine).
function isMusl() {
  if (!process.report || typeof process.report.getReport !== 'function') return false;
  process.report.excludeNetwork = true;
  const report = process.report.getReport();
  return !(report && report.header && report.header.glibcVersionRuntime);
}

module.exports = { bindingPlatform };
