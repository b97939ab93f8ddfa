"""Atomic publication (issue 8, item 6): a snapshot that returns an error leaves nothing visible
(history, references, gc, doctor), and a retry makes exactly one snapshot; a snapshot that is visible
returned success. Proven with an injected failure (JVS_FAULT_FAIL_AT, lib/util/fault.cpp) at every
step after the payload is complete, an unwritable worktree config and a nearly full filesystem."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from libjvs_driver import LIB_PATH, ROOT, JvsError

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from libjvs_driver import Lib, JvsError
repo, _ = Lib(sys.argv[2]).open(sys.argv[3])
try:
    print(json.dumps({"ok": repo.call("snapshot", note=sys.argv[4])}))
except JvsError as e:
    print(json.dumps({"error": e.doc}))
"""

# The fault points a snapshot passes once its payload is complete, each before a step that can fail.
AFTER_PAYLOAD = ["snapshot.after_copy", "snapshot.after_manifest", "snapshot.after_ready", "snapshot.after_sync",
                 "snapshot.after_stage", "snapshot.after_rename", "snapshot.after_descriptor",
                 "snapshot.after_config", "snapshot.after_audit"]


def test_the_points_tested_are_the_library_s():
    src = (ROOT / "lib" / "util" / "fault.cpp").read_text()
    points = [p for p in src[src.index("kPoints[]"):src.index("nullptr")].split('"') if p.startswith("snapshot.")]
    assert points[points.index("snapshot.after_copy"):] == AFTER_PAYLOAD


