'use strict';

// The README's bot is examples/bot.ts, which the test command compiles with tsc --strict.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

test('the README shows examples/bot.ts unchanged', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const bot = fs.readFileSync(path.join(__dirname, '..', 'examples', 'bot.ts'), 'utf8');
  assert.ok(readme.includes('```ts\n' + bot + '```'), 'README.md must contain examples/bot.ts in a ```ts block');
});
