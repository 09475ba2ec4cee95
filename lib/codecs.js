'use strict';

const ortc = require('./ortc');

// The codec a producer must use for a track bound to one bitstream (file and RTP tracks have
// `track.codec`, e.g. 'video/VP9', and `track.codecParameters`, the profile they hold: VP9
// profile-id, AV1 profile, H.264 profile-level-id and packetization-mode): the router's codec
// of that mime type and profile, from the device's RTP capabilities (profiles read from the
// router's RTP capabilities the device was loaded with); an UnsupportedError naming what the
// router has when there is none. `codec`, when the application gives it, must be of that
// mime type and profile (TypeError). The rules are the native ORTC layer's
// (src/ortc/track_codec.rs). Tracks with no codec take `codec` as it is.
function codecForTrack(track, rtpCapabilities, codec, routerRtpCapabilities) {
  const mimeType = track.codec;
  if (!mimeType) return codec;
  const trackCodec = { kind: track.kind, mimeType, parameters: track.codecParameters ?? {} };
  if (codec !== undefined && codec !== null) {
    const asked = typeof codec === 'object' ? codec.mimeType : undefined;
    if (typeof asked !== 'string') {
      throw new TypeError(`codec ${asked} does not match the track, which holds ${mimeType}`);
    }
    const { parameters } = codec;
    ortc.checkCodecForTrack(trackCodec, {
      mimeType: asked,
      parameters: parameters !== null && typeof parameters === 'object' ? parameters : {},
    });
    return codec;
  }
  return ortc.codecForTrack(trackCodec, rtpCapabilities ?? { codecs: [] }, routerRtpCapabilities);
}

module.exports = { codecForTrack };
