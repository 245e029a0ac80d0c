'use strict';
const assert = require('node:assert/strict');
const test = require('node:test');
const os = require('node:os');
const { EventBuffer } = require('../src/events');
const { createServer, secretMatches } = require('../src/server');
const { config } = require('../src/main');
const { SessionManager } = require('../src/sessions');
const { factory } = require('./fakes');

async function withServer(fn) {
  const fake = factory();
  const events = new EventBuffer();
  const sessions = new SessionManager({ clientFactory: fake.make, events, authDir: os.tmpdir() });
  const server = createServer({ secret: 's3cret', sessions, events });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const call = (method, path, body, secret = 's3cret') =>
    fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-wacast-secret': secret } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  try {
    await fn({ call, fake, sessions });
  } finally {
    events.close();
    await new Promise((r) => server.close(r));
  }
}

test('the sidecar refuses to start without a secret', () => {
  assert.throws(() => config({}), /WEBJS_SECRET is required/);
  assert.throws(() => createServer({ secret: '', sessions: null, events: null }), /WEBJS_SECRET is required/);
  assert.equal(config({ WEBJS_SECRET: 'x' }).host, '127.0.0.1');
  assert.equal(config({ WEBJS_SECRET: 'x' }).executablePath, '/usr/bin/chromium');
});

test('the secret is compared in constant time and must match exactly', () => {
  assert.equal(secretMatches('abc', 'abc'), true);
  assert.equal(secretMatches('abc', 'abd'), false);
  assert.equal(secretMatches('abc', 'ab'), false);
  assert.equal(secretMatches('abc', undefined), false);
});

test('every route but /health needs the secret', async () => {
  await withServer(async ({ call }) => {
    assert.equal((await call('GET', '/health', null, null)).status, 200);
    assert.equal((await call('POST', '/sessions/s1/start', {}, null)).status, 401);
    assert.equal((await call('POST', '/sessions/s1/start', {}, 'wrong')).status, 401);
    assert.equal((await call('GET', '/events', null, null)).status, 401);
  });
});

test('start, qr, status, send and logout over HTTP', async () => {
  await withServer(async ({ call, fake }) => {
    assert.equal((await call('POST', '/sessions/s1/start', {})).status, 200);
    assert.equal((await call('GET', '/sessions/s1/qr')).status, 404);
    fake.clients[0].emit('qr', '2@abc');
    assert.deepEqual(await (await call('GET', '/sessions/s1/qr')).json(), { qr: '2@abc' });
    const notReady = await call('POST', '/sessions/s1/send', { to: '919876543210', body: 'hi' });
    assert.equal(notReady.status, 409);
    assert.equal((await notReady.json()).error.code, 'not_connected');
    fake.clients[0].emit('ready');
    const status = await (await call('GET', '/sessions/s1/status?probe=1')).json();
    assert.equal(status.state, 'ready');
    assert.equal(status.waState, 'CONNECTED');
    const sent = await call('POST', '/sessions/s1/send', { to: '919876543210', body: 'hi' });
    assert.equal(sent.status, 200);
    assert.equal((await sent.json()).id, '3EB01');
    assert.equal((await call('POST', '/sessions/s1/logout', {})).status, 200);
    assert.equal(fake.clients[0].destroyed, 1);
  });
});

test('events are read with a cursor', async () => {
  await withServer(async ({ call, fake }) => {
    await call('POST', '/sessions/s1/start', {});
    fake.clients[0].emit('qr', '2@abc');
    const page = await (await call('GET', '/events?after=0')).json();
    assert.deepEqual(page.events.map((e) => e.type), ['state', 'state', 'qr']);
    const next = await (await call('GET', `/events?after=${page.next}`)).json();
    assert.equal(next.events.length, 0);
    assert.equal(next.boot, page.boot);
  });
});
