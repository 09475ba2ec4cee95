'use strict';

// One step of the data channel benchmark, in a fresh Node process:
// `node --expose-gc bench/data-phase.js '<json options>'`; prints `RESULT <json>` last.
// bench/data-series.js runs the steps.
//
// N peers in this process, each a send transport with one DataProducer (ordered, reliable)
// and a receive transport with one DataConsumer of it, through a real mediasoup router on
// 127.0.0.1: the client both sends and receives every message, so its CPU per message is
// the whole round (send path + receive path). Every peer sends binary messages of `size`
// bytes as fast as flow control allows, for warm-up + `seconds`:
//
// - the DataProducer's bufferedAmount: a peer stops sending at `high` bytes buffered and
//   starts again at its 'bufferedamountlow' event (threshold `low`);
// - an end-to-end window of `window` bytes sent but not yet received by the program: the
//   server drops a message its DataConsumer's SCTP send buffer (`serverBuffer` bytes) has no
//   room for, and the sender's own flow control cannot see that buffer. Each message counts
//   its size plus MESSAGE_OVERHEAD bytes in the window (the server's SCTP stack charges whole
//   buffers per message, far more than a small message's payload), so that the window stays
//   within the server's buffer. A peer stopped by the window starts again when its consumer
//   has received half of it.
//
// The server's UDP sockets get `serverSocketBuffer`-byte kernel buffers (the kernel caps them
// at net.core.rmem_max/wmem_max): with the kernel's default the worker's socket overflows
// when a client's SCTP sends a burst, and the sender then waits for its retransmission timer,
// which measures the server's socket rather than the client. The datagrams the kernel dropped
// are counted per side (/proc/net/udp: this step has its own network namespace).
//
// Each message carries its number and its peer's bytes; the program checks every message it
// receives (size, number in order, bytes) and counts the intact ones. A watchdog counts (and
// ends) any wait that an event should have ended but did not: 'bufferedamountlow' not
// emitted although bufferedAmount fell to the threshold, or a window that did not reopen
// for 2 s (messages lost, or a receiver that fell behind).

const crypto = require('node:crypto');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { startServer, machineCpuSeconds } = require('./server');
const { loadDataClient } = require('./data-clients');
const { gc, withTimeout, pool } = require('./step-helpers');

const opts = JSON.parse(process.argv[2] || '{}');
const MESSAGE_OVERHEAD = 2048;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const round = (x, d) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function whenOpen(channel, what) {
  if (channel.readyState === 'open') return Promise.resolve();
  return withTimeout(new Promise((resolve) => channel.once('open', resolve)), 30_000, `${what} to open`);
}

// A server WebRtcTransport with SCTP on 127.0.0.1, on `router`, and the client's options.
async function serverTransport(router, numSctpStreams) {
  const transport = await router.createWebRtcTransport({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', recvBufferSize: opts.serverSocketBuffer, sendBufferSize: opts.serverSocketBuffer }],
    enableSctp: true,
    numSctpStreams,
    maxSctpMessageSize: 262144,
    sctpSendBufferSize: opts.serverBuffer,
  });
  return {
    transport,
    clientOptions: {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      sctpParameters: transport.sctpParameters,
    },
  };
}

// Datagrams the kernel dropped for want of receive buffer, on the sockets of `ports` and on
// the others (the client's), from /proc/net/udp of this network namespace.
function udpDrops(ports) {
  const drops = { server: 0, client: 0 };
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1].split(':')[1], 16);
    drops[ports.has(port) ? 'server' : 'client'] += Number(f[12]);
  }
  return drops;
}

