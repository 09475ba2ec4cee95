'use strict';

// The README's complete program (examples/with-server.js) runs as a user runs it: a real
// mediasoup router and the bot in one process, with `mediasoup` resolved as an installed
// package (here the local server the tests use).

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { serverDir, loadMediasoup } = require('../scripts/mediasoup-server');

test('examples/with-server.js: the server receives and scores the bot video and audio', async () => {
  loadMediasoup(); // says how to install the server when it is missing
  const root = path.join(__dirname, '..');
  const env = { ...process.env, NODE_PATH: path.join(serverDir, 'node_modules') };
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['examples/with-server.js', '--seconds', '2'], { cwd: root, env }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)
    );
  });
  const lines = [...stdout.matchAll(/^server producer (audio|video) \((\S+)\): (\d+) packets, score (\d+)/gm)];
  assert.deepEqual(lines.map((m) => m[1]).sort(), ['audio', 'video'], stdout);
  for (const [, kind, source, packets, score] of lines) {
    assert.ok(Number(packets) > 40, `${kind} ${source}: ${packets} packets`);
    assert.ok(Number(score) > 0, `${kind} ${source}: score ${score}`);
  }
});
