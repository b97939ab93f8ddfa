"""diff, verify details, gc (plan, run, pins) and doctor: through jvs_call, against the real library."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from typing import List, Tuple

import pytest
from conftest import write

import jvs
from jvs.progress import EventLog, cancel_after


class Stop(Exception):
    pass


def _orphan_snapshot(ws: jvs.Workspace, name: str = "gone", tags: List[str] = []) -> jvs.Snapshot:
    """A snapshot nothing protects any more: taken in a fork that is then removed."""
    with ws.fork(name) as f:
        write(f.path, "fork-only.txt", "f" * 5000)
        s = f.snapshot("in %s" % name, tags=tags)
    ws.remove_worktree(name)
    return s


def _exists(ws: jvs.Workspace, snap: jvs.Snapshot) -> bool:
    return (ws.repo_root / ".jvs" / "descriptors" / (snap.id + ".json")).exists()


# ---- diff ----------------------------------------------------------------------------------

def test_diff_against_live_worktree(ws: jvs.Workspace) -> None:
    base = ws.snapshot("base")
    clean = ws.diff()
    assert not clean and clean.changes == [] and clean.totals == {"added": 0, "removed": 0, "modified": 0}
    assert clean.from_snapshot_id == base.id and clean.to_worktree == "main" and clean.to_snapshot_id is None

    write(ws.path, "a.txt", "alpha, edited\n")
    (ws.path / "dir" / "b.txt").unlink()
    write(ws.path, "new/c.txt", "c")
    os.symlink("a.txt", ws.path / "link")
    d = ws.diff()
    assert d
    assert {e.path: e.change for e in d.changes} == {
        "a.txt": "content", "dir/b.txt": "removed", "new": "added", "new/c.txt": "added", "link": "added"}
    assert [e.path for e in d.changes] == sorted(e.path for e in d.changes)
    a = next(e for e in d.modified if e.path == "a.txt")
    assert (a.type, a.old_size, a.new_size, a.old_mode, a.new_mode) == ("file", 6, 14, "0644", "0644")
    assert a.old_hash and len(a.old_hash) == 64
    link = next(e for e in d.added if e.path == "link")
    assert (link.type, link.new_target) == ("symlink", "a.txt")
    assert d.totals == {"added": 3, "removed": 1, "modified": 1}
    assert d.raw["kind"] == "diff"
    assert ws.history() == [base]  # diff writes nothing


def test_diff_mode_and_type_changes(ws: jvs.Workspace) -> None:
    ws.snapshot("base")
    os.chmod(ws.path / "a.txt", 0o600)
    shutil.rmtree(ws.path / "dir")
    write(ws.path, "dir", "now a file")
    changes = {e.path: e for e in ws.diff().changes}
    assert changes["a.txt"].change == "mode"
    assert (changes["a.txt"].old_mode, changes["a.txt"].new_mode) == ("0644", "0600")
    assert changes["dir"].change == "type" and changes["dir"].old_type == "dir"
    assert changes["dir"].type == "file"
    assert changes["dir/b.txt"].change == "removed"


def test_diff_between_snapshots(ws: jvs.Workspace) -> None:
    s1 = ws.snapshot("one", tags=["v1"])
    write(ws.path, "added.txt", "+")
    s2 = ws.snapshot("two")
    for from_, to in ((s1, s2), ("v1", s2.id), (s1.id, "HEAD")):
        d = ws.diff(from_, to)
        assert (d.from_snapshot_id, d.to_snapshot_id, d.to_worktree) == (s1.id, s2.id, None)
        assert [(e.path, e.change) for e in d.changes] == [("added.txt", "added")]
    back = ws.diff(s2, s1)
    assert [(e.path, e.change) for e in back.changes] == [("added.txt", "removed")]
    stat = ws.diff(s1, s2, stat=True)
    assert stat and stat.changes == [] and stat.totals["added"] == 1
    assert "added" not in stat.raw


def test_diff_errors(ws: jvs.Workspace) -> None:
    with pytest.raises(jvs.NotFound) as ei:
        ws.diff()
    assert ei.value.code == "E_NO_SNAPSHOTS"
    ws.snapshot("s")
    with pytest.raises(jvs.NotFound) as ei:
        ws.diff("no-such-snapshot")
    assert ei.value.code == "E_REF_NOT_FOUND" and ei.value.op == "diff"


def test_diff_progress_and_cancel(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    write(ws.path, "x.txt")
    log = EventLog()
    assert ws.diff(progress=log)
    assert log.events and {e.op for e in log.events} == {"diff"}
    assert "compare" in {e.phase for e in log.events}
    with pytest.raises(Stop):
        ws.diff(progress=cancel_after(1, Stop()))


# ---- verify: details the other tests do not cover ------------------------------------------

def test_verify_without_payload_reports_entries_ok(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    res = ws.verify(payload=False)
    assert res.ok and res.failures == []
    assert all(r.ok and not r.payload_hash_valid for r in res.results)  # not checked, not failed
    assert res.audit is not None and res.audit.ok and res.audit.records >= 1


def test_verify_reports_a_broken_audit_chain(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    audit = ws.repo_root / ".jvs" / "audit" / "audit.jsonl"
    audit.write_text(audit.read_text().replace("snapshot", "snapsh0t", 1))
    res = ws.verify()
    assert not res and res.failures == []  # every snapshot is fine, the log is not
    assert res.audit is not None and not res.audit.ok
    assert res.audit.code == "E_AUDIT_CHAIN_BROKEN" and res.audit.line == 1 and res.audit.error


# ---- gc ------------------------------------------------------------------------------------

def test_gc_plan_then_run(ws: jvs.Workspace) -> None:
    kept = ws.snapshot("kept")
    orphan = _orphan_snapshot(ws)
    plan = ws.gc_plan(keep_min_age="0")
    assert isinstance(plan, jvs.GcPlan) and plan.plan_id
    assert plan.candidates == [orphan.id]
    assert {p.snapshot_id: p.reasons for p in plan.protected}[kept.id] == ["lineage"]
    assert plan.bytes_reclaimable > 0 and plan.created_at is not None
    assert _exists(ws, orphan)  # planning deletes nothing

    log = EventLog()
    res = ws.gc_run(plan, progress=log)
    assert isinstance(res, jvs.GcResult)
    assert (res.plan_id, res.deleted) == (plan.plan_id, [orphan.id]) and res.bytes_freed > 0
    assert {e.op for e in log.events} == {"gc_run"} and "delete" in {e.phase for e in log.events}
    assert not _exists(ws, orphan)
    assert ws.history(all=True) == [kept]
    assert ws.verify().ok
    with pytest.raises(jvs.NotFound):  # a plan runs once
        ws.gc_run(plan.plan_id)


def test_gc_in_one_call_with_retention(ws: jvs.Workspace) -> None:
    ws.snapshot("kept")
    tagged = _orphan_snapshot(ws, "tagged", tags=["release-1"])
    assert tagged.id not in ws.gc_plan(keep_min_age="0", keep_tags=["release"]).candidates
    assert tagged.id not in ws.gc_plan(keep_min_age="0", keep_last=5).candidates
    assert tagged.id not in ws.gc_plan(keep_min_age="0", keep_within=timedelta(hours=1)).candidates
    assert tagged.id not in ws.gc_plan(keep_min_age="0", keep_within="1h").candidates
    with pytest.raises(jvs.InvalidArgument) as ei:
        ws.gc_plan(keep_min_age="0", keep_within="a fortnight")
    assert ei.value.code == "E_OPTION_INVALID"
    res = ws.gc(keep_tags=[], keep_min_age="0", progress=EventLog())
    assert res.deleted == [tagged.id]
    assert ws.gc(keep_min_age="0").deleted == []


def test_gc_run_refuses_a_stale_plan(ws: jvs.Workspace) -> None:
    ws.snapshot("kept")
    orphan = _orphan_snapshot(ws)
    plan = ws.gc_plan(keep_min_age="0")
    ws.pin(orphan, reason="needed after all")
    with pytest.raises(jvs.Conflict) as ei:
        ws.gc_run(plan)
    assert ei.value.code == "E_GC_PLAN_MISMATCH" and type(ei.value) is jvs.Conflict
    assert _exists(ws, orphan)


def test_gc_run_cancelled_by_progress(ws: jvs.Workspace) -> None:
    ws.snapshot("kept")
    orphan = _orphan_snapshot(ws)
    plan = ws.gc_plan(keep_min_age="0")
    with pytest.raises(Stop):
        ws.gc_run(plan, progress=cancel_after(1, Stop()))
    assert _exists(ws, orphan)  # cancelled while checking: nothing deleted
    assert ws.gc_run(plan).deleted == [orphan.id]  # the plan still runs


def test_pins(ws: jvs.Workspace) -> None:
    s = ws.snapshot("s")
    orphan = _orphan_snapshot(ws)
    assert ws.pins() == []
    pin = ws.pin(orphan, reason="audit", expires=timedelta(days=7))
    assert isinstance(pin, jvs.Pin)
    assert (pin.snapshot_id, pin.reason, pin.expired) == (orphan.id, "audit", False)
    assert pin.pinned_at is not None and pin.expires_at is not None
    assert timedelta(days=6) < pin.expires_at - pin.pinned_at <= timedelta(days=7)
    until = datetime.now(timezone.utc) + timedelta(days=30)
    p2 = ws.pin(s.id, expires=until)
    assert p2.expires_at is not None and abs(p2.expires_at - until) < timedelta(seconds=1)
    again = ws.pin("HEAD", expires="2h")  # HEAD is s: pinning it again replaces its pin
    assert again.snapshot_id == s.id and again.reason is None
    pins = {p.snapshot_id: p for p in ws.pins()}
    assert set(pins) == {orphan.id, s.id} and len(ws.pins()) == 2
    assert pins[s.id].expires_at == again.expires_at
    reasons = {p.snapshot_id: p.reasons for p in ws.gc_plan(keep_min_age="0").protected}
    assert "pin" in reasons[orphan.id]
    assert ws.gc(keep_min_age="0").deleted == []

    ws.unpin(orphan)
    with pytest.raises(jvs.NotFound):
        ws.unpin(orphan)
    assert {p.snapshot_id for p in ws.pins()} == {s.id}
    with pytest.raises(ValueError):
        ws.pin(s, expires=datetime(2030, 1, 1))  # naive: ambiguous
    with pytest.raises(jvs.InvalidArgument):
        ws.pin(s, expires=timedelta(seconds=-5))
    with pytest.raises(jvs.InvalidArgument):
        ws.pin(s, expires=datetime(2000, 1, 1, tzinfo=timezone.utc))  # in the past


# ---- doctor --------------------------------------------------------------------------------

def _break(ws: jvs.Workspace) -> Tuple[str, str]:
    """A repairable leftover (stale snapshot staging dir) and an unrepairable error."""
    ws.snapshot("s")
    tmp = ws.repo_root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp"
    tmp.mkdir()
    ws.fork("lost").close()
    shutil.rmtree(ws.repo_root / "worktrees" / "lost")
    return str(tmp), str(ws.repo_root / "worktrees" / "lost")


def test_doctor_healthy(ws: jvs.Workspace) -> None:
    ws.snapshot("s")
    log = EventLog()
    report = ws.doctor(strict=True, progress=log)
    assert isinstance(report, jvs.DoctorReport)
    assert report and report.healthy and report.strict
    assert report.findings == [] and report.repairs == []
    assert {e.op for e in log.events} == {"doctor"}


def test_doctor_findings_and_repair(ws: jvs.Workspace) -> None:
    tmp, lost = _break(ws)
    report = ws.doctor()
    assert not report
    by_code = {f.code: f for f in report.findings}
    leftover, missing = by_code["snapshot_tmp_leftover"], by_code["worktree_payload_missing"]
    assert (leftover.severity, leftover.path, leftover.repaired) == ("warning", tmp, None)
    assert leftover.repair and leftover.message
    assert (missing.severity, missing.path, missing.repair) == ("error", lost, None)
    assert os.path.isdir(tmp)  # checking repairs nothing

    fixed = ws.doctor(repair=True)
    assert {f.code: f.repaired for f in fixed.findings}["snapshot_tmp_leftover"] is True
    assert [(r.id, r.path, r.done) for r in fixed.repairs] == [(leftover.repair, tmp, True)]
    assert not os.path.exists(tmp)
    assert not fixed  # the missing payload cannot be repaired
    assert [f.code for f in ws.doctor().findings] == ["worktree_payload_missing"]


def test_doctor_strict_finds_tampering(ws: jvs.Workspace) -> None:
    s = ws.snapshot("s")
    assert ws.doctor()
    stored = ws.repo_root / ".jvs" / "snapshots" / s.id / "a.txt"
    os.chmod(stored, 0o644)
    stored.write_text("tampered")
    assert ws.doctor()  # the quick check does not read payloads
    report = ws.doctor(strict=True)
    assert not report
    f = next(f for f in report.findings if f.category == "integrity")
    assert (f.severity, f.error_code) == ("critical", "E_PAYLOAD_HASH_MISMATCH")


def test_doctor_cancelled_by_progress(ws: jvs.Workspace) -> None:
    tmp, _ = _break(ws)
    with pytest.raises(Stop):
        ws.doctor(repair=True, progress=cancel_after(1, Stop()))
    assert os.path.isdir(tmp)
