'use strict';

// The receive side end to end: a producer of this package, through the real mediasoup router,
// to a consumer of this package. The frames the program reads are the frames written, byte
// for byte, in order, with their keyframe flags and timestamps; and the consumer behaves as
// mediasoup-client's (one negotiation per tick, errors by class, close, pause, transport close).

const test = require('node:test');
const assert = require('node:assert/strict');
const { createTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, until } = require('./helpers/server');
const { sendTransport, connected, pickCodec } = require('./helpers/codec-session');
const { makers, startWriter } = require('./helpers/codec-frames');
const { recvTransport, consume, collectFrames } = require('./helpers/recv-session');
const { readLeb128 } = require('./helpers/depacketize');
const { vp8Frame } = require('./helpers/media');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// H.264 access units as their NAL units (start codes of either length); AV1 temporal units as
// their OBUs (header and payload, size fields dropped); other frames as they are.
function normalized(mimeType, data) {
  const codec = mimeType.toLowerCase();
  if (codec === 'video/h264') {
    const nals = [];
    let start = -1;
    for (let i = 0; i + 2 < data.length; i++) {
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
        if (start >= 0) nals.push(data.subarray(start, i - (data[i - 1] === 0 ? 1 : 0)).toString('hex'));
        start = i + 3;
        i += 2;
      }
    }
    if (start >= 0) nals.push(data.subarray(start).toString('hex'));
    return nals.join('|');
  }
  if (codec === 'video/av1') {
    const obus = [];
    let at = 0;
    while (at < data.length) {
      const header = data[at];
      const headerLength = header & 0x04 ? 2 : 1;
      let size;
      let o = at + headerLength;
      if (header & 0x02) {
        const leb = readLeb128(data, o);
        o += leb.length;
        size = leb.value;
      } else {
        size = data.length - o;
      }
      obus.push(`${(header & ~0x02).toString(16)}:${data.subarray(o, o + size).toString('hex')}`);
      at = o + size;
    }
    return obus.join('|');
  }
  return data.toString('hex');
}

// A producer of `mimeType` and a consumer of it on a receive transport; writes `count` frames
// once the consumer is resumed; resolves with what was written and what the program read.
async function roundTrip(t, { mimeType, kind, count = 50, fps = 50, keyframeEvery = 25 }) {
  const { transport: send, serverProducers } = await sendTransport(t, { server, device });
  const track = createTrack({ kind });
  await send.produce({ track, codec: pickCodec(device, mimeType) });
  await connected(send);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, serverProducers[0].id);
  assert.equal(consumer.track.codec.mimeType.toLowerCase(), mimeType.toLowerCase());
  // what the server forwards before the receive transport is up is lost
  await connected(recv.transport);
  const make = makers[mimeType.toLowerCase()];
  const reading = collectFrames(consumer.track, (f) => f.length >= count);
  const writer = startWriter(track, make, { fps, count, keyframeEvery });
  t.after(() => writer.stop());
  const written = await writer.done;
  const frames = await reading;
  return { written, frames, consumer, clockRate: consumer.rtpParameters.codecs[0].clockRate };
}

for (const [mimeType, kind] of [
  ['video/VP8', 'video'],
  ['video/VP9', 'video'],
  ['video/H264', 'video'],
  ['video/AV1', 'video'],
  ['audio/opus', 'audio'],
]) {
  test(`${mimeType}: the frames written arrive whole, in order, byte for byte, with their timestamps`, async (t) => {
    const { written, frames, consumer, clockRate } = await roundTrip(t, { mimeType, kind });
    // every frame written after the consumer was ready (the first is a keyframe), none other
    assert.equal(frames.length, written.length, 'one frame read per frame written');
    const tick = 1e6 / clockRate;
    for (let i = 0; i < written.length; i++) {
      assert.equal(normalized(mimeType, frames[i].data), normalized(mimeType, written[i].data), `frame ${i}`);
      assert.equal(frames[i].keyframe, kind === 'audio' ? true : written[i].keyframe, `keyframe flag of frame ${i}`);
      assert.equal(frames[i].gapBefore, false);
      const expected = written[i].timestamp - written[0].timestamp;
      assert.ok(Math.abs(frames[i].timestamp - expected) <= tick + 1, `frame ${i}: ${frames[i].timestamp} µs, written ${expected}`);
      assert.equal(frames[i].rtpTimestamp, (frames[0].rtpTimestamp + Math.round(frames[i].timestamp / tick)) >>> 0);
    }
    const stats = consumer.track.stats();
    assert.equal(stats.frames, written.length);
    assert.equal(stats.packetsLost, 0);
    assert.equal(stats.framesDropped, 0);
  });
}

