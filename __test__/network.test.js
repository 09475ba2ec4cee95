'use strict';

// The network side of a send transport against the real mediasoup worker on 127.0.0.1: the
// connection state through a server that goes away, ICE restarts, ICE servers, retransmissions
// over a lossy path (a relay that drops RTP), keyframe requests from the server, and panics in
// the native layer that must not take Node down.

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { EventEmitter } = require('node:events');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { createTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServerAndDevice, producerCounters, serverReceives, until } = require('./helpers/server');
const { feed } = require('./helpers/media');
const { createRelay } = require('./helpers/relay');

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// Resolves with `value()` when `emitter` emits `event` with arguments accepted by `accept`;
// rejects after `timeout` ms. Listen before causing the event.
function eventWithin(emitter, event, { timeout = 5000, accept = () => true, value = (...args) => args } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' within ${timeout} ms`));
    }, timeout);
    function listener(...args) {
      if (!accept(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value(...args));
    }
    emitter.on(event, listener);
  });
}

// Resolves with the ms from now until the transport reaches `state`.
function stateWithin(transport, state, timeout) {
  const start = Date.now();
  return eventWithin(transport, 'connectionstatechange', {
    timeout,
    accept: (s) => s === state,
    value: () => Date.now() - start,
  });
}

// A client send transport wired to a fresh server transport, directly or through a relay
// (`relay`: createRelay options other than `target`). Every state change is recorded.
async function sendTransport(t, { relay: relayOptions, ip } = {}) {
  let relay;
  const { transport, serverTransport, serverProducers } = await server.sendTransport(t, device, {
    ip,
    clientOptions: async (options, serverTransport) => {
      if (!relayOptions) return options;
      const candidate = serverTransport.iceCandidates.find((c) => c.protocol === 'udp');
      relay = await createRelay({ ...relayOptions, target: { ip: candidate.address ?? candidate.ip, port: candidate.port } });
      t.after(() => relay.close());
      return { ...options, iceCandidates: relay.candidates(serverTransport.iceCandidates) };
    },
  });
  const states = [];
  transport.on('connectionstatechange', (s) => states.push(s));
  return { transport, serverTransport, serverProducers, relay, states };
}

// A video producer fed at 30 fps, connected, with media reaching the server.
async function videoProducer(t, transport, serverProducers, feedOptions) {
  const connected = stateWithin(transport, 'connected', 5000);
  const track = createTrack({ kind: 'video' });
  const producer = await transport.produce({ track });
  const feeder = feed(track, feedOptions);
  t.after(() => feeder.stop());
  await connected;
  const serverProducer = serverProducers.at(-1);
  await serverReceives(serverProducer);
  return { track, producer, serverProducer };
}

function outboundRtp(stats) {
  return [...stats.values()].filter((s) => s.type === 'outbound-rtp');
}

test('connectionstatechange: connected; the server transport closed gives disconnected, then failed', async (t) => {
  const { transport, serverTransport, serverProducers, states } = await sendTransport(t);
  await videoProducer(t, transport, serverProducers);
  assert.equal(transport.connectionState, 'connected');
  assert.deepEqual(states, ['connecting', 'connected']);

  const disconnected = stateWithin(transport, 'disconnected', 8000);
  const failed = stateWithin(transport, 'failed', 20000);
  serverTransport.close();
  const toDisconnected = await disconnected;
  const toFailed = await failed;
  t.diagnostic(`server transport closed -> disconnected ${toDisconnected} ms, failed ${toFailed} ms`);
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected', 'failed']);
  assert.equal(transport.connectionState, 'failed');
  // consent freshness: not before 2 s of silence; failed well after disconnected
  assert.ok(toDisconnected >= 2000, `disconnected after ${toDisconnected} ms`);
  assert.ok(toFailed >= toDisconnected + 5000, `failed after ${toFailed} ms`);
});

test('restartIce from failed: the new server ICE parameters reconnect and media resumes', async (t) => {
  const { transport, serverTransport, serverProducers, relay } = await sendTransport(t, { relay: {} });
  const { serverProducer } = await videoProducer(t, transport, serverProducers);
  const firstUfrag = serverTransport.iceParameters.usernameFragment;
  assert.ok([...relay.usernames].every((u) => u.startsWith(`${firstUfrag}:`)));

  // the path goes dead until the client gives up
  const failed = stateWithin(transport, 'failed', 20000);
  relay.block();
  await failed;
  const stalled = (await producerCounters(serverProducer)).packets;

  // the server forgets the first credentials after its second restart: only the new ones work
  await serverTransport.restartIce();
  const iceParameters = await serverTransport.restartIce();
  assert.notEqual(iceParameters.usernameFragment, firstUfrag);
  relay.block(false);
  const start = Date.now();
  const connected = stateWithin(transport, 'connected', 5000);
  await transport.restartIce({ iceParameters });
  await connected;
  const toConnected = Date.now() - start;
  const counters = await serverReceives(serverProducer);
  const toMedia = Date.now() - start;
  t.diagnostic(`restartIce from failed: connected after ${toConnected} ms, media at the server after ${toMedia} ms`);
  assert.ok(counters.packets > stalled);
  assert.ok(
    [...relay.usernames].some((u) => u.startsWith(`${iceParameters.usernameFragment}:`)),
    `connectivity checks with the new server ufrag: ${[...relay.usernames]}`
  );
  assert.equal(transport.connectionState, 'connected');
});

