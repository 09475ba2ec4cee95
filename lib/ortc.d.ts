// Typings of lib/ortc.js: mediasoup-client's `ortc` module on the native ORTC layer.
// The shapes are mediasoup's (RtpCapabilities, RtpParameters...); kept loose here on purpose,
// as in mediasoup-client's own `ortc` typings they come from its types module.

type Json = { [key: string]: any };

export interface ScalabilityMode {
  spatialLayers: number;
  temporalLayers: number;
  /** K-SVC (`_KEY` suffix). Not in mediasoup-client's parser. */
  ksvc: boolean;
}

/** Normalizes `caps` in place (defaults filled in) and returns it. Throws TypeError. */
export function validateAndNormalizeRtpCapabilities<T extends Json>(caps: T): T;
export function validateAndNormalizeRtpParameters<T extends Json>(params: T): T;
export function validateAndNormalizeSctpStreamParameters<T extends Json>(params: T): T;
export function validateSctpCapabilities<T extends Json>(caps: T): T;
export function validateSctpParameters<T extends Json>(params: T): T;
export function validateIceParameters<T extends Json>(params: T): T;
export function validateIceCandidates<T extends Json[]>(candidates: T): T;
export function validateDtlsParameters<T extends Json>(params: T): T;
/** Also writes the negotiated H264 profile-level-id into both capabilities, as the reference. */
export function getExtendedRtpCapabilities(localCaps: Json, remoteCaps: Json, preferLocalCodecsOrder?: boolean): Json;
export function getRecvRtpCapabilities(extendedRtpCapabilities: Json): Json;
export function getSendRtpCapabilities(extendedRtpCapabilities: Json): Json;
export function getSendingRtpParameters(kind: 'audio' | 'video', extendedRtpCapabilities: Json): Json;
export function getSendingRemoteRtpParameters(kind: 'audio' | 'video', extendedRtpCapabilities: Json): Json;
export function reduceCodecs(codecs: Json[], capCodec?: Json): Json[];
export function generateProbatorRtpParameters(videoRtpParameters: Json): Json;
export function canSend(kind: 'audio' | 'video', rtpCapabilities: Json): boolean;
export function canReceive(rtpParameters: Json, rtpCapabilities: Json): boolean;
export function parseScalabilityMode(scalabilityMode?: string): ScalabilityMode;

/** What a track bound to one bitstream (file, RTP) holds: its codec and profile parameters. */
export interface TrackCodec {
  kind: 'audio' | 'video';
  mimeType: string;
  /** VP9 `profile-id`, AV1 `profile`, H.264 `profile-level-id` and `packetization-mode` */
  parameters?: Json;
}
/** Not in mediasoup-client: the codec of `rtpCapabilities` to send such a track as. Throws UnsupportedError. */
export function codecForTrack(trackCodec: TrackCodec, rtpCapabilities: Json, routerRtpCapabilities?: Json): Json;
/** Not in mediasoup-client: throws TypeError when `codec` is not of the track's mime type and profile. */
export function checkCodecForTrack(trackCodec: TrackCodec, codec: Json): void;
