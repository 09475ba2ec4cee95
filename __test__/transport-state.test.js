'use strict';

// A send transport whose connection or signalling goes wrong, against the real mediasoup worker on
// 127.0.0.1: a DTLS handshake that fails must end in 'failed' (never stay 'connecting'), a refused
// 'connect' or 'produce' must leave the transport usable for the next produce(), and close() must
// settle every operation still waiting.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { createTrack, InvalidStateError } = require('..');
const { startServerAndDevice, producerCounters, serverReceives } = require('./helpers/server');
const { feed } = require('./helpers/media');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// Resolves with the ms from now until `transport` reaches `state`; rejects after `timeout` ms.
function stateWithin(transport, state, timeout) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      transport.off('connectionstatechange', listener);
      reject(new Error(`no '${state}' within ${timeout} ms (now '${transport.connectionState}')`));
    }, timeout);
    function listener(s) {
      if (s !== state) return;
      clearTimeout(timer);
      transport.off('connectionstatechange', listener);
      resolve(Date.now() - start);
    }
    transport.on('connectionstatechange', listener);
  });
}

// Rejects if `promise` has not settled within `timeout` ms; otherwise settles as it does.
function settlesWithin(promise, timeout, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${timeout} ms`)), timeout);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// `value` (colon-separated hex bytes) with its first byte changed.
function tamperFingerprint(value) {
  const bytes = value.split(':');
  bytes[0] = ((parseInt(bytes[0], 16) + 1) % 256).toString(16).padStart(2, '0').toUpperCase();
  return bytes.join(':');
}

// The server's DTLS parameters with one byte of every sha-256 fingerprint changed.
function wrongSha256(dtlsParameters) {
  return {
    ...dtlsParameters,
    fingerprints: dtlsParameters.fingerprints.map((f) =>
      f.algorithm === 'sha-256' ? { ...f, value: tamperFingerprint(f.value) } : f
    ),
  };
}

// Resolves when the server transport's DTLS state becomes `state`.
function serverDtlsState(serverTransport, state) {
  if (serverTransport.dtlsState === state) return Promise.resolve();
  return new Promise((resolve) => {
    serverTransport.on('dtlsstatechange', function listener(s) {
      if (s !== state) return;
      serverTransport.off('dtlsstatechange', listener);
      resolve();
    });
  });
}

// A UDP relay on 127.0.0.1 in front of `target` ({ address, port }: the server's candidate)
// that passes STUN only (first byte 0-3, RFC 7983) for one client: ICE connects through it,
// DTLS never arrives. Resolves with its port; closed when test `t` ends.
async function stunOnlyRelay(t, target) {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  t.after(() => {
    front.close();
    back.close();
  });
  let client;
  front.on('message', (message, from) => {
    client = from;
    if (message[0] <= 3) back.send(message, target.port, target.address);
  });
  back.on('message', (message) => {
    if (client && message[0] <= 3) front.send(message, client.port, client.address);
  });
  await Promise.all([front, back].map((socket) => new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve))));
  return front.address().port;
}

// Collects the unhandled rejections while test `t` runs.
function unhandledRejections(t) {
  const seen = [];
  const listener = (reason) => seen.push(reason);
  process.on('unhandledRejection', listener);
  t.after(() => process.off('unhandledRejection', listener));
  return seen;
}

test('a wrong server fingerprint: the DTLS handshake fails and the transport becomes failed at once', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport({ ...clientOptions, dtlsParameters: wrongSha256(clientOptions.dtlsParameters) });
  t.after(() => transport.close());
  const { serverProducers } = server.wireSendTransport(transport, serverTransport);
  const states = [];
  transport.on('connectionstatechange', (s) => states.push(s));
  const observed = [];
  transport.observer.on('connectionstatechange', (s) => observed.push(s));
  const serverFailed = serverDtlsState(serverTransport, 'failed');

  const failed = stateWithin(transport, 'failed', 3000);
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  const toFailed = await failed;
  t.diagnostic(`wrong fingerprint: failed ${toFailed} ms after produce()`);
  assert.deepEqual(states, ['connecting', 'failed']);
  assert.deepEqual(observed, ['connecting', 'failed']);
  assert.equal(transport.connectionState, 'failed');
  await serverFailed;
  assert.equal((await producerCounters(serverProducers[0])).packets, 0, 'no media reached the server');
});

test('DTLS that never reaches the server: the transport becomes failed when the handshake gives up', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const [candidate] = clientOptions.iceCandidates;
  const port = await stunOnlyRelay(t, { address: candidate.address ?? candidate.ip, port: candidate.port });
  const transport = device.createSendTransport({ ...clientOptions, iceCandidates: [{ ...candidate, port }] });
  t.after(() => transport.close());
  server.wireSendTransport(transport, serverTransport);
  const states = [];
  transport.on('connectionstatechange', (s) => states.push(s));
  const failed = stateWithin(transport, 'failed', 20000);
  await transport.produce({ track: createTrack({ kind: 'video' }) });
  const toFailed = await failed;
  t.diagnostic(`DTLS never answered: failed ${toFailed} ms after produce()`);
  assert.deepEqual(states, ['connecting', 'failed']);
  assert.equal(serverTransport.iceState, 'completed', 'ICE itself was up');
  assert.equal(serverTransport.dtlsState, 'connecting');
});

test('a refused connect: the next produce() connects again, and the media reaches the server', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  const connects = [];
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    connects.push(dtlsParameters);
    if (connects.length === 1) return errback(new Error('signalling is down'));
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  const serverProducers = [];
  transport.on('produce', async ({ kind, rtpParameters }) => {
    const producer = await serverTransport.produce({ kind, rtpParameters });
    serverProducers.push(producer);
    return { id: producer.id };
  });

  await assert.rejects(transport.produce({ track: createTrack({ kind: 'video' }) }), /signalling is down/);
  assert.equal(transport.connectionState, 'new');

  const connected = stateWithin(transport, 'connected', 5000);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  assert.equal(connects.length, 2, 'connect asked again');
  assert.deepEqual(connects[1], connects[0], 'with the same DTLS parameters');
  await connected;
  assert.equal(producer.id, serverProducers[0].id);
  await serverReceives(serverProducers[0]);

  // and the transport goes on: a third producer, of the other kind
  const audio = createTrack({ kind: 'audio' });
  await transport.produce({ track: audio });
  const audioFeeder = feed(audio);
  t.after(() => audioFeeder.stop());
  await serverReceives(serverProducers[1]);
  assert.equal(connects.length, 2);
});

test('a refused first produce (connect done): the next produce() sends, and the media reaches the server', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  let connects = 0;
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    connects++;
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  let refuse = true;
  const serverProducers = [];
  transport.on('produce', async ({ kind, rtpParameters }) => {
    if (refuse) throw new Error('no room for you');
    const producer = await serverTransport.produce({ kind, rtpParameters });
    serverProducers.push(producer);
    return { id: producer.id };
  });
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'video' }) }), /no room for you/);
  refuse = false;
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);
  assert.equal(connects, 1);
  assert.equal(transport.connectionState, 'connected');
});

test('close() while connect is unanswered: the running and the queued operations reject with InvalidStateError', async (t) => {
  const rejections = unhandledRejections(t);
  const { clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  let connectAsked;
  const asked = new Promise((resolve) => {
    connectAsked = resolve;
  });
  transport.on('connect', () => connectAsked()); // never answered
  transport.on('produce', () => {}); // never answered
  const tracks = [createTrack({ kind: 'video' }), createTrack({ kind: 'audio' })];
  const running = transport.produce({ track: tracks[0] });
  const queued = transport.produce({ track: tracks[1] });
  const restart = transport.restartIce({ iceParameters: clientOptions.iceParameters });
  const servers = transport.updateIceServers({ iceServers: [] });
  await asked;
  transport.close();
  const stats = transport.getStats();
  const operations = { running, queued, restart, servers, stats };
  await Promise.all(
    Object.entries(operations).map(([what, promise]) =>
      settlesWithin(assert.rejects(promise, InvalidStateError, what), 2000, what)
    )
  );
  // stopTracks (the default): the tracks of the failed produce() calls are stopped
  assert.deepEqual(tracks.map((track) => track.readyState), ['ended', 'ended']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(rejections, []);
});

test('close() while produce is unanswered: produce() rejects with InvalidStateError and nothing is sent', async (t) => {
  const rejections = unhandledRejections(t);
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  let produceAsked;
  const asked = new Promise((resolve) => {
    produceAsked = resolve;
  });
  let answer;
  let serverProducer;
  transport.on('produce', ({ kind, rtpParameters }, callback) => {
    // the server producer exists, but the app answers only after close()
    answer = serverTransport.produce({ kind, rtpParameters }).then((p) => {
      serverProducer = p;
      return () => callback({ id: p.id });
    });
    produceAsked();
  });
  const track = createTrack({ kind: 'video' });
  const running = transport.produce({ track, stopTracks: false });
  const queued = transport.produce({ track: createTrack({ kind: 'audio' }) });
  await asked;
  transport.close();
  await Promise.all([
    settlesWithin(assert.rejects(running, InvalidStateError), 2000, 'the running produce()'),
    settlesWithin(assert.rejects(queued, InvalidStateError), 2000, 'the queued produce()'),
  ]);
  // a late answer of the app changes nothing
  (await answer)();
  assert.equal(track.readyState, 'live');
  assert.throws(() => track.writeFrame(Buffer.alloc(100), { keyframe: true }), InvalidStateError, 'the track is not producing');
  assert.equal((await producerCounters(serverProducer)).packets, 0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(rejections, []);
});

test("a refused connect or produce rejects produce() with the application's own error object", async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  const refusals = [
    Object.assign(new RangeError('no connect for you'), { code: 'APP_CONNECT' }),
    Object.assign(new RangeError('no producer for you'), { code: 'APP_PRODUCE' }),
  ];
  let connects = 0;
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    if (connects++ === 0) errback(refusals[0]);
    else serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', async () => {
    throw refusals[1];
  });
  for (const refusal of refusals) {
    const track = createTrack({ kind: 'audio' });
    await assert.rejects(transport.produce({ track }), (error) => error === refusal);
    assert.equal(track.readyState, 'ended', 'stopTracks: the track of a failed produce() is stopped');
  }
});

test('the "produce" answer must carry { id }: a TypeError otherwise; anything else in it is ignored', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  let answer = () => ({});
  transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    serverTransport.produce({ kind, rtpParameters }).then((p) => callback(answer(p)), errback);
  });
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'audio' }) }), {
    name: 'TypeError',
    message: /"produce" callback must be given \{ id \}/,
  });
  // a BigInt or a function would not convert to JSON: only the id goes to the native side
  answer = (p) => ({ id: p.id, serverProducer: p, version: 1n });
  const producer = await transport.produce({ track: createTrack({ kind: 'audio' }) });
  assert.equal(typeof producer.id, 'string');
  assert.equal(producer.localId, '1');
});
