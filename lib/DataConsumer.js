'use strict';

const { DataEndpoint } = require('./dataChannel');

// A mediasoup-client DataConsumer, over the native channel transport.consumeData() made.
// Events: those of lib/dataChannel.js, and 'message' (a string for text, a Buffer for binary,
// or an ArrayBuffer with binaryType 'arraybuffer'). messages() iterates the messages instead.
class DataConsumer extends DataEndpoint {
  constructor(options) {
    super(options);
    this._dataProducerId = options.native.dataProducerId;
    this._binaryType = 'nodebuffer';
    // readers of messages(): each has its queue and a waiting resolve
    this._readers = new Set();
  }

  get dataProducerId() {
    return this._dataProducerId;
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

  _end() {
    super._end();
    // a reader still waiting is done; one with messages left reads them first
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
}

module.exports = { DataConsumer };
