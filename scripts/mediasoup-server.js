'use strict';

// Where the real mediasoup server lives: the npm package `mediasoup` with a worker that
// scripts/setup-worker.sh built from its sources, cached outside the work tree. Used by the
// tests, the demo and the benchmark.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const version = fs.readFileSync(path.join(__dirname, 'worker', 'version'), 'utf8').trim();
const cacheDir = process.env.MSC_CACHE_DIR || path.join(os.homedir(), '.cache', 'mediasoup-client-native');
const serverDir = path.join(cacheDir, `mediasoup-${version}`);

// The codecs of the routers the tests and the demo make: every codec this client can send.
const routerMediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 0 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/AV1', clockRate: 90000 },
];

// Loads the server package, or throws with the command that installs it.
function loadMediasoup() {
  if (!fs.existsSync(path.join(serverDir, 'READY'))) {
    throw new Error(
      `the local mediasoup ${version} server is not installed in ${serverDir}: ` +
        'run `bash scripts/setup-worker.sh` (npm test and npm run demo run it first)'
    );
  }
  return require(path.join(serverDir, 'node_modules', 'mediasoup'));
}

module.exports = { version, serverDir, loadMediasoup, routerMediaCodecs };