// A track of this package produced with `mimeType` and consumed by a consumer of this package,
// both transports connected.
async function connectedPair(t, kind, mimeType) {
  const { transport: send, serverProducers } = await sendTransport(t, { server, device });
  const track = createTrack({ kind });
  await send.produce({ track, codec: pickCodec(device, mimeType) });
  await connected(send);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, serverProducers[0].id);
  await connected(recv.transport);
  return { track, consumer };
}

test("track.on('frame'): a listener gets the frames written, byte for byte, until it is removed", async (t) => {
  const { track, consumer } = await connectedPair(t, 'video', 'video/VP8');
  const count = 30;
  const frames = [];
  let onFrame;
  const enough = new Promise((resolve) => {
    onFrame = (frame) => {
      frames.push(frame);
      if (frames.length === count) {
        consumer.track.off('frame', onFrame);
        resolve();
      }
    };
    consumer.track.on('frame', onFrame);
  });
  const writer = startWriter(track, makers['video/vp8'], { fps: 50, count: count + 30, keyframeEvery: 25 });
  t.after(() => writer.stop());
  const written = await writer.done;
  await until(() => frames.length >= count, { timeout: 5000, what: `${count} frames by 'frame' events (${frames.length})` });
  await enough;
  assert.equal(frames.length, count, 'no frame after the listener was removed');
  // written frames, one after the other, from a keyframe on (from the first frame if the
  // reading started before it arrived, else from the keyframe that joining asked for)
  const first = written.findIndex((w) => w.data.equals(frames[0].data));
  assert.ok(first >= 0 && written[first].keyframe, `the first frame is a keyframe written (${first})`);
  for (let i = 0; i < count; i++) {
    assert.equal(frames[i].data.toString('hex'), written[first + i].data.toString('hex'), `frame ${i}`);
    assert.equal(frames[i].keyframe, written[first + i].keyframe, `keyframe flag of frame ${i}`);
  }
});

// Many tracks of one process become ready at the same moment (their frames reach JS through
// one shared route): each reader gets every frame of its own track, in order, whether it reads
// with frames() or 'frame' listeners; two frames() loops on one track share its frames.
test('many tracks at once: every reader gets all the frames of its track, in order', async (t) => {
  const { transport: send, serverProducers } = await sendTransport(t, { server, device });
  const video = createTrack({ kind: 'video' });
  const audio = createTrack({ kind: 'audio' });
  await send.produce({ track: video, codec: pickCodec(device, 'video/VP8') });
  await send.produce({ track: audio, codec: pickCodec(device, 'audio/opus') });
  await connected(send);
  const recv = await recvTransport(t, { server, device });
  const consumers = [];
  for (let i = 0; i < 8; i++) {
    const producer = serverProducers[i % 2];
    consumers.push((await consume({ ...recv, device }, producer.id)).consumer);
  }
  await connected(recv.transport);
  const count = 40;
  // per consumer: the frames read, and a promise of `count` of them
  const readers = consumers.map((consumer, i) => {
    const frames = [];
    let resolve;
    const done = new Promise((r) => (resolve = r));
    const got = (frame) => {
      frames.push(frame);
      if (frames.length === count) resolve();
    };
    const track = consumer.track;
    const loops = [];
    if (i % 4 === 0) {
      // two loops on one track, left when the track ends
      for (let loop = 0; loop < 2; loop++) {
        loops.push(
          (async () => {
            for await (const frame of track.frames()) got(frame);
          })()
        );
      }
    } else if (i % 4 === 1) {
      const onFrame = (frame) => {
        got(frame);
        if (frames.length >= count) track.off('frame', onFrame);
      };
      track.on('frame', onFrame);
    } else {
      (async () => {
        for await (const frame of track.frames()) {
          got(frame);
          if (frames.length >= count) break;
        }
      })();
    }
    return { consumer, frames, done, loops };
  });
  // readers start a tick after they were set up: write from the next one
  await new Promise((resolve) => setImmediate(resolve));
  const writers = [
    startWriter(video, makers['video/vp8'], { fps: 50, count, keyframeEvery: 25 }),
    startWriter(audio, makers['audio/opus'], { fps: 50, count }),
  ];
  t.after(() => writers.forEach((w) => w.stop()));
  const written = await Promise.all(writers.map((w) => w.done));
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`frames read: ${readers.map((r) => r.frames.length).join(', ')}`)), 10000);
  });
  try {
    await Promise.race([Promise.all(readers.map((r) => r.done)), timedOut]);
  } finally {
    clearTimeout(timer);
  }
  for (const [i, { consumer, frames }] of readers.entries()) {
    const expected = written[i % 2];
    assert.equal(frames.length, count, `consumer ${i}`);
    for (let n = 0; n < count; n++) {
      assert.ok(frames[n].data.equals(expected[n].data), `consumer ${i} (${consumer.kind}), frame ${n}`);
    }
    assert.equal(consumer.track.stats().framesDroppedReader, 0);
  }
  // both loops of a track still wait, and end with it
  for (const { consumer, loops } of readers.filter((r) => r.loops.length)) {
    consumer.close();
    await Promise.all(loops);
  }
});

