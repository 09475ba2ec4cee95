'use strict';

// The receive side's series of `npm run bench` (bench/index.js runs them after the send side):
// load steps of N receiving peers for this client and the alternatives, step by step so that
// all see the same machine; the receive floor (bench/native srtp_recv_floor) on the packet
// sizes the server sent; consume() -> first frame; consume/close cycles on one transport.
// Ratios are taken within this run only.

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { VIDEO_FPS, AUDIO_FPS } = require('./clients');

const PER_PEER_PPS = VIDEO_FPS * 4 + AUDIO_FPS;

function round(x, d) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

async function receiveSide({ cfg, quick, pkgDir, alternatives, runPhase, wrap, workersFor, log, hold }) {
  const result = { load: [], limits: {}, floor: null, floorRuns: [], ratios: [], latency: null, cycles: null };
  const clients = [{ name: 'native', dir: pkgDir }, ...alternatives.map((a) => ({ name: a.name, dir: a.dir }))];
  const limits = {};

  // load steps: a client's series stops at its first step that fails or does not hold
  for (const n of cfg.recvPeers) {
    for (const c of clients) {
      if (limits[c.name]) continue;
      const asked = n * PER_PEER_PPS;
      const workers = workersFor(asked);
      log(`- receive ${c.name} peers N=${n} (${asked} packets/s asked, ${workers} worker(s))`);
      const r = await runPhase(
        { phase: 'recv-load', client: c.name, clientDir: c.dir, peers: n, workers, warmup: cfg.warmup, seconds: cfg.seconds, serverInProcess: cfg.recvServerInProcess },
        (120 + n * (c.name === 'aiortc' ? 1.5 : 0.5) + cfg.warmup + cfg.seconds) * 1000
      );
      r.client ??= c.name;
      r.peers ??= n;
      result.load.push(r);
      if (r.error) {
        log(`  failed: ${r.error}`);
        limits[c.name] = { n, reason: `the step failed: ${r.error.slice(0, 300)}` };
        continue;
      }
      log(
        `  received ${r.clientPps}${r.packetsCountedBy === 'client' ? '' : ` (server's count less reported losses)`}/${r.askedPps} packets/s (${(r.delivered * 100).toFixed(1)}%), ` +
          `${r.clientCpuUsPerPacket} us/packet (${(r.clientCpuShare * 100).toFixed(0)}% of a core${r.jsThreadCpuUsPerPacket != null ? `; JS thread ${r.jsThreadCpuUsPerPacket} us/packet` : ''}), worker ${(r.workerCpuShare * 100).toFixed(0)}%, ` +
          `frames lost ${r.framesLostShare === null ? '-' : `${(r.framesLostShare * 100).toFixed(2)}%`}, RSS ${r.rssPerPeerKiB} KiB/peer` +
          (r.setupFailures ? `, ${r.setupFailures} peers failed to set up (${r.lastSetupError})` : '')
      );
      if (!(r.delivered >= hold) || r.setupFailures) {
        limits[c.name] = {
          n,
          reason: r.setupFailures
            ? `${r.setupFailures} of ${n} peers could not consume: ${String(r.lastSetupError).slice(0, 300)}`
            : `received ${(r.delivered * 100).toFixed(1)}% of the packets asked (< ${hold * 100}%)`,
        };
      }
    }
    if (clients.every((c) => limits[c.name])) break;
  }
  result.limits = Object.fromEntries(clients.map((c) => [c.name, limits[c.name] || 'held every step']));
  const natives = result.load.filter((r) => r.client === 'native' && !r.error);

  // the floor, on the packet sizes the server sent; the cheaper of two runs per profile
  const sized = natives.find((r) => r.meanVideoPacketBytes && r.meanAudioPacketBytes);
  const sizes = sized ? [sized.meanVideoPacketBytes, sized.meanAudioPacketBytes] : [1050, 150];
  if (natives.length) {
    log(`- receive floor: one UDP recv + SRTP unprotect per packet, packets of ${sizes.join(' and ')} bytes (12:5), twice`);
    for (let i = 0; i < 2; i++) {
      const run = spawnSync(
        ...wrap([path.join(pkgDir, 'srtp_recv_floor'), '--seconds', quick ? '1' : '3', '--sizes', sizes.join(','), '--mix', '12,5']),
        { encoding: 'utf8', timeout: 120_000 }
      );
      try {
        result.floorRuns.push(JSON.parse(run.stdout.trim().split('\n').pop()));
      } catch {
        result.floorRuns.push({ error: `srtp_recv_floor: ${run.stderr || run.error || run.status}` });
      }
    }
    const ok = result.floorRuns.filter((f) => f.profiles);
    if (ok.length) {
      const floor = JSON.parse(JSON.stringify(ok[0]));
      floor.recvNsPerPacket = Math.min(...ok.map((f) => f.recvNsPerPacket));
      for (const p of floor.profiles) {
        const all = ok.map((f) => f.profiles.find((x) => x.profile === p.profile));
        p.decryptNsPerPacket = Math.min(...all.map((x) => x.decryptNsPerPacket));
        p.recvAndDecryptNsPerPacket = Math.min(...all.map((x) => x.recvAndDecryptNsPerPacket));
      }
      result.floor = floor;
    } else {
      result.floor = result.floorRuns[0];
    }
  }

  // ratios, same run: the alternatives' CPU per packet over ours, ours over the floor
  const negotiated = (natives.find((r) => r.srtpCipher) || {}).srtpCipher;
  const key = { SRTP_AEAD_AES_128_GCM: 'aeadaes128gcm', SRTP_AEAD_AES_256_GCM: 'aeadaes256gcm', SRTP_AES128_CM_HMAC_SHA1_80: 'aes128cm80' }[negotiated];
  const floorOf = (name) => result.floor && result.floor.profiles && result.floor.profiles.find((p) => p.profile === name);
  const neg = floorOf(key);
  const cm = floorOf('aes128cm80');
  result.srtpCipherNegotiated = negotiated || null;
  result.ratios = natives.map((r) => ({
    peers: r.peers,
    nativeUsPerPacket: r.clientCpuUsPerPacket,
    nativeHeld: r.delivered >= hold,
    framesLostShare: r.framesLostShare,
    versus: Object.fromEntries(
      alternatives.map(({ name }) => {
        const a = result.load.find((x) => x.client === name && x.peers === r.peers);
        if (!a) return [name, { notRun: true }];
        if (a.error) return [name, { error: a.error.slice(0, 300) }];
        const held = a.delivered >= hold && !a.setupFailures;
        return [
          name,
          {
            usPerPacket: a.clientCpuUsPerPacket,
            held,
            altOverNative: held && r.delivered >= hold ? round(a.clientCpuUsPerPacket / r.clientCpuUsPerPacket, 2) : null,
          },
        ];
      })
    ),
    overFloorNegotiated: neg ? round((r.clientCpuUsPerPacket * 1000) / neg.recvAndDecryptNsPerPacket, 2) : null,
    overFloorAes128CmSha1_80: cm ? round((r.clientCpuUsPerPacket * 1000) / cm.recvAndDecryptNsPerPacket, 2) : null,
  }));

  if (cfg.recvLatency > 0) {
    log(`- consume() -> first frame over ${cfg.recvLatency} transports (native)`);
    result.latency = await runPhase({ phase: 'recv-latency', client: 'native', clientDir: pkgDir, count: cfg.recvLatency }, (120 + cfg.recvLatency * 5) * 1000);
  }
  if (cfg.consumeCycles > 0) {
    log(`- ${cfg.consumeCycles} consume/close cycles on one receive transport, ${cfg.consumeConcurrency} at a time (native)`);
    result.cycles = await runPhase(
      {
        phase: 'consume-cycles',
        client: 'native',
        clientDir: pkgDir,
        count: cfg.consumeCycles,
        concurrency: cfg.consumeConcurrency,
        warmupCycles: quick ? 10 : 50,
        measureSeconds: quick ? 2 : 5,
        progressSeconds: quick ? 1 : 2,
        serverInProcess: cfg.consumeServerInProcess,
      },
      (180 + cfg.consumeCycles * 0.3) * 1000
    );
    const real = result.cycles;
    if (cfg.consumeControl && real && !real.error && real.cycles > 0) {
      log(`- the control: the same phase with no cycle, as long (native)`);
      result.cyclesControl = await runPhase(
        {
          phase: 'consume-cycles',
          client: 'native',
          clientDir: pkgDir,
          count: real.cycles,
          concurrency: 1,
          warmupCycles: real.warmupCycles,
          measureSeconds: quick ? 2 : 5,
          progressSeconds: quick ? 1 : 2,
          controlMsPerCycle: (real.seconds * 1000) / real.cycles,
          serverInProcess: cfg.consumeServerInProcess,
        },
        (180 + real.seconds * 1.5) * 1000
      );
    }
  }

  const lines = (table, fmt) => {
    const out = ['', 'receive side'];
    const rows = result.load.filter((r) => !r.error);
    if (rows.length) {
      out.push(
        table(rows, [
          ['client', (r) => r.client],
          ['N', (r) => String(r.peers)],
          ['wk', (r) => String(r.workers)],
          ['asked pps', (r) => fmt(r.askedPps, 0)],
          ['received pps', (r) => `${fmt(r.clientPps, 0)}${r.packetsCountedBy === 'client' ? '' : ' (server)'}`],
          ['held', (r) => `${fmt(r.delivered * 100, 1)}%`],
          ['us/pkt', (r) => fmt(r.clientCpuUsPerPacket, 1)],
          ['client cpu', (r) => `${fmt(r.clientCpuShare * 100, 0)}%`],
          ['worker cpu', (r) => `${fmt(r.workerCpuShare * 100, 0)}%`],
          ['other cpu', (r) => `${fmt(r.otherCpuShare * 100, 0)}%`],
          ['frames got/sent', (r) => (r.framesCounted ? `${r.framesGot}/${r.framesExpected}` : '-')],
          ['frames lost', (r) => (r.framesLostShare === null ? '-' : `${fmt(r.framesLostShare * 100, 2)}%`)],
          ['rcvbuf drops', (r) => (r.udpRcvbufDropShare == null ? '-' : `${fmt(r.udpRcvbufDropShare * 100, 1)}%`)],
          ['sndbuf drops', (r) => (r.udpSndbufDropShare == null ? '-' : `${fmt(r.udpSndbufDropShare * 100, 1)}%`)],
          ['RSS MiB', (r) => fmt(r.rssSteadyMiB, 0)],
          ['KiB/peer', (r) => (r.peers >= 10 ? fmt(r.rssPerPeerKiB, 0) : '-')],
        ])
      );
    }
    for (const r of result.load.filter((x) => x.error)) out.push(`  ${r.client} at ${r.peers} peers: failed: ${r.error.slice(0, 300)}`);
    out.push(`limits: ${Object.entries(result.limits).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('; ')}`);
    const f = result.floor;
    if (f && f.profiles) {
      out.push('');
      out.push(`receive floor (one UDP recv + SRTP unprotect, receiving thread CPU; packets ${f.sizes.join('/')} bytes): recv alone ${fmt(f.recvNsPerPacket / 1000, 2)} us`);
      for (const p of f.profiles) out.push(`  ${p.profile}: decrypt ${fmt(p.decryptNsPerPacket / 1000, 2)} us, recv + decrypt ${fmt(p.recvAndDecryptNsPerPacket / 1000, 2)} us per packet`);
      out.push(`  negotiated with mediasoup: ${negotiated || 'unknown'}`);
    } else if (f) out.push(`receive floor: ${f.error}`);
    if (result.ratios.length) {
      out.push('');
      out.push(
        table(result.ratios, [
          ['N', (r) => String(r.peers)],
          ['native us/pkt', (r) => fmt(r.nativeUsPerPacket, 1)],
          ...alternatives.flatMap(({ name }) => [
            [
              `${name} us/pkt`,
              (r) => {
                const v = r.versus[name];
                if (v.notRun) return 'not run';
                if (v.error) return 'failed';
                return v.held ? fmt(v.usPerPacket, 1) : `${fmt(v.usPerPacket, 1)} (not held)`;
              },
            ],
            [`${name}/native`, (r) => fmt(r.versus[name].altOverNative, 2)],
          ]),
          ['native/floor(AES-CM-SHA1-80)', (r) => fmt(r.overFloorAes128CmSha1_80, 1)],
          [`native/floor(${key || 'negotiated'})`, (r) => fmt(r.overFloorNegotiated, 1)],
        ])
      );
    }
    const l = result.latency;
    if (l) {
      out.push('');
      if (l.error) out.push(`consume latency: failed: ${l.error}`);
      else {
        out.push(`consume latency, native, ms over ${l.count} transports (median / p95):`);
        for (const [k, q] of Object.entries(l.ms)) out.push(`  ${k.padEnd(42)} ${fmt(q.median, 1).padStart(7)} / ${fmt(q.p95, 1)}`);
      }
    }
    const c = result.cycles;
    if (c) {
      out.push('');
      if (c.error) out.push(`consume cycles: failed: ${c.error}`);
      else {
        out.push(
          `${c.cycles} of ${c.asked} consume/close cycles on one transport (${c.concurrency} at a time, after ${c.warmupCycles} warm-up), ${c.seconds} s, ${c.failures} failed` +
            (c.firstError ? ` (first: cycle ${c.firstError.cycle}: ${c.firstError.error})` : '')
        );
        const signed = (x) => `${x >= 0 ? '+' : ''}${x}`;
        out.push(`  RSS ${c.before.rssMiB} -> ${c.after.rssMiB} MiB (${signed(c.rssGrowthMiB)}), JS heap used ${c.before.heapMiB} -> ${c.after.heapMiB} MiB, fds ${c.before.fds} -> ${c.after.fds}, threads ${c.before.threads} -> ${c.after.threads}`);
        if (c.outsideHeapGrowthMiB != null) {
          out.push(`  of the RSS: V8's committed JS heap ${c.before.heapTotalMiB} -> ${c.after.heapTotalMiB} MiB, the rest (native) ${signed(c.outsideHeapGrowthMiB)} MiB`);
        }
        if (c.rightAway) {
          const r = c.rightAway;
          out.push(
            `  (measured once V8's allocation window passed; a second after the cycles: RSS ${r.before.rssMiB} -> ${r.after.rssMiB} MiB (${signed(r.rssGrowthMiB)}), V8's heap ${r.before.heapTotalMiB} -> ${r.after.heapTotalMiB} MiB)`
          );
        }
        out.push(
          `  steady consumers (${c.steadyConsumers}): ${fmt(c.steadyStart.cpuUsPerPacket, 1)} us/packet at the start (${c.steadyStart.pps} pps), ${fmt(c.steadyEnd.cpuUsPerPacket, 1)} at the end (${c.steadyEnd.pps} pps): x${fmt(c.steadyGrowth, 2)}`
        );
        const idle = (m) => (m.idleCpuShare == null ? '-' : `${fmt(m.idleCpuShare * 100, 1)}%`);
        out.push(`  CPU with nothing arriving (steady consumers paused on the server): ${idle(c.steadyStart)} of a core at the start, ${idle(c.steadyEnd)} at the end`);
        const k = result.cyclesControl;
        if (k && !k.error) {
          out.push(
            `  the control (no cycle, ${k.seconds} s): RSS ${k.before.rssMiB} -> ${k.after.rssMiB} MiB (${signed(k.rssGrowthMiB)}), V8's heap ${k.before.heapTotalMiB} -> ${k.after.heapTotalMiB} MiB, native ${signed(k.outsideHeapGrowthMiB)} MiB; ` +
              `the cycles' own: RSS ${signed(Math.round((c.rssGrowthMiB - k.rssGrowthMiB) * 10) / 10)} MiB, native ${signed(Math.round((c.outsideHeapGrowthMiB - k.outsideHeapGrowthMiB) * 10) / 10)} MiB`
          );
        }
        out.push(
          table(c.progress, [
            ['cycles', (r) => String(r.cycles)],
            ['ms/cycle', (r) => fmt(r.msPerCycle, 1)],
            ['us/pkt (steady)', (r) => fmt(r.cpuUsPerPacket, 1)],
            ['pps', (r) => fmt(r.pps, 0)],
            ['RSS MiB', (r) => fmt(r.rssMiB, 1)],
            ['V8 heap MiB', (r) => fmt(r.heapTotalMiB, 1)],
            ['fds', (r) => String(r.fds)],
            ['threads', (r) => String(r.threads)],
          ])
        );
      }
    }
    return out;
  };
  return { result, lines };
}

module.exports = { receiveSide };
