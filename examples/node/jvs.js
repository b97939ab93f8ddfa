'use strict';
// A small Node.js binding of libjvs (include/jvs.h) through koffi: the JSON C ABI serving
// JavaScript. Calls are synchronous (they block the event loop while libjvs works).
//
// Every document libjvs returns goes through the disposable type JvsDoc: koffi converts it to a
// JS string, then hands the original pointer to jvs_free (never free(): the library owns its
// allocator). docsFreed() counts those releases so the tests can prove none leaks.

const koffi = require('koffi');

const libraryPath = process.env.JVS_LIBRARY || 'libjvs.so.1';
const lib = koffi.load(libraryPath);

const jvsFree = lib.func('void jvs_free(void *ptr)');
let freed = 0;
koffi.disposable('JvsDoc', 'str', (ptr) => {
  freed += 1;
  jvsFree(ptr);
});
koffi.opaque('jvs_repo');
koffi.proto('int32_t jvs_event_cb(const char *event_json, void *user_data)');

const c = {
  abiVersion: lib.func('uint32_t jvs_abi_version(void)'),
  versionString: lib.func('const char *jvs_version_string(void)'),
  repoInit: lib.func('int32_t jvs_repo_init(const char *path, const char *opts_json, _Out_ jvs_repo **out_repo, _Out_ JvsDoc *out_json)'),
  repoOpen: lib.func('int32_t jvs_repo_open(const char *path, const char *opts_json, _Out_ jvs_repo **out_repo, _Out_ JvsDoc *out_json)'),
  repoClose: lib.func('void jvs_repo_close(jvs_repo *repo)'),
  call: lib.func('int32_t jvs_call(jvs_repo *repo, const char *method, const char *params_json, jvs_event_cb *cb, void *user_data, _Out_ JvsDoc *out_json)'),
};

if (c.abiVersion() !== 1) {
  throw new Error(`${libraryPath} has ABI ${c.abiVersion()}, this example needs ABI 1`);
}

/** A failure reported by libjvs: `code` is the stable E_... code (docs/API_REFERENCE.md §8.2). */
class JvsError extends Error {
  constructor(status, doc) {
    const e = (doc && doc.error) || {};
    const code = e.code || (status === -11 ? 'E_NOMEM' : 'E_ERROR');
    super(`${e.op ? e.op + ': ' : ''}${e.message || 'libjvs failed with status ' + status} [${code}]` +
      (e.hint ? ` (hint: ${e.hint})` : ''));
    this.name = 'JvsError';
    this.code = code;
    this.hint = e.hint || '';
    this.details = e.details || {};
    this.status = status;
    this.op = e.op || '';
  }
}

/** Parses the document of a call, throwing JvsError when the status says it failed. */
function take(status, out) {
  const doc = out[0] == null ? null : JSON.parse(out[0]);
  if (status !== 0) throw new JvsError(status, doc);
  return doc;
}

// Closes the handle of a Workspace that was garbage-collected without close().
const forgotten = new FinalizationRegistry((handle) => c.repoClose(handle));

/** An open repository bound to one worktree (the one containing the path it was opened with). */
class Workspace {
  /** Creates a repository at `path`; its worktree "main" lives in path/main. */
  static init(path) {
    return new Workspace(c.repoInit, path);
  }

  /** Opens the repository containing `path`. */
  static open(path) {
    return new Workspace(c.repoOpen, path);
  }

  constructor(fn, path) {
    const repo = [null];
    const out = [null];
    const doc = take(fn(path, null, repo, out), out);
    this.handle = repo[0];
    this.root = doc.repo_root;
    this.worktree = doc.worktree || null;
    this.path = doc.worktree_path || doc.repo_root;
    forgotten.register(this, this.handle, this);
  }

  /**
   * Runs any operation by name (docs/API_REFERENCE.md §4) and returns its result document.
   * `onProgress(event)` gets each progress event; throwing from it cancels the operation (it
   * publishes nothing) and the error is rethrown once libjvs has returned.
   */
  call(method, params, onProgress) {
    if (this.handle === null) throw new Error(`the workspace ${this.path} is closed`);
    let thrown = null;
    const cb = onProgress
      ? (eventJson) => {
        try {
          onProgress(JSON.parse(eventJson));
          return 0;
        } catch (err) {
          thrown = thrown || err;
          return 1; // non-zero cancels
        }
      }
      : null;
    const out = [null];
    const status = c.call(this.handle, method, params ? JSON.stringify(params) : null, cb, null, out);
    if (thrown && status !== 0) throw thrown;
    return take(status, out);
  }

  /** Snapshots the worktree and returns the new snapshot's descriptor. */
  snapshot(note, { tags, paths, onProgress } = {}) {
    return this.call('snapshot', { note, tags, paths }, onProgress).snapshot;
  }

  /** Lists snapshots newest first: the worktree's lineage, or every one with `all`. */
  history({ limit, tag, grep, all } = {}) {
    return this.call('history', { limit, tag, grep, all }).snapshots;
  }

  /** Makes the worktree equal to snapshot `ref` in place; returns what changed. */
  restore(ref, { dryRun, onProgress } = {}) {
    return this.call('restore', { ref, dry_run: dryRun }, onProgress);
  }

  /** Releases the handle; closing twice does nothing. */
  close() {
    if (this.handle === null) return;
    forgotten.unregister(this);
    c.repoClose(this.handle);
    this.handle = null;
  }
}

module.exports = {
  Workspace,
  JvsError,
  version: () => c.versionString(),
  docsFreed: () => freed,
};
