'use strict';

// H.264, VP9 and AV1 producers against the real mediasoup worker: the codec picked with
// produce({ codec }) is the one the server producer gets, with its parameters; the server
// counts every packet written, scores the stream, and (H.264, VP9) sees exactly the keyframes
// that were written, read by the library from the bitstream.

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { createTrack } = require('..');
const { startServerAndDevice, producerCounters, until } = require('./helpers/server');
const { sendTransport, connected, pickCodec } = require('./helpers/codec-session');
const { makers, startWriter } = require('./helpers/codec-frames');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// Produces `mimeType` video picked from device.rtpCapabilities and writes 60 frames of
// 300..3000 bytes at 30 fps (a keyframe every 20 frames and on request; `keyframe` is not
// given to writeFrame, the library reads it from the bitstream); takes the server producer's
// first 'score' event, and waits for every written packet to be counted by the server.
async function produceAndStream(t, mimeType) {
  const keyframeTraces = [];
  const { transport, serverProducers } = await sendTransport(t, {
    server,
    device,
    onServerProducer: async (producer) => {
      await producer.enableTraceEvent(['keyframe']);
      producer.on('trace', (trace) => {
        if (trace.type === 'keyframe' && !trace.info?.isRtx) keyframeTraces.push(trace);
      });
    },
  });
  const codec = pickCodec(device, mimeType);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track, codec });
  const serverProducer = serverProducers[0];
  await connected(transport);

  const scored = once(serverProducer, 'score');
  const make = ({ keyframe }) => makers[mimeType.toLowerCase()]({ keyframe, size: 300 + Math.floor(Math.random() * 2700) });
  const writer = startWriter(track, make, { fps: 30, count: 60, keyframeEvery: 20, tellKeyframe: false });
  t.after(() => writer.stop());
  const [[score], written] = await Promise.all([scored, writer.done]);

  const packetsWritten = written.reduce((n, w) => n + w.packets, 0);
  const bytesWritten = written.reduce((n, w) => n + w.data.length, 0);
  const counters = await until(
    async () => {
      const c = await producerCounters(serverProducer);
      return c.packets >= packetsWritten && c;
    },
    { what: `the server to count the ${packetsWritten} packets written` }
  );
  return { producer, serverProducer, codec, score, written, packetsWritten, bytesWritten, counters, keyframeTraces };
}

// The server scored the one stream, and counted every packet and at least every byte written.
function assertCountedAndScored(r) {
  assert.ok(Array.isArray(r.score) && r.score.length === 1, `one stream scored: ${JSON.stringify(r.score)}`);
  assert.ok(r.score[0].score > 0, `server score ${JSON.stringify(r.score)}`);
  assert.equal(r.counters.packets, r.packetsWritten, 'packets counted by the server');
  assert.ok(r.counters.bytes >= r.bytesWritten, `${r.counters.bytes} bytes counted, ${r.bytesWritten} written`);
}

// Each keyframe written is seen by the server as exactly one keyframe packet (the first
// packet of a VP9 keyframe has B=1, P=0; the H.264 keyframe's first packet holds its SPS),
// and no delta frame is taken for a keyframe.
function assertKeyframesSeen(written, keyframeTraces) {
  const keyframes = written.filter((w) => w.keyframe).length;
  assert.ok(keyframes >= 2 && keyframes < written.length, `${keyframes} keyframes in ${written.length} frames`);
  assert.equal(keyframeTraces.length, keyframes, 'keyframes seen by the server');
}

test('H264 (42e01f, packetization-mode 1) picked with codec: accepted, counted, scored, keyframes seen', async (t) => {
  const r = await produceAndStream(t, 'video/H264');
  assert.equal(r.codec.parameters['profile-level-id'], '42e01f');

  const sent = r.producer.rtpParameters.codecs[0];
  assert.equal(sent.mimeType.toLowerCase(), 'video/h264');
  assert.equal(sent.parameters['profile-level-id'], '42e01f');
  assert.equal(Number(sent.parameters['packetization-mode']), 1);

  const [serverCodec, rtx] = r.serverProducer.rtpParameters.codecs;
  assert.equal(serverCodec.mimeType.toLowerCase(), 'video/h264');
  assert.equal(serverCodec.clockRate, 90000);
  assert.equal(serverCodec.parameters['profile-level-id'], '42e01f');
  assert.equal(Number(serverCodec.parameters['packetization-mode']), 1);
  assert.equal(rtx?.mimeType.toLowerCase(), 'video/rtx');
  assert.equal(rtx.parameters.apt, serverCodec.payloadType);

  assertCountedAndScored(r);
  assertKeyframesSeen(r.written, r.keyframeTraces);
});

test('VP9 (profile-id 0) picked with codec: accepted, counted, scored, keyframes seen', async (t) => {
  const r = await produceAndStream(t, 'video/VP9');
  const sent = r.producer.rtpParameters.codecs[0];
  assert.equal(sent.mimeType.toLowerCase(), 'video/vp9');

  const [serverCodec, rtx] = r.serverProducer.rtpParameters.codecs;
  assert.equal(serverCodec.mimeType.toLowerCase(), 'video/vp9');
  assert.equal(serverCodec.clockRate, 90000);
  assert.equal(Number(serverCodec.parameters['profile-id']), 0);
  assert.equal(rtx?.mimeType.toLowerCase(), 'video/rtx');
  assert.equal(rtx.parameters.apt, serverCodec.payloadType);

  assertCountedAndScored(r);
  assertKeyframesSeen(r.written, r.keyframeTraces);
});

// mediasoup 3.19.3 reads AV1 frame boundaries and keyframes only from the dependency
// descriptor header extension (RTC/Codecs/AV1.cpp: no descriptor, no payload descriptor),
// which this client does not negotiate (webrtc-rs does not offer it). So the server cannot
// tell an AV1 keyframe here, and that is not asserted; it does accept the stream, count it
// and score it, and since AV1 "cannot be a keyframe" to it (Codecs::Tools::CanBeKeyFrame),
// its consumers forward from the first packet (integrity.test.js checks the bytes).
test('AV1 picked with codec: accepted, counted, scored (no keyframe detection without dependency descriptor)', async (t) => {
  const r = await produceAndStream(t, 'video/AV1');
  const sent = r.producer.rtpParameters.codecs[0];
  assert.equal(sent.mimeType.toLowerCase(), 'video/av1');

  const [serverCodec] = r.serverProducer.rtpParameters.codecs;
  assert.equal(serverCodec.mimeType.toLowerCase(), 'video/av1');
  assert.equal(serverCodec.clockRate, 90000);

  assertCountedAndScored(r);
});

test('codec: a codec the device does not have is a TypeError, as in mediasoup-client', async (t) => {
  const { transport, serverProducers } = await sendTransport(t, { server, device });
  const bogus = { kind: 'video', mimeType: 'video/H265', clockRate: 90000, preferredPayloadType: 120 };
  await assert.rejects(transport.produce({ track: createTrack({ kind: 'video' }), codec: bogus }), {
    name: 'TypeError',
    message: /no matching codec found/,
  });
  assert.equal(serverProducers.length, 0, 'no produce event');
});
