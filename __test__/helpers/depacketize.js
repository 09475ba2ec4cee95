'use strict';

// RTP packets back to encoded frames, to check byte for byte what a server consumer forwards.
//
// - parseRtp: RTP header (RFC 3550) with CSRCs, header extension and padding skipped.
// - payload parsers, one per codec, each giving the media bytes of one packet and the
//   packet's frame-boundary flags as its payload format says them:
//   VP8 (RFC 7741: X, I, L, T, K, 7/15-bit picture id), VP9 (draft-ietf-payload-vp9: I, P, L,
//   F, B, E, V, P_DIFF, SS), H.264 (RFC 6184: single NAL unit, STAP-A, FU-A), AV1 (AV1 RTP
//   spec: aggregation header Z, Y, W, N, OBU elements), Opus (RFC 7587: as is).
// - framesOf: groups packets into frames (video: same timestamp, ended by the marker bit;
//   audio: one packet, one frame) and reassembles each frame's bytes. Anything malformed
//   throws: the tests want to know.

const { leb128 } = require('./codec-frames');

function parseRtp(buf) {
  if (buf.length < 12) throw new Error(`RTP packet of ${buf.length} bytes`);
  const version = buf[0] >> 6;
  if (version !== 2) throw new Error(`RTP version ${version}`);
  const padding = (buf[0] & 0x20) !== 0;
  const extension = (buf[0] & 0x10) !== 0;
  const csrcCount = buf[0] & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (extension) {
    if (buf.length < offset + 4) throw new Error('truncated RTP header extension');
    offset += 4 + 4 * buf.readUInt16BE(offset + 2);
  }
  let end = buf.length;
  if (padding) end -= buf[buf.length - 1];
  if (end < offset) throw new Error('RTP header and padding longer than the packet');
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(offset, end),
  };
}

function need(payload, n, what) {
  if (payload.length < n) throw new Error(`${what}: payload of ${payload.length} bytes, needs ${n}`);
}

// VP8 payload descriptor (RFC 7741 4.2). start: S=1 and PID=0 (first packet of a frame).
function vp8(payload) {
  need(payload, 1, 'VP8');
  const b0 = payload[0];
  const x = (b0 & 0x80) !== 0;
  const s = (b0 & 0x10) !== 0;
  const pid = b0 & 0x07;
  let o = 1;
  let pictureId;
  if (x) {
    need(payload, o + 1, 'VP8 X');
    const ext = payload[o++];
    const [i, l, t, k] = [ext & 0x80, ext & 0x40, ext & 0x20, ext & 0x10];
    if (i) {
      need(payload, o + 1, 'VP8 I');
      if (payload[o] & 0x80) {
        need(payload, o + 2, 'VP8 15-bit picture id');
        pictureId = payload.readUInt16BE(o) & 0x7fff;
        o += 2;
      } else {
        pictureId = payload[o] & 0x7f;
        o += 1;
      }
    }
    if (l) o += 1; // TL0PICIDX
    if (t || k) o += 1; // TID, Y, KEYIDX
  }
  need(payload, o + 1, 'VP8 descriptor with no data');
  return { start: s && pid === 0, pictureId, data: payload.subarray(o) };
}

