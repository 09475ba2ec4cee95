'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, awaitNative } = require('./errors');
const { RemoteTrack } = require('./RemoteTrack');
const { toStatsMap } = require('./stats');

// A mediasoup-client Consumer, over the native consumer that transport.consume() made. Its
// track is a RemoteTrack: frames, recording, RTP for the program. Events: 'transportclose',
// 'trackended'; observer: 'close', 'pause', 'resume', 'trackended'.
//
// pause()/resume() are local (the track delivers nothing while paused), as in
// libmediasoupclient: they never renegotiate. Pausing the server consumer is the
// application's signalling.
class Consumer extends EnhancedEventEmitter {
  constructor({ nativeConsumer, appData, onClose }) {
    super();
    this._native = nativeConsumer;
    this._id = nativeConsumer.id;
    this._producerId = nativeConsumer.producerId;
    this._localId = nativeConsumer.localId;
    this._kind = nativeConsumer.kind;
    this._rtpParameters = nativeConsumer.rtpParameters();
    this._appData = appData;
    this._onClose = onClose;
    this._closed = false;
    this._paused = false;
    this._observer = new EnhancedEventEmitter();
    this._track = new RemoteTrack(nativeConsumer.track());
  }

  get id() {
    return this._id;
  }
  get producerId() {
    return this._producerId;
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
  get rtpReceiver() {
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
    this._native.close();
    this._track._end();
    this._onClose?.();
    this._observer.safeEmit('close');
  }

  _transportClosed() {
    if (this._closed) return;
    this._closed = true;
    this._native.close();
    this._track._end();
    this._onClose?.();
    this.safeEmit('transportclose');
    this._observer.safeEmit('close');
  }

  async getStats() {
    if (this._closed) throw new InvalidStateError('closed');
    return toStatsMap(await awaitNative(this._native.getStats()));
  }

  pause() {
    if (this._closed) return;
    this._native.pause();
    const was = this._paused;
    this._paused = true;
    if (!was) this._observer.safeEmit('pause');
  }

  resume() {
    if (this._closed) return;
    this._native.resume();
    const was = this._paused;
    this._paused = false;
    if (was) this._observer.safeEmit('resume');
  }
}

module.exports = { Consumer };