async function main() {
  const { size, high, low, window: windowBytes } = opts;
  const cost = size + MESSAGE_OVERHEAD; // of a message in the window
  if (!(size >= 8)) throw new Error('size: at least 8 bytes (a message carries its number and its peer)');
  const server = await startServer({ workers: opts.workers });
  const client = loadDataClient(opts.client, opts.clientDir);
  await client.load(server.routerRtpCapabilities);
  const numSctpStreams = (client.sctpCapabilities && client.sctpCapabilities.numStreams) || { OS: 1024, MIS: 1024 };
  log(`data ${opts.client}: ${opts.peers} peers, ${size}-byte messages`);

  const peers = [];
  const serverPorts = new Set();
  const setupStart = now();
  let setupFailures = 0;
  let lastSetupError = null;
  await pool(opts.peers, opts.setupConcurrency || 8, async (i) => {
    try {
      const { router } = server.workers[i % server.workers.length];
      const ss = await serverTransport(router, numSctpStreams);
      const rs = await serverTransport(router, numSctpStreams);
      for (const t of [ss, rs]) serverPorts.add(t.clientOptions.iceCandidates[0].port);
      let serverDp;
      const send = client.createSendTransport(ss.clientOptions, {
        connect: (dtlsParameters) => ss.transport.connect({ dtlsParameters }),
        produceData: async ({ sctpStreamParameters, label, protocol }) => {
          serverDp = await ss.transport.produceData({ sctpStreamParameters, label, protocol });
          return serverDp.id;
        },
      });
      const dp = await send.transport.produceData({ ordered: true, label: `bench-${i}` });
      const recv = client.createRecvTransport(rs.clientOptions, {
        connect: (dtlsParameters) => rs.transport.connect({ dtlsParameters }),
      });
      const serverDc = await rs.transport.consumeData({ dataProducerId: serverDp.id });
      let serverDrops = 0;
      serverDc.on('sctpsendbufferfull', () => serverDrops++);
      const dc = await recv.transport.consumeData({
        id: serverDc.id,
        dataProducerId: serverDp.id,
        sctpStreamParameters: serverDc.sctpStreamParameters,
        label: serverDc.label,
        protocol: serverDc.protocol,
      });
      await Promise.all([whenOpen(dp, 'the DataProducer'), whenOpen(dc, 'the DataConsumer')]);
      // the message body of this peer: its number, then random bytes
      const body = crypto.randomBytes(size);
      body.writeUInt32BE(i, 4);
      peers.push({
        i,
        send,
        recv,
        dp,
        dc,
        ss,
        rs,
        serverDp,
        serverDc,
        body,
        serverDrops: () => serverDrops,
        sent: 0,
        inFlight: 0,
        received: 0,
        receivedBytes: 0,
        expected: 0,
        gaps: 0,
        gapMessages: 0,
        reordered: 0,
        corrupt: 0,
        pausedBy: null,
        suspect: null,
        pausedAt: 0,
        progressAt: 0,
        pausesBuffered: 0,
        pausesWindow: 0,
        missedLowEvents: 0,
        windowStalls: 0,
        sendErrors: 0,
        lastSendError: null,
      });
    } catch (error) {
      setupFailures++;
      lastSetupError = String(error.message || error);
      log(`  peer ${i}: ${lastSetupError}`);
    }
  });
  const setupSeconds = (now() - setupStart) / 1000;
  log(`  ${peers.length} peers open in ${setupSeconds.toFixed(1)} s`);
  if (!peers.length) throw new Error(`no peer could be set up: ${lastSetupError}`);

  let sending = true;
  const pump = (p) => {
    p.pausedBy = null;
    while (sending) {
      if (p.inFlight >= windowBytes) {
        p.pausedBy = 'window';
        p.pausedAt = now();
        p.pausesWindow++;
        return;
      }
      if (p.dp.bufferedAmount >= high) {
        p.pausedBy = 'buffered';
        p.pausedAt = now();
        p.pausesBuffered++;
        return;
      }
      const m = Buffer.allocUnsafe(size);
      p.body.copy(m);
      m.writeUInt32BE(p.sent >>> 0, 0);
      try {
        p.dp.send(m);
      } catch (error) {
        p.sendErrors++;
        p.lastSendError = String(error.message || error);
        p.pausedBy = 'error';
        p.pausedAt = now();
        return;
      }
      p.sent++;
      p.inFlight += cost;
    }
  };
  for (const p of peers) {
    p.dp.bufferedAmountLowThreshold = low;
    p.dp.on('bufferedamountlow', () => {
      if (p.pausedBy === 'buffered') pump(p);
    });
    p.dc.on('message', (m) => {
      p.progressAt = now();
      if (typeof m === 'string' || m.length !== size) {
        p.corrupt++;
        p.expected++;
        p.inFlight -= cost;
        return;
      }
      const n = m.readUInt32BE(0);
      const expected = p.expected >>> 0;
      if (n !== expected) {
        if (((n - expected) >>> 0) < 0x80000000) {
          const missing = (n - expected) >>> 0;
          p.gaps++;
          p.gapMessages += missing;
          p.inFlight -= missing * cost;
          p.expected += missing;
        } else {
          p.reordered++;
          return;
        }
      }
      if (m.compare(p.body, 4, size, 4, size) !== 0) {
        p.corrupt++;
        p.expected++;
        p.inFlight -= cost;
        return;
      }
      p.expected++;
      p.received++;
      p.receivedBytes += size;
      p.inFlight -= cost;
      if (p.pausedBy === 'window' && p.inFlight <= windowBytes / 2) pump(p);
    });
  }
  // Where a stalled peer's messages were: sent by the program, received by the server's
  // DataProducer, sent by its DataConsumer, received by the program.
  const stalls = [];
  const stallSample = async (p, t) => {
    const sample = {
      peer: p.i,
      atSecond: round((t - sendStart) / 1000, 1),
      sinceProgressMs: round(t - Math.max(p.pausedAt, p.progressAt), 0),
      sent: p.sent,
      received: p.received,
      bufferedAmount: p.dp.bufferedAmount,
    };
    const [dps] = await p.serverDp.getStats().catch(() => [{}]);
    const [dcs] = await p.serverDc.getStats().catch(() => [{}]);
    sample.serverReceived = dps && dps.messagesReceived;
    sample.serverSent = dcs && dcs.messagesSent;
    sample.serverBufferedAmount = dcs && dcs.bufferedAmount;
    return sample;
  };
  const sendStart = now();
  // Waits an event should have ended: counted, then ended. A wait counts when it is seen at
  // two ticks of the watchdog with the same pause: events already queued when the JS thread
  // was busy are delivered between two ticks.
  let tick = 0;
  const watchdog = setInterval(() => {
    const t = now();
    tick++;
    for (const p of peers) {
      let kind = null;
      if (p.pausedBy === 'buffered' && t - p.pausedAt > 250 && p.dp.bufferedAmount <= low) kind = 'low';
      else if (p.pausedBy === 'window' && t - Math.max(p.pausedAt, p.progressAt) > 2000) kind = 'window';
      if (!kind) {
        p.suspect = null;
      } else if (!p.suspect || p.suspect.kind !== kind || p.suspect.pausedAt !== p.pausedAt || p.suspect.tick === tick) {
        p.suspect = { kind, pausedAt: p.pausedAt, tick };
      } else {
        p.suspect = null;
        if (kind === 'low') {
          p.missedLowEvents++;
        } else {
          p.windowStalls++;
          if (stalls.length < 10) stalls.push(stallSample(p, t));
          p.inFlight = 0;
        }
        pump(p);
      }
    }
  }, 250);
  for (const p of peers) pump(p);

  const totals = () =>
    peers.reduce(
      (a, p) => ({ sent: a.sent + p.sent, received: a.received + p.received, receivedBytes: a.receivedBytes + p.receivedBytes }),
      { sent: 0, received: 0, receivedBytes: 0 }
    );
  await sleep(opts.warmup * 1000);
  gc();
  const t0 = totals();
  const drops0 = udpDrops(serverPorts);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = cpuSeconds();
  const worker0 = server.workersCpuSeconds();
  const machine0 = machineCpuSeconds();
  const s0 = now();
  await sleep(opts.seconds * 1000);
  const t1 = totals();
  const drops1 = udpDrops(serverPorts);
  loopDelay.disable();
  const cpu1 = cpuSeconds();
  const worker1 = server.workersCpuSeconds();
  const machine1 = machineCpuSeconds();
  const elapsed = (now() - s0) / 1000;
  const rss = process.memoryUsage().rss;

  // stop sending, then let what is in flight arrive (bounded)
  sending = false;
  const drainStart = now();
  while (now() - drainStart < 5000) {
    const t = totals();
    const lost = peers.reduce((n, p) => n + p.gapMessages + p.corrupt, 0);
    if (t.received + lost >= t.sent) break;
    await sleep(50);
  }
  clearInterval(watchdog);
  const end = totals();
  const serverStats = await Promise.all(
    peers.map(async (p) => {
      const [dps] = await p.serverDp.getStats().catch(() => [{}]);
      const [dcs] = await p.serverDc.getStats().catch(() => [{}]);
      return { received: (dps && dps.messagesReceived) || 0, sent: (dcs && dcs.messagesSent) || 0 };
    })
  );
  const sum = (f) => peers.reduce((n, p) => n + f(p), 0);

  const messages = t1.received - t0.received;
  const bytes = t1.receivedBytes - t0.receivedBytes;
  const cpu = cpu1 - cpu0;
  const workerCpu = worker1 - worker0;
  const machineBusy = machine1.busy - machine0.busy;
  const result = {
    client: opts.client,
    peers: opts.peers,
    peersUp: peers.length,
    size,
    workers: opts.workers,
    setupSeconds: round(setupSeconds, 2),
    setupFailures,
    lastSetupError,
    seconds: round(elapsed, 2),
    messagesPerSecond: round(messages / elapsed, 0),
    mbPerSecond: round(bytes / elapsed / 1e6, 2),
    clientCpuUsPerMessage: messages ? round((cpu * 1e6) / messages, 2) : null,
    clientCpuShare: round(cpu / elapsed, 3),
    workerCpuShare: round(workerCpu / elapsed, 3),
    otherCpuShare: round(Math.max(0, machineBusy - cpu - workerCpu) / elapsed, 3),
    rssMiB: round(rss / 2 ** 20, 1),
    // in the measurement window
    eventLoopDelayMs: {
      p50: round(loopDelay.percentile(50) / 1e6, 1),
      p99: round(loopDelay.percentile(99) / 1e6, 1),
      max: round(loopDelay.max / 1e6, 1),
    },
    udpDropsAtServer: drops1.server - drops0.server,
    udpDropsAtClient: drops1.client - drops0.client,
    // the whole run (warm-up, window, drain)
    sent: end.sent,
    received: end.received,
    notArrived: end.sent - end.received - sum((p) => p.gapMessages + p.corrupt),
    lostInGaps: sum((p) => p.gapMessages),
    corrupt: sum((p) => p.corrupt),
    reordered: sum((p) => p.reordered),
    serverReceived: serverStats.reduce((n, s) => n + s.received, 0),
    serverSent: serverStats.reduce((n, s) => n + s.sent, 0),
    serverSendBufferFull: sum((p) => p.serverDrops()),
    pausesBuffered: sum((p) => p.pausesBuffered),
    pausesWindow: sum((p) => p.pausesWindow),
    missedLowEvents: sum((p) => p.missedLowEvents),
    windowStalls: sum((p) => p.windowStalls),
    stallSamples: await Promise.all(stalls),
    sendErrors: sum((p) => p.sendErrors),
    lastSendError: (peers.find((p) => p.lastSendError) || {}).lastSendError || null,
    flow: { high, low, window: windowBytes, serverBuffer: opts.serverBuffer, serverSocketBuffer: opts.serverSocketBuffer },
  };
  for (const p of peers) {
    p.send.transport.close();
    p.recv.transport.close();
  }
  server.close();
  console.log(`RESULT ${JSON.stringify(result)}`);
  // werift's timers may outlive its transports
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((error) => {
  console.log(`RESULT ${JSON.stringify({ client: opts.client, peers: opts.peers, size: opts.size, error: String(error.stack || error) })}`);
  process.exit(0);
});
