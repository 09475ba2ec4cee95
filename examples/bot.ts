// A minimal bot: joins a mediasoup router and sends VP8 video that it encodes itself.
// `signal(method, data)` stands for your own signalling to the server (WebSocket, HTTP, ...).
import { Device, createTrack, type RtpCapabilities, type TransportOptions } from 'mediasoup-client-native';

declare function signal(method: 'getRouterRtpCapabilities'): Promise<RtpCapabilities>;
declare function signal(method: 'createWebRtcTransport'): Promise<TransportOptions>;
declare function signal(method: 'connectWebRtcTransport', data: object): Promise<void>;
declare function signal(method: 'produce', data: object): Promise<{ id: string }>;
declare function nextVp8Frame(): { data: Buffer; keyframe: boolean };

export async function runBot(): Promise<void> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: await signal('getRouterRtpCapabilities') });
  if (!device.canProduce('video')) throw new Error('the router cannot take video');

  const transport = device.createSendTransport(await signal('createWebRtcTransport'));
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', async ({ kind, rtpParameters, appData }) =>
    signal('produce', { transportId: transport.id, kind, rtpParameters, appData })
  );
  transport.on('connectionstatechange', (state) => console.log('transport', state));

  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track, appData: { name: 'bot-camera' } });
  track.on('keyframerequest', (layer, reason) => console.log('keyframe wanted:', reason));

  // 30 frames per second, with timestamps in microseconds
  let timestamp = 0;
  const timer = setInterval(() => {
    const frame = nextVp8Frame();
    track.writeFrame(frame.data, { timestamp, keyframe: frame.keyframe });
    timestamp += 33_333;
  }, 33);

  producer.on('transportclose', () => clearInterval(timer));
  const stats = await producer.getStats();
  for (const report of stats.values()) {
    if (report.type === 'outbound-rtp') console.log('sent', report.packetsSent, 'packets');
  }
}
