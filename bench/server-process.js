'use strict';

// The benchmark's mediasoup server (bench/server.js) in a process of its own, for the phases
// that measure the client's CPU or memory: the server's Node side (its objects per transport
// and per consumer, its channel messages, their garbage collection) then runs in that process,
// not in the client's, as it would on a real signalling server. `startRemoteServer()`
// resolves with the part of startServer()'s surface that bench/recv-phases.js uses; each
// method is one request to the child, whose server objects stay there, named by their id.
//
// As a child: `node bench/server-process.js` (forked with IPC) runs startServer() and answers.

const path = require('node:path');
const { fork } = require('node:child_process');

if (require.main === module) serve();

// The child: the server's objects by id, and one handler per request.
function serve() {
  const { startServer } = require('./server');
  const transports = new Map();
  const consumers = new Map();
  let server = null;
  const handlers = {
    async start({ workers }) {
      server = await startServer({ workers });
      return { routerRtpCapabilities: server.routerRtpCapabilities, workerPids: server.workers.map((w) => w.worker.pid) };
    },
    async createSources({ count }) {
      const sources = await server.createSources(count);
      const plain = ({ producer, port, ssrc, payloadType }) => ({ producer: { id: producer.id }, port, ssrc, payloadType });
      return sources.map((s) => ({ video: plain(s.video), audio: plain(s.audio) }));
    },
    async createWebRtcTransport() {
      const { transport, clientOptions } = await server.createWebRtcTransport();
      transports.set(transport.id, transport);
      transport.observer.once('close', () => transports.delete(transport.id));
      return { clientOptions };
    },
    async connect({ transportId, dtlsParameters }) {
      await transports.get(transportId).connect({ dtlsParameters });
    },
    async consume({ transportId, producerId, rtpCapabilities, paused }) {
      const consumer = await transports.get(transportId).consume({ producerId, rtpCapabilities, paused });
      consumers.set(consumer.id, consumer);
      consumer.observer.once('close', () => consumers.delete(consumer.id));
      return { id: consumer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
    },
    async pause({ consumerId }) {
      await consumers.get(consumerId)?.pause();
    },
    async resume({ consumerId }) {
      await consumers.get(consumerId)?.resume();
    },
    async consumerStats({ consumerId }) {
      return (await consumers.get(consumerId)?.getStats()) ?? [];
    },
    async closeConsumer({ consumerId }) {
      consumers.get(consumerId)?.close();
    },
    async closeTransport({ transportId }) {
      transports.get(transportId)?.close();
    },
  };
  // a request answered after the benchmark went away (it ends a phase without waiting for
  // the last stats) has no one to answer: the broken pipe is not an error of this process
  const reply = (message) => {
    if (process.connected) process.send(message, () => {});
  };
  process.on('message', ({ seq, method, args }) => {
    Promise.resolve()
      .then(() => handlers[method](args))
      .then(
        (result) => reply({ seq, result }),
        (error) => reply({ seq, error: String((error && error.message) || error) })
      );
  });
  process.on('disconnect', () => {
    if (server) server.close();
    process.exit(0);
  });
}

// The parent: the child started, and the server's surface over requests to it.
async function startRemoteServer({ workers = 1 } = {}) {
  const child = fork(path.join(__filename), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const pending = new Map();
  let seq = 0;
  child.on('message', (msg) => {
    const p = pending.get(msg.seq);
    if (!p) return;
    pending.delete(msg.seq);
    if (msg.error !== undefined) p.reject(new Error(`server process: ${msg.error}`));
    else p.resolve(msg.result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`server process exited (${code})`));
    pending.clear();
  });
  const call = (method, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      child.send({ seq: id, method, args }, (error) => {
        if (error && pending.delete(id)) reject(error);
      });
    });
  const { processCpuSeconds } = require('./server');
  const { routerRtpCapabilities, workerPids } = await call('start', { workers });

  const consumerOf = ({ id, kind, rtpParameters }) => ({
    id,
    kind,
    rtpParameters,
    pause: () => call('pause', { consumerId: id }),
    resume: () => call('resume', { consumerId: id }),
    getStats: () => call('consumerStats', { consumerId: id }),
    close: () => {
      call('closeConsumer', { consumerId: id }).catch(() => {});
    },
  });

  return {
    routerRtpCapabilities,
    createSources: (count) => call('createSources', { count }),
    async createWebRtcTransport() {
      const { clientOptions } = await call('createWebRtcTransport');
      const transportId = clientOptions.id;
      const transport = {
        id: transportId,
        connect: ({ dtlsParameters }) => call('connect', { transportId, dtlsParameters }),
        consume: async (options) => consumerOf(await call('consume', { transportId, ...options })),
        close: () => {
          call('closeTransport', { transportId }).catch(() => {});
        },
      };
      return { transport, clientOptions };
    },
    workers: workerPids.map((pid) => ({ pid })),
    workersCpuSeconds: () => workerPids.reduce((n, pid) => n + processCpuSeconds(pid), 0),
    close() {
      if (child.connected) child.disconnect();
    },
  };
}

module.exports = { startRemoteServer };
