'use strict';

// The receive side's phases of the benchmark, run by bench/phase.js (one per fresh process):
//
// - recv-load: N receiving peers (a receive transport with a VP8 and an Opus consumer each)
//   of a few sources that bench/feeder.js feeds from another process; frames counted by the
//   program, packets/s, CPU per received packet, RSS, and the frames lost (got vs sent).
// - recv-latency: consume() -> first frame read by the program, with the source flowing.
// - consume-cycles: consume/close cycles on one receive transport; RSS, fds, threads, and the
//   CPU per packet of steady consumers on the same transport, before, during and after.
//
// The server consumers are created paused and resumed once the client's consume() resolved,
// as a signalling server does (what the server sends before the answer is set is lost).

const fs = require('node:fs');
const path = require('node:path');
const { fork } = require('node:child_process');
const { consumerSnapshot, machineCpuSeconds, udpCounters } = require('./server');
const { VIDEO_FPS, AUDIO_FPS } = require('./clients');

// ctx: { opts, resources, cpuSeconds, gc, quantiles, pool, withTimeout, round, sleep, now }

// The feeder process, started on `sources`.
async function startFeeder(sources) {
  const child = fork(path.join(__dirname, 'feeder.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const waiting = [];
  child.on('message', (msg) => {
    const w = waiting.shift();
    if (w) w(msg);
  });
  const ask = (cmd) =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      child.send(cmd, (error) => error && reject(error));
    });
  await ask({
    cmd: 'start',
    sources: sources.map((s) => ({
      video: { port: s.video.port, ssrc: s.video.ssrc, payloadType: s.video.payloadType },
      audio: { port: s.audio.port, ssrc: s.audio.ssrc, payloadType: s.audio.payloadType },
    })),
  });
  let stopped = null;
  return {
    async counts() {
      return (await ask({ cmd: 'counts' })).counts;
    },
    async stop() {
      if (!stopped) stopped = ask({ cmd: 'stop' }).then((m) => m.stopped);
      return stopped;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// Counts the frames of one consumer whose number is past `base` (the feeder's last frame sent
// when the window opened), each once, in order. Frames past `base` may arrive before the
// feeder's answer does: `setBase` counts those among the last ones seen.
// CPU seconds of this process's main thread (the JS thread), from Linux's per-thread
// counters; null elsewhere.
function jsThreadCpuSeconds() {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of the line (11 and 12 after the command), in ticks
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function frameCounter() {
  let firstSeen;
  const recent = [];
  const c = {
    base: Infinity,
    last: -1,
    got: 0,
    total: 0,
    setBase(base) {
      c.base = base;
      c.got = recent.filter((n) => n > base).length;
    },
    firstAt: null,
    // resolves with the time of the first frame
    first: new Promise((resolve) => {
      firstSeen = resolve;
    }),
    onFrame(n) {
      c.total++;
      if (c.firstAt === null) {
        c.firstAt = performance.now();
        firstSeen(c.firstAt);
      }
      if (n <= c.last) return;
      c.last = n;
      if (c.base === Infinity) {
        recent.push(n);
        if (recent.length > 64) recent.shift();
      }
      if (n > c.base) c.got++;
    },
  };
  return c;
}

// A client receive transport wired to a new server transport.
async function recvPeer(server, client) {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const recv = await client.createRecvTransport(clientOptions, {
    connect: (dtlsParameters) => serverTransport.connect({ dtlsParameters }),
  });
  return { recv, serverTransport };
}

// Consumes `producer` (kind) on `peer`: the server consumer paused, the client's consume(),
// the server consumer resumed. `onFrame` gets the frame numbers.
async function consumeOn(peer, client, producer, onFrame, times) {
  const serverConsumer = await peer.serverTransport.consume({
    producerId: producer.id,
    rtpCapabilities: client.rtpCapabilities,
    paused: true,
  });
  if (times) times.consume = performance.now();
  let consumer;
  try {
    consumer = await peer.recv.consume(
      { id: serverConsumer.id, producerId: producer.id, kind: serverConsumer.kind, rtpParameters: serverConsumer.rtpParameters },
      onFrame
    );
  } catch (error) {
    serverConsumer.close();
    throw error;
  }
  if (times) times.consumed = performance.now();
  await serverConsumer.resume();
  return { consumer, serverConsumer };
}

async function recvLoadPhase(ctx, server, client) {
  const { opts, resources, cpuSeconds, gc, pool, withTimeout, round, sleep, now } = ctx;
  const n = opts.peers;
  const sourceCount = Math.max(1, Math.min(n, opts.sources || 8));
  gc();
  const base = resources();
  const sources = await server.createSources(sourceCount);
  const feeder = await startFeeder(sources);
  try {
    const setupStart = now();
    const peers = [];
    const receivers = [];
    let failed = 0;
    let lastError;
    let ready = 0;
    await pool(n, opts.setupConcurrency || client.recvSetupConcurrency || 8, async (i) => {
      try {
        const peer = await withTimeout(recvPeer(server, client), 30_000, `peer ${i}: createRecvTransport`);
        peers.push(peer);
        const source = sources[i % sourceCount];
        const video = frameCounter();
        const audio = frameCounter();
        // a peer joining: its two consumers in one tick (one negotiation)
        const [v, a] = await withTimeout(
          Promise.all([consumeOn(peer, client, source.video.producer, video.onFrame), consumeOn(peer, client, source.audio.producer, audio.onFrame)]),
          30_000,
          `peer ${i}: consume() of its two consumers`
        );
        receivers.push({ kind: 'video', source: i % sourceCount, counter: video, ...v });
        receivers.push({ kind: 'audio', source: i % sourceCount, counter: audio, ...a });
        if (++ready % 50 === 0) process.stderr.write(`setup: ${ready}/${n} peers consuming after ${((now() - setupStart) / 1000).toFixed(1)} s\n`);
      } catch (error) {
        failed++;
        lastError = String(error.message || error);
        process.stderr.write(`setup: ${lastError}\n`);
      }
    });
    process.stderr.write(`setup: ${ready}/${n} peers consuming, ${failed} failed, after ${((now() - setupStart) / 1000).toFixed(1)} s\n`);
    if (!receivers.length) throw new Error(`no peer could consume: ${lastError}`);
    const connectedAll = await withTimeout(
      Promise.allSettled(peers.map((p) => p.recv.connected)),
      60_000 + n * 200,
      'transports to connect'
    );
    const connected = connectedAll.filter((r) => r.status === 'fulfilled').length;
    const setupSeconds = (now() - setupStart) / 1000;
    process.stderr.write(`setup: ${connected}/${peers.length} transports connected after ${setupSeconds.toFixed(1)} s\n`);
    await sleep(opts.warmup * 1000);

    const serverConsumers = receivers.map((r) => r.serverConsumer);
    gc();
    const snap0 = await consumerSnapshot(serverConsumers);
    const s0 = now();
    const counts0 = await feeder.counts();
    for (const r of receivers) r.counter.setBase(counts0[r.kind][r.source]);
    const cpu0 = cpuSeconds();
    const js0 = jsThreadCpuSeconds();
    const worker0 = server.workersCpuSeconds();
    const machine0 = machineCpuSeconds();
    const udp0 = udpCounters();
    const packets0 = receivers.map((r) => r.consumer.packets());
    const t0 = now();

    await sleep(opts.seconds * 1000);

    const t1 = now();
    const cpu1 = cpuSeconds();
    const js1 = jsThreadCpuSeconds();
    const worker1 = server.workersCpuSeconds();
    const machine1 = machineCpuSeconds();
    const udp1 = udpCounters();
    const packets1 = receivers.map((r) => r.consumer.packets());
    const steady = resources();
    const s1 = now();
    const snap1 = await consumerSnapshot(serverConsumers);
    const stats = receivers.map((r) => (r.consumer.stats ? r.consumer.stats() : null));
    const srtpCipher = peers[0].recv.srtpCipher ? await peers[0].recv.srtpCipher().catch(() => undefined) : undefined;
    // the frames in flight when the feeder stops still count
    const sent = await feeder.stop();
    await sleep(1000);

    const seconds = (t1 - t0) / 1000;
    const serverSeconds = (s1 - s0) / 1000;
    const serverPackets = snap1.reduce((a, s, i) => a + s.packets - snap0[i].packets, 0);
    const counted = packets1.every((p) => p !== null);
    const clientPackets = counted ? packets1.reduce((a, p, i) => a + p - packets0[i], 0) : null;
    // a client that cannot count (aiortc): what the server sent less what its receiver
    // reported lost (RTCP RR, up to a report interval late), over the CPU window
    const serverLost = snap1.reduce((a, s, i) => a + s.lost - snap0[i].lost, 0);
    const receivedPps = counted ? clientPackets / seconds : (serverPackets - serverLost) / serverSeconds;
    const packets = receivedPps * seconds;
    const clientCpu = cpu1 - cpu0;
    const workerCpu = worker1 - worker0;
    const machineBusy = machine1.busy - machine0.busy;
    const perPeerPps = VIDEO_FPS * 4 + AUDIO_FPS;
    const expectedPps = (receivers.length / 2) * perPeerPps;
    const frameRows = receivers.filter((r) => r.consumer.frames);
    const framesExpected = frameRows.reduce((a, r) => a + Math.max(0, sent[r.kind][r.source] - r.counter.base), 0);
    const framesGot = frameRows.reduce((a, r) => a + r.counter.got, 0);
    // where the frames went missing: per kind, and how many consumers missed any
    const missing = (kind) =>
      frameRows.filter((r) => r.kind === kind).reduce((a, r) => a + Math.max(0, sent[r.kind][r.source] - r.counter.base - r.counter.got), 0);
    const consumersMissing = frameRows.filter((r) => sent[r.kind][r.source] - r.counter.base > r.counter.got).length;
    const kindMean = (kind) => {
      const idx = receivers.map((r, i) => (r.kind === kind ? i : -1)).filter((i) => i >= 0);
      const p = idx.reduce((a, i) => a + snap1[i].packets - snap0[i].packets, 0);
      const b = idx.reduce((a, i) => a + snap1[i].bytes - snap0[i].bytes, 0);
      return p ? round(b / p, 0) : null;
    };
    const sumStat = (k) => (stats[0] ? stats.reduce((a, s) => a + ((s && s[k]) || 0), 0) : null);
    const result = {
      phase: 'recv-load',
      client: client.name,
      peers: n,
      peersConsuming: receivers.length / 2,
      setupFailures: failed,
      lastSetupError: lastError,
      sources: sourceCount,
      connected,
      workers: server.workers.length,
      setupSeconds: round(setupSeconds, 1),
      windowSeconds: round(seconds, 2),
      askedPps: round(expectedPps, 0),
      serverPps: round(serverPackets / serverSeconds, 0),
      clientPps: receivedPps === null ? null : round(receivedPps, 0),
      meanVideoPacketBytes: kindMean('video'),
      meanAudioPacketBytes: kindMean('audio'),
      srtpCipher,
      packetsCountedBy: counted ? 'client' : 'server less reported losses',
      serverReportedLost: serverLost,
      // over the window, summed over the server's consumers: packets the client asked again
      // (NACK), those the server sent again, those it discarded, and what it found missing
      // from the producer's stream (each consumer of a source counts its losses)
      serverNackedPackets: snap1.reduce((a, s, i) => a + s.nackedPackets - snap0[i].nackedPackets, 0),
      serverRetransmitted: snap1.reduce((a, s, i) => a + s.retransmitted - snap0[i].retransmitted, 0),
      serverDiscarded: snap1.reduce((a, s, i) => a + s.discarded - snap0[i].discarded, 0),
      sourceLostPerConsumer: snap1.reduce((a, s, i) => a + s.sourceLost - snap0[i].sourceLost, 0),
      delivered: round(receivedPps / expectedPps, 4),
      clientCpuShare: round(clientCpu / seconds, 3),
      clientCpuUsPerPacket: round((clientCpu / packets) * 1e6, 2),
      // the part of it on the JS thread (the client's own process only: not aiortc's Python)
      jsThreadCpuUsPerPacket: js0 === null || client.extraCpuSeconds ? null : round(((js1 - js0) / packets) * 1e6, 2),
      workerCpuShare: round(workerCpu / seconds, 3),
      otherCpuShare: round((machineBusy - clientCpu - workerCpu) / seconds, 3),
      framesCounted: frameRows.length > 0,
      framesExpected,
      framesGot,
      framesLostShare: frameRows.length ? round(1 - framesGot / Math.max(1, framesExpected), 5) : null,
      framesMissingVideo: frameRows.length ? missing('video') : null,
      framesMissingAudio: frameRows.length ? missing('audio') : null,
      consumersMissingFrames: frameRows.length ? consumersMissing : null,
      // the native track's own counters, whole life of the consumers
      packetsLost: sumStat('packetsLost'),
      framesDropped: sumStat('framesDropped'),
      framesDroppedReader: sumStat('framesDroppedReader'),
      keyframeRequestsToFeeder: sent.keyframeRequests,
      udpRcvbufDropShare: round(
        (udp1.rcvbufErrors - udp0.rcvbufErrors) / (udp1.inDatagrams - udp0.inDatagrams + udp1.rcvbufErrors - udp0.rcvbufErrors),
        4
      ),
      // datagrams the kernel refused to send, a full send buffer (the server's, under load)
      udpSndbufDropShare: round(
        (udp1.sndbufErrors - udp0.sndbufErrors) / (udp1.outDatagrams - udp0.outDatagrams + udp1.sndbufErrors - udp0.sndbufErrors),
        4
      ),
      rssBaseMiB: round(base.rss / 2 ** 20, 1),
      rssSteadyMiB: round(steady.rss / 2 ** 20, 1),
      rssPerPeerKiB: round((steady.rss - base.rss) / Math.max(1, receivers.length / 2) / 1024, 0),
      fds: steady.fds,
      threads: steady.threads,
    };
    for (const r of receivers) r.consumer.close();
    for (const p of peers) {
      p.recv.close();
      p.serverTransport.close();
    }
    return result;
  } finally {
    await Promise.race([feeder.stop(), sleep(2000)]).catch(() => {});
    feeder.kill();
  }
}

// The first frame of a consumer made by `consumeOn` with a counter: resolves with its time.
function firstFrame(counter, withTimeout, what) {
  return withTimeout(counter.first, 10_000, what);
}

async function recvLatencyPhase(ctx, server, client) {
  const { opts, quantiles, withTimeout, sleep } = ctx;
  const sources = await server.createSources(1);
  const feeder = await startFeeder(sources);
  const rows = [];
  try {
    await sleep(500);
    for (let i = 0; i < opts.count; i++) {
      const peer = await recvPeer(server, client);
      try {
        const row = {};
        for (const [key, kind] of [
          ['newTransportVideo', 'video'],
          ['video', 'video'],
          ['audio', 'audio'],
        ]) {
          const counter = frameCounter();
          const times = {};
          const c = await consumeOn(peer, client, sources[0][kind].producer, counter.onFrame, times);
          const first = await firstFrame(counter, withTimeout, `first ${kind} frame (${key})`);
          row[`${key}Resolved`] = times.consumed - times.consume;
          row[`${key}FirstFrame`] = first - times.consume;
          c.consumer.close();
          c.serverConsumer.close();
        }
        rows.push(row);
      } finally {
        peer.recv.close();
        peer.serverTransport.close();
      }
      await sleep(20);
    }
  } finally {
    await Promise.race([feeder.stop(), sleep(2000)]).catch(() => {});
    feeder.kill();
  }
  const pick = (k) => quantiles(rows.map((r) => r[k]));
  return {
    phase: 'recv-latency',
    client: client.name,
    count: rows.length,
    ms: {
      consumeOnNewTransportResolved: pick('newTransportVideoResolved'),
      consumeOnNewTransportToFirstVideoFrame: pick('newTransportVideoFirstFrame'),
      consumeVideoResolved: pick('videoResolved'),
      consumeToFirstVideoFrame: pick('videoFirstFrame'),
      consumeAudioResolved: pick('audioResolved'),
      consumeToFirstAudioFrame: pick('audioFirstFrame'),
    },
  };
}

// V8 sizes its young generation by the allocation rate of the last 5 s (GCTracer's throughput
// window), with a margin.
const V8_ALLOCATION_WINDOW_MS = 6000;

async function consumeCyclesPhase(ctx, server, client) {
  const { opts, resources, cpuSeconds, gc, pool, withTimeout, round, sleep, now } = ctx;
  const steadySources = opts.steadySources || 4;
  const sources = await server.createSources(steadySources);
  const feeder = await startFeeder(sources);
  const mib = (x) => round(x / 2 ** 20, 1);
  try {
    const peer = await recvPeer(server, client);
    // the steady consumers: a video and an audio consumer of each source, for the whole phase
    const steady = [];
    for (const source of sources) {
      for (const kind of ['video', 'audio']) {
        const counter = frameCounter();
        counter.setBase(-1);
        steady.push({ counter, ...(await consumeOn(peer, client, source[kind].producer, counter.onFrame)) });
      }
    }
    await withTimeout(peer.recv.connected, 10_000, 'receive transport connected');
    await sleep(1000);
    // CPU per packet received by the transport (the steady consumers' packets), over `seconds`
    const measure = async (seconds) => {
      gc();
      await sleep(200);
      const p0 = steady.reduce((a, s) => a + s.consumer.packets(), 0);
      const f0 = steady.reduce((a, s) => a + s.counter.got, 0);
      const c0 = cpuSeconds();
      const t0 = now();
      await sleep(seconds * 1000);
      const c1 = cpuSeconds();
      const t1 = now();
      const p1 = steady.reduce((a, s) => a + s.consumer.packets(), 0);
      const f1 = steady.reduce((a, s) => a + s.counter.got, 0);
      return {
        pps: round((p1 - p0) / ((t1 - t0) / 1000), 0),
        framesPerSecond: round((f1 - f0) / ((t1 - t0) / 1000), 0),
        cpuShare: round((c1 - c0) / ((t1 - t0) / 1000), 4),
        cpuUsPerPacket: round(((c1 - c0) / Math.max(1, p1 - p0)) * 1e6, 2),
      };
    };
    // the process's CPU with nothing arriving (the steady consumers paused on the server):
    // what the transport costs per second by its timers alone
    const idle = async (seconds) => {
      await Promise.all(steady.map((s) => s.serverConsumer.pause()));
      await sleep(300);
      const c0 = cpuSeconds();
      const t0 = now();
      await sleep(seconds * 1000);
      const share = (cpuSeconds() - c0) / ((now() - t0) / 1000);
      await Promise.all(steady.map((s) => s.serverConsumer.resume()));
      await sleep(300);
      return round(share, 4);
    };
    // Memory after a second (and two full collections): what the cycles left, with V8's young
    // generation still sized for their allocation rate; then once that rate is out of the 5 s
    // V8 judges it over (it gives the young generation back at a full collection when a
    // program allocates less than 1,000 bytes per ms over them), with only the steady
    // consumers running.
    const settle = async () => {
      await sleep(1000);
      gc();
      await sleep(200);
      gc();
      const rightAway = resources();
      await sleep(V8_ALLOCATION_WINDOW_MS);
      gc();
      return { rightAway, settled: resources() };
    };
    let cycleIndex = 0;
    let failures = 0;
    let firstError = null;
    const cycle = async () => {
      // the control: the steady consumers alone, a cycle's time at a time
      if (opts.controlMsPerCycle) {
        cycleIndex++;
        await sleep(opts.controlMsPerCycle);
        return;
      }
      const i = cycleIndex++;
      const kind = i % 2 === 0 ? 'video' : 'audio';
      const source = sources[i % sources.length];
      const counter = frameCounter();
      const c = await consumeOn(peer, client, source[kind].producer, counter.onFrame);
      try {
        await firstFrame(counter, withTimeout, `cycle ${i}: first ${kind} frame`);
      } finally {
        c.consumer.close();
        c.serverConsumer.close();
      }
    };
    const run = async (count) => {
      const stopAfter = opts.stopAfterFailures || 5;
      await pool(count, opts.concurrency || 1, async () => {
        if (failures >= stopAfter) return;
        await cycle().catch((error) => {
          failures++;
          firstError ??= { cycle: cycleIndex, error: String(error.message || error) };
        });
      });
    };
    await run(opts.warmupCycles || 0);
    const { rightAway: beforeRightAway, settled: before } = await settle();
    const start = await measure(opts.measureSeconds || 5);
    start.idleCpuShare = await idle(opts.progressSeconds || 2);
    const progress = [];
    const chunks = opts.progressPoints || 10;
    const t0 = now();
    let done = 0;
    for (let k = 0; k < chunks && done < opts.count; k++) {
      const count = Math.ceil(((k + 1) * opts.count) / chunks) - done;
      const c0 = now();
      await run(count);
      done += count;
      const r = resources();
      const m = await measure(opts.progressSeconds || 2);
      progress.push({
        cycles: done,
        msPerCycle: round((now() - c0 - (opts.progressSeconds || 2) * 1000 - 200) / count, 2),
        rssMiB: mib(r.rss),
        heapTotalMiB: mib(r.heapTotal),
        fds: r.fds,
        threads: r.threads,
        ...m,
      });
      if (failures >= (opts.stopAfterFailures || 5)) break;
    }
    const seconds = (now() - t0) / 1000;
    const { rightAway: afterRightAway, settled: after } = await settle();
    const end = await measure(opts.measureSeconds || 5);
    end.idleCpuShare = await idle(opts.progressSeconds || 2);
    return {
      phase: 'consume-cycles',
      client: client.name,
      control: Boolean(opts.controlMsPerCycle),
      cycles: done,
      asked: opts.count,
      warmupCycles: opts.warmupCycles || 0,
      concurrency: opts.concurrency || 1,
      steadyConsumers: steady.length,
      failures,
      firstError,
      seconds: round(seconds, 1),
      before: { rssMiB: mib(before.rss), heapMiB: mib(before.heapUsed), heapTotalMiB: mib(before.heapTotal), fds: before.fds, threads: before.threads },
      after: { rssMiB: mib(after.rss), heapMiB: mib(after.heapUsed), heapTotalMiB: mib(after.heapTotal), fds: after.fds, threads: after.threads },
      rssGrowthMiB: mib(after.rss - before.rss),
      // the same a second after the cycles (and the warm-up), before V8 resized its heap
      rightAway: {
        before: { rssMiB: mib(beforeRightAway.rss), heapTotalMiB: mib(beforeRightAway.heapTotal) },
        after: { rssMiB: mib(afterRightAway.rss), heapTotalMiB: mib(afterRightAway.heapTotal) },
        rssGrowthMiB: mib(afterRightAway.rss - beforeRightAway.rss),
      },
      // RSS less what V8 committed for the JS heap: native memory (the addon, Node, libuv)
      outsideHeapGrowthMiB: mib(after.rss - after.heapTotal - (before.rss - before.heapTotal)),
      fdGrowth: after.fds - before.fds,
      threadGrowth: after.threads - before.threads,
      steadyStart: start,
      steadyEnd: end,
      steadyGrowth: round(end.cpuUsPerPacket / start.cpuUsPerPacket, 3),
      progress,
    };
  } finally {
    await Promise.race([feeder.stop(), sleep(2000)]).catch(() => {});
    feeder.kill();
  }
}

module.exports = { recvLoadPhase, recvLatencyPhase, consumeCyclesPhase };
