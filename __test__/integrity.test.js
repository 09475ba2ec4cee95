'use strict';

// Data integrity end to end: what a program writes to a track is what a server-side consumer
// gets. A DirectTransport consumer of the server producer collects the RTP that mediasoup
// forwards; the packets are depacketized (helpers/depacketize.js) and compared with the frames
// written, byte for byte and in order, with their RTP timestamps (microseconds written ->
// codec clock ticks) and contiguous sequence numbers.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { createTrack } = require('..');
const { startServerAndDevice, until } = require('./helpers/server');
const { sendTransport, connected, pickCodec } = require('./helpers/codec-session');
const { makers, startWriter } = require('./helpers/codec-frames');
const { parseRtp, framesOf } = require('./helpers/depacketize');

const MTU = 1200; // the library's largest RTP payload

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

function randomInt(min, max) {
  return min + crypto.randomInt(max - min + 1);
}

// Produces `mimeType`, waits for the transport to connect, creates the server consumer, and
// only then writes `count` frames made by `make` (keyframes on frame 0, every `keyframeEvery`
// and on request) with timestamps from `nextTimestamp`. Resolves once the consumer has every
// frame, with what was written and what was received.
async function roundTrip(t, { mimeType, kind, count = 60, fps = 50, keyframeEvery = 25, make, nextTimestamp }) {
  const { transport, serverProducers } = await sendTransport(t, { server, device });
  const track = createTrack({ kind });
  const producer = await transport.produce({ track, codec: pickCodec(device, mimeType) });
  assert.equal(producer.rtpParameters.codecs[0].mimeType.toLowerCase(), mimeType.toLowerCase());
  await connected(transport);

  const rtp = [];
  const { consumer } = await server.consumeDirect(serverProducers[0], (packet) => rtp.push(Buffer.from(packet)));
  t.after(() => consumer.close());
  assert.equal(rtp.length, 0, 'nothing forwarded before anything is written');

  const writer = startWriter(track, make, { fps, count, keyframeEvery, nextTimestamp });
  t.after(() => writer.stop());
  const written = await writer.done;
  const frames = await until(
    () => {
      const f = framesOf(mimeType, rtp).filter((frame) => frame.complete);
      return f.length >= written.length && f;
    },
    { what: `${written.length} frames at the consumer`, timeout: 10000 }
  );
  const packets = rtp.map(parseRtp);
  return { consumer, written, frames, packets, clockRate: consumer.rtpParameters.codecs[0].clockRate };
}

// The checks every codec shares: same frames, same bytes, same order, nothing extra; one
// stream (SSRC, payload type) with contiguous sequence numbers; RTP timestamps advancing as
// the microseconds written, at the codec clock; as many packets per frame as writeFrame said.
function assertSameFrames({ consumer, written, frames, packets, clockRate }, { expected = (w) => w.data } = {}) {
  assert.equal(frames.length, written.length, 'frames received');
  for (let i = 0; i < written.length; i++) {
    const want = expected(written[i]);
    assert.ok(
      frames[i].data.equals(want),
      `frame ${i} (${written[i].keyframe ? 'key' : 'delta'}, ${want.length} bytes) differs: got ${frames[i].data.length} bytes`
    );
    assert.equal(frames[i].packets.length, written[i].packets, `packets of frame ${i}`);
  }

  const [{ ssrc, payloadType }] = packets;
  assert.equal(ssrc, consumer.rtpParameters.encodings[0].ssrc);
  assert.equal(payloadType, consumer.rtpParameters.codecs[0].payloadType);
  for (let i = 1; i < packets.length; i++) {
    assert.equal(packets[i].ssrc, ssrc, `SSRC of packet ${i}`);
    assert.equal(packets[i].payloadType, payloadType, `payload type of packet ${i}`);
    assert.equal((packets[i].sequenceNumber - packets[i - 1].sequenceNumber) & 0xffff, 1, `sequence number of packet ${i}`);
  }

  for (let i = 1; i < written.length; i++) {
    const ticks = ((frames[i].timestamp - frames[0].timestamp) >>> 0) >>> 0;
    const want = Math.floor(((written[i].timestamp - written[0].timestamp) * clockRate) / 1e6);
    assert.ok(Math.abs(ticks - want) <= 1, `RTP timestamp of frame ${i}: +${ticks} ticks, wrote +${want}`);
  }
}

// A packet never carries more than the MTU of payload (+ `grown`: bytes the server adds), and
// frames larger than it were split.
function assertSplit({ frames }, { grown = 0 } = {}) {
  const sizes = frames.flatMap((f) => f.packets.map((p) => p.payload.length));
  assert.ok(Math.max(...sizes) <= MTU + grown, `largest payload ${Math.max(...sizes)} bytes`);
  assert.ok(frames.some((f) => f.packets.length >= 4), 'some frames went out in 4 packets or more');
  assert.ok(frames.some((f) => f.packets.length === 1), 'some frames went out in one packet');
}

