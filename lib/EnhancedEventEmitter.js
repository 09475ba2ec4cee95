'use strict';

const { EventEmitter } = require('node:events');

// An EventEmitter whose emits never throw into the library (a listener's exception is logged
// to the 'listenererror' event and otherwise swallowed), plus the request/response events of
// mediasoup-client: `safeEmitAsPromise` passes (callback, errback) to the listener, and also
// follows a Promise the listener returns.
class EnhancedEventEmitter extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(Infinity);
  }

  safeEmit(event, ...args) {
    const listeners = this.rawListeners(event);
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        if (event !== 'listenererror' && this.listenerCount('listenererror') > 0) {
          this.safeEmit('listenererror', event, error);
        }
      }
    }
    return listeners.length > 0;
  }

  // Resolves with what the (single) listener passes to its callback, or what its returned
  // Promise resolves to (undefined counts only from a listener that does not take the
  // callback); rejects on errback, a rejected Promise or a thrown exception. The first answer
  // wins.
  safeEmitAsPromise(event, ...args) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const callback = (value) => {
        if (!settled) {
          settled = true;
          resolve(value);
        }
      };
      const errback = (error) => {
        if (!settled) {
          settled = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const listeners = this.rawListeners(event);
      if (listeners.length === 0) {
        errback(new TypeError(`no "${event}" listener set`));
        return;
      }
      for (const listener of listeners) {
        try {
          const returned = listener.call(this, ...args, callback, errback);
          if (returned && typeof returned.then === 'function') {
            // A listener that takes the callback answers through it (socket.io style): its
            // Promise settling with undefined is not an answer, only a value or a rejection.
            const answersByCallback = listener.length > args.length;
            returned.then((value) => {
              if (value !== undefined || !answersByCallback) callback(value);
            }, errback);
          }
        } catch (error) {
          errback(error);
        }
      }
    });
  }
}

module.exports = { EnhancedEventEmitter };
