'use strict';

// npm run demo [-- --seconds N] [--producers N] [--simulcast]
//
// Starts a real mediasoup worker and router on 127.0.0.1, connects N bots (each a send
// transport with a VP8 video producer and an Opus audio producer fed with generated frames),
// and prints once a second what the server sees for each producer. Ctrl-C stops cleanly.

const { parseArgs } = require('node:util');
const { Device, createTrack } = require('..');
const { loadMediasoup } = require('../scripts/mediasoup-server');
const { feed } = require('./frames');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string' },
    producers: { type: 'string', default: '1' },
    simulcast: { type: 'boolean', default: false },
  },
});

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

async function startBot(router, index) {
  const serverTransport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });
  const transport = device.createSendTransport({
    id: serverTransport.id,
    iceParameters: serverTransport.iceParameters,
    iceCandidates: serverTransport.iceCandidates,
    dtlsParameters: serverTransport.dtlsParameters,
  });
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  const producers = [];
  transport.on('produce', async ({ kind, rtpParameters, appData }) => {
    const producer = await serverTransport.produce({ kind, rtpParameters, appData });
    producers.push(producer);
    return { id: producer.id };
  });
  const layers = args.simulcast ? 3 : 1;
  const video = createTrack({ kind: 'video' });
  const audio = createTrack({ kind: 'audio' });
  await transport.produce({
    track: video,
    encodings: args.simulcast ? [{ maxBitrate: 150000 }, { maxBitrate: 500000 }, { maxBitrate: 1200000 }] : undefined,
    appData: { bot: index },
  });
  await transport.produce({ track: audio, appData: { bot: index } });
  const feeders = [feed(video, { fps: 30, layers }), feed(audio, { fps: 50 })];
  return { transport, producers, stop: () => feeders.forEach((f) => f.stop()) };
}

async function main() {
  const mediasoup = loadMediasoup();
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const router = await worker.createRouter({ mediaCodecs });
  const count = Math.max(1, Number(args.producers) || 1);
  console.log(`mediasoup ${mediasoup.version} worker pid ${worker.pid}; starting ${count} bot(s)...`);

  const bots = [];
  for (let i = 0; i < count; i++) bots.push(await startBot(router, i));
  const started = Date.now();

  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    for (const bot of bots) {
      bot.stop();
      bot.transport.close();
    }
    worker.close();
    process.exitCode = code;
  };
  process.once('SIGINT', () => stop(0));

  const timer = setInterval(async () => {
    const lines = [];
    let total = 0;
    for (const [i, bot] of bots.entries()) {
      const producers = await Promise.all(bot.producers.map(async (p) => [p, await p.getStats()]));
      for (const [p, stats] of producers) {
        const packets = stats.reduce((n, s) => n + s.packetCount, 0);
        const bitrate = stats.reduce((n, s) => n + s.bitrate, 0);
        const score = stats.map((s) => s.score).join('/');
        total += packets;
        if (bots.length <= 4) lines.push(`  bot ${i} ${p.kind}: ${packets} packets, ${(bitrate / 1000).toFixed(0)} kbps, score ${score}`);
      }
    }
    const elapsed = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`[${elapsed}s] server received ${total} packets from ${bots.length} bot(s)`);
    for (const line of lines) console.log(line);
    if (args.seconds && Date.now() - started >= Number(args.seconds) * 1000) stop(total > 0 ? 0 : 1);
  }, 1000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
