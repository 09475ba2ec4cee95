'use strict';

// Receiving: a mediasoup router, a bot that plays a file into it, and a consumer of that
// producer whose frames the program reads, in one Node process on 127.0.0.1.
//
//   npm install mediasoup-client-native mediasoup
//   node node_modules/mediasoup-client-native/examples/receive.js [FILE] [--frames N]
//
// FILE is an IVF (VP8, VP9, AV1), Ogg/Opus or H.264 Annex B file (default samples/vp8.ivf).
// The program prints the first N frames it receives (default 60), then closes everything.
// The server side is what a signalling server does for each request; here the program calls
// it directly instead of over a WebSocket.

const path = require('node:path');
const { parseArgs } = require('node:util');
const mediasoup = require('mediasoup');
const { Device, createFileTrack } = require('..');

const { values, positionals } = parseArgs({
  options: { frames: { type: 'string', default: '60' } },
  allowPositionals: true,
});
const file = positionals[0] ?? path.join(__dirname, '..', 'samples', 'vp8.ivf');

// A client transport of `direction` wired to a new server WebRtcTransport of `router`.
async function openTransport(router, device, direction) {
  const serverTransport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  const options = {
    id: serverTransport.id,
    iceParameters: serverTransport.iceParameters,
    iceCandidates: serverTransport.iceCandidates,
    dtlsParameters: serverTransport.dtlsParameters,
  };
  const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  return { transport, serverTransport };
}

async function main() {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
      { kind: 'video', mimeType: 'video/VP9', clockRate: 90000 },
      { kind: 'video', mimeType: 'video/AV1', clockRate: 90000 },
      {
        kind: 'video',
        mimeType: 'video/H264',
        clockRate: 90000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
      },
    ],
  });
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });

  // a producer playing the file
  const send = await openTransport(router, device, 'send');
  send.transport.on('produce', async ({ kind, rtpParameters, appData }) => {
    const producer = await send.serverTransport.produce({ kind, rtpParameters, appData });
    return { id: producer.id };
  });
  const track = await createFileTrack(file, { loop: true });
  const producer = await send.transport.produce({ track });

  // a consumer of it: the server consumer paused, the client's consume(), then resume (RTP
  // the server sends before consume() resolves is lost)
  const recv = await openTransport(router, device, 'recv');
  const serverConsumer = await recv.serverTransport.consume({
    producerId: producer.id,
    rtpCapabilities: device.rtpCapabilities,
    paused: true,
  });
  const consumer = await recv.transport.consume({
    id: serverConsumer.id,
    producerId: producer.id,
    kind: serverConsumer.kind,
    rtpParameters: serverConsumer.rtpParameters,
  });
  await serverConsumer.resume();
  console.log(`consuming ${path.basename(file)} (${consumer.track.codec.mimeType}) as consumer ${consumer.id}`);

  let count = 0;
  for await (const frame of consumer.track.frames()) {
    const layer = frame.spatialLayer !== undefined || frame.temporalLayer !== undefined
      ? ` layer S${frame.spatialLayer ?? 0}T${frame.temporalLayer ?? 0}`
      : '';
    console.log(
      `frame ${count}: ${frame.data.length} bytes at ${(frame.timestamp / 1000).toFixed(1)} ms` +
        `${frame.keyframe ? ' keyframe' : ''}${layer}${frame.gapBefore ? ' (after a gap)' : ''}`
    );
    if (++count >= Number(values.frames)) break; // leaving the loop stops reading
  }
  const stats = consumer.track.stats();
  console.log(`received ${stats.frames} frames in ${stats.packets} packets (${stats.bytes} bytes), ${stats.packetsLost} lost`);

  send.transport.close(); // stops the file track (stopTracks), as mediasoup-client does
  recv.transport.close(); // closes the consumer and ends its track
  worker.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
