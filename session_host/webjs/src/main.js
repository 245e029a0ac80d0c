'use strict';
// The sidecar process: whatsapp-web.js with Debian's chromium (never a downloaded browser), one
// LocalAuth session per sender under WEBJS_AUTH_DIR, and the HTTP API on 127.0.0.1:3001.

const { EventBuffer } = require('./events');
const { clearStaleLocks } = require('./locks');
const { createServer } = require('./server');
const { SessionManager } = require('./sessions');

function config(env = process.env) {
  if (!env.WEBJS_SECRET) throw new Error('WEBJS_SECRET is required: the sidecar refuses to start without it');
  return {
    secret: env.WEBJS_SECRET,
    host: env.WEBJS_HOST || '127.0.0.1',
    port: Number.parseInt(env.WEBJS_PORT || '3001', 10),
    authDir: env.WEBJS_AUTH_DIR || '/data/sessions/webjs',
    executablePath: env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium',
  };
}

function realClientFactory({ executablePath }) {
  const { Client, LocalAuth } = require('whatsapp-web.js');
  return ({ clientId, dataPath }) =>
    new Client({
      authStrategy: new LocalAuth({ clientId, dataPath }),
      puppeteer: {
        executablePath,
        headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      },
    });
}

function log(message, fields = {}) {
  process.stdout.write(`${JSON.stringify({ level: 'INFO', service: 'webjs', message, ...fields })}\n`);
}

async function main() {
  let settings;
  try {
    settings = config();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  // Before any session is opened: a killed task leaves Chromium's Singleton* locks behind (locks.js).
  await clearStaleLocks(settings.authDir, { log });
  const events = new EventBuffer();
  const sessions = new SessionManager({ clientFactory: realClientFactory(settings), events, authDir: settings.authDir, log });
  sessions.MessageMedia = require('whatsapp-web.js').MessageMedia;
  const server = createServer({ secret: settings.secret, sessions, events, log });
  server.listen(settings.port, settings.host, () => log('webjs sidecar listening', { host: settings.host, port: settings.port }));
  const shutdown = async () => {
    log('stopping: destroying every browser');
    events.close();
    server.close();
    await sessions.stopAll();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err.stack || err.message}\n`);
    process.exit(1);
  });
}

module.exports = { config, realClientFactory };
