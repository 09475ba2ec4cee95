'use strict';

// Differential tests of lib/ortc.js (the native ORTC layer, src/ortc) against mediasoup-client
// 3.18.7's own `ortc` module: the same inputs must give deep-equal outputs (compared as JSON,
// the wire format: a member set to `undefined` counts as absent), deep-equal arguments
// afterwards (both normalize in place), and the same error class (and message where noted).
//
// The reference is the `mediasoup-client` dev dependency, or the install under the directory
// that MSC_REFERENCE_DIR names (`npm install mediasoup-client@3.18.7` there).

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ours = require('../lib/ortc');
const { prng } = require('./helpers/prng');

function loadReference() {
  const roots = [process.env.MSC_REFERENCE_DIR, path.resolve(__dirname, '..')].filter(Boolean);
  for (const root of roots) {
    try {
      const main = require.resolve('mediasoup-client', { paths: [root] });
      const lib = path.dirname(main);
      return {
        ortc: require(path.join(lib, 'ortc.js')),
        parseScalabilityMode: require(path.join(lib, 'scalabilityModes.js')).parse,
        fakeParameters: require(path.join(lib, 'test', 'fakeParameters.js')),
        version: require(path.join(lib, '..', 'package.json')).version,
      };
    } catch {
      // next root
    }
  }
  throw new Error('mediasoup-client 3.18.7 not found: npm install, or set MSC_REFERENCE_DIR');
}

const ref = loadReference();
const fixtures = path.resolve(__dirname, '..', 'src', 'ortc', 'tests', 'fixtures');
const routerFixture = JSON.parse(fs.readFileSync(path.join(fixtures, 'router_rtp_capabilities.json')));
const nativeFixture = JSON.parse(fs.readFileSync(path.join(fixtures, 'native_rtp_capabilities.json')));

const clone = (value) => (value === undefined ? undefined : structuredClone(value));
const wire = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

// Runs `fn` of both implementations on separate copies of `args`. Returns both outcomes.
function runBoth(name, args) {
  const outcome = (impl) => {
    const copies = args.map(clone);
    try {
      return { value: impl[name](...copies), args: copies };
    } catch (error) {
      return { error, args: copies };
    }
  };
  return { ours: outcome(ours), ref: outcome(ref.ortc) };
}

// Asserts both implementations agree on `fn(...args)`. `returnsArg` for the validate*
// functions: the reference returns nothing, ours returns the normalized argument.
function same(name, args, { message = true, returnsArg = false } = {}) {
  const both = runBoth(name, args);
  const label = `${name}(${JSON.stringify(args).slice(0, 300)})`;
  if (both.ref.error || both.ours.error) {
    assert.ok(both.ref.error, `${label}: ours threw ${both.ours.error}, the reference did not`);
    assert.ok(both.ours.error, `${label}: the reference threw ${both.ref.error}, ours did not`);
    assert.equal(both.ours.error.constructor, both.ref.error.constructor, `${label}: error class`);
    if (message) assert.equal(both.ours.error.message, referenceMessage(both.ref.error), `${label}: message`);
    return both;
  }
  if (returnsArg) {
    assert.equal(both.ref.value, undefined);
    assert.equal(both.ours.value, both.ours.args[0], `${label}: returns its argument`);
  } else {
    assert.deepStrictEqual(wire(both.ours.value), wire(both.ref.value), `${label}: result`);
  }
  assert.deepStrictEqual(wire(both.ours.args), wire(both.ref.args), `${label}: arguments after`);
  return both;
}

// The reference's message for a codec parameter of the wrong type has a stray 's' after the
// key ("[key:foos, value:true]"); ours has not. Everything else is word for word.
function referenceMessage(error) {
  return error.message.replace(/^(invalid codec parameter \[key:.*)s(, value:[^\]]*\])$/, '$1$2');
}

// What the chains covered (so that the generated cases are known to reach the matching).
const stats = { chains: 0, invalid: 0, matched: 0, h264: 0, rtx: 0, reduceErrors: 0, reduceMatches: 0 };

