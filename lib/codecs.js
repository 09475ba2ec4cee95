'use strict';

const { UnsupportedError } = require('./errors');

// The codec a producer must use for a track bound to one codec (file and RTP tracks have
// `track.codec`, e.g. 'video/VP8'): the router's codec of that mime type, from the device's
// RTP capabilities (for H.264, one with packetization-mode 1). `codec`, when the application
// gives it, must be of that mime type. Tracks with no codec take `codec` as it is.
function codecForTrack(track, rtpCapabilities, codec) {
  const mimeType = track.codec;
  if (!mimeType) return codec;
  const same = (c) => typeof c?.mimeType === 'string' && c.mimeType.toLowerCase() === mimeType.toLowerCase();
  if (codec !== undefined && codec !== null) {
    if (!same(codec)) {
      throw new TypeError(`codec ${codec?.mimeType} does not match the track, which holds ${mimeType}`);
    }
    return codec;
  }
  const codecs = (rtpCapabilities?.codecs ?? []).filter((c) => c.kind === track.kind);
  const found = codecs.filter(same).find((c) => {
    if (mimeType.toLowerCase() !== 'video/h264') return true;
    return String(c.parameters?.['packetization-mode'] ?? 0) === '1';
  });
  if (!found) {
    const offered = [...new Set(codecs.map((c) => c.mimeType).filter((m) => !/\/(rtx|red|ulpfec)$/i.test(m)))];
    throw new UnsupportedError(
      `the router does not take ${mimeType}, the codec of this track` +
        (mimeType.toLowerCase() === 'video/h264' ? ' (with packetization-mode 1)' : '') +
        `; its ${track.kind} codecs: ${offered.join(', ') || 'none'}`
    );
  }
  return found;
}

module.exports = { codecForTrack };
