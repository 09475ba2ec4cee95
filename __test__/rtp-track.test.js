'use strict';

// RTP tracks end to end: ffmpeg and GStreamer (from Debian, installed by
// scripts/setup-media-tools.sh) and a sender written here send RTP to a track's port; the track
// feeds a producer on the real mediasoup worker on 127.0.0.1.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { spawn, spawnSync } = require('node:child_process');
const { once } = require('node:events');
const { Device, createRtpTrack, RtpTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, producerCounters, until } = require('./helpers/server');
const { vp8Frame } = require('./helpers/media');

const has = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const hasFfmpeg = has('ffmpeg', ['-hide_banner', '-version']);
const hasGstreamer = has('gst-inspect-1.0', ['rtpvp8pay']) && has('gst-inspect-1.0', ['vp8enc']);
const noFfmpeg = !hasFfmpeg && 'ffmpeg is not installed (bash scripts/setup-media-tools.sh installs it)';
const noGstreamer = !hasGstreamer && 'GStreamer is not installed (bash scripts/setup-media-tools.sh installs it)';

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

const sendTransport = (t) => server.sendTransport(t, device);

const encoders = {
  'video/VP8': ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-g', '30'],
  'video/VP9': ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k', '-g', '30', '-strict', 'experimental'],
  'video/H264': ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '30'],
  'audio/opus': ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-c:a', 'libopus', '-b:a', '32k'],
};

// Runs ffmpeg sending `codec` as RTP to `port` in real time; killed when the test ends.
function ffmpeg(t, codec, port) {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', ...encoders[codec], '-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'inherit'] }
  );
  t.after(() => child.kill('SIGKILL'));
  return child;
}

async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  s.close();
  return port;
}

test('ffmpeg into RTP tracks (VP8, VP9, H.264, Opus): the server counts packets and scores the producers', { skip: noFfmpeg }, async (t) => {
  const runs = [];
  for (const codec of Object.keys(encoders)) {
    const { transport, serverProducers } = await sendTransport(t);
    const track = createRtpTrack({ kind: codec.split('/')[0], codec });
    t.after(() => track.stop());
    assert.ok(track instanceof RtpTrack);
    assert.equal(track.codec, codec);
    assert.equal(track.address, '127.0.0.1');
    assert.ok(track.port > 0);
    const producer = await transport.produce({ track });
    assert.equal(producer.rtpParameters.codecs[0].mimeType.toLowerCase(), codec.toLowerCase());
    ffmpeg(t, codec, track.port);
    runs.push({ codec, track, serverProducer: serverProducers[0] });
  }
  await Promise.all(
    runs.map(({ codec, serverProducer }) =>
      until(
        async () => {
          const c = await producerCounters(serverProducer);
          return c.packets > 50 && serverProducer.score.some((s) => s.score > 0) && c;
        },
        { timeout: 20000, what: `packets and a score > 0 from ffmpeg ${codec}` }
      )
    )
  );
  for (const { codec, track } of runs) {
    const stats = track.stats;
    assert.equal(stats.senders, 1, codec);
    assert.ok(stats.packetsForwarded > 50, `${codec}: ${JSON.stringify(stats)}`);
  }
});