// The full chain a Device runs, on both implementations, compared at every step.
function chain(localCaps, remoteCaps, { preferLocalCodecsOrder = false, pick = () => 0 } = {}) {
  const local = clone(localCaps);
  const remote = clone(remoteCaps);
  const v1 = same('validateAndNormalizeRtpCapabilities', [local], { returnsArg: true });
  const v2 = same('validateAndNormalizeRtpCapabilities', [remote], { returnsArg: true });
  stats.chains++;
  if (v1.ref.error || v2.ref.error) {
    stats.invalid++;
    return;
  }
  const normalizedLocal = v1.ref.args[0];
  const normalizedRemote = v2.ref.args[0];

  const ext = same('getExtendedRtpCapabilities', [normalizedLocal, normalizedRemote, preferLocalCodecsOrder]);
  const extended = ext.ref.value;
  if (extended.codecs.length > 0) stats.matched++;
  if (extended.codecs.some((c) => c.mimeType.toLowerCase() === 'video/h264')) stats.h264++;
  if (extended.codecs.some((c) => c.localRtxPayloadType)) stats.rtx++;
  const recv = same('getRecvRtpCapabilities', [extended]).ref.value;
  const send = same('getSendRtpCapabilities', [extended]).ref.value;
  same('validateAndNormalizeRtpCapabilities', [recv], { returnsArg: true });

  for (const kind of ['audio', 'video']) {
    same('canSend', [kind, send]);
    const sending = same('getSendingRtpParameters', [kind, extended]).ref.value;
    const remoteSending = same('getSendingRemoteRtpParameters', [kind, extended]).ref.value;
    if (sending.codecs.length === 0) continue;
    same('reduceCodecs', [sending.codecs]);
    same('reduceCodecs', [remoteSending.codecs]);
    // With each codec the device could be asked to use (from its capabilities), and one
    // it cannot (an unknown codec).
    const asked = recv.codecs.filter((codec) => codec.kind === kind);
    const choice = asked[pick(asked.length + 1)];
    const capCodec = choice || { kind, mimeType: `${kind}/nonexistent`, clockRate: 90000, parameters: {} };
    const reduced = same('reduceCodecs', [sending.codecs, capCodec]);
    if (reduced.ref.error) stats.reduceErrors++;
    else stats.reduceMatches++;
    same('reduceCodecs', [remoteSending.codecs, capCodec]);

    const params = { ...sending, mid: '0', encodings: [{ ssrc: 1111 }], rtcp: { cname: 'x' } };
    same('validateAndNormalizeRtpParameters', [params], { returnsArg: true });
    same('canReceive', [params, recv]);
    if (kind === 'video') same('generateProbatorRtpParameters', [params]);
  }
  const unknown = { codecs: [{ mimeType: 'audio/opus', payloadType: 55, clockRate: 48000 }] };
  same('canReceive', [unknown, recv]);
  same('canReceive', [{ codecs: [] }, recv]);
}

