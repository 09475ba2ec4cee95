'use strict';

// Data channels: a mediasoup router, a bot sending chat messages on a DataProducer, and a
// second bot reading them on a DataConsumer, in one Node process on 127.0.0.1.
//
//   npm install mediasoup-client-native mediasoup
//   node node_modules/mediasoup-client-native/examples/data.js [--messages N]
//
// The server side is what a signalling server does for each request; here the program calls
// it directly instead of over a WebSocket. Server transports need `enableSctp: true`.

const { parseArgs } = require('node:util');
const mediasoup = require('mediasoup');
const { Device } = require('..');

const { values } = parseArgs({ options: { messages: { type: 'string', default: '5' } } });

// A client transport of `direction` wired to a new server WebRtcTransport (with SCTP) of `router`.
async function openTransport(router, device, direction) {
  const serverTransport = await router.createWebRtcTransport({
    listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }],
    enableSctp: true,
    numSctpStreams: device.sctpCapabilities.numStreams,
  });
  const options = {
    id: serverTransport.id,
    iceParameters: serverTransport.iceParameters,
    iceCandidates: serverTransport.iceCandidates,
    dtlsParameters: serverTransport.dtlsParameters,
    sctpParameters: serverTransport.sctpParameters,
  };
  const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    serverTransport.connect({ dtlsParameters }).then(callback, errback);
  });
  return { transport, serverTransport };
}

async function main() {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs: [] });
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });

  // the sending bot: the server makes a DataProducer for each 'producedata'
  const send = await openTransport(router, device, 'send');
  send.transport.on('producedata', async ({ sctpStreamParameters, label, protocol, appData }) => {
    const dataProducer = await send.serverTransport.produceData({ sctpStreamParameters, label, protocol, appData });
    return { id: dataProducer.id };
  });
  const dataProducer = await send.transport.produceData({ label: 'chat' });

  // the reading bot: the server DataConsumer paused, the client's consumeData(), then resume
  // (messages the server sends before consumeData() resolves are lost)
  const recv = await openTransport(router, device, 'recv');
  const serverDataConsumer = await recv.serverTransport.consumeData({ dataProducerId: dataProducer.id, paused: true });
  const dataConsumer = await recv.transport.consumeData({
    id: serverDataConsumer.id,
    dataProducerId: dataProducer.id,
    sctpStreamParameters: serverDataConsumer.sctpStreamParameters,
    label: serverDataConsumer.label,
    protocol: serverDataConsumer.protocol,
  });
  await serverDataConsumer.resume();
  console.log(`data consumer ${dataConsumer.id} on SCTP stream ${dataConsumer.sctpStreamParameters.streamId}`);

  // sending needs an open channel: the first data producer of a transport opens with its
  // SCTP association
  if (dataProducer.readyState !== 'open') await new Promise((resolve) => dataProducer.once('open', resolve));
  const count = Number(values.messages);
  for (let i = 0; i < count; i++) dataProducer.send(`message ${i}`);
  dataProducer.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));

  let read = 0;
  for await (const message of dataConsumer.messages()) {
    if (typeof message === 'string') console.log(`text: ${message}`);
    else console.log(`binary: ${message.length} bytes ${message.toString('hex')}`);
    if (++read === count + 1) break; // leaving the loop stops reading
  }

  send.transport.close();
  recv.transport.close();
  worker.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
