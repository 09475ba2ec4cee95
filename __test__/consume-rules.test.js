'use strict';

// Consumers as mediasoup-client's, against the real router: one `connect` per transport, in
// the DTLS client role; several consumers (of several codecs) on one transport; errors by
// class; local pause and resume; close and reuse; transport close; stats; keyframe requests.

const test = require('node:test');
const assert = require('node:assert/strict');
const { createTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, until } = require('./helpers/server');
const { sendTransport, connected, pickCodec } = require('./helpers/codec-session');
const { makers, startWriter } = require('./helpers/codec-frames');
const { recvTransport, consume } = require('./helpers/recv-session');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// A producer of `mimeType` fed at 30 fps (keyframes every second and on request) until the
// test ends: its server producer and the writer.
async function source(t, mimeType = 'video/VP8') {
  const { transport, serverProducers } = await sendTransport(t, { server, device });
  const kind = mimeType.startsWith('audio') ? 'audio' : 'video';
  const track = createTrack({ kind });
  await transport.produce({ track, codec: pickCodec(device, mimeType) });
  await connected(transport);
  const writer = startWriter(track, makers[mimeType.toLowerCase()], { fps: 30, keyframeEvery: 30 });
  t.after(() => writer.stop());
  return { producer: serverProducers[0], writer };
}