test('the stream survives ffmpeg being restarted: new SSRC, sequence numbers and timestamps, no jump back', { skip: noFfmpeg }, async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createRtpTrack({ kind: 'video' });
  t.after(() => track.stop());
  await transport.produce({ track });
  const frames = [];
  const { direct } = await server.consumeDirect(serverProducers[0], (packet) => {
    const ts = packet.readUInt32BE(4);
    if (frames[frames.length - 1]?.ts !== ts) frames.push({ ts, at: Date.now() });
  });
  t.after(() => direct.close());

  const first = ffmpeg(t, 'video/VP8', track.port);
  await until(() => frames.length >= 30, { timeout: 15000, what: '30 frames from the first ffmpeg' });
  const firstSsrc = track.stats.ssrc;
  first.kill('SIGKILL');
  await once(first, 'exit');
  const beforeRestart = frames.length;
  await new Promise((resolve) => setTimeout(resolve, 300));

  ffmpeg(t, 'video/VP8', track.port);
  await until(() => frames.length >= beforeRestart + 30, { timeout: 15000, what: '30 frames from the second ffmpeg' });
  const stats = track.stats;
  assert.equal(stats.senders, 2);
  assert.notEqual(stats.ssrc, firstSsrc);

  // timestamps only go forward; across the restart by about the time that passed
  for (let i = 1; i < frames.length; i++) {
    const step = (frames[i].ts - frames[i - 1].ts) >>> 0;
    assert.ok(step > 0 && step < 2 ** 31, `frame ${i}: timestamp step ${step}`);
  }
  const gap = frames[beforeRestart].ts - frames[beforeRestart - 1].ts;
  const wall = (frames[beforeRestart].at - frames[beforeRestart - 1].at) * 90;
  assert.ok(Math.abs((gap >>> 0) - wall) < 90 * 1000, `restart gap ${gap >>> 0} ticks for ${wall} ticks of wall time`);
  await until(() => serverProducers[0].score.some((s) => s.score > 0), { what: 'a score > 0 after the restart' });
});

test('GStreamer: a keyframe request from the server reaches the encoder as an RTCP PLI', { skip: noGstreamer }, async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const rtcpPort = await freeUdpPort();
  const track = createRtpTrack({ kind: 'video', codec: 'video/VP8', rtcpPort });
  t.after(() => track.stop());
  await transport.produce({ track });
  // a keyframe only every 100 s: the consumer below gets a picture only if its PLI gets through
  const gst = spawn(
    'gst-launch-1.0',
    [
      '-q', 'rtpbin', 'name=b',
      'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=30/1',
      '!', 'vp8enc', 'deadline=1', 'keyframe-max-dist=3000', '!', 'rtpvp8pay', 'pt=96', 'mtu=1200', '!', 'b.send_rtp_sink_0',
      'b.send_rtp_src_0', '!', 'udpsink', 'host=127.0.0.1', `port=${track.port}`,
      'b.send_rtcp_src_0', '!', 'udpsink', 'host=127.0.0.1', `port=${track.port}`, 'sync=false', 'async=false',
      'udpsrc', `port=${rtcpPort}`, '!', 'b.recv_rtcp_sink_0',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] }
  );
  t.after(() => gst.kill('SIGKILL'));
  await until(async () => (await producerCounters(serverProducers[0])).packets > 60, {
    timeout: 15000,
    what: 'packets from GStreamer',
  });
  await until(() => track.stats.rtcpReceived > 0, { timeout: 10000, what: 'RTCP from GStreamer on the track port' });
  const pliBefore = track.stats.pliSent;
  let received = 0;
  const { direct } = await server.consumeDirect(serverProducers[0], () => received++);
  t.after(() => direct.close());
  await until(() => received > 10, { timeout: 5000, what: 'the consumer to get a keyframe and the frames after it' });
  assert.ok(track.stats.pliSent > pliBefore, `PLI sent: ${JSON.stringify(track.stats)}`);
});

// A sender made here: VP8 frames (one packet each) as RTP from a UDP socket, RTCP on the same
// port (rtcp-mux), and it records the RTCP that comes back.
function fakeTool(port) {
  const socket = dgram.createSocket('udp4');
  const received = [];
  socket.on('message', (m) => received.push(m));
  let seq = 1000;
  let n = 0;
  const ssrc = 0x11223344;
  const timer = setInterval(() => {
    const payload = Buffer.concat([Buffer.from([0x10]), vp8Frame({ keyframe: n % 30 === 0, size: 500 })]);
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0x80 | 96;
    header.writeUInt16BE(seq++ & 0xffff, 2);
    header.writeUInt32BE((n++ * 3000) >>> 0, 4);
    header.writeUInt32BE(ssrc, 8);
    socket.send(Buffer.concat([header, payload]), port, '127.0.0.1');
  }, 33);
  // an RTCP receiver report with no block, so the track learns where to send PLIs
  const rr = Buffer.from([0x80, 201, 0, 1, 0x11, 0x22, 0x33, 0x44]);
  socket.send(rr, port, '127.0.0.1');
  return {
    ssrc,
    received,
    stop() {
      clearInterval(timer);
      socket.close();
    },
  };
}

