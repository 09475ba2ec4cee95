// A mediasoup server and a mediasoup-client bot in one program, each typed by its own package:
// the bot was written for mediasoup-client and runs in Node by changing only the import of
// 'mediasoup-client' to 'mediasoup-client-native' (and giving it a track of this package).
// Values go from the server's typed API to the bot's and back, so `tsc --strict` checks that
// the two packages' types fit (__test__/types.test.js). `receive()` is the other direction: a
// bot consuming a producer of the server and reading its frames.
import * as mediasoup from 'mediasoup';
import { Device, types } from 'mediasoup-client-native';

/** What the bot sends: a MediaStreamTrack in a browser, a Track of this package in Node. */
export type BotTrack = NonNullable<types.ProducerOptions['track']>;

const mediaCodecs: mediasoup.types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

export async function startRouter(): Promise<mediasoup.types.Router> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  return worker.createRouter({ mediaCodecs });
}

// The server's answer to the bot's request for a transport (what signalling would carry).
async function createTransport(
  router: mediasoup.types.Router,
  sctpCapabilities: types.SctpCapabilities
): Promise<{ transport: mediasoup.types.WebRtcTransport; options: types.TransportOptions }> {
  const transport = await router.createWebRtcTransport({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
    enableSctp: true,
    numSctpStreams: sctpCapabilities.numStreams,
  });
  const options: types.TransportOptions = {
    id: transport.id,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates,
    dtlsParameters: transport.dtlsParameters,
    sctpParameters: transport.sctpParameters,
  };
  return { transport, options };
}

// The server's handler of the bot's `connect` request.
async function onConnect(
  transport: mediasoup.types.WebRtcTransport,
  dtlsParameters: types.DtlsParameters
): Promise<void> {
  const algorithms: types.FingerprintAlgorithm[] = dtlsParameters.fingerprints.map(({ algorithm }) => algorithm);
  console.log('bot fingerprints:', algorithms.join(', '));
  await transport.connect({ dtlsParameters });
}

/** Joins `router` as a bot sending `track`; resolves with the bot's producer. */
export async function runBot(router: mediasoup.types.Router, track: BotTrack): Promise<types.Producer> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });
  if (!device.canProduce('video')) throw new Error('the router takes no video');

  const { transport: serverTransport, options } = await createTransport(router, device.sctpCapabilities);
  const candidates: types.IceCandidate[] = serverTransport.iceCandidates;
  console.log('server at', candidates.map(({ ip, port }) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)));

  const transport: types.Transport = device.createSendTransport(options);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    onConnect(serverTransport, dtlsParameters).then(callback, errback);
  });
  transport.on('produce', async ({ kind, rtpParameters, appData }, callback, errback) => {
    try {
      const producer = await serverTransport.produce({ kind, rtpParameters, appData });
      callback({ id: producer.id });
    } catch (error) {
      errback(error as Error);
    }
  });
  transport.on('connectionstatechange', (state: types.ConnectionState) => {
    if (state === 'failed') transport.close();
  });
  transport.observer.on('newproducer', (producer: types.Producer) => console.log('producing', producer.kind));

  const producerOptions: types.ProducerOptions = {
    track,
    encodings: [{ maxBitrate: 500_000 }],
    codecOptions: { videoGoogleStartBitrate: 1000 },
    appData: { source: 'bot' },
  };
  const producer = await transport.produce(producerOptions);
  producer.on('transportclose', () => console.log('transport closed'));

  // What the bot can receive, asked of the server in its own types.
  const rtpCapabilities: types.RtpCapabilities = device.rtpCapabilities;
  if (!router.canConsume({ producerId: producer.id, rtpCapabilities })) {
    throw new Error('the bot could not consume its own producer');
  }
  // The bot's parameters as the server types them (to log, record or compare them).
  const sent: mediasoup.types.RtpParameters = producer.rtpParameters;
  const uris: types.RtpHeaderExtensionUri[] = (sent.headerExtensions ?? []).map(({ uri }) => uri);
  console.log('header extensions:', uris.join(', '));
  return producer;
}

/**
 * Joins `router` as a bot receiving `producerId`: a receive transport, a consumer made as an
 * application makes it (the server consumer paused, the client's consume(), then resume), and
 * its first `count` frames. Resolves with their sizes.
 */
