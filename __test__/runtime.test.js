'use strict';

// MSC_WORKER_THREADS: the number of tokio worker threads of the addon (README, "Threads").
// Each case loads the package in a fresh Node process, makes the runtime start (Device.load
// runs on it) and counts the process's threads named tokio-rt-worker.

const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fixture = path.join(root, 'src', 'ortc', 'tests', 'fixtures', 'router_rtp_capabilities.json');

const child = `
const fs = require('node:fs');
const { Device } = require(${JSON.stringify(root)});
(async () => {
  const device = new Device();
  await device.load({ routerRtpCapabilities: JSON.parse(fs.readFileSync(${JSON.stringify(fixture)}, 'utf8')) });
  const names = fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim());
  process.stdout.write(String(names.filter((n) => n === 'tokio-rt-worker').length));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function workersWith(value) {
  const env = { ...process.env };
  if (value === undefined) delete env.MSC_WORKER_THREADS;
  else env.MSC_WORKER_THREADS = value;
  const r = spawnSync(process.execPath, ['-e', child], { env, encoding: 'utf8', timeout: 60_000 });
  assert.strictEqual(r.status, 0, r.stderr);
  return { workers: Number(r.stdout), stderr: r.stderr };
}

// one per core but one, at least one (the JS thread has a core of its own)
const DEFAULT_WORKERS = Math.max(1, os.availableParallelism() - 1);

test('without MSC_WORKER_THREADS: one worker thread per core but one', () => {
  assert.strictEqual(workersWith(undefined).workers, DEFAULT_WORKERS);
});

test('MSC_WORKER_THREADS sets the number of worker threads', () => {
  assert.strictEqual(workersWith('1').workers, 1);
  assert.strictEqual(workersWith(' 3 ').workers, 3);
});

test('a bad MSC_WORKER_THREADS is named on stderr and the default is kept', () => {
  for (const bad of ['abc', '0', '65']) {
    const { workers, stderr } = workersWith(bad);
    assert.strictEqual(workers, DEFAULT_WORKERS);
    assert.match(stderr, new RegExp(`MSC_WORKER_THREADS="${bad}" is not a number from 1 to 64`));
  }
});
