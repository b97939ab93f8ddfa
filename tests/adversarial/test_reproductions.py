"""The issue's reproductions of items 1, 7 and 8, each through the real CLI:
  1. a partial restore through a parent directory replaced by a symlink to the outside;
  7. a file rewritten while it is snapshotted;
  8. a user's own `.READY` at the worktree root."""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time

import pytest

ENV = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "JVS_ENGINE")}
ENV.update({"NO_COLOR": "1", "TERM": "dumb", "LC_ALL": "C.UTF-8"})


def jvs(bin_, cwd, *args, expect=0):
    p = subprocess.run([bin_, "--no-progress", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)
    assert p.returncode == expect, (args, p.returncode, p.stdout, p.stderr)
    return p


def jvs_json(bin_, cwd, *args, expect=0):
    return json.loads(jvs(bin_, cwd, "--json", *args, expect=expect).stdout)


def init(bin_, tmp_path):
    jvs(bin_, tmp_path, "init", "r")
    return tmp_path / "r", tmp_path / "r" / "main"


# ---- item 1 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["d/sub", "d/f", "d/e/f"])
@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_partial_restore_never_writes_through_a_symlinked_parent(jvs_bin, tmp_path, canary, path, link):
    root, wt = init(jvs_bin, tmp_path)
    for rel in ("d/sub/a", "d/sub/b", "d/f", "d/e/f", "other"):
        (wt / rel).parent.mkdir(parents=True, exist_ok=True)
        (wt / rel).write_text(f"inside {rel}\n")
    sid = jvs_json(jvs_bin, wt, "snapshot", "partial", "--paths", path)["snapshot"]["snapshot_id"]
    shutil.rmtree(wt / "d")
    target = canary.root / "dir"
    os.symlink(target if link == "absolute" else os.path.relpath(target, wt), wt / "d")
    before = sorted(os.listdir(wt))
    for dry in ([], ["--dry-run"]):
        doc = jvs_json(jvs_bin, wt, "restore", sid, *dry, expect=2)
        assert doc["error"]["code"] == "E_PATH_ESCAPE", doc
        assert doc["error"]["details"]["symlink"] == "d"
    assert os.path.islink(wt / "d") and sorted(os.listdir(wt)) == before  # the link is data: left as it is
    escapes = canary.escapes(root)
    print(f"\nitem 1 ({path}, {link} link): restore refused with E_PATH_ESCAPE; escapes = {len(escapes)}")
    assert not escapes, escapes


def test_full_restore_replaces_a_symlinked_directory_inside_the_worktree(jvs_bin, tmp_path, canary):
    root, wt = init(jvs_bin, tmp_path)
    (wt / "d" / "sub").mkdir(parents=True)
    (wt / "d" / "sub" / "a").write_text("a\n")
    sid = jvs_json(jvs_bin, wt, "snapshot", "full")["snapshot"]["snapshot_id"]
    shutil.rmtree(wt / "d")
    os.symlink(canary.root / "dir", wt / "d")
    doc = jvs_json(jvs_bin, wt, "restore", sid)
    assert {"path": "d", "action": "delete"} in doc["changes"]
    assert (wt / "d").is_dir() and not (wt / "d").is_symlink()
    assert (wt / "d" / "sub" / "a").read_text() == "a\n"
    assert not canary.escapes(root)


def test_partial_restore_refuses_a_file_where_a_directory_belongs(jvs_bin, tmp_path):
    root, wt = init(jvs_bin, tmp_path)
    (wt / "d" / "sub").mkdir(parents=True)
    (wt / "d" / "sub" / "a").write_text("a\n")
    sid = jvs_json(jvs_bin, wt, "snapshot", "partial", "--paths", "d/sub")["snapshot"]["snapshot_id"]
    shutil.rmtree(wt / "d")
    (wt / "d").write_text("a file of the user's\n")
    doc = jvs_json(jvs_bin, wt, "restore", sid, expect=6)
    assert doc["error"]["code"] == "E_PATH_CONFLICT"
    assert (wt / "d").read_text() == "a file of the user's\n"


# ---- item 7 ---------------------------------------------------------------------------------

WRITER = """
import os, random, sys, time
path, stop = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_WRONLY)
size = os.fstat(fd).st_size
gen = 0
while not os.path.exists(stop):
    gen += 1
    block = bytes([gen % 251]) * 65536
    for _ in range(16):
        os.pwrite(fd, block, random.randrange(0, size - 65536))
"""


def test_a_file_rewritten_while_it_is_snapshotted_is_reported_and_stored_as_read(jvs_bin, tmp_path):
    root, wt = init(jvs_bin, tmp_path)
    big = wt / "big.bin"
    with open(big, "wb") as f:
        f.write(random.Random(7).randbytes(64 << 20))
    (wt / "quiet.txt").write_text("nobody writes me\n")
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(big), str(stop)])
    try:
        time.sleep(0.2)
        doc = jvs_json(jvs_bin, wt, "snapshot", "during writes")
        text = jvs(jvs_bin, wt, "snapshot", "again, in text mode")
    finally:
        stop.touch()
        writer.wait(timeout=60)
    changed = [d for d in doc["degradations"] if d["kind"] == "changed_while_read"]
    assert [d["path"] for d in changed] == ["big.bin"], doc["degradations"]
    assert "file changed as we read it" in changed[0]["detail"]
    assert "big.bin: file changed as we read it" in text.stderr, text.stderr
    # Stored as read: the snapshot holds exactly what its manifest hashes, and verifies.
    sid = doc["snapshot"]["snapshot_id"]
    stored = root / ".jvs" / "snapshots" / sid / "big.bin"
    manifest = (root / ".jvs" / "manifests" / sid).read_bytes()
    assert hashlib.sha256(stored.read_bytes()).hexdigest().encode() in manifest
    assert jvs_json(jvs_bin, wt, "verify", sid)["ok"]
    print(f"\nitem 7: {changed[0]['detail']}")


