"""gc plan/run and pins, on real repositories through the C ABI."""
import json
import os
import subprocess
import sys
import time

import pytest

from libjvs_driver import JvsError, LIB_PATH, snap, tree_listing

HERE = os.path.dirname(os.path.abspath(__file__))


def published(root, sid):
    return (root / ".jvs" / "snapshots" / sid).is_dir() and (root / ".jvs" / "descriptors" / f"{sid}.json").exists()


def reasons(plan):
    return {p["snapshot_id"]: p["reasons"] for p in plan["protected"]}


def build_history(r, root):
    """main: a -> b -> c, restored to a (detached: latest c).
    worktree w (from b): w1 -> w2; fork f from w1; then w is removed: w2 is the only orphaned snapshot."""
    main = root / "main"
    (main / "f.txt").write_text("a")
    a = snap(r, note="a")
    (main / "f.txt").write_text("b")
    b = snap(r, note="b")
    (main / "f.txt").write_text("c")
    c = snap(r, note="c")
    r.call("restore", ref=a)
    r.call("worktree_create", name="w", **{"from": b})
    w1 = snap(r, worktree="w", note="w1")
    (root / "worktrees" / "w" / "g.txt").write_text("w2")
    w2 = snap(r, worktree="w", note="w2")
    r.call("worktree_fork", name="f", **{"from": w1})
    r.call("worktree_remove", name="w", force=True)
    return dict(a=a, b=b, c=c, w1=w1, w2=w2)


