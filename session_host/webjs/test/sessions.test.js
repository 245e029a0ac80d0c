'use strict';
const assert = require('node:assert/strict');
const test = require('node:test');
const os = require('node:os');
const path = require('node:path');
const { EventBuffer } = require('../src/events');
const { SessionManager } = require('../src/sessions');
const { factory } = require('./fakes');

const tick = () => new Promise((r) => setImmediate(r));

function manager(script, options = {}) {
  const fake = factory(script);
  const events = new EventBuffer({ capacity: 50 });
  const authDir = path.join(os.tmpdir(), `webjs-test-${process.pid}`);
  const sessions = new SessionManager({ clientFactory: fake.make, events, authDir, ...options });
  return { fake, events, sessions };
}

async function readySession(script = {}) {
  const world = manager(script);
  world.sessions.start('s1');
  world.fake.clients[0].emit('ready');
  return world;
}

test('a session uses LocalAuth per sender under the auth dir, and shows its QR codes', async () => {
  const { fake, events, sessions } = manager();
  sessions.start('s1');
  assert.deepEqual(fake.clients[0].options, { clientId: 's1', dataPath: sessions.authDir });
  fake.clients[0].emit('qr', '2@abc');
  assert.equal(sessions.status('s1').state, 'qr');
  assert.equal(sessions.status('s1').qr, '2@abc');
  fake.clients[0].emit('qr', '2@rotated');
  assert.equal(sessions.status('s1').qr, '2@rotated');
  const qrs = events.read(0).events.filter((e) => e.type === 'qr').map((e) => e.qr);
  assert.deepEqual(qrs, ['2@abc', '2@rotated']);
});

test('starting twice keeps one client', () => {
  const { fake, sessions } = manager();
  sessions.start('s1');
  sessions.start('s1');
  assert.equal(fake.clients.length, 1);
});

test('a rejected initialize() destroys the client and reports the failure', async () => {
  const { fake, sessions } = manager({ initialize: () => Promise.reject(new Error('net::ERR_NAME_NOT_RESOLVED')) });
  sessions.start('s1');
  await tick();
  await tick();
  assert.equal(fake.clients[0].destroyed, 1);
  const status = sessions.status('s1');
  assert.equal(status.state, 'disconnected');
  assert.match(status.error, /initialize_failed: net::ERR_NAME_NOT_RESOLVED/);
});

test('an initialize() that hangs is given up and its browser destroyed', async () => {
  const { fake, sessions } = manager({ initialize: () => new Promise(() => {}) }, { initTimeoutMs: 20 });
  sessions.start('s1');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(fake.clients[0].destroyed, 1);
  assert.match(sessions.status('s1').error, /initialize\(\) took longer than 20 ms/);
});

test('disconnection and auth failure destroy the client; a new start makes a new one', async () => {
  const { fake, sessions } = await readySession();
  fake.clients[0].emit('disconnected', 'NAVIGATION');
  await tick();
  assert.equal(fake.clients[0].destroyed, 1);
  assert.equal(sessions.status('s1').state, 'disconnected');
  sessions.start('s1');
  fake.clients[1].emit('auth_failure', 'bad session');
  await tick();
  assert.equal(fake.clients[1].destroyed, 1);
  assert.equal(sessions.status('s1').state, 'failed');
  fake.clients[0].emit('ready'); // a stale client's events are ignored
  assert.equal(sessions.status('s1').state, 'failed');
});

test('a LOGOUT disconnection is reported as logged out', async () => {
  const { fake, sessions } = await readySession();
  fake.clients[0].emit('disconnected', 'LOGOUT');
  assert.equal(sessions.status('s1').state, 'logged_out');
});

test('send returns the WhatsApp message id', async () => {
  const { sessions } = await readySession();
  assert.deepEqual(await sessions.send('s1', '919876543210', 'hi'), {
    id: '3EB01',
    serialized: 'true_919876543210@c.us_3EB01',
  });
});