// The next `n` frames of `track` (a frames() iterator, left afterwards).
async function nextFrames(track, n = 1, timeout = 5000) {
  const frames = [];
  let timer;
  const reading = (async () => {
    for await (const frame of track.frames()) {
      frames.push(frame);
      if (frames.length >= n) break;
    }
    return frames;
  })();
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${frames.length} of ${n} frames in ${timeout} ms`)), timeout);
  });
  try {
    return await Promise.race([reading, expired]);
  } finally {
    clearTimeout(timer);
  }
}

test('one connect, as DTLS client; consumers made in one tick (of two codecs) all receive', async (t) => {
  const vp8 = await source(t, 'video/VP8');
  const h264 = await source(t, 'video/H264');
  const opus = await source(t, 'audio/opus');
  for (const { producer } of [vp8, h264, opus]) {
    assert.equal(server.router.canConsume({ producerId: producer.id, rtpCapabilities: device.rtpCapabilities }), true);
  }
  const recv = await recvTransport(t, { server, device });
  const [a, b, c] = await Promise.all([
    consume({ ...recv, device }, vp8.producer.id),
    consume({ ...recv, device }, h264.producer.id),
    consume({ ...recv, device }, opus.producer.id),
  ]);
  assert.equal(recv.connects.length, 1);
  assert.equal(recv.connects[0].role, 'client');
  assert.deepEqual(
    [a, b, c].map(({ consumer }) => consumer.track.codec.mimeType),
    ['video/VP8', 'video/H264', 'audio/opus']
  );
  const first = await Promise.all([a, b, c].map(({ consumer }) => nextFrames(consumer.track, 3)));
  assert.ok(first[0][0].keyframe && first[1][0].keyframe, 'video starts at a keyframe');
  // a later consumer of another codec on the same transport, in a negotiation of its own
  const av1 = await source(t, 'video/AV1');
  const d = await consume({ ...recv, device }, av1.producer.id);
  assert.equal(d.consumer.track.codec.mimeType, 'video/AV1');
  await nextFrames(d.consumer.track, 3);
  await nextFrames(a.consumer.track, 3); // the first ones still receive
  assert.equal(recv.connects.length, 1);
  assert.equal(recv.transport.connectionState, 'connected');
});

test('bad consume() arguments are TypeErrors; an unsupported codec an UnsupportedError; the wrong transport an InvalidStateError', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const serverConsumer = await recv.serverTransport.consume({
    producerId: producer.id,
    rtpCapabilities: device.rtpCapabilities,
    paused: true,
  });
  const good = { id: serverConsumer.id, producerId: producer.id, kind: 'video', rtpParameters: serverConsumer.rtpParameters };
  await assert.rejects(recv.transport.consume({ ...good, id: undefined }), TypeError);
  await assert.rejects(recv.transport.consume({ ...good, producerId: '' }), TypeError);
  await assert.rejects(recv.transport.consume({ ...good, kind: 'data' }), TypeError);
  await assert.rejects(recv.transport.consume({ ...good, rtpParameters: null }), TypeError);
  // as mediasoup-client: no codec is a Producer this device cannot consume
  await assert.rejects(recv.transport.consume({ ...good, rtpParameters: { ...good.rtpParameters, codecs: [] } }), UnsupportedError);
  const unknownCodec = structuredClone(good.rtpParameters);
  unknownCodec.codecs[0].payloadType = 63;
  await assert.rejects(recv.transport.consume({ ...good, rtpParameters: unknownCodec }), UnsupportedError);
  // nothing above took a place: the good one works
  const consumer = await recv.transport.consume(good);
  await serverConsumer.resume();
  await nextFrames(consumer.track, 2);

  const send = await server.sendTransport(t, device);
  await assert.rejects(send.transport.consume(good), InvalidStateError);
  recv.transport.close();
  await assert.rejects(recv.transport.consume(good), InvalidStateError);
});

test('a refused connect rejects consume() with the application error; the next consume() connects', async (t) => {
  const { producer } = await source(t);
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createRecvTransport(clientOptions);
  t.after(() => transport.close());
  let refuse = true;
  let asked = 0;
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    asked++;
    if (refuse) errback(new Error('signalling down'));
    else serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  const recv = { transport, serverTransport };
  await assert.rejects(consume({ ...recv, device }, producer.id), /signalling down/);
  refuse = false;
  const { consumer } = await consume({ ...recv, device }, producer.id);
  assert.equal(asked, 2);
  await nextFrames(consumer.track, 2);
});

test('a batch refused while its offer is built leaves the transport as it was: the consumer consumed again receives', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  // two video consumers in one tick bring the probator section too; the second names the
  // first's mid (an application's mistake), which the offer cannot hold twice
  const first = await recv.serverTransport.consume({ producerId: producer.id, rtpCapabilities: device.rtpCapabilities, paused: true });
  const options = { id: first.id, producerId: producer.id, kind: first.kind, rtpParameters: first.rtpParameters };
  const results = await Promise.allSettled([
    recv.transport.consume(options),
    recv.transport.consume({ ...options, id: 'another-id' }),
  ]);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    assert.ok(result.reason instanceof TypeError, String(result.reason));
    assert.match(result.reason.message, /open already/);
  }
  const consumer = await recv.transport.consume(options);
  await first.resume();
  const frames = await nextFrames(consumer.track, 2);
  assert.equal(frames.length, 2);
});

test('pause() stops delivery locally (the server keeps sending); resume() delivers again from a keyframe', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer, serverConsumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 2);
  const paused = [];
  consumer.observer.on('pause', () => paused.push('pause'));
  consumer.observer.on('resume', () => paused.push('resume'));
  consumer.pause();
  assert.equal(consumer.paused, true);
  const before = consumer.track.stats().packets;
  const serverBefore = (await serverConsumer.getStats()).find((s) => s.type === 'outbound-rtp').packetCount;
  await until(async () => (await serverConsumer.getStats()).find((s) => s.type === 'outbound-rtp').packetCount > serverBefore + 30, {
    what: 'the server sends on',
  });
  assert.equal(consumer.track.stats().packets, before, 'nothing delivered while paused');
  const requests = consumer.track.stats().keyframeRequests;
  consumer.resume();
  const [first] = await nextFrames(consumer.track, 1);
  assert.equal(first.keyframe, true, 'resumes at a keyframe');
  assert.ok(consumer.track.stats().keyframeRequests > requests, 'a keyframe was asked for');
  assert.deepEqual(paused, ['pause', 'resume']);
});

test('close() ends the track; consumers closed and opened again on one transport keep receiving', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const steady = await consume({ ...recv, device }, producer.id);
  let freed = null;
  for (let i = 0; i < 8; i++) {
    const { consumer, serverConsumer } = await consume({ ...recv, device }, producer.id);
    // the section of the consumer closed before is given to this one (webrtc-rs keeps every
    // transceiver: new sections would make every packet dearer)
    if (freed !== null) assert.equal(consumer.localId, freed);
    freed = consumer.localId;
    await nextFrames(consumer.track, 2);
    const ended = new Promise((resolve) => consumer.track.once('ended', resolve));
    const closing = new Promise((resolve) => consumer.observer.once('close', resolve));
    const reading = (async () => {
      for await (const _ of consumer.track.frames());
      return 'iterator ended';
    })();
    consumer.close();
    serverConsumer.close();
    assert.equal(consumer.closed, true);
    assert.equal(consumer.track.readyState, 'ended');
    await Promise.all([ended, closing]);
    assert.equal(await reading, 'iterator ended');
    await assert.rejects(consumer.getStats(), InvalidStateError);
  }
  await nextFrames(steady.consumer.track, 3);
});

test('transport.close() closes its consumers: transportclose, tracks ended', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 1);
  const events = [];
  consumer.on('transportclose', () => events.push('transportclose'));
  consumer.track.on('ended', () => events.push('ended'));
  recv.transport.close();
  assert.equal(consumer.closed, true);
  assert.deepEqual(events.sort(), ['ended', 'transportclose']);
});

test('getStats() gives the receiver\'s inbound-rtp; requestKeyFrame() reaches the producer', async (t) => {
  const { producer, writer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 5);
  const stats = await consumer.getStats();
  const inbound = [...stats.values()].find((s) => s.type === 'inbound-rtp');
  assert.ok(inbound, 'an inbound-rtp entry');
  assert.ok(inbound.packetsReceived > 0, `packetsReceived ${inbound.packetsReceived}`);
  // as a browser's receiver stats: the frames, the codec and the transport it came through
  assert.ok(inbound.framesReceived >= 5, `framesReceived ${inbound.framesReceived}`);
  assert.equal(inbound.mid, consumer.rtpParameters.mid);
  const codec = stats.get(inbound.codecId);
  assert.equal(codec?.type, 'codec', inbound.codecId);
  assert.equal(codec.mimeType.toLowerCase(), 'video/vp8');
  assert.equal(codec.payloadType, consumer.rtpParameters.codecs[0].payloadType);
  assert.equal(stats.get(inbound.transportId)?.type, 'transport');
  assert.ok([...stats.values()].some((s) => s.type === 'candidate-pair'));
  const requests = writer.requests.length;
  await new Promise((resolve) => setTimeout(resolve, 350)); // past the rate limit of the start's request
  assert.equal(consumer.track.requestKeyFrame(), true);
  assert.equal(consumer.track.requestKeyFrame(), false, 'rate-limited');
  await until(() => writer.requests.length > requests, { what: 'a keyframe request at the producer' });
  const after = [...(await consumer.getStats()).values()].find((s) => s.type === 'inbound-rtp');
  assert.ok(after.pliCount >= 1, `pliCount ${after.pliCount}`);
  // the server's sender reports (one a second for video): what it says it sent
  let remote;
  await until(async () => {
    const now = await consumer.getStats();
    remote = [...now.values()].find((s) => s.type === 'remote-outbound-rtp');
    return remote !== undefined;
  }, { what: 'a remote-outbound-rtp entry' });
  assert.equal(remote.ssrc, inbound.ssrc);
  assert.equal(remote.localId, inbound.id);
  assert.ok(remote.packetsSent > 0 && remote.bytesSent > 0 && remote.reportsSent >= 1, JSON.stringify(remote));
});

test("a receive transport's getStats() counts every datagram, times in ms, and its pair names the server's candidate", async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer, serverConsumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 30);
  const before = Date.now();
  const stats = await recv.transport.getStats();
  const after = Date.now();
  const [sent] = (await serverConsumer.getStats()).filter((s) => s.type === 'outbound-rtp');
  const entries = [...stats.values()];
  const transport = entries.find((s) => s.type === 'transport');
  const pair = stats.get(transport?.selectedCandidatePairId);
  assert.ok(pair, JSON.stringify(entries.map((e) => e.id)));
  // the RTP the consumer received is read outside webrtc-rs' core: counted all the same
  for (const entry of [transport, pair]) {
    assert.ok(entry.packetsReceived >= 30, `${entry.type}: packetsReceived ${entry.packetsReceived}`);
    assert.ok(entry.bytesReceived >= sent.byteCount * 0.9, `${entry.type}: bytesReceived ${entry.bytesReceived}, the server sent ${sent.byteCount}`);
    // receiver reports and feedback, written outside the core too
    assert.ok(entry.packetsSent > 0 && entry.bytesSent > 0, `${entry.type}: sent ${entry.packetsSent}`);
  }
  // W3C times: ms since the epoch
  for (const entry of entries) {
    assert.ok(entry.timestamp >= before - 1000 && entry.timestamp <= after + 1000, `${entry.type} timestamp ${entry.timestamp}`);
  }
  assert.ok(pair.lastPacketReceivedTimestamp >= before - 1000 && pair.lastPacketReceivedTimestamp <= after + 1000, `lastPacketReceivedTimestamp ${pair.lastPacketReceivedTimestamp}`);
  // the pair's candidates are entries of the report: ours, and the server's
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  assert.equal(local?.type, 'local-candidate');
  assert.ok(local.usernameFragment);
  assert.equal(transport.iceLocalUsernameFragment, local.usernameFragment);
  assert.equal(remote?.type, 'remote-candidate', pair.remoteCandidateId);
  const [serverCandidate] = recv.serverTransport.iceCandidates.filter((c) => c.protocol === 'udp');
  assert.equal(remote.address, serverCandidate.address);
  assert.equal(remote.port, serverCandidate.port);
  assert.equal(remote.usernameFragment, recv.serverTransport.iceParameters.usernameFragment);
});

test('a reader that falls behind loses whole frames up to a keyframe, counted; frames carry the server\'s NTP time', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, producer.id);
  const iterator = consumer.track.frames();
  const first = await iterator.next();
  assert.equal(first.value.keyframe, true);
  // 64 frames fill the queue: ~2.1 s at 30 fps, and the server's sender reports come meanwhile
  await until(() => consumer.track.stats().framesDroppedReader > 10, { timeout: 8000, what: 'frames dropped for the reader' });
  const frames = [];
  for (let i = 0; i < 70; i++) frames.push((await iterator.next()).value);
  await iterator.return();
  // the queued frames, in order, then a keyframe: never a delta frame after the drop
  const resumed = frames.findIndex((f, i) => i > 0 && f.timestamp - frames[i - 1].timestamp > 40_000);
  assert.ok(resumed > 0, 'a jump in time where frames were dropped');
  assert.equal(frames[resumed].keyframe, true, 'reading resumes at a keyframe');
  for (let i = 1; i < resumed; i++) assert.ok(frames[i].timestamp - frames[i - 1].timestamp < 40_000, `frame ${i} follows`);
  const stats = consumer.track.stats();
  assert.equal(stats.packetsLost, 0, 'nothing was lost on the network');
  assert.ok(stats.keyframeRequests >= 1);
  // the server's NTP clock from its sender reports: it advances with the media
  const timed = frames.filter((f) => f.ntpTime !== undefined);
  assert.ok(timed.length >= 2, 'ntpTime once a sender report arrived');
  const [a, b] = [timed[0], timed[timed.length - 1]];
  // (the producer's media time and the server's clock drift apart a little: a writer on a timer)
  const media = (b.timestamp - a.timestamp) / 1000;
  assert.ok(media > 1000, `${media} ms of media with ntpTime`);
  assert.ok(Math.abs(b.ntpTime - a.ntpTime - media) < 0.1 * media, `ntpTime ${a.ntpTime} -> ${b.ntpTime} over ${media} ms`);
});

test('restartIce() on a receive transport: the consumers keep receiving', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 2);
  const iceParameters = await recv.serverTransport.restartIce();
  await recv.transport.restartIce({ iceParameters });
  const packets = consumer.track.stats().packets;
  await nextFrames(consumer.track, 10);
  assert.ok(consumer.track.stats().packets > packets);
  assert.equal(recv.transport.connectionState, 'connected');
  await assert.rejects(recv.transport.restartIce({}), TypeError);
});

test('the server consumer paused and resumed: frames stop, then start again at a keyframe', async (t) => {
  const { producer } = await source(t);
  const recv = await recvTransport(t, { server, device });
  const { consumer, serverConsumer } = await consume({ ...recv, device }, producer.id);
  await nextFrames(consumer.track, 3);
  await serverConsumer.pause();
  const packets = consumer.track.stats().packets;
  // the producer goes on: the server counts its packets while the client gets none
  const serverIn = (await producer.getStats())[0].packetCount;
  await until(async () => (await producer.getStats())[0].packetCount > serverIn + 30, { what: 'the producer sends on' });
  assert.ok(consumer.track.stats().packets <= packets + 2, 'nothing (but what was on its way) after the pause');
  await serverConsumer.resume();
  const [first] = await nextFrames(consumer.track, 1);
  assert.equal(first.keyframe, true, 'the server asks the producer for a keyframe on resume');
  assert.equal(consumer.paused, false);
});

test('a receive transport given a TURN server: UnsupportedError (receiving over TURN is not supported)', async (t) => {
  const { producer } = await source(t);
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createRecvTransport({
    ...clientOptions,
    iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
  });
  t.after(() => transport.close());
  let connects = 0;
  transport.on('connect', (_params, callback) => {
    connects++;
    callback();
  });
  await assert.rejects(consume({ transport, serverTransport, device }, producer.id), UnsupportedError);
  assert.equal(connects, 0, 'nothing was asked of the application');
});

test('close() while consume() waits for the application: it rejects with InvalidStateError', async (t) => {
  const { producer } = await source(t);
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createRecvTransport(clientOptions);
  let asked;
  const connectAsked = new Promise((resolve) => (asked = resolve));
  transport.on('connect', () => asked()); // never answers
  const consuming = consume({ transport, serverTransport, device }, producer.id);
  await connectAsked;
  transport.close();
  await assert.rejects(consuming, InvalidStateError);
  await assert.rejects(consume({ transport, serverTransport, device }, producer.id), InvalidStateError);
});
