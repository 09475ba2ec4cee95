'use strict';

// Plays a file into a room: node examples/play-file.js [FILE] [--loop] [--url URL]
// FILE: IVF (VP8, VP9, AV1), Ogg/Opus or H.264 Annex B (default: samples/vp8.ivf).
// URL: the demo server's signalling (`npm run demo` prints it; default http://127.0.0.1:3000).
// In your own program: require('mediasoup-client-native') and your own signalling.

const path = require('node:path');
const { parseArgs } = require('node:util');
const { Device, createFileTrack } = require('..');
const { signaller } = require('../demo/server');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { loop: { type: 'boolean', default: false }, url: { type: 'string', default: 'http://127.0.0.1:3000' } },
});

async function main() {
  const signal = signaller(values.url);
  const device = new Device();
  await device.load({ routerRtpCapabilities: await signal('getRouterRtpCapabilities') });
  const transport = device.createSendTransport(await signal('createWebRtcTransport'));
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }) =>
    signal('produce', { transportId: transport.id, kind, rtpParameters, appData })
  );

  const file = positionals[0] ?? path.join(__dirname, '..', 'samples', 'vp8.ivf');
  const track = await createFileTrack(file, { loop: values.loop });
  // produce() picks the router's codec of the file's codec (track.codec)
  const producer = await transport.produce({ track, appData: { name: `file ${path.basename(file)}` } });
  console.log(`playing ${file} (${track.codec}) as producer ${producer.id}`);

  track.on('ended', async () => {
    const stats = [...(await producer.getStats()).values()].find((s) => s.type === 'outbound-rtp');
    console.log(track.error ? `stopped: ${track.error.message}` : `end of file: ${stats?.packetsSent} packets sent`);
    transport.close();
  });
  process.once('SIGINT', () => transport.close());
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