export async function receive(router: mediasoup.types.Router, producerId: string, count: number): Promise<number[]> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });
  const { transport: serverTransport, options } = await createTransport(router, device.sctpCapabilities);
  const transport: types.Transport = device.createRecvTransport(options);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    onConnect(serverTransport, dtlsParameters).then(callback, errback);
  });

  const serverConsumer: mediasoup.types.Consumer = await serverTransport.consume({
    producerId,
    rtpCapabilities: device.rtpCapabilities,
    paused: true,
  });
  const consumerOptions: types.ConsumerOptions<{ source: string }> = {
    id: serverConsumer.id,
    producerId: serverConsumer.producerId,
    kind: serverConsumer.kind,
    rtpParameters: serverConsumer.rtpParameters,
    appData: { source: 'bot' },
  };
  const consumer: types.Consumer<{ source: string }> = await transport.consume(consumerOptions);
  await serverConsumer.resume();
  consumer.on('transportclose', () => console.log('transport closed'));
  consumer.observer.on('pause', () => console.log('consumer paused (locally)'));

  const track: types.RemoteTrack = consumer.track;
  console.log(`consuming ${track.codec.mimeType} from ${consumer.appData.source}`);
  const sizes: number[] = [];
  for await (const frame of track.frames()) {
    const received: types.ReceivedFrame = frame;
    if (received.gapBefore && !received.keyframe) track.requestKeyFrame();
    sizes.push(received.data.length);
    if (sizes.length >= count) break;
  }
  const stats: types.RemoteTrackStats = track.stats();
  console.log(`${stats.frames} frames, ${stats.packetsLost} packets lost`);
  transport.close();
  return sizes;
}

/**
 * Data channels both ways through `router`: a bot's DataProducer, the server's DataProducer
 * for it (`producedata`), and a second bot's DataConsumer of that (the server DataConsumer
 * paused until the client's consumeData() resolved). Resolves with what the second bot read.
 */
export async function chat(router: mediasoup.types.Router, lines: string[]): Promise<string[]> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });

  const sending = await createTransport(router, device.sctpCapabilities);
  const sendTransport: types.Transport = device.createSendTransport(sending.options);
  sendTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
    onConnect(sending.transport, dtlsParameters).then(callback, errback);
  });
  sendTransport.on('producedata', async ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
    try {
      const dataProducer: mediasoup.types.DataProducer = await sending.transport.produceData({
        sctpStreamParameters,
        label,
        protocol,
        appData,
      });
      callback({ id: dataProducer.id });
    } catch (error) {
      errback(error as Error);
    }
  });
  const dataProducerOptions: types.DataProducerOptions<{ room: string }> = {
    label: 'chat',
    ordered: true,
    appData: { room: 'lobby' },
  };
  const dataProducer: types.DataProducer<{ room: string }> = await sendTransport.produceData(dataProducerOptions);

  const receiving = await createTransport(router, device.sctpCapabilities);
  const recvTransport: types.Transport = device.createRecvTransport(receiving.options);
  recvTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
    onConnect(receiving.transport, dtlsParameters).then(callback, errback);
  });
  const serverDataConsumer: mediasoup.types.DataConsumer = await receiving.transport.consumeData({
    dataProducerId: dataProducer.id,
    paused: true,
  });
  const dataConsumerOptions: types.DataConsumerOptions = {
    id: serverDataConsumer.id,
    dataProducerId: serverDataConsumer.dataProducerId,
    sctpStreamParameters: serverDataConsumer.sctpStreamParameters!,
    label: serverDataConsumer.label,
    protocol: serverDataConsumer.protocol,
  };
  const dataConsumer: types.DataConsumer = await recvTransport.consumeData(dataConsumerOptions);
  await serverDataConsumer.resume();

  const state: types.DataChannelReadyState = dataProducer.readyState;
  if (state !== 'open') await new Promise<void>((resolve) => dataProducer.once('open', () => resolve()));
  for (const line of lines) dataProducer.send(line);
  const read: string[] = [];
  for await (const message of dataConsumer.messages()) {
    read.push(typeof message === 'string' ? message : Buffer.from(message as ArrayBuffer).toString());
    if (read.length === lines.length) break;
  }
  sendTransport.close();
  recvTransport.close();
  return read;
}
