'use strict';

// The clients the benchmark drives, behind one small interface:
//
//   const client = await loadClient(name, dir);
//   await client.load(routerRtpCapabilities);
//   const t = client.createTransport(clientOptions, { connect(dtlsParameters), produce({ kind, rtpParameters }) -> id });
//   const sender = await t.produce(kind);      // 'video' | 'audio'
//   sender.send(n, keyframe) -> packets         // writes frame n (the same media for every client)
//   await t.connected;  t.close();
//
// - native: this project (the package built by bench/build-addon.sh), frames written with
//   track.writeFrame(); the library packetizes.
// - msc-node: msc-node 0.0.21 on werift (bench/install-peers.sh), which takes RTP packets
//   (track.writeRtp): packetized here, in JS, the way its users do.
// - aiortc: mediasoup-client 3.24 with mediasoup-client-aiortc 3.16.1 (aiortc 1.14 in a
//   Python process, bench/install-peers.sh). Its media comes from aiortc's MediaPlayer, not
//   from the program: files holding the same frames (bench/media-files.js), played with
//   decode: false (sent as encoded, at their timestamps). `send` only says how many packets
//   the player sends for the frame. Its Python process counts in the client's CPU and RSS.
//
// A client may have `extraCpuSeconds()` and `extraRss()`: what its other processes use.
//
// The receive side (bench/recv-phases.js):
//
//   client.rtpCapabilities                      // what the server's consumers are made for
//   const r = await client.createRecvTransport(clientOptions, { connect(dtlsParameters) });
//   const c = await r.consume({ id, producerId, kind, rtpParameters }, onFrame);
//   c.packets() -> packets the client counted (null: the client cannot tell)
//   c.frames -> whether frames reach the program (onFrame(number) per frame, number as the
//               feeder wrote it in the frame: bench/feeder.js)
//   c.close();  await r.connected;  r.close();
//
// - native: frames from consumer.track's 'frame' event (whole frames, in order).
// - msc-node: RTP packets from the consumer's werift track (onReceiveRtp): a frame is counted
//   at the first packet of a VP8 frame (S bit) and at each Opus packet; werift gives no frames.
// - aiortc: the media stays in the Python process (mediasoup-client-aiortc gives Node none):
//   no frames, and no packet count either: its consumers' getStats() fails in 3.16.1 (its
//   worker/handler.py reads `stats["type"]` of an inbound-rtp entry: "'RTCInboundRtpStreamStats'
//   object is not subscriptable"). The server's count less the losses its receiver reports
//   (RTCP RR) stands for it.

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { mediaFiles } = require('./media-files');
const { processCpuSeconds } = require('./server');

const VIDEO_FRAME_BYTES = 4000; // 30 fps: 960 kbps, 4 packets of <= 1200 bytes per frame
const AUDIO_FRAME_BYTES = 120; // Opus, 20 ms: 48 kbps
const VIDEO_FPS = 30;
const AUDIO_FPS = 50;
const MTU = 1200; // payload bytes per RTP packet, as the native packetizer (DEFAULT_MTU)

// The same bytes for every client: a VP8 keyframe (frame tag + start code + 320x240) and a
// delta frame of VIDEO_FRAME_BYTES, and an Opus packet (TOC: CELT FB 20 ms, mono).
const noise = crypto.randomBytes(VIDEO_FRAME_BYTES);
const media = {
  keyframe: Buffer.concat([Buffer.from([0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]), noise]).subarray(0, VIDEO_FRAME_BYTES),
  delta: Buffer.concat([Buffer.from([0x11, 0x00, 0x00]), noise]).subarray(0, VIDEO_FRAME_BYTES),
  opus: Buffer.concat([Buffer.from([0xf8]), noise]).subarray(0, AUDIO_FRAME_BYTES),
};

// The native Device's synchronous methods (createSendTransport's validation, canProduce
// inside produce) throw "InvalidStateError: device is loading" while another
// createSendTransport() is building its PeerConnection (the native device is locked). Not a
// state a program can see: counted (deviceLoadingRaces in the results) and retried.
async function retryDeviceLoading(races, fn) {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!/device is loading/.test(error.message) || races.count > 1e6) throw error;
      races.count++;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

