'use strict';

// Data channels as mediasoup-client's, against the real router: a DataProducer of ours to a
// DataConsumer of ours, and to and from the server's DirectTransport; messages up to the
// maximum size, in order and intact; a data producer after media producers, and a data consumer
// after messages flowed, with one negotiation each way; bufferedamountlow; close on either
// side; transport close; errors by class.

const test = require('node:test');
const assert = require('node:assert/strict');
const { createTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, until } = require('./helpers/server');
const { pickCodec } = require('./helpers/codec-session');
const { createRelay } = require('./helpers/relay');

const MAX = 262144;

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// mediasoup drops what does not fit a transport's SCTP send buffer towards its data consumers
// (262,144 B by default, with what is unacknowledged): the receive transports of the bursts
// below get room for them.
const SEND_BUFFER = 8 * 1024 * 1024;

// A client transport (`send` or `recv`) wired to a fresh server WebRtcTransport with SCTP,
// closed when the test ends: its server DataProducers are pushed to `serverDataProducers`.
// `through(clientOptions, serverTransport)` may rewrite what the client is given (a relay).
async function transport(t, direction, { enableSctp = true, through = (o) => o } = {}) {
  const { transport: serverTransport, clientOptions: options } = await server.createWebRtcTransport({
    enableSctp,
    sctpSendBufferSize: direction === 'recv' ? SEND_BUFFER : undefined,
  });
  const clientOptions = await through(options, serverTransport);
  const client =
    direction === 'send' ? device.createSendTransport(clientOptions) : device.createRecvTransport(clientOptions);
  const connects = [];
  client.on('connect', ({ dtlsParameters }, callback, errback) => {
    connects.push(dtlsParameters);
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  const serverDataProducers = [];
  client.on('producedata', async ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
    try {
      const dataProducer = await serverTransport.produceData({ sctpStreamParameters, label, protocol, appData });
      serverDataProducers.push(dataProducer);
      callback({ id: dataProducer.id });
    } catch (error) {
      errback(error);
    }
  });
  client.on('produce', async ({ kind, rtpParameters }, callback, errback) => {
    serverTransport.produce({ kind, rtpParameters }).then(({ id }) => callback({ id }), errback);
  });
  t.after(() => client.close());
  return { client, serverTransport, connects, serverDataProducers };
}

// The client DataConsumer of server DataProducer `dataProducerId` on `recv` (a transport()),
// the server DataConsumer created paused and resumed once the client's consumeData() resolved,
// so that nothing is sent before the client's channel exists.
async function consumeData(recv, dataProducerId, { paused = true } = {}) {
  const serverDataConsumer = await recv.serverTransport.consumeData({ dataProducerId, paused });
  const dataConsumer = await recv.client.consumeData({
    id: serverDataConsumer.id,
    dataProducerId,
    sctpStreamParameters: serverDataConsumer.sctpStreamParameters,
    label: serverDataConsumer.label,
    protocol: serverDataConsumer.protocol,
  });
  serverDataConsumer.on('sctpsendbufferfull', () => {
    throw new Error('the server dropped a message: its SCTP send buffer was full');
  });
  if (paused) await serverDataConsumer.resume();
  return { dataConsumer, serverDataConsumer };
}

function opened(channel) {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve) => channel.once('open', resolve));
}