test('a sender on rtcp-mux gets the keyframe requests as PLI; stop() closes the port', async (t) => {
  const { transport, serverProducers } = await sendTransport(t);
  const track = createRtpTrack({ kind: 'video' });
  await transport.produce({ track });
  const tool = fakeTool(track.port);
  t.after(() => tool.stop());
  await until(async () => (await producerCounters(serverProducers[0])).packets > 30, { what: 'packets from the sender' });
  await until(() => track.stats.rtcpReceived > 0, { what: 'the RTCP report' });
  const keyframeRequests = [];
  track.on('keyframerequest', (layer) => keyframeRequests.push(layer));
  const { direct, consumer } = await server.consumeDirect(serverProducers[0], () => {});
  t.after(() => direct.close());
  await consumer.requestKeyFrame();
  const pli = await until(() => tool.received.find((m) => m[1] === 206 && (m[0] & 0x1f) === 1), {
    what: 'a PLI at the sender',
  });
  assert.equal(pli.readUInt32BE(8), tool.ssrc, 'the PLI names the sender SSRC');
  // the event comes through the JS thread on its own path: it may land after the PLI
  await until(() => keyframeRequests.length > 0, { what: "the track's keyframerequest event" });
  assert.ok(keyframeRequests.every((l) => l === 0));
  assert.ok(track.stats.pliSent >= 1);

  const { port } = track;
  track.stop();
  assert.equal(track.readyState, 'ended');
  await until(
    async () => {
      const s = dgram.createSocket('udp4');
      try {
        await new Promise((resolve, reject) => {
          s.once('error', reject);
          s.bind(port, '127.0.0.1', resolve);
        });
        return true;
      } catch {
        return false;
      } finally {
        s.close();
      }
    },
    { what: 'the port to be free after stop()' }
  );
});

test('createRtpTrack() argument errors; a taken port; a router without the codec', async (t) => {
  assert.throws(() => createRtpTrack({}), TypeError);
  assert.throws(() => createRtpTrack({ kind: 'video', port: 70000 }), TypeError);
  assert.throws(() => createRtpTrack({ kind: 'video', address: 'nowhere' }), /invalid address/);
  assert.throws(() => createRtpTrack({ kind: 'video', codec: 'audio/opus' }), { name: 'TypeError', message: /not a video codec/ });
  assert.throws(() => createRtpTrack({ kind: 'video', codec: 'video/H265' }), UnsupportedError);
  const first = createRtpTrack({ kind: 'audio' });
  t.after(() => first.stop());
  assert.equal(first.codec, 'audio/opus');
  assert.throws(() => createRtpTrack({ kind: 'audio', port: first.port }), (e) => {
    assert.match(e.message, new RegExp(`^udp://127.0.0.1:${first.port}: cannot listen for RTP: `));
    return true;
  });
  assert.throws(() => first.writeFrame(Buffer.alloc(10)), InvalidStateError);

  const router = await server.worker.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
  t.after(() => router.close());
  const vp8Only = new Device();
  await vp8Only.load({ routerRtpCapabilities: router.rtpCapabilities });
  const { transport } = await server.sendTransport(t, vp8Only, { on: router });
  const h264 = createRtpTrack({ kind: 'video', codec: 'video/H264' });
  t.after(() => h264.stop());
  await assert.rejects(transport.produce({ track: h264 }), UnsupportedError);
});