// Picture ids (VP8, VP9) go up by one per frame, modulo 2^15.
function assertPictureIds(frames) {
  for (let i = 1; i < frames.length; i++) {
    const [prev, cur] = [frames[i - 1].descriptors[0].pictureId, frames[i].descriptors[0].pictureId];
    assert.equal(cur, (prev + 1) & 0x7fff, `picture id of frame ${i}`);
  }
}

// Video timestamps: 10..50 ms apart, not a fixed rate.
const videoTimestamps = (n, previous) => (n === 0 ? randomInt(0, 5e6) : previous + randomInt(10_000, 50_000));
// Frames of 50..6000 bytes: 1 to 6 packets.
const videoSize = () => randomInt(50, 6000);

test('VP8: 60 frames written arrive at a server consumer byte for byte, in order, with their timestamps', async (t) => {
  const r = await roundTrip(t, {
    mimeType: 'video/VP8',
    kind: 'video',
    make: ({ keyframe }) => makers['video/vp8']({ keyframe, size: videoSize() }),
    nextTimestamp: videoTimestamps,
  });
  assert.equal(r.clockRate, 90000);
  assertSameFrames(r);
  // 15-bit picture ids from the first frame: mediasoup forwards the packets at their size
  assertSplit(r);
  assertPictureIds(r.frames);
  // the VP8 P bit of the first partition is what was written: keyframes stay keyframes
  r.frames.forEach((f, i) => assert.equal((f.data[0] & 1) === 0, r.written[i].keyframe, `keyframe ${i}`));
  assert.ok(r.written[0].keyframe);
});

test('Opus: 60 packets written arrive at a server consumer byte for byte, in order, with their timestamps', async (t) => {
  const durations = [10_000, 20_000, 40_000, 60_000];
  const r = await roundTrip(t, {
    mimeType: 'audio/opus',
    kind: 'audio',
    make: () => makers['audio/opus']({ size: randomInt(1, 400) }),
    nextTimestamp: (n, previous) => (n === 0 ? randomInt(0, 5e6) : previous + durations[randomInt(0, 3)]),
  });
  assert.equal(r.clockRate, 48000);
  assertSameFrames(r);
  assert.ok(r.frames.every((f) => f.packets.length === 1));
});

test('VP9: frames arrive byte for byte; P bit, picture ids and the keyframe size in the descriptor', async (t) => {
  const r = await roundTrip(t, {
    mimeType: 'video/VP9',
    kind: 'video',
    make: ({ keyframe }) => makers['video/vp9']({ keyframe, size: videoSize(), width: 640, height: 360 }),
    nextTimestamp: videoTimestamps,
  });
  assertSameFrames(r);
  assertSplit(r);
  assertPictureIds(r.frames);
  r.frames.forEach((f, i) => {
    const [first] = f.descriptors;
    const keyframe = r.written[i].keyframe;
    assert.ok(f.descriptors.every((d) => d.interPicture === !keyframe), `P bit of frame ${i}`);
    assert.deepEqual(first.size, keyframe ? { width: 640, height: 360 } : undefined, `SS of frame ${i}`);
    assert.deepEqual(first.pDiffs, keyframe ? [] : [1], `P_DIFF of frame ${i}`);
  });
});

test('H264: access units arrive byte for byte (STAP-A, FU-A, single NAL unit)', async (t) => {
  const r = await roundTrip(t, {
    mimeType: 'video/H264',
    kind: 'video',
    make: ({ keyframe }) => makers['video/h264']({ keyframe, size: videoSize() }),
    nextTimestamp: videoTimestamps,
  });
  assertSameFrames(r);
  assertSplit(r);
  r.frames.forEach((f, i) => {
    const types = f.descriptors.flatMap((d) => d.nalTypes);
    assert.deepEqual(types, r.written[i].keyframe ? [7, 8, 5] : [1], `NAL unit types of frame ${i}`);
  });
});

// The AV1 packetizer drops temporal delimiters and the receiver gets OBUs without size fields:
// compared with the temporal unit written minus its temporal delimiter (2 bytes), every OBU
// with its size field (how the generator writes them).
test('AV1: temporal units arrive OBU for OBU; N on keyframes only', async (t) => {
  const r = await roundTrip(t, {
    mimeType: 'video/AV1',
    kind: 'video',
    make: ({ keyframe }) => makers['video/av1']({ keyframe, size: videoSize() }),
    nextTimestamp: videoTimestamps,
  });
  assert.ok(r.written.every((w) => w.data[0] === 0x12 && w.data[1] === 0x00), 'each unit starts with a temporal delimiter');
  assertSameFrames(r, { expected: (w) => w.data.subarray(2) });
  assertSplit(r);
  r.frames.forEach((f, i) => {
    const n = f.descriptors.map((d) => d.newSequence);
    assert.deepEqual(n, f.descriptors.map((_, j) => j === 0 && r.written[i].keyframe), `N bits of frame ${i}`);
  });
});
