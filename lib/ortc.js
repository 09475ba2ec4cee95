'use strict';

// mediasoup-client's `ortc` module (3.18.7), on the native ORTC layer (src/ortc, crate
// msc-ortc): same function names, arguments and results, TypeError for bad input.
//
// The reference normalizes its arguments in place (validate* fill in defaults,
// getExtendedRtpCapabilities writes the negotiated H.264 profile-level-id into the codecs of
// both capabilities). Values cross into Rust as copies, so the wrappers below write what the
// native side changed back into the caller's objects, and the validate* functions also return
// the (same, normalized) object.

const native = require('../native.js');
const { callNative } = require('./errors');

function isObject(value) {
  return value !== null && typeof value === 'object';
}

// Makes `target` deep-equal to `source`, keeping `target`'s nested objects where both sides
// have an object (so references the caller holds see the changes too).
function syncInPlace(target, source) {
  if (Array.isArray(target) && Array.isArray(source)) {
    if (target.length !== source.length) target.length = source.length;
    for (let i = 0; i < source.length; i++) syncSlot(target, i, source[i]);
    return target;
  }
  for (const key of Object.keys(target)) {
    // An undefined member never reached the native side: leave it, as the reference does.
    if (target[key] !== undefined && !Object.prototype.hasOwnProperty.call(source, key)) {
      delete target[key];
    }
  }
  for (const key of Object.keys(source)) syncSlot(target, key, source[key]);
  return target;
}

function syncSlot(target, key, value) {
  const current = target[key];
  if (isObject(current) && isObject(value) && Array.isArray(current) === Array.isArray(value)) {
    syncInPlace(current, value);
  } else if (current !== value) {
    target[key] = value;
  }
}

// Calls a native ortc function. An argument napi cannot turn into JSON (a function, a symbol,
// NaN) is bad input: a TypeError, like the reference's checks give. `undefined` goes as null.
function call(fn, ...args) {
  try {
    return callNative(fn, ...args.map((arg) => (arg === undefined ? null : arg)));
  } catch (error) {
    if (error instanceof Error && error.constructor === Error) {
      throw new TypeError(`invalid argument: ${error.message}`);
    }
    throw error;
  }
}

// Runs a native validator and normalizes `value` in place; returns it.
function normalizeWith(fn, value) {
  const normalized = call(fn, value);
  return isObject(value) ? syncInPlace(value, normalized) : normalized;
}

function validateAndNormalizeRtpCapabilities(caps) {
  return normalizeWith(native.ortcValidateAndNormalizeRtpCapabilities, caps);
}

function validateAndNormalizeRtpParameters(params) {
  return normalizeWith(native.ortcValidateAndNormalizeRtpParameters, params);
}

function validateAndNormalizeSctpStreamParameters(params) {
  return normalizeWith(native.ortcValidateAndNormalizeSctpStreamParameters, params);
}

function validateSctpCapabilities(caps) {
  return normalizeWith(native.ortcValidateSctpCapabilities, caps);
}

// Not in mediasoup-client (libmediasoupclient checks these): transport options from a server.
function validateSctpParameters(params) {
  return normalizeWith(native.ortcValidateSctpParameters, params);
}

function validateIceParameters(params) {
  return normalizeWith(native.ortcValidateIceParameters, params);
}

function validateIceCandidates(candidates) {
  return normalizeWith(native.ortcValidateIceCandidates, candidates);
}

function validateDtlsParameters(params) {
  return normalizeWith(native.ortcValidateDtlsParameters, params);
}

// The only change the reference makes to its capabilities: codec profile-level-id.
function syncProfileLevelIds(caps, changed) {
  if (!isObject(caps) || !Array.isArray(caps.codecs)) return;
  caps.codecs.forEach((codec, i) => {
    const after = changed.codecs[i] && changed.codecs[i].parameters;
    if (!isObject(codec) || !isObject(codec.parameters) || !after) return;
    const value = after['profile-level-id'];
    if (value === undefined) {
      if ('profile-level-id' in codec.parameters) delete codec.parameters['profile-level-id'];
    } else if (codec.parameters['profile-level-id'] !== value) {
      codec.parameters['profile-level-id'] = value;
    }
  });
}