# ---- item 8 ---------------------------------------------------------------------------------

def test_a_users_own_ready_file_is_kept_across_snapshot_restore_fork_and_diff(jvs_bin, tmp_path):
    root, wt = init(jvs_bin, tmp_path)
    (wt / ".READY").write_text("my own notes\n")
    (wt / ".READY.jvs").write_text("the reserved name's own namesake\n")
    (wt / "f").write_text("f\n")
    doc = jvs_json(jvs_bin, wt, "snapshot", "with .READY")
    sid = doc["snapshot"]["snapshot_id"]
    assert doc["stats"]["files"] == 3
    sdir = root / ".jvs" / "snapshots" / sid
    marker = json.loads((sdir / ".READY").read_text())  # the snapshot's own marker stays intact
    assert marker["snapshot_id"] == sid
    assert (sdir / ".READY.jvs").read_text() == "my own notes\n"
    assert (sdir / ".READY.jvs.jvs").read_text() == "the reserved name's own namesake\n"
    assert jvs_json(jvs_bin, wt, "verify", "--all")["ok"]

    (wt / ".READY").write_text("edited\n")
    diff = jvs_json(jvs_bin, wt, "diff")
    assert [m["path"] for m in diff["modified"]] == [".READY"]
    os.unlink(wt / ".READY.jvs")
    jvs(jvs_bin, wt, "restore", sid)
    assert (wt / ".READY").read_text() == "my own notes\n"
    assert (wt / ".READY.jvs").read_text() == "the reserved name's own namesake\n"

    jvs(jvs_bin, wt, "worktree", "fork", sid, "copy")
    fork = root / "worktrees" / "copy"
    assert (fork / ".READY").read_text() == "my own notes\n"
    assert (fork / ".READY.jvs").read_text() == "the reserved name's own namesake\n"


def test_the_go_tools_leftover_marker_is_still_not_user_data(jvs_bin, tmp_path):
    root, wt = init(jvs_bin, tmp_path)
    (wt / "f").write_text("f\n")
    sid = jvs_json(jvs_bin, wt, "snapshot", "one")["snapshot"]["snapshot_id"]
    leftover = (root / ".jvs" / "snapshots" / sid / ".READY").read_text()
    (wt / ".READY").write_text(leftover)  # what the Go tool's restore left in worktrees
    doc = jvs_json(jvs_bin, wt, "snapshot", "two")
    assert doc["stats"]["files"] == 1
    assert not (root / ".jvs" / "snapshots" / doc["snapshot"]["snapshot_id"] / ".READY.jvs").exists()
    jvs(jvs_bin, wt, "restore", sid)
    assert not (wt / ".READY").exists()
