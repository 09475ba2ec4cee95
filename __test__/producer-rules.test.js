'use strict';

// What the reference clients define for a Producer and its track, and the argument checks of
// every option that reaches the native layer, against the real mediasoup worker on 127.0.0.1.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { once } = require('node:events');
const { Device, createTrack, createFileTrack, InvalidStateError } = require('..');
const { startServerAndDevice, serverReceives } = require('./helpers/server');
const { feed, vp8Frame } = require('./helpers/media');

const samples = path.join(__dirname, '..', 'samples');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

const sendTransport = (t) => server.sendTransport(t, device);

test('a disabled track gives a paused producer that sends nothing until resume()', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  track.enabled = false;
  const producer = await transport.produce({ track });
  assert.equal(producer.paused, true);
  assert.equal(track.enabled, false, 'produce() leaves the track disabled');
  assert.equal(track.writeFrame(vp8Frame({ keyframe: true })), 0, 'no packet leaves a paused producer');

  producer.resume();
  assert.equal(producer.paused, false);
  assert.equal(track.enabled, true);
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);
});

test('with disableTrackOnPause: false a disabled track does not pause the producer', async (t) => {
  const { transport } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  track.enabled = false;
  const producer = await transport.produce({ track, disableTrackOnPause: false });
  assert.equal(producer.paused, false);
  assert.equal(track.enabled, false);
});

test('rtpParameters are normalized as mediasoup-client does: dtx on each encoding, rtcp.reducedSize', async (t) => {
  const { transport } = await sendTransport(t);
  const signalled = [];
  transport.prependListener('produce', ({ rtpParameters }) => signalled.push(rtpParameters));
  const video = await transport.produce({
    track: createTrack({ kind: 'video' }),
    encodings: [{ maxBitrate: 100000 }, { maxBitrate: 300000 }],
  });
  const audio = await transport.produce({ track: createTrack({ kind: 'audio' }) });
  for (const rtpParameters of [...signalled, video.rtpParameters, audio.rtpParameters]) {
    assert.ok(rtpParameters.encodings.length > 0);
    for (const encoding of rtpParameters.encodings) assert.equal(encoding.dtx, false);
    assert.equal(rtpParameters.rtcp.reducedSize, true);
  }
  assert.deepEqual(signalled[0], video.rtpParameters);
});

test('a refused replaceTrack() leaves the producer exactly as it was', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducers[0]);

  // a VP9 file cannot feed a VP8 producer
  const vp9 = await createFileTrack(path.join(samples, 'vp9.ivf'));
  t.after(() => vp9.stop());
  await assert.rejects(producer.replaceTrack({ track: vp9 }), InvalidStateError);
  assert.equal(producer.track, track);
  assert.equal(track.readyState, 'live');
  assert.equal(vp9.readyState, 'live', 'the refused track is not the producer\'s to stop');
  await serverReceives(serverProducers[0]);
});

test('replaceTrack() on a closed producer stops the given track (stopTracks) and rejects', async (t) => {
  const { transport } = await sendTransport(t);
  const producer = await transport.produce({ track: createTrack({ kind: 'video' }) });
  producer.close();
  const given = createTrack({ kind: 'video' });
  await assert.rejects(producer.replaceTrack({ track: given }), InvalidStateError);
  assert.equal(given.readyState, 'ended');

  const kept = createTrack({ kind: 'video' });
  const other = await transport.produce({ track: createTrack({ kind: 'video' }), stopTracks: false });
  other.close();
  await assert.rejects(other.replaceTrack({ track: kept }), InvalidStateError);
  assert.equal(kept.readyState, 'live', 'stopTracks: false leaves it to the program');
});

test('a track that feeds a producer is refused by another produce() and keeps feeding the first', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await assert.rejects(transport.produce({ track }), /already in use/);
  assert.equal(track.readyState, 'live');
  assert.equal(serverProducers.length, 1);
  await serverReceives(serverProducers[0]);

  // and by replaceTrack() of another producer
  const second = await transport.produce({ track: createTrack({ kind: 'video' }) });
  await assert.rejects(second.replaceTrack({ track }), /already in use/);
  assert.equal(track.readyState, 'live');
  await serverReceives(serverProducers[0]);
});

test("keyframerequest at produce() says 'start'; after resume() 'resume'", async (t) => {
  const { transport } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  const first = once(track, 'keyframerequest');
  const producer = await transport.produce({ track });
  assert.deepEqual(await first, [0, 'start']);
  producer.pause();
  const resumed = once(track, 'keyframerequest');
  producer.resume();
  assert.deepEqual(await resumed, [0, 'resume']);
});