function getExtendedRtpCapabilities(localCaps, remoteCaps, preferLocalCodecsOrder) {
  const result = call(
    native.ortcGetExtendedRtpCapabilities,
    localCaps,
    remoteCaps,
    Boolean(preferLocalCodecsOrder)
  );
  syncProfileLevelIds(localCaps, result.localCaps);
  syncProfileLevelIds(remoteCaps, result.remoteCaps);
  return result.extended;
}

function getRecvRtpCapabilities(extendedRtpCapabilities) {
  return call(native.ortcGetRecvRtpCapabilities, extendedRtpCapabilities);
}

function getSendRtpCapabilities(extendedRtpCapabilities) {
  return call(native.ortcGetSendRtpCapabilities, extendedRtpCapabilities);
}

function kindString(kind) {
  return typeof kind === 'string' ? kind : '';
}

function getSendingRtpParameters(kind, extendedRtpCapabilities) {
  return call(native.ortcGetSendingRtpParameters, kindString(kind), extendedRtpCapabilities);
}

function getSendingRemoteRtpParameters(kind, extendedRtpCapabilities) {
  return call(native.ortcGetSendingRemoteRtpParameters, kindString(kind), extendedRtpCapabilities);
}

function reduceCodecs(codecs, capCodec) {
  return call(native.ortcReduceCodecs, codecs, capCodec || null);
}

function generateProbatorRtpParameters(videoRtpParameters) {
  return call(native.ortcGenerateProbatorRtpParameters, videoRtpParameters);
}

function canSend(kind, rtpCapabilities) {
  return call(native.ortcCanSend, kindString(kind), rtpCapabilities);
}

function canReceive(rtpParameters, rtpCapabilities) {
  validateAndNormalizeRtpParameters(rtpParameters);
  return call(native.ortcCanReceive, rtpParameters, rtpCapabilities);
}

// mediasoup-client exports this from its index; here it also says whether the mode is K-SVC.
function parseScalabilityMode(scalabilityMode) {
  const mode = typeof scalabilityMode === 'string' ? scalabilityMode : undefined;
  return call(native.ortcParseScalabilityMode, mode);
}

// Not in mediasoup-client: for a track bound to one bitstream (`{ kind, mimeType, parameters }`,
// parameters being its profile), the codec of `rtpCapabilities` (a loaded device's) to send it
// as, profiles read from `routerRtpCapabilities` (what the device was loaded with) when given
// (UnsupportedError naming what there is when none fits); and whether a codec the application
// asked for fits it (TypeError when not). Rules: src/ortc/track_codec.rs.
function codecForTrack(trackCodec, rtpCapabilities, routerRtpCapabilities) {
  return call(native.ortcCodecForTrack, trackCodec, rtpCapabilities, routerRtpCapabilities ?? null);
}

function checkCodecForTrack(trackCodec, codec) {
  call(native.ortcCheckCodecForTrack, trackCodec, codec);
}

module.exports = {
  validateAndNormalizeRtpCapabilities,
  validateAndNormalizeRtpParameters,
  validateAndNormalizeSctpStreamParameters,
  validateSctpCapabilities,
  validateSctpParameters,
  validateIceParameters,
  validateIceCandidates,
  validateDtlsParameters,
  getExtendedRtpCapabilities,
  getRecvRtpCapabilities,
  getSendRtpCapabilities,
  getSendingRtpParameters,
  getSendingRemoteRtpParameters,
  reduceCodecs,
  generateProbatorRtpParameters,
  canSend,
  canReceive,
  parseScalabilityMode,
  codecForTrack,
  checkCodecForTrack,
};
