'use strict';

// Pipes ffmpeg into a room: node examples/ffmpeg-rtp.js [--seconds N] [--url URL]
// ffmpeg encodes a test pattern to VP8 and sends it as RTP to a local port that an RTP track
// listens on; the track feeds a producer. Needs ffmpeg (apt-get install ffmpeg).
// URL: the demo server's signalling (`npm run demo` prints it; default http://127.0.0.1:3000).

const { spawn } = require('node:child_process');
const { parseArgs } = require('node:util');
const { Device, createRtpTrack } = require('..');
const { signaller } = require('../demo/server');

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, url: { type: 'string', default: 'http://127.0.0.1:3000' } },
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

  const track = createRtpTrack({ kind: 'video', codec: 'video/VP8' }); // 127.0.0.1, a free port
  await transport.produce({ track, appData: { name: 'ffmpeg' } });
  // prettier-ignore
  const ffmpeg = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '800k', '-g', '60',
    '-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${track.port}`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`ffmpeg pid ${ffmpeg.pid} sends VP8 over RTP to 127.0.0.1:${track.port}`);

  const timer = setInterval(() => {
    const s = track.stats;
    console.log(`received ${s.packetsReceived} RTP packets, forwarded ${s.packetsForwarded} (ssrc ${s.ssrc})`);
  }, 1000);
  const stop = () => {
    clearInterval(timer);
    ffmpeg.kill();
    track.stop(); // closes the port
    transport.close();
  };
  process.once('SIGINT', stop);
  if (values.seconds) setTimeout(stop, Number(values.seconds) * 1000);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