test('send refuses before calling WhatsApp: not ready 409, bad number 400, not on WhatsApp 422, lookup 503', async () => {
  const idle = manager();
  await assert.rejects(idle.sessions.send('s1', '919876543210', 'hi'), { status: 409, code: 'not_connected' });
  const script = { getNumberId: async () => null };
  const { sessions } = await readySession(script);
  await assert.rejects(sessions.send('s1', 'abc', 'hi'), { status: 400 });
  await assert.rejects(sessions.send('s1', '919876543210', 'hi'), { status: 422, code: 'not_on_whatsapp' });
  script.getNumberId = async () => {
    throw new Error('page crashed');
  };
  await assert.rejects(sessions.send('s1', '919876543210', 'hi'), { status: 503, code: 'lookup_failed' });
});

test('a failing or slow sendMessage() is unknown (502/504), never "not sent"', async () => {
  const failing = await readySession({
    sendMessage: async () => {
      throw new Error('Evaluation failed');
    },
  });
  await assert.rejects(failing.sessions.send('s1', '919876543210', 'hi'), { status: 502, code: 'send_failed' });
  const slow = manager({ sendMessage: () => new Promise(() => {}) }, { sendTimeoutMs: 20 });
  slow.sessions.start('s1');
  slow.fake.clients[0].emit('ready');
  await assert.rejects(slow.sessions.send('s1', '919876543210', 'hi'), { status: 504, code: 'timeout' });
});

test('acks of our messages become receipts; incoming texts are forwarded', async () => {
  const { fake, events } = await readySession();
  const client = fake.clients[0];
  const mine = { id: { id: '3EB0X', fromMe: true }, to: '919876543210@c.us' };
  client.emit('message_ack', mine, 1); // server ack: already SENT, nothing to report
  client.emit('message_ack', mine, 2);
  client.emit('message_ack', mine, 3);
  client.emit('message_ack', { id: { id: 'THEIRS', fromMe: false } }, 3);
  client.emit('message', { id: { id: 'IN1', fromMe: false }, from: '919876543210@c.us', body: 'STOP', type: 'chat' });
  client.emit('message', { id: { id: 'IN2', fromMe: false }, from: '919876543210@c.us', body: 'menu?', type: 'image', hasMedia: true });
  client.emit('message', { id: { id: 'IN3', fromMe: false }, from: '919876543210@c.us', body: 'b64…', type: 'ptt', hasMedia: true });
  client.emit('message', { id: { id: 'IN4', fromMe: false }, from: '919876543210@c.us', body: '', type: 'chat' }); // nothing in it
  const seen = events.read(0).events.filter((e) => e.type !== 'state');
  assert.deepEqual(
    seen.map((e) => [e.type, e.id ?? e.from, e.status ?? e.body, e.media ?? null]),
    [
      ['receipt', '3EB0X', 'DELIVERED', null],
      ['receipt', '3EB0X', 'READ', null],
      ['incoming', 'IN1', 'STOP', null],
      ['incoming', 'IN2', 'menu?', 'image'], // a caption is the body
      ['incoming', 'IN3', '', 'ptt'], // a voice note's body is its data, not text
    ],
  );
});

test('stop and logout destroy the browser', async () => {
  const a = await readySession();
  await a.sessions.stop('s1');
  assert.equal(a.fake.clients[0].destroyed, 1);
  const b = await readySession();
  await b.sessions.logout('s1');
  assert.equal(b.fake.clients[0].loggedOut, true);
  assert.equal(b.fake.clients[0].destroyed, 1);
  assert.equal(b.sessions.status('s1').state, 'logged_out');
});

test('a pairing code is requested once the session waits for linking', async () => {
  const { fake, events, sessions } = manager();
  const pending = sessions.pairingCode('s1', '919876543210');
  await tick();
  fake.clients[0].emit('qr', '2@abc');
  assert.deepEqual(await pending, { code: 'CODE3210' });
  assert.ok(events.read(0).events.some((e) => e.type === 'pairing_code' && e.code === 'CODE3210'));
});
