'use strict';

// The real mediasoup server must start: a broken worker setup fails here, loudly, instead of
// reading as skipped end-to-end tests.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, until } = require('./helpers/server');
const { version } = require('../scripts/mediasoup-server');

test('the local mediasoup worker starts and its router has the test codecs', async (t) => {
  const server = await startServer();
  t.after(() => server.close());

  assert.equal(server.mediasoup.version, version);
  assert.ok(server.worker.pid > 0);
  const mimeTypes = server.router.rtpCapabilities.codecs.map((c) => c.mimeType);
  for (const mime of ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264', 'video/AV1', 'video/rtx']) {
    assert.ok(mimeTypes.includes(mime), `router lacks ${mime}`);
  }
});

test('server WebRtcTransports listen on 127.0.0.1 only', async (t) => {
  const server = await startServer();
  t.after(() => server.close());

  const { clientOptions } = await server.createWebRtcTransport();
  assert.ok(clientOptions.iceParameters.iceLite);
  assert.ok(clientOptions.iceCandidates.length > 0);
  for (const candidate of clientOptions.iceCandidates) {
    assert.equal(candidate.address, '127.0.0.1');
  }
  assert.ok(clientOptions.dtlsParameters.fingerprints.length > 0);
});

test('closing the server closes the worker process', async () => {
  const server = await startServer();
  const { pid } = server.worker;
  server.close();
  assert.ok(server.worker.closed);
  // the OS process has no event to wait on here: poll until it is gone
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await until(() => !alive(), { timeout: 5000, what: `worker process ${pid} to exit` });
});
