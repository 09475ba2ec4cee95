'use strict';

// npm run demo [-- --seconds N] [--producers N] [--receivers N] [--simulcast] [--file PATH]... [--ffmpeg] [--port P]
//
// Starts a real mediasoup worker and router on 127.0.0.1 with a small HTTP signalling API
// (demo/server.js; the examples/ connect to it), connects N bots, each playing the bundled
// video and audio (samples/vp8.ivf, samples/opus.ogg) in a loop, and a receiving bot that
// consumes the first bot's producers (demo/receiver.js). The first bot also says a line a
// second on a data channel ('chat'), which each receiving bot consumes. It prints once a
// second what the server sees of each producer (packets, bitrate, score), what the receiver
// got of each consumer (frames, keyframes, bytes, layer, gaps) and of the chat, and at the end
// a summary of what was received.
//
//   --seconds N    stop after N seconds; exit 0 if the server counted packets of every
//                  producer, every consumer received frames and every receiver chat
//                  messages, 1 otherwise (without it: run until Ctrl-C)
//   --producers N  N bots at once (default 1)
//   --receivers N  N receiving bots, each consuming the first bot's producers (default 1;
//                  0: none)
//   --file PATH    play these files (IVF, Ogg/Opus, H.264 Annex B) instead of the samples
//   --ffmpeg       the bots' media come from ffmpeg (a test pattern and a tone, VP8 and Opus)
//                  sent as RTP into RTP tracks instead of files
//   --simulcast    video producers with three encodings (a file feeds each the same frames;
//                  an RTP track feeds the first only)
//   --port P       HTTP signalling port (default 3000; 0 for any)

const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { createFileTrack, createRtpTrack } = require('..');
const { startDemoServer } = require('./server');
const { startBot } = require('./bot');
const { startReceiver } = require('./receiver');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string' },
    producers: { type: 'string', default: '1' },
    receivers: { type: 'string', default: '1' },
    simulcast: { type: 'boolean', default: false },
    file: { type: 'string', multiple: true },
    ffmpeg: { type: 'boolean', default: false },
    port: { type: 'string', default: '3000' },
  },
});

const samples = path.join(__dirname, '..', 'samples');
const files = args.file?.length ? args.file.map((f) => path.resolve(f)) : [path.join(samples, 'vp8.ivf'), path.join(samples, 'opus.ogg')];

