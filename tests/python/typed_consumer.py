"""Type-checked with mypy --strict by test_typing.py: the public API as a user would write it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

import jvs
from jvs.progress import tqdm_progress


def use(root: Path) -> None:
    ws: jvs.Workspace = jvs.Workspace.init(root, lock_timeout_ms=1000)
    with ws:
        s: jvs.Snapshot = ws.snapshot("note", tags=["a"], paths=None)
        when: datetime = s.created_at
        parent: Optional[str] = s.parent_id
        hist: List[jvs.Snapshot] = ws.history(limit=1, grep=None, tag=None, all=False)
        cur: Optional[jvs.Snapshot] = ws.current_snapshot
        res: jvs.RestoreResult = ws.restore(s, dry_run=True)
        fork: jvs.Workspace = ws.fork("x", from_=s, progress=lambda e: print(e.op, e.done))
        wts: List[jvs.Worktree] = ws.worktrees()
        ok: bool = ws.verify().ok
        info: jvs.Info = ws.info()
        p: Path = ws.path
        d: jvs.Diff = ws.diff(s, "HEAD", stat=False, progress=None)
        entries: List[jvs.DiffEntry] = d.changes
        plan: jvs.GcPlan = ws.gc_plan(keep_last=3, keep_within=timedelta(days=7), keep_tags=["v"])
        gone: List[str] = ws.gc_run(plan, progress=lambda e: None).deleted
        freed: int = ws.gc(keep_within="2w").bytes_freed
        pin: jvs.Pin = ws.pin(s, reason="keep", expires=datetime.now(timezone.utc))
        pins: List[jvs.Pin] = ws.pins()
        ws.unpin(pin.snapshot_id)
        report: jvs.DoctorReport = ws.doctor(strict=True, repair=False)
        findings: List[jvs.Finding] = report.findings
        audit: Optional[jvs.AuditCheck] = ws.verify(payload=False).audit
        try:
            ws.restore("nope")
        except jvs.NotFound as e:
            code: str = e.code
            print(code, e.hint, e.details)
        print(entries, gone, freed, pins, findings, audit)
        with jvs.transaction(ws, note="t") as tx:
            base: Optional[jvs.Snapshot] = tx.baseline
            print(base)
        with tqdm_progress() as bar:
            ws.snapshot("b", progress=bar)
        fork.close()
        print(when, parent, hist, cur, res, wts, ok, info, p, s.to_json(), s.to_dict())


@jvs.transaction(jvs.Workspace("."), note="decorated")
def decorated(x: int) -> int:
    return x + 1


y: int = decorated(1)
