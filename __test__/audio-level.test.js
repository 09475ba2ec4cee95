'use strict';

// Audio levels end to end: the RFC 6464 `ssrc-audio-level` header extension of this client's
// audio packets, as mediasoup's AudioLevelObserver hears it on the real worker on 127.0.0.1.
// The observer averages the levels of a producer's packets over each interval and emits
// 'volumes' (dBov, -127..0, above its threshold) or, when every producer falls below the
// threshold after one was above it, 'silence'. A producer whose packets carry no level is in
// neither. The ActiveSpeakerObserver reads the same levels.

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const path = require('node:path');
const { spawnSync, spawn } = require('node:child_process');
const { createTrack, createFileTrack, createRtpTrack } = require('..');
const { opusPacket } = require('../demo/frames');
const { startServerAndDevice } = require('./helpers/server');

const noFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0 && 'ffmpeg is not installed (scripts/setup-media-tools.sh installs it)';

// What libopus' encoder makes of 20 ms of digital silence (CELT, fullband, mono): it decodes to
// all-zero samples.
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
// ffmpeg's `sine` source (samples/opus.ogg, the ffmpeg RTP below) is a 440 Hz tone of amplitude
// 1/8: an RMS level of -18 - 3 = -21 dBov.
const TONE_DBOV = -21;

let server;
let device;
test.before(async () => {
  ({ server, device } = await startServerAndDevice());
});
test.after(() => server.close());

// A server AudioLevelObserver on the test router, closed when `t` ends.
async function observer(t, serverProducers) {
  const o = await server.router.createAudioLevelObserver({ interval: 200, threshold: -80, maxEntries: 10 });
  t.after(() => o.close());
  for (const p of serverProducers) await o.addProducer({ producerId: p.id });
  return o;
}

// The volume of `serverProducer` in the observer's next 'volumes' event that has it; every
// event seen meanwhile is pushed to `seen`. Fails after `timeout` ms (the server heard no level).
function nextVolume(o, serverProducer, { timeout = 10000, seen = [] } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      o.off('volumes', onVolumes);
      reject(new Error(`no 'volumes' entry for the producer in ${timeout} ms: the server hears no audio level`));
    }, timeout);
    function onVolumes(volumes) {
      seen.push(volumes);
      const entry = volumes.find((v) => v.producer.id === serverProducer.id);
      if (!entry) return;
      clearTimeout(timer);
      o.off('volumes', onVolumes);
      resolve(entry.volume);
    }
    o.on('volumes', onVolumes);
  });
}

// The observer's next 'silence' event, or a failure after `timeout` ms.
async function nextSilence(o, { timeout = 10000 } = {}) {
  await once(o, 'silence', { signal: AbortSignal.timeout(timeout) }).catch((e) => {
    throw e.name === 'AbortError' ? new Error(`no 'silence' from the observer in ${timeout} ms`) : e;
  });
}

// Writes `frame()` with `options()` on `track` every 20 ms until `t` ends.
function writeEvery20ms(t, track, frame, options = () => ({})) {
  let n = 0;
  const timer = setInterval(() => {
    track.writeFrame(frame(), { timestamp: n++ * 20000, ...options() });
  }, 20);
  t.after(() => clearInterval(timer));
}

test('a file track of Ogg/Opus is heard at the level of its tone', async (t) => {
  const { transport, serverProducers } = await server.sendTransport(t, device);
  const track = await createFileTrack(path.join(__dirname, '..', 'samples', 'opus.ogg'), { loop: true });
  t.after(() => track.stop());
  await transport.produce({ track });
  const o = await observer(t, serverProducers);
  const volume = await nextVolume(o, serverProducers[0]);
  t.diagnostic(`heard at ${volume} dBov`);
  assert.ok(volume > -60 && volume < 0, `volume ${volume}`);
  assert.ok(Math.abs(volume - TONE_DBOV) <= 3, `a tone of ${TONE_DBOV} dBov heard at ${volume}`);
});

test('writeFrame({ audioLevel }): heard at the level given, then silent at 127', async (t) => {
  const { transport, serverProducers } = await server.sendTransport(t, device);
  const track = createTrack({ kind: 'audio' });
  t.after(() => track.stop());
  await transport.produce({ track });
  const o = await observer(t, serverProducers);
  let audioLevel = 10;
  writeEvery20ms(t, track, () => opusPacket(), () => ({ audioLevel, voiceActivity: audioLevel < 127 }));
  // every packet says -10 dBov: so does the average
  assert.equal(await nextVolume(o, serverProducers[0]), -10);
  audioLevel = 127;
  await nextSilence(o);
});

