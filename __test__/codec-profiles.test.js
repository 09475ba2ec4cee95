'use strict';

// Tracks bound to one bitstream (files, RTP from another tool) against routers of the real
// mediasoup worker that lack or order their profiles differently: produce() must send the
// track as a router codec of its own profile (VP9 profile-id, H.264 profile-level-id, AV1
// profile) or reject with an UnsupportedError naming what the router has, never label it
// with another profile.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Device, createFileTrack, createRtpTrack, InvalidStateError, UnsupportedError } = require('..');
const { startServer, producerCounters, until } = require('./helpers/server');

const sample = (name) => path.join(__dirname, '..', 'samples', name);

let server;
let tmp;
test.before(async () => {
  server = await startServer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'msc-codec-profiles-'));
});
test.after(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const vp9 = (profileId) => ({ kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': profileId } });
const h264 = (profileLevelId) => ({
  kind: 'video',
  mimeType: 'video/H264',
  clockRate: 90000,
  parameters: { 'packetization-mode': 1, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 },
});

// A router with `mediaCodecs`, a device loaded with it, and a send transport on it.
async function routerSession(t, mediaCodecs) {
  const router = await server.worker.createRouter({ mediaCodecs });
  t.after(() => router.close());
  const device = new Device();
  await device.load({ routerRtpCapabilities: router.rtpCapabilities });
  const transport = () => server.sendTransport(t, device, { on: router });
  return { router, device, transport };
}

// Waits until the server counted packets of the producer and scored it.
async function scored(serverProducer, what) {
  return until(
    async () => {
      const counters = await producerCounters(serverProducer);
      return counters.packets > 30 && serverProducer.score.some((s) => s.score > 0) && counters;
    },
    { timeout: 15000, what: `packets and a score > 0 for ${what}` }
  );
}

// A copy of the H.264 sample whose SPS declare another profile (profile_idc and constraint
// flags replaced): only the declared profile changes, which is all produce() reads.
function h264WithProfile(name, profileIdc, constraintFlags) {
  const data = Buffer.from(fs.readFileSync(sample('h264.h264')));
  let patched = 0;
  for (let i = 0; i + 6 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3] & 0x1f) === 7) {
      data[i + 4] = profileIdc;
      data[i + 5] = constraintFlags;
      patched++;
    }
  }
  assert.ok(patched > 0, 'the sample has an SPS');
  const file = path.join(tmp, name);
  fs.writeFileSync(file, data);
  return file;
}

// A copy of the VP9 sample whose frames declare profile 2 (the profile bits of each frame's
// first byte set to 2): only the declared profile changes, which is all the library reads.
function vp9Profile2(name) {
  const data = Buffer.from(fs.readFileSync(sample('vp9.ivf')));
  for (let offset = data.readUInt16LE(6); offset + 12 < data.length; offset += 12 + data.readUInt32LE(offset)) {
    data[offset + 12] = (data[offset + 12] & ~0x30) | 0x10;
  }
  const file = path.join(tmp, name);
  fs.writeFileSync(file, data);
  return file;
}

test('a VP9 profile 0 file and a router with only profile-id 2: UnsupportedError naming what the router has', async (t) => {
  const { transport } = await routerSession(t, [vp9(2)]);
  const { transport: sendTransport, serverProducers } = await transport();
  const track = await createFileTrack(sample('vp9.ivf'));
  t.after(() => track.stop());
  assert.deepEqual(track.codecParameters, { 'profile-id': 0 });
  await assert.rejects(sendTransport.produce({ track }), (e) => {
    assert.ok(e instanceof UnsupportedError, `${e}`);
    assert.equal(e.message, "the router does not take this track's video/VP9 (profile-id 0); it has video/VP9 (profile-id 2)");
    return true;
  });
  assert.equal(serverProducers.length, 0, 'nothing was signalled');
  assert.equal(track.readyState, 'live');
});

test('a router with VP9 profile-id 2 then 0: a profile 0 file goes out as profile-id 0, the server scores it; a codec option or a replacing track of profile 2 is refused', async (t) => {
  const { device, transport } = await routerSession(t, [vp9(2), vp9(0)]);
  const vp9Codecs = device.rtpCapabilities.codecs.filter((c) => c.mimeType === 'video/VP9');
  assert.deepEqual(
    vp9Codecs.map((c) => c.parameters['profile-id']),
    [2, 0],
    'the device has both, profile 2 first'
  );
  const { transport: sendTransport, serverProducers } = await transport();
  const track = await createFileTrack(sample('vp9.ivf'), { loop: true });
  t.after(() => track.stop());
  await assert.rejects(sendTransport.produce({ track, codec: vp9Codecs[0], stopTracks: false }), (e) => {
    assert.ok(e instanceof TypeError, `${e}`);
    assert.equal(e.message, 'codec video/VP9 (profile-id 2) does not match the track, which holds video/VP9 (profile-id 0)');
    return true;
  });
  const producer = await sendTransport.produce({ track });
  assert.equal(producer.rtpParameters.codecs[0].parameters['profile-id'], 0);
  assert.equal(serverProducers[0].rtpParameters.codecs[0].parameters['profile-id'], 0);
  await scored(serverProducers[0], 'the VP9 file');

  // a profile 2 file cannot replace it: the producer is profile 0 (the class is the one
  // replaceTrack gives to every track that cannot feed the producer, another codec included)
  const p2 = await createFileTrack(vp9Profile2('p2.ivf'));
  t.after(() => p2.stop());
  assert.deepEqual(p2.codecParameters, { 'profile-id': 2 });
  await assert.rejects(producer.replaceTrack({ track: p2 }), (e) => {
    assert.ok(e instanceof InvalidStateError, `${e}`);
    assert.match(e.message, /cannot feed the producer: codec video\/VP9 \(profile-id 0\) does not match the track, which holds video\/VP9 \(profile-id 2\)/);
    return true;
  });
  assert.notEqual(producer.track, p2, 'a refused track does not become the producer\'s');
  assert.equal(p2.readyState, 'live');
});

