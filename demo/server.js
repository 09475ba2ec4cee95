'use strict';

// The demo's server side: a real mediasoup worker and router on 127.0.0.1, and a small HTTP
// signalling API that bots (demo/bot.js, examples/) use as a real application would use its
// own signalling:
//
//   GET  /routerRtpCapabilities                     -> the router's RTP capabilities
//   POST /transports                                -> { id, iceParameters, iceCandidates, dtlsParameters }
//   POST /transports/:id/connect  { dtlsParameters } -> {}
//   POST /transports/:id/produce  { kind, rtpParameters, appData } -> { id }
//   POST /transports/:id/consume  { producerId, rtpCapabilities }
//                                 -> { id, producerId, kind, rtpParameters, appData } (paused)
//   POST /consumers/:id/resume                      -> {}
//
// A consumer is created paused: the client resumes it once its transport.consume() resolved
// (RTP the server sends before the client's answer is set is lost).
//
// `producerStats()` gives what the server sees of each producer (packets, bitrate, score).

const http = require('node:http');
const { loadMediasoup, routerMediaCodecs } = require('../scripts/mediasoup-server');

async function startDemoServer({ port = 3000 } = {}) {
  const mediasoup = loadMediasoup();
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const transports = new Map();
  const producers = new Map();
  const consumers = new Map();
  const dataProducers = new Map();
  const dataConsumers = new Map();

  const routes = {
    'GET /routerRtpCapabilities': async () => router.rtpCapabilities,
    'POST /transports': async () => {
      const t = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }], enableSctp: true });
      transports.set(t.id, t);
      t.observer.once('close', () => transports.delete(t.id));
      // a client that closes its transport ends DTLS: its producers go with it
      t.on('dtlsstatechange', (state) => (state === 'closed' || state === 'failed') && t.close());
      return {
        id: t.id,
        iceParameters: t.iceParameters,
        iceCandidates: t.iceCandidates,
        dtlsParameters: t.dtlsParameters,
        sctpParameters: t.sctpParameters,
      };
    },
    'POST /transports/:id/connect': async (t, { dtlsParameters }) => {
      await t.connect({ dtlsParameters });
      return {};
    },
    'POST /transports/:id/produce': async (t, { kind, rtpParameters, appData }) => {
      const producer = await t.produce({ kind, rtpParameters, appData });
      producers.set(producer.id, producer);
      producer.observer.once('close', () => producers.delete(producer.id));
      return { id: producer.id };
    },
    'POST /transports/:id/consume': async (t, { producerId, rtpCapabilities }) => {
      if (!router.canConsume({ producerId, rtpCapabilities })) throw new Error(`cannot consume producer ${producerId}`);
      const consumer = await t.consume({ producerId, rtpCapabilities, paused: true });
      consumers.set(consumer.id, consumer);
      consumer.observer.once('close', () => consumers.delete(consumer.id));
      const { appData } = producers.get(producerId);
      return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, appData };
    },
    'POST /consumers/:id/resume': async (consumer) => {
      await consumer.resume();
      return {};
    },
    'POST /transports/:id/produceData': async (t, { sctpStreamParameters, label, protocol, appData }) => {
      const dataProducer = await t.produceData({ sctpStreamParameters, label, protocol, appData });
      dataProducers.set(dataProducer.id, dataProducer);
      dataProducer.observer.once('close', () => dataProducers.delete(dataProducer.id));
      return { id: dataProducer.id };
    },
    'POST /transports/:id/consumeData': async (t, { dataProducerId }) => {
      const dataConsumer = await t.consumeData({ dataProducerId, paused: true });
      dataConsumers.set(dataConsumer.id, dataConsumer);
      dataConsumer.observer.once('close', () => dataConsumers.delete(dataConsumer.id));
      const { sctpStreamParameters, label, protocol } = dataConsumer;
      return { id: dataConsumer.id, dataProducerId, sctpStreamParameters, label, protocol };
    },
    'POST /dataConsumers/:id/resume': async (dataConsumer) => {
      await dataConsumer.resume();
      return {};
    },
  };

  const httpServer = http.createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const match = /^\/(transports|consumers|dataConsumers)\/([^/]+)\/(connect|produce|consume|produceData|consumeData|resume)$/.exec(
        req.url
      );
      const route = routes[`${req.method} ${match ? `/${match[1]}/:id/${match[3]}` : req.url}`];
      if (!route) return reply(404, { error: `no route ${req.method} ${req.url}` });
      let body = '';
      for await (const chunk of req) body += chunk;
      const data = body ? JSON.parse(body) : {};
      if (match) {
        const target = { transports, consumers, dataConsumers }[match[1]].get(match[2]);
        if (!target) return reply(404, { error: `no ${match[1].slice(0, -1)} ${match[2]}` });
        return reply(200, await route(target, data));
      }
      return reply(200, await route(data));
    } catch (error) {
      return reply(500, { error: String(error && error.message) });
    }
  });
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${httpServer.address().port}`;

  // What the server sees of each producer: packets, bitrate (bps) and score, per stream summed.
  async function producerStats() {
    return Promise.all(
      [...producers.values()].map(async (p) => {
        const stats = await p.getStats().catch(() => []);
        return {
          id: p.id,
          kind: p.kind,
          name: (p.appData && p.appData.name) || p.id.slice(0, 8),
          codec: p.rtpParameters.codecs[0].mimeType,
          streams: stats.length,
          packets: stats.reduce((n, s) => n + s.packetCount, 0),
          bitrate: stats.reduce((n, s) => n + s.bitrate, 0),
          score: p.score.map((s) => s.score),
        };
      })
    );
  }

  function close() {
    httpServer.close();
    httpServer.closeAllConnections?.();
    worker.close();
  }

  return { mediasoup, worker, router, url, producerStats, close };
}

// The client side of that API: `signal(method, data)` as the README's bot calls it.
function signaller(url) {
  const call = async (method, path, data) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    return body;
  };
  return async function signal(method, data = {}) {
    switch (method) {
      case 'getRouterRtpCapabilities':
        return call('GET', '/routerRtpCapabilities');
      case 'createWebRtcTransport':
        return call('POST', '/transports', {});
      case 'connectWebRtcTransport':
        return call('POST', `/transports/${data.transportId}/connect`, { dtlsParameters: data.dtlsParameters });
      case 'produce':
        return call('POST', `/transports/${data.transportId}/produce`, data);
      case 'consume':
        return call('POST', `/transports/${data.transportId}/consume`, {
          producerId: data.producerId,
          rtpCapabilities: data.rtpCapabilities,
        });
      case 'resumeConsumer':
        return call('POST', `/consumers/${data.consumerId}/resume`, {});
      case 'produceData':
        return call('POST', `/transports/${data.transportId}/produceData`, data);
      case 'consumeData':
        return call('POST', `/transports/${data.transportId}/consumeData`, { dataProducerId: data.dataProducerId });
      case 'resumeDataConsumer':
        return call('POST', `/dataConsumers/${data.dataConsumerId}/resume`, {});
      default:
        throw new Error(`unknown signalling method ${method}`);
    }
  };
}

module.exports = { startDemoServer, signaller };
