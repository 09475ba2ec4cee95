'use strict';

// The async iterator of a remote track's frames() and rtp(): items taken from batches, for
// `for await`. Written by hand rather than as an async generator, which makes several promises
// and result objects per item (delegating to each batch with `yield*`): one promise per item
// here, resolved by the source's callback when it waits, the next batch asked for only when
// the last one is used up.
//
// `source` is the reading's side of the track:
// - `start()` when the first item is asked for (nothing is read before, as with a generator),
// - `next(onBatch, onError)`: calls one of them once, now or later: `onBatch` with the next
//   batch (an array, at least one item) or null once it ended, `onError` with an error,
// - `stop()` once, when the reading is over: the source ended or failed, or the loop was left
//   (`return()`, `throw()`).
// Calls to next() made before the last one settled are answered in order.
class BatchIterator {
  constructor(source) {
    this._source = source;
    this._batch = null;
    this._at = 0;
    // 'new' | 'reading' | 'done'
    this._state = 'new';
    // the last answer of next(): while a batch is awaited (`_resolve` set), the one that
    // answers when it comes
    this._last = null;
    // next() calls made while a batch is awaited, each answered after the one before
    this._chain = null;
    this._stepBound = () => this._step();
    // the promise of the batch awaited, while it is: how it settles
    this._resolve = null;
    this._reject = null;
    this._keep = (resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    };
    this._onBatch = (batch) => this._batchCame(batch);
    this._onError = (error) => this._failed(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    if (this._chain !== null || this._resolve !== null) return this._chained();
    this._last = this._step();
    return this._last;
  }

  return(value) {
    this._finish();
    return Promise.resolve({ value, done: true });
  }

  throw(error) {
    this._finish();
    return Promise.reject(error);
  }

  // The next item, a batch asked for when the last one is used up.
  _step() {
    if (this._state === 'done') return Promise.resolve({ value: undefined, done: true });
    if (this._state === 'new') {
      this._state = 'reading';
      this._source.start();
    }
    if (this._batch !== null && this._at < this._batch.length) {
      return Promise.resolve({ value: this._batch[this._at++], done: false });
    }
    this._batch = null;
    const answer = new Promise(this._keep);
    this._source.next(this._onBatch, this._onError);
    return answer;
  }

  _batchCame(batch) {
    const resolve = this._settle();
    if (resolve === null) return;
    if (this._state === 'done') return resolve({ value: undefined, done: true });
    if (!batch) {
      this._finish();
      return resolve({ value: undefined, done: true });
    }
    this._batch = batch;
    this._at = 1;
    resolve({ value: batch[0], done: false });
  }

  _failed(error) {
    const reject = this._reject;
    if (this._settle() === null) return;
    this._finish();
    reject(error);
  }

  // The awaited batch's resolve function, once (null after): the wait is over.
  _settle() {
    const resolve = this._resolve;
    this._resolve = null;
    this._reject = null;
    return resolve;
  }

  // A next() made while a batch is awaited: answered after the calls before it.
  _chained() {
    const answer = (this._chain ?? this._last).then(this._stepBound, this._stepBound);
    this._chain = answer;
    const settled = () => {
      if (this._chain === answer) this._chain = null;
    };
    answer.then(settled, settled);
    return answer;
  }

  _finish() {
    if (this._state === 'done') return;
    const started = this._state === 'reading';
    this._state = 'done';
    // the items of the batch the loop never got: released, where they can be (frames)
    const batch = this._batch;
    if (batch !== null) for (let i = this._at; i < batch.length; i++) batch[i]?.release?.();
    this._batch = null;
    if (started) this._source.stop();
  }
}

module.exports = { BatchIterator };