test('H.264 files: the same profile first, else one that includes it; a profile the router lacks is an UnsupportedError', async (t) => {
  const cbFile = sample('h264.h264');
  const highFile = h264WithProfile('high.h264', 0x64, 0x00);
  const cb = await createFileTrack(cbFile, { loop: true });
  const high = await createFileTrack(highFile);
  t.after(() => [cb, high].forEach((track) => track.stop()));
  assert.deepEqual(cb.codecParameters, { 'packetization-mode': 1, 'profile-level-id': '42e01f' });
  assert.deepEqual(high.codecParameters, { 'packetization-mode': 1, 'profile-level-id': '64001f' });

  // only Constrained Baseline: the High file cannot go
  const cbOnly = await routerSession(t, [h264('42e01f')]);
  const { transport: toCbOnly, serverProducers: none } = await cbOnly.transport();
  await assert.rejects(toCbOnly.produce({ track: high, stopTracks: false }), (e) => {
    assert.ok(e instanceof UnsupportedError, `${e}`);
    assert.equal(
      e.message,
      "the router does not take this track's video/H264 (profile-level-id 64001f: High, packetization-mode 1); " +
        'it has video/H264 (profile-level-id 42e01f: Constrained Baseline, packetization-mode 1)'
    );
    return true;
  });
  assert.equal(none.length, 0);

  // Constrained Baseline and High, in that order: each file gets its own profile
  const both = await routerSession(t, [h264('42e01f'), h264('640032')]);
  const { transport: toBoth } = await both.transport();
  const highProducer = await toBoth.produce({ track: high });
  assert.match(highProducer.rtpParameters.codecs[0].parameters['profile-level-id'], /^6400/);

  // only High: the Constrained Baseline file goes as High (High decoders decode it)
  const highOnly = await routerSession(t, [h264('640032')]);
  const { transport: toHighOnly, serverProducers } = await highOnly.transport();
  const cbProducer = await toHighOnly.produce({ track: cb });
  assert.match(cbProducer.rtpParameters.codecs[0].parameters['profile-level-id'], /^6400/);
  assert.equal(Number(cbProducer.rtpParameters.codecs[0].parameters['packetization-mode']), 1);
  await scored(serverProducers[0], 'the H.264 file');
});

test('RTP tracks: the profile the program states is matched; unstated VP9 is profile 0', async (t) => {
  assert.throws(() => createRtpTrack({ kind: 'video', codec: { mimeType: 'video/VP9', parameters: 2 } }), TypeError);
  assert.throws(
    () => createRtpTrack({ kind: 'video', codec: { mimeType: 'video/VP9', parameters: { 'profile-id': {} } } }),
    TypeError
  );
  const p2 = createRtpTrack({ kind: 'video', codec: { mimeType: 'video/VP9', parameters: { 'profile-id': 2 } } });
  const unstated = createRtpTrack({ kind: 'video', codec: 'video/VP9' });
  t.after(() => [p2, unstated].forEach((track) => track.stop()));
  assert.deepEqual(p2.codecParameters, { 'profile-id': 2 });
  assert.deepEqual(unstated.codecParameters, {});

  const p0Only = await routerSession(t, [vp9(0)]);
  const { transport: toP0Only } = await p0Only.transport();
  await assert.rejects(toP0Only.produce({ track: p2, stopTracks: false }), (e) => {
    assert.ok(e instanceof UnsupportedError, `${e}`);
    assert.match(e.message, /this track's video\/VP9 \(profile-id 2\); it has video\/VP9 \(profile-id 0\)$/);
    return true;
  });

  const { transport: both } = await routerSession(t, [vp9(2), vp9(0)]);
  const { transport: first } = await both();
  const { transport: second } = await both();
  assert.equal((await first.produce({ track: unstated })).rtpParameters.codecs[0].parameters['profile-id'], 0);
  assert.equal((await second.produce({ track: p2 })).rtpParameters.codecs[0].parameters['profile-id'], 2);
});

test('an AV1 profile 0 file and a router whose AV1 is profile 1: UnsupportedError (device.load does not match AV1 profiles)', async (t) => {
  const av1 = (parameters) => ({ kind: 'video', mimeType: 'video/AV1', clockRate: 90000, parameters });
  const { device, transport } = await routerSession(t, [av1({ profile: 1 })]);
  assert.ok(device.canProduce('video'), 'the device takes the router\'s AV1');
  const { transport: sendTransport, serverProducers } = await transport();
  const track = await createFileTrack(sample('av1.ivf'));
  t.after(() => track.stop());
  assert.deepEqual(track.codecParameters, { profile: 0 });
  await assert.rejects(sendTransport.produce({ track }), (e) => {
    assert.ok(e instanceof UnsupportedError, `${e}`);
    assert.equal(e.message, "the router does not take this track's video/AV1 (profile 0); it has video/AV1 (profile 1)");
    return true;
  });
  assert.equal(serverProducers.length, 0);

  const { transport: main } = await routerSession(t, [av1({ profile: 0 })]);
  const { transport: toMain, serverProducers: accepted } = await main();
  await toMain.produce({ track });
  assert.equal(accepted.length, 1);
});
