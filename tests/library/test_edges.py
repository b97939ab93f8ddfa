"""The smaller safety items of issue 8 (list 10): long worktree names, over-long paths, read-only
directories without root, a half-done worktree remove, lock files of removed worktrees, a dry-run
restore on a read-only mount."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from libjvs_driver import LIB_PATH, JvsError, snap, tree_listing

HERE = os.path.dirname(os.path.abspath(__file__))


def lock_files(root):
    return sorted(p.name for p in (root / ".jvs" / "locks").iterdir())


@pytest.mark.parametrize("length", [236, 250, 255])
def test_long_worktree_names_work_everywhere(repo, length):
    r, root = repo
    (root / "main" / "a.txt").write_text("a\n")
    base = snap(r)
    name, other = "w" * length, "v" * (length - 1) + "x"
    r.call("worktree_fork", name=name, **{"from": base})
    r.call("worktree_create", name=other, **{"from": base})
    (root / "worktrees" / name / "b.txt").write_text("b\n")
    snap(r, worktree=name)
    renamed = "r" * length
    r.call("worktree_rename", name=name, new_name=renamed)
    (root / "worktrees" / renamed / "c.txt").write_text("c\n")
    sid = snap(r, worktree=renamed)  # the rename used to break every later snapshot
    r.call("restore", worktree=renamed, ref=sid)
    assert all(len(n) <= 255 for n in lock_files(root) + os.listdir(root / ".jvs" / "cache"))
    r.call("worktree_remove", name=renamed)
    r.call("worktree_remove", name=other)
    assert lock_files(root) == ["repo.lock", "wt-main.lock"]
    doc = r.call("doctor", strict=True)
    assert doc["healthy"] and not [f for f in doc["findings"] if f["severity"] != "info"], doc


def test_lock_files_of_removed_worktrees_do_not_accumulate(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a\n")
    base = snap(r)
    for i in range(5):
        r.call("worktree_fork", name=f"t{i}", **{"from": base})
        snap(r, worktree=f"t{i}")
        r.call("worktree_remove", name=f"t{i}")
    assert lock_files(root) == ["repo.lock", "wt-main.lock"]
    stray = root / ".jvs" / "locks" / "wt-gone.lock"  # left by an older jvs
    stray.write_text("")
    doc = r.call("doctor", repair=True)
    [f] = [f for f in doc["findings"] if f["code"] == "lock_orphan"]
    assert f["repaired"] is True and not stray.exists()


def test_doctor_strict_reports_paths_longer_than_path_max(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a\n")
    snap(r)
    fd = os.open(root / "main", os.O_RDONLY)
    try:  # 24 levels of 200-byte names: 4824 bytes, built from directory fds
        for _ in range(24):
            os.mkdir("d" * 200, dir_fd=fd)
            nxt = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        os.close(os.open("f", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    doc = r.call("doctor", strict=True)
    [f] = [f for f in doc["findings"] if f["code"] == "path_too_long"]
    assert f["severity"] == "warning" and "4095" in f["message"]
    with pytest.raises(JvsError) as e:
        snap(r)
    assert e.value.code in ("E_PATH_INVALID", "E_IO")  # refused, never half-stored
    assert r.call("verify", all=True)["ok"]


def run_as_nobody(root, calls):
    """Runs library calls as uid/gid 65534 in a child process; returns its result or error docs."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a process as an unprivileged user")
    code = ("import json, sys\nsys.path.insert(0, sys.argv[1])\nfrom libjvs_driver import Lib, JvsError\n"
            "r, _ = Lib(sys.argv[2]).open(sys.argv[3])\nout = []\n"
            "for m, o in json.loads(sys.argv[4]):\n"
            "    try:\n        out.append(r.call(m, **o))\n"
            "    except JvsError as e:\n        out.append(e.doc)\nprint(json.dumps(out))\n")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code,
                        HERE, LIB_PATH, str(root), json.dumps(calls)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture
