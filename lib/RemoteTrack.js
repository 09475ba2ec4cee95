'use strict';

const { EventEmitter } = require('node:events');

// Frames (or packets) asked of the native track at once: whatever is queued, up to this.
const BATCH = 32;

// What a consumer receives, for a program (not a browser MediaStreamTrack): whole encoded
// frames in order, raw RTP, keyframe requests. `id`, `kind`, `readyState` ('live' | 'ended'),
// 'ended' event, as a track.
//
// - `for await (const frame of track.frames())` or `track.on('frame', (frame) => ...)`:
//   frames are queued natively while someone reads them (a bounded queue: a reader that falls
//   behind loses whole frames up to the next keyframe, counted in `stats().framesDroppedReader`).
// - `for await (const packet of track.rtp())` or `track.on('rtp', (packet) => ...)`: the RTP
//   packets (Buffer, header included), retransmissions already in place.
// - `requestKeyFrame()`: an RTCP PLI to the server, at most one per 300 ms.
class RemoteTrack extends EventEmitter {
  constructor(native) {
    super();
    this._native = native;
    this._id = native.id;
    this._kind = native.kind;
    this._codec = { mimeType: native.mimeType, clockRate: native.clockRate, payloadType: native.payloadType };
    this._ended = false;
    this._frameReaders = 0;
    this._packetReaders = 0;
    this._frameLoop = null;
    this._packetLoop = null;
    this.on('newListener', (event) => {
      if (event === 'frame' && !this._frameLoop) this._frameLoop = this._pump('frame');
      if (event === 'rtp' && !this._packetLoop) this._packetLoop = this._pump('rtp');
    });
  }

  get id() {
    return this._id;
  }
  get kind() {
    return this._kind;
  }
  // { mimeType, clockRate, payloadType } of what the track carries
  get codec() {
    return this._codec;
  }
  get readyState() {
    return this._ended ? 'ended' : 'live';
  }
  get enabled() {
    return !this._ended;
  }

  // Frames until the track ends (or the loop is left).
  frames() {
    return this._iterate('frame');
  }

  // RTP packets (Buffer, header included) until the track ends (or the loop is left).
  rtp() {
    return this._iterate('rtp');
  }

  requestKeyFrame() {
    if (this._ended) return false;
    return this._native.requestKeyFrame();
  }

  // Counters: packets, bytes, frames, framesDropped (undecodable after a loss),
  // framesDroppedReader (a slow reader), packetsLost, duplicates, packetsDroppedReader,
  // keyframeRequests.
  stats() {
    return this._native.stats();
  }

  stop() {
    // a remote track ends with its consumer: consumer.close()
  }

  async *_iterate(what) {
    const counter = what === 'frame' ? '_frameReaders' : '_packetReaders';
    this[counter]++;
    try {
      for (;;) {
        const batch = await this._next(what);
        if (!batch) return;
        for (const item of batch) yield what === 'frame' ? toFrame(item) : item;
      }
    } finally {
      this[counter]--;
      this._maybeStop(what);
    }
  }

  _next(what) {
    return what === 'frame' ? this._native.nextFrames(BATCH) : this._native.nextPackets(BATCH);
  }

  // Emits 'frame' / 'rtp' while there are listeners. Started from 'newListener', which is
  // emitted before the listener is added: the first round reads without counting them.
  async _pump(event) {
    try {
      for (let first = true; ; first = false) {
        if (!first && this.listenerCount(event) === 0) break;
        const batch = await this._next(event);
        if (!batch) break;
        for (const item of batch) this.emit(event, event === 'frame' ? toFrame(item) : item);
      }
    } finally {
      if (event === 'frame') this._frameLoop = null;
      else this._packetLoop = null;
      this._maybeStop(event);
    }
  }

  _maybeStop(what) {
    if (this._ended) return;
    if (what === 'frame' && this._frameReaders === 0 && !this._frameLoop && this.listenerCount('frame') === 0) {
      this._native.stopReading();
    }
    if (what === 'rtp' && this._packetReaders === 0 && !this._packetLoop && this.listenerCount('rtp') === 0) {
      this._native.stopReadingPackets();
    }
  }

  _end() {
    if (this._ended) return;
    this._ended = true;
    this.emit('ended');
  }
}

function toFrame(f) {
  return {
    data: f.data,
    timestamp: f.timestamp,
    rtpTimestamp: f.rtpTimestamp,
    keyframe: f.keyframe,
    spatialLayer: f.spatialLayer ?? undefined,
    temporalLayer: f.temporalLayer ?? undefined,
    gapBefore: f.gapBefore,
    ntpTime: f.ntpTime ?? undefined,
  };
}

module.exports = { RemoteTrack };
