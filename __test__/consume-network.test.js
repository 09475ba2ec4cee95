'use strict';

// The receive side over a bad network, against the real mediasoup worker on 127.0.0.1: a
// producer of this package, through the router, to a consumer of this package whose transport
// goes through a relay that drops the server's RTP towards the client. Losses are repaired by
// NACK/RTX (video) or reported as gaps (Opus: mediasoup offers no NACK for it); a loss that
// cannot be repaired skips to a keyframe asked for by the track itself; a simulcast consumer
// switches layers at keyframes; the transport-wide congestion control feedback feeds the
// server's bandwidth estimation.

const test = require('node:test');
const assert = require('node:assert/strict');
const { createTrack } = require('..');
const { startServerAndDevice, until } = require('./helpers/server');
const { sendTransport, connected, pickCodec } = require('./helpers/codec-session');
const { makers, startWriter } = require('./helpers/codec-frames');
const { vp8Frame } = require('./helpers/media');
const { recvTransport, consume } = require('./helpers/recv-session');
const { createRelay } = require('./helpers/relay');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// A producer of `mimeType` (with `encodings` if given) on a direct send transport, and a
// consumer of it on a receive transport that reaches its server through a relay (no loss yet).
async function session(t, { kind, mimeType, encodings, seed = 1 }) {
  const { transport: send, serverProducers } = await sendTransport(t, { server, device });
  const track = createTrack({ kind });
  const producer = await send.produce({ track, codec: pickCodec(device, mimeType), encodings });
  await connected(send);
  let relay;
  const recv = await recvTransport(t, {
    server,
    device,
    clientOptions: async (options, serverTransport) => {
      const candidate = serverTransport.iceCandidates.find((c) => c.protocol === 'udp');
      relay = await createRelay({ seed, target: { ip: candidate.address ?? candidate.ip, port: candidate.port } });
      t.after(() => relay.close());
      return { ...options, iceCandidates: relay.candidates(serverTransport.iceCandidates) };
    },
  });
  const { consumer, serverConsumer } = await consume({ ...recv, device }, serverProducers[0].id);
  // what the server forwards before the receive transport is up is lost
  await connected(recv.transport);
  const [codec, rtx] = consumer.rtpParameters.codecs;
  return { track, producer, serverProducer: serverProducers[0], consumer, serverConsumer, relay, recv, codec, rtx };
}

// Reads the frames of `track` (its frames() iterator, until the track ends with the test's
// transport) into `frames`; `until(check)` resolves once `check(frames)` is true after a frame
// (or now).
function frameReader(t, track) {
  const frames = [];
  const waiters = new Set();
  (async () => {
    for await (const frame of track.frames()) {
      frames.push(frame);
      for (const w of waiters) w();
    }
  })();
  function until(check, { timeout = 10000, what = 'frames' } = {}) {
    return new Promise((resolve, reject) => {
      const done = () => {
        const value = check(frames);
        if (!value) return;
        waiters.delete(done);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        reject(new Error(`timed out after ${timeout} ms waiting for ${what} (${frames.length} frames read)`));
      }, timeout);
      waiters.add(done);
      done();
    });
  }
  return { frames, until };
}

// Where each frame read was written: its index in `written` (by its bytes). Fails on a frame
// that was not written as such (a half frame, a mixed-up one).
function writtenIndexes(frames, written) {
  const byData = new Map(written.map((w, i) => [w.data.toString('hex'), i]));
  return frames.map((f, i) => {
    const at = byData.get(f.data.toString('hex'));
    assert.ok(at !== undefined, `frame ${i} read (${f.data.length} bytes) is no frame written`);
    return at;
  });
}

function serverStats(stats) {
  return stats.find((s) => s.type === 'outbound-rtp');
}

const vp8 = makers['video/vp8'];