// Resolves with the time a transport reached 'connected'; rejects when it failed or closed.
function connectedOf(transport) {
  const connected = new Promise((resolve, reject) => {
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') resolve(performance.now());
      if (state === 'failed' || state === 'closed') reject(new Error(`transport ${state}`));
    });
  });
  connected.catch(() => {});
  return connected;
}

// A mediasoup-client style transport's (every client's here) `connect` to `signal`.
function wireConnect(transport, signal) {
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    signal.connect(dtlsParameters).then(callback, errback);
  });
}

// Wires a send transport to `signal`: `connect` and `produce` go to the server; resolves with
// the time it reached 'connected'.
function wire(transport, signal) {
  wireConnect(transport, signal);
  transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    signal.produce({ kind, rtpParameters }).then((id) => callback({ id }), errback);
  });
  return connectedOf(transport);
}

// A receive transport's `connect` to `signal`; resolves with the time it reached 'connected'.
function wireRecv(transport, signal) {
  wireConnect(transport, signal);
  return connectedOf(transport);
}

// Where the feeder wrote the frame number (bench/feeder.js).
const VIDEO_NUMBER_AT = 12;
const AUDIO_NUMBER_AT = 1;

function nativeClient(dir) {
  const { Device, createTrack } = require(path.join(dir, 'index.js'));
  const device = new Device();
  const races = { count: 0 };
  let rtpCapabilities;
  return {
    name: 'native',
    races,
    async load(routerRtpCapabilities) {
      await device.load({ routerRtpCapabilities });
      rtpCapabilities = device.rtpCapabilities;
    },
    get rtpCapabilities() {
      return rtpCapabilities;
    },
    async createRecvTransport(options, signal) {
      const transport = await retryDeviceLoading(races, () => device.createRecvTransport(options));
      const connected = wireRecv(transport, signal);
      return {
        connected,
        transport,
        async srtpCipher() {
          const stats = await transport.getStats();
          const t = [...stats.values()].find((s) => s.type === 'transport');
          return t ? t.srtpCipher : undefined;
        },
        async consume(params, onFrame) {
          const consumer = await retryDeviceLoading(races, () => transport.consume(params));
          const at = params.kind === 'video' ? VIDEO_NUMBER_AT : AUDIO_NUMBER_AT;
          // frames() rather than the 'frame' event: the event's reading loop does not start
          // (lib/RemoteTrack.js checks for listeners before the first one is added)
          if (onFrame) {
            (async () => {
              for await (const frame of consumer.track.frames()) {
                onFrame(frame.data.readUInt32BE(at));
                // done with it: its memory holds the next frames (builds before release() had none)
                frame.release?.();
              }
            })().catch(() => {});
          }
          return {
            consumer,
            frames: true,
            packets: () => consumer.track.stats().packets,
            stats: () => consumer.track.stats(),
            close: () => consumer.close(),
          };
        },
        close() {
          transport.close();
        },
      };
    },
    async createTransport(options, signal) {
      const transport = await retryDeviceLoading(races, () => device.createSendTransport(options));
      const connected = wire(transport, signal);
      return {
        connected,
        async srtpCipher() {
          const stats = await transport.getStats();
          const t = [...stats.values()].find((s) => s.type === 'transport');
          return t ? t.srtpCipher : undefined;
        },
        async produce(kind) {
          const track = createTrack({ kind });
          const producer = await retryDeviceLoading(races, () => transport.produce({ track }));
          const video = kind === 'video';
          const durationUs = video ? 1e6 / VIDEO_FPS : 1e6 / AUDIO_FPS;
          let wantKeyframe = false;
          track.on('keyframerequest', () => {
            wantKeyframe = true;
          });
          return {
            kind,
            producer,
            send(n, keyframe) {
              keyframe = keyframe || wantKeyframe;
              wantKeyframe = false;
              const data = video ? (keyframe ? media.keyframe : media.delta) : media.opus;
              return track.writeFrame(data, { timestamp: n * durationUs, keyframe: video ? keyframe : undefined });
            },
          };
        },
        close() {
          transport.close();
        },
      };
    },
  };
}

