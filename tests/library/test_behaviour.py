"""What the engine promises, observed on real files through the C ABI (plain ctypes)."""
import ctypes
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from libjvs_driver import JvsError, tree_listing

EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)


def snapshot_with_callback(lib, repo, opts, cb):
    out = ctypes.c_void_p()
    fn = lib.c.jvs_snapshot
    fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, EVENT_CB, ctypes.c_void_p, ctypes.c_void_p]
    keep = EVENT_CB(cb)  # alive for the whole call
    rc = fn(repo.h, json.dumps(opts).encode(), keep, None, ctypes.byref(out))
    return lib._take(rc, out)


def populate(main, n=20):
    (main / "sub").mkdir(exist_ok=True)
    for i in range(n):
        (main / "sub" / f"f{i}.txt").write_text(f"file {i}\n" * 50)
    (main / "top.txt").write_text("top\n")


def test_restore_is_in_place_and_rewrites_only_what_differs(repo):
    r, root = repo
    main = root / "main"
    populate(main)
    first = r.call("snapshot", note="one")["snapshot"]["snapshot_id"]
    (main / "top.txt").write_text("changed\n")
    (main / "extra.txt").write_text("not in the snapshot")
    unchanged_ino = os.stat(main / "sub" / "f3.txt").st_ino
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=main / "sub")
    try:
        doc = r.call("restore", ref=first)
        cwd = os.readlink(f"/proc/{proc.pid}/cwd")
        assert not cwd.endswith("(deleted)") and cwd == str(main / "sub")
    finally:
        proc.kill()
    assert doc["stats"]["updated"] == 1 and doc["stats"]["deleted"] == 1
    assert (main / "top.txt").read_text() == "top\n"
    assert not (main / "extra.txt").exists()
    assert os.stat(main / "sub" / "f3.txt").st_ino == unchanged_ino


def test_dry_run_plans_without_touching(repo):
    r, root = repo
    main = root / "main"
    populate(main)
    first = r.call("snapshot", note="one")["snapshot"]["snapshot_id"]
    (main / "top.txt").write_text("changed\n")
    (main / "new.txt").write_text("new")
    before = tree_listing(root)
    doc = r.call("restore", ref=first, dry_run=True)
    assert tree_listing(root) == before
    assert sorted((c["path"], c["action"]) for c in doc["changes"]) == [("new.txt", "delete"), ("top.txt", "update")]


def test_unchanged_files_are_linked_to_the_previous_snapshot_never_to_the_worktree(repo):
    r, root = repo
    main = root / "main"
    populate(main)
    a = r.call("snapshot", note="a")["snapshot"]["snapshot_id"]
    time.sleep(0.02)  # past the racy-timestamp window of the stat cache
    (main / "top.txt").write_text("v2\n")
    doc = r.call("snapshot", note="b")
    b = doc["snapshot"]["snapshot_id"]
    assert doc["stats"]["files_linked"] == 20 and doc["stats"]["files_hashed"] == 1
    snaps = root / ".jvs" / "snapshots"
    assert os.stat(snaps / a / "sub" / "f1.txt").st_ino == os.stat(snaps / b / "sub" / "f1.txt").st_ino
    assert os.stat(snaps / a / "top.txt").st_ino != os.stat(snaps / b / "top.txt").st_ino
    for p in (main / "sub").iterdir():
        assert os.stat(p).st_nlink == 1, "worktree files must never share an inode with history"
    # Editing the workspace can never alter history.
    (main / "sub" / "f1.txt").write_text("edited")
    assert (snaps / a / "sub" / "f1.txt").read_text().startswith("file 1")
    assert r.call("verify", all=True)["ok"]


def test_a_snapshot_of_an_unchanged_workspace_reads_nothing(repo):
    r, root = repo
    populate(root / "main")
    r.call("snapshot", note="a")
    time.sleep(0.02)
    doc = r.call("snapshot", note="b")
    assert doc["stats"]["files_hashed"] == 0 and doc["stats"]["bytes_hashed"] == 0


def test_special_file_is_a_clear_error_and_nothing_changes(repo):
    r, root = repo
    populate(root / "main")
    r.call("snapshot", note="a")
    os.mkfifo(root / "main" / "pipe")
    before = tree_listing(root / ".jvs")
    with pytest.raises(JvsError) as e:
        r.call("snapshot", note="b")
    assert e.value.code == "E_SPECIAL_FILE" and e.value.doc["error"]["details"]["paths"] == ["pipe"]
    assert e.value.doc["error"]["hint"]
    assert tree_listing(root / ".jvs") == before


