'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, callNative, awaitNative } = require('./errors');
const { Track } = require('./Track');
const { toStatsMap } = require('./stats');
const { checkFiniteNumbers } = require('./validate');

// A mediasoup-client Producer, over the native producer that transport.produce() made (fed by
// its track already). Events: 'transportclose', 'trackended'; observer: 'close',
// 'pause', 'resume', 'trackended'.
class Producer extends EnhancedEventEmitter {
  constructor({ nativeProducer, track, stopTracks, disableTrackOnPause, zeroRtpOnPause, appData, onClose }) {
    super();
    this._native = nativeProducer;
    this._id = nativeProducer.id;
    this._localId = nativeProducer.localId;
    this._kind = nativeProducer.kind;
    this._rtpParameters = nativeProducer.rtpParameters();
    this._stopTracks = stopTracks;
    this._disableTrackOnPause = disableTrackOnPause;
    this._zeroRtpOnPause = zeroRtpOnPause;
    this._appData = appData;
    this._onClose = onClose;
    this._closed = false;
    // as mediasoup-client: a disabled track gives a paused producer (with disableTrackOnPause)
    this._paused = disableTrackOnPause ? !track.enabled : false;
    this._maxSpatialLayer = undefined;
    this._track = null;
    this._observer = new EnhancedEventEmitter();
    this._onTrackEnded = () => {
      this.safeEmit('trackended');
      this._observer.safeEmit('trackended');
    };
    if (this._paused) callNative(() => this._native.pause());
    this._adoptTrack(track);
  }

  get id() {
    return this._id;
  }
  get localId() {
    return this._localId;
  }
  get closed() {
    return this._closed;
  }
  get kind() {
    return this._kind;
  }
  get rtpSender() {
    return undefined;
  }
  get track() {
    return this._track;
  }
  get rtpParameters() {
    return this._rtpParameters;
  }
  get paused() {
    return this._paused;
  }
  get maxSpatialLayer() {
    return this._maxSpatialLayer;
  }
  get appData() {
    return this._appData;
  }
  set appData(appData) {
    this._appData = appData;
  }
  get observer() {
    return this._observer;
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    this._releaseTrack();
    this._native.close();
    this._onClose();
    this._observer.safeEmit('close');
  }

  // Called by the transport when it closes.
  _transportClosed() {
    if (this._closed) return;
    this._closed = true;
    this._releaseTrack();
    this._native.close();
    this.safeEmit('transportclose');
    this._observer.safeEmit('close');
  }

  async getStats() {
    if (this._closed) throw new InvalidStateError('closed');
    return toStatsMap(await awaitNative(this._native.getStats()));
  }

  pause() {
    if (this._closed) return;
    this._paused = true;
    if (this._track && this._disableTrackOnPause) this._track.enabled = false;
    callNative(() => this._native.pause());
    this._observer.safeEmit('pause');
  }

  resume() {
    if (this._closed) return;
    this._paused = false;
    if (this._track && this._disableTrackOnPause) this._track.enabled = true;
    callNative(() => this._native.resume());
    this._observer.safeEmit('resume');
  }

  async replaceTrack({ track } = {}) {
    if (this._closed) {
      // the producer owns the given track (stopTracks): nobody else could stop it
      if (track instanceof Track && this._stopTracks) track.stop();
      throw new InvalidStateError('closed');
    }
    // the track's kind and state are checked by the native producer (it refuses atomically)
    if (track !== null && track !== undefined && !(track instanceof Track)) {
      throw new TypeError('track must be a track of mediasoup-client-native');
    }
    track = track ?? null;
    if (track === this._track) return;
    if (track) track._claim();
    try {
      // the native producer switches atomically: a refused track leaves the current one in place
      callNative(() => this._native.setTrack(track ? track._native : null));
    } catch (error) {
      if (track) track._unclaim();
      throw error;
    }
    this._releaseTrack();
    this._adoptTrack(track);
  }

  // The rules (closed, video only, a layer the producer has) are the native producer's.
  async setMaxSpatialLayer(spatialLayer) {
    if (!Number.isInteger(spatialLayer) || spatialLayer < 0) {
      throw new TypeError(`invalid spatialLayer ${String(spatialLayer)}: a non-negative integer`);
    }
    callNative(() => this._native.setMaxSpatialLayer(spatialLayer));
    this._maxSpatialLayer = spatialLayer;
  }

  async setRtpEncodingParameters(params) {
    if (this._closed) throw new InvalidStateError('closed');
    if (params === null || typeof params !== 'object') throw new TypeError('invalid params');
    checkFiniteNumbers(params, 'params');
    // `active` is applied by the send path; the other fields are recorded on the parameters
    const active = this._rtpParameters.encodings.map(() => (params.active === undefined ? null : Boolean(params.active)));
    callNative(() => this._native.setEncodingsActive(active));
    this._rtpParameters.encodings = this._rtpParameters.encodings.map((e) => ({ ...e, ...params }));
  }

  // `track` now feeds this producer (the native side has it): follow its end, and gate it
  // by the paused state.
  _adoptTrack(track) {
    this._track = track;
    if (!track) return;
    if (this._disableTrackOnPause) track.enabled = !this._paused;
    track.on('ended', this._onTrackEnded);
  }

  // Lets go of the current track, which the native producer no longer has (it was replaced
  // there, or the producer is closing): no longer claimed, stopped if the producer owns it.
  _releaseTrack() {
    const track = this._track;
    if (!track) return;
    track.off('ended', this._onTrackEnded);
    this._track = null;
    track._unclaim();
    if (this._stopTracks) track.stop();
  }
}

module.exports = { Producer };
