'use strict';

// What lib/DataProducer.js and lib/DataConsumer.js share: the native channel's reports.
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

// Checks what DataProducer.send() takes and makes it a string or a Buffer (without copying
// typed arrays and ArrayBuffers).
function toSendable(data) {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  throw new TypeError('data must be a string, a Buffer, an ArrayBuffer or a TypedArray');
}

module.exports = { listenNative, toSendable };
