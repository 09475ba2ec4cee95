'use strict';

// Device: load, capabilities and the errors of mediasoup-client, against a real router's
// capabilities.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Device, UnsupportedError, InvalidStateError } = require('..');
const { startServer } = require('./helpers/server');

let server;
test.before(async () => {
  server = await startServer();
});
test.after(() => server.close());

test('a new device is not loaded and refuses what needs loading', () => {
  const device = new Device();
  assert.equal(device.loaded, false);
  assert.throws(() => device.rtpCapabilities, InvalidStateError);
  assert.throws(() => device.canProduce('audio'), InvalidStateError);
  assert.throws(() => device.createSendTransport({ id: 'x' }), InvalidStateError);
});

test('load() with the router capabilities; a second load() is an InvalidStateError', async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  assert.equal(device.loaded, true);
  assert.equal(device.canProduce('audio'), true);
  assert.equal(device.canProduce('video'), true);
  assert.throws(() => device.canProduce('chicken'), TypeError);
  const mimeTypes = device.rtpCapabilities.codecs.map((c) => c.mimeType.toLowerCase());
  assert.ok(mimeTypes.includes('audio/opus'));
  assert.ok(mimeTypes.includes('video/vp8'));
  assert.deepEqual(device.sctpCapabilities, { numStreams: { OS: 1024, MIS: 1024 } });
  await assert.rejects(device.load({ routerRtpCapabilities: server.router.rtpCapabilities }), InvalidStateError);
});

test('load() rejects bad capabilities with a TypeError naming the field', async () => {
  const device = new Device();
  await assert.rejects(device.load({}), TypeError);
  const caps = structuredClone(server.router.rtpCapabilities);
  delete caps.codecs[0].mimeType;
  await assert.rejects(device.load({ routerRtpCapabilities: caps }), (e) => e instanceof TypeError && /mimeType/.test(e.message));
  assert.equal(device.loaded, false);
});

test('a router with audio only: canProduce("video") is false and produce() is an UnsupportedError', async () => {
  const device = new Device();
  const caps = structuredClone(server.router.rtpCapabilities);
  caps.codecs = caps.codecs.filter((c) => c.kind === 'audio');
  await device.load({ routerRtpCapabilities: caps });
  assert.equal(device.canProduce('video'), false);
  const { clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  transport.on('connect', (_p, cb) => cb());
  transport.on('produce', (_p, cb) => cb({ id: 'x' }));
  const { createTrack } = require('..');
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'video' }) }), UnsupportedError);
  transport.close();
});

test('createSendTransport() validates its options', async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  const { clientOptions } = await server.createWebRtcTransport();
  assert.throws(() => device.createSendTransport({ ...clientOptions, id: undefined }), TypeError);
  assert.throws(() => device.createSendTransport({ ...clientOptions, iceParameters: undefined }), TypeError);
  assert.throws(() => device.createSendTransport({ ...clientOptions, dtlsParameters: { fingerprints: 'x' } }), TypeError);
  assert.throws(() => device.createSendTransport({ ...clientOptions, appData: 'x' }), TypeError);
  const transport = device.createSendTransport({ ...clientOptions, appData: { foo: 1 } });
  assert.equal(transport.id, clientOptions.id);
  assert.equal(transport.direction, 'send');
  assert.equal(transport.connectionState, 'new');
  assert.deepEqual(transport.appData, { foo: 1 });
  transport.close();
  assert.equal(transport.closed, true);
});

test('a loaded device answers while transports are being created (no lock to trip on)', async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  const transports = [];
  for (let i = 0; i < 20; i++) {
    const { clientOptions } = await server.createWebRtcTransport();
    transports.push(device.createSendTransport(clientOptions));
    // the transports above are still building their PeerConnections in the background
    assert.equal(device.canProduce('video'), true);
    assert.ok(device.rtpCapabilities.codecs.length > 0);
  }
  await Promise.all(transports.map((t) => t.getStats()));
  transports.forEach((t) => t.close());
});

test('load() while a load() is running is an InvalidStateError; a failed load can be retried', async () => {
  const device = new Device();
  const first = device.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  await assert.rejects(device.load({ routerRtpCapabilities: server.router.rtpCapabilities }), InvalidStateError);
  await first;
  assert.equal(device.loaded, true);

  const retried = new Device();
  await assert.rejects(retried.load({ routerRtpCapabilities: { codecs: 'x' } }), TypeError);
  await retried.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  assert.equal(retried.loaded, true);
});
