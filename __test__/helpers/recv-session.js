'use strict';

// What the receive tests share: a client receive transport wired to a fresh server
// WebRtcTransport, and consuming a server producer through it as a signalling server would
// (the server consumer created paused, resumed once the client's consume() resolved).

// A client receive transport of `device`, wired to a fresh server transport (its `connect`
// event to the server's connect()), closed when test `t` ends. `connects` collects the DTLS
// parameters of each `connect`.
async function recvTransport(t, { server, device, clientOptions: rewrite = (o) => o }) {
  const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
  const transport = device.createRecvTransport(await rewrite(clientOptions, serverTransport));
  const connects = [];
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    connects.push(dtlsParameters);
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  t.after(() => transport.close());
  return { transport, serverTransport, connects };
}

// Consumes `producerId` on the server transport (paused) and on the client transport, then
// resumes the server consumer. Resolves with both.
async function consume({ transport, serverTransport, device }, producerId, { resume = true, appData } = {}) {
  const serverConsumer = await serverTransport.consume({
    producerId,
    rtpCapabilities: device.rtpCapabilities,
    paused: true,
  });
  const consumer = await transport.consume({
    id: serverConsumer.id,
    producerId,
    kind: serverConsumer.kind,
    rtpParameters: serverConsumer.rtpParameters,
    appData,
  });
  if (resume) await serverConsumer.resume();
  return { consumer, serverConsumer };
}

// Collects the frames of `track` (from its frames() iterator) until `enough(frames)` is true.
async function collectFrames(track, enough, { timeout = 10000 } = {}) {
  const frames = [];
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${frames.length} frames after ${timeout} ms`)), timeout);
  });
  const reading = (async () => {
    for await (const frame of track.frames()) {
      frames.push(frame);
      if (enough(frames)) return frames;
    }
    return frames;
  })();
  try {
    return await Promise.race([reading, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { recvTransport, consume, collectFrames };
