'use strict';

// mediasoup-client-native: the public entry point. The classes live in lib/; the native addon
// (loaded by the generated native.js, through lib/binding.js) is an implementation detail.

const native = require('./lib/binding');
const errors = require('./lib/errors');
const { Device } = require('./lib/Device');
const { createTrack, Track } = require('./lib/Track');
const { Transport } = require('./lib/Transport');
const { Producer } = require('./lib/Producer');
const { Consumer } = require('./lib/Consumer');
const { DataProducer } = require('./lib/DataProducer');
const { DataConsumer } = require('./lib/DataConsumer');
const { RemoteTrack, Recorder, RtpForwarder } = require('./lib/RemoteTrack');

module.exports = {
  version: native.nativeVersion(),
  Device,
  createTrack,
  Track,
  Transport,
  Producer,
  Consumer,
  DataProducer,
  DataConsumer,
  RemoteTrack,
  Recorder,
  RtpForwarder,
  UnsupportedError: errors.UnsupportedError,
  InvalidStateError: errors.InvalidStateError,
  // mediasoup-client's `ortc` module (mediasoup-client/ortc), and its parseScalabilityMode
  ortc: require('./lib/ortc'),
  parseScalabilityMode: require('./lib/ortc').parseScalabilityMode,
  // mediasoup-client's `types`: a namespace of types (index.d.ts), so no values at runtime
  types: Object.freeze({}),
};

// Tracks fed by a file or by RTP from another tool (ffmpeg, GStreamer).
const { createFileTrack, FileTrack } = require('./lib/FileTrack');
const { createRtpTrack, RtpTrack } = require('./lib/RtpTrack');
Object.assign(module.exports, { createFileTrack, FileTrack, createRtpTrack, RtpTrack });
