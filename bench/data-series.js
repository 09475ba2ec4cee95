'use strict';

// The data channel series of `npm run bench` (bench/index.js runs it last): for each number
// of peers and each message size, a step of this client and then of msc-node (the only
// alternative measured here), each in a fresh process (bench/data-phase.js): N peers sending
// messages through the router to their own DataConsumers as fast as flow control allows.
// Ratios are taken within this run only: msc-node's CPU per message over ours.

// The producer side's flow control and the server's buffer (bench/data-phase.js says how
// they are used).
const FLOW = { high: 256 * 1024, low: 64 * 1024, window: 1024 * 1024, serverBuffer: 2 * 1024 * 1024, serverSocketBuffer: 4 * 1024 * 1024 };
const CLIENTS_WITH_DATA = new Set(['msc-node']);

function round(x, d) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

// cfg: { dataPeers: [N...], dataSizes: [bytes...], dataSeconds, dataWarmup, dataWorkers }
async function dataSide({ cfg, pkgDir, alternatives, runStep, log }) {
  const result = { method: null, flow: FLOW, load: [], ratios: [], skipped: [] };
  if (!cfg.dataPeers.length || !cfg.dataSizes.length) return { result, lines: () => [] };
  result.method =
    'N peers in one process, each a send transport with one ordered reliable DataProducer and a receive transport ' +
    'with one DataConsumer of it, through one mediasoup router on 127.0.0.1; binary messages sent as fast as ' +
    `bufferedAmount allows (stop at ${FLOW.high} bytes, resume at 'bufferedamountlow' at ${FLOW.low}) within an end-to-end ` +
    `window of ${FLOW.window} bytes (message + 2048 each); server UDP socket buffers of ${FLOW.serverSocketBuffer} bytes; each message checked on arrival (size, number, bytes); ` +
    'CPU of the client process (send + receive) per message received intact.';
  const clients = [{ name: 'native', dir: pkgDir }];
  for (const a of alternatives) {
    if (CLIENTS_WITH_DATA.has(a.name)) clients.push({ name: a.name, dir: a.dir });
    else result.skipped.push(a.name);
  }
  const failed = {};
  for (const n of cfg.dataPeers) {
    for (const size of cfg.dataSizes) {
      for (const c of clients) {
        if (failed[c.name]) continue;
        log(`- data ${c.name} peers N=${n}, ${size}-byte messages`);
        const r = await runStep(
          'data-phase.js',
          {
            client: c.name,
            clientDir: c.dir,
            peers: n,
            size,
            seconds: cfg.dataSeconds,
            warmup: cfg.dataWarmup,
            workers: cfg.dataWorkers,
            ...FLOW,
          },
          (120 + n * 2 + cfg.dataWarmup + cfg.dataSeconds) * 1000
        );
        r.client ??= c.name;
        r.peers ??= n;
        r.size ??= size;
        result.load.push(r);
        if (r.error) {
          log(`  failed: ${r.error.split('\n')[0]}`);
          failed[c.name] = { n, size, error: r.error.slice(0, 500) };
          continue;
        }
        log(
          `  ${r.messagesPerSecond} messages/s, ${r.mbPerSecond} MB/s, ${r.clientCpuUsPerMessage} us/message ` +
            `(${(r.clientCpuShare * 100).toFixed(0)}% of a core), worker ${(r.workerCpuShare * 100).toFixed(0)}%, ` +
            `others ${(r.otherCpuShare * 100).toFixed(0)}%; ${r.received}/${r.sent} intact, lost ${r.lostInGaps}, corrupt ${r.corrupt}, ` +
            `server buffer full ${r.serverSendBufferFull}, UDP drops at server ${r.udpDropsAtServer} / client ${r.udpDropsAtClient}` +
            (r.setupFailures ? `, ${r.setupFailures} peers failed (${r.lastSetupError})` : '') +
            (r.missedLowEvents || r.windowStalls ? `, missed bufferedamountlow ${r.missedLowEvents}, window stalls ${r.windowStalls}` : '')
        );
      }
    }
  }
  result.failed = failed;
  const natives = result.load.filter((r) => r.client === 'native' && !r.error);
  result.ratios = natives.map((r) => ({
    peers: r.peers,
    size: r.size,
    nativeUsPerMessage: r.clientCpuUsPerMessage,
    nativeMessagesPerSecond: r.messagesPerSecond,
    versus: Object.fromEntries(
      clients
        .filter((c) => c.name !== 'native')
        .map(({ name }) => {
          const a = result.load.find((x) => x.client === name && x.peers === r.peers && x.size === r.size);
          if (!a) return [name, { notRun: true }];
          if (a.error) return [name, { error: a.error.slice(0, 300) }];
          return [
            name,
            {
              usPerMessage: a.clientCpuUsPerMessage,
              messagesPerSecond: a.messagesPerSecond,
              // CPU per message: theirs over ours; throughput: ours over theirs
              cpuAltOverNative: round(a.clientCpuUsPerMessage / r.clientCpuUsPerMessage, 1),
              rateNativeOverAlt: round(r.messagesPerSecond / a.messagesPerSecond, 1),
            },
          ];
        })
    ),
  }));

  const lines = (table, fmt) => {
    const out = ['', `data channels (${result.method})`];
    const rows = result.load.filter((r) => !r.error);
    if (rows.length) {
      out.push(
        table(rows, [
          ['client', (r) => r.client],
          ['N', (r) => String(r.peers)],
          ['bytes', (r) => String(r.size)],
          ['msg/s', (r) => fmt(r.messagesPerSecond, 0)],
          ['MB/s', (r) => fmt(r.mbPerSecond, 2)],
          ['us/msg', (r) => fmt(r.clientCpuUsPerMessage, 1)],
          ['client cpu', (r) => `${fmt(r.clientCpuShare * 100, 0)}%`],
          ['worker cpu', (r) => `${fmt(r.workerCpuShare * 100, 0)}%`],
          ['other cpu', (r) => `${fmt(r.otherCpuShare * 100, 0)}%`],
          ['intact/sent', (r) => `${r.received}/${r.sent}`],
          ['lost', (r) => String(r.lostInGaps)],
          // sent, neither received nor lost within 5 s of the end
          ['late', (r) => String(r.notArrived)],
          ['corrupt', (r) => String(r.corrupt)],
          ['srv buf full', (r) => String(r.serverSendBufferFull)],
          // datagrams the kernel dropped (receive buffer full) in the window, at the server's
          // sockets and the client's
          ['udp drops srv/cli', (r) => `${r.udpDropsAtServer}/${r.udpDropsAtClient}`],
          ['RSS MiB', (r) => fmt(r.rssMiB, 0)],
          // the JS thread's event loop delay in the window, 99th percentile and maximum
          ['loop delay p99/max ms', (r) => (r.eventLoopDelayMs ? `${fmt(r.eventLoopDelayMs.p99, 0)}/${fmt(r.eventLoopDelayMs.max, 0)}` : '-')],
        ])
      );
    }
    for (const r of result.load.filter((x) => x.error)) out.push(`  ${r.client} N=${r.peers} ${r.size} bytes: failed: ${r.error.split('\n')[0]}`);
    const alts = clients.filter((c) => c.name !== 'native').map((c) => c.name);
    if (result.ratios.length && alts.length) {
      out.push('');
      out.push(
        table(result.ratios, [
          ['N', (r) => String(r.peers)],
          ['bytes', (r) => String(r.size)],
          ['native us/msg', (r) => fmt(r.nativeUsPerMessage, 1)],
          ...alts.flatMap((name) => [
            [`${name} us/msg`, (r) => fmt(r.versus[name].usPerMessage, 1)],
            [`cpu ${name}/native`, (r) => fmt(r.versus[name].cpuAltOverNative, 1)],
            [`msg/s native/${name}`, (r) => fmt(r.versus[name].rateNativeOverAlt, 1)],
          ]),
        ])
      );
    }
    if (result.skipped.length) out.push(`  not measured for data channels: ${result.skipped.join(', ')}`);
    return out;
  };
  return { result, lines };
}

module.exports = { dataSide };
