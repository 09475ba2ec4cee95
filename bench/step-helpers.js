'use strict';

// What the benchmark's step processes (bench/phase.js, bench/data-phase.js) share.

// A full collection, twice (weak references and finalizers run between), when node runs
// with --expose-gc.
function gc() {
  if (global.gc) {
    global.gc();
    global.gc();
  }
}

// `promise`, or a rejection naming `what` after `ms`.
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// fn(0) ... fn(count - 1), at most `concurrency` at a time; their results in order.
async function pool(count, concurrency, fn) {
  let next = 0;
  const results = new Array(count);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await fn(i);
      }
    })
  );
  return results;
}

module.exports = { gc, withTimeout, pool };
