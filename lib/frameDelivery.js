'use strict';

const native = require('../native.js');

// The frames of every remote track of this JS thread come through one native route: a track
// whose reader waits (takeFrames found nothing and armed it) is listed natively when frames
// come; the first one listed wakes this module once, and one synchronous drain() gives the
// frames of every listed track, which go to each track's waiting reader. Only tracks whose
// reader waits are drained: a reader that does not come back leaves its frames in the
// track's bounded native queue.

// Frames taken from a track at once: whatever is queued, up to this.
const BATCH = 32;

let delivery = null;
// key -> the callbacks of the track's waiting readers (usually one), each given an array of
// frames (empty: take again) or null (the track ended)
const waiting = new Map();
let nextKey = 1;
// readers open (frames() loops, 'frame' pumps): while any, the wake-up keeps Node alive, as
// the pending promise of an async native call did
let openReaders = 0;

function onReady() {
  const ready = delivery.drain(BATCH);
  for (let i = 0; i < ready.length; i++) {
    const { key, frames } = ready[i];
    const readers = waiting.get(key);
    if (readers === undefined) continue;
    waiting.delete(key);
    // the frames to the first reader; any other takes again (what is left, or waits)
    const got = frames ?? null;
    readers[0](got);
    for (let j = 1; j < readers.length; j++) readers[j](got === null ? null : []);
  }
}

function get() {
  if (delivery === null) delivery = new native.NativeFrameDelivery(onReady);
  return delivery;
}

// A key for one track.
function newKey() {
  return nextKey++;
}

// Up to BATCH frames of `nativeTrack`: an array now when some are queued, else a promise of
// them; null once the track ended.
function nextFrames(nativeTrack, key) {
  const frames = nativeTrack.takeFrames(BATCH, get(), key);
  if (frames === null || frames.length > 0) return frames;
  return new Promise((resolve) => {
    const reader = (got) => resolve(got !== null && got.length === 0 ? nextFrames(nativeTrack, key) : got);
    const readers = waiting.get(key);
    if (readers === undefined) waiting.set(key, [reader]);
    else readers.push(reader);
  });
}

// The track ended: its waiting reader gets null now.
function ended(key) {
  const readers = waiting.get(key);
  if (readers === undefined) return;
  waiting.delete(key);
  for (const reader of readers) reader(null);
}

function readerStarted() {
  if (openReaders++ === 0) get().keepAlive(true);
}

function readerStopped() {
  if (--openReaders === 0) get().keepAlive(false);
}

module.exports = { BATCH, newKey, nextFrames, ended, readerStarted, readerStopped };
