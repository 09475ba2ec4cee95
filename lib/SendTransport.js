'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, UnsupportedError, awaitNative } = require('./errors');
const { SerialQueue } = require('./queue');
const { Producer } = require('./Producer');
const { Track } = require('./Track');
const { checkAppData, checkFiniteNumbers } = require('./validate');
const { toStatsMap } = require('./stats');
const { codecForTrack } = require('./codecs');

// The native transport keeps its callback as long as it lives, so a callback that held the
// SendTransport would make a reference cycle through napi that no GC sees: every transport
// (and its PeerConnection) would leak. It holds it through `holder`, which lets go on
// close() (an open transport stays alive, as a connected RTCPeerConnection does). Made here,
// not in the constructor, so that no closure holds `this`.
function nativeListener(transport) {
  const holder = { transport };
  return {
    connectionState: (state) => holder.transport?._onConnectionState(state),
    release: () => {
      holder.transport = null;
    },
  };
}

// A mediasoup-client send Transport: one PeerConnection to one server WebRtcTransport.
//
// Events: 'connect' ({ dtlsParameters }, callback, errback) once before the first media;
// 'produce' ({ kind, rtpParameters, appData }, callback({ id }), errback) for each producer;
// 'connectionstatechange' (state). A listener may also return a Promise instead of calling
// callback/errback.
class SendTransport extends EnhancedEventEmitter {
  constructor({ id, appData, creating, canProduce, rtpCapabilities, routerRtpCapabilities }) {
    super();
    this._id = id;
    this._appData = appData;
    this._canProduce = canProduce;
    this._rtpCapabilities = rtpCapabilities;
    this._routerRtpCapabilities = routerRtpCapabilities;
    this._closed = false;
    this._connectionState = 'new';
    this._producers = new Map();
    this._queue = new SerialQueue();
    // what close() rejects: the waits of running operations (see _whileOpen)
    this._onClose = new Set();
    this._observer = new EnhancedEventEmitter();
    const listener = nativeListener(this);
    this._releaseNative = listener.release;
    this._creating = creating.then((nativeTransport) => {
      nativeTransport.accountMemory();
      nativeTransport.onConnectionStateChange(listener.connectionState);
      if (this._closed) nativeTransport.close().catch(() => {});
      return nativeTransport;
    });
    // a failed creation is reported by the next operation, never as an unhandled rejection
    this._creating.catch(() => {});
  }

  get id() {
    return this._id;
  }

  get closed() {
    return this._closed;
  }

  get direction() {
    return 'send';
  }

