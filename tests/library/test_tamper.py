"""Tampering is detected by verify with the right code, every time: one flipped byte (XOR 0xFF) at
every position of a descriptor, a .READY and an audit record, flipped bytes in payload files, and a
file deleted from or added to a snapshot."""
import json
import os

import pytest


@pytest.fixture
def repo(lib, tmp_path):
    r, _ = lib.open(tmp_path / "r", init=True)
    root = tmp_path / "r"
    main = root / "main"
    (main / "sub").mkdir()
    for i in range(5):
        (main / "sub" / f"f{i}.txt").write_text(f"file {i}\n" * 30)
    (main / "top.txt").write_text("top\n")
    (main / "empty.bin").write_bytes(b"")
    os.symlink("top.txt", main / "link")
    a = r.call("snapshot", note="first", tags=["t1"])["snapshot"]["snapshot_id"]
    (main / "top.txt").write_text("top v2\n")
    b = r.call("snapshot", note="second")["snapshot"]["snapshot_id"]
    yield r, root, [a, b]
    r.close()


def flip(path, pos):
    mode = os.lstat(path).st_mode
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[pos] ^= 0xFF
    path.write_bytes(bytes(data))
    os.chmod(path, mode & 0o7777)


def codes(doc):
    return {r["snapshot_id"]: r.get("code") for r in doc["results"]}


def test_clean_repository_verifies(repo):
    r, root, ids = repo
    doc = r.call("verify", all=True)
    assert doc["ok"] and doc["audit"] == {"ok": True, "records": 2}
    assert all(not x.get("code") for x in doc["results"])
    fast = r.call("verify", all=True, payload=False)
    assert fast["ok"] and not fast["payload_checked"]


def test_every_byte_of_a_descriptor(repo):
    r, root, ids = repo
    path = root / ".jvs" / "descriptors" / f"{ids[0]}.json"
    orig = path.read_bytes()
    for pos in range(len(orig)):
        flip(path, pos)
        doc = r.call("verify", all=True, payload=False)
        assert not doc["ok"], f"byte {pos} ({orig[pos:pos + 1]!r}) flip undetected"
        # (an edited id or worktree name is also one that could lead outside: E_PATH_UNSAFE)
        assert codes(doc)[ids[0]] in ("E_CHECKSUM_MISMATCH", "E_DESCRIPTOR_CORRUPT", "E_PATH_UNSAFE"), (pos, codes(doc))
        assert codes(doc)[ids[1]] is None
        path.write_bytes(orig)
    assert r.call("verify", all=True)["ok"]


def test_every_byte_of_a_ready_marker(repo):
    r, root, ids = repo
    path = root / ".jvs" / "snapshots" / ids[1] / ".READY"
    orig = path.read_bytes()
    for pos in range(len(orig)):
        flip(path, pos)
        doc = r.call("verify", ref=ids[1], payload=False)
        assert not doc["ok"] and doc["results"][0]["code"] == "E_READY_MISMATCH", (pos, doc)
        assert doc["results"][0]["tamper_detected"]
        path.write_bytes(orig)
        os.chmod(path, 0o644)
    os.unlink(path)
    doc = r.call("verify", ref=ids[1])
    assert doc["results"][0]["code"] == "E_READY_MISMATCH"


def test_every_byte_of_an_audit_record(repo):
    r, root, ids = repo
    path = root / ".jvs" / "audit" / "audit.jsonl"
    orig = path.read_bytes()
    first_len = orig.index(b"\n") + 1
    for pos in range(len(orig)):
        flip(path, pos)
        doc = r.call("verify", all=True, payload=False)
        a = doc["audit"]
        assert not doc["ok"] and not a["ok"] and a["code"] == "E_AUDIT_CHAIN_BROKEN", (pos, a)
        assert a["line"] == (1 if pos < first_len else 2), (pos, a)
        assert all(x.get("code") is None for x in doc["results"])  # snapshots themselves are fine
        path.write_bytes(orig)
    # A deleted or reordered record breaks the links too.
    lines = orig.splitlines(keepends=True)
    path.write_bytes(lines[1])
    assert r.call("verify", all=True)["audit"]["code"] == "E_AUDIT_CHAIN_BROKEN"
    path.write_bytes(lines[1] + lines[0])
    assert not r.call("verify", all=True)["ok"]
    path.write_bytes(orig)
    assert r.call("verify", all=True)["ok"]


