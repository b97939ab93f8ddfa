'use strict';
// Run with `node --test` (JVS_LIBRARY names the libjvs.so to load; default libjvs.so.1).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Workspace, JvsError, docsFreed, version } = require('../jvs');

function tempRepo(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvs-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ws = Workspace.init(path.join(dir, 'repo'));
  t.after(() => ws.close());
  return ws;
}

test('snapshot with progress, history, restore; every document freed', (t) => {
  const freedBefore = docsFreed();
  const ws = tempRepo(t); // 1 document (repo)
  assert.equal(ws.worktree, 'main');
  assert.equal(version(), '1.0.0');
  const file = path.join(ws.path, 'données', 'メモ.txt');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, 'v1');

  const phases = [];
  const first = ws.snapshot('première — 最初', { // 2
    tags: ['base'],
    onProgress: (ev) => {
      assert.equal(ev.kind, 'progress');
      assert.equal(ev.op, 'snapshot');
      if (phases[phases.length - 1] !== ev.phase) phases.push(ev.phase);
    },
  });
  assert.deepEqual(phases, ['scan', 'copy', 'sync']);
  assert.match(first.snapshot_id, /^\d{13}-[0-9a-f]{8}$/);
  assert.deepEqual(first.tags, ['base']);

  fs.writeFileSync(file, 'v2');
  const second = ws.snapshot('second'); // 3
  assert.equal(second.parent_id, first.snapshot_id);

  const history = ws.history(); // 4
  assert.deepEqual(history.map((s) => s.note), ['second', 'première — 最初']);
  assert.equal(ws.history({ tag: 'base' }).length, 1); // 5

  const plan = ws.restore('base', { dryRun: true }); // 6
  assert.equal(plan.dry_run, true);
  assert.deepEqual(plan.changes, [{ path: 'données/メモ.txt', action: 'update' }]);
  assert.equal(fs.readFileSync(file, 'utf8'), 'v2');

  const events = [];
  const result = ws.restore(first.snapshot_id, { onProgress: (ev) => events.push(ev.phase) }); // 7
  assert.equal(result.detached, true);
  assert.ok(events.includes('write'));
  assert.equal(fs.readFileSync(file, 'utf8'), 'v1');
  assert.equal(docsFreed() - freedBefore, 7, 'every returned document goes to jvs_free');
});

test('errors carry the stable code, and are freed too', (t) => {
  const ws = tempRepo(t);
  const before = docsFreed();
  assert.throws(() => ws.restore('no-such-snapshot'), (err) => {
    assert.ok(err instanceof JvsError);
    assert.equal(err.code, 'E_REF_NOT_FOUND');
    assert.equal(err.status, -3);
    assert.equal(err.op, 'restore');
    assert.ok(err.hint);
    return true;
  });
  assert.throws(() => ws.call('no_such_method'), { code: 'E_METHOD_UNKNOWN' });
  assert.throws(() => ws.snapshot('x', { tags: ['-bad'] }), { code: 'E_TAG_INVALID' });
  assert.throws(() => Workspace.open(os.tmpdir() + '/jvs-node-no-such-dir'), { code: 'E_NOT_REPO' });
  assert.equal(docsFreed() - before, 4);
});

test('an exception from the progress callback cancels and is rethrown', (t) => {
  const ws = tempRepo(t);
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(ws.path, `f${i}`), String(i));
  const stop = new Error('agent aborted');
  assert.throws(() => ws.snapshot('never', {
    onProgress: (ev) => {
      if (ev.phase === 'copy') throw stop;
    },
  }), (err) => err === stop);
  assert.deepEqual(ws.history({ all: true }), []);
  assert.equal(ws.snapshot('afterwards').note, 'afterwards');
});

test('close is idempotent and later calls fail', (t) => {
  const ws = tempRepo(t);
  ws.close();
  ws.close();
  assert.throws(() => ws.history(), /closed/);
});

test('example.js runs', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvs-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'example.js'), path.join(dir, 'repo')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.match(out, /after the agent run/);
  assert.match(out, /before the agent run {2}\[base\]/);
  assert.match(out, /agent-notes\.md says "plan: v1"/);
});
