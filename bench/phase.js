'use strict';

// One phase of the benchmark, in a fresh Node process (so that RSS, fds and threads belong to
// this phase alone): `node --expose-gc bench/phase.js '<json options>'`. The real mediasoup
// worker(s) run as children of this process, or of the server's own process (see main());
// the client runs in this process. Prints
// `RESULT <json>` as its last line. bench/index.js runs the phases.
//
// Phases:
// - load: N peers (a send transport with a VP8 and an Opus producer each), or one transport
//   with N VP8 producers; CPU, rates, scores and RSS in steady state.
// - latency: produce() -> first RTP packet at the server, createSendTransport -> connected.
// - cycles: create/produce/close cycles; RSS, fds and threads before and after.
// - recv-load, recv-latency, consume-cycles: the receive side (bench/recv-phases.js).

const fs = require('node:fs');
const { startServer, producerSnapshot, machineCpuSeconds, udpCounters } = require('./server');
const { startRemoteServer } = require('./server-process');
const { loadClient, VIDEO_FPS, AUDIO_FPS } = require('./clients');
const { recvLoadPhase, recvLatencyPhase, consumeCyclesPhase } = require('./recv-phases');
const { gc, withTimeout, pool } = require('./step-helpers');

const opts = JSON.parse(process.argv[2] || '{}');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

// The client under test, once loaded: its other processes (aiortc's Python worker) count in
// its CPU and RSS.
let client = null;

function resources() {
  return {
    rss: process.memoryUsage().rss + (client && client.extraRss ? client.extraRss() : 0),
    heapUsed: process.memoryUsage().heapUsed,
    // what V8 has committed for the JS heap (its young generation grows with the bytes that
    // survive scavenges, whatever the program keeps in the end)
    heapTotal: process.memoryUsage().heapTotal,
    fds: fs.readdirSync('/proc/self/fd').length,
    threads: fs.readdirSync('/proc/self/task').length,
  };
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6 + (client && client.extraCpuSeconds ? client.extraCpuSeconds() : 0);
}

// A client transport wired to a new server transport, as a signalling server would do.
// `onProducer(serverProducer)` runs before produce() resolves, so before any packet can be
// counted for it.
async function peerTransport(server, client, { onProducer } = {}) {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const serverProducers = [];
  const times = {};
  times.create = now();
  const transport = await client.createTransport(clientOptions, {
    connect: (dtlsParameters) => {
      times.connect = now();
      return serverTransport.connect({ dtlsParameters });
    },
    produce: async ({ kind, rtpParameters }) => {
      const producer = await serverTransport.produce({ kind, rtpParameters });
      serverProducers.push(producer);
      if (onProducer) await onProducer(producer);
      return producer.id;
    },
  });
  return {
    transport,
    serverTransport,
    serverProducers,
    times,
    close() {
      transport.close();
      serverTransport.close();
    },
  };
}

// Writes frame after frame to `senders` at `fps` each, their phases spread evenly over a frame
// interval (so N peers do not all burst at once). One timer for all; frames that fall due
// while the thread was busy are written at the next tick.
function feed(senders, fps, { keyframeEvery = 2 * fps } = {}) {
  const count = senders.length;
  const period = 1000 / fps;
  const start = now();
  let next = 0;
  let packets = 0;
  let errors = 0;
  let lastError;
  const tick = () => {
    const due = Math.floor(((now() - start) / period) * count) + 1;
    for (; next < due; next++) {
      const n = Math.floor(next / count);
      try {
        packets += senders[next % count].send(n, n % keyframeEvery === 0);
      } catch (error) {
        errors++;
        lastError = error;
      }
    }
  };
  const timer = setInterval(tick, 10);
  tick();
  return {
    get packets() {
      return packets;
    },
    get frames() {
      return next;
    },
    get errors() {
      return errors;
    },
    get lastError() {
      return lastError && String(lastError.message || lastError);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

// Runs `fn(i)` for i in 0..count-1, `concurrency` at a time.
function quantiles(values) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))];
  const r = (x) => Math.round(x * 10) / 10;
  return { count: v.length, median: r(q(0.5)), p95: r(q(0.95)), min: r(v[0]), max: r(v[v.length - 1]) };
}

