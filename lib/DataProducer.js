'use strict';

const { InvalidStateError, callNative } = require('./errors');
const { DataEndpoint } = require('./dataChannel');

// Checks what send() takes and makes it a string or a Buffer (typed arrays and ArrayBuffers
// are not copied here).
function toSendable(data) {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new TypeError('data must be a string, a Buffer, an ArrayBuffer or a TypedArray');
}

// A mediasoup-client DataProducer, over the native channel transport.produceData() made.
// Events: those of lib/dataChannel.js, and 'bufferedamountlow'. It receives nothing: mediasoup
// sends only to data consumers.
class DataProducer extends DataEndpoint {
  constructor(options) {
    super(options);
    this._bufferedAmountLowThreshold = 0;
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

  // Sends a message: a string goes as text, anything else as binary. Throws InvalidStateError
  // when closed or not open yet, TypeError for a message larger than the maximum size.
  send(data) {
    if (this._closed) throw new InvalidStateError('closed');
    callNative(() => this._native.send(toSendable(data)));
  }
}

module.exports = { DataProducer };
