'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');

// What lib/DataProducer.js and lib/DataConsumer.js share: one native channel, its state and
// its reports.
//
// The native channel calls one listener with batches: text messages (strings), binary ones
// (Buffers) and events ({ event }), oldest first. It keeps that listener until the channel
// closes, so the listener holds its DataProducer/DataConsumer through `holder`, which lets go
// on close: no reference cycle through napi outlives the object.
function listenNative(native, target) {
  const holder = { target };
  const state = native.listen((batch) => {
    for (const item of batch) {
      const t = holder.target;
      if (!t) return;
      if (typeof item === 'string' || Buffer.isBuffer(item)) t._onMessage(item);
      else t._onEvent(item.event);
    }
  });
  return {
    state,
    release: () => {
      holder.target = null;
    },
  };
}

// Events: 'open', 'error', 'close' (the channel closed by itself: the server reset its stream),
// 'transportclose'; observer: 'close'.
class DataEndpoint extends EnhancedEventEmitter {
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
    this._observer = new EnhancedEventEmitter();
    const { state, release } = listenNative(native, this);
    this._release = release;
    // open before this object existed: told once the caller of produceData()/consumeData() has it
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
    this._end();
    this._observer.safeEmit('close');
  }

  _transportClosed() {
    if (this._closed) return;
    this._end();
    this.safeEmit('transportclose');
    this._observer.safeEmit('close');
  }

  // Closed for good: the native channel closed (or told it is), the transport told.
  _end() {
    this._closed = true;
    this._release();
    this._native.close();
    this._onClose?.();
  }

  _onMessage() {}

  _onEvent(event) {
    if (this._closed) return;
    if (event === 'close') {
      this._end();
      this.safeEmit('close');
      this._observer.safeEmit('close');
    } else if (event === 'error') {
      this.safeEmit('error', new Error('data channel error'));
    } else {
      this.safeEmit(event);
    }
  }
}

module.exports = { DataEndpoint };