def nobody_repo(lib):
    """A repository owned by uid 65534, in a directory every user can reach (pytest's are 0700)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to hand a repository to an unprivileged user")
    base = pathlib.Path(tempfile.mkdtemp(prefix="jvs-nobody-"))
    base.chmod(0o755)
    root = base / "r"
    r, _ = lib.open(root, init=True)
    r.close()
    subprocess.run(["chown", "-R", "65534:65534", str(root)], check=True)
    try:
        yield root
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_restore_into_a_read_only_directory_without_root(nobody_repo):
    root = nobody_repo
    ro = root / "main" / "ro"
    ro.mkdir()
    (ro / "f.txt").write_text("v1\n")
    subprocess.run(["chown", "-R", "65534:65534", str(root / "main")], check=True)
    [s1] = run_as_nobody(root, [["snapshot", {"note": "rw"}]])
    ro.chmod(0o555)
    [s2] = run_as_nobody(root, [["snapshot", {"note": "ro"}]])
    (ro / "f.txt").write_text("v2\n")
    (ro / "new.txt").write_text("new\n")
    out = run_as_nobody(root, [["restore", {"ref": s2["snapshot"]["snapshot_id"]}],
                               ["restore", {"ref": s1["snapshot"]["snapshot_id"]}]])
    assert [d["kind"] for d in out] == ["restore", "restore"], out
    assert (ro / "f.txt").read_text() == "v1\n" and not (ro / "new.txt").exists()
    assert ro.stat().st_mode & 0o777 == 0o755  # s1's mode
    [back] = run_as_nobody(root, [["restore", {"ref": "HEAD"}]])
    assert back["kind"] == "restore" and ro.stat().st_mode & 0o777 == 0o555  # s2's mode, kept


def test_a_worktree_with_read_only_directories_is_removed_without_root(nobody_repo):
    root = nobody_repo
    (root / "main" / "a.txt").write_text("a\n")
    subprocess.run(["chown", "-R", "65534:65534", str(root / "main")], check=True)
    [s] = run_as_nobody(root, [["snapshot", {}]])
    [fork] = run_as_nobody(root, [["worktree_fork", {"name": "w", "from": s["snapshot"]["snapshot_id"]}]])
    w = root / "worktrees" / "w"
    (w / "ro" / "deep").mkdir(parents=True)
    (w / "ro" / "deep" / "f").write_text("x")
    subprocess.run(["chown", "-R", "65534:65534", str(w)], check=True)
    (w / "ro" / "deep").chmod(0o555)
    (w / "ro").chmod(0o500)
    [rm] = run_as_nobody(root, [["worktree_remove", {"name": "w"}]])
    assert rm["kind"] == "worktree_remove" and "warnings" not in rm, rm
    assert not w.exists()


def test_a_half_done_worktree_remove_leaves_a_payload_doctor_cleans(lib, repo):
    """The removal of a worktree's files fails after its config is gone: the call succeeds with a
    warning, and the claim it leaves proves to doctor that the rest is jvs's to remove."""
    r, root = repo
    (root / "main" / "a.txt").write_text("a\n")
    base = snap(r)
    r.call("worktree_fork", name="w", **{"from": base})
    code = ("import sys, json\nsys.path.insert(0, sys.argv[1])\nfrom libjvs_driver import Lib\n"
            "r, _ = Lib(sys.argv[2]).open(sys.argv[3])\nprint(json.dumps(r.call('worktree_remove', name='w')))\n")
    p = subprocess.run([sys.executable, "-c", code, HERE, LIB_PATH, str(root)], capture_output=True, text=True,
                       env=dict(os.environ, JVS_FAULT_FAIL_AT="remove.after_config=E_IO"))
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["removed"] is True and doc["warnings"][0]["code"] == "E_IO"
    assert (root / "worktrees" / "w").is_dir() and "w" not in [x["name"] for x in r.call("worktree_list")["worktrees"]]
    rep = r.call("doctor", repair=True)
    [f] = [f for f in rep["findings"] if f["code"] == "worktree_payload_orphan"]
    assert f["repaired"] is True and not (root / "worktrees" / "w").exists()
    assert not [x for x in r.call("doctor", strict=True)["findings"] if x["severity"] != "info"]


@pytest.fixture
def read_only_view(repo, tmp_path):
    """The repository through a read-only bind mount (needs root)."""
    r, root = repo
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    view = tmp_path / "ro-view"
    view.mkdir()
    if subprocess.run(["mount", "--bind", str(root), str(view)], capture_output=True).returncode != 0:
        pytest.skip("cannot bind-mount here")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only")
        yield r, root, view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def test_restore_dry_run_and_other_readers_work_on_a_read_only_mount(lib, read_only_view):
    r, root, view = read_only_view
    (root / "main" / "a.txt").write_text("a\n")
    s1 = snap(r)
    (root / "main" / "a.txt").write_text("b\n")
    snap(r)
    (root / "main" / "a.txt").write_text("c\n")
    before = tree_listing(root)
    ro, _ = lib.open(view / "main")
    try:
        plan = ro.call("restore", ref=s1, dry_run=True)
        assert plan["dry_run"] and {c["action"] for c in plan["changes"]} == {"update"}
        assert ro.call("verify", all=True)["ok"]
        assert ro.call("doctor", strict=True, repair=True, dry_run=True)["dry_run"] is True
        ro.call("diff")
        ro.call("history")
        with pytest.raises(JvsError) as e:  # a real restore must write: it fails cleanly
            ro.call("restore", ref=s1)
        assert e.value.code == "E_IO"
    finally:
        ro.close()
    assert tree_listing(root) == before
