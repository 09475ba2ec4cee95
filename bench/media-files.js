'use strict';

// The benchmark's media as files, for clients that play media from a file instead of taking
// frames from the program (mediasoup-client-aiortc: aiortc's MediaPlayer, with decode: false
// so that it sends the file's encoded frames as they are). The same frames the other clients
// write (clients.js `media`): VP8 in IVF at VIDEO_FPS, a keyframe every 2 s, and Opus in Ogg,
// 20 ms packets. Long enough for any phase: a looping player would restart its timestamps and
// send the next second of media at once.
//
//   const { video, audio } = mediaFiles(dir, media, { seconds, videoFps, audioFps });

const fs = require('node:fs');
const path = require('node:path');

// IVF (the container libvpx's tools write): a 32-byte file header, then per frame a 12-byte
// header (size, 64-bit pts in the file's time base) and the frame.
function ivf(frames, fps) {
  const head = Buffer.alloc(32);
  head.write('DKIF', 0, 'latin1');
  head.writeUInt16LE(0, 4); // version
  head.writeUInt16LE(32, 6); // header size
  head.write('VP80', 8, 'latin1');
  head.writeUInt16LE(320, 12);
  head.writeUInt16LE(240, 14);
  head.writeUInt32LE(fps, 16); // time base: 1/fps
  head.writeUInt32LE(1, 20);
  head.writeUInt32LE(frames.length, 24);
  const parts = [head];
  frames.forEach((frame, i) => {
    const fh = Buffer.alloc(12);
    fh.writeUInt32LE(frame.length, 0);
    fh.writeBigUInt64LE(BigInt(i), 4);
    parts.push(fh, frame);
  });
  return Buffer.concat(parts);
}

// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor.
const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

function oggCrc(buf) {
  let crc = 0;
  for (const b of buf) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  return crc;
}

// One Ogg page holding whole packets (each < 255 bytes: one lacing value each).
function oggPage(packets, { serial, sequence, granule, flags }) {
  const head = Buffer.alloc(27 + packets.length);
  head.write('OggS', 0, 'latin1');
  head[4] = 0; // version
  head[5] = flags; // 2: first page of the stream, 4: last
  head.writeBigInt64LE(BigInt(granule), 6);
  head.writeUInt32LE(serial, 14);
  head.writeUInt32LE(sequence, 18);
  head[26] = packets.length;
  packets.forEach((p, i) => {
    if (p.length >= 255) throw new Error('oggPage: packets of 255 bytes or more are not written here');
    head[27 + i] = p.length;
  });
  const page = Buffer.concat([head, ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

// Ogg Opus (RFC 7845): OpusHead and OpusTags pages, then the audio, 50 packets a page.
function oggOpus(packets, samplesPerPacket) {
  const serial = 0x6d73636e;
  const idHeader = Buffer.alloc(19);
  idHeader.write('OpusHead', 0, 'latin1');
  idHeader[8] = 1; // version
  idHeader[9] = 1; // channels
  idHeader.writeUInt16LE(0, 10); // pre-skip
  idHeader.writeUInt32LE(48000, 12);
  idHeader.writeInt16LE(0, 16); // output gain
  idHeader[18] = 0; // channel mapping family
  const vendor = Buffer.from('mediasoup-client-native bench', 'latin1');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  const pages = [
    oggPage([idHeader], { serial, sequence: 0, granule: 0, flags: 2 }),
    oggPage([tags], { serial, sequence: 1, granule: 0, flags: 0 }),
  ];
  for (let i = 0, seq = 2; i < packets.length; i += 50, seq++) {
    const chunk = packets.slice(i, i + 50);
    const last = i + 50 >= packets.length;
    pages.push(oggPage(chunk, { serial, sequence: seq, granule: (i + chunk.length) * samplesPerPacket, flags: last ? 4 : 0 }));
  }
  return Buffer.concat(pages);
}

// Writes the files once (their names say what is in them) and returns their paths.
function mediaFiles(dir, media, { seconds, videoFps, audioFps }) {
  fs.mkdirSync(dir, { recursive: true });
  const tag = `${seconds}s-${videoFps}fps-${media.delta.length}b-${audioFps}fps-${media.opus.length}b`;
  const video = path.join(dir, `video-${tag}.ivf`);
  const audio = path.join(dir, `audio-${tag}.ogg`);
  if (!fs.existsSync(video)) {
    const frames = Array.from({ length: seconds * videoFps }, (_, i) => (i % (2 * videoFps) === 0 ? media.keyframe : media.delta));
    fs.writeFileSync(`${video}.tmp`, ivf(frames, videoFps));
    fs.renameSync(`${video}.tmp`, video);
  }
  if (!fs.existsSync(audio)) {
    const packets = Array.from({ length: seconds * audioFps }, () => media.opus);
    fs.writeFileSync(`${audio}.tmp`, oggOpus(packets, 48000 / audioFps));
    fs.renameSync(`${audio}.tmp`, audio);
  }
  return { video, audio };
}

module.exports = { mediaFiles, oggCrc };
