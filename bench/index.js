'use strict';

// npm run bench [-- options]: how fast and how light this client is, against the real local
// mediasoup worker on 127.0.0.1, with alternative clients measured in the same run.
//
//   --peers 1,10,50,100,200,500   fake peers: a send transport with VP8 (~1 Mbps, 120 packets/s)
//                                 and Opus (50 packets/s) producers each
//   --one-transport 1,10,50,100,200,500   one transport carrying N VP8 producers
//   --seconds 10 --warmup 3       measurement window and warm-up per load step
//   --latency 50                  produce() -> first packet at the server, createSendTransport
//                                 -> connected, over this many transports
//   --cycles 10000 --cycle-concurrency 8   create/produce/close cycles (transport + producer)
//   --recv-peers 1,10,50,100,200,500   receiving peers: a receive transport with a VP8 (~1 Mbps,
//                                 120 packets/s) and an Opus (50 packets/s) consumer each, of
//                                 sources fed from another process (bench/feeder.js); frames
//                                 counted by the program, CPU per received packet, frames lost
//   --recv-latency 50             consume() -> first frame read by the program, over this many
//                                 transports (a new one, then video and audio on it connected)
//   --consume-cycles 10000 --consume-concurrency 1   consume/close cycles on one receive
//                                 transport: RSS, fds, threads, and the CPU per packet of steady
//                                 consumers on it, before, during and after
//   --consume-control 1           then the same phase with no cycle (as long, the steady
//                                 consumers alone): what grows with time, not with cycles
//   --recv-server-in-process 1    the receive load series with the server's Node side in the
//                                 client's process (by default it has one of its own, as on a
//                                 real signalling server: the client's CPU alone)
//   --consume-server-in-process 1  the consume/close series with the server's Node side in the
//                                 client's process (by default it has one of its own: the
//                                 client's memory alone)
//   --data-peers 1 --data-sizes 100,16384 --data-seconds 5   data channels: N peers each
//                                 sending messages of each size through the router to its own
//                                 DataConsumer as fast as flow control allows (bench/data-series.js)
//   (0 skips a series: e.g. --peers 0 --one-transport 0 --latency 0 --cycles 0 for the receive
//   side alone)
//   --alt msc-node,aiortc|none    the alternatives measured side by side: msc-node 0.0.21 on
//                                 werift (pure JS), mediasoup-client-aiortc 3.16.1 (aiortc 1.14
//                                 in a Python process); bench/install-peers.sh installs them
//   --workers auto|N              mediasoup workers (auto: one per 40,000 packets/s, at most
//                                 one per core)
//   --commit REV | --worktree     what to measure (default HEAD, built by bench/build-addon.sh)
//   --wait-quiet MINUTES          first wait (at most that long) until the 1-minute load average
//                                 is below 0.5; the results say whether it got there
//   --quick                       small settings, to try the harness
//   --out FILE                    the JSON result (default bench/results/<timestamp>.json)
//
// Each step runs in a fresh Node process (bench/phase.js) inside a network namespace that has
// only loopback when the machine allows it. A load step stops the series when the server
// counts less than 95% of the packets asked for. Everything is bounded: each step has a
// deadline and the series stop by themselves.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { machine } = require('./server');
const { receiveSide } = require('./recv-series');
const { dataSide } = require('./data-series');

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string' },
    'one-transport': { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    latency: { type: 'string' },
    cycles: { type: 'string' },
    'cycle-concurrency': { type: 'string' },
    'recv-peers': { type: 'string' },
    'recv-latency': { type: 'string' },
    'consume-cycles': { type: 'string' },
    'consume-concurrency': { type: 'string' },
    'consume-control': { type: 'string' },
    'recv-server-in-process': { type: 'string' },
    'consume-server-in-process': { type: 'string' },
    'data-peers': { type: 'string' },
    'data-sizes': { type: 'string' },
    'data-seconds': { type: 'string' },
    alt: { type: 'string', default: 'msc-node,aiortc' },
    workers: { type: 'string', default: 'auto' },
    commit: { type: 'string', default: 'HEAD' },
    worktree: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

const quick = args.quick;
const list = (s, d) => (s ?? d).split(',').filter(Boolean).map(Number).filter((n) => n > 0); // 0: skip the series
const cfg = {
  peers: list(args.peers, quick ? '1,10' : '1,10,50,100,200,500'),
  oneTransport: list(args['one-transport'], quick ? '10' : '1,10,50,100,200,500'),
  seconds: Number(args.seconds ?? (quick ? 3 : 10)),
  warmup: Number(args.warmup ?? (quick ? 2 : 3)),
  latency: Number(args.latency ?? (quick ? 10 : 50)),
  cycles: Number(args.cycles ?? (quick ? 200 : 10000)),
  cycleConcurrency: Number(args['cycle-concurrency'] ?? 8),
  recvPeers: list(args['recv-peers'], quick ? '1,10' : '1,10,50,100,200,500'),
  recvLatency: Number(args['recv-latency'] ?? (quick ? 5 : 50)),
  consumeCycles: Number(args['consume-cycles'] ?? (quick ? 200 : 10000)),
  consumeConcurrency: Number(args['consume-concurrency'] ?? 1),
  consumeControl: Number(args['consume-control'] ?? 0) > 0,
  recvServerInProcess: Number(args['recv-server-in-process'] ?? 0) > 0,
  consumeServerInProcess: Number(args['consume-server-in-process'] ?? 0) > 0,
  dataPeers: list(args['data-peers'], '1'),
  dataSizes: list(args['data-sizes'], quick ? '100' : '100,16384'),
  dataSeconds: Number(args['data-seconds'] ?? (quick ? 2 : 5)),
  dataWarmup: quick ? 1 : 2,
  dataWorkers: 1,
  alts: args.alt === 'none' ? [] : args.alt.split(',').filter(Boolean),
  workers: args.workers,
};
const ALTERNATIVES = {
  'msc-node': 'msc-node 0.0.21 (werift 0.18.17)',
  aiortc: 'mediasoup-client-aiortc 3.16.1 (aiortc 1.14.0, Python)',
};
for (const name of cfg.alts) {
  if (!ALTERNATIVES[name]) throw new Error(`--alt: unknown alternative '${name}' (${Object.keys(ALTERNATIVES).join(', ')} or none)`);
}
const HOLD = 0.95; // a step holds its rate when the server counts >= 95% of the packets asked
const root = path.resolve(__dirname, '..');

function log(...a) {
  process.stderr.write(`${a.join(' ')}\n`);
}

function sh(script, scriptArgs = []) {
  const r = spawnSync('bash', [path.join(__dirname, script), ...scriptArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status})`);
  return r.stdout.trim().split('\n').pop();
}

// Loopback-only network namespace when possible (as scripts/test.sh does).
const netns = spawnSync('unshare', ['-n', 'true']).status === 0;
function wrap(cmd) {
  return netns ? ['unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...cmd]] : [cmd[0], cmd.slice(1)];
}

// Runs one phase in a fresh process; resolves with its RESULT (or { error }).
function runPhase(options, timeoutMs) {
  return runStep('phase.js', options, timeoutMs);
}

// Runs `script` (of this folder) with `options` in a fresh process; resolves with its RESULT
// line (or { error }).
function runStep(script, options, timeoutMs) {
  return new Promise((resolve) => {
    const [cmd, cmdArgs] = wrap([process.execPath, '--expose-gc', path.join(__dirname, script), JSON.stringify(options)]);
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`  (step timed out after ${timeoutMs / 1000} s: stopping it)`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice(7)));
      // the step's own progress lines say where it was
      const last = err.trim().split('\n').slice(-3).join(' | ');
      if (timedOut) return resolve({ error: `timed out after ${timeoutMs / 1000} s (setup or measurement did not finish)${last ? `; last said: ${last}` : ''}` });
      resolve({ error: `exit ${code}${err ? `: ${err.trim().split('\n').slice(-5).join(' | ')}` : ''}` });
    });
  });
}

function workersFor(askedPps) {
  if (cfg.workers !== 'auto') return Math.max(1, Number(cfg.workers) || 1);
  return Math.max(1, Math.min(os.cpus().length, Math.ceil(askedPps / 40000)));
}

// A series of load steps with increasing N; stops at the first N that does not hold its rate.
async function loadSeries(client, layout, ns, clientDir, results) {
  let limit = null;
  for (const n of ns) {
    const asked = layout === 'peers' ? n * 170 : n * 120;
    // one transport lives in one router: more workers would only idle
    const workers = layout === 'peers' ? workersFor(asked) : 1;
    log(`- load ${client} ${layout} N=${n} (${asked} packets/s asked, ${workers} worker(s))`);
    const r = await runPhase(
      { phase: 'load', client, clientDir, layout, peers: n, workers, warmup: cfg.warmup, seconds: cfg.seconds },
      (90 + n * 0.5 + cfg.warmup + cfg.seconds) * 1000
    );
    r.client ??= client;
    r.layout ??= layout;
    r.peers ??= n;
    results.push(r);
    if (r.error) {
      log(`  failed: ${r.error}`);
      limit = { n, reason: `the step failed: ${r.error.slice(0, 300)}` };
      break;
    }
    log(
      `  server ${r.serverPps}/${r.askedPps} packets/s (${(r.delivered * 100).toFixed(1)}%), ` +
        `client ${r.clientCpuUsPerPacket} us/packet (${(r.clientCpuShare * 100).toFixed(0)}% of a core), ` +
        `worker ${(r.workerCpuShare * 100).toFixed(0)}%, others ${(r.otherCpuShare * 100).toFixed(0)}%, ` +
        `scored ${(r.scoredShare * 100).toFixed(0)}% (median score ${r.medianScore}), ` +
        `lost at the server ${(r.serverLostShare * 100).toFixed(1)}% (repaired ${(r.serverRepairedShare * 100).toFixed(1)}%), ` +
        `RSS ${r.rssPerProducerKiB} KiB/producer`
    );
    if (!(r.delivered >= HOLD)) {
      limit = { n, reason: `the server counted ${(r.delivered * 100).toFixed(1)}% of the packets asked (< ${HOLD * 100}%)` };
      break;
    }
  }
  return limit;
}

function fmt(x, d = 1) {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x);
}

function table(rows, columns) {
  const head = columns.map((c) => c[0]);
  const body = rows.map((r) => columns.map((c) => c[1](r)));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main() {
  const waitMinutes = Number(args['wait-quiet']) || 0;
  let quiet = os.loadavg()[0] < 0.5;
  if (waitMinutes > 0 && !quiet) {
    log(`bench: waiting up to ${waitMinutes} min for the load average to fall below 0.5 (now ${os.loadavg()[0].toFixed(2)})`);
    const deadline = Date.now() + waitMinutes * 60_000;
    while (!quiet && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10_000));
      quiet = os.loadavg()[0] < 0.5;
    }
    log(quiet ? 'bench: quiet now' : 'bench: never got quiet; running anyway (see otherCpuShare in the results)');
  }
  const started = new Date();
  const load0 = os.loadavg();
  log(`bench: load average ${load0.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
  log('bench: building the release addon (bench/build-addon.sh)');
  const pkgDir = sh('build-addon.sh', args.worktree ? ['--worktree'] : [args.commit]);
  const commit = fs.readFileSync(path.join(pkgDir, 'COMMIT'), 'utf8').trim();
  // the alternatives that installed: { name, label, dir, installed, error }
  const alternatives = cfg.alts.map((name) => {
    const alt = { name, label: ALTERNATIVES[name], dir: null, installed: false, error: null };
    try {
      alt.dir = sh('install-peers.sh', [name]);
      alt.installed = true;
    } catch (error) {
      alt.error = String(error.message);
      log(`bench: ${name} did not install (${alt.error}); going on without it`);
    }
    return alt;
  });
  const installedAlts = alternatives.filter((a) => a.installed);
  const { version: mediasoupVersion } = require('../scripts/mediasoup-server');
  const result = {
    started: started.toISOString(),
    machine: { ...machine(), loadAverageAtStart: load0, quietAtStart: load0[0] < 0.5 },
    commit,
    mediasoup: mediasoupVersion,
    alternatives: alternatives.map(({ name, label, installed, error }) => ({ name, label, installed, error })),
    networkNamespace: netns ? 'loopback only' : 'host network, 127.0.0.1 only',
    config: cfg,
    load: [],
    limits: {},
  };

  // load: the native client and the alternatives step by step, so all see the same machine
  const natives = [];
  const alts = [];
  let nativeLimit = null;
  const altLimits = {};
  for (const n of cfg.peers) {
    if (!nativeLimit) nativeLimit = await loadSeries('native', 'peers', [n], pkgDir, natives);
    for (const a of installedAlts) {
      if (!altLimits[a.name]) altLimits[a.name] = await loadSeries(a.name, 'peers', [n], a.dir, alts);
    }
    if (nativeLimit && installedAlts.every((a) => altLimits[a.name])) break;
  }
  const ones = [];
  const oneLimit = await loadSeries('native', 'one-transport', cfg.oneTransport, pkgDir, ones);
  result.load.push(...natives, ...alts, ...ones);
  result.limits = {
    nativePeers: nativeLimit || 'held every step',
    alternativesPeers: Object.fromEntries(installedAlts.map((a) => [a.name, altLimits[a.name] || 'held every step'])),
    nativeOneTransport: oneLimit || 'held every step',
  };

  // the floor, on the packet sizes the server saw (when the send side was measured)
  const sized = natives.find((r) => r.meanVideoPacketBytes && r.meanAudioPacketBytes);
  const sizes = sized ? [sized.meanVideoPacketBytes, sized.meanAudioPacketBytes] : [1028, 144];
  if (natives.length) log(`- floor: SRTP + one UDP send per packet, packets of ${sizes.join(' and ')} bytes (12:5), twice`);
  const floorRuns = [];
  for (let i = 0; i < (natives.length ? 2 : 0); i++) {
    const run = spawnSync(...wrap([path.join(pkgDir, 'srtp_floor'), '--seconds', quick ? '1' : '3', '--sizes', sizes.join(','), '--mix', '12,5']), {
      encoding: 'utf8',
      timeout: 120_000,
    });
    try {
      floorRuns.push(JSON.parse(run.stdout.trim().split('\n').pop()));
    } catch {
      floorRuns.push({ error: `srtp_floor: ${run.stderr || run.status}` });
    }
  }
  // the cheaper of the two runs per profile: the ratios to the floor err on the high side
  const okRuns = floorRuns.filter((f) => f.profiles);
  let floor = okRuns.length ? JSON.parse(JSON.stringify(okRuns[0])) : floorRuns[0] || null;
  if (okRuns.length > 1) {
    floor.sendNsPerPacket = Math.min(...okRuns.map((f) => f.sendNsPerPacket));
    for (const p of floor.profiles) {
      const all = okRuns.map((f) => f.profiles.find((x) => x.profile === p.profile));
      p.encryptNsPerPacket = Math.min(...all.map((x) => x.encryptNsPerPacket));
      p.encryptAndSendNsPerPacket = Math.min(...all.map((x) => x.encryptAndSendNsPerPacket));
    }
  }
  result.floor = floor;
  result.floorRuns = floorRuns;

  // latency and cycles
  result.latency = [];
  if (cfg.latency > 0) {
    log(`- latency over ${cfg.latency} transports (native)`);
    result.latency.push(await runPhase({ phase: 'latency', client: 'native', clientDir: pkgDir, count: cfg.latency }, 300_000));
  }
  for (const a of cfg.latency > 0 ? installedAlts : []) {
    log(`- latency over ${cfg.latency} transports (${a.name})`);
    const r = await runPhase({ phase: 'latency', client: a.name, clientDir: a.dir, count: cfg.latency }, 300_000);
    r.client ??= a.name;
    result.latency.push(r);
  }
  result.cycles = null;
  if (cfg.cycles > 0) {
    log(`- ${cfg.cycles} create/produce/close cycles, ${cfg.cycleConcurrency} at a time (native)`);
    result.cycles = await runPhase(
      { phase: 'cycles', client: 'native', clientDir: pkgDir, count: cfg.cycles, warmupCycles: 50, concurrency: cfg.cycleConcurrency },
      (120 + cfg.cycles * 0.2) * 1000
    );
  }

  // the receive side: its load steps, floor, latency and consume/close cycles
  const receive = await receiveSide({ cfg, quick, pkgDir, alternatives: installedAlts, runPhase, wrap, workersFor, log, hold: HOLD });
  result.receive = receive.result;
  const data = await dataSide({ cfg, pkgDir, alternatives: installedAlts, runStep, log });
  result.data = data.result;
  result.machine.loadAverageAtEnd = os.loadavg();
  result.finished = new Date().toISOString();

  // ratios, in the same run
  const floorProfile = (name) => floor && floor.profiles && floor.profiles.find((p) => p.profile === name);
  const negotiated = result.latency[0] && result.latency[0].srtpCipher;
  const negotiatedKey = { SRTP_AEAD_AES_128_GCM: 'aeadaes128gcm', SRTP_AEAD_AES_256_GCM: 'aeadaes256gcm', SRTP_AES128_CM_HMAC_SHA1_80: 'aes128cm80' }[negotiated];
  const cm = floorProfile('aes128cm80');
  const neg = floorProfile(negotiatedKey);
  result.ratios = natives
    .filter((r) => !r.error)
    .map((r) => {
      // per alternative; a ratio only where both held the rate (a saturated client's CPU per
      // packet says little)
      const versus = Object.fromEntries(
        installedAlts.map(({ name }) => {
          const a = alts.find((x) => x.client === name && x.peers === r.peers && !x.error);
          const both = a && a.delivered >= HOLD && r.delivered >= HOLD;
          return [
            name,
            {
              usPerPacket: a ? a.clientCpuUsPerPacket : null,
              held: a ? a.delivered >= HOLD : null,
              nativeOverAlt: both ? round(r.clientCpuUsPerPacket / a.clientCpuUsPerPacket, 3) : null,
            },
          ];
        })
      );
      return {
        peers: r.peers,
        nativeUsPerPacket: r.clientCpuUsPerPacket,
        versus,
        overFloorAes128CmSha1_80: cm ? round((r.clientCpuUsPerPacket * 1000) / cm.encryptAndSendNsPerPacket, 2) : null,
        overFloorNegotiated: neg ? round((r.clientCpuUsPerPacket * 1000) / neg.encryptAndSendNsPerPacket, 2) : null,
      };
    });
  result.srtpCipherNegotiated = negotiated || null;

  // stdout: the tables
  const loadRows = [...natives, ...alts, ...ones].filter((r) => !r.error);
  const out = [];
  out.push(`mediasoup-client-native benchmark, ${result.started}, commit ${commit.slice(0, 12)}`);
  out.push(`${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, mediasoup ${mediasoupVersion}; load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${result.machine.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' ')} at end`);
  if (loadRows.length) {
    out.push('');
    out.push(
      table(loadRows, [
        ['client', (r) => r.client],
        ['layout', (r) => r.layout],
        ['N', (r) => String(r.peers)],
        ['prod', (r) => String(r.producers)],
        ['wk', (r) => String(r.workers)],
        ['asked pps', (r) => fmt(r.askedPps, 0)],
        ['server pps', (r) => fmt(r.serverPps, 0)],
        ['held', (r) => `${fmt(r.delivered * 100, 1)}%`],
        ['cpu s/1000 pkt', (r) => fmt(r.clientCpuSecPer1000, 4)],
        ['us/pkt', (r) => fmt(r.clientCpuUsPerPacket, 1)],
        ['client cpu', (r) => `${fmt(r.clientCpuShare * 100, 0)}%`],
        ['worker cpu', (r) => `${fmt(r.workerCpuShare * 100, 0)}%`],
        ['other cpu', (r) => `${fmt(r.otherCpuShare * 100, 0)}%`],
        ['scored>0', (r) => `${fmt(r.scoredShare * 100, 0)}%`],
        ['score', (r) => fmt(r.medianScore, 0)],
        ['lost', (r) => `${fmt(r.serverLostShare * 100, 1)}%`],
        // of those, dropped by the kernel: a receive buffer full (the server's, as a rule)
        ['rcvbuf drops', (r) => (r.udpRcvbufDropShare == null ? '-' : `${fmt(r.udpRcvbufDropShare * 100, 1)}%`)],
        // RSS deltas of a few MiB are GC and allocator noise: shown from 10 producers on
        ['KiB/producer', (r) => (r.producers >= 10 ? fmt(r.rssPerProducerKiB, 0) : '-')],
        ['KiB/transport', (r) => (r.producers >= 10 ? fmt(r.rssPerTransportKiB, 0) : '-')],
      ])
    );
    out.push('');
    out.push(`limits: native peers: ${JSON.stringify(result.limits.nativePeers)}; native one transport: ${JSON.stringify(result.limits.nativeOneTransport)}`);
    for (const [name, limit] of Object.entries(result.limits.alternativesPeers)) out.push(`  ${name} peers: ${JSON.stringify(limit)}`);
    if (floor && floor.profiles) {
      out.push('');
      out.push(`floor (SRTP protect + one UDP send, sending thread CPU; packets ${floor.sizes.join('/')} bytes): send alone ${fmt(floor.sendNsPerPacket / 1000, 2)} us`);
      for (const p of floor.profiles) {
        out.push(`  ${p.profile}: encrypt ${fmt(p.encryptNsPerPacket / 1000, 2)} us, encrypt + send ${fmt(p.encryptAndSendNsPerPacket / 1000, 2)} us per packet`);
      }
      out.push(`  negotiated with mediasoup: ${negotiated || 'unknown'}`);
    }
    out.push('');
    out.push(
      table(result.ratios, [
        ['N', (r) => String(r.peers)],
        ['native us/pkt', (r) => fmt(r.nativeUsPerPacket, 1)],
        ...installedAlts.flatMap(({ name }) => [
          [`${name} us/pkt`, (r) => (r.versus[name].held === false ? `${fmt(r.versus[name].usPerPacket, 1)} (rate not held)` : fmt(r.versus[name].usPerPacket, 1))],
          [`native/${name}`, (r) => fmt(r.versus[name].nativeOverAlt, 3)],
        ]),
        ['native/floor(AES-CM-SHA1-80)', (r) => fmt(r.overFloorAes128CmSha1_80, 1)],
        [`native/floor(${negotiatedKey || 'negotiated'})`, (r) => fmt(r.overFloorNegotiated, 1)],
      ])
    );
  }
  for (const l of result.latency) {
    out.push('');
    if (l.error) {
      out.push(`latency (${l.client || '?'}): failed: ${l.error}`);
      continue;
    }
    out.push(`latency, ${l.client}, ms over ${l.count} transports (median / p95):`);
    for (const [k, q] of Object.entries(l.ms)) out.push(`  ${k.padEnd(42)} ${fmt(q.median, 1).padStart(7)} / ${fmt(q.p95, 1)}`);
  }
  const c = result.cycles;
  if (c && c.error) out.push('', `cycles: failed: ${c.error}`);
  else if (c) {
    out.push('');
    out.push(`${c.cycles} create/produce/close cycles (${c.concurrency} at a time, after ${c.warmupCycles} warm-up cycles): ${c.seconds} s, ${c.failures} failed`);
    out.push(`  RSS ${c.before.rssMiB} -> ${c.after.rssMiB} MiB (${c.rssGrowthMiB >= 0 ? '+' : ''}${c.rssGrowthMiB}), JS heap ${c.before.heapMiB} -> ${c.after.heapMiB} MiB, fds ${c.before.fds} -> ${c.after.fds}, threads ${c.before.threads} -> ${c.after.threads}`);
  }
  out.push(...receive.lines(table, fmt));
  out.push(...data.lines(table, fmt));
  console.log(out.join('\n'));

  const file = args.out || path.join(__dirname, 'results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`bench: wrote ${path.relative(process.cwd(), file)}`);
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
