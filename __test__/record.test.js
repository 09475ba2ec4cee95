'use strict';

// What a program does with a received track besides reading frames: record it to a file that
// ffmpeg plays with the right duration, forward its RTP to ffmpeg, read its raw RTP. Against
// the real worker; the sources are files of samples/ played by file tracks of this package.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { createFileTrack, InvalidStateError } = require('..');
const { startServerAndDevice } = require('./helpers/server');
const { sendTransport, connected } = require('./helpers/codec-session');
const { recvTransport, consume } = require('./helpers/recv-session');
const { parseRtp } = require('./helpers/depacketize');

const samples = path.join(__dirname, '..', 'samples');

let server;
let device;
let dir;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-record-'));
});
test.after(() => {
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function ffprobe(args) {
  const r = spawnSync('ffprobe', ['-v', 'error', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function duration(file) {
  return Number(ffprobe(['-show_entries', 'format=duration', '-of', 'csv=p=0', file]));
}

// ffmpeg decodes the whole file without an error.
function decodes(file) {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `ffmpeg: ${r.stderr}`);
}

// A file track of `sample` produced (looped), and its consumer on a receive transport, connected.
async function consumeFile(t, sample, { loop = true } = {}) {
  const { transport: send, serverProducers } = await sendTransport(t, { server, device });
  const track = await createFileTrack(path.join(samples, sample), { loop });
  t.after(() => track.stop());
  await send.produce({ track });
  await connected(send);
  const recv = await recvTransport(t, { server, device });
  const { consumer } = await consume({ ...recv, device }, serverProducers[0].id);
  await connected(recv.transport);
  return { consumer, track };
}

// Resolves after `ms` of media time has been received by `track` (its frames counted by a
// 'frame' listener), i.e. once the frame `ms` after the first one arrived.
function mediaTime(track, ms) {
  return new Promise((resolve) => {
    let first;
    const onFrame = (frame) => {
      first ??= frame.timestamp;
      if (frame.timestamp - first >= ms * 1000) {
        track.off('frame', onFrame);
        resolve();
      }
    };
    track.on('frame', onFrame);
  });
}

test('10 s of samples/vp8.ivf through the router, recorded: ffmpeg plays it, ~10 s long', async (t) => {
  const { consumer } = await consumeFile(t, 'vp8.ivf');
  const file = path.join(dir, 'vp8.ivf');
  const recorder = consumer.track.record(file);
  assert.equal(recorder.recording, true);
  await mediaTime(consumer.track, 10_200);
  const summary = recorder.stop();
  assert.equal(recorder.recording, false);
  assert.deepEqual(recorder.stop(), summary, 'stop() is idempotent');
  // the recording starts at the keyframe asked for, a frame or two after record()
  assert.ok(summary.duration >= 9.9e6 && summary.duration <= 10.3e6, `summary: ${JSON.stringify(summary)}`);
  const seconds = duration(file);
  assert.ok(Math.abs(seconds - summary.duration / 1e6) <= 0.04, `ffprobe: ${seconds} s, recorded ${summary.duration} µs`);
  assert.equal(ffprobe(['-select_streams', 'v', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', file]), 'vp8');
  decodes(file);
});

test('Opus and H.264 recordings: ffmpeg plays them with the duration received', async (t) => {
  const opus = await consumeFile(t, 'opus.ogg');
  const h264 = await consumeFile(t, 'h264.h264');
  const ogg = path.join(dir, 'opus.ogg');
  const annexb = path.join(dir, 'video.h264');
  const recorders = [opus.consumer.track.record(ogg), h264.consumer.track.record(annexb)];
  await Promise.all([mediaTime(opus.consumer.track, 3000), mediaTime(h264.consumer.track, 3000)]);
  const [audio, video] = recorders.map((r) => r.stop());
  assert.ok(Math.abs(duration(ogg) - audio.duration / 1e6) <= 0.03, `ogg: ${duration(ogg)} s, recorded ${audio.duration} µs`);
  decodes(ogg);
  // raw H.264 has no timestamps: the recording states its frame rate, which ffmpeg honours
  const mkv = path.join(dir, 'video.mkv');
  const copy = spawnSync('ffmpeg', ['-v', 'error', '-i', annexb, '-c', 'copy', mkv], { encoding: 'utf8' });
  assert.equal(copy.status, 0, copy.stderr);
  assert.ok(Math.abs(duration(mkv) - video.duration / 1e6) <= 0.1, `h264: ${duration(mkv)} s, recorded ${video.duration} µs`);
  decodes(annexb);
});

test('record() checks its path; a track that ended records nothing', async (t) => {
  const { consumer } = await consumeFile(t, 'vp8.ivf');
  assert.throws(() => consumer.track.record(''), TypeError);
  assert.throws(() => consumer.track.record(path.join(dir, 'no-such-dir', 'x.ivf')), /cannot create/);
  const file = path.join(dir, 'ended.ivf');
  const recorder = consumer.track.record(file);
  await mediaTime(consumer.track, 500);
  consumer.close();
  assert.equal(recorder.recording, false, 'the recording ended with the track');
  decodes(file);
  assert.throws(() => consumer.track.record(file), InvalidStateError);
});

test('forwardRtp(): ffmpeg reads the forwarded stream with the SDP given', async (t) => {
  const { consumer } = await consumeFile(t, 'vp8.ivf');
  const port = 20000 + 2 * Math.floor(Math.random() * 5000);
  const forwarder = await consumer.track.forwardRtp({ port });
  t.after(() => forwarder.close());
  assert.match(forwarder.sdp, new RegExp(`m=video ${port} RTP/AVPF \\d+`));
  assert.match(forwarder.sdp, /a=rtpmap:\d+ VP8\/90000/);
  const sdpFile = path.join(dir, 'forward.sdp');
  fs.writeFileSync(sdpFile, forwarder.sdp);
  const out = path.join(dir, 'forwarded.ivf');
  // ffmpeg stops by itself after 60 frames (from the first keyframe it sees: the file's own
  // come every loop, 2 s)
  const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, '-frames:v', '60', '-c', 'copy', '-y', out]);
  let stderr = '';
  ffmpeg.stderr.on('data', (d) => (stderr += d));
  t.after(() => ffmpeg.kill('SIGKILL'));
  const code = await new Promise((resolve) => ffmpeg.on('exit', resolve));
  assert.equal(code, 0, stderr);
  const frames = Number(ffprobe(['-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out]));
  assert.equal(frames, 60);
  decodes(out);
  const stats = forwarder.stats();
  assert.ok(stats.packets >= 60, `${stats.packets} packets forwarded`);
  assert.equal(stats.dropped, 0);
  forwarder.close();
  assert.equal(forwarder.closed, true);
});

test('rtp(): the raw packets, in order, with the consumer\'s SSRC and payload type', async (t) => {
  const { consumer } = await consumeFile(t, 'vp8.ivf');
  const { ssrc } = consumer.rtpParameters.encodings[0];
  const payloadType = consumer.rtpParameters.codecs[0].payloadType;
  const packets = [];
  for await (const packet of consumer.track.rtp()) {
    packets.push(parseRtp(packet));
    if (packets.length >= 60) break;
  }
  assert.ok(packets.every((p) => p.ssrc === ssrc && p.payloadType === payloadType));
  for (let i = 1; i < packets.length; i++) {
    assert.equal(packets[i].sequenceNumber, (packets[i - 1].sequenceNumber + 1) & 0xffff, `packet ${i} follows`);
  }
  assert.ok(packets.some((p) => p.marker), 'frame ends marked');
});