test('VP8 through 5% loss of the server\'s media RTP: repaired by NACK/RTX, every frame arrives whole and in order', async (t) => {
  const { track, consumer, serverConsumer, relay, codec, rtx } = await session(t, { kind: 'video', mimeType: 'video/VP8', seed: 3 });
  assert.equal(rtx?.mimeType.toLowerCase(), 'video/rtx', 'the consumer has RTX');
  const reader = frameReader(t, consumer.track);
  // ~3 packets per frame at 30 fps: ~90 packets/s
  const writer = startWriter(track, ({ keyframe }) => vp8({ keyframe, size: 3000 }), { fps: 30 });
  t.after(() => writer.stop());
  // the loss starts once the stream did: a packet before the first one received cannot be
  // known to be missing
  await reader.until((f) => f.length > 0, { what: 'a first frame' });
  relay.setDownLoss({ loss: 0.05, payloadTypes: [codec.payloadType] });
  const lossFrom = writer.written.length;
  await reader.until((f) => f.length >= 150, { what: '150 frames' });
  // loss off; the frames written until then arrive (a loss at the very end is seen missing
  // only when a later packet comes)
  relay.setDownLoss({ loss: 0 });
  const last = writer.written.length - 1;
  const lastData = writer.written[last].data;
  await reader.until((f) => f.some((x) => x.data.equals(lastData)), { what: `frame ${last}` });
  writer.stop();

  const frames = reader.frames.slice(0, reader.frames.findIndex((x) => x.data.equals(lastData)) + 1);
  const at = writtenIndexes(frames, writer.written);
  assert.ok(at[0] < lossFrom, 'the first frame came before the loss started');
  for (let i = 0; i < frames.length; i++) {
    assert.equal(at[i], at[0] + i, `frame ${i} read is frame ${at[i]} written, ${at[0] + i} expected`);
    assert.equal(frames[i].keyframe, writer.written[at[i]].keyframe, `keyframe flag of frame ${i}`);
    assert.equal(frames[i].gapBefore, false, `gapBefore of frame ${i}`);
  }
  assert.equal(at.at(-1), last);
  const stats = consumer.track.stats();
  const server = serverStats(await serverConsumer.getStats());
  const dropped = relay.counts.downDropped[codec.payloadType] ?? 0;
  t.diagnostic(
    `VP8 5% loss: ${dropped} of ${dropped + (relay.counts.downRtp[codec.payloadType] ?? 0)} media RTP dropped, ` +
      `RTX ${relay.counts.downRtp[rtx.payloadType] ?? 0}; server nackCount ${server.nackCount}, nackPacketCount ` +
      `${server.nackPacketCount}, packetsRetransmitted ${server.packetsRetransmitted}; track ${JSON.stringify(stats)}`
  );
  assert.ok(dropped >= 5, `${dropped} packets dropped`);
  assert.equal(stats.packetsLost, 0);
  assert.equal(stats.framesDropped, 0);
  assert.ok(server.nackCount > 0, `server nackCount ${server.nackCount}`);
  assert.ok(server.packetsRetransmitted >= dropped, `server packetsRetransmitted ${server.packetsRetransmitted}, ${dropped} dropped`);
  assert.ok((relay.counts.downRtp[rtx.payloadType] ?? 0) >= dropped, 'the retransmissions reached the client over RTX');
});

test('Opus through 5% loss: no NACK for Opus, so frames are missing; the next one says gapBefore and packetsLost counts them', async (t) => {
  const { track, consumer, relay, codec, rtx } = await session(t, { kind: 'audio', mimeType: 'audio/opus', seed: 5 });
  assert.equal(rtx, undefined, 'no RTX for Opus');
  assert.ok(!codec.rtcpFeedback.some((fb) => fb.type === 'nack'), 'no NACK for Opus');
  const reader = frameReader(t, consumer.track);
  const writer = startWriter(track, makers['audio/opus'], { fps: 50 });
  t.after(() => writer.stop());
  await reader.until((f) => f.length > 0, { what: 'a first frame' });
  relay.setDownLoss({ loss: 0.05, payloadTypes: [codec.payloadType] });
  await reader.until((f) => f.length >= 150, { what: '150 frames' });
  relay.setDownLoss({ loss: 0 });
  const last = writer.written.length - 1;
  const lastData = writer.written[last].data;
  await reader.until((f) => f.some((x) => x.data.equals(lastData)), { what: `frame ${last}` });
  writer.stop();

  const frames = reader.frames.slice(0, reader.frames.findIndex((x) => x.data.equals(lastData)) + 1);
  const at = writtenIndexes(frames, writer.written);
  let missing = 0;
  for (let i = 1; i < frames.length; i++) {
    assert.ok(at[i] > at[i - 1], `frame ${i} read (written ${at[i]}) after frame ${i - 1} (written ${at[i - 1]})`);
    const skipped = at[i] - at[i - 1] - 1;
    missing += skipped;
    assert.equal(frames[i].gapBefore, skipped > 0, `gapBefore of frame ${i} (written ${at[i]}, ${skipped} missing before it)`);
    // the timestamps say where the frame belongs, missing ones included
    const expected = writer.written[at[i]].timestamp - writer.written[at[0]].timestamp;
    assert.ok(Math.abs(frames[i].timestamp - expected) <= 21, `frame ${i}: ${frames[i].timestamp} µs, written ${expected}`);
  }
  const dropped = relay.counts.downDropped[codec.payloadType] ?? 0;
  const stats = consumer.track.stats();
  t.diagnostic(`Opus 5% loss: ${dropped} of ${dropped + relay.counts.downRtp[codec.payloadType]} RTP dropped, ${missing} frames missing; track ${JSON.stringify(stats)}`);
  assert.ok(dropped >= 3, `${dropped} packets dropped`);
  // one Opus frame per packet: each packet dropped is a frame missing, counted as lost
  assert.equal(missing, dropped);
  assert.equal(stats.packetsLost, dropped);
  assert.equal(frames[0].gapBefore, false);
});

