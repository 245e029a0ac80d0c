'use strict';
const assert = require('node:assert/strict');
const test = require('node:test');
const { EventBuffer } = require('../src/events');

test('a reader follows the buffer with its cursor', () => {
  const buffer = new EventBuffer({ capacity: 10 });
  buffer.push({ type: 'a' });
  buffer.push({ type: 'b' });
  const first = buffer.read(0);
  assert.deepEqual(first.events.map((e) => e.type), ['a', 'b']);
  assert.equal(first.next, 2);
  buffer.push({ type: 'c' });
  const second = buffer.read(first.next);
  assert.deepEqual(second.events.map((e) => e.type), ['c']);
  assert.equal(buffer.read(second.next).events.length, 0);
  assert.equal(buffer.read(second.next).next, second.next);
});

test('the buffer is bounded, and a reader that fell behind is told how many it missed', () => {
  const buffer = new EventBuffer({ capacity: 3 });
  for (let i = 1; i <= 5; i += 1) buffer.push({ type: `e${i}` });
  assert.equal(buffer.events.length, 3);
  const page = buffer.read(0);
  assert.deepEqual(page.events.map((e) => e.type), ['e3', 'e4', 'e5']);
  assert.equal(page.dropped, 2);
  assert.equal(buffer.read(3).dropped, 0);
});

test('a long poll returns as soon as an event arrives, or after the wait', async () => {
  const buffer = new EventBuffer();
  const waiting = buffer.wait(0, 5000);
  setTimeout(() => buffer.push({ type: 'late' }), 10);
  const page = await waiting;
  assert.deepEqual(page.events.map((e) => e.type), ['late']);
  const started = Date.now();
  const empty = await buffer.wait(page.next, 30);
  assert.equal(empty.events.length, 0);
  assert.ok(Date.now() - started >= 25);
});

test('each sidecar run has its own boot id', () => {
  assert.notEqual(new EventBuffer().boot, new EventBuffer().boot);
});
