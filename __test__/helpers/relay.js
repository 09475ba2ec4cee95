'use strict';

// A UDP relay between a client and a server WebRtcTransport on 127.0.0.1, to make the network
// worse in a controlled way: it drops a seeded share of the client's media RTP packets, and
// (separately, off by default) of the server's RTP towards the client, of the payload types
// asked for only (never STUN, DTLS or RTCP; RTX only when its payload type is asked for), or
// everything both ways while `blocked`.
//
//   client --> relay 127.0.0.1:port --(one upstream socket per client address)--> server
//   client <-- relay 127.0.0.1:port <----------------------------------------------- server
//
// Give the client the server's candidates rewritten to the relay (`relay.candidates(...)`): the
// replies come from the address the client sends to, so ICE sees one plain host candidate.
// Packets are told apart by their first byte (RFC 7983): 0-3 STUN, 20-63 DTLS, 128-191
// RTP/RTCP; RTCP has a second byte of 192-223 (packet types 192-223); SRTP leaves the RTP
// header in the clear, so the payload type can be read.

const dgram = require('node:dgram');
const { prng } = require('./prng');

function classify(packet) {
  const b = packet[0];
  if (b <= 3) return 'stun';
  if (b >= 20 && b <= 63) return 'dtls';
  if (b >= 128 && b <= 191 && packet.length >= 12) {
    return packet[1] >= 192 && packet[1] <= 223 ? 'rtcp' : 'rtp';
  }
  return 'other';
}

// The USERNAME of a STUN Binding request ("serverUfrag:clientUfrag"), or null.
function stunUsername(packet) {
  if (packet.length < 20 || packet.readUInt16BE(0) !== 0x0001) return null;
  let offset = 20;
  const end = Math.min(packet.length, 20 + packet.readUInt16BE(2));
  while (offset + 4 <= end) {
    const type = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 2);
    if (type === 0x0006) return packet.toString('utf8', offset + 4, offset + 4 + length);
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return null;
}

