'use strict';

// Minimal encoded frames for the codec tests, and a writer that logs what it wrote.
//
// mediasoup does not decode media: it reads payload descriptors and a few bitstream headers
// (H.264 NAL unit types, the VP9 payload descriptor that our packetizer derives from the VP9
// uncompressed header, VP8 P bit). So the headers below are real and the rest is random bytes.
// Random bytes never contain 0x00: in an H.264 access unit a zero could form a start code
// (00 00 01) or a trailing zero that Annex B parsing drops, and the tests compare bytes.

const crypto = require('node:crypto');
const { vp8Frame, opusPacket } = require('./media');

// `n` random bytes, none of them 0.
function nonZeroBytes(n) {
  const b = crypto.randomBytes(n);
  for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 1 + (i % 255);
  return b;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

// H.264 (constrained baseline, 42e01f) NAL units: the header byte is F=0, NRI, type.
const h264 = {
  // SPS (type 7): profile_idc 66 (0x42), constraint_set0..2 (0xe0), level_idc 31 (0x1f).
  sps: () => Buffer.concat([Buffer.from([0x67, 0x42, 0xe0, 0x1f]), nonZeroBytes(8)]),
  // PPS (type 8).
  pps: () => Buffer.concat([Buffer.from([0x68]), nonZeroBytes(4)]),
  // IDR slice (type 5), NRI 3.
  idr: (size) => Buffer.concat([Buffer.from([0x65]), nonZeroBytes(size)]),
  // non-IDR slice (type 1), NRI 2.
  slice: (size) => Buffer.concat([Buffer.from([0x41]), nonZeroBytes(size)]),
};

// An H.264 Annex B access unit (4-byte start codes): SPS, PPS and IDR on keyframes, one
// non-IDR slice otherwise. mediasoup 3.19.3 flags an H.264 packet as a keyframe when it holds
// an SPS (NAL type 7, alone, in a STAP-A, or as the start of an FU-A).
function h264AccessUnit({ keyframe = false, size = 1000 } = {}) {
  const nalus = keyframe ? [h264.sps(), h264.pps(), h264.idr(size)] : [h264.slice(size)];
  return Buffer.concat(nalus.flatMap((n) => [START_CODE, n]));
}

// Writes bits most significant first.
class BitWriter {
  constructor() {
    this.bytes = [];
    this.n = 0;
  }
  put(value, bits) {
    for (let i = bits - 1; i >= 0; i--) {
      if (this.n % 8 === 0) this.bytes.push(0);
      this.bytes[this.bytes.length - 1] |= ((value >> i) & 1) << (7 - (this.n % 8));
      this.n++;
    }
    return this;
  }
  buffer() {
    return Buffer.from(this.bytes);
  }
}

// A VP9 profile 0 frame: the start of the uncompressed header (VP9 bitstream spec 6.2) with
// frame_type right (0 = KEY_FRAME), and on keyframes the sync code, color config and size
// (read by the packetizer for the payload descriptor's scalability structure); then random.
function vp9Frame({ keyframe = false, size = 1000, width = 320, height = 240 } = {}) {
  const w = new BitWriter();
  w.put(2, 2); // frame_marker
  w.put(0, 1).put(0, 1); // profile_low_bit, profile_high_bit: profile 0
  w.put(0, 1); // show_existing_frame
  w.put(keyframe ? 0 : 1, 1); // frame_type
  w.put(1, 1); // show_frame
  w.put(0, 1); // error_resilient_mode
  if (keyframe) {
    w.put(0x498342, 24); // frame_sync_code
    w.put(1, 3); // color_space CS_BT_601
    w.put(0, 1); // color_range
    w.put(width - 1, 16);
    w.put(height - 1, 16);
  }
  return Buffer.concat([w.buffer(), crypto.randomBytes(size)]);
}

function leb128(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

// One OBU with its size field: header (type, obu_has_size_field = 1), leb128 size, payload.
function obu(type, payload) {
  return Buffer.concat([Buffer.from([(type << 3) | 0x02]), leb128(payload.length), payload]);
}

const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;
const OBU_FRAME = 6;

// An AV1 temporal unit in low-overhead format: temporal delimiter, on keyframes a sequence
// header (seq_profile 0, still_picture 0, reduced_still_picture_header 0), then a frame OBU
// whose header starts show_existing_frame = 0, frame_type = KEY_FRAME (0) or INTER_FRAME (1).
function av1TemporalUnit({ keyframe = false, size = 1000 } = {}) {
  const obus = [obu(OBU_TEMPORAL_DELIMITER, Buffer.alloc(0))];
  if (keyframe) obus.push(obu(OBU_SEQUENCE_HEADER, Buffer.concat([Buffer.from([0x00]), crypto.randomBytes(10)])));
  const first = keyframe ? 0x10 : 0x30; // 0 00 1.... (key, show_frame) / 0 01 1.... (inter, show_frame)
  obus.push(obu(OBU_FRAME, Buffer.concat([Buffer.from([first]), crypto.randomBytes(size)])));
  return Buffer.concat(obus);
}

// Frame makers by mime type (lower case): ({ keyframe, size }) => Buffer.
const makers = {
  'video/vp8': ({ keyframe, size }) => vp8Frame({ keyframe, size }),
  'video/vp9': vp9Frame,
  'video/h264': h264AccessUnit,
  'video/av1': av1TemporalUnit,
  'audio/opus': ({ size }) => opusPacket(size),
};

// Writes frames made by `make({ keyframe, n })` to `track` every `1000 / fps` ms, with
// timestamps in microseconds (`nextTimestamp(n, previous)`, default: n / fps seconds).
// Frame 0 and every `keyframeEvery`-th frame are keyframes, and so is the next frame after a
// 'keyframerequest'. Stops after `count` frames (then `done` resolves) or on `stop()`.
// `tellKeyframe: false` leaves `keyframe` out of writeFrame(), for the library to read it
// from the bitstream.
// `written` logs each frame: { n, data, keyframe, timestamp, packets } (packets: what
// writeFrame returned, the number of RTP packets sent).
function startWriter(track, make, { fps = 30, count = Infinity, keyframeEvery = 30, nextTimestamp, tellKeyframe = true } = {}) {
  const written = [];
  const requests = [];
  let wantKeyframe = false;
  const onRequest = (layer) => {
    requests.push(layer);
    wantKeyframe = true;
  };
  track.on('keyframerequest', onRequest);
  const periodUs = 1e6 / fps;
  nextTimestamp ??= (n) => Math.round(n * periodUs);
  let finish;
  let fail;
  const done = new Promise((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let timer;
  const stop = () => {
    clearInterval(timer);
    track.off('keyframerequest', onRequest);
    finish(written);
  };
  const tick = () => {
    const n = written.length;
    if (n >= count) return stop();
    const keyframe = n === 0 || wantKeyframe || n % keyframeEvery === 0;
    wantKeyframe = false;
    const data = make({ keyframe, n });
    const timestamp = nextTimestamp(n, n > 0 ? written[n - 1].timestamp : undefined);
    try {
      const packets = track.writeFrame(data, tellKeyframe ? { timestamp, keyframe } : { timestamp });
      written.push({ n, data, keyframe, timestamp, packets });
    } catch (error) {
      clearInterval(timer);
      track.off('keyframerequest', onRequest);
      fail(error);
    }
  };
  timer = setInterval(tick, 1000 / fps);
  tick();
  done.catch(() => {});
  return { written, requests, done, stop };
}

module.exports = {
  nonZeroBytes,
  h264,
  h264AccessUnit,
  vp9Frame,
  av1TemporalUnit,
  obu,
  leb128,
  makers,
  startWriter,
  OBU_SEQUENCE_HEADER,
  OBU_TEMPORAL_DELIMITER,
  OBU_FRAME,
};