test('measureAudioLevel: frames are decoded for their level; a plain track sends none', async (t) => {
  const { transport, serverProducers } = await server.sendTransport(t, device);
  const measured = createTrack({ kind: 'audio', measureAudioLevel: true });
  const plain = createTrack({ kind: 'audio' });
  t.after(() => measured.stop());
  t.after(() => plain.stop());
  await transport.produce({ track: measured });
  await transport.produce({ track: plain });
  const o = await observer(t, serverProducers);
  let silent = false;
  // random CELT data decodes to loud noise; the silence frame to zeros
  writeEvery20ms(t, measured, () => (silent ? OPUS_SILENCE : opusPacket()));
  writeEvery20ms(t, plain, () => opusPacket());
  const seen = [];
  const volume = await nextVolume(o, serverProducers[0], { seen });
  t.diagnostic(`noise heard at ${volume} dBov`);
  assert.ok(volume > -80 && volume <= 0, `volume ${volume}`);
  silent = true;
  await nextSilence(o);
  const plainHeard = seen.flat().filter((v) => v.producer.id === serverProducers[1].id);
  assert.deepEqual(plainHeard, [], 'frames written with no level carry none');
});

test('an RTP track of Opus from ffmpeg is heard at the level of its tone', { skip: noFfmpeg }, async (t) => {
  const { transport, serverProducers } = await server.sendTransport(t, device);
  const track = createRtpTrack({ kind: 'audio', codec: 'audio/opus' });
  t.after(() => track.stop());
  await transport.produce({ track });
  const o = await observer(t, serverProducers);
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-c:a', 'libopus', '-b:a', '32k', '-f', 'rtp', `rtp://127.0.0.1:${track.port}`],
    { stdio: ['ignore', 'ignore', 'inherit'] }
  );
  t.after(() => child.kill('SIGKILL'));
  const volume = await nextVolume(o, serverProducers[0], { timeout: 20000 });
  t.diagnostic(`heard at ${volume} dBov`);
  assert.ok(Math.abs(volume - TONE_DBOV) <= 3, `a tone of ${TONE_DBOV} dBov heard at ${volume}`);
});

test('an ActiveSpeakerObserver follows the levels: the one who talks is the dominant speaker', async (t) => {
  const { transport, serverProducers } = await server.sendTransport(t, device);
  const tracks = [createTrack({ kind: 'audio' }), createTrack({ kind: 'audio' })];
  for (const track of tracks) {
    t.after(() => track.stop());
    await transport.produce({ track });
  }
  // The observer looks for speech above each producer's noise floor (a steady level counts as
  // noise): the talker sends spurts of 0.6 s at -20 dBov between 0.4 s at -80 dBov, the
  // other one -80 dBov throughout.
  let talker = 0;
  for (const [i, track] of tracks.entries()) {
    let n = 0;
    writeEvery20ms(t, track, () => opusPacket(), () => {
      const talking = talker === i && n++ % 50 < 30;
      return { audioLevel: talking ? 20 : 80, voiceActivity: talking };
    });
  }
  const o = await server.router.createActiveSpeakerObserver({ interval: 100 });
  t.after(() => o.close());
  const dominant = [];
  o.on('dominantspeaker', ({ producer }) => dominant.push(serverProducers.findIndex((p) => p.id === producer.id)));
  for (const p of serverProducers) await o.addProducer({ producerId: p.id });
  // the observer names one of them at once; each must become dominant when it talks
  for (const next of [0, 1]) {
    talker = next;
    const signal = AbortSignal.timeout(10000);
    while (dominant[dominant.length - 1] !== next) {
      await once(o, 'dominantspeaker', { signal }).catch((e) => {
        throw e.name === 'AbortError' ? new Error(`producer ${next} talks but is not dominant: ${dominant}`) : e;
      });
    }
  }
  t.diagnostic(`dominant speakers in turn: ${dominant}`);
});

test('audioLevel, voiceActivity and measureAudioLevel: bad values are TypeErrors', () => {
  const audio = createTrack({ kind: 'audio' });
  const frame = Buffer.from([0xf8, 1, 2]);
  for (const audioLevel of [-1, 128, 1.5, '3', null, NaN]) {
    assert.throws(() => audio.writeFrame(frame, { audioLevel }), { name: 'TypeError', message: /audioLevel/ }, String(audioLevel));
  }
  assert.throws(() => audio.writeFrame(frame, { audioLevel: 3, voiceActivity: 1 }), { name: 'TypeError', message: /voiceActivity/ });
  assert.throws(() => audio.writeFrame(frame, { voiceActivity: true }), { name: 'TypeError', message: /voiceActivity.*audioLevel/ });
  const video = createTrack({ kind: 'video' });
  assert.throws(() => video.writeFrame(frame, { audioLevel: 3 }), { name: 'TypeError', message: /audioLevel is for audio tracks/ });
  assert.throws(() => createTrack({ kind: 'audio', measureAudioLevel: 'yes' }), { name: 'TypeError', message: /measureAudioLevel/ });
  // a valid level on an unattached track: the usual InvalidStateError
  assert.throws(() => audio.writeFrame(frame, { audioLevel: 0, voiceActivity: true }), { name: 'InvalidStateError' });
  audio.stop();
  video.stop();
});
