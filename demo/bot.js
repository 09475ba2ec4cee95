'use strict';

// A demo bot: a Device and a send transport set up through the demo's HTTP signalling, and a
// producer for each track it is given.

const { Device } = require('..');
const { signaller } = require('./server');

async function startBot({ url, name, tracks, simulcast = false }) {
  const signal = signaller(url);
  const device = new Device();
  await device.load({ routerRtpCapabilities: await signal('getRouterRtpCapabilities') });

  async function openTransport() {
    const transport = device.createSendTransport(await signal('createWebRtcTransport'));
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      signal('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
    });
    transport.on('produce', async ({ kind, rtpParameters, appData }) =>
      signal('produce', { transportId: transport.id, kind, rtpParameters, appData })
    );
    transport.on('producedata', async ({ sctpStreamParameters, label, protocol, appData }) =>
      signal('produceData', { transportId: transport.id, sctpStreamParameters, label, protocol, appData })
    );
    return transport;
  }

  // one transport, and one more for each further video codec (webrtc-rs keeps to the video
  // codec negotiated first on a PeerConnection)
  const transports = new Map();
  const producers = [];
  for (const track of tracks) {
    const key = track.kind === 'video' ? track.codec || 'video' : null;
    let transport = key === null ? [...transports.values()][0] : transports.get(key);
    if (!transport) {
      transport = await openTransport();
      transports.set(key ?? 'audio', transport);
    }
    const encodings =
      simulcast && track.kind === 'video'
        ? [{ maxBitrate: 150000 }, { maxBitrate: 500000 }, { maxBitrate: 1200000 }]
        : undefined;
    const label = `${name} ${track.kind}${track.codec ? ` ${track.codec.split('/')[1]}` : ''}`;
    producers.push(await transport.produce({ track, encodings, appData: { name: label } }));
  }
  // a chat channel on the first transport: what the bot says goes to every data consumer
  const chat = await [...transports.values()][0].produceData({ label: 'chat' });
  const say = (text) => chat.readyState === 'open' && chat.send(text);
  return { producers, chat, say, close: () => transports.forEach((t) => t.close()) };
}

module.exports = { startBot };
