'use strict';

// The send path end to end: a Device, a SendTransport and Producers against the real mediasoup
// worker on 127.0.0.1, checked by what the server sees.

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { createTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, producerCounters, serverReceives, serverStops, until } = require('./helpers/server');
const { feed } = require('./helpers/media');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// A client send transport wired to a fresh server transport.
const sendTransport = (t) => server.sendTransport(t, device);

test('VP8: connect once, connected, the server counts packets and scores the producer', async (t) => {
  const { transport, connects, serverProducers } = await sendTransport(t);
  const states = [];
  transport.on('connectionstatechange', (s) => states.push(s));
  const connected = once(transport, 'connectionstatechange').then(function wait([s]) {
    return s === 'connected' ? s : once(transport, 'connectionstatechange').then(wait);
  });

  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track, appData: { who: 'bot' } });
  const feeder = feed(track);
  t.after(() => feeder.stop());

  assert.equal(producer.id, serverProducers[0].id);
  assert.equal(producer.kind, 'video');
  assert.equal(producer.track, track);
  assert.equal(producer.paused, false);
  assert.equal(producer.closed, false);
  assert.deepEqual(producer.appData, { who: 'bot' });
  assert.equal(producer.rtpParameters.codecs[0].mimeType.toLowerCase(), 'video/vp8');
  assert.equal(connects.length, 1);
  assert.equal(connects[0].role, 'client');

  await connected;
  assert.equal(transport.connectionState, 'connected');
  const scored = once(serverProducers[0], 'score');
  const counters = await serverReceives(serverProducers[0]);
  assert.ok(counters.bytes > 0);
  const [score] = await scored;
  assert.ok(score[0].score > 0, `server score ${JSON.stringify(score)}`);

  // a second producer does not connect again
  const audio = createTrack({ kind: 'audio' });
  await transport.produce({ track: audio });
  assert.equal(connects.length, 1);
});

test('Opus with codecOptions: the server producer carries the fmtp values', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'audio' });
  const producer = await transport.produce({
    track,
    codecOptions: { opusStereo: true, opusFec: true, opusDtx: true, opusMaxPlaybackRate: 48000, opusPtime: 20 },
  });
  const feeder = feed(track, { fps: 50 });
  t.after(() => feeder.stop());
  const params = serverProducers[0].rtpParameters.codecs[0].parameters;
  assert.equal(Number(params['sprop-stereo']), 1);
  assert.equal(Number(params.useinbandfec), 1);
  assert.equal(Number(params.usedtx), 1);
  assert.equal(producer.rtpParameters.codecs[0].mimeType.toLowerCase(), 'audio/opus');
  await serverReceives(serverProducers[0]);
});

test('pause() stops the media at the server, resume() restarts it', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);

  const events = [];
  producer.observer.on('pause', () => events.push('pause'));
  producer.observer.on('resume', () => events.push('resume'));
  producer.pause();
  assert.equal(producer.paused, true);
  assert.equal(track.enabled, false);
  await serverStops(serverProducers[0]);

  producer.resume();
  assert.equal(producer.paused, false);
  assert.equal(track.enabled, true);
  await serverReceives(serverProducers[0]);
  assert.deepEqual(events, ['pause', 'resume']);
});

test('replaceTrack switches the source without a new produce; null then a track again', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const first = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track: first, stopTracks: false });
  const feedFirst = feed(first);
  t.after(() => feedFirst.stop());
  await serverReceives(serverProducers[0]);

  const second = createTrack({ kind: 'video' });
  await producer.replaceTrack({ track: second });
  assert.equal(producer.track, second);
  assert.equal(first.readyState, 'live', 'stopTracks: false keeps the old track');
  assert.throws(() => first.writeFrame(Buffer.alloc(10)), InvalidStateError);
  const feedSecond = feed(second);
  t.after(() => feedSecond.stop());
  await serverReceives(serverProducers[0]);

  await producer.replaceTrack({ track: null });
  assert.equal(producer.track, null);
  const third = createTrack({ kind: 'video' });
  await producer.replaceTrack({ track: third });
  const feedThird = feed(third);
  t.after(() => feedThird.stop());
  await serverReceives(serverProducers[0]);
  assert.equal(serverProducers.length, 1, 'no new produce event');

  await assert.rejects(producer.replaceTrack({ track: createTrack({ kind: 'audio' }) }), TypeError);
  const ended = createTrack({ kind: 'video' });
  ended.stop();
  await assert.rejects(producer.replaceTrack({ track: ended }), InvalidStateError);
});

