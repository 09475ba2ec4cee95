'use strict';

const native = require('../native.js');
const { Track } = require('./Track');
const { InvalidStateError, callNative } = require('./errors');

const DEFAULT_CODEC = { audio: 'audio/opus', video: 'video/VP8' };

// A track fed by RTP that another tool (ffmpeg, GStreamer) sends to a local UDP port
// (`port`). Payloads go to the producer as they are, re-stamped with the producer's SSRC,
// payload type and sequence numbers, their timestamps continued across restarts of the tool.
// Keyframe requests go back to the tool as RTCP PLI when it sends RTCP to this port (or
// listens on `rtcpPort`). `stop()` closes the port; until then it keeps Node running, as a
// socket does.
class RtpTrack extends Track {
  constructor(ingest, codecParameters) {
    super(ingest.track());
    this._ingest = ingest;
    this._codecParameters = codecParameters;
    // like a socket, a listening port keeps Node running until stop()
    const keepAlive = setInterval(() => {}, 0x7fffffff);
    this._native.onEnded(() => clearInterval(keepAlive));
  }

  get codec() {
    return this._ingest.codec;
  }
  // the profile the program said the tool sends (a copy): what produce() matches
  get codecParameters() {
    return structuredClone(this._codecParameters);
  }
  get port() {
    return this._ingest.port;
  }
  get address() {
    return this._ingest.address;
  }

  // Counters: packetsReceived, bytesReceived, packetsForwarded, packetsDropped, senders (one
  // more at each restart of the tool), rtcpReceived, pliSent, pliUnsent, ssrc, sender.
  get stats() {
    return this._ingest.stats();
  }

  writeFrame() {
    throw new InvalidStateError('an RTP track is fed by its UDP port: writeFrame() is for tracks made with createTrack()');
  }
}

// createRtpTrack({ kind, codec, port, address, rtcpPort }): binds `address`:`port`
// (127.0.0.1 and any free port by default) at once; throws when the port cannot be bound.
// `codec` is what the tool sends: 'video/VP8' (video default), 'video/VP9', 'video/H264',
// 'video/AV1', 'audio/opus' (audio default), or `{ mimeType, parameters }` with the profile
// the tool sends (VP9 'profile-id', AV1 'profile', H.264 'profile-level-id' and
// 'packetization-mode'), which produce() then matches with the router's codecs.
function createRtpTrack({ kind, codec, port = 0, address = '127.0.0.1', rtcpPort } = {}) {
  if (kind !== 'audio' && kind !== 'video') throw new TypeError(`invalid kind "${kind}" (expected 'audio' or 'video')`);
  let codecParameters = {};
  if (codec !== undefined && typeof codec === 'object' && codec !== null) {
    const { parameters } = codec;
    if (parameters !== undefined && (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))) {
      throw new TypeError('codec.parameters must be an object');
    }
    for (const [key, value] of Object.entries(parameters ?? {})) {
      if (!(typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value))) {
        throw new TypeError(`codec.parameters["${key}"] must be a string, a number or a boolean`);
      }
    }
    codecParameters = structuredClone(parameters ?? {});
    codec = codec.mimeType;
  }
  codec = codec ?? DEFAULT_CODEC[kind];
  if (typeof codec !== 'string') throw new TypeError('codec must be a mime type such as "video/VP8"');
  for (const [name, value] of [['port', port], ['rtcpPort', rtcpPort ?? 1]]) {
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new TypeError(`${name} must be a port number`);
  }
  if (typeof address !== 'string') throw new TypeError('address must be a string');
  const ingest = callNative(() => native.createRtpIngest(kind, codec, address, port, rtcpPort ?? null));
  return new RtpTrack(ingest, codecParameters);
}

module.exports = { RtpTrack, createRtpTrack };