function mscNodeClient(dir) {
  const modules = path.join(dir, 'node_modules');
  const { Device } = require(path.join(modules, 'msc-node'));
  const werift = require(path.join(modules, 'werift'));
  const { RTCRtpCodecParameters, MediaStreamTrack, RtpPacket, RtpHeader } = werift;
  const device = new Device(
    {
      headerExtensions: {
        audio: [werift.useSdesMid(), werift.useTransportWideCC()],
        video: [werift.useSdesMid(), werift.useTransportWideCC()],
      },
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/VP8',
            clockRate: 90000,
            rtcpFeedback: [werift.useFIR(), werift.useNACK(), werift.usePLI(), werift.useREMB(), werift.useTWCC()],
          }),
        ],
      },
    },
    { handlerName: 'werift' }
  );
  return {
    name: 'msc-node',
    async load(routerRtpCapabilities) {
      await device.load({ routerRtpCapabilities });
    },
    get rtpCapabilities() {
      return device.rtpCapabilities;
    },
    async createRecvTransport(options, signal) {
      const transport = device.createRecvTransport({
        ...options,
        additionalSettings: { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false },
      });
      const connected = wireRecv(transport, signal);
      return {
        connected,
        async consume(params, onFrame) {
          const consumer = await transport.consume(params);
          const video = params.kind === 'video';
          let packets = 0;
          const onRtp = (rtp) => {
            packets++;
            if (!onFrame) return;
            const payload = rtp.payload;
            if (!video) onFrame(payload.readUInt32BE(AUDIO_NUMBER_AT));
            else if (payload.length > 1 + VIDEO_NUMBER_AT + 4 && payload[0] & 0x10) onFrame(payload.readUInt32BE(1 + VIDEO_NUMBER_AT));
          };
          // msc-node hands out the receiver's first track, which werift makes from the offer's
          // SSRC (or, failing that, at the first packet)
          const track = consumer.track || consumer.rtpReceiver.tracks[0];
          if (!track) throw new Error('msc-node: the consumer has no track');
          const subscription = track.onReceiveRtp.subscribe(onRtp);
          return {
            consumer,
            frames: true,
            packets: () => packets,
            close() {
              if (subscription && subscription.unSubscribe) subscription.unSubscribe();
              consumer.close();
            },
          };
        },
        close() {
          transport.close();
        },
      };
    },
    async createTransport(options, signal) {
      // werift gathers on every interface unless told otherwise: loopback only
      const transport = device.createSendTransport({
        ...options,
        additionalSettings: { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false },
      });
      const connected = wire(transport, signal);
      return {
        connected,
        async produce(kind) {
          const track = new MediaStreamTrack({ kind });
          const producer = await transport.produce({ track });
          const video = kind === 'video';
          let seq = crypto.randomInt(0, 65536);
          return {
            kind,
            producer,
            send(n, keyframe) {
              if (!video) {
                const header = new RtpHeader({ sequenceNumber: seq, timestamp: (n * 960) >>> 0, marker: true, payloadType: 111 });
                seq = (seq + 1) & 0xffff;
                track.writeRtp(new RtpPacket(header, media.opus));
                return 1;
              }
              // VP8 (RFC 7741): a 1-byte payload descriptor, S bit on the first packet
              const data = keyframe ? media.keyframe : media.delta;
              const count = Math.ceil(data.length / (MTU - 1));
              const size = Math.ceil(data.length / count);
              for (let i = 0; i < count; i++) {
                const chunk = data.subarray(i * size, Math.min(data.length, (i + 1) * size));
                const payload = Buffer.allocUnsafe(chunk.length + 1);
                payload[0] = i === 0 ? 0x10 : 0x00;
                chunk.copy(payload, 1);
                const header = new RtpHeader({
                  sequenceNumber: seq,
                  timestamp: (n * 3000) >>> 0,
                  marker: i === count - 1,
                  payloadType: 96,
                });
                seq = (seq + 1) & 0xffff;
                track.writeRtp(new RtpPacket(header, payload));
              }
              return count;
            },
          };
        },
        close() {
          transport.close();
        },
      };
    },
  };
}

