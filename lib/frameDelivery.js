'use strict';

const native = require('../native.js');

// The frames of every remote track of this JS thread come through one native route: a track
// whose reader waits is armed natively (the waits of a microtask's readers in one wait() call);
// when frames come it is listed, and the first one listed wakes this module once; one
// synchronous drain() then writes the frames of every listed track into buffers this module
// keeps (bytes into a slab each frame's data is a view of, numbers into `meta`: no JS value
// made natively), and they go to each track's waiting reader. Only tracks whose reader waits
// are drained: a reader that does not come back leaves its frames in the track's bounded
// native queue.

// Frames taken from a track at once: whatever is queued, up to this.
const BATCH = 32;
// numbers per frame in drain()'s `meta` (FRAME_FIELDS of src/node/remote_track.rs)
const FRAME_FIELDS = 7;

let delivery = null;
// The frames' bytes: drain() writes them into the slab being filled (`slab`) from `slabAt` on,
// and each frame's data is a view of its bytes there. Bytes of a frame not released are never
// written again (a frame a program keeps stays as it was). A slab whose frames were all
// released (ReceivedFrame.release()) is written again: the one being filled from its start, the
// others once they are needed; slabs with frames still out are left to the garbage collector.
const SLAB = 256 * 1024;
// released slabs of SLAB bytes kept for the next ones to fill (the rest go to the collector)
const FREE_SLABS = 4;

// A slab, with its frames not released yet.
class Slab {
  constructor(size) {
    this.buffer = Buffer.allocUnsafeSlow(size);
    this.live = 0;
  }
}

let slab = null;
let slabAt = 0;
const freeSlabs = [];

// Keeps `done` (no frame of it is out, none will be written into it) for the next slab to fill.
function recycle(done) {
  if (done.buffer.length === SLAB && freeSlabs.length < FREE_SLABS) freeSlabs.push(done);
}

// what drain() writes its numbers into (made with the delivery; 8192 is far more than the
// 2 + 7 * BATCH of a track)
let meta = null;
let metaBytes = null;
// key -> the track as read here, from its first wait until it ends: `key`, `native` (the
// native track its readers wait on, to wait again for them), `readers` (null, the waiting
// reader: a callback given an array of frames, or null once the track ended, or an array of
// them when several wait), `reading` (the native track queues frames for its readers) and
// `queued` (its wait is in `pending`). One entry per track rather than one per wait: no map
// write per batch.
const tracks = new Map();
// the tracks whose readers wait since the last flushWaits(), each once
let pending = [];
// their keys for wait(), which writes what each wait did in their place (`waitStates`)
let waitKeys = new Uint32Array(256);
let waitStates = new Int32Array(waitKeys.buffer);
let waitBytes = Buffer.from(waitKeys.buffer);
let nextKey = 1;
// readers open (frames() loops, 'frame' pumps): while any, the wake-up keeps Node alive, as a
// pending promise of the reader would
let openReaders = 0;

// One frame: ReceivedFrame's fields, those without a value undefined (one shape for all), its
// data a view of its slab until it is released.
class ReceivedFrame {
  #slab;

  constructor(offset, at) {
    const spatialLayer = meta[at + 4];
    const temporalLayer = meta[at + 5];
    const ntpTime = meta[at + 6];
    const flags = meta[at + 3];
    this.data = slab.buffer.subarray(offset, offset + meta[at]);
    this.timestamp = meta[at + 1];
    this.rtpTimestamp = meta[at + 2];
    this.keyframe = (flags & 1) !== 0;
    this.spatialLayer = spatialLayer === spatialLayer ? spatialLayer : undefined;
    this.temporalLayer = temporalLayer === temporalLayer ? temporalLayer : undefined;
    this.gapBefore = (flags & 2) !== 0;
    this.ntpTime = ntpTime === ntpTime ? ntpTime : undefined;
    this.#slab = slab;
    slab.live++;
  }

  // The program is done with the frame: its bytes may be written again; `data` is gone. Once.
  release() {
    const of = this.#slab;
    if (of === undefined) return;
    this.#slab = undefined;
    this.data = undefined;
    // the slab being filled is written again from its start by the next drain instead
    if (--of.live === 0 && of !== slab) recycle(of);
  }
}

function drain() {
  for (;;) {
    // every frame written into the slab was released: written again from its start
    if (slab.live === 0) slabAt = 0;
    const length = delivery.drain(BATCH, slab.buffer.subarray(slabAt), metaBytes);
    if (length === 0) return;
    if (length < 0) {
      // the next track's frames do not fit in what is left: another slab, and again
      nextSlab(-length);
      continue;
    }
    slabAt = dispatch(length, slabAt);
  }
}

// The slab being filled is done with: the next one holds at least `size` bytes.
function nextSlab(size) {
  if (slab.live === 0) recycle(slab);
  slab = (size <= SLAB && freeSlabs.pop()) || new Slab(Math.max(SLAB, size));
  slabAt = 0;
}

