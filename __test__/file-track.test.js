'use strict';

// File tracks end to end: the bundled samples (samples/, made by scripts/make-samples.sh)
// played into the real mediasoup worker on 127.0.0.1, checked by what the server sees.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Device, createFileTrack, FileTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, producerCounters, until } = require('./helpers/server');

const samples = path.join(__dirname, '..', 'samples');
const sample = (name) => path.join(samples, name);

let server;
let device;
let tmp;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-file-track-'));
});
test.after(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sendTransport = (t, { router, dev = device } = {}) => server.sendTransport(t, dev, { on: router });

// The RTP timestamps (as the server forwards them) of the frames a DirectTransport consumer
// receives: one entry per new timestamp.
async function frameTimestamps(serverProducer) {
  const timestamps = [];
  const { direct } = await server.consumeDirect(serverProducer, (packet) => {
    const ts = packet.readUInt32BE(4);
    if (timestamps[timestamps.length - 1] !== ts) timestamps.push(ts);
  });
  return { timestamps, close: () => direct.close() };
}

const cases = [
  { file: 'vp8.ivf', codec: 'video/VP8', kind: 'video', format: 'ivf' },
  { file: 'vp9.ivf', codec: 'video/VP9', kind: 'video', format: 'ivf' },
  { file: 'av1.ivf', codec: 'video/AV1', kind: 'video', format: 'ivf' },
  { file: 'h264.h264', codec: 'video/H264', kind: 'video', format: 'h264' },
  { file: 'opus.ogg', codec: 'audio/opus', kind: 'audio', format: 'ogg' },
];

test('each sample: produce() picks the file codec; the server counts packets and scores the producer', async (t) => {
  // all on one transport: producers of different video codecs share a PeerConnection
  const producers = [];
  const { transport, serverProducers } = await sendTransport(t);
  for (const c of cases) {
    const track = await createFileTrack(sample(c.file), { loop: true });
    assert.ok(track instanceof FileTrack);
    assert.equal(track.codec, c.codec);
    assert.equal(track.kind, c.kind);
    assert.equal(track.format, c.format);
    assert.equal(track.loop, true);
    assert.equal(track.readyState, 'live');
    producers.push(await transport.produce({ track, appData: { file: c.file } }));
  }
  for (const [i, c] of cases.entries()) {
    assert.equal(producers[i].rtpParameters.codecs[0].mimeType.toLowerCase(), c.codec.toLowerCase(), c.file);
    assert.equal(serverProducers[i].rtpParameters.codecs[0].mimeType.toLowerCase(), c.codec.toLowerCase());
  }
  if (cases.some((c) => c.codec === 'video/H264')) {
    const h264 = producers[cases.findIndex((c) => c.codec === 'video/H264')];
    assert.equal(Number(h264.rtpParameters.codecs[0].parameters['packetization-mode']), 1);
  }
  await Promise.all(
    serverProducers.map((p, i) =>
      until(
        async () => {
          const counters = await producerCounters(p);
          return counters.packets > 30 && p.score.some((s) => s.score > 0) && counters;
        },
        { timeout: 15000, what: `packets and a score > 0 for ${cases[i].file}` }
      )
    )
  );
});

test('loop: the file starts again with timestamps one frame after the last, never backwards', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const video = await createFileTrack(sample('vp8.ivf'), { loop: true });
  const audio = await createFileTrack(sample('opus.ogg'), { loop: true });
  await transport.produce({ track: video });
  await transport.produce({ track: audio });
  const seen = [await frameTimestamps(serverProducers[0]), await frameTimestamps(serverProducers[1])];
  t.after(() => seen.forEach((s) => s.close()));
  // the samples are 2 s long (60 video frames, ~100 Opus packets): 150 frames cross a loop
  await until(() => seen[0].timestamps.length >= 150 && seen[1].timestamps.length >= 250, {
    timeout: 15000,
    what: '150 video frames and 250 audio packets at the consumer',
  });
  for (const [name, { timestamps }, step] of [['video', seen[0], 3000], ['audio', seen[1], 960]]) {
    const steps = timestamps.slice(1).map((ts, i) => (ts - timestamps[i]) >>> 0);
    const odd = steps.map((s, i) => [i, s]).filter(([, s]) => Math.abs(s - step) > 1);
    assert.deepEqual(odd, [], `${name}: every step is one frame (${step} ticks), across loops too`);
  }
  assert.equal(video.readyState, 'live');
});

test('without loop the track ends at the end of the file: ended, trackended, no error', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = await createFileTrack(sample('opus.ogg'));
  const producer = await transport.produce({ track });
  const started = Date.now();
  await Promise.all([once(track, 'ended'), once(producer, 'trackended')]);
  const elapsed = Date.now() - started;
  assert.ok(elapsed > 1800 && elapsed < 6000, `played for ${elapsed} ms (the file is 2 s)`);
  assert.equal(track.readyState, 'ended');
  assert.equal(track.error, null);
  const { packets } = await producerCounters(serverProducers[0]);
  assert.ok(packets >= 90, `the server counted ${packets} packets of ~100`);
});

