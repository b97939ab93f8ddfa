"""doctor: what it finds, and that --repair touches only what is provably stale (no live owner),
never an operation in flight, never a user file."""
import ctypes
import json
import os
import socket
import subprocess
import sys
import threading
import time


from libjvs_driver import tree_listing

EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)


def call_with_callback(lib, r, method, opts, cb):
    out = ctypes.c_void_p()
    keep = EVENT_CB(cb)
    rc = lib.c.jvs_call(r.h, method.encode(), json.dumps(opts).encode(), ctypes.cast(keep, ctypes.c_void_p), None,
                        ctypes.byref(out))
    return lib._take(rc, out)


def codes(doc):
    return {f["code"]: f for f in doc["findings"]}


def host_tag(boot=None):
    """The host tag atomic_write puts into its temp file names (lib/util/fs.cpp host_tag): 64-bit
    FNV-1a of the boot id, the pid namespace and the host name, NUL-separated. With `boot`: the tag
    of another machine that has this one's host name."""
    if boot is None:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.readline().rstrip("\n")
    data = b"\0".join(x.encode() for x in (boot, os.readlink("/proc/self/ns/pid"), socket.gethostname()))
    h = 14695981039346656037
    for c in data:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_snapshot_in_flight_is_left_alone_by_repair(lib, repo):
    r, root = repo
    main = root / "main"
    for i in range(20):
        (main / f"f{i}.txt").write_text(f"{i}\n" * 100)
    paused, release, result = threading.Event(), threading.Event(), {}

    def cb(ev, _):
        if json.loads(ev).get("phase") == "copy" and not paused.is_set():
            paused.set()
            release.wait(20)
        return 0

    t = threading.Thread(target=lambda: result.setdefault("doc", call_with_callback(lib, r, "snapshot", {}, cb)))
    t.start()
    try:
        assert paused.wait(20)
        jvs = root / ".jvs"
        intents = list((jvs / "intents").iterdir())
        tmps = [p for p in (jvs / "snapshots").iterdir() if p.name.endswith(".tmp")]
        assert len(intents) == 1 and len(tmps) == 1
        doc = r.call("doctor", repair=True)
        f = codes(doc)
        assert f["intent_in_flight"]["severity"] == "info" and "repair" not in f["intent_in_flight"]
        assert "intent_stale" not in f and "snapshot_tmp_leftover" not in f
        assert doc["healthy"] and doc["repairs"] == []
        assert intents[0].exists() and tmps[0].is_dir()
    finally:
        release.set()
        t.join()
    sid = result["doc"]["snapshot"]["snapshot_id"]
    assert r.call("verify", ref=sid)["ok"]
    assert not [x for x in r.call("doctor", strict=True)["findings"] if x["severity"] != "info"]


