'use strict';

const native = require('../native.js');
const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, callNative, awaitNative } = require('./errors');
const { Transport } = require('./Transport');
const { checkAppData, checkFiniteNumbers } = require('./validate');

// A mediasoup-client Device: load it with the router's RTP capabilities, then create
// transports.
class Device {
  constructor() {
    this._native = new native.NativeDevice();
    this._loaded = false;
    this._loading = null;
    this._observer = new EnhancedEventEmitter();
  }

  get handlerName() {
    return 'webrtc-rs';
  }

  get loaded() {
    return this._loaded;
  }

  get rtpCapabilities() {
    this._checkLoaded();
    return callNative(() => this._native.rtpCapabilities());
  }

  get sctpCapabilities() {
    this._checkLoaded();
    return callNative(() => this._native.sctpCapabilities());
  }

  get observer() {
    return this._observer;
  }

  async load({ routerRtpCapabilities } = {}) {
    if (this._loaded || this._loading) throw new InvalidStateError('already loaded');
    if (routerRtpCapabilities === null || typeof routerRtpCapabilities !== 'object') {
      throw new TypeError('missing routerRtpCapabilities');
    }
    checkFiniteNumbers(routerRtpCapabilities, 'routerRtpCapabilities');
    // a deep copy: the caller's object is neither kept nor modified
    const caps = JSON.parse(JSON.stringify(routerRtpCapabilities));
    this._loading = awaitNative(this._native.load(caps));
    try {
      await this._loading;
      // kept for what device.load does not match: the profiles of file and RTP tracks
      this._routerRtpCapabilities = caps;
      this._loaded = true;
    } finally {
      this._loading = null;
    }
  }

  canProduce(kind) {
    this._checkLoaded();
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`invalid kind "${kind}"`);
    return callNative(() => this._native.canProduce(kind));
  }

  createSendTransport(options = {}) {
    return this._createTransport('send', options);
  }

  createRecvTransport(options = {}) {
    return this._createTransport('recv', options);
  }

  _createTransport(direction, options) {
    this._checkLoaded();
    const { appData = {} } = options ?? {};
    checkAppData(appData);
    const nativeOptions = {
      id: options.id,
      iceParameters: options.iceParameters,
      iceCandidates: options.iceCandidates,
      dtlsParameters: options.dtlsParameters,
      sctpParameters: options.sctpParameters ?? null,
      iceServers: options.iceServers ?? [],
      iceTransportPolicy: options.iceTransportPolicy ?? null,
    };
    checkFiniteNumbers(nativeOptions, 'options');
    callNative(() => this._native.validateSendTransportOptions(nativeOptions));
    const creating =
      direction === 'send'
        ? this._native.createSendTransport(nativeOptions)
        : this._native.createRecvTransport(nativeOptions);
    const transport = new Transport({
      id: options.id,
      direction,
      appData,
      creating: awaitNative(creating),
      rtpCapabilities: () => this.rtpCapabilities,
      routerRtpCapabilities: () => this._routerRtpCapabilities,
      sctpParameters: nativeOptions.sctpParameters,
    });
    this._observer.safeEmit('newtransport', transport);
    return transport;
  }

  _checkLoaded() {
    if (!this._loaded) throw new InvalidStateError('not loaded');
  }
}

module.exports = { Device };