test('VP8 simulcast: three streams at the server; setMaxSpatialLayer(0) stops r1 and r2, (2) restores them', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({
    track,
    encodings: [{ maxBitrate: 100000 }, { maxBitrate: 300000 }, { maxBitrate: 900000 }],
  });
  assert.deepEqual(producer.rtpParameters.encodings.map((e) => e.rid), ['r0', 'r1', 'r2']);
  const feeder = feed(track, { layers: 3 });
  t.after(() => feeder.stop());
  const all = await until(async () => {
    const c = await producerCounters(serverProducers[0]);
    return c.streams === 3 && Object.values(c.byRid).every((s) => s.packetCount > 10) && c;
  }, { what: 'packets on r0, r1 and r2' });
  assert.deepEqual(Object.keys(all.byRid).sort(), ['r0', 'r1', 'r2']);

  await producer.setMaxSpatialLayer(0);
  assert.equal(producer.maxSpatialLayer, 0);
  let prev;
  const stopped = await until(async () => {
    const c = await producerCounters(serverProducers[0]);
    const now = { r1: c.byRid.r1.packetCount, r2: c.byRid.r2.packetCount };
    const same = prev && prev.r1 === now.r1 && prev.r2 === now.r2;
    prev = now;
    return same && { now, r0: c.byRid.r0.packetCount };
  }, { interval: 300, what: 'r1 and r2 to stop' });
  await serverReceives(serverProducers[0]); // r0 goes on
  const after = await producerCounters(serverProducers[0]);
  assert.equal(after.byRid.r1.packetCount, stopped.now.r1);
  assert.equal(after.byRid.r2.packetCount, stopped.now.r2);
  assert.ok(after.byRid.r0.packetCount > stopped.r0);

  await producer.setMaxSpatialLayer(2);
  await until(async () => {
    const c = await producerCounters(serverProducers[0]);
    return c.byRid.r2.packetCount > stopped.now.r2 + 10 && c.byRid.r1.packetCount > stopped.now.r1 + 10;
  }, { what: 'r1 and r2 to come back' });

  await assert.rejects(producer.setMaxSpatialLayer('1'), TypeError);
});

test('setMaxSpatialLayer on audio is an UnsupportedError', async (t) => {
  const { transport } = await sendTransport(t);
  const producer = await transport.produce({ track: createTrack({ kind: 'audio' }) });
  await assert.rejects(producer.setMaxSpatialLayer(0), UnsupportedError);
});

test('produce() argument and state errors', async (t) => {
  const { transport } = await sendTransport(t);
  await assert.rejects(transport.produce({}), TypeError);
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'video' }), appData: 'x' }), TypeError);
  const ended = createTrack({ kind: 'video' });
  ended.stop();
  await assert.rejects(transport.produce({ track: ended }), InvalidStateError);

  const { clientOptions } = await server.createWebRtcTransport();
  const bare = device.createSendTransport(clientOptions);
  t.after(() => bare.close());
  await assert.rejects(bare.produce({ track: createTrack({ kind: 'video' }) }), /no "connect" listener/);
  bare.on('connect', (_p, cb) => cb());
  await assert.rejects(bare.produce({ track: createTrack({ kind: 'video' }) }), /no "produce" listener/);
  bare.close();
  await assert.rejects(bare.produce({ track: createTrack({ kind: 'video' }) }), InvalidStateError);
});

test('the app rejecting produce rejects produce() and leaves nothing behind', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  transport.on('connect', ({ dtlsParameters }, cb, eb) => serverTransport.connect({ dtlsParameters }).then(cb, eb));
  let refuse = true;
  transport.on('produce', ({ kind, rtpParameters }, cb, eb) => {
    if (refuse) return eb(new Error('no room for you'));
    serverTransport.produce({ kind, rtpParameters }).then((p) => cb({ id: p.id }), eb);
  });
  const track = createTrack({ kind: 'video' });
  await assert.rejects(transport.produce({ track, stopTracks: false }), /no room for you/);
  assert.throws(() => track.writeFrame(Buffer.alloc(10)), InvalidStateError, 'the track is not producing');
  refuse = false;
  const producer = await transport.produce({ track });
  assert.equal(producer.closed, false);

  // with stopTracks (the default) a failed produce() stops the track, as mediasoup-client
  refuse = true;
  const stopped = createTrack({ kind: 'video' });
  await assert.rejects(transport.produce({ track: stopped }), /no room for you/);
  assert.equal(stopped.readyState, 'ended');
});

test('transport.close() closes its live producers with transportclose; no event after close', async (t) => {
  const { transport } = await sendTransport(t);
  const a = await transport.produce({ track: createTrack({ kind: 'video' }) });
  const b = await transport.produce({ track: createTrack({ kind: 'audio' }) });
  b.close();
  const seen = [];
  a.on('transportclose', () => seen.push('a'));
  b.on('transportclose', () => seen.push('b'));
  a.observer.on('close', () => seen.push('a-observer'));
  transport.on('connectionstatechange', (s) => seen.push(`state:${s}`));
  const trackOfA = a.track;
  transport.close();
  assert.deepEqual(seen, ['a', 'a-observer']);
  assert.equal(a.closed, true);
  assert.equal(trackOfA.readyState, 'ended', 'stopTracks (default) stops the track');
  assert.equal(transport.connectionState, 'closed');
  await assert.rejects(a.getStats(), InvalidStateError);
  await assert.rejects(transport.getStats(), InvalidStateError);
});

