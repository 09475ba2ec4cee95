'use strict';

// The receive side over a bad network, against the real mediasoup worker on 127.0.0.1: a
// producer of this package, through the router, to a consumer of this package whose transport
// goes through a relay that drops the server's RTP towards the client. Losses are repaired by
// NACK/RTX (video) or reported as gaps (Opus: the device, as browsers, asks for no NACK on it,
// so the server's consumer has none); a loss that cannot be repaired skips to a keyframe asked
// for by the track itself; a simulcast consumer switches layers at keyframes; the
// transport-wide congestion control feedback feeds the server's bandwidth estimation.

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
  const arrivals = [];
  const waiters = new Set();
  (async () => {
    for await (const frame of track.frames()) {
      frames.push(frame);
      arrivals.push(performance.now());
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
  return { frames, arrivals, until };
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

test('Opus through 5% loss: no NACK negotiated for Opus, so frames are missing; the next one says gapBefore, packetsLost counts them, and the receiver reports tell the server', async (t) => {
  const { track, consumer, serverConsumer, relay, codec, rtx } = await session(t, { kind: 'audio', mimeType: 'audio/opus', seed: 5 });
  assert.equal(rtx, undefined, 'no RTX for Opus');
  assert.ok(!codec.rtcpFeedback.some((fb) => fb.type === 'nack'), 'no NACK negotiated for Opus');
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
  // how late each frame was read, against the earliest any frame was (ms)
  const lateness = frames.map((f, i) => reader.arrivals[i] - f.timestamp / 1000);
  const base = Math.min(...lateness);
  const late = frames.map((f, i) => [f.gapBefore, Math.round(lateness[i] - base)]);
  t.diagnostic(`lateness after a gap: ${late.filter(([g]) => g).map(([, l]) => l).join(', ')} ms; otherwise max ${Math.max(...late.filter(([g]) => !g).map(([, l]) => l))} ms`);
  const dropped = relay.counts.downDropped[codec.payloadType] ?? 0;
  const stats = consumer.track.stats();
  t.diagnostic(`Opus 5% loss: ${dropped} of ${dropped + relay.counts.downRtp[codec.payloadType]} RTP dropped, ${missing} frames missing; track ${JSON.stringify(stats)}`);
  assert.ok(dropped >= 3, `${dropped} packets dropped`);
  // one Opus frame per packet: each packet dropped is a frame missing, counted as lost
  assert.equal(missing, dropped);
  assert.equal(stats.packetsLost, dropped);
  assert.equal(frames[0].gapBefore, false);
  // the server knows of the loss only from the client's receiver reports (one a second)
  const outbound = async () => (await serverConsumer.getStats()).find((s) => s.type === 'outbound-rtp');
  await until(async () => (await outbound()).packetsLost === dropped, {
    timeout: 5000,
    what: `the server's consumer counting the ${dropped} packets lost`,
  });
});

test('Opus: a packet lost just before the stream stops: the frames after it still come out, once the hole is given up', async (t) => {
  const { track, consumer, relay, codec } = await session(t, { kind: 'audio', mimeType: 'audio/opus' });
  const reader = frameReader(t, consumer.track);
  const written = [];
  // a source writing in real time (20 ms frames), not a synchronization
  const write = async (count) => {
    for (let i = 0; i < count; i++) {
      const data = makers['audio/opus']({ size: 60 });
      track.writeFrame(data, { timestamp: written.length * 20000 });
      written.push({ data });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await write(10);
  await reader.until((f) => f.some((x) => x.data.equals(written[9].data)), { what: 'the first 10 frames' });
  relay.dropDownNext({ payloadType: codec.payloadType });
  await write(1);
  await until(() => relay.counts.downDropped[codec.payloadType] === 1, { what: 'the packet dropped' });
  await write(2);
  // nothing comes after these two: no packet will show the hole older than the wait
  const start = performance.now();
  await reader.until((f) => f.some((x) => x.data.equals(written[12].data)), { timeout: 3000, what: 'the 2 frames after the hole' });
  const waited = performance.now() - start;
  const at = writtenIndexes(reader.frames, written);
  t.diagnostic(`the frames after the hole came ${Math.round(waited)} ms after the last was written`);
  assert.deepEqual(at.slice(-3), [9, 11, 12]);
  assert.deepEqual(reader.frames.slice(-2).map((f) => f.gapBefore), [true, false]);
  assert.equal(consumer.track.stats().packetsLost, 1);
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
  // the frames read so far: those in flight still come while the stats are awaited
  const frames = reader.frames.slice();
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

// Writes VP8 simulcast frames to `track` at `fps`: for each frame time, one frame per layer,
// `sizes[layer]` bytes of payload, so that a frame read tells its layer by its bytes. A layer
// sends a keyframe first and then only when asked for ('keyframerequest' with its layer).
// `written` logs { n, layer, data, keyframe, timestamp }.
function startSimulcastWriter(track, { sizes, fps = 30 }) {
  const written = [];
  const requests = [];
  const want = sizes.map(() => true);
  const onRequest = (layer) => {
    requests.push(layer);
    if (Number.isInteger(layer) && layer < want.length) want[layer] = true;
    else want.fill(true);
  };
  track.on('keyframerequest', onRequest);
  let n = 0;
  const tick = () => {
    const timestamp = Math.round((n * 1e6) / fps);
    for (let layer = 0; layer < sizes.length; layer++) {
      const keyframe = want[layer];
      want[layer] = false;
      const data = vp8Frame({ keyframe, size: sizes[layer] });
      track.writeFrame(data, { timestamp, keyframe, layer });
      written.push({ n, layer, data, keyframe, timestamp });
    }
    n++;
  };
  const timer = setInterval(tick, 1000 / fps);
  tick();
  const stop = () => {
    clearInterval(timer);
    track.off('keyframerequest', onRequest);
  };
  return { written, requests, stop };
}

// The written entries of the frames read (by their bytes); fails on a frame never written.
function writtenFrames(frames, written) {
  const byData = new Map(written.map((w) => [w.data.toString('hex'), w]));
  return frames.map((f, i) => {
    const w = byData.get(f.data.toString('hex'));
    assert.ok(w, `frame ${i} read (${f.data.length} bytes) is no frame written`);
    return w;
  });
}

// The runs of one layer in `entries` (written entries of the frames read): [{ layer, from, to }].
function layerRuns(entries) {
  const runs = [];
  entries.forEach((e, i) => {
    if (runs.length && runs.at(-1).layer === e.layer) runs.at(-1).to = i;
    else runs.push({ layer: e.layer, from: i, to: i });
  });
  return runs;
}

// The sequence numbers the server skipped in `seqs` (those it sent, in arrival order, none
// dropped on the way): the numbers missing between the lowest and the highest.
function skippedSeqs(seqs) {
  if (seqs.length === 0) return [];
  let ext = seqs[0];
  const seen = new Set([ext]);
  let low = ext;
  let high = ext;
  for (const seq of seqs.slice(1)) {
    ext += ((seq - ext + 0x8000) & 0xffff) - 0x8000;
    seen.add(ext);
    low = Math.min(low, ext);
    high = Math.max(high, ext);
  }
  const skipped = [];
  for (let e = low; e <= high; e++) if (!seen.has(e)) skipped.push(e & 0xffff);
  return skipped;
}

test('simulcast: the server consumer\'s setPreferredLayers() switches the layer the program reads, at a keyframe, whole frames, none missing', async (t) => {
  const { track, consumer, serverConsumer, relay } = await session(t, {
    kind: 'video',
    mimeType: 'video/VP8',
    encodings: [{}, {}, {}],
  });
  assert.equal(serverConsumer.type, 'simulcast');
  const reader = frameReader(t, consumer.track);
  // ~70, ~150 and ~300 kbps: all within mediasoup's first estimate of the bandwidth
  const writer = startSimulcastWriter(track, { sizes: [250, 600, 1200] });
  t.after(() => writer.stop());
  const layerOf = (f) => writtenFrames([f], writer.written)[0].layer;
  const layerRead = (layer, from) => reader.until((f) => {
    const i = f.findIndex((x, j) => j >= from && layerOf(x) === layer);
    return i >= 0 && f.length >= i + 10 && i;
  }, { what: `10 frames after the first of layer ${layer}` });

  // the consumer starts low and climbs to the preferred (highest) layer
  const top = await layerRead(2, 0);
  await serverConsumer.setPreferredLayers({ spatialLayer: 0 });
  const low = await layerRead(0, reader.frames.length);
  await serverConsumer.setPreferredLayers({ spatialLayer: 1 });
  const middle = await layerRead(1, reader.frames.length);
  writer.stop();

  const frames = reader.frames;
  const entries = writtenFrames(frames, writer.written);
  const runs = layerRuns(entries);
  t.diagnostic(`layers read: ${runs.map((r) => `${r.layer} x${r.to - r.from + 1}`).join(', ')}; requests ${JSON.stringify(writer.requests)}`);
  // from the top layer on: 2, then 0, then 1
  const fromTop = runs.filter((r) => r.to >= top);
  assert.deepEqual(fromTop.map((r) => r.layer), [2, 0, 1]);
  assert.equal(fromTop[1].from, low);
  assert.equal(fromTop[2].from, middle);
  for (const run of runs) {
    // each layer starts with a keyframe of that layer: no frame of the new layer before it
    assert.equal(frames[run.from].keyframe, true, `the first frame of layer ${run.layer} (frame ${run.from}) is a keyframe`);
    assert.equal(entries[run.from].keyframe, true);
    // and goes on frame after frame
    for (let i = run.from + 1; i <= run.to; i++) {
      assert.equal(entries[i].n, entries[i - 1].n + 1, `frame ${i} read (layer ${run.layer}) follows frame ${i - 1}`);
    }
  }
  for (let i = 1; i < frames.length; i++) {
    // a switch never goes back in time (the new layer's keyframe may be the picture the old
    // layer's last frame was); the new layer continues the old one's timeline
    assert.ok(entries[i].n >= entries[i - 1].n, `frame ${i} read was written with or after frame ${i - 1}`);
    assert.ok(frames[i].timestamp > frames[i - 1].timestamp, `timestamp of frame ${i}`);
  }
  // Nothing was lost, but mediasoup 3.19.3 may skip a sequence number when it switches layers
  // (meant to tell an incomplete frame before the switch): the track cannot tell that skipped
  // number from a lost packet, so the new layer's keyframe comes with gapBefore and the skipped
  // numbers count as lost; nothing else does.
  assert.equal(relay.counts.downDroppedPackets.length, 0);
  const skipped = skippedSeqs(relay.counts.downSeqs.get(consumer.rtpParameters.encodings[0].ssrc) ?? []);
  const gaps = frames.flatMap((f, i) => (f.gapBefore ? [i] : []));
  const stats = consumer.track.stats();
  const lateness = frames.map((f, i) => reader.arrivals[i] - f.timestamp / 1000);
  const base = Math.min(...lateness);
  t.diagnostic(
    `sequence numbers the server skipped: ${skipped.length}; frames with gapBefore: ${gaps.join(', ') || 'none'}, ` +
      `read ${gaps.map((i) => Math.round(lateness[i] - base)).join(', ')} ms late`
  );
  const switches = runs.slice(1).map((r) => r.from);
  for (const i of gaps) assert.ok(switches.includes(i), `gapBefore on frame ${i}, not at a switch (${switches})`);
  assert.equal(gaps.length, skipped.length, 'one gap per skipped sequence number');
  assert.equal(stats.packetsLost, skipped.length);
  assert.equal(stats.framesDropped, 0);
});

// mediasoup starts sending to a transport with an estimate of 600 kbps (its default
// initialAvailableOutgoingBitrate) and raises it only on transport-wide congestion control
// feedback; a simulcast consumer forwards the highest layer the estimate allows.
const INITIAL_ESTIMATE = 600000;

test('TWCC feedback reaches the server: its estimate of the bandwidth to the client grows past the initial one, and the consumer forwards the layer that needs it', async (t) => {
  const { track, consumer, serverConsumer, recv } = await session(t, {
    kind: 'video',
    mimeType: 'video/VP8',
    encodings: [{}, {}, {}],
  });
  const twcc = consumer.rtpParameters.headerExtensions.find((e) => /transport-wide-cc/.test(e.uri));
  assert.ok(twcc, 'the consumer has the transport-wide sequence number extension');
  assert.ok(consumer.rtpParameters.codecs[0].rtcpFeedback.some((fb) => fb.type === 'transport-cc'));
  const reader = frameReader(t, consumer.track);
  // ~75 kbps, ~300 kbps and ~1.1 Mbps: the top layer does not fit the initial estimate
  const writer = startSimulcastWriter(track, { sizes: [300, 1200, 4500] });
  t.after(() => writer.stop());
  const [first] = await recv.serverTransport.getStats();
  assert.equal(first.availableOutgoingBitrate, INITIAL_ESTIMATE);
  // without the feedback the estimate stays at its initial value: nothing else raises it
  const stats = await until(async () => {
    const [s] = await recv.serverTransport.getStats();
    return s.availableOutgoingBitrate > 1.5 * INITIAL_ESTIMATE && serverConsumer.currentLayers?.spatialLayer === 2 && s;
  }, { timeout: 15000, interval: 100, what: 'an estimate above 900 kbps and the consumer on layer 2' });
  // and the program reads the top layer, whole frames
  const from = reader.frames.length;
  await reader.until((f) => f.length >= from + 10 && writtenFrames(f.slice(from), writer.written).some((e) => e.layer === 2), {
    what: 'frames of layer 2',
  });
  writer.stop();
  const entries = writtenFrames(reader.frames, writer.written);
  t.diagnostic(
    `estimate ${first.availableOutgoingBitrate} -> ${stats.availableOutgoingBitrate} bps; server sendBitrate ` +
      `${stats.sendBitrate} bps; layers read: ${layerRuns(entries).map((r) => `${r.layer} x${r.to - r.from + 1}`).join(', ')}`
  );
  // a gap only where mediasoup skips a sequence number: at a layer switch, on its keyframe
  assert.ok(reader.frames.every((f) => !f.gapBefore || f.keyframe));
});

// Bugs found while writing this file, outside what it may fix; the symptoms are asserted as
// they should be, so that these pass once fixed.

test('track.on(\'frame\') delivers the frames as frames() does', async (t) => {
  const { track, consumer } = await session(t, { kind: 'video', mimeType: 'video/VP8' });
  const writer = startWriter(track, vp8, { fps: 30 });
  t.after(() => writer.stop());
  const frames = [];
  consumer.track.on('frame', (frame) => frames.push(frame));
  await until(() => frames.length >= 5 || consumer.track.stats().frames >= 30, { what: 'frames' });
  assert.ok(frames.length >= 5, `${frames.length} frames emitted, ${consumer.track.stats().frames} assembled`);
});

test('track.rtp() gives the RTP packets, header included', async (t) => {
  const { track, consumer } = await session(t, { kind: 'video', mimeType: 'video/VP8' });
  const writer = startWriter(track, vp8, { fps: 30 });
  t.after(() => writer.stop());
  const packets = [];
  for await (const packet of consumer.track.rtp()) {
    packets.push(packet);
    if (packets.length >= 10) break;
  }
  const ssrc = consumer.rtpParameters.encodings[0].ssrc;
  for (const p of packets) {
    assert.ok(p.length >= 12, `a packet of ${p.length} bytes`);
    assert.equal(p.readUInt32BE(8), ssrc);
  }
});

test('a packet repaired over RTX is asked for no more', async (t) => {
  const { track, consumer, serverConsumer, relay, codec } = await session(t, { kind: 'video', mimeType: 'video/VP8', seed: 3 });
  const reader = frameReader(t, consumer.track);
  const writer = startWriter(track, ({ keyframe }) => vp8({ keyframe, size: 3000 }), { fps: 30 });
  t.after(() => writer.stop());
  await reader.until((f) => f.length > 0, { what: 'a first frame' });
  relay.setDownLoss({ loss: 0.05, payloadTypes: [codec.payloadType] });
  await reader.until((f) => f.length >= 90, { what: '90 frames' });
  relay.setDownLoss({ loss: 0 });
  const from = reader.frames.length;
  await reader.until((f) => f.length >= from + 10, { what: '10 more frames' });
  const dropped = relay.counts.downDropped[codec.payloadType] ?? 0;
  const server = serverStats(await serverConsumer.getStats());
  assert.ok(dropped > 0);
  // one NACK repairs a packet on loopback; a second is allowed for
  assert.ok(server.nackPacketCount <= 2 * dropped, `${server.nackPacketCount} packets NACKed for ${dropped} lost`);
  assert.ok(server.packetsRetransmitted <= 2 * dropped, `${server.packetsRetransmitted} retransmitted for ${dropped} lost`);
});
