'use strict';

// Runs async tasks one at a time, in order: the operations of one transport are serialized,
// as in mediasoup-client. Closing the queue settles everything it holds at once.
class SerialQueue {
  constructor() {
    this._tail = Promise.resolve();
    // the reject functions of the promises returned by push() and not settled yet
    this._unsettled = new Set();
    this._closedWith = null;
  }

  // Resolves or rejects as `task()` does, once every task pushed before it has settled; rejects
  // with the error given to close() if the queue closes first (the task then never starts, or
  // its outcome is ignored).
  push(task) {
    if (this._closedWith) return Promise.reject(this._closedWith);
    return new Promise((resolve, reject) => {
      this._unsettled.add(reject);
      const run = this._tail.then(() => {
        if (this._closedWith) throw this._closedWith;
        return task();
      });
      this._tail = run.then(
        () => undefined,
        () => undefined
      );
      run.then(resolve, reject).finally(() => this._unsettled.delete(reject));
    });
  }

  // Rejects with `error` every pending push() (running or waiting) and every later one.
  close(error) {
    if (this._closedWith) return;
    this._closedWith = error;
    for (const reject of this._unsettled) reject(error);
    this._unsettled.clear();
  }
}

module.exports = { SerialQueue };
