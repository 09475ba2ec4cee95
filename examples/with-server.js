'use strict';

// A complete program: a mediasoup router and a bot in one Node process, on 127.0.0.1.
//
//   npm install mediasoup-client-native mediasoup
//   node node_modules/mediasoup-client-native/examples/with-server.js [--seconds N]
//
// The server side is what a signalling server does for each request of the bot; here the bot
// calls it directly instead of over a WebSocket. The bot plays samples/vp8.ivf and
// samples/opus.ogg, and the program prints what the server receives, then closes everything.

const path = require('node:path');
const { parseArgs } = require('node:util');
const mediasoup = require('mediasoup');
const { Device, createFileTrack } = require('..');

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const samples = path.join(__dirname, '..', 'samples');

async function main() {
  // the server: a worker, a router, a WebRtcTransport for the bot
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
    ],
  });
  const serverTransport = await router.createWebRtcTransport({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
  });

  // the bot, exactly as with mediasoup-client
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
  const serverProducers = [];
  transport.on('produce', async ({ kind, rtpParameters, appData }) => {
    const producer = await serverTransport.produce({ kind, rtpParameters, appData });
    serverProducers.push(producer);
    return { id: producer.id };
  });

  const video = await createFileTrack(path.join(samples, 'vp8.ivf'), { loop: true });
  const audio = await createFileTrack(path.join(samples, 'opus.ogg'), { loop: true });
  await transport.produce({ track: video, appData: { source: 'vp8.ivf' } });
  await transport.produce({ track: audio, appData: { source: 'opus.ogg' } });

  await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
  for (const producer of serverProducers) {
    const stats = await producer.getStats();
    const packets = stats.reduce((n, s) => n + s.packetCount, 0);
    const score = stats.map((s) => s.score).join(',');
    console.log(`server producer ${producer.kind} (${producer.appData.source}): ${packets} packets, score ${score}`);
  }

  transport.close(); // stops the tracks (stopTracks), as mediasoup-client does
  worker.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
