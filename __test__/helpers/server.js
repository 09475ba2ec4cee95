'use strict';

// The real mediasoup server next to a test: a worker and a router with opus, VP8, VP9, H264 and
// AV1, WebRtcTransports listening on 127.0.0.1 only, and what a test needs to see the server's
// side (producer stats, a DirectTransport consumer to read RTP back, closing a transport).

const { Device } = require('../..');
const { loadMediasoup, routerMediaCodecs } = require('../../scripts/mediasoup-server');

// A started server and a Device loaded with its router's capabilities, as most test files need
// them in before(). The caller closes the server.
async function startServerAndDevice() {
  const server = await startServer();
  const device = new Device();
  await device.load({ routerRtpCapabilities: server.router.rtpCapabilities });
  return { server, device };
}

// Starts a worker and a router. Call `close()` (e.g. in `after()`): it closes the worker, and
// with it every transport; no process is left behind.
async function startServer({ logLevel = 'warn' } = {}) {
  const mediasoup = loadMediasoup();
  const worker = await mediasoup.createWorker({ logLevel, rtcMinPort: 40000, rtcMaxPort: 49999 });
  const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
  const transports = new Map();

  // A server WebRtcTransport on 127.0.0.1 (or `ip`, a loopback address; on `on`, the test
  // router by default) and the options a client's createSendTransport takes. `sctpSendBufferSize`
  // is mediasoup's (what it drops beyond, per transport, towards its data consumers).
  async function createWebRtcTransport({ enableSctp = false, sctpSendBufferSize, on = router, ip = '127.0.0.1' } = {}) {
    const transport = await on.createWebRtcTransport({
      listenInfos: [{ protocol: 'udp', ip }],
      enableSctp,
      ...(sctpSendBufferSize ? { sctpSendBufferSize } : {}),
    });
    transports.set(transport.id, transport);
    return {
      transport,
      clientOptions: {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
        sctpParameters: transport.sctpParameters,
      },
    };
  }

  // Wires a client transport's `connect` and `produce` events to the server transport, as a
  // signalling server would. The server producers are pushed to `serverProducers`, in order,
  // after `onServerProducer(producer)` resolved (before the client's produce() gets the id,
  // so before any media flows); the DTLS parameters of each `connect` go to `connects`.
  function wireSendTransport(clientTransport, serverTransport, { onServerProducer } = {}) {
    const serverProducers = [];
    const connects = [];
    clientTransport.on('connect', ({ dtlsParameters }, callback, errback) => {
      connects.push(dtlsParameters);
      serverTransport.connect({ dtlsParameters }).then(callback, errback);
    });
    clientTransport.on('produce', async ({ kind, rtpParameters, appData }) => {
      const producer = await serverTransport.produce({ kind, rtpParameters, appData });
      if (onServerProducer) await onServerProducer(producer);
      serverProducers.push(producer);
      return { id: producer.id };
    });
    return { serverProducers, connects };
  }

  // A client send transport of `device`, wired to a fresh server transport (on `on`), closed
  // when test `t` ends. `clientOptions(options)` may rewrite what the client is given (e.g.
  // candidates through a relay).
  async function sendTransport(t, device, { on, ip, onServerProducer, clientOptions: rewrite = (o) => o } = {}) {
    const { transport: serverTransport, clientOptions } = await createWebRtcTransport({ on, ip });
    const transport = device.createSendTransport(await rewrite(clientOptions, serverTransport));
    const { serverProducers, connects } = wireSendTransport(transport, serverTransport, { onServerProducer });
    t.after(() => transport.close());
    return { transport, serverTransport, serverProducers, connects };
  }

  // A DirectTransport consumer of a server producer: every RTP packet the server forwards is
  // handed to `onRtp(packet: Buffer)`.
  async function consumeDirect(producer, onRtp) {
    const direct = await router.createDirectTransport();
    const consumer = await direct.consume({
      producerId: producer.id,
      rtpCapabilities: router.rtpCapabilities,
    });
    consumer.on('rtp', onRtp);
    return { direct, consumer };
  }

  function close() {
    worker.close();
  }

  return { mediasoup, worker, router, createWebRtcTransport, wireSendTransport, sendTransport, consumeDirect, close };
}

// Sum of a server producer's stats over its streams.
async function producerCounters(producer) {
  const stats = await producer.getStats();
  return {
    streams: stats.length,
    packets: stats.reduce((n, s) => n + s.packetCount, 0),
    bytes: stats.reduce((n, s) => n + s.byteCount, 0),
    scores: stats.map((s) => s.score),
    byRid: Object.fromEntries(stats.map((s) => [s.rid ?? String(s.ssrc), s])),
  };
}

// Waits until the server producer's packet count grows by `packets` from now.
async function serverReceives(serverProducer, { packets = 20, timeout = 5000 } = {}) {
  const start = (await producerCounters(serverProducer)).packets;
  return until(
    async () => {
      const c = await producerCounters(serverProducer);
      return c.packets >= start + packets && c;
    },
    { timeout, what: `${packets} more packets at the server` }
  );
}

// Waits until the server producer's counters stop moving (packets in flight may still land
// after the client stops), then checks that they stay still for `window` ms more while the
// test keeps writing. Resolves with the settled counters; fails if the media never stops.
async function serverStops(serverProducer, { window = 500, timeout = 5000 } = {}) {
  let last = -1;
  const settled = await until(
    async () => {
      const c = await producerCounters(serverProducer);
      const same = c.packets === last;
      last = c.packets;
      return same && c;
    },
    { interval: 300, timeout, what: 'the server packet counter to stop' }
  );
  // no event tells that nothing arrives: this window is the observation itself
  await new Promise((resolve) => setTimeout(resolve, window));
  const after = await producerCounters(serverProducer);
  if (after.packets !== settled.packets || after.bytes !== settled.bytes) {
    throw new Error(`the server still receives: ${settled.packets} -> ${after.packets} packets`);
  }
  return settled;
}

// Polls `check` (which may be async) until it returns a truthy value, or fails after `timeout`
// ms with `what` in the message. For server-side counters, which have no event to wait on.
async function until(check, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

module.exports = { startServer, startServerAndDevice, producerCounters, serverReceives, serverStops, until };
