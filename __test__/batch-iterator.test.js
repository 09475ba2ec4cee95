'use strict';

// The iterator of track.frames() and track.rtp() (lib/batchIterator.js), over a scripted
// source: items in order across batches, nothing read before the first next(), the source
// stopped once whichever way the reading ends, next() calls made before the last settled
// answered in order.

const test = require('node:test');
const assert = require('node:assert/strict');
const { BatchIterator } = require('../lib/batchIterator');

// A source whose batches are given by the test: `push(batch)` answers the oldest waiting
// next() (null ends it), `fail(error)` rejects it.
function scripted() {
  const log = [];
  const waiting = [];
  const source = {
    start: () => log.push('start'),
    next: (onBatch, onError) => {
      log.push('next');
      waiting.push({ resolve: onBatch, reject: onError });
    },
    stop: () => log.push('stop'),
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    source,
    log,
    async push(batch) {
      while (waiting.length === 0) await settle();
      waiting.shift().resolve(batch);
    },
    async fail(error) {
      while (waiting.length === 0) await settle();
      waiting.shift().reject(error);
    },
  };
}

test('items come in order across batches, each batch asked for when the last is used up', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  assert.deepEqual(s.log, [], 'nothing is read before the first next()');
  const got = [];
  const reading = (async () => {
    for await (const item of it) got.push(item);
  })();
  await s.push([1, 2, 3]);
  await s.push([4]);
  await s.push([5, 6]);
  await s.push(null);
  await reading;
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(s.log, ['start', 'next', 'next', 'next', 'next', 'stop']);
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.equal(s.log.length, 6, 'nothing is read once done');
});

test('leaving the loop stops the source once, and the rest of the batch is not given', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  const got = [];
  const reading = (async () => {
    for await (const item of it) {
      got.push(item);
      if (item === 2) break;
    }
  })();
  await s.push([1, 2, 3]);
  await reading;
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(s.log, ['start', 'next', 'stop']);
  assert.deepEqual(await it.return(), { value: undefined, done: true });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.deepEqual(s.log, ['start', 'next', 'stop'], 'stopped once');
});

test('an iterator never read is not started, and return() does not stop it', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  assert.deepEqual(await it.return('x'), { value: 'x', done: true });
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.deepEqual(s.log, []);
});

test('next() calls made before the last settled are answered in order', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  const answers = [it.next(), it.next(), it.next(), it.next()];
  await s.push(['a']);
  await s.push(['b', 'c']);
  await s.push(null);
  assert.deepEqual(await Promise.all(answers), [
    { value: 'a', done: false },
    { value: 'b', done: false },
    { value: 'c', done: false },
    { value: undefined, done: true },
  ]);
  assert.deepEqual(s.log, ['start', 'next', 'next', 'next', 'stop']);
});

test('a failing source rejects the waiting next() and stops once', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  const first = it.next();
  const second = it.next();
  await s.fail(new Error('gone'));
  await assert.rejects(first, /gone/);
  assert.deepEqual(await second, { value: undefined, done: true });
  assert.deepEqual(s.log, ['start', 'next', 'stop']);
});

test('throw() stops the source and rejects with its error', async () => {
  const s = scripted();
  const it = new BatchIterator(s.source);
  const first = it.next();
  await s.push([1, 2]);
  assert.deepEqual(await first, { value: 1, done: false });
  await assert.rejects(it.throw(new Error('caller')), /caller/);
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.deepEqual(s.log, ['start', 'next', 'stop']);
});

test('a source that answers at once (frames already queued, or ended) is read the same', async () => {
  const batches = [[1, 2], [3], null];
  const log = [];
  const it = new BatchIterator({
    start: () => log.push('start'),
    next: (onBatch) => {
      log.push('next');
      onBatch(batches.shift());
    },
    stop: () => log.push('stop'),
  });
  const got = [];
  for await (const item of it) got.push(item);
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual(log, ['start', 'next', 'next', 'next', 'stop']);
});

test('a callback called again after the first is ignored', async () => {
  let answer;
  const it = new BatchIterator({ start() {}, next: (onBatch, onError) => (answer = { onBatch, onError }), stop() {} });
  const first = it.next();
  answer.onBatch(['a']);
  answer.onBatch(['b']);
  answer.onError(new Error('late'));
  assert.deepEqual(await first, { value: 'a', done: false });
  const second = it.next();
  answer.onBatch(null);
  assert.deepEqual(await second, { value: undefined, done: true });
});
