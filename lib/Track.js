'use strict';

const native = require('../native.js');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, callNative } = require('./errors');
const { checkBoolean, checkInteger } = require('./validate');

// The native track keeps its callbacks as long as it lives, so callbacks that held the Track
// would make a reference cycle through napi that no GC sees: every track would leak. They
// hold it through `holder`, which lets go once the track has ended (a live track stays
// alive, as in browsers). Made here, not in the constructor, so that no closure holds `this`.
function nativeListeners(track) {
  const holder = { track };
  return {
    keyframeRequest: (layer, reason) => holder.track?.safeEmit('keyframerequest', layer, reason),
    ended: (reason) => {
      const ended = holder.track;
      holder.track = null;
      if (ended && reason !== 'stopped') ended.safeEmit('ended');
    },
  };
}

// A track that a Node program feeds with encoded frames: what `transport.produce({ track })`
// takes. Like a W3C MediaStreamTrack it has `kind`, `id`, `enabled`, `readyState` and `stop()`.
// Events: 'ended' (the source ended; `stop()` ends the track silently, as in browsers),
// 'keyframerequest' (layer, reason): a keyframe of that encoding is wanted, because the track
// was just plugged into a producer or a layer switched back on ('start'), media restarts after
// a pause ('resume'), or the server asked for one with a PLI/FIR ('server').
class Track extends EnhancedEventEmitter {
  constructor(nativeTrack) {
    super();
    this._native = nativeTrack;
    const listeners = nativeListeners(this);
    this._native.onKeyframeRequest(listeners.keyframeRequest);
    this._native.onEnded(listeners.ended);
  }

  get id() {
    return this._native.id;
  }
  get kind() {
    return this._native.kind;
  }
  get enabled() {
    return this._native.enabled;
  }
  set enabled(enabled) {
    this._native.enabled = Boolean(enabled);
  }
  get readyState() {
    return this._native.readyState;
  }

  stop() {
    this._native.stop();
  }

  // A track feeds one producer at a time: produce() and replaceTrack() claim it before they
  // touch it, so a second producer is refused while the first one keeps the track live.
  _claim() {
    if (this._claimed) throw new InvalidStateError('track already in use by another producer');
    this._claimed = true;
  }

  _unclaim() {
    this._claimed = false;
  }

  // Writes one encoded frame (a Buffer or Uint8Array): VP8/VP9 frame, H.264 Annex B access
  // unit, AV1 temporal unit, Opus packet. Options: `timestamp` or `duration` in microseconds
  // (as WebCodecs), `keyframe` (read from the bitstream when omitted), `layer` (simulcast
  // encoding index, 0 = lowest), audio only: `audioLevel` (RFC 6464 -dBov, 0 = loudest, 127 =
  // silence) and `voiceActivity` (its V bit). Returns the number of RTP packets sent; throws
  // an InvalidStateError when the track is not producing or has ended.
  writeFrame(data, { timestamp, duration, keyframe, layer = 0, audioLevel, voiceActivity } = {}) {
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Buffer or Uint8Array');
    for (const [name, value] of [['timestamp', timestamp], ['duration', duration]]) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
        throw new TypeError(`${name} must be a finite, non-negative number of microseconds`);
      }
    }
    checkBoolean(keyframe, 'keyframe');
    checkInteger(layer, 'layer');
    if (audioLevel !== undefined && (!Number.isInteger(audioLevel) || audioLevel < 0 || audioLevel > 127)) {
      throw new TypeError('audioLevel must be an integer from 0 (loudest) to 127 (silence): -dBov as in RFC 6464');
    }
    if (voiceActivity !== undefined && typeof voiceActivity !== 'boolean') throw new TypeError('voiceActivity must be a boolean');
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return callNative(() =>
      this._native.writeFrame(buffer, timestamp, duration, keyframe, layer, audioLevel, voiceActivity)
    );
  }
}

// createTrack({ kind, measureAudioLevel }): a track fed with encoded frames by the program.
// `measureAudioLevel` (audio): frames written with no `audioLevel` are decoded for it.
function createTrack({ kind, measureAudioLevel = false } = {}) {
  if (kind !== 'audio' && kind !== 'video') throw new TypeError(`invalid kind "${kind}" (expected 'audio' or 'video')`);
  if (typeof measureAudioLevel !== 'boolean') throw new TypeError('measureAudioLevel must be a boolean');
  return new Track(new native.NativeTrack(kind, measureAudioLevel));
}

module.exports = { Track, createTrack };