def test_flipped_byte_of_every_payload_file(repo):
    r, root, ids = repo
    snap = root / ".jvs" / "snapshots" / ids[0]
    files = [p for p in sorted(snap.rglob("*")) if p.is_file() and not p.is_symlink() and p.name != ".READY"]
    assert len(files) >= 6
    for p in files:
        orig = p.read_bytes()
        mode = os.lstat(p).st_mode & 0o7777
        for pos in sorted({0, len(orig) // 2, len(orig) - 1}) if orig else []:
            flip(p, pos)
            doc = r.call("verify", ref=ids[0])
            assert not doc["ok"] and doc["results"][0]["code"] == "E_PAYLOAD_HASH_MISMATCH", (p, pos, doc)
            os.chmod(p, 0o644)
            p.write_bytes(orig)
            os.chmod(p, mode)
    # Content change of an empty file / a symlink target / a mode.
    (snap / "link").unlink()
    os.symlink("sub/f0.txt", snap / "link")
    assert codes(r.call("verify", ref=ids[0]))[ids[0]] == "E_PAYLOAD_HASH_MISMATCH"


@pytest.mark.parametrize("which", [0, 1])
def test_deleted_and_added_files(repo, which):
    r, root, ids = repo
    sid = ids[which]
    snap = root / ".jvs" / "snapshots" / sid
    victim = snap / "sub" / "f3.txt"
    data, mode = victim.read_bytes(), os.lstat(victim).st_mode & 0o7777
    victim.unlink()
    doc = r.call("verify", ref=sid)
    res = doc["results"][0]
    assert not doc["ok"] and res["code"] == "E_PAYLOAD_HASH_MISMATCH" and "sub/f3.txt" in res["error"]
    victim.write_bytes(data)
    os.chmod(victim, mode)
    assert r.call("verify", ref=sid)["ok"]
    for extra in (snap / "added.txt", snap / "sub" / "added.txt"):
        extra.write_text("smuggled\n")
        doc = r.call("verify", ref=sid)
        res = doc["results"][0]
        assert not doc["ok"] and res["code"] == "E_PAYLOAD_HASH_MISMATCH" and "added.txt" in res["error"]
        extra.unlink()
    (snap / "newdir").mkdir()
    assert codes(r.call("verify", ref=sid))[sid] == "E_PAYLOAD_HASH_MISMATCH"
    (snap / "newdir").rmdir()
    assert r.call("verify", all=True)["ok"]


def test_missing_payload_directory_of_a_published_snapshot(repo):
    r, root, ids = repo
    snap = root / ".jvs" / "snapshots" / ids[0]
    for p in sorted(snap.rglob("*"), reverse=True):
        os.chmod(p.parent, 0o755)
    import shutil
    shutil.rmtree(snap)
    doc = r.call("verify", all=True, payload=False)
    assert not doc["ok"] and codes(doc)[ids[0]] == "E_SNAPSHOT_INCOMPLETE"


def test_upstream_fixture_tampering(lib, upstream):
    """Snapshots the Go tool wrote (no manifest): deletion, addition and flips are still caught."""
    r, _ = lib.open(upstream)
    try:
        doc = r.call("verify", all=True)
        assert doc["ok"] and doc["audit"]["ok"]
        sid = doc["results"][0]["snapshot_id"]
        snap = upstream / ".jvs" / "snapshots" / sid
        (snap / "added.txt").write_text("x")
        assert codes(r.call("verify", ref=sid))[sid] == "E_PAYLOAD_HASH_MISMATCH"
        (snap / "added.txt").unlink()
        flip(snap / ".READY", 20)
        assert codes(r.call("verify", ref=sid))[sid] == "E_READY_MISMATCH"
        flip(snap / ".READY", 20)
        audit = upstream / ".jvs" / "audit" / "audit.jsonl"
        flip(audit, 40)
        assert r.call("verify", all=True)["audit"]["code"] == "E_AUDIT_CHAIN_BROKEN"
    finally:
        r.close()


def test_mode_bits_outside_the_go_payload_hash_are_caught_through_the_manifest(repo):
    r, root, ids = repo
    p = root / ".jvs" / "snapshots" / ids[1] / "top.txt"
    mode = os.lstat(p).st_mode & 0o7777
    os.chmod(p, mode | 0o4000)  # setuid: the Go payload hash keeps only 0777
    res = r.call("verify", ref=ids[1])["results"][0]
    assert res["code"] == "E_PAYLOAD_HASH_MISMATCH" and "top.txt" in res["error"]
    os.chmod(p, mode)
    assert r.call("verify", ref=ids[1])["ok"]


def test_a_damaged_manifest_is_a_cache_problem_not_a_damaged_snapshot(repo):
    """A manifest is derived data: verify judges the snapshot by its files; doctor rebuilds the
    manifest; restore and diff never trust a manifest that disagrees with the descriptor."""
    r, root, ids = repo
    m = root / ".jvs" / "manifests" / ids[0]
    orig = m.read_bytes()
    pos = orig.index(b"sub/f2.txt") - 10  # inside the content hash just before the path
    flip(m, pos)
    assert r.call("verify", all=True)["ok"]
    doc = r.call("doctor")
    bad = [f for f in doc["findings"] if f["code"] == "manifest_mismatch"]
    assert len(bad) == 1 and bad[0]["repair"] == "rebuild_manifest" and ids[0] in bad[0]["message"]
    # restore still reproduces the snapshot exactly, from its files
    main = root / "main"
    r.call("restore", ref=ids[0])
    assert (main / "top.txt").read_text() == "top\n" and (main / "sub" / "f2.txt").read_text() == "file 2\n" * 30
    assert r.call("diff", to=ids[0], **{"from": ids[0]})["totals"] == {"added": 0, "removed": 0, "modified": 0}
    rep = r.call("doctor", repair=True)
    assert [x["done"] for x in rep["repairs"] if x["id"] == "rebuild_manifest"] == [True]
    assert m.read_bytes() == orig
    assert not [f for f in r.call("doctor", strict=True)["findings"] if f["severity"] != "info"]


def test_every_mutating_operation_appends_exactly_one_record_and_readers_none(lib, tmp_path):
    r, _ = lib.open(tmp_path / "a", init=True)
    root = tmp_path / "a"
    log = root / ".jvs" / "audit" / "audit.jsonl"

    def events():
        return [json.loads(l)["event_type"] for l in log.read_text().splitlines()] if log.exists() else []

    try:
        (root / "main" / "f.txt").write_text("1")
        s1 = r.call("snapshot")["snapshot"]["snapshot_id"]
        (root / "main" / "f.txt").write_text("2")
        r.call("snapshot")
        steps = [
            ("restore", {"ref": s1}, "restore"),
            ("restore", {"ref": "HEAD"}, "restore"),
            ("worktree_create", {"name": "c"}, "worktree_create"),
            ("worktree_fork", {"name": "f", "from": s1}, "worktree_create"),
            ("worktree_rename", {"name": "c", "new_name": "c2"}, "worktree_rename"),
            ("worktree_remove", {"name": "c2"}, "worktree_remove"),
            ("gc_pin", {"ref": s1}, "gc_pin"),
            ("gc_unpin", {"ref": s1}, "gc_unpin"),
            ("gc_plan", {}, "gc_plan"),
            ("config_set", {"key": "default_tags", "value": ["t"]}, "config_set"),
            ("config_unset", {"key": "default_tags"}, "config_unset"),
        ]
        readers = [("history", {}), ("verify", {}), ("diff", {}), ("doctor", {"strict": True}), ("info", {}),
                   ("resolve", {"ref": s1}), ("worktree_list", {}), ("gc_pins", {}), ("config_show", {})]
        for method, opts, event in steps:
            before = events()
            doc = r.call(method, **opts)
            assert events() == before + [event], method
            if method == "gc_plan":
                before = events()
                r.call("gc_run", plan_id=doc["plan_id"])
                assert events() == before + ["gc_run"]
        (root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp").mkdir()
        before = events()
        r.call("doctor", repair=True)
        assert events() == before + ["repair"]
        before = events()
        for method, opts in readers:
            r.call(method, **opts)
        assert events() == before
        assert events()[:2] == ["snapshot_create", "snapshot_create"]
        v = r.call("verify", all=True)
        assert v["ok"] and v["audit"]["records"] == len(events())
    finally:
        r.close()


def test_audit_append_reads_only_the_tail_of_the_log(repo):
    """An append costs the same whatever the log's length: behind the last record lies a 64 GiB hole
    (a sparse file); reading it would take minutes and more memory than the machine has."""
    r, root, ids = repo
    log = root / ".jvs" / "audit" / "audit.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    last = json.loads(lines[-1])
    with open(log, "r+b") as f:
        f.truncate(0)
        f.seek(64 << 30)
        f.write(b"\n" + lines[-1])
    try:
        import time
        t0 = time.monotonic()
        (root / "main" / "top.txt").write_text("top v3\n")
        doc = r.call("snapshot", note="third")
        elapsed = time.monotonic() - t0
        assert "warnings" not in doc, doc["warnings"]
        with open(log, "rb") as f:
            f.seek(-4096, os.SEEK_END)
            tail = f.read().splitlines()[-1]
        rec = json.loads(tail)
        assert rec["event_type"] == "snapshot_create" and rec["prev_hash"] == last["record_hash"]
        assert elapsed < 5, elapsed
    finally:
        log.write_bytes(b"".join(lines))  # the fixture's later checks need a readable log
