'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, awaitNative, fromNative } = require('./errors');
const { Producer } = require('./Producer');
const { Consumer } = require('./Consumer');
const { DataProducer } = require('./DataProducer');
const { DataConsumer } = require('./DataConsumer');
const { UnsupportedError } = require('./errors');
const { Track } = require('./Track');
const { checkAppData, checkFiniteNumbers } = require('./validate');
const { toStatsMap } = require('./stats');
const { codecForTrack } = require('./codecs');

// The native transport keeps its callback as long as it lives, so a callback that held the
// Transport would make a reference cycle through napi that no GC sees: every transport
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

// A mediasoup-client Transport: one PeerConnection to one server WebRtcTransport, with a
// direction: 'send' (produce) or 'recv' (consume).
//
// Events: 'connect' ({ dtlsParameters }, callback, errback) once before the first media;
// 'produce' ({ kind, rtpParameters, appData }, callback({ id }), errback) for each producer;
// 'connectionstatechange' (state). A listener may also return a Promise instead of calling
// callback/errback.
//
// The operations (produce, consume, restartIce, updateIceServers, getStats) are the native
// transport's,
// end to end: it queues them, runs them one at a time, asks the events above when it needs the
// application's signalling, and settles every pending one with InvalidStateError on close().
// This class checks the arguments, keeps the events' protocol and makes the JS objects.
class Transport extends EnhancedEventEmitter {
  constructor({ id, direction, appData, creating, rtpCapabilities, routerRtpCapabilities, sctpParameters }) {
    super();
    this._id = id;
    this._sctpParameters = sctpParameters ?? null;
    this._direction = direction;
    this._appData = appData;
    this._rtpCapabilities = rtpCapabilities;
    this._routerRtpCapabilities = routerRtpCapabilities;
    this._closed = false;
    this._connectionState = 'new';
    this._producers = new Map();
    this._consumers = new Map();
    this._dataProducers = new Map();
    this._dataConsumers = new Map();
    // consume() calls of the current tick, negotiated together
    this._pendingConsumes = [];
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
    return this._direction;
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
    this._releaseNative();
    this._connectionState = 'closed';
    this._creating.then((nativeTransport) => nativeTransport.close()).catch(() => {});
    for (const producer of this._producers.values()) producer._transportClosed();
    this._producers.clear();
    for (const consumer of this._consumers.values()) consumer._transportClosed();
    this._consumers.clear();
    for (const dataProducer of this._dataProducers.values()) dataProducer._transportClosed();
    this._dataProducers.clear();
    for (const dataConsumer of this._dataConsumers.values()) dataConsumer._transportClosed();
    this._dataConsumers.clear();
    this._observer.safeEmit('close');
  }

  async getStats() {
    return toStatsMap(await this._operation((nativeTransport) => nativeTransport.getStats()));
  }

  // Runs `call(nativeTransport)`, an operation of the native transport, once the transport
  // exists; rejects with the class the native error names.
  async _operation(call) {
    if (this._closed) throw new InvalidStateError('closed');
    const nativeTransport = await this._creating;
    if (this._closed) throw new InvalidStateError('closed');
    return awaitNative(call(nativeTransport));
  }

  async restartIce({ iceParameters } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (!iceParameters || typeof iceParameters !== 'object') throw new TypeError('missing iceParameters');
    checkFiniteNumbers(iceParameters, 'iceParameters');
    await this._operation((nativeTransport) => nativeTransport.restartIce(iceParameters));
  }

  // Replaces the STUN/TURN servers; they are used from the next ICE restart on. A bad server
  // (not stun:/stuns:/turn:/turns:, TURN without username and credential) is a TypeError.
  async updateIceServers({ iceServers } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (!Array.isArray(iceServers)) throw new TypeError('missing iceServers');
    checkFiniteNumbers(iceServers, 'iceServers');
    await this._operation((nativeTransport) => nativeTransport.updateIceServers(iceServers));
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

    const { ask, settled } = this._signalling();
    let nativeProducer;
    try {
      nativeProducer = await this._operation((nativeTransport) =>
        nativeTransport.produce(
          track._native,
          { encodings: encodings ?? null, codecOptions: codecOptions ?? null, codec: codec ?? null },
          (dtlsParameters) => ask('connect', { dtlsParameters }),
          ({ kind, rtpParameters }) => ask('produce', { kind, rtpParameters, appData })
        )
      );
    } catch (error) {
      // as mediasoup-client: a failed produce() stops the track it was given (stopTracks)
      track._unclaim();
      if (stopTracks) track.stop();
      throw settled(error);
    }
    const producer = new Producer({
      nativeProducer,
      track,
      stopTracks,
      disableTrackOnPause,
      zeroRtpOnPause,
      appData,
      onClose: () => this._producers.delete(producer.id),
    });
    if (this._closed) {
      producer._transportClosed();
      throw new InvalidStateError('closed');
    }
    this._producers.set(producer.id, producer);
    this._observer.safeEmit('newproducer', producer);
    return producer;
  }