test('a loss RTX cannot repair: the video skips to a keyframe the track asked for by itself, flagged gapBefore', async (t) => {
  const { track, consumer, serverConsumer, relay, codec, rtx } = await session(t, { kind: 'video', mimeType: 'video/VP8', seed: 9 });
  const reader = frameReader(t, consumer.track);
  // keyframes only when asked for
  const writer = startWriter(track, ({ keyframe }) => vp8({ keyframe, size: 3000 }), { fps: 30, keyframeEvery: 1e9 });
  t.after(() => writer.stop());
  await reader.until((f) => f.length >= 10, { what: '10 frames' });
  const before = consumer.track.stats();
  const requestsBefore = writer.requests.length;
  const [serverBefore] = await serverConsumer.getStats();
  const readBefore = reader.frames.length;

  // 100 ms of media lost, and every retransmission for the next 600 ms (longer than the track
  // asks for them and waits for them) as well: the network conditions, not a synchronization
  relay.setDownLoss({ loss: 1, payloadTypes: [codec.payloadType, rtx.payloadType] });
  await new Promise((resolve) => setTimeout(resolve, 100));
  relay.setDownLoss({ loss: 1, payloadTypes: [rtx.payloadType] });
  await new Promise((resolve) => setTimeout(resolve, 600));
  relay.setDownLoss({ loss: 0 });

  const gapAt = await reader.until((f) => {
    const i = f.findIndex((x, j) => j >= readBefore && x.gapBefore);
    return i >= 0 && f.length >= i + 10 && i;
  }, { what: 'a frame with gapBefore and 10 after it' });
  writer.stop();
  const frames = reader.frames;
  const at = writtenIndexes(frames, writer.written);
  const stats = consumer.track.stats();
  const [serverAfter] = await serverConsumer.getStats();
  const dropped = relay.counts.downDropped;
  t.diagnostic(
    `burst: media ${dropped[codec.payloadType] ?? 0} and RTX ${dropped[rtx.payloadType] ?? 0} packets dropped; ` +
      `frames written ${at[gapAt - 1]} then ${at[gapAt]} read; keyframe requests from the writer's side ` +
      `${writer.requests.length - requestsBefore}; server pliCount ${serverAfter.pliCount - serverBefore.pliCount}; track ${JSON.stringify(stats)}`
  );
  assert.ok((dropped[rtx.payloadType] ?? 0) > 0, 'retransmissions were asked for and dropped');
  // before the gap and after it: consecutive frames, whole; in between, none
  for (let i = 1; i < frames.length; i++) {
    if (i === gapAt) continue;
    assert.equal(at[i], at[i - 1] + 1, `frame ${i} read is frame ${at[i]} written, ${at[i - 1] + 1} expected`);
    assert.equal(frames[i].gapBefore, false, `gapBefore of frame ${i}`);
  }
  assert.ok(at[gapAt] > at[gapAt - 1] + 1, 'frames are missing at the gap');
  assert.equal(frames[gapAt].keyframe, true, 'the first frame after the gap is a keyframe');
  assert.equal(writer.written[at[gapAt]].keyframe, true);
  assert.ok(stats.packetsLost > before.packetsLost, `packetsLost ${before.packetsLost} -> ${stats.packetsLost}`);
  assert.ok(stats.framesDropped > before.framesDropped, `framesDropped ${before.framesDropped} -> ${stats.framesDropped}`);
  // the track asked for the keyframe (this test never calls requestKeyFrame()), the server
  // got the PLI and asked the producer, whose writer answered
  assert.ok(stats.keyframeRequests > before.keyframeRequests, `keyframeRequests ${before.keyframeRequests} -> ${stats.keyframeRequests}`);
  assert.ok(serverAfter.pliCount > serverBefore.pliCount, `server pliCount ${serverBefore.pliCount} -> ${serverAfter.pliCount}`);
  assert.ok(writer.requests.length > requestsBefore, "the producer's track got a 'keyframerequest'");
});