// The first `n` messages of `dataConsumer`, or (`n` a function) those until `n(got)` is true.
function collect(dataConsumer, n, { timeout = 10000 } = {}) {
  const got = [];
  const enough = typeof n === 'function' ? n : () => got.length === n;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${got.length} messages after ${timeout} ms: ${got.slice(-3)}`)), timeout);
    dataConsumer.on('message', (m) => {
      got.push(m);
      if (enough(got)) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

// Binary payload `i` of `size` bytes: byte k is (k * 7 + i) & 0xff.
function pattern(size, i) {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (k * 7 + i) & 0xff;
  return b;
}

// A DataProducer of ours (on a new send transport), a DataConsumer of ours of it (on a new
// receive transport), both open.
async function pair(t, options = {}) {
  const send = await transport(t, 'send');
  const dataProducer = await send.client.produceData({ label: 'chat', protocol: 'p1', ...options });
  const recv = await transport(t, 'recv');
  const { dataConsumer, serverDataConsumer } = await consumeData(recv, dataProducer.id);
  await Promise.all([opened(dataProducer), opened(dataConsumer)]);
  return { send, recv, dataProducer, dataConsumer, serverDataConsumer };
}

test('text and binary messages through the router, in order and intact, up to the maximum size', async (t) => {
  const { send, recv, dataProducer, dataConsumer } = await pair(t);
  assert.equal(dataProducer.label, 'chat');
  assert.equal(dataProducer.protocol, 'p1');
  assert.deepEqual(dataProducer.sctpStreamParameters, { streamId: 0, ordered: true });
  assert.equal(dataConsumer.label, 'chat');
  assert.equal(dataConsumer.protocol, 'p1');
  assert.equal(dataConsumer.dataProducerId, dataProducer.id);
  assert.equal(send.connects.length, 1);
  assert.equal(recv.connects.length, 1);
  assert.equal(send.connects[0].role, 'client');

  const sizes = [0, 1, 1000, 65536, 65537, 200000, MAX];
  const texts = ['hello', '', 'ünïcödé ✓', 'x'.repeat(MAX)];
  const receiving = collect(dataConsumer, sizes.length + texts.length + 3);
  for (const text of texts) dataProducer.send(text);
  sizes.forEach((size, i) => dataProducer.send(pattern(size, i)));
  // ArrayBuffer and typed arrays go as binary
  dataProducer.send(new Uint8Array([1, 2, 3]).buffer);
  dataProducer.send(new Uint16Array([0x0102, 0x0304]));
  dataProducer.send(new Uint8Array(pattern(64, 9)).subarray(8, 24));
  const got = await receiving;
  assert.deepEqual(got.slice(0, texts.length), texts);
  sizes.forEach((size, i) => assert.ok(pattern(size, i).equals(got[texts.length + i]), `message of ${size} B intact`));
  const rest = got.slice(texts.length + sizes.length);
  assert.deepEqual(rest[0], Buffer.from([1, 2, 3]));
  assert.deepEqual(rest[1], Buffer.from(new Uint16Array([0x0102, 0x0304]).buffer));
  assert.deepEqual(rest[2], pattern(64, 9).subarray(8, 24));

  assert.throws(() => dataProducer.send(Buffer.alloc(MAX + 1)), (e) => e instanceof TypeError && /maximum message size \(262144/.test(e.message));
  assert.throws(() => dataProducer.send('x'.repeat(MAX + 1)), TypeError);
  assert.throws(() => dataProducer.send(42), TypeError);
  assert.throws(() => dataProducer.send({}), TypeError);
  // the channel goes on after refused sends
  const after = collect(dataConsumer, 1);
  dataProducer.send('still here');
  assert.equal((await after).at(-1), 'still here');
});

test('binaryType arraybuffer, and messages() in order with the message events', async (t) => {
  const { dataProducer, dataConsumer } = await pair(t);
  dataConsumer.binaryType = 'arraybuffer';
  assert.throws(() => {
    dataConsumer.binaryType = 'blob';
  }, TypeError);
  const iterated = [];
  const reading = (async () => {
    for await (const m of dataConsumer.messages()) {
      iterated.push(m);
      if (iterated.length === 100) break;
    }
  })();
  const events = collect(dataConsumer, 100);
  for (let i = 0; i < 99; i++) dataProducer.send(`m${i}`);
  dataProducer.send(Buffer.from([0xca, 0xfe]));
  await reading;
  const got = await events;
  assert.deepEqual(iterated.slice(0, 99), Array.from({ length: 99 }, (_, i) => `m${i}`));
  assert.ok(iterated[99] instanceof ArrayBuffer);
  assert.deepEqual(Buffer.from(iterated[99]), Buffer.from([0xca, 0xfe]));
  assert.deepEqual(got.slice(0, 99), iterated.slice(0, 99));
});

test('a data producer after media producers, a data consumer after messages flowed: no new negotiation', async (t) => {
  const send = await transport(t, 'send');
  const track = createTrack({ kind: 'video' });
  t.after(() => track.stop());
  await send.client.produce({ track, codec: pickCodec(device, 'video/VP8') });
  await until(() => send.client.connectionState === 'connected', { what: 'media connected' });
  await until(() => send.serverTransport.sctpState === 'connected', { what: 'SCTP associated with the media' });
  const first = await send.client.produceData({ label: 'after media' });
  const second = await send.client.produceData({ label: 'second', ordered: false, maxRetransmits: 3 });
  assert.deepEqual(second.sctpStreamParameters, { streamId: 1, ordered: false, maxRetransmits: 3 });
  assert.equal(send.connects.length, 1);
  // open at once: the association is up
  await Promise.all([opened(first), opened(second)]);

  // a receive transport that consumes media first, then data
  const recv = await transport(t, 'recv');
  const serverConsumer = await recv.serverTransport.consume({
    producerId: (await send.serverTransport.dump()).producerIds[0],
    rtpCapabilities: device.rtpCapabilities,
    paused: true,
  });
  await recv.client.consume({
    id: serverConsumer.id,
    producerId: serverConsumer.producerId,
    kind: serverConsumer.kind,
    rtpParameters: serverConsumer.rtpParameters,
  });
  await until(() => recv.serverTransport.sctpState === 'connected', { what: 'receive SCTP associated' });

  // messages flow to a server consumer that exists before ours (not paused)
  const early = await recv.serverTransport.consumeData({ dataProducerId: first.id });
  for (let i = 0; i < 5; i++) first.send(`early ${i}`);
  await until(async () => (await early.getStats())[0]?.messagesSent >= 5, { what: 'the server sent the early messages' });
  const dataConsumer = await recv.client.consumeData({
    id: early.id,
    dataProducerId: first.id,
    sctpStreamParameters: early.sctpStreamParameters,
  });
  await opened(dataConsumer);
  // what the server sent before the consumer existed may reach it or not (webrtc-rs keeps or
  // drops what its stream got before the channel, by timing); what is sent after comes all,
  // in order, after those
  const receiving = collect(dataConsumer, (got) => got.includes('late 2'));
  for (let i = 0; i < 3; i++) first.send(`late ${i}`);
  const got = await receiving;
  const before = got.filter((m) => m.startsWith('early '));
  assert.deepEqual(got, [...before, 'late 0', 'late 1', 'late 2']);
  assert.deepEqual(before, [...new Set(before)].sort(), 'early messages, if any, in order and once');
  assert.equal(recv.connects.length, 1);

  // and one on the unordered stream
  const { dataConsumer: other } = await consumeData(recv, second.id);
  await opened(other);
  const more = collect(other, 1);
  second.send('unordered');
  assert.deepEqual(await more, ['unordered']);
});

test('to and from the server: a DirectTransport data producer and data consumer', async (t) => {
  const direct = await server.router.createDirectTransport();
  t.after(() => direct.close());
  // server -> us
  const serverProducer = await direct.produceData({ label: 'from server' });
  const recv = await transport(t, 'recv');
  const { dataConsumer } = await consumeData(recv, serverProducer.id);
  // the first on its transport: consumeData() waited for the SCTP association, so that the
  // server's messages from now on are received
  assert.equal(dataConsumer.readyState, 'open');
  const receiving = collect(dataConsumer, 3);
  serverProducer.send('text from the server');
  serverProducer.send(pattern(MAX, 3));
  serverProducer.send(Buffer.from('binary'), 53);
  const got = await receiving;
  assert.equal(got[0], 'text from the server');
  assert.ok(pattern(MAX, 3).equals(got[1]));
  assert.deepEqual(got[2], Buffer.from('binary'));

  // us -> server
  const send = await transport(t, 'send');
  const dataProducer = await send.client.produceData();
  const serverConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });
  const serverGot = [];
  serverConsumer.on('message', (message, ppid) => serverGot.push({ message, ppid }));
  await opened(dataProducer);
  dataProducer.send('text to the server');
  dataProducer.send(pattern(100000, 4));
  await until(() => serverGot.length === 2, { what: 'the server received both' });
  assert.equal(serverGot[0].ppid, 51);
  assert.equal(serverGot[0].message.toString(), 'text to the server');
  assert.equal(serverGot[1].ppid, 53);
  assert.ok(pattern(100000, 4).equals(serverGot[1].message));
});

test('a data producer first on its transport connects it; its refusal rejects produceData()', async (t) => {
  // the application's producedata refuses: produceData() rejects with that error
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport({ enableSctp: true });
  const client = device.createSendTransport(clientOptions);
  t.after(() => client.close());
  client.on('connect', ({ dtlsParameters }, callback, errback) => serverTransport.connect({ dtlsParameters }).then(callback, errback));
  const refusal = new Error('no data for you');
  client.once('producedata', (_params, _callback, errback) => errback(refusal));
  await assert.rejects(client.produceData(), (e) => e === refusal);
  await until(() => serverTransport.sctpState === 'connected', { what: 'SCTP associated by the first data producer' });
  // the next one takes the next stream, and works
  client.on('producedata', async ({ sctpStreamParameters }, callback) => {
    callback({ id: (await serverTransport.produceData({ sctpStreamParameters })).id });
  });
  const dataProducer = await client.produceData();
  assert.equal(dataProducer.sctpStreamParameters.streamId, 1);
  await opened(dataProducer);
  // an answer without an id is a TypeError
  client.removeAllListeners('producedata');
  client.on('producedata', (_params, callback) => callback({}));
  await assert.rejects(client.produceData(), TypeError);
});

test('through a lossy network: unordered without retransmissions loses messages whole, reliable ones all arrive', async (t) => {
  let relay;
  const send = await transport(t, 'send', {
    through: async (options, serverTransport) => {
      const [candidate] = serverTransport.iceCandidates;
      relay = await createRelay({ seed: 7, target: { ip: candidate.address ?? candidate.ip, port: candidate.port } });
      t.after(() => relay.close());
      return { ...options, iceCandidates: relay.candidates(serverTransport.iceCandidates) };
    },
  });
  const lossy = await send.client.produceData({ label: 'lossy', ordered: false, maxRetransmits: 0 });
  const reliable = await send.client.produceData({ label: 'reliable' });
  const direct = await server.router.createDirectTransport();
  t.after(() => direct.close());
  const received = { lossy: [], reliable: [] };
  for (const [name, dataProducer] of [['lossy', lossy], ['reliable', reliable]]) {
    const serverConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });
    serverConsumer.on('message', (message) => received[name].push(message));
  }
  await Promise.all([opened(lossy), opened(reliable)]);
  relay.setDataLoss(0.1);
  const count = 300;
  const size = 1000;
  for (let i = 0; i < count; i++) {
    lossy.send(pattern(size, i));
    reliable.send(pattern(size, i));
    // paced (as a sender keeping bufferedAmount low would): a burst would be one SCTP packet
    if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => received.reliable.length === count, { timeout: 20000, what: 'every reliable message' });
  relay.setDataLoss(0);
  // what of the unordered stream got through did so before the reliable one ended
  await until(() => lossy.bufferedAmount === 0, { what: 'the lossy stream settled' });
  assert.ok(relay.counts.dataDropped > 10, `the relay dropped ${relay.counts.dataDropped} SCTP packets`);
  received.reliable.forEach((m, i) => assert.ok(pattern(size, i).equals(m), `reliable message ${i} in order, intact`));
  // each unordered message arrived whole or not at all, once
  const seen = new Set();
  for (const m of received.lossy) {
    const i = m[0];
    const index = [...Array(count).keys()].find((k) => (k & 0xff) === i && !seen.has(k) && pattern(size, k).equals(m));
    assert.notEqual(index, undefined, 'an unordered message arrived intact');
    seen.add(index);
  }
  assert.ok(received.lossy.length < count, `unordered messages were lost (${received.lossy.length} of ${count})`);
  assert.ok(received.lossy.length > count / 2, `most unordered messages arrived (${received.lossy.length} of ${count})`);
});

test('bufferedamountlow under a burst; every message arrives', async (t) => {
  const { dataProducer, dataConsumer } = await pair(t);
  assert.equal(dataProducer.bufferedAmountLowThreshold, 0);
  dataProducer.bufferedAmountLowThreshold = 65536;
  assert.equal(dataProducer.bufferedAmountLowThreshold, 65536);
  assert.throws(() => {
    dataProducer.bufferedAmountLowThreshold = -1;
  }, TypeError);
  const count = 200;
  const size = 16384;
  const receiving = collect(dataConsumer, count, { timeout: 20000 });
  // the event comes each time the amount falls to the threshold; one from a fall while the
  // burst was still being sent arrives with the amount above it again: the one awaited is the
  // fall once the burst is all sent
  const low = new Promise((resolve) =>
    dataProducer.on('bufferedamountlow', () => {
      if (dataProducer.bufferedAmount <= 65536) resolve();
    })
  );
  let peak = 0;
  for (let i = 0; i < count; i++) {
    dataProducer.send(pattern(size, i));
    peak = Math.max(peak, dataProducer.bufferedAmount);
  }
  assert.ok(peak > 65536, `bufferedAmount rose above the threshold (peak ${peak})`);
  await low;
  const got = await receiving;
  got.forEach((m, i) => assert.ok(pattern(size, i).equals(m), `message ${i}`));
  await until(() => dataProducer.bufferedAmount === 0, { what: 'bufferedAmount back to 0' });
});

test('close on either side, and transport close', async (t) => {
  const { send, recv, dataProducer, dataConsumer, serverDataConsumer } = await pair(t);
  // the server closes its DataConsumer: ours gets 'close'
  const closed = new Promise((resolve) => dataConsumer.once('close', resolve));
  const observed = new Promise((resolve) => dataConsumer.observer.once('close', resolve));
  const iterating = (async () => {
    const got = [];
    for await (const m of dataConsumer.messages()) got.push(m);
    return got;
  })();
  serverDataConsumer.close();
  await closed;
  await observed;
  assert.equal(dataConsumer.closed, true);
  assert.equal(dataConsumer.readyState, 'closed');
  assert.deepEqual(await iterating, []);

  // ours closes its DataProducer: closed here, sending refused, no 'close' event
  let closeEvents = 0;
  dataProducer.on('close', () => closeEvents++);
  const producerObserved = new Promise((resolve) => dataProducer.observer.once('close', resolve));
  dataProducer.close();
  await producerObserved;
  assert.equal(dataProducer.closed, true);
  assert.equal(dataProducer.readyState, 'closed');
  assert.equal(dataProducer.bufferedAmount, 0);
  assert.throws(() => dataProducer.send('after close'), InvalidStateError);
  dataProducer.close();

  // a new pair on the same transports: stream ids move on, and work
  const next = await send.client.produceData();
  assert.equal(next.sctpStreamParameters.streamId, 1);
  const { dataConsumer: nextConsumer } = await consumeData(recv, next.id);
  await Promise.all([opened(next), opened(nextConsumer)]);
  const receiving = collect(nextConsumer, 1);
  next.send('again');
  assert.deepEqual(await receiving, ['again']);
  assert.equal(closeEvents, 0);

  // the server closes the DataProducer: its consumers close, ours gets 'close'
  const consumerClosed = new Promise((resolve) => nextConsumer.once('close', resolve));
  send.serverDataProducers.at(-1).close();
  await consumerClosed;

  // transport close: 'transportclose' on what is left, iterators end
  const last = await send.client.produceData();
  const { dataConsumer: lastConsumer } = await consumeData(recv, last.id);
  await Promise.all([opened(last), opened(lastConsumer)]);
  const lastIterating = (async () => {
    const got = [];
    for await (const m of lastConsumer.messages()) got.push(m);
    return got;
  })();
  const transportClosed = [
    new Promise((resolve) => last.once('transportclose', resolve)),
    new Promise((resolve) => lastConsumer.once('transportclose', resolve)),
  ];
  send.client.close();
  recv.client.close();
  await Promise.all(transportClosed);
  assert.deepEqual(await lastIterating, []);
  assert.equal(last.closed, true);
  assert.equal(lastConsumer.closed, true);
  assert.throws(() => last.send('x'), InvalidStateError);
  await assert.rejects(send.client.produceData(), InvalidStateError);
});

test('errors: by class, as mediasoup-client', async (t) => {
  const send = await transport(t, 'send');
  const recv = await transport(t, 'recv');
  const plain = await transport(t, 'send', { enableSctp: false });
  const plainRecv = await transport(t, 'recv', { enableSctp: false });
  await assert.rejects(recv.client.produceData(), UnsupportedError);
  await assert.rejects(send.client.consumeData({ id: 'a', dataProducerId: 'b', sctpStreamParameters: { streamId: 0 } }), UnsupportedError);
  await assert.rejects(plain.client.produceData(), (e) => e instanceof UnsupportedError && /SCTP not enabled/.test(e.message));
  await assert.rejects(
    plainRecv.client.consumeData({ id: 'a', dataProducerId: 'b', sctpStreamParameters: { streamId: 0 } }),
    UnsupportedError
  );
  await assert.rejects(send.client.produceData({ maxPacketLifeTime: 100, maxRetransmits: 1 }), TypeError);
  await assert.rejects(send.client.produceData({ maxRetransmits: -1 }), TypeError);
  await assert.rejects(send.client.produceData({ label: 1 }), TypeError);
  await assert.rejects(send.client.produceData({ appData: 'x' }), TypeError);
  await assert.rejects(recv.client.consumeData({ dataProducerId: 'b', sctpStreamParameters: { streamId: 0 } }), TypeError);
  await assert.rejects(recv.client.consumeData({ id: 'a', sctpStreamParameters: { streamId: 0 } }), TypeError);
  await assert.rejects(recv.client.consumeData({ id: 'a', dataProducerId: 'b' }), TypeError);
  await assert.rejects(recv.client.consumeData({ id: 'a', dataProducerId: 'b', sctpStreamParameters: {} }), TypeError);
  await assert.rejects(
    recv.client.consumeData({ id: 'a', dataProducerId: 'b', sctpStreamParameters: { streamId: 70000 } }),
    TypeError
  );
  // a transport given a TURN server runs on webrtc-rs' own driver, which carries no data here
  const turn = await transport(t, 'send', {
    through: (options) => ({ ...options, iceServers: [{ urls: 'turn:127.0.0.1:9', username: 'u', credential: 'c' }] }),
  });
  await assert.rejects(turn.client.produceData(), (e) => e instanceof UnsupportedError && /TURN/.test(e.message));
  // no producedata listener
  const { clientOptions } = await server.createWebRtcTransport({ enableSctp: true });
  const bare = device.createSendTransport(clientOptions);
  t.after(() => bare.close());
  bare.on('connect', () => {});
  await assert.rejects(bare.produceData(), (e) => e instanceof TypeError && /producedata/.test(e.message));
  // two data consumers on one stream
  const dataProducer = await send.client.produceData();
  const serverDataConsumer = await recv.serverTransport.consumeData({ dataProducerId: dataProducer.id });
  const options = {
    id: serverDataConsumer.id,
    dataProducerId: dataProducer.id,
    sctpStreamParameters: serverDataConsumer.sctpStreamParameters,
  };
  await recv.client.consumeData(options);
  await assert.rejects(recv.client.consumeData(options), InvalidStateError);
});
