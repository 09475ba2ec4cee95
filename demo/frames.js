'use strict';

// Encoded frames made up for the demo and the tests: the server does not decode media, it only reads payload
// headers (VP8 keyframe bit and dimensions, Opus as is), so headers plus random bytes do.

const crypto = require('node:crypto');

// A VP8 frame: 3-byte frame tag (P bit 0 on keyframes, show_frame 1), and on keyframes the
// start code and a 320x240 size; then `size` random bytes.
function vp8Frame({ keyframe = false, size = 1000 } = {}) {
  const header = keyframe
    ? Buffer.from([0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
    : Buffer.from([0x11, 0x00, 0x00]);
  return Buffer.concat([header, crypto.randomBytes(size)]);
}

// An Opus packet: a TOC byte (config 31: CELT FB 20 ms, mono, one frame) and random bytes.
function opusPacket(size = 80) {
  return Buffer.concat([Buffer.from([0xf8]), crypto.randomBytes(size)]);
}

// Writes frames to `track` at `fps` until `stop()` is called. Frame 0 (and every
// `keyframeEvery`) is a keyframe; keyframe requests are answered with a keyframe.
function feed(track, { fps = 30, size = 1000, keyframeEvery = 60, layers = 1, make } = {}) {
  let n = 0;
  let wantKeyframe = true;
  const durationUs = Math.round(1e6 / fps);
  const onRequest = () => {
    wantKeyframe = true;
  };
  track.on('keyframerequest', onRequest);
  const frames = [];
  const timer = setInterval(() => {
    if (track.readyState === 'ended') return;
    const keyframe = wantKeyframe || n % keyframeEvery === 0;
    wantKeyframe = false;
    for (let layer = 0; layer < layers; layer++) {
      const data = make ? make({ keyframe, layer, n }) : track.kind === 'audio' ? opusPacket() : vp8Frame({ keyframe, size });
      try {
        track.writeFrame(data, { timestamp: n * durationUs, keyframe, layer });
        if (layer === 0) frames.push(data);
      } catch (error) {
        if (error.name !== 'InvalidStateError') throw error;
      }
    }
    n++;
  }, 1000 / fps);
  return {
    frames,
    stop() {
      clearInterval(timer);
      track.off('keyframerequest', onRequest);
    },
  };
}

module.exports = { vp8Frame, opusPacket, feed };
