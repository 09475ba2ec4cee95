'use strict';

const { EnhancedEventEmitter } = require('./EnhancedEventEmitter');
const { listenNative } = require('./dataChannel');

// A mediasoup-client DataConsumer, over the native channel transport.consumeData() made.
// Events: 'open', 'error', 'close' (the server closed it: its stream was reset), 'message'
// (a string for text, a Buffer for binary, or an ArrayBuffer with binaryType 'arraybuffer'),
// 'transportclose'; observer: 'close'. messages() iterates the messages instead.
class DataConsumer extends EnhancedEventEmitter {
  constructor({ native, appData, onClose }) {
    super();
    this._native = native;
    this._id = native.id;
    this._dataProducerId = native.dataProducerId;
    this._sctpStreamParameters = native.sctpStreamParameters();
    this._label = native.label;
    this._protocol = native.protocol;
    this._appData = appData;
    this._onClose = onClose;
    this._closed = false;
    this._binaryType = 'nodebuffer';
    // readers of messages(): each has its queue and a waiting resolve
    this._readers = new Set();
    this._observer = new EnhancedEventEmitter();
    const { state, release } = listenNative(native, this);
    this._release = release;
    // open before this object existed: told once the caller of consumeData() has it
    if (state === 'open') setImmediate(() => this._onEvent('open'));
  }

  get id() {
    return this._id;
  }
  get dataProducerId() {
    return this._dataProducerId;
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
  // 'nodebuffer' (the default: binary messages are Buffers) or 'arraybuffer'.
  get binaryType() {
    return this._binaryType;
  }
  set binaryType(binaryType) {
    if (binaryType !== 'nodebuffer' && binaryType !== 'arraybuffer') {
      throw new TypeError("binaryType must be 'nodebuffer' or 'arraybuffer'");
    }
    this._binaryType = binaryType;
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

  // The messages from now on, in order, until the consumer closes. Messages wait for the
  // reader in memory: read steadily or stop iterating.
  messages() {
    const reader = { queue: [], wake: null };
    const consumer = this;
    if (!this._closed) this._readers.add(reader);
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next() {
        if (reader.queue.length > 0) return Promise.resolve({ value: reader.queue.shift(), done: false });
        if (consumer._closed || !consumer._readers.has(reader)) {
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          reader.wake = resolve;
        });
      },
      return() {
        consumer._readers.delete(reader);
        reader.queue.length = 0;
        reader.wake?.({ value: undefined, done: true });
        reader.wake = null;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
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

  _end() {
    this._closed = true;
    this._release();
    this._native.close();
    this._onClose?.();
    for (const reader of this._readers) {
      if (reader.wake && reader.queue.length === 0) {
        reader.wake({ value: undefined, done: true });
        reader.wake = null;
      }
    }
    this._readers.clear();
  }

  _onMessage(data) {
    if (this._closed) return;
    if (this._binaryType === 'arraybuffer' && Buffer.isBuffer(data)) {
      data = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    }
    for (const reader of this._readers) {
      if (reader.wake) {
        reader.wake({ value: data, done: false });
        reader.wake = null;
      } else {
        reader.queue.push(data);
      }
    }
    this.safeEmit('message', data);
  }

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

module.exports = { DataConsumer };