test('restartIce while connected switches credentials without stopping the media', async (t) => {
  const { transport, serverTransport, serverProducers, relay, states } = await sendTransport(t, { relay: {} });
  const { serverProducer } = await videoProducer(t, transport, serverProducers);
  const iceParameters = await serverTransport.restartIce();
  await transport.restartIce({ iceParameters });
  await until(() => [...relay.usernames].some((u) => u.startsWith(`${iceParameters.usernameFragment}:`)), {
    what: 'a connectivity check with the new server ufrag',
  });
  await serverReceives(serverProducer);
  assert.equal(transport.connectionState, 'connected');
  assert.ok(!states.includes('failed') && !states.includes('disconnected'), states.join());

  await assert.rejects(transport.restartIce(), TypeError);
  await assert.rejects(transport.restartIce({ iceParameters: { usernameFragment: 1 } }), TypeError);
  transport.close();
  await assert.rejects(transport.restartIce({ iceParameters }), InvalidStateError);
});

test('restartIce before the first produce: the first connection uses the new parameters', async (t) => {
  const { transport, serverTransport, serverProducers } = await sendTransport(t);
  // the parameters the transport was created with are no longer valid at the server
  await serverTransport.restartIce();
  const iceParameters = await serverTransport.restartIce();
  await transport.restartIce({ iceParameters });
  await videoProducer(t, transport, serverProducers);
  assert.equal(transport.connectionState, 'connected');
});

test('a server listening on ::1 (IPv6 loopback) is reached: connected, media counted and scored', async (t) => {
  const { transport, serverTransport, serverProducers } = await sendTransport(t, { ip: '::1' });
  assert.deepEqual(serverTransport.iceCandidates.map((c) => c.address), ['::1']);
  const { serverProducer } = await videoProducer(t, transport, serverProducers);
  assert.equal(transport.connectionState, 'connected');
  await until(async () => (await serverProducer.getStats()).some((s) => s.score > 0), { what: 'a score above 0' });
  const stats = await transport.getStats();
  const pair = [...stats.values()].find((s) => s.type === 'candidate-pair' && s.nominated);
  const local = stats.get(pair?.localCandidateId);
  assert.equal(local?.address, '::1', JSON.stringify(local));
  const remote = stats.get(pair.remoteCandidateId);
  assert.equal(remote?.type, 'remote-candidate', pair.remoteCandidateId);
  assert.equal(remote.address, '::1');
  assert.equal(remote.port, serverTransport.iceCandidates[0].port);
});

test('a server transport with TCP candidates only: UnsupportedError at once, naming UDP', async (t) => {
  const serverTransport = await server.router.createWebRtcTransport({ listenInfos: [{ protocol: 'tcp', ip: '127.0.0.1' }] });
  t.after(() => serverTransport.close());
  assert.deepEqual(serverTransport.iceCandidates.map((c) => c.protocol), ['tcp']);
  const options = {
    id: serverTransport.id,
    iceParameters: serverTransport.iceParameters,
    iceCandidates: serverTransport.iceCandidates,
    dtlsParameters: serverTransport.dtlsParameters,
  };
  for (const create of ['createSendTransport', 'createRecvTransport']) {
    assert.throws(() => device[create](options), (err) => err instanceof UnsupportedError && /UDP/.test(err.message), create);
  }
});