def test_cancel_from_the_callback_leaves_no_trace(lib, repo):
    r, root = repo
    populate(root / "main", n=50)
    r.call("snapshot", note="a")
    (root / "main" / "top.txt").write_text("changed")
    before = tree_listing(root / ".jvs")
    events = []

    def cb(ev, _):
        events.append(json.loads(ev))
        return 1 if events[-1].get("phase") == "copy" else 0

    with pytest.raises(JvsError) as e:
        snapshot_with_callback(lib, r, {"note": "cancelled"}, cb)
    assert e.value.code == "E_CANCELLED" and e.value.status == -9
    assert tree_listing(root / ".jvs") == before
    assert events and all(ev["schema"] == 1 and ev["kind"] == "progress" for ev in events)


def test_writers_to_one_worktree_wait_or_fail_with_E_LOCKED(lib, repo):
    r, root = repo
    populate(root / "main")
    r.call("snapshot", note="base")
    holding, release = threading.Event(), threading.Event()

    def slow(ev, _):
        if json.loads(ev).get("phase") == "copy":
            holding.set()
            release.wait(10)
        return 0

    (root / "main" / "top.txt").write_text("x")
    t = threading.Thread(target=lambda: snapshot_with_callback(lib, r, {"note": "slow"}, slow))
    t.start()
    assert holding.wait(10)
    other, _ = lib.open(root / "main")
    with pytest.raises(JvsError) as e:
        other.call("snapshot", note="impatient", lock_timeout_ms=0)
    assert e.value.code == "E_LOCKED" and e.value.doc["error"]["details"]["holder"]["pid"] == os.getpid()
    # A different worktree is not blocked.
    r.call("worktree_create", name="side")
    side, _ = lib.open(root / "worktrees" / "side")
    (root / "worktrees" / "side" / "s.txt").write_text("side")
    side.call("snapshot", note="parallel", lock_timeout_ms=0)
    release.set()
    t.join()
    other.call("snapshot", note="after", lock_timeout_ms=5000)
    notes = [s["note"] for s in r.call("history")["snapshots"]]
    assert notes == ["after", "slow", "base"]


def test_many_threads_and_processes_keep_a_linear_lineage(lib, repo):
    r, root = repo
    populate(root / "main", n=5)
    errors = []

    def worker(i):
        try:
            h, _ = lib.open(root / "main")
            for k in range(3):
                (root / "main" / f"t{i}.txt").write_text(f"{i}-{k}")
                h.call("snapshot", note=f"t{i}-{k}")
            h.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    script = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r});"
              f"from libjvs_driver import Lib, LIB_PATH; l = Lib(LIB_PATH);"
              f"h, _ = l.open({str(root / 'main')!r});"
              f"[h.call('snapshot', note='proc-%d' % k) for k in range(3)]")
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    assert not errors
    hist = r.call("history")["snapshots"]
    assert len(hist) == 6 * 3 + 3 * 3
    for newer, older in zip(hist, hist[1:]):
        assert newer["parent_id"] == older["snapshot_id"]
    assert r.call("verify", all=True)["ok"]


def test_references_precedence_and_ambiguity(repo):
    r, root = repo
    main = root / "main"
    ids = []
    for i, (note, tags) in enumerate([("v1 release", ["v1"]), ("second", ["v1.1"]), ("third", [])]):
        (main / "f").write_text(str(i))
        ids.append(r.call("snapshot", note=note, tags=tags)["snapshot"]["snapshot_id"])
    assert r.call("resolve", ref="v1")["snapshot"]["snapshot_id"] == ids[0]  # exact tag beats prefixes
    assert r.call("resolve", ref="v1")["matched_by"] == "tag"
    assert r.call("resolve", ref="v1.")["matched_by"] == "tag_prefix"
    assert r.call("resolve", ref="thi")["snapshot"]["snapshot_id"] == ids[2]
    assert r.call("resolve", ref="HEAD~2")["snapshot"]["snapshot_id"] == ids[0]
    assert r.call("resolve", ref=ids[1])["matched_by"] == "id"
    with pytest.raises(JvsError) as e:
        r.call("resolve", ref=ids[0][:5])
    assert e.value.code == "E_REF_AMBIGUOUS" and len(e.value.doc["error"]["details"]["candidates"]) == 3
    with pytest.raises(JvsError) as e:
        r.call("resolve", ref="nope")
    assert e.value.code == "E_REF_NOT_FOUND"


def test_fork_and_create_from_keep_lineage(repo, lib):
    r, root = repo
    (root / "main" / "a").write_text("a")
    base = r.call("snapshot", note="base")["snapshot"]["snapshot_id"]
    fork = r.call("worktree_fork", name="exp")
    assert fork["worktree"]["base_snapshot_id"] == base
    r.call("worktree_create", name="c", **{"from": base})
    for name in ("exp", "c"):
        h, _ = lib.open(root / "worktrees" / name)
        assert (root / "worktrees" / name / "a").read_text() == "a"
        (root / "worktrees" / name / "b").write_text(name)
        assert h.call("snapshot", note=name)["snapshot"]["parent_id"] == base
    auto = r.call("worktree_fork")
    assert auto["worktree"]["name"].startswith("fork-")