async function loadPhase(server, client) {
  const n = opts.peers;
  const onePc = opts.layout === 'one-transport';
  gc();
  const base = resources();
  const setupStart = now();
  const peers = [];
  const videos = [];
  const audios = [];
  if (onePc) {
    const peer = await peerTransport(server, client);
    peers.push(peer);
    for (let i = 0; i < n; i++) videos.push(await peer.transport.produce('video'));
  } else {
    await pool(n, opts.setupConcurrency || client.setupConcurrency || 8, async () => {
      const peer = await peerTransport(server, client);
      peers.push(peer);
      videos.push(await peer.transport.produce('video'));
      audios.push(await peer.transport.produce('audio'));
    });
  }
  const serverProducers = peers.flatMap((p) => p.serverProducers);
  const connectedAll = await withTimeout(
    Promise.allSettled(peers.map((p) => p.transport.connected)),
    60_000,
    'transports to connect'
  );
  const connected = connectedAll.filter((r) => r.status === 'fulfilled').length;
  const setupSeconds = (now() - setupStart) / 1000;

  const videoFeed = feed(videos, VIDEO_FPS);
  const audioFeed = audios.length ? feed(audios, AUDIO_FPS) : null;
  await sleep(opts.warmup * 1000);

  gc();
  const cpu0 = cpuSeconds();
  const worker0 = server.workersCpuSeconds();
  const machine0 = machineCpuSeconds();
  const udp0 = udpCounters();
  const written0 = videoFeed.packets + (audioFeed ? audioFeed.packets : 0);
  const frames0 = videoFeed.frames;
  const s0 = now();
  const snap0 = await producerSnapshot(serverProducers);
  const s0end = now();

  await sleep(opts.seconds * 1000);

  const s1 = now();
  const snap1 = await producerSnapshot(serverProducers);
  const s1end = now();
  const cpu1 = cpuSeconds();
  const worker1 = server.workersCpuSeconds();
  const machine1 = machineCpuSeconds();
  const udp1 = udpCounters();
  const written1 = videoFeed.packets + (audioFeed ? audioFeed.packets : 0);
  const frames1 = videoFeed.frames;
  const steady = resources();
  videoFeed.stop();
  if (audioFeed) audioFeed.stop();

  // the window: from the middle of one server snapshot to the middle of the other
  const seconds = (s1 + s1end - s0 - s0end) / 2000;
  const serverPackets = snap1.reduce((a, s, i) => a + s.packets - snap0[i].packets, 0);
  const serverBytes = snap1.reduce((a, s, i) => a + s.bytes - snap0[i].bytes, 0);
  // packets the server found missing in the window, and those of them RTX repaired
  const serverLost = snap1.reduce((a, s, i) => a + s.lost - snap0[i].lost, 0);
  const serverRepaired = snap1.reduce((a, s, i) => a + s.repaired - snap0[i].repaired, 0);
  const scores = snap1.map((s) => s.score).sort((a, b) => a - b);
  const videoIdx = serverProducers.map((p, i) => (p.kind === 'video' ? i : -1)).filter((i) => i >= 0);
  const audioIdx = serverProducers.map((p, i) => (p.kind === 'audio' ? i : -1)).filter((i) => i >= 0);
  const sum = (idx, f) => idx.reduce((a, i) => a + f(i), 0);
  const videoPackets = sum(videoIdx, (i) => snap1[i].packets - snap0[i].packets);
  const videoBytes = sum(videoIdx, (i) => snap1[i].bytes - snap0[i].bytes);
  const audioPackets = sum(audioIdx, (i) => snap1[i].packets - snap0[i].packets);
  const audioBytes = sum(audioIdx, (i) => snap1[i].bytes - snap0[i].bytes);
  // packets per video frame, as written (the same for every frame here)
  const perFrame = frames1 > frames0 ? (videoFeed.packets / videoFeed.frames) : 0;
  const askedPps = videos.length * VIDEO_FPS * perFrame + audios.length * AUDIO_FPS;
  const clientCpu = cpu1 - cpu0;
  const workerCpu = worker1 - worker0;
  const machineBusy = machine1.busy - machine0.busy;
  // producers the server got (nearly) nothing from in the window
  const starved = snap1.filter((s, i) => {
    const asked = serverProducers[i].kind === 'video' ? VIDEO_FPS * perFrame : AUDIO_FPS;
    return (s.packets - snap0[i].packets) / seconds < 0.5 * asked;
  }).length;

  const result = {
    phase: 'load',
    client: client.name,
    layout: onePc ? 'one-transport' : 'peers',
    peers: n,
    transports: peers.length,
    producers: serverProducers.length,
    connected,
    workers: server.workers.length,
    setupSeconds: round(setupSeconds, 1),
    windowSeconds: round(seconds, 2),
    snapshotMs: round((s0end - s0 + s1end - s1) / 2, 1),
    askedPps: round(askedPps, 0),
    writtenPps: round((written1 - written0) / ((s1 - s0) / 1000), 0),
    serverPps: round(serverPackets / seconds, 0),
    delivered: round(serverPackets / seconds / askedPps, 4),
    serverMbps: round((serverBytes * 8) / seconds / 1e6, 2),
    meanVideoPacketBytes: videoPackets ? round(videoBytes / videoPackets, 0) : null,
    meanAudioPacketBytes: audioPackets ? round(audioBytes / audioPackets, 0) : null,
    videoPacketsPerFrame: round(perFrame, 2),
    clientCpuShare: round(clientCpu / seconds, 3),
    clientCpuSecPer1000: round((clientCpu / serverPackets) * 1000, 5),
    clientCpuUsPerPacket: round((clientCpu / serverPackets) * 1e6, 2),
    workerCpuShare: round(workerCpu / seconds, 3),
    workerCpuUsPerPacket: round((workerCpu / serverPackets) * 1e6, 2),
    otherCpuShare: round((machineBusy - clientCpu - workerCpu) / seconds, 3),
    scoredShare: round(snap1.filter((s) => s.scored).length / serverProducers.length, 4),
    medianScore: scores.length ? scores[Math.floor(scores.length / 2)] : null,
    serverLostShare: round(serverLost / (serverPackets + serverLost), 4),
    serverRepairedShare: round(serverRepaired / (serverPackets + serverLost), 4),
    starvedProducers: starved,
    // datagrams the kernel dropped in the window because a receive buffer was full (both
    // directions: the server's RTP, the client's RTCP), as a share of those received
    udpRcvbufDropShare: round(
      (udp1.rcvbufErrors - udp0.rcvbufErrors) /
        (udp1.inDatagrams - udp0.inDatagrams + udp1.rcvbufErrors - udp0.rcvbufErrors),
      4
    ),
    feedErrors: videoFeed.errors + (audioFeed ? audioFeed.errors : 0),
    lastFeedError: videoFeed.lastError || (audioFeed && audioFeed.lastError) || undefined,
    rssBaseMiB: round(base.rss / 2 ** 20, 1),
    rssSteadyMiB: round(steady.rss / 2 ** 20, 1),
    rssPerProducerKiB: round((steady.rss - base.rss) / serverProducers.length / 1024, 0),
    rssPerTransportKiB: round((steady.rss - base.rss) / peers.length / 1024, 0),
    fds: steady.fds,
    threads: steady.threads,
  };
  for (const p of peers) p.close();
  return result;
}