test('updateIceServers: TypeError on bad servers; the servers given are used from the next ICE restart, removed ones are not', async (t) => {
  const { transport, serverTransport, serverProducers } = await sendTransport(t);
  for (const iceServers of [
    undefined,
    'stun:127.0.0.1',
    [null],
    [{ urls: 42 }],
    [{ urls: [] }],
    [{ urls: 'http://127.0.0.1' }],
    [{ urls: 'turn:127.0.0.1' }], // TURN without credentials
    [{ urls: 'stun:127.0.0.1', username: 7 }],
  ]) {
    await assert.rejects(transport.updateIceServers({ iceServers }), TypeError, JSON.stringify(iceServers));
  }
  // TURN is relayed by webrtc-rs' own driver, chosen when the transport is created
  await assert.rejects(
    transport.updateIceServers({ iceServers: [{ urls: 'turn:127.0.0.1', username: 'u', credential: 'c' }] }),
    (err) => err instanceof TypeError && /createSendTransport/.test(err.message),
  );
  const { clientOptions } = await server.createWebRtcTransport();
  assert.throws(() => device.createSendTransport({ ...clientOptions, iceServers: [{ urls: 'ftp:x' }] }), TypeError);
  await transport.updateIceServers({ iceServers: [] });

  // a STUN server on loopback: nothing leaves the machine
  const stun = dgram.createSocket('udp4');
  t.after(() => stun.close());
  await new Promise((resolve) => stun.bind(0, '127.0.0.1', resolve));
  const bindingRequest = eventWithin(stun, 'message', { accept: (m) => m.length >= 20 && m.readUInt16BE(0) === 0x0001 });
  bindingRequest.catch(() => {});
  await videoProducer(t, transport, serverProducers);
  await transport.updateIceServers({ iceServers: [{ urls: `stun:127.0.0.1:${stun.address().port}` }] });
  await transport.restartIce({ iceParameters: await serverTransport.restartIce() });
  const [first] = await bindingRequest;
  // removed: the next restart asks no STUN server (while the media flows again, no new
  // transaction came; the first one may still be retransmitted, with its transaction id)
  let requests = 0;
  stun.on('message', (m) => {
    if (!m.subarray(8, 20).equals(first.subarray(8, 20))) requests++;
  });
  await transport.updateIceServers({ iceServers: [] });
  await transport.restartIce({ iceParameters: await serverTransport.restartIce() });
  await serverReceives(serverProducers.at(-1));
  assert.equal(requests, 0);

  transport.close();
  await assert.rejects(transport.updateIceServers({ iceServers: [] }), InvalidStateError);
});

test('RTX/NACK: 5% of the media RTP lost on the way is NACKed by the server and retransmitted over RTX', async (t) => {
  const { transport, serverProducers, relay } = await sendTransport(t, { relay: { seed: 4 } });
  // ~3 packets per frame, ~90 packets/s
  const { producer, serverProducer } = await videoProducer(t, transport, serverProducers, { size: 3000 });
  const [codec, rtx] = producer.rtpParameters.codecs;
  assert.equal(rtx.mimeType.toLowerCase(), 'video/rtx');
  const [before] = await serverProducer.getStats();
  assert.equal(before.nackCount, 0, 'no loss, no NACK');

  relay.setLoss({ loss: 0.05, payloadTypes: [codec.payloadType] });
  const stats = await until(async () => {
    const [s] = await serverProducer.getStats();
    return s.nackCount > 0 && s.packetsRetransmitted > 0 && s.packetsRepaired > 0 && s.packetCount > before.packetCount + 300 && s;
  }, { timeout: 15000, what: 'NACKs and repaired packets at the server' });
  const [client] = outboundRtp(await producer.getStats());
  t.diagnostic(
    `5% loss: ${relay.counts.dropped} of ${relay.counts.up.rtp} RTP dropped; server nackCount ${stats.nackCount}, ` +
      `nackPacketCount ${stats.nackPacketCount}, packetsRetransmitted ${stats.packetsRetransmitted}, ` +
      `packetsRepaired ${stats.packetsRepaired}, packetsLost ${stats.packetsLost}; client nackCount ` +
      `${client.nackCount}, retransmittedPacketsSent ${client.retransmittedPacketsSent}`
  );
  assert.ok(relay.counts.dropped > 0);
  assert.equal(stats.rtxSsrc, producer.rtpParameters.encodings[0].rtx.ssrc);
  assert.ok(client.nackCount > 0, `client nackCount ${client.nackCount}`);
  assert.ok(client.retransmittedPacketsSent > 0, `client retransmittedPacketsSent ${client.retransmittedPacketsSent}`);
  assert.ok(client.retransmittedBytesSent > 0);
});