  // Consumers created in one tick share one negotiation (as mediasoup-client). The server
  // consumer should be created paused and resumed once this resolves: RTP sent before the
  // answer is set is lost.
  async consume({ id, producerId, kind, rtpParameters, streamId, appData = {} } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (this._direction !== 'recv') throw new InvalidStateError('not a receiving transport');
    if (typeof id !== 'string' || !id) throw new TypeError('missing id');
    if (typeof producerId !== 'string' || !producerId) throw new TypeError('missing producerId');
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`invalid kind '${kind}'`);
    if (!rtpParameters || typeof rtpParameters !== 'object') throw new TypeError('missing rtpParameters');
    if (streamId !== undefined && typeof streamId !== 'string') throw new TypeError('streamId must be a string');
    if (this.listenerCount('connect') === 0 && this._connectionState === 'new') {
      throw new TypeError('no "connect" listener set into this transport');
    }
    checkAppData(appData);
    checkFiniteNumbers(rtpParameters, 'rtpParameters');
    const nativeConsumer = await new Promise((resolve, reject) => {
      this._pendingConsumes.push({
        options: streamId === undefined ? { id, producerId, kind, rtpParameters } : { id, producerId, kind, rtpParameters, streamId },
        resolve,
        reject,
      });
      if (this._pendingConsumes.length === 1) queueMicrotask(() => this._consumePending());
    });
    const consumer = new Consumer({
      nativeConsumer,
      appData,
      onClose: () => this._consumers.delete(consumer.id),
    });
    if (this._closed) {
      consumer._transportClosed();
      throw new InvalidStateError('closed');
    }
    this._consumers.set(consumer.id, consumer);
    this._observer.safeEmit('newconsumer', consumer);
    return consumer;
  }

  // A data producer on a new SCTP stream of this transport. Either of maxPacketLifeTime and
  // maxRetransmits makes it unordered, as in mediasoup-client.
  async produceData({
    ordered = true,
    maxPacketLifeTime,
    maxRetransmits,
    label = '',
    protocol = '',
    appData = {},
  } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (this._direction !== 'send') throw new UnsupportedError('not a sending Transport');
    if (!this._sctpParameters) throw new UnsupportedError('SCTP not enabled by remote Transport');
    if (this.listenerCount('connect') === 0 && this._connectionState === 'new') {
      throw new TypeError('no "connect" listener set into this transport');
    }
    if (this.listenerCount('producedata') === 0) {
      throw new TypeError('no "producedata" listener set into this transport');
    }
    checkAppData(appData);
    if (typeof ordered !== 'boolean') throw new TypeError('ordered must be a boolean');
    if (typeof label !== 'string') throw new TypeError('label must be a string');
    if (typeof protocol !== 'string') throw new TypeError('protocol must be a string');
    for (const [name, value] of [
      ['maxPacketLifeTime', maxPacketLifeTime],
      ['maxRetransmits', maxRetransmits],
    ]) {
      if (value !== undefined && value !== null && (!Number.isInteger(value) || value < 0 || value > 0xffffffff)) {
        throw new TypeError(`${name} must be an integer from 0 to 2^32-1`);
      }
    }
    if (maxPacketLifeTime != null && maxRetransmits != null) {
      throw new TypeError('cannot provide both maxPacketLifeTime and maxRetransmits');
    }
    const { ask, settled } = this._signalling();
    let native;
    try {
      native = await this._operation((nativeTransport) =>
        nativeTransport.produceData(
          {
            ordered,
            maxPacketLifeTime: maxPacketLifeTime ?? undefined,
            maxRetransmits: maxRetransmits ?? undefined,
            label,
            protocol,
          },
          (dtlsParameters) => ask('connect', { dtlsParameters }),
          ({ sctpStreamParameters }) => ask('producedata', { sctpStreamParameters, label, protocol, appData })
        )
      );
    } catch (error) {
      throw settled(error);
    }
    const dataProducer = new DataProducer({
      native,
      appData,
      onClose: () => this._dataProducers.delete(dataProducer.id),
    });
    if (this._closed) {
      dataProducer._transportClosed();
      throw new InvalidStateError('closed');
    }
    this._dataProducers.set(dataProducer.id, dataProducer);
    this._observer.safeEmit('newdataproducer', dataProducer);
    return dataProducer;
  }

  // A data consumer on the SCTP stream the server DataConsumer has. It resolves once the channel
  // is open (the first one of a transport waits for its SCTP association; at most 10 s).
  // Messages the server sends before are lost: create the server DataConsumer paused and resume
  // it after.
  async consumeData({ id, dataProducerId, sctpStreamParameters, label = '', protocol = '', appData = {} } = {}) {
    if (this._closed) throw new InvalidStateError('closed');
    if (this._direction !== 'recv') throw new UnsupportedError('not a receiving Transport');
    if (!this._sctpParameters) throw new UnsupportedError('SCTP not enabled by remote Transport');
    if (typeof id !== 'string' || !id) throw new TypeError('missing id');
    if (typeof dataProducerId !== 'string' || !dataProducerId) throw new TypeError('missing dataProducerId');
    if (!sctpStreamParameters || typeof sctpStreamParameters !== 'object') {
      throw new TypeError('missing sctpStreamParameters');
    }
    if (typeof label !== 'string') throw new TypeError('label must be a string');
    if (typeof protocol !== 'string') throw new TypeError('protocol must be a string');
    if (this.listenerCount('connect') === 0 && this._connectionState === 'new') {
      throw new TypeError('no "connect" listener set into this transport');
    }
    checkAppData(appData);
    checkFiniteNumbers(sctpStreamParameters, 'sctpStreamParameters');
    const { ask, settled } = this._signalling();
    let native;
    try {
      native = await this._operation((nativeTransport) =>
        nativeTransport.consumeData(
          { id, dataProducerId, sctpStreamParameters, label, protocol },
          (dtlsParameters) => ask('connect', { dtlsParameters })
        )
      );
    } catch (error) {
      throw settled(error);
    }
    const dataConsumer = new DataConsumer({
      native,
      appData,
      onClose: () => this._dataConsumers.delete(dataConsumer.id),
    });
    if (this._closed) {
      dataConsumer._transportClosed();
      throw new InvalidStateError('closed');
    }
    this._dataConsumers.set(dataConsumer.id, dataConsumer);
    this._observer.safeEmit('newdataconsumer', dataConsumer);
    return dataConsumer;
  }

  _consumePending() {
    const batch = this._pendingConsumes;
    this._pendingConsumes = [];
    const { ask, settled } = this._signalling();
    this._operation((nativeTransport) =>
      nativeTransport.consume(
        batch.map((c) => c.options),
        (dtlsParameters) => ask('connect', { dtlsParameters })
      )
    ).then(
      (results) => {
        results.forEach((result, i) => {
          if (result instanceof Error) batch[i].reject(settled(fromNative(result)));
          else batch[i].resolve(result);
        });
      },
      (error) => {
        for (const c of batch) c.reject(settled(error));
      }
    );
  }

  // The application's signalling for one operation. `ask(event, params)` emits the event and
  // gives the native side what it needs of the answer: nothing of 'connect', the `id` of
  // 'produce' and 'producedata' when it is a string (the native side checks it; other values need not convert).
  // `settled(error)` is what the operation rejects with: the application's own refusal, as it
  // gave it, when the native side reports one (ERR_REFUSED: it only knows its message).
  _signalling() {
    let refusal = null;
    return {
      ask: (event, params) =>
        this.safeEmitAsPromise(event, params).then(
          (answer) =>
            (event === 'produce' || event === 'producedata') && typeof answer?.id === 'string' ? { id: answer.id } : null,
          (error) => {
            refusal = error;
            throw error;
          }
        ),
      settled: (error) => (error.code === 'ERR_REFUSED' && refusal ? refusal : error),
    };
  }

  _onConnectionState(state) {
    if (this._closed || state === this._connectionState) return;
    this._connectionState = state;
    this.safeEmit('connectionstatechange', state);
    this._observer.safeEmit('connectionstatechange', state);
  }
}

module.exports = { Transport };
