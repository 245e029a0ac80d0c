'use strict';
// The sidecar's HTTP API, for the session host only: it listens on 127.0.0.1 and every route but
// /health needs the shared secret in X-Wacast-Secret (compared in constant time).
//
//   POST /sessions/:id/start            open (or resume) a session        GET  /sessions/:id/status[?probe=1]
//   GET  /sessions/:id/qr               the current QR code               POST /sessions/:id/send {to, body, media?}
//   POST /sessions/:id/pairing-code     {phone} -> {code}                 POST /sessions/:id/logout | stop | forget
//   GET  /events?after=<seq>&wait=<s>   session states, QR codes, acks and incoming messages (long poll)

const crypto = require('node:crypto');
const http = require('node:http');
const { SidecarError } = require('./sessions');

const MAX_BODY = 24 * 1024 * 1024; // a 16 MB media file, base64-encoded
const ID = '([A-Za-z0-9_-]{1,64})';
const ROUTES = [
  ['POST', new RegExp(`^/sessions/${ID}/start$`), (ctx, m) => ctx.sessions.start(m[1])],
  ['POST', new RegExp(`^/sessions/${ID}/stop$`), (ctx, m) => ctx.sessions.stop(m[1])],
  ['GET', new RegExp(`^/sessions/${ID}/status$`), statusRoute],
  ['GET', new RegExp(`^/sessions/${ID}/qr$`), qrRoute],
  ['POST', new RegExp(`^/sessions/${ID}/send$`), (ctx, m, body) => ctx.sessions.send(m[1], body.to, body.body ?? '', body.media)],
  ['POST', new RegExp(`^/sessions/${ID}/pairing-code$`), (ctx, m, body) => ctx.sessions.pairingCode(m[1], body.phone)],
  ['POST', new RegExp(`^/sessions/${ID}/logout$`), (ctx, m) => ctx.sessions.logout(m[1])],
  ['POST', new RegExp(`^/sessions/${ID}/forget$`), (ctx, m) => ctx.sessions.forget(m[1])],
  ['GET', /^\/events$/, eventsRoute],
];

async function statusRoute(ctx, m, _body, url) {
  const status = { ...ctx.sessions.status(m[1]), linked: await ctx.sessions.linked(m[1]) };
  if (url.searchParams.get('probe') === '1' && status.state === 'ready') {
    try {
      status.waState = await ctx.sessions.probe(m[1], 10000);
    } catch (err) {
      status.waState = null;
      status.probeError = err.message;
    }
  }
  return status;
}

function qrRoute(ctx, m) {
  const { qr } = ctx.sessions.status(m[1]);
  if (!qr) throw new SidecarError(404, 'no_qr', 'no QR code to show');
  return { qr };
}

function eventsRoute(ctx, _m, _body, url) {
  const after = Number.parseInt(url.searchParams.get('after') ?? '0', 10) || 0;
  const wait = Math.min(25, Math.max(0, Number.parseInt(url.searchParams.get('wait') ?? '0', 10) || 0));
  return ctx.events.wait(after, wait * 1000);
}

function secretMatches(expected, given) {
  const a = crypto.createHash('sha256').update(String(expected)).digest();
  const b = crypto.createHash('sha256').update(String(given ?? '')).digest();
  return crypto.timingSafeEqual(a, b) && given !== undefined;
}

function send(res, status, payload) {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new SidecarError(413, 'too_large', 'the request body is too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!chunks.length) return resolve({});
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new SidecarError(400, 'bad_json', 'the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function createServer({ secret, sessions, events, log = () => {} }) {
  if (!secret) throw new Error('WEBJS_SECRET is required: the sidecar refuses to start without it');
  const ctx = { sessions, events };
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://sidecar');
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true });
    if (!secretMatches(secret, req.headers['x-wacast-secret'])) {
      return send(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong X-Wacast-Secret' } });
    }
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
    if (!route) return send(res, 404, { error: { code: 'not_found', message: `${req.method} ${url.pathname}` } });
    try {
      const body = req.method === 'POST' ? await readJson(req) : {};
      send(res, 200, await route[2](ctx, url.pathname.match(route[1]), body, url));
    } catch (err) {
      const status = err instanceof SidecarError ? err.status : 500;
      if (status === 500) log('request failed', { path: url.pathname, error: err.message });
      send(res, status, { error: { code: err.code ?? 'internal', message: err.message } });
    }
  });
}

module.exports = { createServer, secretMatches };