test('RTX has a budget: with 80% of the media RTP lost, retransmissions stay within about half the media bytes', async (t) => {
  const { transport, serverProducers, relay } = await sendTransport(t, { relay: { seed: 7 } });
  const { producer, serverProducer } = await videoProducer(t, transport, serverProducers, { size: 3000 });
  const [codec, rtx] = producer.rtpParameters.codecs;
  const bytes = (pt) => relay.counts.upRtpBytes[pt] || 0;
  relay.setLoss({ loss: 0.8, payloadTypes: [codec.payloadType] });
  // The budget is half the media bytes of the last second: over a window of W seconds the
  // retransmissions are at most half the media of W + 1 seconds. Asked for every lost packet,
  // without the budget they would be ~80% of the media.
  await until(async () => (await serverProducer.getStats())[0].nackCount > 0, { what: 'NACKs' });
  const media0 = bytes(codec.payloadType);
  const rtx0 = bytes(rtx.payloadType);
  const start = relay.counts.up.rtp;
  // ~90 packets/s: about 5 s
  await until(() => relay.counts.up.rtp - start >= 600, { timeout: 15000, what: '600 more RTP packets' });
  const media = bytes(codec.payloadType) - media0;
  const resent = bytes(rtx.payloadType) - rtx0;
  const [stats] = await serverProducer.getStats();
  t.diagnostic(
    `80% loss: media ${media} bytes, RTX ${resent} bytes (${((resent / media) * 100).toFixed(1)}%); ` +
      `server nackCount ${stats.nackCount}, packetsRepaired ${stats.packetsRepaired}`
  );
  assert.ok(resent / media <= 0.62, `RTX ${resent} bytes for ${media} bytes of media`);
  // the budget is used, not merely never reached
  assert.ok(resent / media >= 0.35, `RTX ${resent} bytes for ${media} bytes of media`);
});

// mediasoup asks a producer for a keyframe with PLI when its codec has `nack pli`, else with FIR
// when it has `ccm fir`: stripping `nack pli` from what the server is told selects FIR.
for (const request of ['pli', 'fir']) {
  test(`${request.toUpperCase()} from the server reaches the track as 'keyframerequest'`, async (t) => {
    const { transport: serverTransport, clientOptions } = await server.createWebRtcTransport();
    const transport = device.createSendTransport(clientOptions);
    t.after(() => transport.close());
    transport.on('connect', ({ dtlsParameters }, cb, eb) => serverTransport.connect({ dtlsParameters }).then(cb, eb));
    const serverProducers = [];
    transport.on('produce', async ({ kind, rtpParameters }) => {
      if (request === 'fir') {
        for (const c of rtpParameters.codecs) {
          c.rtcpFeedback = c.rtcpFeedback.filter((fb) => !(fb.type === 'nack' && fb.parameter === 'pli'));
        }
      }
      const p = await serverTransport.produce({ kind, rtpParameters });
      serverProducers.push(p);
      return { id: p.id };
    });
    const { track, producer, serverProducer } = await videoProducer(t, transport, serverProducers);
    const [before] = outboundRtp(await producer.getStats());

    // a new consumer makes the server ask the producer for a keyframe
    const asked = eventWithin(track, 'keyframerequest');
    const rtp = new EventEmitter();
    const firstForwarded = eventWithin(rtp, 'packet');
    const { direct, consumer } = await server.consumeDirect(serverProducer, (packet) => rtp.emit('packet', packet));
    t.after(() => direct.close());
    const [layer, reason] = await asked;
    assert.equal(layer, 0);
    assert.equal(reason, 'server');
    // and so does requestKeyFrame(), once the keyframe asked for has arrived (the consumer
    // forwards from a keyframe on; mediasoup does not repeat a request still pending)
    await firstForwarded;
    const again = eventWithin(track, 'keyframerequest');
    await consumer.requestKeyFrame();
    await again;

    const [after] = outboundRtp(await producer.getStats());
    const counted = request === 'pli' ? 'pliCount' : 'firCount';
    const other = request === 'pli' ? 'firCount' : 'pliCount';
    assert.ok(after[counted] >= before[counted] + 2, `${counted} ${before[counted]} -> ${after[counted]}`);
    assert.equal(after[other], before[other], `${other} unchanged`);
  });
}

test('a panic in Rust is a thrown Error or a rejected promise, and Node carries on', () => {
  // in a child process, so that an abort would be seen here instead of ending the test runner
  const script = `
    const native = require(${JSON.stringify(path.join(__dirname, '..', 'native.js'))});
    const out = [];
    try { native.nativePanicSync('sync boom'); out.push('returned'); }
    catch (e) { out.push(e instanceof Error ? 'sync: ' + e.message : 'sync: not an Error'); }
    native.nativePanicAsync('async boom').then(
      () => out.push('resolved'),
      (e) => out.push(e instanceof Error ? 'async: Error' : 'async: not an Error')
    ).then(() => {
      out.push('alive ' + native.nativeVersion());
      process.stdout.write(JSON.stringify(out));
    });
  `;
  const stdout = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, RUST_BACKTRACE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30000,
  });
  const out = JSON.parse(stdout.toString());
  assert.equal(out[0], 'sync: sync boom');
  assert.equal(out[1], 'async: Error');
  assert.match(out[2], /^alive \d+\.\d+\.\d+/);
});
