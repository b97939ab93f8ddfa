"""Byte compatibility with the Go implementation, both ways.

1. The repository the Go tool wrote opens, lists, verifies and restores.
2. What we write hashes exactly as the Go tool's algorithms do (tests/oracle/jvs_oracle.py is the project's oracle).
"""
import json
import os
import stat
import subprocess

import pytest

from libjvs_driver import REF_PY, JvsError

UPSTREAM_IDS = {
    "1795582641418-194a5047": ("main", "first <note> & co", ["v1", "rel"]),
    "1795582641438-a409f36d": ("main", "second", ["v2"]),
    "1795582641447-75d802ef": ("main", "partial data", []),
    "1795582641564-007844fb": ("feature", "feature work", ["feat"]),
}


def ref_payload(path):
    return subprocess.run(["python3", str(REF_PY), "payload", str(path)], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]


def test_upstream_repo_opens_and_lists_everything(lib, upstream):
    repo, doc = lib.open(upstream / "main" / "sub")
    assert doc["kind"] == "repo" and doc["worktree"] == "main" and doc["format_version"] == 1
    hist = repo.call("history", all=True)
    assert {s["snapshot_id"] for s in hist["snapshots"]} == set(UPSTREAM_IDS)
    for s in hist["snapshots"]:
        wt, note, tags = UPSTREAM_IDS[s["snapshot_id"]]
        assert (s["worktree_name"], s.get("note", ""), s.get("tags", [])) == (wt, note, tags)
    lineage = repo.call("history")  # main is detached at the first snapshot
    assert [s["snapshot_id"] for s in lineage["snapshots"]] == ["1795582641418-194a5047"]
    wts = {w["name"]: w for w in repo.call("worktree_list")["worktrees"]}
    assert set(wts) == {"main", "feature"}
    assert wts["main"]["detached"] is True
    assert wts["feature"]["base_snapshot_id"] == "1795582641418-194a5047"
    info = repo.call("info")
    assert info["total_snapshots"] == 4 and info["total_worktrees"] == 2
    repo.close()


def test_every_upstream_snapshot_verifies(lib, upstream):
    repo, _ = lib.open(upstream)
    doc = repo.call("verify", all=True)
    assert doc["ok"] is True
    assert len(doc["results"]) == 4
    assert all(r["checksum_valid"] and r["payload_hash_valid"] for r in doc["results"])


@pytest.mark.parametrize("sid", sorted(UPSTREAM_IDS))
def test_restoring_each_upstream_snapshot_reproduces_its_payload_hash(lib, upstream, sid):
    wt = UPSTREAM_IDS[sid][0]
    path = upstream / ("main" if wt == "main" else f"worktrees/{wt}")
    repo, _ = lib.open(path)
    desc = json.loads((upstream / ".jvs" / "descriptors" / f"{sid}.json").read_text())
    ino = os.stat(path).st_ino
    repo.call("restore", ref=sid)
    assert os.stat(path).st_ino == ino, "the worktree root must keep its inode"
    assert not (path / ".READY").exists(), "no control file may leak into the worktree"
    if desc.get("partial_paths"):
        # A partial snapshot restores its paths only; compare those against the snapshot copy.
        for p in desc["partial_paths"]:
            assert ref_payload(path / p) == ref_payload(upstream / ".jvs" / "snapshots" / sid / p)
    else:
        assert ref_payload(path) == desc["payload_root_hash"]


def test_partial_restore_leaves_other_files_alone(lib, upstream):
    repo, _ = lib.open(upstream / "main")
    (upstream / "main" / "mine.txt").write_text("unsaved but outside the partial paths")
    repo.call("restore", ref="1795582641447-75d802ef")
    assert (upstream / "main" / "mine.txt").exists()
    assert (upstream / "main" / "a.txt").exists()
    assert (upstream / "main" / "data" / "blob.bin").stat().st_size == 100000


def test_snapshot_in_upstream_repo_is_verifiable_by_go_rules(lib, ref, upstream):
    repo, _ = lib.open(upstream / "worktrees" / "feature")
    (upstream / "worktrees" / "feature" / "g.txt").write_text("new")
    doc = repo.call("snapshot", note="ours", tags=["ours"])
    sid = doc["snapshot"]["snapshot_id"]
    assert doc["snapshot"]["parent_id"] == "1795582641564-007844fb"
    desc_path = upstream / ".jvs" / "descriptors" / f"{sid}.json"
    desc = json.loads(desc_path.read_text())
    assert ref.descriptor_checksum(desc)[0] == desc["descriptor_checksum"]
    assert ref_payload(upstream / ".jvs" / "snapshots" / sid) == desc["payload_root_hash"]
    # The worktree had the Go tool's leaked .READY at its root; it is not part of our snapshot.
    assert ref_payload(upstream / "worktrees" / "feature") != "" and not (
        upstream / ".jvs" / "snapshots" / sid / "g.txt").is_symlink()
    check_audit_chain(ref, upstream / ".jvs" / "audit" / "audit.jsonl", expect_records=6)


