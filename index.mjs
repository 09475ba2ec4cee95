// mediasoup-client-native for ES modules: the same objects as the CommonJS entry (index.js),
// as named exports and as the default export.
import cjs from './index.js';

export const {
  version,
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
  UnsupportedError,
  InvalidStateError,
  ortc,
  parseScalabilityMode,
  types,
  createFileTrack,
  FileTrack,
  createRtpTrack,
  RtpTrack,
} = cjs;

export default cjs;
