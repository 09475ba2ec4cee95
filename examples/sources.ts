// Sources for a bot with no camera, typed: a file played in a loop and RTP from ffmpeg.
// `transport` is a send transport set up as in examples/bot.ts.
import { spawn } from 'node:child_process';
import { createFileTrack, createRtpTrack, type Producer, type Transport } from 'mediasoup-client-native';

export async function produceSources(transport: Transport): Promise<Producer[]> {
  // IVF (VP8, VP9, AV1), Ogg/Opus or H.264 Annex B; produce() picks the router's codec of the file's
  const file = await createFileTrack('samples/vp8.ivf', { loop: true });
  file.on('ended', () => console.log(file.error ? `file track failed: ${file.error.message}` : 'end of file'));
  const fromFile = await transport.produce({ track: file, appData: { source: file.path } });

  // RTP from another tool on a local port; keyframe requests go back as RTCP PLI where it listens
  const rtp = createRtpTrack({ kind: 'audio', codec: 'audio/opus' });
  const ffmpeg = spawn('ffmpeg', [
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440', '-c:a', 'libopus',
    '-f', 'rtp', `rtp://127.0.0.1:${rtp.port}`,
  ]);
  const fromRtp = await transport.produce({ track: rtp, appData: { source: `udp port ${rtp.port}` } });
  fromRtp.on('transportclose', () => {
    ffmpeg.kill();
    console.log(`${rtp.stats.packetsForwarded} RTP packets forwarded from ${rtp.stats.senders} sender(s)`);
  });
  return [fromFile, fromRtp];
}