// VP9 payload descriptor (draft-ietf-payload-vp9-16 4.2). start: B; end: E.
function vp9(payload) {
  need(payload, 1, 'VP9');
  const b0 = payload[0];
  const [i, p, l, f, b, e, v] = [0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02].map((m) => (b0 & m) !== 0);
  let o = 1;
  let pictureId;
  if (i) {
    need(payload, o + 1, 'VP9 I');
    if (payload[o] & 0x80) {
      need(payload, o + 2, 'VP9 15-bit picture id');
      pictureId = payload.readUInt16BE(o) & 0x7fff;
      o += 2;
    } else {
      pictureId = payload[o++] & 0x7f;
    }
  }
  if (l) o += f ? 1 : 2; // layer indices (+ TL0PICIDX in non-flexible mode)
  const pDiffs = [];
  if (f && p) {
    for (let more = true; more; ) {
      need(payload, o + 1, 'VP9 P_DIFF');
      pDiffs.push(payload[o] >> 1);
      more = (payload[o++] & 0x01) !== 0;
      if (pDiffs.length > 3) throw new Error('VP9: more than 3 P_DIFF');
    }
  }
  let size;
  if (v) {
    need(payload, o + 1, 'VP9 SS');
    const ss = payload[o++];
    const spatialLayers = (ss >> 5) + 1;
    const y = (ss & 0x10) !== 0;
    const g = (ss & 0x08) !== 0;
    if (y) {
      need(payload, o + 4 * spatialLayers, 'VP9 SS sizes');
      size = { width: payload.readUInt16BE(o), height: payload.readUInt16BE(o + 2) };
      o += 4 * spatialLayers;
    }
    if (g) {
      const groups = payload[o++];
      for (let n = 0; n < groups; n++) o += 1 + ((payload[o] >> 2) & 0x03);
    }
  }
  need(payload, o + 1, 'VP9 descriptor with no data');
  return { start: b, end: e, interPicture: p, pictureId, pDiffs, size, data: payload.subarray(o) };
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

// H.264 (RFC 6184, packetization-mode 1). data: this packet's contribution to the Annex B
// access unit (start code + NAL unit, several for a STAP-A; an FU-A start adds the start code
// and the rebuilt NAL header, later fragments only their bytes). nalTypes: the NAL unit
// types started in this packet.
function h264(payload) {
  need(payload, 1, 'H264');
  const type = payload[0] & 0x1f;
  if (type >= 1 && type <= 23) {
    return { start: true, end: true, nalTypes: [type], data: Buffer.concat([START_CODE, payload]) };
  }
  if (type === 24) {
    const parts = [];
    const nalTypes = [];
    let o = 1;
    while (o < payload.length) {
      need(payload, o + 2, 'H264 STAP-A size');
      const size = payload.readUInt16BE(o);
      o += 2;
      need(payload, o + size, 'H264 STAP-A NAL unit');
      if (size === 0) throw new Error('H264 STAP-A: empty NAL unit');
      nalTypes.push(payload[o] & 0x1f);
      parts.push(START_CODE, payload.subarray(o, o + size));
      o += size;
    }
    if (nalTypes.length < 2) throw new Error(`H264 STAP-A with ${nalTypes.length} NAL unit(s)`);
    return { start: true, end: true, nalTypes, data: Buffer.concat(parts) };
  }
  if (type === 28) {
    need(payload, 3, 'H264 FU-A');
    const s = (payload[1] & 0x80) !== 0;
    const e = (payload[1] & 0x40) !== 0;
    const nalType = payload[1] & 0x1f;
    const body = payload.subarray(2);
    if (s) {
      const header = Buffer.from([(payload[0] & 0xe0) | nalType]);
      return { start: true, end: e, nalTypes: [nalType], data: Buffer.concat([START_CODE, header, body]) };
    }
    return { start: false, end: e, nalTypes: [], data: body };
  }
  throw new Error(`H264: NAL unit type ${type} is not allowed in packetization-mode 1`);
}

function readLeb128(buf, at) {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (at + i >= buf.length) throw new Error('truncated leb128');
    const b = buf[at + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, length: i + 1 };
  }
  throw new Error('leb128 longer than 8 bytes');
}

// AV1 RTP payload (AV1 RTP spec 4.4): aggregation header and OBU elements. Z: the first
// element continues the previous packet's last OBU; Y: the last one goes on in the next
// packet; W: number of elements (0: every element has a length field); N: first packet of a
// coded video sequence.
function av1(payload) {
  need(payload, 2, 'AV1');
  const h = payload[0];
  const z = (h & 0x80) !== 0;
  const y = (h & 0x40) !== 0;
  const w = (h >> 4) & 0x03;
  const n = (h & 0x08) !== 0;
  const elements = [];
  let o = 1;
  while (o < payload.length) {
    let size;
    if (w === 0 || elements.length < w - 1) {
      const leb = readLeb128(payload, o);
      o += leb.length;
      size = leb.value;
    } else {
      size = payload.length - o;
    }
    need(payload, o + size, 'AV1 OBU element');
    elements.push(payload.subarray(o, o + size));
    o += size;
  }
  if (w !== 0 && elements.length !== w) throw new Error(`AV1: W=${w} but ${elements.length} elements`);
  return { continues: z, continued: y, newSequence: n, elements };
}