async function latencyPhase(server, client) {
  const count = opts.count;
  const rows = [];
  let srtpCipher;
  for (let i = 0; i < count; i++) {
    const firsts = [];
    const peer = await peerTransport(server, client, {
      // the server tells when it gets the producer's first RTP packet
      onProducer: async (producer) => {
        const first = new Promise((resolve) => {
          producer.on('trace', (trace) => {
            if (trace.type === 'rtp') resolve(now());
          });
        });
        firsts.push(first);
        await producer.enableTraceEvent(['rtp']);
      },
    });
    const t = peer.times;
    // first producer: on a new transport (includes ICE + DTLS)
    const p0 = now();
    const video = await peer.transport.produce('video');
    const p0done = now();
    // frames written before DTLS is up are dropped: the program writes one as soon as the
    // transport is connected (then one every 33 ms), so the figure is not the frame grid's
    const connectedAt = await withTimeout(peer.transport.connected, 10_000, 'connected');
    const f0 = feed([video], VIDEO_FPS);
    const first0 = await withTimeout(firsts[0], 10_000, 'first packet');
    // second producer: on the connected transport
    const p1 = now();
    const video2 = await peer.transport.produce('video');
    const p1done = now();
    const f1 = feed([video2], VIDEO_FPS);
    const first1 = await withTimeout(firsts[1], 10_000, 'first packet (connected transport)');
    f0.stop();
    f1.stop();
    if (i === 0 && peer.transport.srtpCipher) srtpCipher = await peer.transport.srtpCipher().catch(() => undefined);
    rows.push({
      createToConnected: connectedAt - t.create,
      connectedToFirstPacket: first0 - connectedAt,
      connectEventToConnected: connectedAt - t.connect,
      firstProduceResolved: p0done - p0,
      firstProduceToFirstPacket: first0 - p0,
      produceResolved: p1done - p1,
      produceToFirstPacket: first1 - p1,
    });
    peer.close();
    await sleep(20);
  }
  const pick = (k) => quantiles(rows.map((r) => r[k]));
  return {
    phase: 'latency',
    client: client.name,
    count,
    srtpCipher,
    ms: {
      createSendTransportToConnected: pick('createToConnected'),
      connectEventToConnected: pick('connectEventToConnected'),
      produceOnNewTransportResolved: pick('firstProduceResolved'),
      produceOnNewTransportToFirstPacket: pick('firstProduceToFirstPacket'),
      connectedToFirstPacket: pick('connectedToFirstPacket'),
      produceOnConnectedTransportResolved: pick('produceResolved'),
      produceOnConnectedTransportToFirstPacket: pick('produceToFirstPacket'),
    },
  };
}

