"""doctor and gc never destroy data that may be a user's (issue 8, item 4): a complete snapshot that
lost its descriptor is published again (descriptor rebuilt from .READY, the audit record and its
files), anything doctor cannot prove is debris is kept and reported, and `repair` with `dry_run` lists
every repair before anything is done."""
import json
import os
import time

import pytest

from libjvs_driver import JvsError, snap, tree_listing


def lineage(r):
    return [d["snapshot_id"] for d in r.call("history")["snapshots"]]


def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


@pytest.fixture
def two(repo):
    r, root = repo
    main = root / "main"
    (main / "a.txt").write_text("a\n")
    (main / "sub").mkdir()
    (main / "sub" / "s.txt").write_text("s\n")
    a = snap(r, note="first", tags=["v1"])
    (main / "a.txt").write_text("b\n")
    b = snap(r, note="second")
    return r, root, a, b


def test_a_snapshot_without_its_descriptor_is_published_again_exactly(two):
    """The reproduction of issue 8 item 4: A's descriptor file is gone, its .READY is there, the
    audit log records its creation and B names it as parent."""
    r, root, a, b = two
    desc = root / ".jvs" / "descriptors" / f"{a}.json"
    original = desc.read_bytes()
    desc.unlink()
    doc = r.call("doctor", strict=True)
    [f] = [f for f in doc["findings"] if f["code"] == "snapshot_unpublished"]
    assert f["repair"] == "republish_snapshot" and "exactly" in f["message"]
    assert r.call("history")["truncated"]
    # gc never takes it, however old the directory
    age(root / ".jvs" / "snapshots" / a, 7200)
    assert a not in r.call("gc_plan", keep_min_age="0")["candidates"]
    rep = r.call("doctor", repair=True)
    assert [(x["id"], x["action"], x["done"]) for x in rep["repairs"]] == [("republish_snapshot", "republish", True)]
    assert desc.read_bytes() == original  # its checksum matched .READY: the very same descriptor
    assert lineage(r) == [b, a]
    assert r.call("resolve", ref="v1")["snapshot"]["snapshot_id"] == a
    assert r.call("verify", all=True)["ok"]
    doc = r.call("doctor", strict=True)
    assert doc["healthy"] and not [x for x in doc["findings"] if x["severity"] != "info"], doc
    audit = [json.loads(line) for line in (root / ".jvs" / "audit" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["event_type"] == "repair" and audit[-1]["details"]["repairs"][0]["id"] == "republish_snapshot"


def test_a_go_written_snapshot_without_its_descriptor_is_republished_with_a_new_checksum(lib, upstream):
    """The Go tool's audit record holds no created_at, parent or tags: the descriptor is rebuilt from
    what there is, its checksum recomputed and .READY rewritten to match; the files are untouched."""
    r, _ = lib.open(upstream)
    try:
        ids = [d["snapshot_id"] for d in r.call("history", all=True)["snapshots"]]
        sid = ids[-1]
        snapdir = upstream / ".jvs" / "snapshots" / sid
        files = tree_listing(snapdir)
        (upstream / ".jvs" / "descriptors" / f"{sid}.json").unlink()
        doc = r.call("doctor", repair=True)
        [f] = [f for f in doc["findings"] if f["code"] == "snapshot_unpublished"]
        assert f["repaired"] is True and "new checksum" in f["message"] and "created_at" in f["message"]
        v = r.call("verify", ref=sid)
        assert v["ok"], v
        assert [x for x in tree_listing(snapdir) if x[0] != ".READY"] == [x for x in files if x[0] != ".READY"]
        assert sid in [d["snapshot_id"] for d in r.call("history", all=True)["snapshots"]]
    finally:
        r.close()


def test_what_cannot_be_proven_complete_is_kept_and_reported(two):
    r, root, a, b = two
    snaps = root / ".jvs" / "snapshots"
    (root / ".jvs" / "descriptors" / f"{a}.json").unlink()
    (snaps / a / "a.txt").chmod(0o644)
    (snaps / a / "a.txt").write_text("changed after the fact\n")
    stray = snaps / "1700000000000-0badcafe"  # no .READY: nothing says it was ever complete
    stray.mkdir()
    (stray / "notes.txt").write_text("somebody's\n")
    odd = snaps / "not-a-snapshot"
    odd.mkdir()
    for d in (snaps / a, stray, odd):
        age(d, 7200)
    before = tree_listing(snaps)
    doc = r.call("doctor", repair=True)
    found = {f["path"]: f for f in doc["findings"] if f["code"] == "snapshot_unpublished"}
    assert set(found) == {str(snaps / a), str(stray), str(odd)}
    assert all("repair" not in f and "kept" in f["message"] for f in found.values())
    assert "do not hash" in found[str(snaps / a)]["message"]
    assert ".READY" in found[str(stray)]["message"]
    assert tree_listing(snaps) == before  # nothing removed
    # gc: a directory with a .READY marker is never a candidate; one without may go after an hour
    cands = r.call("gc_plan", keep_min_age="0")["candidates"]
    assert a not in cands and stray.name in cands


def test_repair_dry_run_lists_every_repair_and_changes_nothing(two):
    r, root, a, b = two
    jvs = root / ".jvs"
    (jvs / "descriptors" / f"{a}.json").unlink()
    (jvs / "snapshots" / "1700000000000-deadbeef.tmp").mkdir()
    (jvs / "manifests" / "1700000000001-deadbeef").write_text("x")
    before = tree_listing(root)
    doc = r.call("doctor", repair=True, dry_run=True)
    assert doc["dry_run"] is True
    plan = {(x["id"], x["action"]) for x in doc["repairs"]}
    assert plan == {("republish_snapshot", "republish"), ("clean_tmp", "remove"), ("remove_orphan_manifest", "remove")}
    assert all(x["done"] is False for x in doc["repairs"]) and all("repaired" not in f for f in doc["findings"])
    assert tree_listing(root) == before
    done = r.call("doctor", repair=True)
    assert {(x["id"], x["action"]) for x in done["repairs"] if x["done"]} == plan
    assert r.call("verify", all=True)["ok"]


def test_a_snapshot_whose_worktree_is_unknown_is_kept(two):
    """No audit record names the snapshot (the log was rotated away, say): its worktree is unknown,
    so doctor keeps it and says why instead of guessing."""
    r, root, a, b = two
    (root / ".jvs" / "descriptors" / f"{a}.json").unlink()
    log = root / ".jvs" / "audit" / "audit.jsonl"
    log.write_text("")
    (root / ".jvs" / "audit_anchor.json").unlink()
    doc = r.call("doctor", repair=True)
    [f] = [f for f in doc["findings"] if f["code"] == "snapshot_unpublished"]
    assert "repair" not in f and "worktree is unknown" in f["message"]
    assert (root / ".jvs" / "snapshots" / a).is_dir()