test('setMaxSpatialLayer takes integers in range only', async (t) => {
  const { transport } = await sendTransport(t);
  const producer = await transport.produce({
    track: createTrack({ kind: 'video' }),
    encodings: [{}, {}, {}],
  });
  for (const bad of [NaN, Infinity, -Infinity, 1.5, -1, 3, '1', null]) {
    await assert.rejects(producer.setMaxSpatialLayer(bad), TypeError, String(bad));
    assert.equal(producer.maxSpatialLayer, undefined);
  }
  await producer.setMaxSpatialLayer(1);
  assert.equal(producer.maxSpatialLayer, 1);
});

test('writeFrame range-checks its options before they reach the native layer', async (t) => {
  const { transport } = await sendTransport(t);
  const track = createTrack({ kind: 'video' });
  await transport.produce({ track });
  const frame = vp8Frame({ keyframe: true });
  for (const options of [
    { layer: 2 ** 32 + 1 },
    { layer: 2 ** 32 },
    { layer: -1 },
    { layer: NaN },
    { timestamp: Infinity },
    { timestamp: NaN },
    { duration: Infinity },
    { duration: -1 },
    { keyframe: 'yes' },
    { keyframe: 1 },
  ]) {
    assert.throws(() => track.writeFrame(frame, options), TypeError, JSON.stringify(options));
  }
  // a layer in range of u32 but beyond the producer's encodings is refused by the producer
  assert.throws(() => track.writeFrame(frame, { layer: 1 }), TypeError);
  assert.ok(track.writeFrame(frame, { layer: 0, timestamp: 0, keyframe: true }) > 0);
});

test('NaN and Infinity inside option objects are TypeErrors naming the field', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  t.after(() => serverTransport.close());
  const withPort = structuredClone(clientOptions);
  withPort.iceCandidates[0].port = NaN;
  assert.throws(() => device.createSendTransport(withPort), { name: 'TypeError', message: /iceCandidates\[0\]\.port/ });
  const withPriority = structuredClone(clientOptions);
  withPriority.iceCandidates[0].priority = Infinity;
  assert.throws(() => device.createSendTransport(withPriority), { name: 'TypeError', message: /priority/ });

  const { transport } = await sendTransport(t);
  const cases = [
    [{ encodings: [{ maxBitrate: NaN }] }, /encodings\[0\]\.maxBitrate/],
    [{ encodings: [{ maxFramerate: Infinity }] }, /maxFramerate/],
    [{ encodings: [{ scaleResolutionDownBy: -Infinity }] }, /scaleResolutionDownBy/],
    [{ codecOptions: { videoGoogleStartBitrate: NaN } }, /codecOptions\.videoGoogleStartBitrate/],
  ];
  for (const [options, message] of cases) {
    const track = createTrack({ kind: 'video' });
    await assert.rejects(transport.produce({ track, ...options }), { name: 'TypeError', message });
    assert.equal(track.readyState, 'live', 'an argument error does not stop the track');
  }
  const producer = await transport.produce({ track: createTrack({ kind: 'video' }) });
  await assert.rejects(producer.setRtpEncodingParameters({ maxBitrate: NaN }), { name: 'TypeError', message: /maxBitrate/ });
  await assert.rejects(
    transport.restartIce({ iceParameters: { ...clientOptions.iceParameters, extra: NaN } }),
    { name: 'TypeError', message: /iceParameters\.extra/ }
  );
  await assert.rejects(
    new Device().load({ routerRtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: NaN }] } }),
    { name: 'TypeError', message: /routerRtpCapabilities\.codecs\[0\]\.clockRate must be a finite number \(got NaN\)/ }
  );
});

test('async listeners that answer through the callback (socket.io style) are waited for', async (t) => {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createSendTransport(clientOptions);
  t.after(() => transport.close());
  const order = [];
  transport.on('connect', async ({ dtlsParameters }, callback, errback) => {
    // the Promise resolves at once; the answer comes later through the callback
    serverTransport.connect({ dtlsParameters }).then(() => {
      order.push('connect answered');
      callback();
    }, errback);
  });
  let serverProducer;
  transport.on('produce', async ({ kind, rtpParameters }, callback) => {
    order.push('produce');
    serverProducer = await serverTransport.produce({ kind, rtpParameters });
    setImmediate(() => callback({ id: serverProducer.id }));
  });
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  assert.equal(producer.id, serverProducer.id);
  assert.deepEqual(order, ['connect answered', 'produce']);
  const feeder = feed(track);
  t.after(() => feeder.stop());
  await serverReceives(serverProducer);

  // a listener that does not take the callback answers with its Promise, undefined included
  transport.removeAllListeners('produce');
  transport.on('produce', async () => undefined);
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'audio' }) }), /must be given \{ id \}/);
});
