'use strict';

// The async iterator of a remote track's frames() and rtp(): items taken from batches, for
// `for await`. Written by hand rather than as an async generator, which makes several promises
// and result objects per item (delegating to each batch with `yield*`): one resolved promise
// per item here, the next batch asked for only when the last one is used up.
//
// `source` is the reading's side of the track:
// - `start()` when the first item is asked for (nothing is read before, as with a generator),
// - `next()`: a promise of the next batch (an array, at least one item), null once it ended,
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
    // a batch is asked for and not come yet (`_last` answers when it comes)
    this._inFlight = false;
    this._last = null;
    // next() calls made while a batch is awaited, each answered after the one before
    this._chain = null;
    this._stepBound = () => this._step();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    if (this._chain !== null || this._inFlight) return this._chained();
    if (this._batch !== null && this._at < this._batch.length) {
      return Promise.resolve({ value: this._batch[this._at++], done: false });
    }
    const result = this._step();
    this._last = result;
    return result;
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
    this._inFlight = true;
    return this._source.next().then(
      (batch) => {
        this._inFlight = false;
        if (this._state === 'done') return { value: undefined, done: true };
        if (!batch) {
          this._finish();
          return { value: undefined, done: true };
        }
        this._batch = batch;
        this._at = 1;
        return { value: batch[0], done: false };
      },
      (error) => {
        this._inFlight = false;
        this._finish();
        throw error;
      }
    );
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
    this._batch = null;
    if (started) this._source.stop();
  }
}

module.exports = { BatchIterator };