// Resident bytes of another process (0 once it is gone).
function processRss(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number((status.match(/^VmRSS:\s+(\d+)/m) || [])[1] || 0) * 1024;
  } catch {
    return 0;
  }
}

function aiortcClient(dir) {
  const modules = path.join(dir, 'node_modules');
  const { createWorker } = require(path.join(modules, 'mediasoup-client-aiortc'));
  const { Device } = require(path.join(modules, 'mediasoup-client'));
  const files = mediaFiles(path.join(dir, 'media'), media, { seconds: 180, videoFps: VIDEO_FPS, audioFps: AUDIO_FPS });
  // aiortc's VP8 packetizer: payloads of at most 1,300 bytes, a 4-byte descriptor in each
  const videoPackets = Math.ceil(VIDEO_FRAME_BYTES / (1300 - 4));
  let worker;
  let capabilities;
  let nativeCapabilities;
  let recvDevice;
  // A Device per transport: mediasoup-client-aiortc 3.16.1 names the Python side of a
  // transport by its handler factory, so two transports of one Device share it (setting up
  // one breaks the other's SDP; closing one closes both). The worker's native capabilities
  // are asked once: loading a Device then stays in JS.
  const newDevice = async () => {
    const handlerFactory = worker.createHandlerFactory();
    const ask = handlerFactory.getNativeRtpCapabilities;
    handlerFactory.getNativeRtpCapabilities = async () => (nativeCapabilities ??= await ask());
    const device = new Device({ handlerFactory });
    await device.load({ routerRtpCapabilities: capabilities });
    return device;
  };
  return {
    name: 'aiortc',
    // its Python worker times out requests when transports are set up concurrently
    setupConcurrency: 1,
    recvSetupConcurrency: 1,
    async load(routerRtpCapabilities) {
      process.env.PYTHONPATH = [path.join(__dirname, 'aiortc'), process.env.PYTHONPATH].filter(Boolean).join(':');
      worker = await createWorker({ logLevel: 'none' });
      capabilities = routerRtpCapabilities;
      recvDevice = await newDevice();
    },
    get rtpCapabilities() {
      return recvDevice.rtpCapabilities;
    },
    async createRecvTransport(options, signal) {
      const device = await newDevice();
      const transport = device.createRecvTransport({ ...options, iceServers: [] });
      const connected = wireRecv(transport, signal);
      return {
        connected,
        async consume(params) {
          const consumer = await transport.consume(params);
          return {
            consumer,
            frames: false,
            packets: () => null,
            close: () => consumer.close(),
          };
        },
        close() {
          transport.close();
        },
      };
    },
    extraCpuSeconds: () => (worker ? processCpuSeconds(worker.pid) : 0),
    extraRss: () => (worker ? processRss(worker.pid) : 0),
    async createTransport(options, signal) {
      const device = await newDevice();
      const transport = device.createSendTransport({ ...options, iceServers: [] });
      const connected = wire(transport, signal);
      const streams = [];
      return {
        connected,
        async produce(kind) {
          const video = kind === 'video';
          const stream = await worker.getUserMedia({ [kind]: { source: 'file', file: video ? files.video : files.audio, decode: false } });
          streams.push(stream);
          const track = video ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
          const producer = await transport.produce({ track });
          return {
            kind,
            producer,
            send() {
              return video ? videoPackets : 1;
            },
          };
        },
        close() {
          transport.close();
          // the players (a file and a thread each in the Python worker) go with the transport
          for (const stream of streams) stream.close();
        },
      };
    },
    close() {
      if (worker) worker.close();
    },
  };
}

function loadClient(name, dir) {
  if (name === 'native') return nativeClient(dir);
  if (name === 'msc-node') return mscNodeClient(dir);
  if (name === 'aiortc') return aiortcClient(dir);
  throw new Error(`unknown client ${name}`);
}

module.exports = { loadClient, media, connectedOf, wireConnect, VIDEO_FPS, AUDIO_FPS, VIDEO_FRAME_BYTES, AUDIO_FRAME_BYTES };
