'use strict';

// A demo bot that receives: a Device and a receive transport set up through the demo's HTTP
// signalling, and a consumer for each producer it is given, made as an application makes
// them: the server consumer created paused, `transport.consume()` with its parameters, then
// the server consumer resumed. It counts the frames each consumer's track delivers.

const { Device } = require('..');
const { signaller } = require('./server');

// What one consumer received: the counts since the last `take()` and since the start.
class Counter {
  constructor(consumer, name) {
    this.consumer = consumer;
    this.name = name;
    this.codec = consumer.track.codec.mimeType;
    this.interval = Counter.zero();
    this.total = Counter.zero();
    this.layer = null;
    this.consumedAt = performance.now();
    this.firstFrameMs = null;
  }

  static zero() {
    return { frames: 0, keyframes: 0, bytes: 0, gaps: 0 };
  }

  add(frame) {
    if (this.firstFrameMs === null) this.firstFrameMs = performance.now() - this.consumedAt;
    for (const counts of [this.interval, this.total]) {
      counts.frames++;
      if (frame.keyframe) counts.keyframes++;
      counts.bytes += frame.data.length;
      if (frame.gapBefore) counts.gaps++;
    }
    if (frame.spatialLayer !== undefined || frame.temporalLayer !== undefined) {
      this.layer = `S${frame.spatialLayer ?? 0}T${frame.temporalLayer ?? 0}`;
    }
  }

  // The counts since the previous call.
  take() {
    const counts = this.interval;
    this.interval = Counter.zero();
    return counts;
  }
}

// Joins the router at `url` as a receiver named `name` and consumes the producers of ids
// `producerIds`, and the data producer `dataProducerId` (its messages are counted, the last one
// kept). Resolves once every consumer is set up.
async function startReceiver({ url, name, producerIds, dataProducerId }) {
  const signal = signaller(url);
  const device = new Device();
  await device.load({ routerRtpCapabilities: await signal('getRouterRtpCapabilities') });

  const transport = device.createRecvTransport(await signal('createWebRtcTransport'));
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });

  const counters = [];
  for (const producerId of producerIds) {
    const params = await signal('consume', {
      transportId: transport.id,
      producerId,
      rtpCapabilities: device.rtpCapabilities,
    });
    const consumer = await transport.consume({
      id: params.id,
      producerId: params.producerId,
      kind: params.kind,
      rtpParameters: params.rtpParameters,
      appData: params.appData,
    });
    const counter = new Counter(consumer, (params.appData && params.appData.name) || params.producerId.slice(0, 8));
    consumer.track.on('frame', (frame) => {
      counter.add(frame);
      // counted: its memory may hold the next frames
      frame.release();
    });
    counters.push(counter);
    // the client is ready for its RTP: the server may send it now
    await signal('resumeConsumer', { consumerId: consumer.id });
  }
  const chat = { messages: 0, last: null };
  if (dataProducerId) {
    const params = await signal('consumeData', { transportId: transport.id, dataProducerId });
    const dataConsumer = await transport.consumeData(params);
    dataConsumer.on('message', (message) => {
      chat.messages++;
      chat.last = message;
    });
    await signal('resumeDataConsumer', { dataConsumerId: dataConsumer.id });
  }
  return { name, transport, counters, chat, close: () => transport.close() };
}

module.exports = { startReceiver };
