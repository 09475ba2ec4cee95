'use strict';

// `npm run demo` and the examples, run as a user runs them (child processes), against the
// real mediasoup worker that the demo starts on 127.0.0.1.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const readline = require('node:readline');
const { spawn, spawnSync } = require('node:child_process');
const { once } = require('node:events');

const root = path.join(__dirname, '..');
const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const noFfmpeg = !hasFfmpeg && 'ffmpeg is not installed (bash scripts/setup-media-tools.sh installs it)';

// Runs `node args...` in the repo; resolves with { code, stdout, stderr }. Killed after `timeout`.
async function run(args, { timeout = 60000 } = {}) {
  const child = spawn(process.execPath, args, { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// The producer lines of the demo's last report: { name: packets }.
function lastReport(stdout) {
  const reports = stdout.split(/^\[\d+s\] /m).slice(1);
  assert.ok(reports.length > 0, `no report in:\n${stdout}`);
  const last = reports[reports.length - 1];
  return Object.fromEntries(
    [...last.matchAll(/^ {2}(.+?)\s+(?:video|audio)\/\S+\s+(\d+) packets\s+(\d+) kbps\s+score (\S+)/gm)].map((m) => [
      m[1].trim(),
      { packets: Number(m[2]), kbps: Number(m[3]), score: m[4] },
    ])
  );
}

// The receiver lines of `text` (a report, or the summary): { 'recv 0 < bot 0 video VP8': counts }.
function receiverLines(text) {
  return Object.fromEntries(
    [
      ...text.matchAll(
        /^ {2}(recv \d+ < .+?)\s+((?:video|audio)\/\S+)\s+(\d+) frames\s+(\d+) keyframes\s+(\d+) bytes {2}layer (\S+) {2}gaps (\d+)$/gm
      ),
    ].map((m) => [
      m[1].trim(),
      { codec: m[2], frames: Number(m[3]), keyframes: Number(m[4]), bytes: Number(m[5]), layer: m[6], gaps: Number(m[7]) },
    ])
  );
}

// What the demo's summary says the receivers got in all.
function receivedSummary(stdout) {
  const [, summary = ''] = stdout.split(/^received in \d+\.\d s:$/m);
  return receiverLines(summary);
}

// The receiver lines of the demo's last report.
function lastReceiverReport(stdout) {
  const [last] = stdout.split(/^received in /m)[0].split(/^\[\d+s\] /m).slice(-1);
  return receiverLines(last);
}

test('npm run demo -- --seconds 5: exit 0, the server counted packets of the bot video and audio, the receiving bot got their frames', async () => {
  const begin = Date.now();
  const { code, stdout, stderr } = await run(['demo/index.js', '--seconds', '5', '--port', '0']);
  const elapsed = Date.now() - begin;
  assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
  // the receiver adds no wait of its own: 5 s of media, the worker's start and the setup
  assert.ok(elapsed < 10000, `the demo took ${elapsed} ms`);
  assert.match(stdout, /^mediasoup 3\.\d+\.\d+ worker pid \d+; signalling on http:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(stdout, /^\[[4-7]s\] server received [1-9]\d* packets from 2 producer\(s\)$/m);
  const report = lastReport(stdout);
  assert.deepEqual(Object.keys(report).sort(), ['bot 0 audio opus', 'bot 0 video VP8']);
  for (const [name, r] of Object.entries(report)) {
    assert.ok(r.packets > 100, `${name}: ${r.packets} packets`);
    assert.ok(Number(r.score) > 0, `${name}: score ${r.score}`);
  }

  assert.match(stdout, /^starting 1 receiving bot\(s\) consuming bot 0\.\.\.$/m);
  const second = lastReceiverReport(stdout);
  assert.deepEqual(Object.keys(second).sort(), ['recv 0 < bot 0 audio opus', 'recv 0 < bot 0 video VP8'], stdout);
  // 30 video frames and 50 Opus packets a second are played; the last second got a good part of them
  assert.ok(second['recv 0 < bot 0 video VP8'].frames >= 15, stdout);
  assert.ok(second['recv 0 < bot 0 audio opus'].frames >= 25, stdout);
  const total = receivedSummary(stdout);
  assert.deepEqual(Object.keys(total).sort(), Object.keys(second).sort(), stdout);
  const video = total['recv 0 < bot 0 video VP8'];
  const audio = total['recv 0 < bot 0 audio opus'];
  assert.equal(video.codec, 'video/VP8');
  assert.equal(audio.codec, 'audio/opus');
  // the sample loops every 2 s, each time from a keyframe
  assert.ok(video.frames >= 60 && video.keyframes >= 2 && video.keyframes < video.frames, stdout);
  assert.ok(audio.frames >= 180 && audio.keyframes === audio.frames, stdout);
  for (const r of [video, audio]) {
    assert.ok(r.bytes > r.frames, stdout);
    assert.equal(r.gaps, 0, stdout);
  }
  assert.match(stdout, /^ {4}first frame \d+ ms after consume\(\); \d+ packets, 0 lost, \d+ frames dropped, \d+ keyframe requests$/m);
  // bot 0 says a line a second on its data channel: the receiver got them, the last one intact
  const chats = [...stdout.matchAll(/^ {2}recv 0 < bot 0 chat\s+(\d+) messages, last: (.*)$/gm)];
  assert.ok(chats.length >= 4, stdout);
  const [, messages, last] = chats.at(-1);
  assert.ok(Number(messages) >= 3, stdout);
  assert.match(last, /^'bot 0 at \d+s: \d+ packets sent'$/, stdout);
});

test('demo --simulcast --producers 2 --receivers 0: two bots, three streams per video producer, no receiver', async () => {
  const args = ['demo/index.js', '--seconds', '3', '--port', '0', '--simulcast', '--producers', '2', '--receivers', '0'];
  const { code, stdout, stderr } = await run(args);
  assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
  const report = lastReport(stdout);
  assert.deepEqual(Object.keys(report).sort(), ['bot 0 audio opus', 'bot 0 video VP8', 'bot 1 audio opus', 'bot 1 video VP8']);
  for (const r of Object.values(report)) assert.ok(r.packets > 0);
  assert.equal((stdout.split(/^\[\d+s\] /m).pop().match(/score \d+\/\d+\/\d+, 3 streams/g) || []).length, 2, stdout);
  assert.doesNotMatch(stdout, /receiving bot|^ {2}recv |^received in/m);
});

test('demo --ffmpeg: the bot media come from ffmpeg over RTP', { skip: noFfmpeg }, async () => {
  const { code, stdout, stderr } = await run(['demo/index.js', '--seconds', '3', '--port', '0', '--ffmpeg']);
  assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
  assert.match(stdout, /playing ffmpeg over RTP/);
  const report = lastReport(stdout);
  assert.deepEqual(Object.keys(report).sort(), ['bot 0 audio opus', 'bot 0 video VP8']);
  for (const r of Object.values(report)) assert.ok(r.packets > 50 && r.kbps > 0);
  const total = receivedSummary(stdout);
  assert.deepEqual(Object.keys(total).sort(), ['recv 0 < bot 0 audio opus', 'recv 0 < bot 0 video VP8'], stdout);
  for (const r of Object.values(total)) assert.ok(r.frames > 0 && r.keyframes > 0, stdout);
});

test('the examples run against the demo server; Ctrl-C stops the demo cleanly', async (t) => {
  const demo = spawn(process.execPath, ['demo/index.js', '--port', '0'], { cwd: root });
  t.after(() => demo.kill('SIGKILL'));
  let stdout = '';
  const lines = readline.createInterface({ input: demo.stdout });
  const url = await new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      const m = /signalling on (http:\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    demo.once('exit', (c) => reject(new Error(`demo exited ${c}: ${stdout}`)));
  });

  const file = await run(['examples/play-file.js', 'samples/vp9.ivf', '--url', url]);
  assert.equal(file.code, 0, file.stderr);
  assert.match(file.stdout, /^playing samples\/vp9\.ivf \(video\/VP9\) as producer \S+$/m);
  const sent = Number(/end of file: (\d+) packets sent/.exec(file.stdout)?.[1]);
  assert.ok(sent >= 60, file.stdout);

  if (hasFfmpeg) {
    const rtp = await run(['examples/ffmpeg-rtp.js', '--seconds', '3', '--url', url]);
    assert.equal(rtp.code, 0, rtp.stderr);
    const forwarded = [...rtp.stdout.matchAll(/forwarded (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(forwarded.length > 0 && forwarded[forwarded.length - 1] > 50, rtp.stdout);
  }

  // the demo reported the example's producer with packets while it played
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.match(stdout, /^ {2}file vp9\.ivf\s+video\/VP9\s+[1-9]\d* packets/m);
  if (hasFfmpeg) assert.match(stdout, /^ {2}ffmpeg\s+video\/VP8\s+[1-9]\d* packets/m);

  demo.kill('SIGINT');
  const [code] = await once(demo, 'exit');
  assert.equal(code, 0);
  assert.match(stdout, /^stopping$/m);
});
