'use strict';
const assert = require('node:assert/strict');
const test = require('node:test');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { clearStaleLocks } = require('../src/locks');

const LOCKS = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'];

async function exists(file) {
  try {
    await fs.lstat(file); // the entry itself: a dangling symlink still exists
    return true;
  } catch {
    return false;
  }
}

/** A session dir as a killed Chromium leaves it: dangling lock symlinks, a cookie file, a profile. */
async function staleSession(authDir, name, socketTarget) {
  const dir = path.join(authDir, name);
  await fs.mkdir(path.join(dir, 'Default'), { recursive: true });
  await fs.symlink('ip-10-0-1-23.ec2.internal-4711', path.join(dir, 'SingletonLock')); // dangling
  await fs.symlink(socketTarget, path.join(dir, 'SingletonSocket'));
  await fs.writeFile(path.join(dir, 'SingletonCookie'), '1234567890');
  await fs.writeFile(path.join(dir, 'Default', 'Preferences'), '{}');
  return dir;
}

async function tempDir(t) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webjs-locks-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the stale Singleton* locks of every session dir are removed, the profile stays', async (t) => {
  const root = await tempDir(t);
  const authDir = path.join(root, 'auth');
  const socketTarget = path.join(root, 'scoped_dir123', 'SingletonSocket'); // exists: must survive
  await fs.mkdir(path.dirname(socketTarget));
  await fs.writeFile(socketTarget, '');
  const dirs = [await staleSession(authDir, 'session-s1', socketTarget), await staleSession(authDir, 'session-s2', socketTarget)];
  const logged = [];

  const removed = await clearStaleLocks(authDir, { log: (message, fields) => logged.push({ message, fields }) });

  const expected = dirs.flatMap((dir) => LOCKS.map((name) => path.join(dir, name)));
  assert.deepEqual([...removed].sort(), [...expected].sort());
  for (const file of expected) assert.equal(await exists(file), false, `${file} should be gone`);
  for (const dir of dirs) assert.equal(await fs.readFile(path.join(dir, 'Default', 'Preferences'), 'utf8'), '{}');
  assert.equal(await exists(socketTarget), true, 'a symlink target is never touched');
  assert.ok(logged.some((entry) => entry.fields?.paths?.length === 6), 'the removals are logged');
});

test('only the session dirs directly under the auth dir are touched', async (t) => {
  const authDir = await tempDir(t);
  const other = path.join(authDir, 'not-a-session');
  const nested = path.join(authDir, 'session-s1', 'Default');
  await fs.mkdir(other, { recursive: true });
  await fs.mkdir(nested, { recursive: true });
  await fs.writeFile(path.join(other, 'SingletonLock'), '');
  await fs.writeFile(path.join(nested, 'SingletonLock'), '');
  await fs.writeFile(path.join(authDir, 'session-s1', 'SingletonLock'), '');

  const removed = await clearStaleLocks(authDir);

  assert.deepEqual(removed, [path.join(authDir, 'session-s1', 'SingletonLock')]);
  assert.equal(await exists(path.join(authDir, 'session-s1', 'SingletonLock')), false);
  assert.equal(await exists(path.join(other, 'SingletonLock')), true);
  assert.equal(await exists(path.join(nested, 'SingletonLock')), true);
});

test('a clean auth dir gives [] and logs nothing', async (t) => {
  const authDir = await tempDir(t);
  await fs.mkdir(path.join(authDir, 'session-s1', 'Default'), { recursive: true });
  const logged = [];
  assert.deepEqual(await clearStaleLocks(authDir, { log: (message) => logged.push(message) }), []);
  assert.deepEqual(logged, []);
});

test('a missing auth dir gives [] without throwing', async (t) => {
  const root = await tempDir(t);
  assert.deepEqual(await clearStaleLocks(path.join(root, 'does-not-exist')), []);
});