// AV1 OBUs (the bytes of each, as carried: header, optional extension, maybe a size field)
// -> a temporal unit in low-overhead format, every OBU with obu_has_size_field = 1.
function av1Obus(obus) {
  const out = [];
  for (const element of obus) {
    const header = element[0];
    const headerLength = header & 0x04 ? 2 : 1;
    let body = element.subarray(headerLength);
    if (header & 0x02) {
      const leb = readLeb128(element, headerLength);
      body = element.subarray(headerLength + leb.length, headerLength + leb.length + leb.value);
    }
    out.push(Buffer.from([header | 0x02]), element.subarray(1, headerLength), leb128(body.length), body);
  }
  return Buffer.concat(out);
}

// A frame (its packets, in order) -> its bytes, checking the frame-boundary flags.
const assemblers = {
  'video/vp8'(packets) {
    const parts = packets.map((p) => vp8(p.payload));
    parts.forEach((part, i) => {
      if (part.start !== (i === 0)) throw new Error(`VP8: S bit ${part.start} on packet ${i} of the frame`);
    });
    return { data: Buffer.concat(parts.map((p) => p.data)), descriptors: parts };
  },
  'video/vp9'(packets) {
    const parts = packets.map((p) => vp9(p.payload));
    parts.forEach((part, i) => {
      if (part.start !== (i === 0)) throw new Error(`VP9: B bit ${part.start} on packet ${i} of the frame`);
      if (part.end !== (i === parts.length - 1)) throw new Error(`VP9: E bit ${part.end} on packet ${i} of the frame`);
    });
    return { data: Buffer.concat(parts.map((p) => p.data)), descriptors: parts };
  },
  'video/h264'(packets) {
    const parts = packets.map((p) => h264(p.payload));
    parts.forEach((part, i) => {
      const previous = parts[i - 1];
      const inFragment = previous !== undefined && !previous.end;
      if (part.start === inFragment) throw new Error(`H264: packet ${i} of the frame breaks an FU-A`);
    });
    if (!parts[parts.length - 1].end) throw new Error('H264: the frame ends inside an FU-A');
    return { data: Buffer.concat(parts.map((p) => p.data)), descriptors: parts };
  },
  'video/av1'(packets) {
    const parts = packets.map((p) => av1(p.payload));
    const obus = [];
    parts.forEach((part, i) => {
      const open = i > 0 && parts[i - 1].continued;
      if (part.continues !== open) throw new Error(`AV1: Z=${part.continues} on packet ${i} of the frame`);
      part.elements.forEach((element, j) => {
        if (j === 0 && part.continues) obus[obus.length - 1] = Buffer.concat([obus[obus.length - 1], element]);
        else obus.push(element);
      });
    });
    if (parts[parts.length - 1].continued) throw new Error('AV1: the frame ends inside an OBU');
    return { data: av1Obus(obus), descriptors: parts };
  },
  'audio/opus'(packets) {
    return { data: Buffer.from(packets[0].payload), descriptors: [] };
  },
};

// RTP packets (Buffers or parsed, in arrival order) -> frames:
// { timestamp, data, packets, descriptors, complete }. A video frame is the packets with one
// timestamp, the last one with the marker bit; an audio frame is one packet. A video frame
// cut short by the end of `packets` comes last with complete: false and no data.
function framesOf(mimeType, rtpPackets) {
  const codec = mimeType.toLowerCase();
  const assemble = assemblers[codec];
  if (!assemble) throw new Error(`no depacketizer for ${mimeType}`);
  const packets = rtpPackets.map((p) => (Buffer.isBuffer(p) ? parseRtp(p) : p));
  const frames = [];
  let current = [];
  const close = () => {
    const { data, descriptors } = assemble(current);
    frames.push({ timestamp: current[0].timestamp, data, packets: current, descriptors, complete: true });
    current = [];
  };
  for (const packet of packets) {
    if (codec.startsWith('audio/')) {
      current = [packet];
      close();
      continue;
    }
    if (current.length > 0 && packet.timestamp !== current[0].timestamp) {
      throw new Error(
        `packet ${packet.sequenceNumber} (timestamp ${packet.timestamp}) starts a new frame before the ` +
          `marker bit ended the frame at timestamp ${current[0].timestamp}`
      );
    }
    current.push(packet);
    if (packet.marker) close();
  }
  if (current.length > 0) frames.push({ timestamp: current[0].timestamp, packets: current, complete: false });
  return frames;
}

module.exports = { parseRtp, vp8, vp9, h264, av1, av1Obus, readLeb128, framesOf };
