'use strict';

// The sources of the receive benchmarks, in a process of their own (so that the receiving
// process is measured alone): plain RTP (no SRTP, no ICE) to the server's PlainTransports
// (comedia, RTCP muxed), one VP8 stream (4,000-byte frames at 30 fps, 4 packets each) and one
// Opus stream (50 packets/s) per source, the same media as the send benchmarks. Every frame
// carries its number (bytes 12-15 of a VP8 frame, 1-4 of an Opus packet), so that a receiver
// counts exactly which frames it missed. A keyframe every 2 s, and at the next frame after a
// PLI or FIR from the server.
//
// Run by bench/phase.js with an IPC channel (child_process.fork):
//   -> { cmd: 'start', sources: [{ video: { port, ssrc, payloadType }, audio: { ... } }] }
//   <- { started: true }
//   -> { cmd: 'counts' }  <- { counts: { video: [last frame number sent per source], audio: [...], packets, keyframeRequests } }
//   -> { cmd: 'stop' }    <- { stopped: { ...counts } }
// Frame numbers start at 0; -1: nothing sent yet.

const dgram = require('node:dgram');
const { media, VIDEO_FPS, AUDIO_FPS } = require('./clients');

const MTU = 1200;
const VIDEO_CLOCK = 90000;
const AUDIO_CLOCK = 48000;
const KEYFRAME_EVERY = 2 * VIDEO_FPS;
// byte offset of the frame number in a VP8 frame (past the keyframe's header) and an Opus packet
const VIDEO_NUMBER_AT = 12;
const AUDIO_NUMBER_AT = 1;

// A plain RTP stream to 127.0.0.1:port.
function stream({ port, ssrc, payloadType }, onKeyframeRequest) {
  const socket = dgram.createSocket('udp4');
  let ready = false;
  socket.connect(port, '127.0.0.1', () => {
    ready = true;
  });
  socket.on('error', () => {});
  // RTCP from the server: PSFB (206) PLI (1) or FIR (4), possibly inside a compound packet
  socket.on('message', (msg) => {
    for (let at = 0; at + 4 <= msg.length; ) {
      const pt = msg[at + 1];
      const fmt = msg[at] & 0x1f;
      if (pt === 206 && (fmt === 1 || fmt === 4)) onKeyframeRequest();
      at += (msg.readUInt16BE(at + 2) + 1) * 4;
    }
  });
  let seq = Math.floor(Math.random() * 65536);
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header.writeUInt32BE(ssrc >>> 0, 8);
  return {
    send(payload, timestamp, marker) {
      header[1] = (marker ? 0x80 : 0) | payloadType;
      header.writeUInt16BE(seq, 2);
      header.writeUInt32BE(timestamp >>> 0, 4);
      seq = (seq + 1) & 0xffff;
      if (ready) socket.send([header, payload]);
    },
    close() {
      socket.close();
    },
  };
}

function videoSource(params) {
  let wantKeyframe = false;
  let keyframeRequests = 0;
  const out = stream(params, () => {
    wantKeyframe = true;
    keyframeRequests++;
  });
  return {
    get keyframeRequests() {
      return keyframeRequests;
    },
    // frame n, packetized as RFC 7741 with a 1-byte payload descriptor (S bit on the first)
    frame(n) {
      const keyframe = wantKeyframe || n % KEYFRAME_EVERY === 0;
      wantKeyframe = false;
      const data = Buffer.from(keyframe ? media.keyframe : media.delta);
      data.writeUInt32BE(n >>> 0, VIDEO_NUMBER_AT);
      const count = Math.ceil(data.length / (MTU - 1));
      const size = Math.ceil(data.length / count);
      for (let i = 0; i < count; i++) {
        const chunk = data.subarray(i * size, Math.min(data.length, (i + 1) * size));
        out.send(Buffer.concat([Buffer.from([i === 0 ? 0x10 : 0x00]), chunk]), (n * VIDEO_CLOCK) / VIDEO_FPS, i === count - 1);
      }
      return count;
    },
    close: () => out.close(),
  };
}

function audioSource(params) {
  const out = stream(params, () => {});
  return {
    keyframeRequests: 0,
    frame(n) {
      const data = Buffer.from(media.opus);
      data.writeUInt32BE(n >>> 0, AUDIO_NUMBER_AT);
      out.send(data, (n * AUDIO_CLOCK) / AUDIO_FPS, true);
      return 1;
    },
    close: () => out.close(),
  };
}

// Frames of `sources` at `fps` each, their phases spread over a frame interval; frames that
// fall due while the thread was busy are sent at the next tick. last[i]: the number of the
// last frame of source i sent.
function pace(sources, fps, counts) {
  const count = sources.length;
  const period = 1000 / fps;
  const start = performance.now();
  const last = new Array(count).fill(-1);
  let next = 0;
  const tick = () => {
    const due = Math.floor(((performance.now() - start) / period) * count) + 1;
    for (; next < due; next++) {
      const i = next % count;
      const n = Math.floor(next / count);
      counts.packets += sources[i].frame(n);
      last[i] = n;
    }
  };
  const timer = setInterval(tick, 5);
  tick();
  return { last, stop: () => clearInterval(timer) };
}

let running = null;

function counts() {
  if (!running) return { video: [], audio: [], packets: 0, keyframeRequests: 0 };
  return {
    video: [...running.video.last],
    audio: [...running.audio.last],
    packets: running.counts.packets,
    keyframeRequests: running.videos.reduce((a, v) => a + v.keyframeRequests, 0),
  };
}

function main() {
  process.on('message', (msg) => {
    if (msg.cmd === 'start') {
      const videos = msg.sources.map((s) => videoSource(s.video));
      const audios = msg.sources.map((s) => audioSource(s.audio));
      const c = { packets: 0 };
      running = { videos, audios, counts: c, video: pace(videos, VIDEO_FPS, c), audio: pace(audios, AUDIO_FPS, c) };
      process.send({ started: true });
    } else if (msg.cmd === 'counts') {
      process.send({ counts: counts() });
    } else if (msg.cmd === 'stop') {
      if (running) {
        running.video.stop();
        running.audio.stop();
      }
      const final = counts();
      if (running) for (const s of [...running.videos, ...running.audios]) s.close();
      running = null;
      process.send({ stopped: final }, () => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main();

