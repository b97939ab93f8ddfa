"""Crash safety: SIGKILL (no cleanup) at every fault point of snapshot, restore, fork, worktree remove
and gc run, then prove that nothing published is damaged, nothing half-written is
visible, and `doctor --repair` brings the repository back to a state `doctor --strict` calls clean."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import pytest

from libjvs_driver import LIB_PATH, ROOT, JvsError

DRIVER_DIR = pathlib.Path(__file__).resolve().parent

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from libjvs_driver import Lib
lib = Lib(sys.argv[2])
repo, _ = lib.open(sys.argv[3])
for method, opts in json.loads(sys.argv[4]):
    repo.call(method, **opts)
"""


def fault_points():
    src = (ROOT / "lib" / "util" / "fault.cpp").read_text()
    table = src[src.index("kPoints[]"):src.index("nullptr")]
    return re.findall(r'"([a-z_]+\.[a-z_]+)"', table)


ALL_POINTS = fault_points()
COVERED = []
GC_CANDIDATES = {}  # gc fault point -> the candidates of the plan its killed run was running


def run_killed(root, point, calls):
    env = dict(os.environ, JVS_FAULT_KILL_AT=point)
    p = subprocess.run([sys.executable, "-c", CHILD, str(DRIVER_DIR), LIB_PATH, str(root), json.dumps(calls)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, f"{point} not reached (rc={p.returncode}): {p.stderr[-2000:]}"


def populate(main, n=24, tag="v1"):
    (main / "sub").mkdir(exist_ok=True)
    for i in range(n):
        (main / "sub" / f"f{i}.txt").write_text(f"{tag} file {i}\n" * (40 + i))
    (main / "top.txt").write_text(f"top {tag}\n")
    if not (main / "link").is_symlink():
        os.symlink("top.txt", main / "link")


def published_ids(root):
    d = root / ".jvs" / "descriptors"
    return {p.name[:-5] for p in d.iterdir() if p.name.endswith(".json") and not p.name.startswith(".")}


def unpublished_ids(root):
    ids = set()
    for p in (root / ".jvs" / "snapshots").iterdir():
        name = p.name[:-4] if p.name.endswith(".tmp") else p.name
        ids.add(name)
    for p in (root / ".jvs" / "intents").iterdir():
        if p.name.endswith(".json"):
            ids.add(p.name[:-5])
    return ids - published_ids(root)


def assert_clean(doc):
    bad = [f for f in doc["findings"] if f["severity"] != "info"]
    assert doc["healthy"] and not bad, json.dumps(doc, indent=1)


def scenario(lib, root, point):
    """Builds the repository state before the killed call; returns (calls, prior snapshot ids)."""
    r, _ = lib.open(root, init=True)
    main = root / "main"
    try:
        populate(main, tag="a")
        a = r.call("snapshot", note="a")["snapshot"]["snapshot_id"]
        populate(main, tag="b")
        (main / "only-b.txt").write_text("b\n")
        r.call("snapshot", note="b")
        op = point.split(".")[0]
        if op == "snapshot":
            populate(main, tag="c")
            (main / "new-dir").mkdir()
            (main / "new-dir" / "n.txt").write_text("n\n")
            calls = [["snapshot", {"note": "c"}]]
        elif op == "restore":
            populate(main, tag="dirty")  # many files differ from the latest snapshot
            (main / "stray.txt").write_text("not in any snapshot\n")
            calls = [["restore", {"ref": "HEAD"}]]
        elif op == "fork":
            calls = [["worktree_fork", {"from": a, "name": "f1"}]]
        elif op == "remove":
            r.call("worktree_fork", **{"from": a, "name": "victim"})
            (root / "worktrees" / "victim" / "extra.txt").write_text("x\n")
            calls = [["worktree_remove", {"name": "victim"}]]
        elif op == "gc":
            # Two snapshots no worktree protects any more: a removed fork's own history.
            r.call("worktree_fork", **{"from": a, "name": "tmpwt"})
            tw = root / "worktrees" / "tmpwt"
            for i in range(2):
                populate(tw, tag=f"t{i}")
                r.call("snapshot", worktree="tmpwt", note=f"t{i}")
            r.call("worktree_remove", name="tmpwt")
            try:
                plan = r.call("gc_plan", keep_min_age="0", keep_last=0)
            except JvsError as e:
                pytest.skip(f"gc not available: {e.code}")
            plan_id = plan["plan_id"]
            assert len(plan["candidates"]) >= 2, plan
            GC_CANDIDATES[point] = plan["candidates"]
            calls = [["gc_run", {"plan_id": plan_id}]]
        else:
            pytest.fail(f"no scenario for fault point {point}")
        return calls, published_ids(root)
    finally:
        r.close()


@pytest.mark.parametrize("point", ALL_POINTS)
def test_kill_at_fault_point(lib, tmp_path, point):
    root = tmp_path / "r"
    calls, prior = scenario(lib, root, point)
    run_killed(root, point, calls)

    r, _ = lib.open(root)
    try:
        gc = point.startswith("gc.")
        # 1. Every snapshot published before still verifies (gc may have removed some completely).
        for sid in prior:
            if gc and sid not in published_ids(root):
                continue
            v = r.call("verify", ref=sid, payload=True)
            assert v["ok"], json.dumps(v, indent=1)
        # 2. Nothing half-written is visible to history or restore; all that is visible verifies.
        half = unpublished_ids(root)
        for name in ("main",) + (("f1",) if (root / ".jvs" / "worktrees" / "f1" / "config.json").exists() else ()):
            hist = r.call("history", worktree=name, all=True)
            for d in hist["snapshots"]:
                assert d["snapshot_id"] not in half
                v = r.call("verify", ref=d["snapshot_id"], payload=True)
                assert v["ok"], json.dumps(v, indent=1)
        for sid in half:
            with pytest.raises(JvsError) as e:
                r.call("restore", ref=sid, dry_run=True)
            assert e.value.code in ("E_REF_NOT_FOUND", "E_SNAPSHOT_INCOMPLETE")
        assert not set(r.call("gc_plan", keep_min_age="0")["candidates"]) & half  # gc neither counts nor deletes them
        if gc:
            # ... nor to gc: a new plan never names a half-deleted snapshot's remains as published
            # work, and the interrupted run resumes to exactly its plan (or is already complete).
            cands = GC_CANDIDATES[point]
            assert not set(r.call("gc_plan", keep_min_age="0")["candidates"]) & (set(prior) - set(cands))
            plan_id = calls[0][1]["plan_id"]
            if (root / ".jvs" / "gc" / f"{plan_id}.json").exists():
                r.call("gc_run", plan_id=plan_id)
            else:
                with pytest.raises(JvsError) as e:
                    r.call("gc_run", plan_id=plan_id)
                assert e.value.code == "E_REF_NOT_FOUND"
            for sid in cands:
                assert sid not in published_ids(root) and not (root / ".jvs" / "snapshots" / sid).exists()
            assert published_ids(root) == set(prior) - set(cands)
        # 3. doctor --repair, then doctor --strict is clean and everything verifies.
        before = r.call("doctor")
        rep = r.call("doctor", repair=True)
        if os.environ.get("JVS_CRASH_DEBUG"):
            print(point, [(f["code"], f["severity"], f.get("repair")) for f in before["findings"]],
                  [(x["id"], x["done"]) for x in rep["repairs"]])
        assert all(x["done"] for x in rep["repairs"]), json.dumps(rep, indent=1)
        assert_clean(r.call("doctor", strict=True))
        v = r.call("verify", all=True)
        assert v["ok"] and v["audit"]["ok"], json.dumps(v, indent=1)
        assert not unpublished_ids(root)
        # 4. The repository works again: the worktree snapshots, a failed fork's name is free.
        main = root / "main"
        (main / "after-crash.txt").write_text("again\n")
        wt = r.call("worktree_list")["worktrees"]
        for w in wt:
            if w["detached"]:
                r.call("restore", worktree=w["name"], ref="HEAD")
            r.call("snapshot", worktree=w["name"], note="after crash")
        if point.startswith("fork."):
            names = {w["name"] for w in wt}
            if "f1" not in names:
                r.call("worktree_fork", **{"from": prior and sorted(prior)[0], "name": "f1"})
            r.call("snapshot", worktree="f1", note="fork works")
        if point.startswith("remove."):
            assert "victim" not in {w["name"] for w in wt}
            assert not (root / "worktrees" / "victim").exists()
            r.call("worktree_fork", **{"from": sorted(prior)[0], "name": "victim"})
        assert_clean(r.call("doctor", strict=True))
    finally:
        r.close()
    COVERED.append(point)


def test_zz_report_kill_points_covered(capsys):
    by_op = {}
    for p in COVERED:
        by_op[p.split(".")[0]] = by_op.get(p.split(".")[0], 0) + 1
    with capsys.disabled():
        print(f"\ncrash safety: {len(COVERED)} of {len(ALL_POINTS)} kill points covered "
              f"({', '.join(f'{op} {n}' for op, n in by_op.items())}): {', '.join(COVERED)}")
    assert set(ALL_POINTS) <= set(COVERED) or len(COVERED) == 0  # 0: run alone (-k)
    assert {"snapshot", "restore", "fork", "remove", "gc"} <= set(by_op) or len(COVERED) == 0