// Frames reach JS through slabs shared by all tracks; a frame larger than a slab gets one of its size.
test('a frame larger than the shared delivery buffer arrives whole', async (t) => {
  const { track, consumer } = await connectedPair(t, 'video', 'video/VP8');
  const reading = collectFrames(consumer.track, (f) => f.length >= 3);
  // 300 KB keyframes (a slab is 256 KB), then a small frame
  const sizes = [300_000, 600_000, 1000];
  const writer = startWriter(track, ({ keyframe, n }) => vp8Frame({ keyframe, size: sizes[n] }), { fps: 10, count: 3, keyframeEvery: 2 });
  t.after(() => writer.stop());
  const written = await writer.done;
  const frames = await reading;
  for (let i = 0; i < 3; i++) assert.ok(frames[i].data.equals(written[i].data), `frame ${i} (${written[i].data.length} bytes)`);
});

// frame.release(): the memory of frames all released holds the next ones (the frames read
// while every one is released share one or two buffers, where 600 KB of them would fill three
// slabs), and a frame not released is never written over.
test('release(): released frames\' memory holds the next frames; frames kept stay whole', async (t) => {
  const { track, consumer } = await connectedPair(t, 'video', 'video/VP8');
  const count = 60;
  const kept = [];
  const buffers = new Set();
  let read = 0;
  const reading = (async () => {
    for await (const frame of consumer.track.frames()) {
      read++;
      if (read <= count / 2 && read % 2 === 1) kept.push(frame);
      else {
        // the first half: every other frame released; the second: all of them
        if (read > count / 2) buffers.add(frame.data.buffer);
        frame.release();
        assert.equal(frame.data, undefined, 'data is gone once released');
        frame.release();
      }
      if (read === count) return;
    }
  })();
  // 20 KB frames (a slab holds 13), from a keyframe on
  const writer = startWriter(track, ({ keyframe }) => vp8Frame({ keyframe, size: 20_000 }), { fps: 50, count: count + 20, keyframeEvery: 1000 });
  t.after(() => writer.stop());
  const written = await writer.done;
  await reading;
  assert.ok(buffers.size <= 2, `${count / 2} frames released as read shared ${buffers.size} buffers`);
  const first = written.findIndex((w) => w.data.equals(kept[0].data));
  assert.ok(first >= 0, 'the first frame kept is a frame written');
  for (const [i, frame] of kept.entries()) {
    assert.ok(frame.data.equals(written[first + 2 * i].data), `frame kept ${i} is whole after the frames released`);
  }
});

// The payload of an RTP packet (after CSRCs and header extensions, padding removed).
function rtpPayload(packet) {
  let at = 12 + (packet[0] & 0x0f) * 4;
  if (packet[0] & 0x10) at += 4 + packet.readUInt16BE(at + 2) * 4;
  const end = packet[0] & 0x20 ? packet.length - packet[packet.length - 1] : packet.length;
  return packet.subarray(at, end);
}

test("track.on('rtp'): a listener gets the consumer's RTP packets, header included (the server's header extensions as it sent them)", async (t) => {
  const { track, consumer } = await connectedPair(t, 'audio', 'audio/opus');
  const packets = [];
  const onRtp = (packet) => packets.push(packet);
  consumer.track.on('rtp', onRtp);
  t.after(() => consumer.track.off('rtp', onRtp));
  const writer = startWriter(track, makers['audio/opus'], { fps: 50, count: 30 });
  t.after(() => writer.stop());
  const written = await writer.done;
  await until(() => packets.length >= 20, { timeout: 5000, what: `20 packets by 'rtp' events (${packets.length})` });
  const { payloadType } = consumer.rtpParameters.codecs[0];
  const payloads = packets.map((packet, i) => {
    assert.ok(packet.length > 12, `packet ${i}: ${packet.length} bytes`);
    assert.equal(packet[0] >> 6, 2, `packet ${i}: RTP version 2`);
    assert.equal(packet[1] & 0x7f, payloadType, `packet ${i}: payload type`);
    return rtpPayload(packet).toString('hex');
  });
  // one Opus frame a packet: the packets carry the frames written, in order, from where the reading began
  const first = written.findIndex((w) => w.data.toString('hex') === payloads[0]);
  assert.ok(first >= 0, 'the first packet carries a frame written');
  payloads.forEach((payload, i) => assert.equal(payload, written[first + i].data.toString('hex'), `packet ${i}`));
});