def test_main_is_protected_and_detached_removal_needs_force(repo):
    r, root = repo
    (root / "main" / "a").write_text("1")
    one = r.call("snapshot", note="1")["snapshot"]["snapshot_id"]
    for call, kw in (("worktree_rename", {"name": "main", "new_name": "x"}), ("worktree_remove", {"name": "main"})):
        with pytest.raises(JvsError) as e:
            r.call(call, **kw)
        assert e.value.code == "E_WORKTREE_MAIN"
    r.call("worktree_fork", name="f")
    r.call("worktree_rename", name="f", new_name="g")
    assert (root / "worktrees" / "g" / "a").exists() and not (root / "worktrees" / "f").exists()
    (root / "worktrees" / "g" / "a").write_text("g2")
    r.call("snapshot", worktree="g", note="g2")
    r.call("restore", worktree="g", ref=one)
    with pytest.raises(JvsError) as e:
        r.call("worktree_remove", name="g")
    assert e.value.code == "E_DETACHED"
    r.call("worktree_remove", name="g", force=True)
    assert not (root / "worktrees" / "g").exists()
    assert [w["name"] for w in r.call("worktree_list")["worktrees"]] == ["main"]


@pytest.mark.parametrize("call,opts,code", [
    ("snapshot", {"tags": ["bad tag"]}, "E_TAG_INVALID"),
    ("snapshot", {"tags": ["HEAD"]}, "E_TAG_INVALID"),
    ("snapshot", {"paths": ["../x"]}, "E_PATH_INVALID"),
    ("snapshot", {"paths": ["/etc"]}, "E_PATH_INVALID"),
    ("snapshot", {"paths": [""]}, "E_PATH_INVALID"),
    ("snapshot", {"paths": ["a\x01b"]}, "E_PATH_INVALID"),
    ("snapshot", {"paths": ["out/x"]}, "E_PATH_ESCAPE"),
    ("snapshot", {"paths": ["missing"]}, "E_PATH_NOT_FOUND"),
    ("snapshot", {"note": "a\x00b"}, "E_NOTE_INVALID"),
    ("snapshot", {"compress": "max"}, "E_OPTION_INVALID"),
    ("snapshot", {"bogus": 1}, "E_OPTION_UNKNOWN"),
    ("snapshot", {"note": 5}, "E_OPTION_INVALID"),
    ("restore", {"ref": "nope"}, "E_REF_NOT_FOUND"),
    ("restore", {"ref": ""}, "E_OPTION_INVALID"),
    ("worktree_create", {"name": "../evil"}, "E_NAME_INVALID"),
    ("worktree_create", {"name": "."}, "E_NAME_INVALID"),
    ("worktree_create", {"name": "a/b"}, "E_NAME_INVALID"),
    ("worktree_create", {"name": "main"}, "E_WORKTREE_EXISTS"),
    ("worktree_remove", {"name": "ghost"}, "E_WORKTREE_NOT_FOUND"),
    ("history", {"worktree": "ghost"}, "E_WORKTREE_NOT_FOUND"),
    ("no_such_method", {}, "E_METHOD_UNKNOWN"),
])
def test_bad_input_has_a_stable_code_a_hint_and_changes_nothing(repo, tmp_path, call, opts, code):
    r, root = repo
    (root / "main" / "a").write_text("a")
    r.call("snapshot", note="base")
    os.symlink(str(tmp_path), root / "main" / "out")
    before = tree_listing(root)
    with pytest.raises(JvsError) as e:
        r.call(call, **opts)
    assert e.value.code == code
    assert e.value.doc["kind"] == "error" and e.value.doc["schema"] == 1 and e.value.doc["error"]["hint"]
    assert tree_listing(root) == before


def test_init_never_overwrites_a_repository(lib, repo):
    r, root = repo
    (root / "main" / "a").write_text("a")
    r.call("snapshot", note="keep me")
    before = tree_listing(root)
    with pytest.raises(JvsError) as e:
        lib.open(root, init=True)
    assert e.value.code == "E_REPO_EXISTS" and e.value.status == -4
    assert tree_listing(root) == before


def test_snapshot_refused_while_detached(repo):
    r, root = repo
    (root / "main" / "a").write_text("1")
    one = r.call("snapshot", note="1")["snapshot"]["snapshot_id"]
    (root / "main" / "a").write_text("2")
    r.call("snapshot", note="2")
    r.call("restore", ref=one)
    with pytest.raises(JvsError) as e:
        r.call("snapshot", note="3")
    assert e.value.code == "E_DETACHED" and "restore HEAD" in e.value.doc["error"]["hint"]
    r.call("restore", ref="HEAD")
    assert (root / "main" / "a").read_text() == "2"
    r.call("snapshot", note="3")