// ffmpeg sending a test pattern (VP8) and a tone (Opus) as RTP to two ports.
function startFfmpeg(videoPort, audioPort) {
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('--ffmpeg needs ffmpeg (bash scripts/setup-media-tools.sh ffmpeg installs it)');
  }
  // prettier-ignore
  const ffmpegArgs = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '600k', '-g', '60',
    '-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${videoPort}`,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', '48k',
    '-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${audioPort}`,
  ];
  return spawn('ffmpeg', ffmpegArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function makeTracks() {
  if (args.ffmpeg) {
    const video = createRtpTrack({ kind: 'video', codec: 'video/VP8' });
    const audio = createRtpTrack({ kind: 'audio', codec: 'audio/opus' });
    const child = startFfmpeg(video.port, audio.port);
    return { tracks: [video, audio], stop: () => child.kill('SIGKILL') };
  }
  const tracks = [];
  for (const file of files) tracks.push(await createFileTrack(file, { loop: true }));
  return { tracks, stop: () => {} };
}

async function main() {
  const server = await startDemoServer({ port: Number(args.port) });
  const count = Math.max(1, Number(args.producers) || 1);
  const source = args.ffmpeg ? 'ffmpeg over RTP' : files.map((f) => path.relative(process.cwd(), f)).join(' + ');
  console.log(`mediasoup ${server.mediasoup.version} worker pid ${server.worker.pid}; signalling on ${server.url}`);
  console.log(`starting ${count} bot(s) playing ${source}${args.simulcast ? ' (simulcast)' : ''}...`);

  const bots = [];
  const receivers = [];
  let stopping = false;
  let timer;
  let started;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    if (started !== undefined && receivers.length > 0) printSummary(receivers, Date.now() - started);
    for (const receiver of receivers) receiver.close();
    for (const bot of bots) {
      bot.source.stop();
      bot.close();
    }
    server.close();
    process.exitCode = code;
  };
  process.once('SIGINT', () => {
    console.log('stopping');
    stop(0);
  });
  process.once('SIGTERM', () => stop(0));

  for (let i = 0; i < count && !stopping; i++) {
    const source = await makeTracks();
    const bot = await startBot({ url: server.url, name: `bot ${i}`, tracks: source.tracks, simulcast: args.simulcast });
    bots.push({ ...bot, source });
  }
  const receiverCount = Math.max(0, Number.parseInt(args.receivers, 10) || 0);
  if (receiverCount > 0 && !stopping) {
    console.log(`starting ${receiverCount} receiving bot(s) consuming bot 0...`);
  }
  for (let i = 0; i < receiverCount && !stopping; i++) {
    const producerIds = bots[0].producers.map((p) => p.id);
    const dataProducerId = bots[0].chat.id;
    receivers.push(await startReceiver({ url: server.url, name: `recv ${i}`, producerIds, dataProducerId }));
  }
  started = Date.now();

  timer = setInterval(async () => {
    const stats = await server.producerStats();
    const total = stats.reduce((n, s) => n + s.packets, 0);
    const elapsed = Math.round((Date.now() - started) / 1000);
    bots[0].say(`bot 0 at ${elapsed}s: ${total} packets sent`);
    console.log(`[${elapsed}s] server received ${total} packets from ${stats.length} producer(s)`);
    if (stats.length <= 12) {
      for (const s of stats) {
        const streams = s.streams > 1 ? `, ${s.streams} streams` : '';
        console.log(
          `  ${s.name.padEnd(20)} ${s.codec.padEnd(10)} ${String(s.packets).padStart(7)} packets` +
            `${String(Math.round(s.bitrate / 1000)).padStart(6)} kbps  score ${s.score.join('/') || '-'}${streams}`
        );
      }
    }
    const counters = receivers.flatMap((r) => r.counters.map((c) => ({ receiver: r.name, counter: c })));
    if (counters.length <= 12) {
      for (const { receiver, counter } of counters) console.log(receivedLine(receiver, counter, counter.take()));
      for (const receiver of receivers) console.log(chatLine(receiver));
    }
    if (args.seconds && Date.now() - started >= Number(args.seconds) * 1000) {
      const sent = stats.length > 0 && stats.every((s) => s.packets > 0);
      const received = counters.every(({ counter }) => counter.total.frames > 0);
      const chatted = receivers.every((r) => r.chat.messages > 0);
      if (!sent) console.error('the server did not count packets of every producer');
      if (!received) console.error('a consumer received no frames');
      if (!chatted) console.error('a receiver got no chat message');
      stop(sent && received && chatted ? 0 : 1);
    }
  }, 1000);
}

// One consumer's line of a report: `counts` of frames received in the interval (or in all).
function receivedLine(receiver, counter, counts) {
  return (
    `  ${`${receiver} < ${counter.name}`.padEnd(26)} ${counter.codec.padEnd(10)} ${String(counts.frames).padStart(6)} frames ` +
    `${String(counts.keyframes).padStart(5)} keyframes ${String(counts.bytes).padStart(9)} bytes` +
    `  layer ${counter.layer ?? '-'}  gaps ${counts.gaps}`
  );
}

// What a receiver got of bot 0's chat channel (bot 0 says one line a second).
function chatLine(receiver) {
  const { messages, last } = receiver.chat;
  return `  ${`${receiver.name} < bot 0 chat`.padEnd(26)} ${String(messages).padStart(5)} messages, last: ${last === null ? '-' : `'${last}'`}`;
}

// What each receiver got in all, with the track's own counters.
function printSummary(receivers, ms) {
  console.log(`received in ${(ms / 1000).toFixed(1)} s:`);
  for (const receiver of receivers) {
    for (const counter of receiver.counters) {
      const s = counter.consumer.track.stats();
      const first = counter.firstFrameMs === null ? 'no frame' : `first frame ${Math.round(counter.firstFrameMs)} ms after consume()`;
      console.log(receivedLine(receiver.name, counter, counter.total));
      console.log(
        `    ${first}; ${s.packets} packets, ${s.packetsLost} lost, ${s.framesDropped} frames dropped, ` +
          `${s.keyframeRequests} keyframe requests`
      );
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