def test_plan_protects_every_worktree_lineage_including_detached_latest(repo):
    r, root = repo
    ids = build_history(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["kind"] == "gc_plan" and plan["candidates"] == [ids["w2"]]
    why = reasons(plan)
    for k in ("a", "b", "c", "w1"):
        assert "lineage" in why[ids[k]], k
    assert plan["retention"] == {"keep_last": 0, "keep_within": "", "keep_tags": [], "keep_min_age": "0"}
    path = root / ".jvs" / "gc" / f"{plan['plan_id']}.json"
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    on_disk = json.loads(path.read_text())
    for k in ("plan_id", "created_at", "protected_set", "protected_by_pin", "protected_by_lineage",
              "protected_by_retention", "candidate_count", "to_delete", "deletable_bytes_estimate",
              "retention_policy"):
        assert k in on_disk
    assert on_disk["to_delete"] == [ids["w2"]] and on_disk["candidate_count"] == 1
    assert on_disk["deletable_bytes_estimate"] == plan["bytes_reclaimable"] > 0


def test_run_deletes_exactly_the_candidates_and_the_rest_verifies(repo):
    r, root = repo
    ids = build_history(r, root)
    hist_before = r.call("history", all=True)["snapshots"]
    plan = r.call("gc_plan", keep_min_age="0")
    res = r.call("gc_run", plan_id=plan["plan_id"])
    assert res["kind"] == "gc_run" and res["deleted"] == [ids["w2"]]
    assert res["bytes_freed"] == plan["bytes_reclaimable"]
    assert not (root / ".jvs" / "snapshots" / ids["w2"]).exists()
    assert not (root / ".jvs" / "descriptors" / f"{ids['w2']}.json").exists()
    assert not (root / ".jvs" / "manifests" / ids["w2"]).exists()
    assert not (root / ".jvs" / "gc" / f"{plan['plan_id']}.json").exists()
    for k in ("a", "b", "c", "w1"):
        assert published(root, ids[k])
    assert r.call("verify", all=True)["ok"]
    hist_after = r.call("history", all=True)["snapshots"]
    assert hist_after == [d for d in hist_before if d["snapshot_id"] != ids["w2"]]
    r.call("restore", ref=ids["c"])
    assert (root / "main" / "f.txt").read_text() == "c"
    tomb = json.loads((root / ".jvs" / "gc" / "tombstones" / f"{ids['w2']}.json").read_text())
    assert tomb["snapshot_id"] == ids["w2"] and tomb["reclaimable"] is True and tomb["gc_state"] == "committed"
    assert "deleted_at" in tomb
    events = [json.loads(l)["event_type"] for l in (root / ".jvs" / "audit" / "audit.jsonl").read_text().splitlines()]
    assert "gc_plan" in events and "gc_run" in events
    # a plan is single use
    with pytest.raises(JvsError) as e:
        r.call("gc_run", plan_id=plan["plan_id"])
    assert e.value.code == "E_REF_NOT_FOUND"


def test_pins(repo):
    r, root = repo
    ids = build_history(r, root)
    doc = r.call("gc_pin", ref=ids["w2"], reason="keep for the demo")
    assert doc["pin"]["snapshot_id"] == ids["w2"]
    pin_file = root / ".jvs" / "pins" / f"{ids['w2']}.json"
    on_disk = json.loads(pin_file.read_text())  # where and how the Go tool reads pins
    assert on_disk["snapshot_id"] == ids["w2"] and "pinned_at" in on_disk and on_disk["reason"] == "keep for the demo"
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["candidates"] == [] and reasons(plan)[ids["w2"]] == ["pin"]
    pins = r.call("gc_pins")["pins"]
    assert [(p["snapshot_id"], p["expired"]) for p in pins] == [(ids["w2"], False)]
    r.call("gc_unpin", ref=ids["w2"])
    assert not pin_file.exists()
    with pytest.raises(JvsError) as e:
        r.call("gc_unpin", ref=ids["w2"])
    assert e.value.code == "E_REF_NOT_FOUND"
    # an expired pin (written as the Go tool would) protects nothing
    pin_file.write_text(json.dumps({"snapshot_id": ids["w2"], "pinned_at": "2020-01-01T00:00:00Z",
                                    "expires_at": "2020-02-01T00:00:00Z"}))
    assert r.call("gc_plan", keep_min_age="0")["candidates"] == [ids["w2"]]
    assert r.call("gc_pins")["pins"][0]["expired"] is True
    # expiry as a duration
    doc = r.call("gc_pin", ref=ids["w2"], expires="7d")
    assert doc["pin"]["expires_at"] > doc["pin"]["pinned_at"]
    assert r.call("gc_plan", keep_min_age="0")["candidates"] == []
    with pytest.raises(JvsError) as e:
        r.call("gc_pin", ref=ids["w2"], expires="soon")
    assert e.value.code == "E_OPTION_INVALID"
    events = [json.loads(l)["event_type"] for l in (root / ".jvs" / "audit" / "audit.jsonl").read_text().splitlines()]
    assert "gc_pin" in events and "gc_unpin" in events


def test_in_flight_intents_and_orphans(repo):
    r, root = repo
    ids = build_history(r, root)
    jvs = root / ".jvs"
    (jvs / "intents" / f"{ids['w2']}.json").write_text("{}")
    tmp = jvs / "snapshots" / "1700000000000-deadbeef.tmp"
    tmp.mkdir()
    (jvs / "intents" / "1700000000000-deadbeef.json").write_text("{}")
    old_orphan = jvs / "snapshots" / "1600000000000-0badf00d"
    old_orphan.mkdir()
    (old_orphan / "x").write_text("left over")
    os.utime(old_orphan, (time.time() - 7200, time.time() - 7200))
    young_orphan = jvs / "snapshots" / "1600000000001-0badf00d"
    young_orphan.mkdir()
    plan = r.call("gc_plan", keep_min_age="0")
    assert "in_flight" in reasons(plan)[ids["w2"]]
    assert plan["candidates"] == ["1600000000000-0badf00d"]
    res = r.call("gc_run", plan_id=plan["plan_id"])
    assert res["deleted"] == ["1600000000000-0badf00d"]
    assert tmp.is_dir() and young_orphan.is_dir() and not old_orphan.exists()
    assert published(root, ids["w2"])


def test_retention(repo):
    r, root = repo
    ids = build_history(r, root)
    (root / "worktrees" / "f" / "h.txt").write_text("h")
    snap(r, worktree="f", note="newest")
    assert r.call("gc_plan", keep_min_age="0", keep_last=1)["candidates"] == [ids["w2"]]  # newest is f's snapshot
    plan = r.call("gc_plan", keep_min_age="0", keep_last=2)
    assert plan["candidates"] == [] and "retention" in reasons(plan)[ids["w2"]]
    assert r.call("gc_plan", keep_min_age="0", keep_within="1h")["candidates"] == []
    assert r.call("gc_plan", keep_min_age="0", keep_within="30m")["retention"]["keep_within"] == "30m"
    with pytest.raises(JvsError) as e:
        r.call("gc_plan", keep_min_age="0", keep_within="7 days")
    assert e.value.code == "E_OPTION_INVALID"
    # tag prefixes
    r.call("worktree_create", name="t")
    (root / "worktrees" / "t" / "x").write_text("x")
    t1 = snap(r, worktree="t", tags=["release-1"])
    t2 = snap(r, worktree="t", note="untagged")
    r.call("worktree_remove", name="t", force=True)
    assert r.call("gc_plan", keep_min_age="0")["candidates"] == sorted([ids["w2"], t1, t2])
    plan = r.call("gc_plan", keep_min_age="0", keep_tags=["rel"])
    assert plan["candidates"] == sorted([ids["w2"], t2]) and reasons(plan)[t1] == ["retention"]
    # configuration defaults
    (root / ".jvs" / "config.yaml").write_text("retention:\n  keep: 3\n  within: 24h\n")
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["retention"]["keep_last"] == 3 and plan["retention"]["keep_within"] == "24h"
    assert plan["candidates"] == []
    assert r.call("gc_plan", keep_min_age="0", keep_last=0, keep_within="1s")["retention"]["keep_last"] == 0


def test_plan_mismatch_after_new_pin_deletes_nothing(repo):
    r, root = repo
    ids = build_history(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    r.call("gc_pin", ref=ids["w2"])
    before = tree_listing(root / ".jvs" / "snapshots")
    with pytest.raises(JvsError) as e:
        r.call("gc_run", plan_id=plan["plan_id"])
    assert e.value.code == "E_GC_PLAN_MISMATCH"
    assert tree_listing(root / ".jvs" / "snapshots") == before
    assert published(root, ids["w2"])
    assert not (root / ".jvs" / "gc" / "tombstones" / f"{ids['w2']}.json").exists()


def test_plan_mismatch_when_candidate_vanished_or_plan_edited(repo):
    r, root = repo
    ids = build_history(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    path = root / ".jvs" / "gc" / f"{plan['plan_id']}.json"
    doc = json.loads(path.read_text())
    doc["to_delete"] = [ids["c"]]
    path.write_text(json.dumps(doc))
    with pytest.raises(JvsError) as e:
        r.call("gc_run", plan_id=plan["plan_id"])
    assert e.value.code == "E_GC_PLAN_MISMATCH"
    assert published(root, ids["c"])


def test_bad_plan_ids(repo):
    r, root = repo
    for bad in ("../../etc/passwd", "", "not-a-uuid", "../gc/x"):
        with pytest.raises(JvsError) as e:
            r.call("gc_run", plan_id=bad)
        assert e.value.code == "E_OPTION_INVALID", bad
    with pytest.raises(JvsError) as e:
        r.call("gc_run", plan_id="00000000-0000-4000-8000-000000000000")
    assert e.value.code == "E_REF_NOT_FOUND"


CHILD = """
import sys
sys.path.insert(0, {here!r})
from libjvs_driver import Lib
lib = Lib({lib!r})
r, _ = lib.open({root!r})
r.call("gc_run", plan_id={plan!r})
print("survived")
"""


def test_interrupted_run_resumes(repo):
    r, root = repo
    ids = build_history(r, root)
    r.call("worktree_create", name="t")
    (root / "worktrees" / "t" / "x").write_text("x")
    t1 = snap(r, worktree="t")
    (root / "worktrees" / "t" / "x").write_text("xx")
    t2 = snap(r, worktree="t")
    r.call("worktree_remove", name="t", force=True)
    plan = r.call("gc_plan", keep_min_age="0")
    cands = plan["candidates"]
    assert cands == sorted([ids["w2"], t1, t2])
    code = CHILD.format(here=HERE, lib=os.path.abspath(LIB_PATH), root=str(root), plan=plan["plan_id"])
    env = dict(os.environ, JVS_FAULT_KILL_AT="gc.mid_delete")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    tombs = root / ".jvs" / "gc" / "tombstones"
    states = {c: json.loads((tombs / f"{c}.json").read_text())["gc_state"] for c in cands}
    assert set(states.values()) == {"marked"}
    assert not published(root, cands[0])       # the first was deleted before the kill
    assert published(root, cands[1]) and published(root, cands[2])
    res = r.call("gc_run", plan_id=plan["plan_id"])
    assert sorted(res["deleted"]) == cands
    for c in cands:
        assert not (root / ".jvs" / "snapshots" / c).exists()
        assert json.loads((tombs / f"{c}.json").read_text())["gc_state"] == "committed"
    assert r.call("verify", all=True)["ok"]


def test_interrupted_after_tombstones_resumes(repo):
    r, root = repo
    ids = build_history(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    code = CHILD.format(here=HERE, lib=os.path.abspath(LIB_PATH), root=str(root), plan=plan["plan_id"])
    env = dict(os.environ, JVS_FAULT_KILL_AT="gc.after_tombstones")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    assert published(root, ids["w2"])
    assert r.call("gc_run", plan_id=plan["plan_id"])["deleted"] == [ids["w2"]]
    assert not published(root, ids["w2"]) and r.call("verify", all=True)["ok"]


def unique_bytes(d):
    total = 0
    for dirpath, dirnames, filenames in os.walk(d):
        for n in filenames:
            st = os.lstat(os.path.join(dirpath, n))
            if st.st_nlink == 1:
                total += st.st_blocks * 512
    return total


def test_bytes_reclaimable_counts_shared_hard_links_once(repo):
    r, root = repo
    r.call("worktree_create", name="w")
    w = root / "worktrees" / "w"
    (w / "shared.bin").write_bytes(os.urandom(256 * 1024))
    (w / "u.bin").write_bytes(os.urandom(128 * 1024))
    time.sleep(0.05)  # older than the stat cache s1 writes (a same-tick file is racily clean, not linked)
    s1 = snap(r, worktree="w")
    time.sleep(0.02)
    (w / "u.bin").write_bytes(os.urandom(64 * 1024))
    s2 = snap(r, worktree="w")
    r.call("worktree_remove", name="w", force=True)
    snaps = root / ".jvs" / "snapshots"
    assert os.stat(snaps / s1 / "shared.bin").st_ino == os.stat(snaps / s2 / "shared.bin").st_ino
    # both go: every block counted once
    both = r.call("gc_plan", keep_min_age="0")
    assert both["candidates"] == sorted([s1, s2])
    shared = os.stat(snaps / s1 / "shared.bin").st_blocks * 512
    assert both["bytes_reclaimable"] == unique_bytes(snaps / s1) + unique_bytes(snaps / s2) + shared
    # only s1 goes: the shared file stays with s2, so only s1's unique files are freed
    one = r.call("gc_plan", keep_min_age="0", keep_last=1)
    assert one["candidates"] == [s1]
    expected = unique_bytes(snaps / s1)
    assert one["bytes_reclaimable"] == expected
    assert expected >= 128 * 1024 and expected < shared
    res = r.call("gc_run", plan_id=one["plan_id"])
    assert res["deleted"] == [s1] and res["bytes_freed"] == expected
    assert (snaps / s2 / "shared.bin").stat().st_nlink == 1
    assert r.call("verify", all=True)["ok"]


def test_go_written_repository(lib, upstream):
    r, _ = lib.open(upstream)
    try:
        before = {s["snapshot_id"] for s in r.call("history", all=True)["snapshots"]}
        plan = r.call("gc_plan", keep_min_age="0")
        assert set(plan["candidates"]) <= before
        assert set(plan["candidates"]) | {p["snapshot_id"] for p in plan["protected"]} >= before
        r.call("gc_run", plan_id=plan["plan_id"])
        after = {s["snapshot_id"] for s in r.call("history", all=True)["snapshots"]}
        assert after == before - set(plan["candidates"])
        assert r.call("verify", all=True)["ok"]
    finally:
        r.close()


# ---- operations in flight: leases ----------------------------------------------------------------

import ctypes
import threading

EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)


def call_with_callback(lib, r, method, opts, cb):
    out = ctypes.c_void_p()
    keep = EVENT_CB(cb)  # alive for the whole call
    rc = lib.c.jvs_call(r.h, method.encode(), json.dumps(opts).encode(), ctypes.cast(keep, ctypes.c_void_p), None,
                        ctypes.byref(out))
    return lib._take(rc, out)


def orphaned_snapshot(r, root):
    """A snapshot no worktree protects any more (its worktree was removed)."""
    r.call("worktree_create", name="gone")
    wt = root / "worktrees" / "gone"
    for i in range(30):
        (wt / f"f{i}.txt").write_text(f"orphan {i}\n" * 100)
    sid = snap(r, worktree="gone")
    r.call("worktree_remove", name="gone")
    return sid


def leases(root):
    return sorted(p.name for p in (root / ".jvs" / "locks").glob("use-*.lock"))


@pytest.mark.parametrize("method", ["restore", "worktree_fork", "worktree_create"])
def test_a_snapshot_being_read_is_protected_until_the_worktree_names_it(lib, repo, method):
    r, root = repo
    (root / "main" / "m.txt").write_text("main")
    snap(r)
    x = orphaned_snapshot(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["candidates"] == [x]
    paused, release, result = threading.Event(), threading.Event(), {}

    def cb(ev, _):
        if json.loads(ev).get("phase") == "write" and not paused.is_set():
            paused.set()
            release.wait(20)
        return 0

    opts = {"restore": {"ref": x}, "worktree_fork": {"from": x, "name": "fx"},
            "worktree_create": {"from": x, "name": "cx"}}[method]
    t = threading.Thread(target=lambda: result.setdefault("doc", call_with_callback(lib, r, method, opts, cb)))
    t.start()
    try:
        assert paused.wait(20), "the operation never reached its write phase"
        assert len(leases(root)) == 1 and x in leases(root)[0]
        assert "in_flight" in reasons(r.call("gc_plan", keep_min_age="0"))[x]
        with pytest.raises(JvsError) as e:
            r.call("gc_run", plan_id=plan["plan_id"])
        assert e.value.code == "E_GC_PLAN_MISMATCH" and e.value.doc["error"]["details"]["snapshot_id"] == x
        assert published(root, x)
        assert not (root / ".jvs" / "gc" / "tombstones" / f"{x}.json").exists()
    finally:
        release.set()
        t.join()
    assert "doc" in result and leases(root) == []
    # Now a worktree names it: protected by lineage, not by the (released) lease.
    why = reasons(r.call("gc_plan", keep_min_age="0"))[x]
    assert "lineage" in why and "in_flight" not in why
    assert r.call("verify", ref=x)["ok"]


CHILD_RESTORE = """
import sys
sys.path.insert(0, {here!r})
from libjvs_driver import Lib
lib = Lib({lib!r})
r, _ = lib.open({root!r})
r.call("restore", ref={ref!r})
"""


def test_a_crashed_readers_lease_protects_nothing_and_is_cleaned(lib, repo):
    r, root = repo
    (root / "main" / "m.txt").write_text("main")
    snap(r)
    x = orphaned_snapshot(r, root)
    code = CHILD_RESTORE.format(here=HERE, lib=os.path.abspath(LIB_PATH), root=str(root), ref=x)
    p = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, JVS_FAULT_KILL_AT="restore.mid_write"),
                       capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    assert len(leases(root)) == 1  # left behind by the killed process, its flock gone with it
    doc = r.call("doctor")
    stale = [f for f in doc["findings"] if f["code"] == "lease_stale"]
    assert len(stale) == 1 and stale[0]["repair"] == "remove_stale_lease" and stale[0]["severity"] == "warning"
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["candidates"] == [x]  # a dead holder protects nothing
    res = r.call("gc_run", plan_id=plan["plan_id"])
    assert res["deleted"] == [x] and leases(root) == []  # gc run also sweeps stale leases


def test_doctor_repairs_a_stale_lease_and_never_a_live_one(lib, repo):
    r, root = repo
    (root / "main" / "m.txt").write_text("main")
    x = snap(r)
    (root / ".jvs" / "locks" / f"use-{x}-999999-0.lock").write_text("{}")  # nobody holds it
    paused, release = threading.Event(), threading.Event()

    def cb(ev, _):
        if json.loads(ev).get("phase") == "write" and not paused.is_set():
            paused.set()
            release.wait(20)
        return 0

    (root / "main" / "m.txt").write_text("changed")
    t = threading.Thread(target=lambda: call_with_callback(lib, r, "restore", {"ref": x}, cb))
    t.start()
    try:
        assert paused.wait(20)
        doc = r.call("doctor", repair=True)
        by_code = {}
        for f in doc["findings"]:
            by_code.setdefault(f["code"], []).append(f)
        assert len(by_code["lease_stale"]) == 1 and by_code["lease_stale"][0]["repaired"] is True
        assert len(by_code["lease_in_flight"]) == 1 and by_code["lease_in_flight"][0]["severity"] == "info"
        assert len(leases(root)) == 1  # the live one stays
    finally:
        release.set()
        t.join()
    assert leases(root) == []


def test_verify_reports_a_snapshot_gc_deleted_meanwhile_as_skipped_not_damaged(lib, repo):
    r, root = repo
    (root / "main" / "m.txt").write_text("main")
    keep = snap(r)
    x = orphaned_snapshot(r, root)
    plan = r.call("gc_plan", keep_min_age="0")
    assert plan["candidates"] == [x]
    paused, release, result = threading.Event(), threading.Event(), {}

    def cb(ev, _):
        if json.loads(ev).get("phase") == "verify" and not paused.is_set():  # the list is made
            paused.set()
            release.wait(20)
        return 0

    t = threading.Thread(target=lambda: result.setdefault("doc", call_with_callback(lib, r, "verify", {"all": True}, cb)))
    t.start()
    try:
        assert paused.wait(20)
        assert r.call("gc_run", plan_id=plan["plan_id"])["deleted"] == [x]
    finally:
        release.set()
        t.join()
    doc = result["doc"]
    assert doc["ok"] is True, doc
    assert [v["snapshot_id"] for v in doc["results"]] == [keep]
    assert doc["skipped"] == [{"snapshot_id": x, "reason": "deleted by gc while verify ran"}]
    # A snapshot whose descriptor vanished without gc is damage, not skipped.
    os.unlink(root / ".jvs" / "descriptors" / f"{keep}.json")
    doc = r.call("verify", all=True)
    assert not doc["ok"] and "skipped" not in doc and doc["results"][0]["code"] == "E_DESCRIPTOR_CORRUPT"


def test_young_snapshots_are_kept_like_the_go_tool_does(repo):
    """keep_min_age (default 24h, as the Go tool): an unprotected snapshot younger than that is never
    a candidate; the option and `.jvs/config.yaml` retention.keep_min_age change it, and the plan
    file records the value applied (the Go tool's retention_policy.keep_min_age, in ns)."""
    import crafting
    r, root = repo
    (root / "main" / "m.txt").write_text("main")
    snap(r)
    young = orphaned_snapshot(r, root)
    old = orphaned_snapshot(r, root)
    crafting.edit_descriptor(root, old, created_at="2020-01-01T00:00:00Z")
    plan = r.call("gc_plan")
    assert plan["candidates"] == [old] and "retention" in reasons(plan)[young]
    assert plan["retention"]["keep_min_age"] == "24h"
    on_disk = json.loads((root / ".jvs" / "gc" / f"{plan['plan_id']}.json").read_text())
    assert on_disk["retention_policy"]["keep_min_age"] == 86400 * 10**9
    r.call("config_set", key="retention.keep_min_age", value="0")
    assert r.call("gc_plan")["candidates"] == sorted([old, young])
    assert r.call("gc_plan", keep_min_age="48h")["candidates"] == [old]
    with pytest.raises(JvsError) as e:
        r.call("gc_plan", keep_min_age="soon")
    assert e.value.code == "E_OPTION_INVALID"
    # the run re-checks with the plan's own minimum age
    plan = r.call("gc_plan", keep_min_age="1h")
    assert r.call("gc_run", plan_id=plan["plan_id"])["deleted"] == [old]
