'use strict';
// One whatsapp-web.js Client per sender, made by an injected clientFactory (tests pass a fake).
//
// The browser stays alive until destroy(), so every failure path destroys the client: a rejected or
// timed-out initialize(), an auth failure, a disconnection, a logout, a stop, and shutdown.
// Sends are classified where they fail: before sendMessage() is called nothing was sent (the status
// code says so); a failure or timeout of sendMessage() itself may have reached WhatsApp (unknown).

const fs = require('node:fs/promises');
const path = require('node:path');

/** whatsapp-web.js message types that are media (or other non-text) replies. */
const MEDIA_TYPES = new Set(['image', 'video', 'audio', 'ptt', 'document', 'sticker', 'location', 'vcard']);
const ACK_STATUS = { 2: 'DELIVERED', 3: 'READ', 4: 'READ' }; // ACK_DEVICE, ACK_READ, ACK_PLAYED

class SidecarError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new SidecarError(504, 'timeout', `${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class Session {
  constructor(id) {
    this.id = id;
    this.client = null;
    this.state = 'stopped';
    this.error = null;
    this.qr = null;
    this.since = new Date().toISOString();
    this.generation = 0;
  }
}

class SessionManager {
  constructor({ clientFactory, events, authDir, initTimeoutMs = 60000, sendTimeoutMs = 25000, log = () => {} }) {
    this.clientFactory = clientFactory;
    this.events = events;
    this.authDir = authDir;
    this.initTimeoutMs = initTimeoutMs;
    this.sendTimeoutMs = sendTimeoutMs;
    this.log = log;
    this.sessions = new Map();
  }

  session(id) {
    if (!this.sessions.has(id)) this.sessions.set(id, new Session(id));
    return this.sessions.get(id);
  }

  status(id) {
    const s = this.session(id);
    return { id, state: s.state, error: s.error, since: s.since, qr: s.qr };
  }

  async linked(id) {
    try {
      await fs.access(path.join(this.authDir, `session-${id}`));
      return true;
    } catch {
      return false;
    }
  }

  setState(session, state, error = null) {
    if (session.state === state && session.error === error) return;
    session.state = state;
    session.error = error;
    session.since = new Date().toISOString();
    if (state !== 'qr') session.qr = null;
    this.events.push({ session: session.id, type: 'state', state, error });
  }

  /** Start (or resume) a session. Idempotent: a session that is starting or running is left alone. */
  start(id) {
    const session = this.session(id);
    if (session.client) return this.status(id);
    session.generation += 1;
    const generation = session.generation;
    const client = this.clientFactory({ clientId: id, dataPath: this.authDir });
    session.client = client;
    this.setState(session, 'starting');
    this.attach(session, client, generation);
    withTimeout(Promise.resolve().then(() => client.initialize()), this.initTimeoutMs, 'initialize()').catch(
      (err) => this.fail(session, generation, 'disconnected', `initialize_failed: ${err.message}`),
    );
    return this.status(id);
  }

  attach(session, client, generation) {
    const current = () => session.generation === generation && session.client === client;
    client.on('qr', (qr) => {
      if (!current()) return;
      this.setState(session, 'qr');
      session.qr = qr;
      this.events.push({ session: session.id, type: 'qr', qr });
    });
    client.on('authenticated', () => current() && this.setState(session, 'authenticated'));
    client.on('ready', () => current() && this.setState(session, 'ready'));
    client.on('auth_failure', (msg) => this.fail(session, generation, 'failed', `auth_failure: ${msg}`));
    client.on('disconnected', (reason) => {
      const state = reason === 'LOGOUT' ? 'logged_out' : 'disconnected';
      this.fail(session, generation, state, `disconnected: ${reason}`);
    });
    client.on('message_ack', (message, ack) => {
      const status = ACK_STATUS[ack];
      if (!current() || !status || !message?.id?.fromMe) return;
      this.events.push({ session: session.id, type: 'receipt', id: message.id.id, status, to: message.to });
    });
    client.on('message', (message) => {
      const media = message?.hasMedia || MEDIA_TYPES.has(message?.type) ? message.type : null;
      if (!current() || message?.id?.fromMe || (!message?.body && !media)) return;
      // a media message's body is its caption (or nothing)
      const body = media && !['image', 'video', 'document'].includes(media) ? '' : message.body ?? '';
      this.events.push({ session: session.id, type: 'incoming', from: message.from, body, id: message.id?.id ?? null, media });
    });
  }

  /** A failure path: report it and destroy the client (its browser would stay alive otherwise). */
  fail(session, generation, state, error) {
    if (session.generation !== generation || !session.client) return;
    const client = session.client;
    session.client = null;
    this.setState(session, state, error);
    this.log('session failed', { id: session.id, state, error });
    return this.destroy(client);
  }

  async destroy(client) {
    try {
      await withTimeout(Promise.resolve().then(() => client.destroy()), 15000, 'destroy()');
    } catch (err) {
      this.log('destroy failed', { error: err.message });
    }
  }

  async stop(id) {
    const session = this.session(id);
    const client = session.client;
    session.generation += 1;
    session.client = null;
    if (client) await this.destroy(client);
    this.setState(session, 'stopped');
    return this.status(id);
  }

  async stopAll() {
    await Promise.all([...this.sessions.keys()].map((id) => this.stop(id)));
  }

  ready(id) {
    const session = this.session(id);
    if (!session.client || session.state !== 'ready') {
      throw new SidecarError(409, 'not_connected', `session ${id} is ${session.state}`);
    }
    return session;
  }

  async probe(id, timeoutMs) {
    const session = this.ready(id);
    return withTimeout(session.client.getState(), timeoutMs, 'getState()');
  }

  async send(id, to, body, media) {
    const session = this.ready(id);
    if (!/^\d{6,15}$/.test(String(to))) throw new SidecarError(400, 'invalid_recipient', `not a phone number: ${to}`);
    let wid;
    try {
      wid = await withTimeout(session.client.getNumberId(String(to)), this.sendTimeoutMs, 'getNumberId()');
    } catch (err) {
      throw new SidecarError(503, 'lookup_failed', `could not check the number: ${err.message}`);
    }
    if (!wid) throw new SidecarError(422, 'not_on_whatsapp', `${to} is not on WhatsApp`);
    const content = media ? this.mediaOf(media) : body;
    const options = media && body ? { caption: body } : {};
    let sent;
    try {
      // From here on the message may reach WhatsApp: every failure is unknown (502/504), never "not sent".
      sent = await withTimeout(session.client.sendMessage(wid._serialized, content, options), this.sendTimeoutMs, 'sendMessage()');
    } catch (err) {
      if (err instanceof SidecarError) throw err;
      throw new SidecarError(502, 'send_failed', err.message);
    }
    if (!sent?.id?.id) throw new SidecarError(502, 'send_failed', 'sendMessage() returned no message');
    return { id: sent.id.id, serialized: sent.id._serialized };
  }

  mediaOf(media) {
    if (!this.MessageMedia) throw new SidecarError(400, 'invalid_message', 'media is not supported here');
    return new this.MessageMedia(media.mimetype, media.data, media.filename);
  }

  async pairingCode(id, phone) {
    const session = this.session(id);
    if (!session.client) this.start(id);
    if (!/^\d{6,15}$/.test(String(phone))) throw new SidecarError(400, 'invalid_phone', `not a phone number: ${phone}`);
    const deadline = Date.now() + this.initTimeoutMs;
    while (session.client && session.state !== 'qr' && Date.now() < deadline) {
      if (session.state === 'ready') throw new SidecarError(409, 'already_linked', 'the session is already linked');
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!session.client || session.state !== 'qr') throw new SidecarError(503, 'not_linking', `session ${id} is ${session.state}`);
    const code = await withTimeout(session.client.requestPairingCode(String(phone), true), 30000, 'requestPairingCode()');
    this.events.push({ session: id, type: 'pairing_code', code });
    return { code };
  }

  async logout(id) {
    const session = this.session(id);
    const client = session.client;
    session.generation += 1;
    session.client = null;
    if (client) {
      try {
        if (session.state === 'ready') await withTimeout(client.logout(), 20000, 'logout()');
      } catch (err) {
        this.log('logout failed', { id, error: err.message });
      }
      await this.destroy(client);
    }
    this.setState(session, 'logged_out');
    return this.status(id);
  }

  async forget(id) {
    await this.logout(id);
    await fs.rm(path.join(this.authDir, `session-${id}`), { recursive: true, force: true });
    this.sessions.delete(id);
    return { id, forgotten: true };
  }
}

module.exports = { SessionManager, SidecarError, withTimeout };