def test_temp_files_are_removed_only_when_their_writer_is_provably_gone(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a")
    r.call("snapshot")
    d = root / ".jvs" / "worktrees" / "main"
    tag = host_tag()
    live = d / f".jvs-tmp-h{tag}-p{os.getpid()}-12345"      # this process: alive
    gone = d / f".jvs-tmp-h{tag}-p{dead_pid()}-12345"       # exited
    go_fresh = d / ".jvs-tmp-4242424242"                     # the Go tool's name: unattributable
    go_old = d / ".jvs-tmp-4242424243"
    # another machine with this host name: a pid dead here proves nothing about its writer
    twin = d / f".jvs-tmp-h{host_tag(boot='00000000-0000-4000-8000-000000000000')}-p{dead_pid()}-12345"
    for p in (live, gone, go_fresh, go_old, twin):
        p.write_text("partial")
    hours_ago = time.time() - 7200
    os.utime(go_old, (hours_ago, hours_ago))
    user = root / "main" / ".jvs-tmp-mine"                   # a user file: never touched (Go deleted it)
    user.write_text("user data")
    doc = r.call("doctor", repair=True)
    by_path = {f.get("path"): f for f in doc["findings"]}
    assert by_path[str(live)]["code"] == "temp_file_recent" and "running" in by_path[str(live)]["message"]
    assert by_path[str(go_fresh)]["code"] == "temp_file_recent"
    assert by_path[str(twin)]["code"] == "temp_file_recent" and twin.exists()
    assert by_path[str(gone)]["code"] == "temp_file_leftover" and by_path[str(gone)]["repaired"] is True
    assert by_path[str(go_old)]["code"] == "temp_file_leftover" and by_path[str(go_old)]["repaired"] is True
    assert live.exists() and go_fresh.exists() and not gone.exists() and not go_old.exists()
    assert user.read_text() == "user data" and str(user) not in by_path
    audit = [json.loads(l) for l in (root / ".jvs" / "audit" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["event_type"] == "repair" and len(audit[-1]["details"]["repairs"]) == 2


def test_lineage_findings(repo):
    r, root = repo
    main = root / "main"
    (main / "a.txt").write_text("a")
    a = r.call("snapshot")["snapshot"]["snapshot_id"]
    (main / "a.txt").write_text("b")
    b = r.call("snapshot")["snapshot"]["snapshot_id"]
    assert r.call("doctor", strict=True)["healthy"]
    # a's directory and descriptor vanish (not by gc): b's parent is missing, and main's base/head refs too
    import shutil
    shutil.rmtree(root / ".jvs" / "snapshots" / a)
    os.unlink(root / ".jvs" / "descriptors" / f"{a}.json")
    f = codes(r.call("doctor"))
    assert f["parent_missing"]["severity"] == "warning" and a in f["parent_missing"]["message"]
    # a worktree pointing at a snapshot that does not exist
    cfg = root / ".jvs" / "worktrees" / "main" / "config.json"
    j = json.loads(cfg.read_text())
    j["head_snapshot_id"] = "1700000000000-00000000"
    cfg.write_text(json.dumps(j, indent=2))
    doc = r.call("doctor")
    assert codes(doc)["worktree_ref_missing"]["severity"] == "error" and not doc["healthy"]
    j["head_snapshot_id"] = b
    cfg.write_text(json.dumps(j, indent=2))
    assert r.call("doctor")["healthy"]


def test_doctor_without_repair_changes_nothing(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a")
    r.call("snapshot")
    (root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp").mkdir()
    (root / ".jvs" / "intents" / "1700000000001-deadbeef.json").write_text('{"worktree_name":"main"}')
    before = tree_listing(root)
    doc = r.call("doctor", strict=True)
    assert {"snapshot_tmp_leftover", "intent_stale"} <= set(codes(doc)) and doc["repairs"] == []
    assert tree_listing(root) == before


def test_a_directory_a_user_put_under_worktrees_is_never_removed(repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a")
    r.call("snapshot")
    mine = root / "worktrees" / "my-stuff"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("precious")
    empty = root / "worktrees" / "empty"
    empty.mkdir()
    doc = r.call("doctor", repair=True)
    f = {x["path"]: x for x in doc["findings"] if "path" in x}
    assert f[str(mine)]["code"] == "worktree_payload_unclaimed" and "repair" not in f[str(mine)]
    assert f[str(empty)]["code"] == "worktree_payload_orphan" and f[str(empty)]["repaired"] is True
    assert (mine / "notes.txt").read_text() == "precious" and not empty.exists()


def test_an_interrupted_remove_is_finished_because_its_claim_proves_it(lib, repo):
    r, root = repo
    (root / "main" / "a.txt").write_text("a")
    r.call("snapshot")
    r.call("worktree_create", name="w")
    (root / "worktrees" / "w" / "x.txt").write_text("x")
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n"
            f"from libjvs_driver import Lib\nr, _ = Lib({lib_path()!r}).open({str(root)!r})\n"
            f"r.call('worktree_remove', name='w')\n")
    p = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, JVS_FAULT_KILL_AT="remove.after_config"),
                       capture_output=True, text=True)
    assert p.returncode == -9, p.stderr
    claims = list((root / ".jvs" / "locks").glob("claim-*-w.lock"))
    assert len(claims) == 1
    doc = r.call("doctor", repair=True)
    f = codes(doc)
    assert f["worktree_payload_orphan"]["repaired"] is True
    assert not (root / "worktrees" / "w").exists() and not claims[0].exists()
    assert not [x for x in r.call("doctor", strict=True)["findings"] if x["severity"] != "info"]


def lib_path():
    from libjvs_driver import LIB_PATH
    return os.path.abspath(LIB_PATH)