def check_audit_chain(ref, path, expect_records):
    prev = ""
    lines = path.read_text().splitlines()
    assert len(lines) == expect_records
    for line in lines:
        rec = json.loads(line)
        assert rec["prev_hash"] == prev
        body = dict(rec, record_hash="")
        import hashlib
        assert hashlib.sha256(ref.canonical(body).encode()).hexdigest() == rec["record_hash"]
        prev = rec["record_hash"]


def make_awkward_tree(root):
    (root / "a").mkdir()
    (root / "a" / "b").write_text("in a")
    (root / "a.b").write_text("dot")
    (root / "café ünïcødé.txt").write_text("nfc?")
    (root / "nested" / "deep" / "empty").mkdir(parents=True)
    (root / "nested" / ".READY").write_text("user file named like the marker")
    (root / "x0600").write_text("private")
    os.chmod(root / "x0600", 0o600)
    (root / "x0755").write_text("#!/bin/sh\n")
    os.chmod(root / "x0755", 0o755)
    (root / "x0777").write_text("open")
    os.chmod(root / "x0777", 0o777)
    (root / "bin.dat").write_bytes(os.urandom(70000) + b"\0\xff")
    os.symlink("a/b", root / "link-ok")
    os.symlink("does/not/exist", root / "link-dangling")
    os.symlink("../../outside", root / "link-out")
    (root / "dir0700").mkdir(mode=0o700)
    os.chmod(root / "dir0700", 0o700)


def test_generated_trees_hash_exactly_like_the_go_tool(lib, ref, tmp_path):
    os.umask(0o022)
    repo, _ = lib.open(tmp_path / "r", init=True)
    main = tmp_path / "r" / "main"
    make_awkward_tree(main)
    notes = ["plain", "first <note> & co", "ctl \b\f\t\n\x01 \u2028 \u2029 é 漢字 \x7f", ""]
    for i, note in enumerate(notes):
        (main / "counter").write_text(str(i))
        tags = ["t%d" % i, "v1.%d" % i] if i % 2 == 0 else []
        doc = repo.call("snapshot", note=note, tags=tags)
        sid = doc["snapshot"]["snapshot_id"]
        desc_file = tmp_path / "r" / ".jvs" / "descriptors" / f"{sid}.json"
        desc = json.loads(desc_file.read_text())
        assert ref.descriptor_checksum(desc)[0] == desc["descriptor_checksum"]
        # Our hash of the worktree, the hash of our snapshot copy, and Go's algorithm agree.
        assert ref_payload(main) == desc["payload_root_hash"]
        assert ref_payload(tmp_path / "r" / ".jvs" / "snapshots" / sid) == desc["payload_root_hash"]
    # Modes survive exactly (no umask loss), in the snapshot and after a restore.
    sid = doc["snapshot"]["snapshot_id"]
    snap = tmp_path / "r" / ".jvs" / "snapshots" / sid
    assert stat.S_IMODE(os.lstat(snap / "x0777").st_mode) == 0o777
    assert stat.S_IMODE(os.lstat(snap / "dir0700").st_mode) == 0o700
    assert os.readlink(snap / "link-dangling") == "does/not/exist"
    check_audit_chain(ref, tmp_path / "r" / ".jvs" / "audit" / "audit.jsonl", expect_records=len(notes))
    partial = repo.call("snapshot", note="p", paths=["nested/deep", "a.b"])
    pdesc = json.loads((tmp_path / "r" / ".jvs" / "descriptors" / f"{partial['snapshot']['snapshot_id']}.json").read_text())
    assert pdesc["partial_paths"] == ["nested/deep", "a.b"]
    assert ref.descriptor_checksum(pdesc)[0] == pdesc["descriptor_checksum"]
    assert ref_payload(tmp_path / "r" / ".jvs" / "snapshots" / pdesc["snapshot_id"]) == pdesc["payload_root_hash"]


def test_format_version_newer_than_ours_is_refused_untouched(lib, upstream):
    from libjvs_driver import tree_listing
    (upstream / ".jvs" / "format_version").write_text("2\n")
    before = tree_listing(upstream)
    with pytest.raises(JvsError) as e:
        lib.open(upstream / "main")
    assert e.value.code == "E_FORMAT_UNSUPPORTED"
    assert tree_listing(upstream) == before


def test_corrupt_descriptor_is_reported_by_verify(lib, upstream):
    d = upstream / ".jvs" / "descriptors" / "1795582641438-a409f36d.json"
    d.write_text(d.read_text().replace("second", "secomd"))
    repo, _ = lib.open(upstream)
    doc = repo.call("verify", all=True)
    bad = [r for r in doc["results"] if r["snapshot_id"] == "1795582641438-a409f36d"][0]
    assert doc["ok"] is False and bad["code"] == "E_CHECKSUM_MISMATCH" and bad["tamper_detected"]
    with pytest.raises(JvsError) as e:
        repo.call("restore", ref="1795582641438-a409f36d")
    assert e.value.code == "E_CHECKSUM_MISMATCH"
