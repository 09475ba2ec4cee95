'use strict';

const { EventEmitter } = require('node:events');
const { InvalidStateError, callNative, awaitNative } = require('./errors');
const { checkInteger } = require('./validate');
const frameDelivery = require('./frameDelivery');
const { BatchIterator } = require('./batchIterator');

// Packets asked of the native track at once: whatever is queued, up to this. Frames come
// through lib/frameDelivery.js (shared by every track), in batches of the same size; their
// fields are ReceivedFrame's (those without a value undefined).
const BATCH = frameDelivery.BATCH;

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
// - `record(path)`: the frames into a file (IVF for VP8/VP9/AV1, Ogg for Opus, Annex B for
//   H.264), timed by their RTP timestamps, from the next keyframe; `recorder.stop()` completes
//   it. The recording also ends with the track.
// - `forwardRtp({ address, port })`: the RTP packets to another tool (ffmpeg, GStreamer), with
//   `forwarder.sdp` to give it; its keyframe requests (RTCP PLI/FIR) are passed on.
class RemoteTrack extends EventEmitter {
  constructor(native) {
    super();
    this._native = native;
    this._id = native.id;
    this._kind = native.kind;
    this._codec = { mimeType: native.mimeType, clockRate: native.clockRate, payloadType: native.payloadType };
    this._ended = false;
    this._key = frameDelivery.newKey();
    this._frameReaders = 0;
    this._packetReaders = 0;
    this._frameLoop = null;
    this._packetLoop = null;
    // 'newListener' comes before the listener is added: the pump starts a tick later
    this.on('newListener', (event) => {
      if (event === 'frame' && !this._frameLoop) this._frameLoop = Promise.resolve().then(() => this._pump('frame'));
      if (event === 'rtp' && !this._packetLoop) this._packetLoop = Promise.resolve().then(() => this._pump('rtp'));
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

  record(path) {
    if (typeof path !== 'string' || !path) throw new TypeError('path must be a non-empty string');
    if (this._ended) throw new InvalidStateError('the track has ended');
    return new Recorder(callNative(() => this._native.record(path)), path);
  }

  async forwardRtp({ address = '127.0.0.1', port, rtcpPort, payloadType } = {}) {
    if (typeof address !== 'string' || !address) throw new TypeError('address must be a string (an IP address)');
    if (port === undefined) throw new TypeError('missing port');
    checkInteger(port, 'port', { min: 1, max: 65535 });
    checkInteger(rtcpPort, 'rtcpPort', { min: 1, max: 65535 });
    checkInteger(payloadType, 'payloadType', { min: 0, max: 127 });
    if (this._ended) throw new InvalidStateError('the track has ended');
    const native = await awaitNative(this._native.forwardRtp({ address, port, rtcpPort, payloadType }));
    const forwarder = new RtpForwarder(native);
    this.once('ended', () => forwarder.close());
    return forwarder;
  }

  _iterate(what) {
    const counter = what === 'frame' ? '_frameReaders' : '_packetReaders';
    return new BatchIterator({
      start: () => {
        this[counter]++;
        if (what === 'frame') frameDelivery.readerStarted();
      },
      next:
        what === 'frame'
          ? (onBatch) => frameDelivery.readFrames(this._native, this._key, onBatch)
          : (onBatch, onError) => this._next(what).then(onBatch, onError),
      stop: () => {
        this[counter]--;
        if (what === 'frame') frameDelivery.readerStopped();
        this._maybeStop(what);
      },
    });
  }

  _next(what) {
    return what === 'frame' ? frameDelivery.nextFrames(this._native, this._key) : this._native.nextPackets(BATCH);
  }

  // Emits 'frame' / 'rtp' while there are listeners (started a tick after 'newListener').
  async _pump(event) {
    if (event === 'frame') frameDelivery.readerStarted();
    try {
      for (;;) {
        if (this.listenerCount(event) === 0) break;
        const batch = await this._next(event);
        if (!batch) break;
        // a frame no listener got (the last one left meanwhile): released
        for (const item of batch) if (!this.emit(event, item)) item?.release?.();
      }
    } finally {
      if (event === 'frame') {
        this._frameLoop = null;
        frameDelivery.readerStopped();
      } else this._packetLoop = null;
      this._maybeStop(event);
    }
  }

  _maybeStop(what) {
    if (this._ended) return;
    if (what === 'frame' && this._frameReaders === 0 && !this._frameLoop && this.listenerCount('frame') === 0) {
      this._native.stopReading();
      frameDelivery.readingStopped(this._key);
    }
    if (what === 'rtp' && this._packetReaders === 0 && !this._packetLoop && this.listenerCount('rtp') === 0) {
      this._native.stopReadingPackets();
    }
  }

  _end() {
    if (this._ended) return;
    this._ended = true;
    frameDelivery.ended(this._key);
    this.emit('ended');
  }
}

// A recording of a track into a file: `stop()` completes the file and gives what was written
// ({ frames, bytes, duration } with the duration in microseconds).
class Recorder {
  constructor(native, path) {
    this._native = native;
    this._path = path;
  }
  get path() {
    return this._path;
  }
  get recording() {
    return this._native.recording;
  }
  stop() {
    return callNative(() => this._native.stop());
  }
}

// RTP of a track sent to another tool: `sdp` is what the tool opens; `close()` stops (an RTCP
// BYE tells the tool).
class RtpForwarder {
  constructor(native) {
    this._native = native;
    this._closed = false;
  }
  get sdp() {
    return this._native.sdp;
  }
  get localRtcpPort() {
    return this._native.localRtcpPort;
  }
  get closed() {
    return this._closed;
  }
  stats() {
    return this._native.stats();
  }
  close() {
    if (this._closed) return;
    this._closed = true;
    this._native.close();
  }
}

module.exports = { RemoteTrack, Recorder, RtpForwarder };
