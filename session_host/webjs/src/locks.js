'use strict';
// Stale Chromium profile locks. LocalAuth keeps each sender's browser profile (the Chromium user
// data dir) at <authDir>/session-<clientId>/ (or <authDir>/session/ without a clientId), and Chromium
// puts SingletonLock, SingletonSocket and SingletonCookie at the top of that dir: symlinks whose
// target names the hostname-pid that holds the profile. A task killed by ECS or the OOM killer leaves
// them behind (dangling, naming a dead container), and the next Chromium then refuses the profile
// ("The profile appears to be in use by another Chromium process").
//
// Clearing them at start is safe because only one sidecar runs per task and the ECS service never
// runs two session hosts at once: at this point no live Chromium can own any profile under authDir.
// The walk is bounded (the session dirs directly under authDir, three names each) and never follows a
// symlink: lstat() looks at the link itself and rm() removes the link, not its target.

const fs = require('node:fs/promises');
const path = require('node:path');

const LOCK_NAMES = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'];
const SESSION_DIR = /^session(-[-_\w]+)?$/i; // LocalAuth's `session` / `session-<clientId>`

/** The session dirs directly under authDir (real directories only, no symlinks); [] if it is missing. */
async function sessionDirs(authDir) {
  let entries;
  try {
    entries = await fs.readdir(authDir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((entry) => entry.isDirectory() && SESSION_DIR.test(entry.name))
    .map((entry) => path.join(authDir, entry.name));
}

/** Remove one lock entry if it exists (file, socket or symlink, dangling or not); true if removed. */
async function removeLock(file, log) {
  let stat;
  try {
    stat = await fs.lstat(file);
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    log('cannot inspect chromium lock', { path: file, error: err.message });
    return false;
  }
  if (stat.isDirectory()) {
    log('not removing chromium lock: it is a directory', { path: file });
    return false;
  }
  try {
    await fs.rm(file, { force: true });
  } catch (err) {
    log('cannot remove chromium lock', { path: file, error: err.message });
    return false;
  }
  return true;
}

/**
 * Remove stale SingletonLock/SingletonSocket/SingletonCookie from every session dir under authDir.
 * Call it before any session is opened. Returns the removed paths; a missing authDir gives [].
 */
async function clearStaleLocks(authDir, { log = () => {} } = {}) {
  const removed = [];
  for (const dir of await sessionDirs(authDir)) {
    for (const name of LOCK_NAMES) {
      const file = path.join(dir, name);
      if (await removeLock(file, log)) removed.push(file);
    }
  }
  if (removed.length) log('removed stale chromium profile locks', { count: removed.length, paths: removed });
  return removed;
}

module.exports = { clearStaleLocks, LOCK_NAMES };