def snapshot_child(root, note, env=None, prefix=()):
    p = subprocess.run([*prefix, sys.executable, "-c", CHILD, HERE, LIB_PATH, str(root), note],
                       env=dict(os.environ, **(env or {})), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def visible_state(r, root, gc=True):
    """Everything that would show a snapshot to anyone: history, the worktree's refs, gc (a plan is a
    file: not on a full filesystem), the files."""
    wt = r.call("worktree_list")["worktrees"]
    jvs = root / ".jvs"
    state = {
        "history": [d["snapshot_id"] for d in r.call("history", all=True)["snapshots"]],
        "worktrees": [(w["name"], w.get("head_snapshot_id"), w.get("latest_snapshot_id")) for w in wt],
        "descriptors": sorted(p.name for p in (jvs / "descriptors").iterdir()),
        "snapshots": sorted(p.name for p in (jvs / "snapshots").iterdir()),
        "manifests": sorted(p.name for p in (jvs / "manifests").iterdir()),
        "intents": sorted(p.name for p in (jvs / "intents").iterdir()),
    }
    if gc:
        state["gc_candidates"] = r.call("gc_plan", keep_min_age="0")["candidates"]
    return state


def assert_outcome(r, root, before, res, note):
    """error => nothing visible and a retry makes exactly one snapshot; success => visible."""
    after = visible_state(r, root)
    if "error" in res:
        assert after == before, (res, after, before)
        doc = r.call("doctor", strict=True)
        assert doc["healthy"] and not [f for f in doc["findings"] if f["severity"] != "info"], doc
        retry = r.call("snapshot", note=note + " retry")["snapshot"]["snapshot_id"]
        now = visible_state(r, root)
        assert now["history"] == [retry] + before["history"]
    else:
        sid = res["ok"]["snapshot"]["snapshot_id"]
        assert after["history"][0] == sid and ("main", sid, sid) in after["worktrees"], (res, after)
        assert r.call("verify", ref=sid)["ok"]
        assert r.call("resolve", ref=note)["snapshot"]["snapshot_id"] == sid


@pytest.mark.parametrize("code", ["E_IO", "E_NO_SPACE"])
@pytest.mark.parametrize("point", AFTER_PAYLOAD)
def test_a_failure_at_every_step_after_the_payload(repo, point, code):
    r, root = repo
    main = root / "main"
    for i in range(8):
        (main / f"f{i}.txt").write_text(f"{i}\n" * 50)
    r.call("snapshot", note="first")
    (main / "f0.txt").write_text("changed\n")
    before = visible_state(r, root)
    res = snapshot_child(root, "faulty", env={"JVS_FAULT_FAIL_AT": f"{point}={code}"})
    if point in ("snapshot.after_config", "snapshot.after_audit"):
        # After the worktree names it: the audit record and the intent's removal are cleanup whose
        # failure is a warning of a snapshot that succeeded.
        assert "ok" in res and [w["code"] for w in res["ok"]["warnings"]] == [code], res
    else:
        assert "error" in res and res["error"]["error"]["code"] == code, res
    assert_outcome(r, root, before, res, "faulty")
    assert r.call("verify", all=True)["ok"]


@pytest.mark.parametrize("code", ["E_IO", "E_NO_SPACE"])
def test_a_stat_cache_that_cannot_be_saved_is_a_warning_of_a_snapshot_that_succeeded(repo, code):
    # The cache is saved once the files are read, before the snapshot is published: it vouches for
    # worktree files whatever becomes of the snapshot, and losing it costs only speed.
    r, root = repo
    main = root / "main"
    (main / "a.txt").write_text("a\n")
    r.call("snapshot", note="first")
    (main / "a.txt").write_text("changed\n")
    before = visible_state(r, root)
    res = snapshot_child(root, "no cache", env={"JVS_FAULT_FAIL_AT": f"snapshot.before_cache={code}"})
    assert "ok" in res and [w["code"] for w in res["ok"]["warnings"]] == [code], res
    assert "stat cache not saved" in res["ok"]["warnings"][0]["message"]
    assert_outcome(r, root, before, res, "no cache")
    again = r.call("snapshot", note="after")["snapshot"]["snapshot_id"]
    assert r.call("verify", ref=again)["ok"]


def drop_privileges():
    """A command prefix under which permission bits apply (root ignores them): root without the
    capabilities that override them."""
    if os.geteuid() != 0:
        return ()
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop root's capabilities")
    return ("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")


def test_an_unwritable_worktree_config(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a\n")
    r.call("snapshot", note="first")
    (root / "main" / "a.txt").write_text("b\n")
    before = visible_state(r, root)
    cfg_dir = root / ".jvs" / "worktrees" / "main"
    os.chmod(cfg_dir, 0o555)
    try:
        res = snapshot_child(root, "blocked", prefix=drop_privileges())
    finally:
        os.chmod(cfg_dir, 0o755)
    assert "error" in res and res["error"]["error"]["code"] == "E_IO", res
    assert_outcome(r, root, before, res, "blocked")


@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs (needs root to mount; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,nr_inodes=4096", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_nearly_full_filesystem(lib, small_fs):
    """Free space from 160 KiB down to nothing, 8 KiB at a time: each snapshot either fails with
    E_NO_SPACE leaving nothing visible, or succeeds and is whole."""
    root = small_fs / "r"
    r, _ = lib.open(root, init=True)
    try:
        main = root / "main"
        for i in range(12):
            (main / f"f{i}.bin").write_bytes(os.urandom(6000 + i))
        r.call("snapshot", note="base")
        filler = small_fs / "filler"
        outcomes = {"error": 0, "ok": 0}
        for step, free_kib in enumerate(range(160, -1, -8)):
            (main / "f0.bin").write_bytes(os.urandom(6000 + step))  # one file differs each time
            filler.write_bytes(b"")
            st = os.statvfs(small_fs)
            room = st.f_bavail * st.f_frsize - free_kib * 1024
            if room > 0:
                with open(filler, "wb") as f:
                    f.write(b"\0" * room)
            before = visible_state(r, root, gc=False)
            res = snapshot_child(root, f"s{step}")
            if "error" in res:
                assert res["error"]["error"]["code"] in ("E_NO_SPACE", "E_IO"), res
                assert visible_state(r, root, gc=False) == before, (free_kib, res)
            else:
                sid = res["ok"]["snapshot"]["snapshot_id"]
                assert visible_state(r, root, gc=False)["history"][0] == sid
            outcomes["error" if "error" in res else "ok"] += 1
        filler.unlink()
        assert outcomes["error"] > 0 and outcomes["ok"] > 0, outcomes
        history = {d["snapshot_id"] for d in r.call("history", all=True)["snapshots"]}
        assert not set(r.call("gc_plan", keep_min_age="0")["candidates"]) - history
        doc = r.call("doctor", strict=True)
        assert doc["healthy"] and not [f for f in doc["findings"] if f["severity"] != "info"], doc
        assert r.call("verify", all=True)["ok"]
        count = len(r.call("history", all=True)["snapshots"])
        r.call("snapshot", note="after")
        assert len(r.call("history", all=True)["snapshots"]) == count + 1
        print(f"\nnearly full filesystem: {outcomes['ok']} snapshots succeeded, {outcomes['error']} failed cleanly")
    finally:
        r.close()
