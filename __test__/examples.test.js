'use strict';

// The README's complete programs (examples/with-server.js, examples/receive.js) run as a user
// runs them: a real mediasoup router and the bot in one process, with `mediasoup` resolved as
// an installed package (here the local server the tests use).

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { serverDir, loadMediasoup } = require('../scripts/mediasoup-server');

// Runs `node args...` in the repo with the local mediasoup as an installed package; resolves
// with its stdout once it exited 0.
function runExample(args) {
  loadMediasoup(); // says how to install the server when it is missing
  const root = path.join(__dirname, '..');
  const env = { ...process.env, NODE_PATH: path.join(serverDir, 'node_modules') };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, env, timeout: 60000 }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out)
    );
  });
}

test('examples/with-server.js: the server receives and scores the bot video and audio', async () => {
  const stdout = await runExample(['examples/with-server.js', '--seconds', '2']);
  const lines = [...stdout.matchAll(/^server producer (audio|video) \((\S+)\): (\d+) packets, score (\d+)/gm)];
  assert.deepEqual(lines.map((m) => m[1]).sort(), ['audio', 'video'], stdout);
  for (const [, kind, source, packets, score] of lines) {
    assert.ok(Number(packets) > 40, `${kind} ${source}: ${packets} packets`);
    assert.ok(Number(score) > 0, `${kind} ${source}: score ${score}`);
  }
});

// The frames lines of examples/receive.js: [{ bytes, ms, keyframe, gap }].
function receivedFrames(stdout) {
  return [...stdout.matchAll(/^frame (\d+): (\d+) bytes at (\d+\.\d) ms( keyframe)?(?: layer \S+)?( \(after a gap\))?$/gm)].map((m, i) => {
    assert.equal(Number(m[1]), i, `frame lines in order:\n${stdout}`);
    return { bytes: Number(m[2]), ms: Number(m[3]), keyframe: Boolean(m[4]), gap: Boolean(m[5]) };
  });
}

for (const [file, mimeType, fps] of [
  ['samples/vp8.ivf', 'video/VP8', 30],
  ['samples/opus.ogg', 'audio/opus', 50],
]) {
  test(`examples/receive.js ${file}: the consumer's frames, read with for await, in order`, async () => {
    const stdout = await runExample(['examples/receive.js', file, '--frames', '40']);
    assert.match(stdout, new RegExp(`^consuming ${path.basename(file).replace('.', '\\.')} \\(${mimeType}\\) as consumer \\S+$`, 'm'));
    const frames = receivedFrames(stdout);
    assert.equal(frames.length, 40, stdout);
    assert.ok(frames[0].keyframe, `the first frame is a keyframe:\n${stdout}`);
    for (let i = 1; i < frames.length; i++) {
      assert.ok(frames[i].bytes > 0);
      assert.ok(frames[i].ms > frames[i - 1].ms, `timestamps grow:\n${stdout}`);
    }
    // real-time frames: 40 of them span 40 frame durations, within a frame or two
    const span = frames[frames.length - 1].ms - frames[0].ms;
    assert.ok(Math.abs(span - (39 * 1000) / fps) < 2500 / fps, `${span} ms for 40 frames at ${fps} fps`);
    const summary = /^received (\d+) frames in (\d+) packets \((\d+) bytes\), (\d+) lost$/m.exec(stdout);
    assert.ok(summary, stdout);
    assert.ok(Number(summary[1]) >= 40 && Number(summary[2]) >= 40, summary[0]);
  });
}

test('examples/data.js: the chat messages arrive in order, text and binary', async () => {
  const stdout = await runExample(['examples/data.js', '--messages', '4']);
  assert.match(stdout, /^data consumer \S+ on SCTP stream 0$/m);
  const lines = stdout.split('\n').filter((l) => l.startsWith('text: ') || l.startsWith('binary: '));
  assert.deepEqual(lines, ['text: message 0', 'text: message 1', 'text: message 2', 'text: message 3', 'binary: 4 bytes deadbeef']);
});