// Hands the frames drain() wrote (`length` numbers of `meta`, their bytes from `offset` of the
// slab on) to the waiting readers (they settle promises: no program code runs before this
// returns, so no drain within it); returns where the frames' bytes end.
function dispatch(length, offset) {
  let at = 0;
  while (at < length) {
    const key = meta[at];
    const count = meta[at + 1];
    at += 2;
    const track = tracks.get(key);
    if (track === undefined || track.readers === null) {
      // no reader for them (it stopped meanwhile): no frame made, nothing of the slab held
      for (let i = 0; i < count; i++, at += FRAME_FIELDS) offset += meta[at];
      continue;
    }
    let frames = null;
    if (count >= 0) {
      frames = new Array(count);
      for (let i = 0; i < count; i++) {
        frames[i] = new ReceivedFrame(offset, at);
        offset += meta[at];
        at += FRAME_FIELDS;
      }
    }
    const readers = track.readers;
    track.readers = null;
    // the frames to the first reader; any other waits again (for what is left, or new ones)
    if (typeof readers === 'function') hand(readers, frames, key);
    else {
      hand(readers[0], frames, key);
      for (let j = 1; j < readers.length; j++) hand(readers[j], frames === null ? null : [], key);
    }
  }
  return offset;
}

// `frames` to `reader`; none (nothing was left for it): it waits again, deferred, never from
// inside a drain, whose later tracks go first.
function hand(reader, frames, key) {
  if (frames === null || frames.length > 0) reader(frames);
  else Promise.resolve().then(() => waitAgain(key, reader));
}

function waitAgain(key, reader) {
  const track = tracks.get(key);
  if (track === undefined) reader(null);
  else readFrames(track.native, key, reader);
}

function get() {
  if (delivery === null) {
    slab = new Slab(SLAB);
    meta = new Float64Array(8192);
    metaBytes = Buffer.from(meta.buffer, meta.byteOffset, meta.byteLength);
    delivery = new native.NativeFrameDelivery(drain);
  }
  return delivery;
}

// A key for one track.
function newKey() {
  return nextKey++;
}

// Calls `reader` once with up to BATCH frames of `nativeTrack` (`key` its key), at least one,
// or with null once the track ended: when frames are queued or the track ended, as soon as the
// wait is made (at once for the first wait of a reading, else with the other waits of this
// microtask, in flushWaits()), else when frames come.
function readFrames(nativeTrack, key, reader) {
  let track = tracks.get(key);
  if (track === undefined) {
    track = { key, native: nativeTrack, readers: null, reading: false, queued: false };
    tracks.set(key, track);
    get().addTrack(nativeTrack, key);
  }
  const readers = track.readers;
  if (readers === null) track.readers = reader;
  else if (typeof readers === 'function') track.readers = [readers, reader];
  else readers.push(reader);
  if (!track.reading) {
    // the first wait starts the reading: now, so that the frames that come once the reader
    // asked are its own
    track.reading = true;
    wait([track]);
    return;
  }
  if (track.queued) return;
  track.queued = true;
  if (pending.push(track) === 1) queueMicrotask(flushWaits);
}

// The waits of the readers that came since the last call, in one call.
function flushWaits() {
  const list = pending;
  pending = [];
  for (const track of list) track.queued = false;
  wait(list);
}

// The readers of `list` (tracks) wait, in one native call: an ended track's readers get null,
// and the frames already queued are drained.
function wait(list) {
  const count = list.length;
  if (count > waitKeys.length) {
    waitKeys = new Uint32Array(2 ** Math.ceil(Math.log2(count)));
    waitStates = new Int32Array(waitKeys.buffer);
    waitBytes = Buffer.from(waitKeys.buffer);
  }
  for (let i = 0; i < count; i++) waitKeys[i] = list[i].key;
  const listed = delivery.wait(waitBytes, count);
  for (let i = 0; i < count; i++) if (waitStates[i] < 0) ended(list[i].key);
  // frames were queued: those tracks are listed, no wake-up comes for them
  if (listed > 0) drain();
}

// A promise of what readFrames() gives.
function nextFrames(nativeTrack, key) {
  return new Promise((resolve) => readFrames(nativeTrack, key, resolve));
}

// The native track of `key` stopped reading (no reader left): the next wait starts it again.
function readingStopped(key) {
  const track = tracks.get(key);
  if (track !== undefined) track.reading = false;
}

// The track ended: its waiting readers get null now.
function ended(key) {
  const track = tracks.get(key);
  if (track === undefined) return;
  tracks.delete(key);
  delivery.removeTrack(key);
  const readers = track.readers;
  if (readers === null) return;
  if (typeof readers === 'function') readers(null);
  else for (const reader of readers) reader(null);
}

function readerStarted() {
  if (openReaders++ === 0) get().keepAlive(true);
}

function readerStopped() {
  if (--openReaders === 0) get().keepAlive(false);
}

module.exports = { BATCH, newKey, readFrames, nextFrames, readingStopped, ended, readerStarted, readerStopped };