  get connectionState() {
    return this._connectionState;
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

  // Every operation still pending (running or queued: produce, restartIce, updateIceServers,
  // getStats) rejects with InvalidStateError; a running produce() stops what it prepared.
  close() {
    if (this._closed) return;
    this._closed = true;
    this._queue.close(new InvalidStateError('closed'));
    for (const reject of this._onClose) reject(new InvalidStateError('closed'));
    this._onClose.clear();
    this._releaseNative();
    this._connectionState = 'closed';
    this._creating.then((nativeTransport) => nativeTransport.close()).catch(() => {});
    for (const producer of this._producers.values()) producer._transportClosed();
    this._producers.clear();
    this._observer.safeEmit('close');
  }

  async getStats() {
    if (this._closed) throw new InvalidStateError('closed');
    return this._whileOpen(
      (async () => {
        const nativeTransport = await this._creating;
        return toStatsMap(await awaitNative(nativeTransport.getStats()));
      })()
    );
  }

  // Settles as `promise` does, unless the transport closes first: then rejects with
  // InvalidStateError at once (what `promise` does later is ignored). For waits that may never
  // end by themselves, such as the application's answer to 'connect' or 'produce'.
  _whileOpen(promise) {
    return new Promise((resolve, reject) => {
      if (this._closed) {
        promise.catch(() => {});
        reject(new InvalidStateError('closed'));
        return;
      }
      this._onClose.add(reject);
      promise.then(resolve, reject).finally(() => this._onClose.delete(reject));
    });
  }

  async restartIce({ iceParameters } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (!iceParameters || typeof iceParameters !== 'object') throw new TypeError('missing iceParameters');
    checkFiniteNumbers(iceParameters, 'iceParameters');
    return this._queue.push(async () => {
      const nativeTransport = await this._creating;
      if (this._closed) throw new InvalidStateError('closed');
      await awaitNative(nativeTransport.restartIce(iceParameters));
    });
  }

  // Replaces the STUN/TURN servers; they are used from the next ICE restart on. A bad server
  // (not stun:/stuns:/turn:/turns:, TURN without username and credential) is a TypeError.
  async updateIceServers({ iceServers } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (!Array.isArray(iceServers)) throw new TypeError('missing iceServers');
    checkFiniteNumbers(iceServers, 'iceServers');
    return this._queue.push(async () => {
      const nativeTransport = await this._creating;
      if (this._closed) throw new InvalidStateError('closed');
      await awaitNative(nativeTransport.updateIceServers(iceServers));
    });
  }

  async produce({
    track,
    encodings,
    codecOptions,
    codec,
    stopTracks = true,
    disableTrackOnPause = true,
    zeroRtpOnPause = false,
    appData = {},
  } = {}) {
    if (!track) throw new TypeError('missing track');
    if (!(track instanceof Track)) {
      throw new TypeError('track must be a track of mediasoup-client-native (createTrack(), ...)');
    }
    if (this._closed) throw new InvalidStateError('closed');
    if (track.readyState === 'ended') throw new InvalidStateError('track ended');
    if (!this._canProduce(track.kind)) throw new UnsupportedError(`cannot produce ${track.kind}`);
    // a file or RTP track holds one codec: the producer uses the router's codec of that type
    // and profile
    if (track.codec) codec = codecForTrack(track, this._rtpCapabilities(), codec, this._routerRtpCapabilities?.());
    if (this.listenerCount('connect') === 0 && this._connectionState === 'new') {
      throw new TypeError('no "connect" listener set into this transport');
    }
    if (this.listenerCount('produce') === 0) {
      throw new TypeError('no "produce" listener set into this transport');
    }
    checkAppData(appData);
    if (encodings !== undefined) {
      if (!Array.isArray(encodings) || encodings.some((e) => e === null || typeof e !== 'object')) {
        throw new TypeError('encodings must be an array of objects');
      }
      if (encodings.length === 0) encodings = undefined;
    }
    checkFiniteNumbers(encodings, 'encodings');
    checkFiniteNumbers(codecOptions, 'codecOptions');
    checkFiniteNumbers(codec, 'codec');
    track._claim();

    return this._queue.push(async () => {
      const nativeTransport = await this._creating;
      if (this._closed) throw new InvalidStateError('closed');
      const prepared = await awaitNative(
        nativeTransport.prepareProduce(track.kind, encodings ?? null, codecOptions ?? null, codec ?? null)
      );
      let nativeProducer;
      let rtpParameters;
      try {
        if (prepared.connect) {
          try {
            await this._whileOpen(this.safeEmitAsPromise('connect', { dtlsParameters: prepared.connect }));
            await nativeTransport.connected(true);
          } catch (error) {
            await nativeTransport.connected(false);
            throw error;
          }
        }
        ({ rtpParameters } = await awaitNative(nativeTransport.finishProduce(prepared.localId)));
        const answer = await this._whileOpen(
          this.safeEmitAsPromise('produce', {
            kind: track.kind,
            rtpParameters: structuredClone(rtpParameters),
            appData,
          })
        );
        const id = answer && answer.id;
        if (typeof id !== 'string' || id === '') {
          throw new TypeError('the "produce" callback must be given { id } (the server producer id)');
        }
        if (this._closed) throw new InvalidStateError('closed');
        nativeProducer = await awaitNative(nativeTransport.completeProduce(prepared.localId, id));
      } catch (error) {
        await nativeTransport.abortProduce(prepared.localId).catch(() => {});
        throw error;
      }
      const producer = new Producer({
        nativeProducer,
        track,
        rtpParameters,
        stopTracks,
        disableTrackOnPause,
        zeroRtpOnPause,
        appData,
        onClose: () => this._producers.delete(producer.id),
      });
      this._producers.set(producer.id, producer);
      this._observer.safeEmit('newproducer', producer);
      return producer;
    }).catch((error) => {
      // as mediasoup-client: a failed produce() stops the track it was given (stopTracks)
      track._unclaim();
      if (stopTracks) track.stop();
      throw error;
    });
  }

  _onConnectionState(state) {
    if (this._closed || state === this._connectionState) return;
    this._connectionState = state;
    this.safeEmit('connectionstatechange', state);
    this._observer.safeEmit('connectionstatechange', state);
  }
}

module.exports = { SendTransport };
