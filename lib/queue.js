'use strict';

// Runs async tasks one at a time, in order: the operations of one transport are serialized,
// as in mediasoup-client.
class SerialQueue {
  constructor() {
    this._tail = Promise.resolve();
  }

  // Resolves or rejects as `task()` does, once every task pushed before it has settled.
  push(task) {
    const run = this._tail.then(() => task());
    this._tail = run.then(
      () => undefined,
      () => undefined
    );
    return run;
  }
}

module.exports = { SerialQueue };
