'use strict';

// Where one data channel's messages are, every 200 ms: a diagnostic for the data channel
// series (bench/data-phase.js). One peer of this client sends `size`-byte messages through
// the router to its own DataConsumer, at most `window` messages sent and not yet received;
// each line gives, for the last 200 ms, the messages the program sent, the server's
// DataProducer received, its DataConsumer sent and the program received, what was queued at
// each point, and the datagrams the kernel dropped for want of receive buffer (this network
// namespace, per socket: the server's or the client's).
//
//   unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
//     node bench/data-legs.js PACKAGE_DIR [window=1700] [size=100] [serverSocketBuffer=0] [seconds=4]
//
// PACKAGE_DIR: the package (bench/build-addon.sh prints it). serverSocketBuffer 0: the server's
// UDP sockets keep the kernel default.

const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./server');

const [pkg, windowArg, sizeArg, socketArg, secondsArg] = process.argv.slice(2);
const WINDOW = Number(windowArg || 1700);
const SIZE = Number(sizeArg || 100);
const SOCKET_BUFFER = Number(socketArg || 0);
const SECONDS = Number(secondsArg || 4);

function udpDrops() {
  const drops = new Map();
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13) drops.set(parseInt(f[1].split(':')[1], 16), Number(f[12]));
  }
  return drops;
}

(async () => {
  if (!pkg) throw new Error('usage: node bench/data-legs.js PACKAGE_DIR [window] [size] [serverSocketBuffer] [seconds]');
  const { Device } = require(path.resolve(pkg, 'index.js'));
  const server = await startServer({ workers: 1 });
  const { router } = server.workers[0];
  const listenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  if (SOCKET_BUFFER) Object.assign(listenInfo, { recvBufferSize: SOCKET_BUFFER, sendBufferSize: SOCKET_BUFFER });
  const serverTransport = () =>
    router.createWebRtcTransport({ listenInfos: [listenInfo], enableSctp: true, sctpSendBufferSize: 8 * 1024 * 1024 });
  const options = (t) => ({
    id: t.id,
    iceParameters: t.iceParameters,
    iceCandidates: t.iceCandidates,
    dtlsParameters: t.dtlsParameters,
    sctpParameters: t.sctpParameters,
  });
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });
  const ss = await serverTransport();
  const rs = await serverTransport();
  const serverPorts = new Set([ss.iceCandidates[0].port, rs.iceCandidates[0].port]);
  const send = device.createSendTransport(options(ss));
  send.on('connect', ({ dtlsParameters }, cb, eb) => ss.connect({ dtlsParameters }).then(cb, eb));
  let serverDp;
  send.on('producedata', ({ sctpStreamParameters, label, protocol }, cb, eb) => {
    ss.produceData({ sctpStreamParameters, label, protocol }).then((dp) => {
      serverDp = dp;
      cb({ id: dp.id });
    }, eb);
  });
  const dp = await send.produceData({});
  const recv = device.createRecvTransport(options(rs));
  recv.on('connect', ({ dtlsParameters }, cb, eb) => rs.connect({ dtlsParameters }).then(cb, eb));
  const serverDc = await rs.consumeData({ dataProducerId: serverDp.id });
  const dc = await recv.consumeData({ id: serverDc.id, dataProducerId: serverDp.id, sctpStreamParameters: serverDc.sctpStreamParameters });
  await Promise.all([dp, dc].map((c) => c.readyState === 'open' || new Promise((r) => c.once('open', r))));

  let sent = 0;
  let received = 0;
  let running = true;
  const message = Buffer.alloc(SIZE, 1);
  const pump = () => {
    while (running && sent - received < WINDOW && dp.bufferedAmount < 1024 * 1024) {
      dp.send(message);
      sent++;
    }
  };
  dp.bufferedAmountLowThreshold = 256 * 1024;
  dp.on('bufferedamountlow', pump);
  dc.on('message', () => {
    received++;
    if (sent - received <= WINDOW / 2) pump();
  });
  pump();
  const start = Date.now();
  let last = { sent: 0, serverIn: 0, serverOut: 0, received: 0 };
  while (Date.now() - start < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 200));
    const [a] = await serverDp.getStats();
    const [b] = await serverDc.getStats();
    const cur = { sent, serverIn: a.messagesReceived, serverOut: b.messagesSent, received };
    let atServer = 0;
    let atClient = 0;
    for (const [port, n] of udpDrops()) {
      if (serverPorts.has(port)) atServer += n;
      else atClient += n;
    }
    console.log(
      `${String(Date.now() - start).padStart(5)} ms: sent ${cur.sent - last.sent}, server in ${cur.serverIn - last.serverIn}, ` +
        `server out ${cur.serverOut - last.serverOut}, received ${cur.received - last.received} | ` +
        `bufferedAmount ${dp.bufferedAmount} B, server DataConsumer buffered ${b.bufferedAmount} B, ` +
        `UDP drops so far: server sockets ${atServer}, client sockets ${atClient}`
    );
    last = cur;
  }
  running = false;
  send.close();
  recv.close();
  server.close();
  setTimeout(() => process.exit(0), 100);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
