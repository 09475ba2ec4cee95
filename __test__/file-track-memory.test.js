'use strict';

// Memory of file tracks opened from untrusted files: 200 mutated copies of the bundled samples
// opened at once through createFileTrack(). Each open runs on one of the addon's few blocking
// threads (src/node/runtime.rs): the burst must not start a thread per call (each thread's
// allocator pages stay resident), and RSS must stay under a bound that 256 KiB kept per file
// would exceed. No server: nothing is produced.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createFileTrack } = require('..');

const samples = path.join(__dirname, '..', 'samples');
const FILES = 200;
// src/node/runtime.rs MAX_BLOCKING_THREADS
const MAX_BLOCKING_THREADS = 4;
// Generous for a burst of 200 opens with a bounded thread pool, first-use costs included (code
// pages, the runtime's first tasks).
const MAX_RSS_GROWTH_MIB = 40;

// A small deterministic generator (LCG), so that a failure can be replayed.
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

// A copy of `data` with 1-16 changes, half of them in the first 256 bytes (the headers):
// flipped bits, random bytes, 32-bit words of 0xff or 0, and sometimes a truncation.
function mutate(data, random) {
  const out = Buffer.from(data);
  const changes = 1 + Math.floor(random() * 16);
  for (let i = 0; i < changes; i++) {
    const span = random() < 0.5 ? Math.min(out.length, 256) : out.length;
    const at = Math.floor(random() * span);
    const kind = random();
    if (kind < 0.3) out[at] ^= 1 << Math.floor(random() * 8);
    else if (kind < 0.6) out[at] = Math.floor(random() * 256);
    else if (kind < 0.8) out.fill(0xff, at, at + 4);
    else out.fill(0, at, at + 4);
  }
  return random() < 0.2 ? out.subarray(0, Math.floor(random() * out.length)) : out;
}

const threads = () => fs.readdirSync('/proc/self/task').length;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

test('200 mutated sample files opened at once: a bounded number of threads and bounded RSS', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-file-memory-'));
  try {
    const random = generator(1);
    const sources = fs.readdirSync(samples).map((name) => fs.readFileSync(path.join(samples, name)));
    const files = [];
    for (let i = 0; i < FILES; i++) {
      const file = path.join(tmp, `mutated-${i}`);
      fs.writeFileSync(file, mutate(sources[i % sources.length], random));
      files.push(file);
    }
    // first use: the runtime's first blocking thread, libuv's thread pool
    (await createFileTrack(path.join(samples, 'opus.ogg'))).stop();
    await fs.promises.readFile(files[0]);
    global.gc?.();
    const threadsBefore = threads();
    const rssBefore = rssMiB();

    const results = await Promise.allSettled(files.map((file) => createFileTrack(file)));
    let opened = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        opened++;
        r.value.stop();
      } else {
        // errors are errors: each names its file
        assert.ok(r.reason instanceof Error, String(r.reason));
        assert.match(r.reason.message, /mutated-\d+/);
      }
    }
    const newThreads = threads() - threadsBefore;
    global.gc?.();
    const growth = rssMiB() - rssBefore;
    t.diagnostic(`${opened}/${FILES} opened, ${newThreads} new threads, RSS +${growth.toFixed(1)} MiB`);
    assert.ok(opened > 0 && opened < FILES, `${opened} of ${FILES} mutated files opened`);
    assert.ok(newThreads <= MAX_BLOCKING_THREADS, `${newThreads} threads started by the burst`);
    assert.ok(growth < MAX_RSS_GROWTH_MIB, `RSS grew by ${growth.toFixed(1)} MiB`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
