'use strict';

const native = require('../native.js');
const { Track } = require('./Track');
const { InvalidStateError, awaitNative } = require('./errors');

// A track that plays a file in real time: IVF (VP8, VP9, AV1), Ogg/Opus or H.264 Annex B,
// recognised from its content. It starts playing when a producer first uses it, then plays
// like a camera until its end ('ended'), or for ever with `loop`. `codec` tells the file's
// codec ('video/VP8', ...) and `codecParameters` the profile its bitstream declares (VP9
// profile-id, AV1 profile, H.264 profile-level-id and packetization-mode):
// `transport.produce()` picks the router's codec of that type and profile.
// When the file turns out truncated or malformed while playing, the track ends too and
// `error` says what and where (file name and byte offset). A live file track keeps Node
// running (as a socket does) until it ends or is stopped.
class FileTrack extends Track {
  constructor(player) {
    super(player.track());
    this._player = player;
    this._error = null;
    // like a socket, a live source keeps Node running: until the end of the file or stop()
    const keepAlive = setInterval(() => {}, 0x7fffffff);
    this._native.onEnded(() => clearInterval(keepAlive));
  }

  get codec() {
    return this._player.codec;
  }
  // a new object at each read: the file's profile cannot be changed through it
  get codecParameters() {
    return this._player.codecParameters;
  }
  get path() {
    return this._player.path;
  }
  get format() {
    return this._player.format;
  }
  get loop() {
    return this._player.looped;
  }
  get width() {
    return this._player.width;
  }
  get height() {
    return this._player.height;
  }
  get frameRate() {
    return this._player.frameRate ?? undefined;
  }

  // null, or an Error saying why the file stopped before its end.
  get error() {
    if (!this._error) {
      const message = this._player.error;
      if (message) this._error = new Error(message);
    }
    return this._error;
  }

  writeFrame() {
    throw new InvalidStateError('a file track is fed by its file: writeFrame() is for tracks made with createTrack()');
  }
}

// createFileTrack(path, { loop, frameRate }): resolves once the file's header and first frame
// have been read; rejects with an Error naming the file and the byte offset when it cannot be
// played. `frameRate` (frames per second, default 30) is for H.264 Annex B, which has no times.
async function createFileTrack(path, { loop = false, frameRate } = {}) {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  if (frameRate !== undefined && (typeof frameRate !== 'number' || !(frameRate > 0 && frameRate <= 1000))) {
    throw new TypeError('frameRate must be a number of frames per second in (0, 1000]');
  }
  const player = await awaitNative(native.openFilePlayer(path, Boolean(loop), frameRate ?? null));
  return new FileTrack(player);
}

module.exports = { FileTrack, createFileTrack };