test('files that cannot be played reject createFileTrack() with the file name and the offset', async () => {
  const missing = path.join(tmp, 'missing.ivf');
  await assert.rejects(createFileTrack(missing), (e) => e.message.startsWith(`${missing}: cannot open`));

  const vp8 = fs.readFileSync(sample('vp8.ivf'));
  const cut = path.join(tmp, 'cut-header.ivf');
  fs.writeFileSync(cut, vp8.subarray(0, 20));
  await assert.rejects(createFileTrack(cut), {
    message: `${cut}: malformed IVF at byte offset 0: truncated file header: 32 bytes expected, 20 found before the end of the file`,
  });
  const badFourcc = path.join(tmp, 'fourcc.ivf');
  fs.writeFileSync(badFourcc, Buffer.concat([vp8.subarray(0, 8), Buffer.from('XVID'), vp8.subarray(12)]));
  await assert.rejects(createFileTrack(badFourcc), { message: /fourcc.ivf: malformed IVF at byte offset 8: unsupported fourcc "XVID"/ });
  const text = path.join(tmp, 'notes.txt');
  fs.writeFileSync(text, 'hello');
  await assert.rejects(createFileTrack(text), { message: /notes.txt: malformed media file at byte offset 0: not an IVF/ });
  const empty = path.join(tmp, 'empty.ogg');
  fs.writeFileSync(empty, '');
  await assert.rejects(createFileTrack(empty), { message: /empty.ogg: malformed media file at byte offset 0: empty file/ });
  const ogg = Buffer.from(fs.readFileSync(sample('opus.ogg')));
  ogg[40] ^= 0xff; // inside the OpusHead page: its CRC no longer matches
  const badOgg = path.join(tmp, 'crc.ogg');
  fs.writeFileSync(badOgg, ogg);
  await assert.rejects(createFileTrack(badOgg), { message: /crc.ogg: malformed Ogg\/Opus at byte offset 0/ });

  await assert.rejects(createFileTrack(''), TypeError);
  await assert.rejects(createFileTrack(sample('h264.h264'), { frameRate: -1 }), TypeError);
});

test('a file truncated in the middle ends the track while playing, with the offset in track.error', async (t) => {
  const { transport } = await sendTransport(t);
  const vp8 = fs.readFileSync(sample('vp8.ivf'));
  // cut inside the 20th frame
  let offset = 32;
  for (let i = 0; i < 19; i++) offset += 12 + vp8.readUInt32LE(offset);
  const file = path.join(tmp, 'truncated.ivf');
  fs.writeFileSync(file, vp8.subarray(0, offset + 12 + 5));
  const track = await createFileTrack(file, { loop: true });
  const producer = await transport.produce({ track });
  const trackended = once(producer, 'trackended');
  await once(track, 'ended');
  await trackended;
  assert.ok(track.error instanceof Error);
  assert.match(track.error.message, new RegExp(`truncated.ivf: malformed IVF at byte offset ${offset + 12}: truncated frame`));
  assert.equal(track.readyState, 'ended');
});

test('a router without the file codec: UnsupportedError; a codec option of another type: TypeError', async (t) => {
  const router = await server.worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
    ],
  });
  t.after(() => router.close());
  const vp8Only = new Device();
  await vp8Only.load({ routerRtpCapabilities: router.rtpCapabilities });
  const { transport, serverProducers } = await sendTransport(t, { router, dev: vp8Only });
  const vp9 = await createFileTrack(sample('vp9.ivf'));
  t.after(() => vp9.stop());
  await assert.rejects(transport.produce({ track: vp9 }), (e) => {
    assert.ok(e instanceof UnsupportedError);
    assert.match(e.message, /does not take video\/VP9, the codec of this track; its video codecs: video\/VP8/);
    return true;
  });
  assert.equal(serverProducers.length, 0, 'nothing was signalled');
  assert.equal(vp9.readyState, 'live');

  const vp8 = await createFileTrack(sample('vp8.ivf'));
  const vp9Codec = device.rtpCapabilities.codecs.find((c) => c.mimeType === 'video/VP9');
  const { transport: full } = await sendTransport(t);
  await assert.rejects(full.produce({ track: vp8, codec: vp9Codec }), TypeError);
  const producer = await full.produce({ track: vp8 });
  assert.equal(producer.rtpParameters.codecs[0].mimeType, 'video/VP8');
  // replacing it with a file of another codec is refused; writeFrame is not for file tracks
  await assert.rejects(producer.replaceTrack({ track: vp9 }), /holds video\/VP9 media/);
  assert.equal(producer.track, vp8, 'the refused track leaves the producer as it was');
  assert.equal(vp9.readyState, 'live', 'the program still owns the refused track');
  assert.throws(() => vp8.writeFrame(Buffer.alloc(10)), InvalidStateError);
});