async function cyclesPhase(server, client) {
  const cycle = async () => {
    const peer = await peerTransport(server, client);
    const video = await peer.transport.produce('video');
    const f = feed([video], VIDEO_FPS);
    try {
      await withTimeout(peer.transport.connected, 10_000, 'connected');
      // until the server has counted packets: the whole send path has run
      await withTimeout(
        (async () => {
          for (;;) {
            const s = await producerSnapshot(peer.serverProducers);
            if (s[0].packets > 0) return;
            await sleep(10);
          }
        })(),
        10_000,
        'packets at the server'
      );
    } finally {
      f.stop();
      peer.close();
    }
  };
  const settle = async () => {
    await sleep(1500); // closing is asynchronous in the native layer (PeerConnection tasks)
    gc();
    await sleep(200);
    gc();
    return resources();
  };
  const initial = await settle();
  const warmupCount = opts.warmupCycles;
  await pool(warmupCount, opts.concurrency, cycle);
  const before = await settle();
  const t0 = now();
  let failures = 0;
  await pool(opts.count, opts.concurrency, () =>
    cycle().catch(() => {
      failures++;
    })
  );
  const seconds = (now() - t0) / 1000;
  const after = await settle();
  const mib = (x) => round(x / 2 ** 20, 1);
  return {
    phase: 'cycles',
    client: client.name,
    cycles: opts.count,
    warmupCycles: warmupCount,
    concurrency: opts.concurrency,
    failures,
    seconds: round(seconds, 1),
    cyclesPerSecond: round(opts.count / seconds, 1),
    initial: { rssMiB: mib(initial.rss), heapMiB: mib(initial.heapUsed), fds: initial.fds, threads: initial.threads },
    before: { rssMiB: mib(before.rss), heapMiB: mib(before.heapUsed), fds: before.fds, threads: before.threads },
    after: { rssMiB: mib(after.rss), heapMiB: mib(after.heapUsed), fds: after.fds, threads: after.threads },
    rssGrowthMiB: mib(after.rss - before.rss),
    fdGrowth: after.fds - before.fds,
    threadGrowth: after.threads - before.threads,
  };
}

function round(x, digits) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// What the receive phases use of this file.
function recvContext() {
  return { opts, resources, cpuSeconds, gc, quantiles, pool, withTimeout, round, sleep, now };
}

// recv-load measures the client's CPU and consume-cycles its memory: the server's Node side runs
// in a process of its own there (bench/server-process.js), as on a real signalling server,
// unless `serverInProcess`.
async function main() {
  const remote = (opts.phase === 'consume-cycles' || opts.phase === 'recv-load') && !opts.serverInProcess;
  const server = await (remote ? startRemoteServer : startServer)({ workers: opts.workers || 1 });
  client = loadClient(opts.client, opts.clientDir);
  await client.load(server.routerRtpCapabilities);
  let result;
  try {
    if (opts.phase === 'load') result = await loadPhase(server, client);
    else if (opts.phase === 'latency') result = await latencyPhase(server, client);
    else if (opts.phase === 'cycles') result = await cyclesPhase(server, client);
    else if (opts.phase === 'recv-load') result = await recvLoadPhase(recvContext(), server, client);
    else if (opts.phase === 'recv-latency') result = await recvLatencyPhase(recvContext(), server, client);
    else if (opts.phase === 'consume-cycles') result = await consumeCyclesPhase(recvContext(), server, client);
    else throw new Error(`unknown phase ${opts.phase}`);
  } finally {
    server.close();
    if (client.close) client.close();
  }
  if (client.races) result.deviceLoadingRaces = client.races.count;
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // werift keeps timers; the native layer winds down by itself
  setTimeout(() => process.exit(0), 500).unref();
}

main().catch((error) => {
  process.stdout.write(`RESULT ${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
