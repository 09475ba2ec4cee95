'use strict';

// What the codec and integrity tests share: a client send transport wired to a server
// WebRtcTransport, a codec picked from device.rtpCapabilities, the wait for 'connected'.

// A client send transport wired to a fresh server transport. `onServerProducer(producer)` runs
// (and is awaited) before the client's produce() gets the id, i.e. before any media flows.
function sendTransport(t, { server, device, onServerProducer }) {
  return server.sendTransport(t, device, { onServerProducer });
}

// Resolves when the transport's connectionState is 'connected' (at once if it is).
function connected(transport) {
  if (transport.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onState = (state) => {
      if (state === 'connected') {
        transport.off('connectionstatechange', onState);
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        transport.off('connectionstatechange', onState);
        reject(new Error(`transport ${state} before connecting`));
      }
    };
    transport.on('connectionstatechange', onState);
  });
}

// The entry of device.rtpCapabilities.codecs with this mime type (case-insensitive), what
// produce({ codec }) takes.
function pickCodec(device, mimeType) {
  const codec = device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  if (!codec) throw new Error(`the device cannot use ${mimeType}`);
  return codec;
}

module.exports = { sendTransport, connected, pickCodec };
