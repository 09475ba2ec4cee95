'use strict';

// The clients of the data channel benchmark (bench/data-phase.js), behind one small interface:
//
//   const client = loadDataClient(name, dir);
//   await client.load(routerRtpCapabilities);
//   client.sctpCapabilities                      // what the server transports are made for
//   const s = client.createSendTransport(clientOptions, { connect(dtlsParameters), produceData(params) -> id });
//   const dp = await s.transport.produceData({ ordered: true, label });
//   const r = client.createRecvTransport(clientOptions, { connect(dtlsParameters) });
//   const dc = await r.transport.consumeData({ id, dataProducerId, sctpStreamParameters, label, protocol });
//   await s.connected;  s.transport.close();
//
// Both clients are mediasoup-client style: their DataProducer has send(), bufferedAmount,
// bufferedAmountLowThreshold and 'bufferedamountlow'; their DataConsumer emits 'message'.
//
// - native: this project (the package built by bench/build-addon.sh).
// - msc-node: msc-node 0.0.21 on werift 0.18.17 (bench/install-peers.sh), werift's SCTP in JS.

const path = require('node:path');
const { connectedOf, wireConnect } = require('./clients');

function wireProduceData(transport, signal) {
  transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
    signal.produceData({ sctpStreamParameters, label, protocol }).then((id) => callback({ id }), errback);
  });
}

function nativeDataClient(dir) {
  const { Device } = require(path.join(dir, 'index.js'));
  const device = new Device();
  return {
    name: 'native',
    async load(routerRtpCapabilities) {
      await device.load({ routerRtpCapabilities });
    },
    get sctpCapabilities() {
      return device.sctpCapabilities;
    },
    createSendTransport(options, signal) {
      const transport = device.createSendTransport(options);
      wireConnect(transport, signal);
      wireProduceData(transport, signal);
      return { transport, connected: connectedOf(transport) };
    },
    createRecvTransport(options, signal) {
      const transport = device.createRecvTransport(options);
      wireConnect(transport, signal);
      return { transport, connected: connectedOf(transport) };
    },
  };
}

function mscNodeDataClient(dir) {
  const modules = path.join(dir, 'node_modules');
  const { Device } = require(path.join(modules, 'msc-node'));
  const werift = require(path.join(modules, 'werift'));
  const { RTCRtpCodecParameters } = werift;
  // the codecs bench/clients.js gives it: a Device needs some to load
  const device = new Device(
    {
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
        video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000 })],
      },
    },
    { handlerName: 'werift' }
  );
  // werift gathers on every interface unless told otherwise: loopback only
  const additionalSettings = { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false };
  return {
    name: 'msc-node',
    async load(routerRtpCapabilities) {
      await device.load({ routerRtpCapabilities });
    },
    get sctpCapabilities() {
      return device.sctpCapabilities;
    },
    createSendTransport(options, signal) {
      const transport = device.createSendTransport({ ...options, additionalSettings });
      wireConnect(transport, signal);
      wireProduceData(transport, signal);
      return { transport, connected: connectedOf(transport) };
    },
    createRecvTransport(options, signal) {
      const transport = device.createRecvTransport({ ...options, additionalSettings });
      wireConnect(transport, signal);
      return { transport, connected: connectedOf(transport) };
    },
  };
}

function loadDataClient(name, dir) {
  if (name === 'native') return nativeDataClient(dir);
  if (name === 'msc-node') return mscNodeDataClient(dir);
  throw new Error(`data channels: no client '${name}' (native or msc-node)`);
}

module.exports = { loadDataClient };