// Starts a relay in front of `target` ({ ip, port }: the server's UDP candidate).
// Options: `loss` (0..1, the share of the client's media RTP to drop), `payloadTypes` (the RTP
// payload types that may be dropped: the producer's media codecs), `seed`; `downLoss` and
// `downPayloadTypes`, the same for the server's RTP towards the client (a consumer's media),
// drawn from a generator of their own so that the upstream drops stay those of `seed`.
async function createRelay({ target, loss = 0, payloadTypes = [], seed = 1, downLoss = 0, downPayloadTypes = [] }) {
  const front = dgram.createSocket('udp4');
  const upstreams = new Map(); // "ip:port" of a client socket -> socket towards the server
  const random = prng(seed);
  const randomDown = prng(seed + 0x5eed);
  const randomData = prng(seed + 0xda7a);
  const counts = {
    up: { stun: 0, dtls: 0, rtp: 0, rtcp: 0, other: 0 },
    down: { stun: 0, dtls: 0, rtp: 0, rtcp: 0, other: 0 },
    // bytes of the client's RTP by payload type, dropped ones included
    upRtpBytes: {},
    dropped: 0,
    droppedSeqs: [],
    // the server's RTP by payload type: packets forwarded and dropped
    downRtp: {},
    downDropped: {},
    // the server's dropped RTP as { pt, ssrc, seq }
    downDroppedPackets: [],
    // the sequence numbers of the server's RTP forwarded to the client, by SSRC
    downSeqs: new Map(),
    blocked: 0,
    // the client's DTLS application data records (SCTP, data channels) dropped
    dataDropped: 0,
  };
  // the share of the client's DTLS application data (content type 23) to drop
  let dataLoss = 0;
  const usernames = new Set();
  let settings = { loss, payloadTypes: new Set(payloadTypes) };
  let down = { loss: downLoss, payloadTypes: new Set(downPayloadTypes) };
  const dropNext = new Map(); // payload type -> how many of the server's next packets to drop
  let blocked = false;

  function upstreamFor(rinfo) {
    const key = `${rinfo.address}:${rinfo.port}`;
    let socket = upstreams.get(key);
    if (!socket) {
      socket = dgram.createSocket('udp4');
      socket.on('message', (packet) => {
        if (blocked) {
          counts.blocked++;
          return;
        }
        const kind = classify(packet);
        counts.down[kind]++;
        if (kind === 'rtp') {
          const pt = packet[1] & 0x7f;
          const next = dropNext.get(pt) ?? 0;
          if (next > 0) dropNext.set(pt, next - 1);
          if (next > 0 || (down.payloadTypes.has(pt) && randomDown() < down.loss)) {
            counts.downDropped[pt] = (counts.downDropped[pt] || 0) + 1;
            counts.downDroppedPackets.push({ pt, ssrc: packet.readUInt32BE(8), seq: packet.readUInt16BE(2) });
            return;
          }
          counts.downRtp[pt] = (counts.downRtp[pt] || 0) + 1;
          const ssrc = packet.readUInt32BE(8);
          if (!counts.downSeqs.has(ssrc)) counts.downSeqs.set(ssrc, []);
          counts.downSeqs.get(ssrc).push(packet.readUInt16BE(2));
        }
        front.send(packet, rinfo.port, rinfo.address);
      });
      socket.on('error', () => {});
      socket.bind(0, '127.0.0.1');
      upstreams.set(key, socket);
    }
    return socket;
  }

  front.on('message', (packet, rinfo) => {
    if (blocked) {
      counts.blocked++;
      return;
    }
    const kind = classify(packet);
    counts.up[kind]++;
    if (kind === 'stun') {
      const username = stunUsername(packet);
      if (username) usernames.add(username);
    }
    if (kind === 'rtp') {
      const pt = packet[1] & 0x7f;
      counts.upRtpBytes[pt] = (counts.upRtpBytes[pt] || 0) + packet.length;
    }
    if (kind === 'dtls' && packet[0] === 23 && dataLoss > 0 && randomData() < dataLoss) {
      counts.dataDropped++;
      return;
    }
    if (kind === 'rtp' && settings.payloadTypes.has(packet[1] & 0x7f) && random() < settings.loss) {
      counts.dropped++;
      counts.droppedSeqs.push(packet.readUInt16BE(2));
      return;
    }
    upstreamFor(rinfo).send(packet, target.port, target.ip);
  });
  front.on('error', () => {});
  await new Promise((resolve) => front.bind(0, '127.0.0.1', resolve));
  const { port } = front.address();

  return {
    ip: '127.0.0.1',
    port,
    counts,
    // STUN Binding request usernames seen from the client ("serverUfrag:clientUfrag").
    usernames,
    // The server's ICE candidates as the client should see them: this relay's address.
    candidates(iceCandidates) {
      return iceCandidates
        .filter((c) => c.protocol === 'udp' && (c.address ?? c.ip) === target.ip && c.port === target.port)
        .map((c) => ({ ...c, port }));
    },
    // Changes the loss (e.g. once the producer's payload types are known).
    setLoss({ loss: rate = settings.loss, payloadTypes: types = [...settings.payloadTypes] }) {
      settings = { loss: rate, payloadTypes: new Set(types) };
    },
    // Changes the loss of the server's RTP towards the client (e.g. once the consumer's
    // payload types are known; its RTX payload type too to make losses unrepairable).
    setDownLoss({ loss: rate = down.loss, payloadTypes: types = [...down.payloadTypes] }) {
      down = { loss: rate, payloadTypes: new Set(types) };
    },
    // Drops a share of the client's DTLS application data from now on: the SCTP packets of its
    // data channels (the handshake is left alone).
    setDataLoss(rate) {
      dataLoss = rate;
    },
    // Drops the server's next `count` RTP packets of `payloadType`, whatever the loss.
    dropDownNext({ payloadType, count = 1 }) {
      dropNext.set(payloadType, (dropNext.get(payloadType) ?? 0) + count);
    },
    // While blocked, nothing gets through either way.
    block(on = true) {
      blocked = on;
    },
    close() {
      front.close();
      for (const socket of upstreams.values()) socket.close();
      upstreams.clear();
    },
  };
}

module.exports = { createRelay, classify, stunUsername };
