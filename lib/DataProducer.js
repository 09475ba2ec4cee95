'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { InvalidStateError, callNative } = require('./errors');
const { listenNative, toSendable } = require('./dataChannel');

// A mediasoup-client DataProducer, over the native channel transport.produceData() made.
// Events: 'open', 'error', 'close' (the channel closed by itself: the server reset its stream),
// 'bufferedamountlow', 'transportclose'; observer: 'close'.
class DataProducer extends EnhancedEventEmitter {
  constructor({ native, appData, onClose }) {
    super();
    this._native = native;
    this._id = native.id;
    this._sctpStreamParameters = native.sctpStreamParameters();
    this._label = native.label;
    this._protocol = native.protocol;
    this._appData = appData;
    this._onClose = onClose;
    this._closed = false;
    this._bufferedAmountLowThreshold = 0;
    this._observer = new EnhancedEventEmitter();
    const { state, release } = listenNative(native, this);
    this._release = release;
    // open before this object existed: told once the caller of produceData() has it
    if (state === 'open') setImmediate(() => this._onEvent('open'));
  }

  get id() {
    return this._id;
  }
  get closed() {
    return this._closed;
  }
  get sctpStreamParameters() {
    return this._sctpStreamParameters;
  }
  get readyState() {
    return this._closed ? 'closed' : this._native.readyState;
  }
  get label() {
    return this._label;
  }
  get protocol() {
    return this._protocol;
  }
  get bufferedAmount() {
    return this._closed ? 0 : this._native.bufferedAmount;
  }
  get bufferedAmountLowThreshold() {
    return this._bufferedAmountLowThreshold;
  }
  set bufferedAmountLowThreshold(threshold) {
    if (!Number.isInteger(threshold) || threshold < 0 || threshold > 0xffffffff) {
      throw new TypeError('bufferedAmountLowThreshold must be an integer from 0 to 2^32-1');
    }
    this._bufferedAmountLowThreshold = threshold;
    if (!this._closed) this._native.setBufferedAmountLowThreshold(threshold);
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

  // Sends a message: a string goes as text, anything else as binary. Throws InvalidStateError
  // when closed or not open yet, TypeError for a message larger than the maximum size.
  send(data) {
    if (this._closed) throw new InvalidStateError('closed');
    callNative(() => this._native.send(toSendable(data)));
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    this._release();
    this._native.close();
    this._onClose?.();
    this._observer.safeEmit('close');
  }

  _transportClosed() {
    if (this._closed) return;
    this._closed = true;
    this._release();
    this._native.close();
    this._onClose?.();
    this.safeEmit('transportclose');
    this._observer.safeEmit('close');
  }

  _onMessage() {
    // a DataProducer receives nothing: mediasoup sends only to data consumers
  }

  _onEvent(event) {
    if (this._closed) return;
    if (event === 'close') {
      this._closed = true;
      this._release();
      this._native.close();
      this._onClose?.();
      this.safeEmit('close');
      this._observer.safeEmit('close');
    } else if (event === 'error') {
      this.safeEmit('error', new Error('data channel error'));
    } else {
      this.safeEmit(event);
    }
  }
}

module.exports = { DataProducer };
