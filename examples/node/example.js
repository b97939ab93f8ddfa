'use strict';
// node example.js DIR: creates a repository in DIR, snapshots with progress, edits, snapshots
// again, lists the history and restores the first snapshot.
const fs = require('node:fs');
const path = require('node:path');
const { Workspace, version } = require('./jvs');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node example.js DIR');
  process.exit(2);
}

const ws = Workspace.init(dir);
try {
  const file = path.join(ws.path, 'agent-notes.md');
  fs.writeFileSync(file, 'plan: v1\n');
  const first = ws.snapshot('before the agent run', {
    tags: ['base'],
    onProgress: (ev) => console.error(`  ${ev.op} ${ev.phase} ${ev.done}/${ev.total}`),
  });

  fs.writeFileSync(file, 'plan: v2 (the agent rewrote it)\n');
  ws.snapshot('after the agent run');

  console.log(`libjvs ${version()}, worktree ${ws.worktree} at ${ws.path}`);
  for (const s of ws.history()) {
    console.log(`${s.snapshot_id}  ${s.note}${s.tags ? '  [' + s.tags.join(', ') + ']' : ''}`);
  }

  const result = ws.restore(first.snapshot_id);
  console.log(`restored ${result.snapshot_id}: ${result.changes.length} change(s); ` +
    `agent-notes.md says "${fs.readFileSync(file, 'utf8').trim()}"`);
} finally {
  ws.close();
}
