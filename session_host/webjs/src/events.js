'use strict';
// A bounded buffer of sidecar events (session states, QR codes, acks, incoming messages) that the
// session host reads with a cursor: GET /events?after=<seq>. Old events fall off the front; a reader
// whose cursor fell behind is told how many it missed. `boot` changes when the sidecar restarts, so
// the host knows its cursor belongs to a previous run.

const crypto = require('node:crypto');

class EventBuffer {
  constructor({ capacity = 2000 } = {}) {
    this.capacity = capacity;
    this.boot = crypto.randomUUID();
    this.events = [];
    this.seq = 0;
    this.waiters = new Set();
  }

  push(event) {
    this.seq += 1;
    this.events.push({ seq: this.seq, at: new Date().toISOString(), ...event });
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    return this.seq;
  }

  /** Events after `after` (at most `limit`), the cursor to use next, and how many were missed. */
  read(after, limit = 500) {
    const first = this.events.length ? this.events[0].seq : this.seq + 1;
    const dropped = Math.max(0, Math.min(first - 1, this.seq) - after);
    const events = this.events.filter((e) => e.seq > after).slice(0, limit);
    const next = events.length ? events[events.length - 1].seq : after;
    return { boot: this.boot, events, next, dropped };
  }

  /** Like read, but waits up to `waitMs` for an event when there is none yet (long poll). */
  async wait(after, waitMs) {
    const page = this.read(after);
    if (page.events.length || waitMs <= 0 || after > this.seq) return page;
    await new Promise((resolve) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.add(done);
    });
    return this.read(after);
  }

  /** Wake every waiting reader (shutdown). */
  close() {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }
}

module.exports = { EventBuffer };