test('getStats() gives W3C stats: outbound-rtp with packetsSent, bytesSent, ssrc, kind', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);
  const stats = await producer.getStats();
  assert.ok(stats instanceof Map);
  const outbound = [...stats.values()].filter((s) => s.type === 'outbound-rtp');
  assert.equal(outbound.length, 1);
  assert.ok(outbound[0].packetsSent > 0);
  assert.ok(outbound[0].bytesSent > 0);
  assert.equal(outbound[0].kind, 'video');
  assert.equal(outbound[0].ssrc, producer.rtpParameters.encodings[0].ssrc);
  const codec = stats.get(outbound[0].codecId);
  assert.equal(codec?.type, 'codec', outbound[0].codecId);
  assert.equal(codec.mimeType, producer.rtpParameters.codecs[0].mimeType);
  assert.equal(codec.payloadType, producer.rtpParameters.codecs[0].payloadType);
  // times in ms since the epoch; the pair the media goes through names both its candidates
  for (const entry of stats.values()) assert.ok(Math.abs(entry.timestamp - Date.now()) < 60_000, `${entry.type} timestamp ${entry.timestamp}`);
  const pair = stats.get([...stats.values()].find((s) => s.type === 'transport')?.selectedCandidatePairId);
  assert.equal(stats.get(pair?.localCandidateId)?.type, 'local-candidate');
  assert.equal(stats.get(pair?.remoteCandidateId)?.type, 'remote-candidate', pair?.remoteCandidateId);
  const transportStats = await transport.getStats();
  assert.ok([...transportStats.values()].some((s) => s.type === 'transport' || s.type === 'candidate-pair'));
});

test('concurrent produce() calls are serialized: all succeed, connect fires once', async (t) => {
  const { transport, connects, serverProducers } = await sendTransport(t);
  const tracks = [createTrack({ kind: 'video' }), createTrack({ kind: 'audio' }), createTrack({ kind: 'video' })];
  const producers = await Promise.all(tracks.map((track) => transport.produce({ track })));
  assert.equal(connects.length, 1);
  assert.deepEqual(
    producers.map((p) => p.id),
    serverProducers.map((p) => p.id)
  );
  assert.equal(new Set(producers.map((p) => p.rtpParameters.mid)).size, 3, 'one m-section each');
});

test('a closed producer: no media, and its operations are InvalidStateErrors', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track, stopTracks: false });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);
  const closed = once(producer.observer, 'close');
  producer.close();
  await closed;
  assert.equal(producer.closed, true);
  assert.equal(track.readyState, 'live', 'stopTracks: false');
  assert.throws(() => track.writeFrame(Buffer.alloc(10)), InvalidStateError, 'the track feeds no producer');
  await assert.rejects(producer.replaceTrack({ track: createTrack({ kind: 'video' }) }), InvalidStateError);
  await assert.rejects(producer.setMaxSpatialLayer(0), InvalidStateError);
  await assert.rejects(producer.setRtpEncodingParameters({ active: true }), InvalidStateError);
  await assert.rejects(producer.getStats(), InvalidStateError);
  producer.close(); // idempotent
  const settled = await serverStops(serverProducers[0]);
  assert.ok(settled.packets > 0);
});

test('setRtpEncodingParameters({ active: false }) stops the media, active: true restarts it', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);
  await producer.setRtpEncodingParameters({ active: false, maxBitrate: 500000 });
  assert.equal(producer.rtpParameters.encodings[0].maxBitrate, 500000);
  await serverStops(serverProducers[0]);
  await producer.setRtpEncodingParameters({ active: true });
  await serverReceives(serverProducers[0]);
  await assert.rejects(producer.setRtpEncodingParameters('x'), TypeError);
});

test('a stopped track cannot be written; writeFrame checks its arguments', async (t) => {
  const { transport } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  assert.throws(() => track.writeFrame('not a buffer'), TypeError);
  assert.throws(() => track.writeFrame(Buffer.alloc(10), { timestamp: -1 }), TypeError);
  assert.throws(() => track.writeFrame(Buffer.alloc(10), { layer: 1.5 }), TypeError);
  track.stop();
  assert.equal(track.readyState, 'ended');
  assert.throws(() => track.writeFrame(Buffer.alloc(10)), InvalidStateError);
  assert.throws(() => createTrack({ kind: 'chicken' }), TypeError);
});

test('one transport carries producers of different video codecs (VP8, H264, VP9)', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const feeders = [];
  t.after(() => feeders.forEach((f) => f.stop()));
  const { h264AccessUnit, vp9Frame } = require('./helpers/codec-frames');
  const makers = {
    'video/vp8': undefined,
    'video/h264': ({ keyframe }) => h264AccessUnit({ keyframe }),
    'video/vp9': ({ keyframe }) => vp9Frame({ keyframe }),
  };
  for (const [mime, make] of Object.entries(makers)) {
    const codec = device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === mime);
    const track = createTrack({ kind: 'video' });
    const producer = await transport.produce({ track, codec });
    assert.equal(producer.rtpParameters.codecs[0].mimeType.toLowerCase(), mime);
    feeders.push(feed(track, { make }));
  }
  for (const [i, mime] of Object.keys(makers).entries()) {
    assert.equal(serverProducers[i].rtpParameters.codecs[0].mimeType.toLowerCase(), mime);
    await serverReceives(serverProducers[i]);
  }
});
