'use strict';

// The real mediasoup server for the benchmark: W workers (one router each) on 127.0.0.1,
// server transports spread over them round robin, and what the benchmark reads from the
// server side (producer counters and scores, the workers' CPU time from /proc).

const fs = require('node:fs');
const os = require('node:os');
const { loadMediasoup } = require('../scripts/mediasoup-server');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

// CPU seconds (user + system, all threads) of process `pid`.
function processCpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

// Busy and total CPU seconds of the whole machine (all cores), from /proc/stat.
function machineCpuSeconds() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

// The kernel's UDP counters of this network namespace (/proc/net/snmp): datagrams received,
// and those dropped because a socket's receive buffer was full.
function udpCounters() {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
  const names = lines[0].trim().split(/\s+/).slice(1);
  const values = lines[1].trim().split(/\s+/).slice(1).map(Number);
  const get = (name) => values[names.indexOf(name)];
  return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), outDatagrams: get('OutDatagrams'), sndbufErrors: get('SndbufErrors') };
}

// Kernel buffers of the sockets the sources come in by (the feeder's plain RTP, and its pipe
// to another worker), capped by net.core.rmem_max/wmem_max. A source has no retransmission: a
// datagram a busy worker's socket drops there is lost for every consumer of it, which no
// client can repair, and the receive steps would measure the server's input, not the client.
const SOURCE_SOCKET_BUFFER = 4 * 1024 * 1024;

async function startServer({ workers = 1, logLevel = 'error' } = {}) {
  const mediasoup = loadMediasoup();
  const list = [];
  for (let i = 0; i < workers; i++) {
    const worker = await mediasoup.createWorker({ logLevel, rtcMinPort: 20000, rtcMaxPort: 59999 });
    const router = await worker.createRouter({ mediaCodecs });
    list.push({ worker, router });
  }
  let next = 0;

  // A server WebRtcTransport on 127.0.0.1 (next worker in turn) and the client's options.
  async function createWebRtcTransport() {
    const { router } = list[next++ % list.length];
    const transport = await router.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    return {
      transport,
      router,
      clientOptions: {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
      },
    };
  }

  // `count` sources for the receive benchmarks, on the first router: a PlainTransport on
  // 127.0.0.1 (comedia, RTCP muxed) per stream, a VP8 and an Opus producer fed by
  // bench/feeder.js, each piped to the other routers (a consumer on any router consumes it by
  // the same producer id). Resolves with [{ video: { producer, port, ssrc, payloadType },
  // audio: { ... } }].
  async function createSources(count) {
    const { router } = list[0];
    const sources = [];
    const stream = async (kind, ssrc) => {
      const transport = await router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1', recvBufferSize: SOURCE_SOCKET_BUFFER },
        rtcpMux: true,
        comedia: true,
      });
      const video = kind === 'video';
      const payloadType = video ? 96 : 111;
      const producer = await transport.produce({
        kind,
        rtpParameters: {
          codecs: [
            video
              ? { mimeType: 'video/VP8', payloadType, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }
              : { mimeType: 'audio/opus', payloadType, clockRate: 48000, channels: 2 },
          ],
          encodings: [{ ssrc }],
        },
      });
      for (const other of list.slice(1)) {
        await router.pipeToRouter({
          producerId: producer.id,
          router: other.router,
          listenInfo: { protocol: 'udp', ip: '127.0.0.1', recvBufferSize: SOURCE_SOCKET_BUFFER, sendBufferSize: SOURCE_SOCKET_BUFFER },
        });
      }
      return { transport, producer, port: transport.tuple.localPort, ssrc, payloadType };
    };
    for (let i = 0; i < count; i++) {
      sources.push({ video: await stream('video', 0x10000 + 2 * i), audio: await stream('audio', 0x10001 + 2 * i) });
    }
    return sources;
  }

  function workersCpuSeconds() {
    return list.reduce((n, { worker }) => n + processCpuSeconds(worker.pid), 0);
  }

  function close() {
    for (const { worker } of list) worker.close();
  }

  return {
    mediasoup,
    version: mediasoup.version,
    routerRtpCapabilities: list[0].router.rtpCapabilities,
    workers: list,
    createWebRtcTransport,
    createSources,
    workersCpuSeconds,
    close,
  };
}

// Packets and bytes the server counted for each producer, the packets it found lost and those
// RTX repaired, and its score: the worker's current value in getStats() (a stream's score is
// updated when a sender report arrives for it), or the last 'score' event.
async function producerSnapshot(producers) {
  const stats = await Promise.all(producers.map((p) => p.getStats().catch(() => [])));
  return stats.map((s, i) => ({
    packets: s.reduce((n, x) => n + x.packetCount, 0),
    bytes: s.reduce((n, x) => n + x.byteCount, 0),
    lost: s.reduce((n, x) => n + (x.packetsLost || 0), 0),
    repaired: s.reduce((n, x) => n + (x.packetsRepaired || 0), 0),
    scored: s.some((x) => x.score > 0) || (producers[i].score || []).some((x) => x.score > 0),
    score: Math.max(0, ...s.map((x) => x.score || 0)),
  }));
}

// Packets and bytes the server sent to each consumer (RTX included), and the packets its
// receiver reported lost.
async function consumerSnapshot(consumers) {
  const stats = await Promise.all(consumers.map((c) => c.getStats().catch(() => [])));
  return stats.map((s) => {
    const out = s.filter((x) => x.type === 'outbound-rtp');
    // the stream of the producer consumed, as the server receives it
    const source = s.filter((x) => x.type === 'inbound-rtp');
    const sum = (list, key) => list.reduce((n, x) => n + (x[key] || 0), 0);
    return {
      packets: sum(out, 'packetCount'),
      bytes: sum(out, 'byteCount'),
      // as the receiver's RTCP receiver reports give it
      lost: sum(out, 'packetsLost'),
      retransmitted: sum(out, 'packetsRetransmitted'),
      nackedPackets: sum(out, 'nackPacketCount'),
      discarded: sum(out, 'packetsDiscarded'),
      sourceLost: sum(source, 'packetsLost'),
    };
  });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0] ? cpus[0].model : 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

module.exports = { startServer, producerSnapshot, consumerSnapshot, processCpuSeconds, machineCpuSeconds, udpCounters, machine, mediaCodecs };