describe(`ortc against mediasoup-client ${ref.version}`, () => {
  test('the reference is mediasoup-client 3.18.7', () => {
    assert.equal(ref.version, '3.18.7');
  });

  test('router fixture: extended capabilities with the router itself and without VP8', () => {
    chain(routerFixture, routerFixture);
    const noVp8 = clone(routerFixture);
    noVp8.codecs.splice(1, 1);
    chain(noVp8, routerFixture);
    chain(nativeFixture, routerFixture);
    chain(nativeFixture, routerFixture, { preferLocalCodecsOrder: true, pick: (n) => n - 2 });
    // And what the port of libmediasoupclient's tests expects, through the JS API.
    const local = clone(routerFixture);
    const remote = clone(routerFixture);
    ours.validateAndNormalizeRtpCapabilities(local);
    ours.validateAndNormalizeRtpCapabilities(remote);
    const extended = ours.getExtendedRtpCapabilities(local, remote);
    assert.deepEqual(
      extended.codecs.map((c) => [c.mimeType, c.localRtxPayloadType, c.remoteRtxPayloadType]),
      [['audio/opus', undefined, undefined], ['video/VP8', 102, 102], ['video/H264', 104, 104]]
    );
    assert.equal(extended.headerExtensions.length, 8);
    const recv = ours.getRecvRtpCapabilities(extended);
    assert.deepEqual(
      recv.codecs.map((c) => c.mimeType),
      ['audio/opus', 'video/VP8', 'video/rtx', 'video/H264', 'video/rtx']
    );
    const opus = (payloadType) => ({
      codecs: [{ mimeType: 'audio/opus', kind: 'audio', clockRate: 48000, payloadType, channels: 2 }],
    });
    assert.equal(ours.canReceive(opus(100), recv), true);
    assert.equal(ours.canReceive(opus(96), recv), false);
    assert.equal(ours.canReceive({ codecs: [] }, recv), false);
  });

  test("mediasoup-client's own fake parameters", () => {
    const fake = ref.fakeParameters;
    const router = fake.generateRouterRtpCapabilities();
    chain(fake.generateNativeRtpCapabilities(), router);
    chain(fake.generateNativeRtpCapabilities(), router, { preferLocalCodecsOrder: true });
    for (const { rtpParameters } of [
      fake.generateConsumerRemoteParameters({ codecMimeType: 'audio/opus' }),
      fake.generateConsumerRemoteParameters({ codecMimeType: 'video/VP8' }),
      fake.generateConsumerRemoteParameters({ codecMimeType: 'video/H264' }),
    ]) {
      same('validateAndNormalizeRtpParameters', [rtpParameters], { returnsArg: true });
      same('generateProbatorRtpParameters', [rtpParameters]);
    }
    const { numStreams } = fake.generateNativeSctpCapabilities();
    same('validateSctpCapabilities', [{ numStreams }], { returnsArg: true });
  });

  test('H264: profiles, levels, packetization-mode, level-asymmetry-allowed', () => {
    const profiles = ['42e01f', '42001f', '4d001f', '640032', '640c1f', 'f4001f', '42e034',
      '42e00a', '42f00b', '42e00b', '42E01F', '4d401f', '58a01e', '42e0zz', '', undefined];
    const modes = [0, 1, '1', undefined];
    const asymmetry = [1, 0, '1', undefined];
    const h264 = (pt, plid, mode, las) => {
      const parameters = {};
      if (plid !== undefined) parameters['profile-level-id'] = plid;
      if (mode !== undefined) parameters['packetization-mode'] = mode;
      if (las !== undefined) parameters['level-asymmetry-allowed'] = las;
      return { kind: 'video', mimeType: 'video/H264', preferredPayloadType: pt, clockRate: 90000, parameters };
    };
    let cases = 0;
    for (const a of profiles) {
      for (const b of profiles) {
        const mode = modes[cases % modes.length];
        const las = [asymmetry[cases % asymmetry.length], asymmetry[(cases >> 2) % asymmetry.length]];
        const otherMode = cases % 7 === 0 ? modes[(cases + 1) % modes.length] : mode;
        const local = { codecs: [h264(96, a, mode, las[0]), h264(98, b, mode, las[1])] };
        const remote = { codecs: [h264(100, b, otherMode, las[1]), h264(101, a, mode, las[0])] };
        chain(local, remote, { preferLocalCodecsOrder: cases % 2 === 0, pick: (n) => cases % n });
        cases++;
      }
    }
    assert.equal(cases, profiles.length ** 2);
  });

  test('generated capabilities: codec subsets and orders, H264 and VP9 profiles, header extensions', () => {
    const random = prng(0x6d736321);
    const cases = 300;
    const before = { ...stats };
    for (let i = 0; i < cases; i++) {
      const local = generateCapabilities(random);
      const dice = random();
      const remote =
        dice < 0.2 ? clone(local) : dice < 0.6 ? deriveCapabilities(local, random) : generateCapabilities(random);
      chain(local, remote, {
        preferLocalCodecsOrder: random() < 0.3,
        pick: (n) => Math.floor(random() * n),
      });
    }
    const covered = Object.fromEntries(Object.keys(stats).map((k) => [k, stats[k] - before[k]]));
    assert.equal(covered.chains, cases);
    assert.ok(covered.invalid < cases / 10, JSON.stringify(covered));
    assert.ok(covered.matched > cases / 2, JSON.stringify(covered));
    assert.ok(covered.h264 > cases / 10, JSON.stringify(covered));
    assert.ok(covered.rtx > cases / 4, JSON.stringify(covered));
    assert.ok(covered.reduceErrors > 20 && covered.reduceMatches > 100, JSON.stringify(covered));
    console.log('generated cases covered', JSON.stringify(covered));
  });

  describe('validation: the same error class and message', () => {
    const opus = { mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000 };
    const vp8 = { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 };
    const ext = { kind: 'video', uri: 'urn:x', preferredId: 1 };
    const capsCases = [
      { codecs: 'x' },
      { headerExtensions: {} },
      { codecs: [5] },
      { codecs: [{}] },
      { codecs: [{ ...opus, mimeType: '' }] },
      { codecs: [{ ...opus, mimeType: 'opus' }] },
      { codecs: [{ ...opus, mimeType: 'audio/' }] },
      { codecs: [{ ...opus, mimeType: 'AUDIO/opus' }] },
      { codecs: [{ ...opus, preferredPayloadType: '100' }] },
      { codecs: [{ ...opus, clockRate: undefined }] },
      { codecs: [{ ...opus, channels: '2' }] },
      { codecs: [{ ...opus, parameters: { apt: '100' } }] },
      { codecs: [{ ...opus, parameters: 'x', rtcpFeedback: 'y' }] },
      { codecs: [{ ...opus, rtcpFeedback: [1] }] },
      { codecs: [{ ...opus, rtcpFeedback: [{ parameter: 'pli' }] }] },
      { codecs: [{ ...opus, rtcpFeedback: [{ type: 'nack', parameter: 1 }] }] },
      { codecs: [{ ...opus, kind: 'video', channels: 2 }, { ...opus, mimeType: 'video/VP8', channels: 2 }] },
      { headerExtensions: [1] },
      { headerExtensions: [{ ...ext, kind: 'data' }] },
      { headerExtensions: [{ ...ext, uri: 1 }] },
      { headerExtensions: [{ ...ext, preferredId: '1' }] },
      { headerExtensions: [{ ...ext, preferredEncrypt: 'yes' }] },
      { headerExtensions: [{ ...ext, preferredEncrypt: 0, direction: '' }] },
      { headerExtensions: [{ ...ext, direction: 5 }] },
      {},
    ];
    const paramsCases = [
      { codecs: [vp8], mid: 5 },
      {},
      { codecs: {} },
      { codecs: [{ ...vp8, payloadType: undefined }] },
      { codecs: [{ ...vp8, mimeType: 'VP8' }] },
      { codecs: [vp8], headerExtensions: 'x' },
      { codecs: [vp8], headerExtensions: [{ uri: 'urn:x' }] },
      { codecs: [vp8], headerExtensions: [{ id: 1 }] },
      { codecs: [vp8], headerExtensions: [{ uri: 'urn:x', id: 1, encrypt: 'x' }] },
      { codecs: [vp8], headerExtensions: [{ uri: 'urn:x', id: 1, parameters: { a: true } }] },
      { codecs: [vp8], encodings: {} },
      { codecs: [vp8], encodings: [1] },
      { codecs: [vp8], encodings: [{ ssrc: '1' }] },
      { codecs: [vp8], encodings: [{ rid: 1 }] },
      { codecs: [vp8], encodings: [{ rtx: 1 }] },
      { codecs: [vp8], encodings: [{ rtx: {} }] },
      { codecs: [vp8], encodings: [{ dtx: 'x', scalabilityMode: 'L1T3' }] },
      { codecs: [vp8], encodings: [{ scalabilityMode: 3 }] },
      { codecs: [vp8], rtcp: 'x' },
      { codecs: [vp8], rtcp: { cname: 1 } },
      { codecs: [vp8], rtcp: { reducedSize: false, mux: true } },
      { codecs: [{ ...vp8, mimeType: 'audio/opus', channels: 2 }], mid: '' },
    ];
    const streamCases = [
      { streamId: '1' },
      { streamId: 1 },
      { streamId: 1, maxPacketLifeTime: '5' },
      { streamId: 1, maxRetransmits: 'x' },
      { streamId: 1, maxPacketLifeTime: 5, maxRetransmits: 2 },
      { streamId: 1, ordered: true, maxRetransmits: 2 },
      { streamId: 1, ordered: false, maxRetransmits: 2 },
      { streamId: 1, maxPacketLifeTime: 100 },
      { streamId: 1, label: 5 },
      { streamId: 1, protocol: {} },
      { streamId: 1, label: 'chat', protocol: 'json' },
    ];
    const sctpCases = [{}, { numStreams: 5 }, { numStreams: {} }, { numStreams: { OS: 1 } }, { numStreams: { OS: 1, MIS: 2 } }];

    test('RTP capabilities', () => {
      for (const caps of capsCases) same('validateAndNormalizeRtpCapabilities', [caps], { returnsArg: true });
    });
    test('RTP parameters', () => {
      for (const params of paramsCases) same('validateAndNormalizeRtpParameters', [params], { returnsArg: true });
    });
    test('SCTP stream parameters and capabilities', () => {
      for (const params of streamCases) same('validateAndNormalizeSctpStreamParameters', [params], { returnsArg: true });
      for (const caps of sctpCases) same('validateSctpCapabilities', [caps], { returnsArg: true });
    });
    test('not an object', () => {
      for (const fn of ['validateAndNormalizeRtpCapabilities', 'validateAndNormalizeRtpParameters',
        'validateAndNormalizeSctpStreamParameters', 'validateSctpCapabilities']) {
        for (const bad of ['x', 5, true, undefined]) same(fn, [bad]);
        // null is typeof 'object': the reference then fails reading a member of it (a
        // TypeError with V8's own message); ours says what is wrong.
        same(fn, [null], { message: false });
      }
    });
    test('a codec parameter of the wrong type', () => {
      // The reference's message has a stray 's' after the key ("[key:foos, value:true]")
      // and prints objects as "[object Object]"; ours prints the key and the JSON value.
      const both = same('validateAndNormalizeRtpCapabilities', [{ codecs: [{ ...opus, parameters: { foo: true } }] }],
        { message: false });
      assert.equal(both.ours.error.message, 'invalid codec parameter [key:foo, value:true]');
    });
    test('deliberately stricter than the reference', () => {
      // Numbers must fit the typed field: the reference takes any number as a payload type.
      assert.throws(() => ours.validateAndNormalizeRtpCapabilities({ codecs: [{ ...opus, preferredPayloadType: 300 }] }),
        { name: 'TypeError', message: 'invalid codec.preferredPayloadType' });
      assert.doesNotThrow(() => ref.ortc.validateAndNormalizeRtpCapabilities({ codecs: [{ ...opus, preferredPayloadType: 300 }] }));
      // A header extension direction must be a direction: the reference takes any string.
      assert.throws(() => ours.validateAndNormalizeRtpCapabilities({ headerExtensions: [{ ...ext, direction: 'up' }] }),
        { name: 'TypeError', message: 'invalid ext.direction' });
      // Arrays are not objects: the reference fills defaults into an array.
      assert.throws(() => ours.validateAndNormalizeRtpCapabilities([]), { name: 'TypeError', message: 'caps is not an object' });
      assert.doesNotThrow(() => ref.ortc.validateAndNormalizeRtpCapabilities([]));
      // A falsy optional member of the wrong type is dropped, where the reference keeps it.
      const params = { codecs: [vp8], mid: 0 };
      ours.validateAndNormalizeRtpParameters(params);
      assert.equal('mid' in params, false);
    });
  });

  test('transport parameters (libmediasoupclient checks; not in mediasoup-client)', () => {
    const remote = ref.fakeParameters.generateTransportRemoteParameters();
    const ice = ours.validateIceParameters(clone(remote.iceParameters));
    assert.equal(typeof ice.iceLite, 'boolean');
    const candidates = ours.validateIceCandidates(clone(remote.iceCandidates));
    assert.equal(candidates.length, remote.iceCandidates.length);
    for (const c of candidates) assert.equal(typeof c.address, 'string');
    assert.deepEqual(ours.validateDtlsParameters(clone(remote.dtlsParameters)), remote.dtlsParameters);
    ours.validateSctpParameters(clone(remote.sctpParameters));
    assert.throws(() => ours.validateIceParameters({ password: 'x' }), {
      name: 'TypeError', message: 'missing params.usernameFragment',
    });
    assert.throws(() => ours.validateIceCandidates({}), { name: 'TypeError', message: 'params is not an array' });
    assert.throws(() => ours.validateDtlsParameters({ role: 'auto', fingerprints: [] }), {
      name: 'TypeError', message: 'missing params.fingerprints',
    });
    assert.throws(() => ours.validateSctpParameters({ port: 5000 }), { name: 'TypeError', message: 'missing params.OS' });
  });

  test('reduceCodecs with no match, probator without codecs, unknown kinds', () => {
    const ext = ours.getExtendedRtpCapabilities(
      ours.validateAndNormalizeRtpCapabilities(clone(nativeFixture)),
      ours.validateAndNormalizeRtpCapabilities(clone(routerFixture))
    );
    const codecs = ours.getSendingRtpParameters('video', ext).codecs;
    const h264pm0 = { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 0 } };
    same('reduceCodecs', [codecs, h264pm0]);
    assert.throws(() => ours.reduceCodecs(codecs, h264pm0), { name: 'TypeError', message: 'no matching codec found' });
    // Empty codecs: the reference gives [undefined] (its first codec), ours [].
    assert.deepEqual(ours.reduceCodecs([]), []);
    // No codec: the reference fails setting a member of undefined; ours names the field.
    assert.throws(() => ours.generateProbatorRtpParameters({ codecs: [] }), TypeError);
    assert.throws(() => ref.ortc.generateProbatorRtpParameters({ codecs: [] }), TypeError);
    for (const kind of ['data', undefined, 5]) {
      same('getSendingRtpParameters', [kind, ext]);
      same('getSendingRemoteRtpParameters', [kind, ext]);
      same('canSend', [kind, ours.getSendRtpCapabilities(ext)]);
    }
  });

  test('getExtendedRtpCapabilities writes the negotiated profile-level-id back, as the reference', () => {
    const local = ours.validateAndNormalizeRtpCapabilities(clone(nativeFixture));
    const remote = ours.validateAndNormalizeRtpCapabilities(clone(routerFixture));
    const h264 = remote.codecs.find((c) => c.mimeType === 'video/H264');
    const params = h264.parameters;
    ours.getExtendedRtpCapabilities(local, remote);
    assert.equal(h264.parameters, params, 'same object');
    assert.equal(params['profile-level-id'], '42e034');
  });

  test('parseScalabilityMode', () => {
    const modes = ['L1T3', 'L30T3', 'L1T6', 'L3T3_KEY', 'S3T3', 'L2T2_KEY_SHIFT', 'S2T1h', '1T3', 'L0T3',
      'L1T0', 'LT3', 'l1t3', 'L123T3', ' L1T3', 'L99T99', 'L1T35_KEY', '', undefined, null, 5];
    for (const mode of modes) {
      const theirs = ref.parseScalabilityMode(typeof mode === 'number' ? undefined : mode);
      const mine = ours.parseScalabilityMode(mode);
      // ksvc is ours only (mediasoup's server-side parser has it, mediasoup-client's not).
      assert.equal(mine.ksvc, typeof mode === 'string' && /^[LS][1-9]\d?T[1-9]\d?_KEY/.test(mode), String(mode));
      const { ksvc, ...layers } = mine;
      assert.deepStrictEqual(layers, theirs, String(mode));
    }
  });
});

