'use strict';
// A fake whatsapp-web.js Client (the third-party edge): an EventEmitter whose methods a test scripts.

const { EventEmitter } = require('node:events');

class FakeClient extends EventEmitter {
  constructor(options, script = {}) {
    super();
    this.options = options;
    this.script = script;
    this.destroyed = 0;
    this.sent = [];
  }

  initialize() {
    // Like the real one: resolves once the page is loaded; QR codes and "ready" come as events.
    return this.script.initialize ? this.script.initialize(this) : Promise.resolve();
  }

  async destroy() {
    this.destroyed += 1;
  }

  async getNumberId(number) {
    if (this.script.getNumberId) return this.script.getNumberId(number);
    return { _serialized: `${number}@c.us` };
  }

  async sendMessage(chatId, content, options) {
    if (this.script.sendMessage) return this.script.sendMessage(chatId, content, options);
    this.sent.push({ chatId, content, options });
    return { id: { id: `3EB0${this.sent.length}`, _serialized: `true_${chatId}_3EB0${this.sent.length}`, fromMe: true } };
  }

  async getState() {
    return this.script.getState ? this.script.getState() : 'CONNECTED';
  }

  async logout() {
    this.loggedOut = true;
  }

  async requestPairingCode(phone) {
    return `CODE${String(phone).slice(-4)}`;
  }
}

function factory(script = {}) {
  const clients = [];
  const make = (options) => {
    const client = new FakeClient(options, script);
    clients.push(client);
    return client;
  };
  return { make, clients };
}

module.exports = { FakeClient, factory };