const FEEDBACK = [
  { type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' },
  { type: 'goog-remb' }, { type: 'transport-cc' }, { type: 'nack', parameter: '' },
];
const H264_PROFILES = ['42e01f', '42001f', '4d001f', '640032', '640c1f', '42e034', '42f00b', '42e00b', '42E01F',
  '4d0032', 'f4001f', '58a01e', 'zzzzzz', undefined];
const HEADER_EXTENSIONS = [
  ['audio', 'urn:ietf:params:rtp-hdrext:sdes:mid'],
  ['video', 'urn:ietf:params:rtp-hdrext:sdes:mid'],
  ['video', 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'],
  ['video', 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id'],
  ['audio', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
  ['video', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
  ['audio', 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
  ['video', 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
  ['audio', 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'],
  ['video', 'urn:3gpp:video-orientation'],
  ['video', 'urn:ietf:params:rtp-hdrext:toffset'],
  ['video', 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'],
];

// Another side's view of `caps`: a shuffled subset with its own payload types and header
// extension ids, some H264 parameters changed.
function deriveCapabilities(caps, random) {
  const chance = (p) => random() < p;
  const media = caps.codecs.filter((c) => !/\/rtx$/i.test(c.mimeType) && chance(0.8)).map(clone);
  for (let i = media.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [media[i], media[j]] = [media[j], media[i]];
  }
  const codecs = [];
  let pt = 100;
  for (const codec of media) {
    if (codec.preferredPayloadType !== 0) codec.preferredPayloadType = pt++;
    if (/h264/i.test(codec.mimeType) && chance(0.4)) {
      const key = ['profile-level-id', 'packetization-mode', 'level-asymmetry-allowed'][Math.floor(random() * 3)];
      const values = { 'profile-level-id': H264_PROFILES, 'packetization-mode': [0, 1], 'level-asymmetry-allowed': [0, 1] }[key];
      codec.parameters[key] = values[Math.floor(random() * values.length)];
      if (codec.parameters[key] === undefined) delete codec.parameters[key];
    }
    codecs.push(codec);
    if (codec.kind === 'video' && chance(0.8)) {
      codecs.push({ kind: 'video', mimeType: 'video/rtx', clockRate: codec.clockRate, preferredPayloadType: pt++,
        parameters: { apt: codec.preferredPayloadType }, rtcpFeedback: [] });
    }
  }
  const headerExtensions = (caps.headerExtensions || []).filter(() => chance(0.8)).map((ext, i) => ({
    ...ext, preferredId: 1 + i, direction: ['sendrecv', 'recvonly', 'sendonly'][Math.floor(random() * 3)],
  }));
  return { codecs, headerExtensions };
}

function generateCapabilities(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const chance = (p) => random() < p;
  const subset = (list, p) => list.filter(() => chance(p));
  const shuffle = (list) => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  };
  const freePayloadTypes = shuffle(Array.from({ length: 32 }, (_, i) => 96 + i));
  const nextPayloadType = () => freePayloadTypes.pop();
  const feedback = () => subset(FEEDBACK, 0.6).map(clone);

  const pool = [
    () => ({ mimeType: pick(['audio/opus', 'audio/OPUS']), clockRate: 48000, channels: pick([2, 2, 1, undefined]),
      parameters: chance(0.5) ? { useinbandfec: pick([1, '1']), minptime: 10 } : {}, rtcpFeedback: subset([{ type: 'transport-cc' }], 0.5) }),
    () => ({ mimeType: 'audio/PCMU', clockRate: 8000, preferredPayloadType: 0 }),
    () => ({ mimeType: 'audio/G722', clockRate: 8000 }),
    () => ({ mimeType: pick(['video/VP8', 'video/vp8']), clockRate: 90000, rtcpFeedback: feedback(),
      parameters: chance(0.3) ? { 'x-google-start-bitrate': 1000 } : {} }),
    () => ({ mimeType: 'video/VP9', clockRate: 90000, rtcpFeedback: feedback(),
      parameters: chance(0.8) ? { 'profile-id': pick([0, 2, 0, '0', 1]) } : {} }),
    () => {
      const parameters = {};
      const plid = pick(H264_PROFILES);
      if (plid !== undefined) parameters['profile-level-id'] = plid;
      if (chance(0.8)) parameters['packetization-mode'] = pick([1, 1, 0, '1']);
      if (chance(0.7)) parameters['level-asymmetry-allowed'] = pick([1, 1, 0, '1']);
      return { mimeType: pick(['video/H264', 'video/h264']), clockRate: 90000, rtcpFeedback: feedback(), parameters };
    },
    () => ({ mimeType: 'video/AV1', clockRate: 90000, rtcpFeedback: feedback() }),
    () => ({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: feedback(),
      parameters: { 'profile-level-id': pick(H264_PROFILES.slice(0, 6)), 'packetization-mode': pick([0, 1, 1]),
        'level-asymmetry-allowed': 1 } }),
    () => ({ mimeType: 'video/H265', clockRate: 90000, rtcpFeedback: feedback() }),
  ];
  const codecs = [];
  const count = 1 + Math.floor(random() * 7);
  for (let i = 0; i < count; i++) {
    const codec = pick(pool)();
    if (codec.preferredPayloadType === undefined) codec.preferredPayloadType = nextPayloadType();
    if (codec.channels === undefined) delete codec.channels;
    codec.kind = codec.mimeType.slice(0, 5).toLowerCase();
    codecs.push(codec);
    if (codec.kind === 'video' && chance(0.7)) {
      codecs.push({ kind: 'video', mimeType: pick(['video/rtx', 'video/RTX']), clockRate: 90000,
        preferredPayloadType: nextPayloadType(), parameters: { apt: codec.preferredPayloadType }, rtcpFeedback: [] });
    }
  }
  const headerExtensions = shuffle(subset(HEADER_EXTENSIONS, 0.6)).map(([kind, uri], i) => {
    const ext = { kind, uri, preferredId: 1 + ((i * 3 + Math.floor(random() * 3)) % 14) };
    if (chance(0.7)) ext.direction = pick(['sendrecv', 'sendrecv', 'recvonly', 'sendonly', 'inactive']);
    if (chance(0.2)) ext.preferredEncrypt = chance(0.5);
    return ext;
  });
  return chance(0.1) ? { codecs } : { codecs, headerExtensions };
}
