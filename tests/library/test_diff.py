"""diff: snapshot<->snapshot and snapshot<->live worktree, on real files through the C ABI."""
import hashlib
import os
import time

import pytest

from libjvs_driver import JvsError, snap, tree_listing


def sha(b):
    return hashlib.sha256(b).hexdigest()


def by_path(lst):
    return {c["path"]: c for c in lst}


def base_tree(main):
    (main / "sub").mkdir()
    (main / "sub" / "a.txt").write_text("alpha\n")
    (main / "b.txt").write_text("bravo\n")
    (main / "gone.txt").write_text("bye\n")
    (main / "script.sh").write_text("#!/bin/sh\n")
    os.chmod(main / "script.sh", 0o644)
    os.symlink("b.txt", main / "link")
    (main / "olddir").mkdir()
    (main / "olddir" / "x").write_text("x")


def mutate(main):
    (main / "b.txt").write_text("bravo two\n")          # content
    os.chmod(main / "script.sh", 0o755)                  # mode only
    os.unlink(main / "link")
    os.symlink("sub/a.txt", main / "link")              # symlink target
    (main / "gone.txt").unlink()                         # removed
    (main / "new.txt").write_text("new\n")               # added
    (main / "newdir").mkdir()                            # added dir
    (main / "olddir" / "x").unlink()
    (main / "olddir").rmdir()                            # removed dir
    os.chmod(main / "sub", 0o700)                        # dir mode


def check_full(doc):
    add, rem, mod = by_path(doc["added"]), by_path(doc["removed"]), by_path(doc["modified"])
    assert set(add) == {"new.txt", "newdir"}
    assert set(rem) == {"gone.txt", "olddir", "olddir/x"}
    assert set(mod) == {"b.txt", "script.sh", "link", "sub"}
    assert add["new.txt"]["type"] == "file" and add["new.txt"]["new_size"] == 4
    assert add["newdir"]["type"] == "dir"
    assert rem["gone.txt"]["old_hash"] == sha(b"bye\n")
    assert rem["olddir"]["type"] == "dir"
    b = mod["b.txt"]
    assert b["change"] == "content" and b["old_hash"] == sha(b"bravo\n") and b["old_size"] == 6
    assert b["new_size"] == 10
    s = mod["script.sh"]
    assert s["change"] == "mode" and s["old_mode"] == "0644" and s["new_mode"] == "0755"
    l = mod["link"]
    assert l["type"] == "symlink" and l["change"] == "target"
    assert l["old_target"] == "b.txt" and l["new_target"] == "sub/a.txt"
    d = mod["sub"]
    assert d["type"] == "dir" and d["change"] == "mode" and d["new_mode"] == "0700"
    assert doc["totals"] == {"added": 2, "removed": 3, "modified": 4}
    for k in ("added", "removed", "modified"):
        paths = [c["path"] for c in doc[k]]
        assert paths == sorted(paths)


def test_snapshot_vs_snapshot(repo):
    r, root = repo
    main = root / "main"
    base_tree(main)
    a = snap(r, note="a")
    mutate(main)
    b = snap(r, note="b")
    doc = r.call("diff", **{"from": a, "to": b})
    assert doc["kind"] == "diff" and doc["from_snapshot_id"] == a and doc["to_snapshot_id"] == b
    assert "to_worktree" not in doc
    check_full(doc)
    assert by_path(doc["modified"])["b.txt"]["new_hash"] == sha(b"bravo two\n")
    # reversed direction swaps added and removed
    rev = r.call("diff", **{"from": b, "to": a})
    assert {c["path"] for c in rev["added"]} == {"gone.txt", "olddir", "olddir/x"}
    assert {c["path"] for c in rev["removed"]} == {"new.txt", "newdir"}


def test_head_vs_live_worktree_is_read_only(repo):
    r, root = repo
    main = root / "main"
    base_tree(main)
    a = snap(r, note="a")
    time.sleep(0.02)
    mutate(main)
    before = tree_listing(root)
    doc = r.call("diff")
    assert doc["from_snapshot_id"] == a and doc["to_worktree"] == "main" and "to_snapshot_id" not in doc
    check_full(doc)
    assert tree_listing(root) == before
    # from only: that snapshot vs the live worktree
    doc2 = r.call("diff", **{"from": a})
    assert doc2["totals"] == doc["totals"]


def test_clean_worktree_has_no_changes_and_stat(repo):
    r, root = repo
    main = root / "main"
    base_tree(main)
    (main / "big.bin").write_bytes(os.urandom(1 << 20))
    snap(r)
    time.sleep(0.02)
    doc = r.call("diff")
    assert doc["totals"] == {"added": 0, "removed": 0, "modified": 0}
    assert doc["added"] == [] and doc["removed"] == [] and doc["modified"] == []
    (main / "b.txt").write_text("bravo\n")  # same content, rewritten: not a change
    (main / "c.txt").write_text("c")
    st = r.call("diff", stat=True)
    assert st["totals"] == {"added": 1, "removed": 0, "modified": 0}
    assert "added" not in st and "removed" not in st and "modified" not in st


def test_same_size_content_change_detected_despite_cache(repo):
    r, root = repo
    main = root / "main"
    (main / "f.txt").write_text("aaaa")
    snap(r)
    time.sleep(0.02)
    (main / "f.txt").write_text("bbbb")
    doc = r.call("diff")
    m = by_path(doc["modified"])["f.txt"]
    assert m["change"] == "content" and m["new_hash"] == sha(b"bbbb")


def test_type_change(repo):
    r, root = repo
    main = root / "main"
    (main / "p").write_text("file")
    snap(r)
    (main / "p").unlink()
    os.symlink("elsewhere", main / "p")
    m = by_path(r.call("diff")["modified"])["p"]
    assert m["change"] == "type" and m["type"] == "symlink" and m["old_type"] == "file"
    assert m["new_target"] == "elsewhere"


def test_partial_snapshot_compares_only_its_paths(repo):
    r, root = repo
    main = root / "main"
    base_tree(main)
    snap(r, note="full")
    p = snap(r, note="part", paths=["sub"])
    (main / "sub" / "a.txt").write_text("alpha changed\n")
    (main / "sub" / "z.txt").write_text("z")
    (main / "b.txt").write_text("outside the partial paths\n")
    doc = r.call("diff", **{"from": p})
    assert {c["path"] for c in doc["modified"]} == {"sub/a.txt"}
    assert {c["path"] for c in doc["added"]} == {"sub/z.txt"}
    assert doc["removed"] == []


def test_errors(repo, lib, tmp_path):
    r, root = repo
    with pytest.raises(JvsError) as e:
        r.call("diff")
    assert e.value.code == "E_NO_SNAPSHOTS"
    (root / "main" / "f").write_text("f")
    snap(r)
    with pytest.raises(JvsError) as e:
        r.call("diff", **{"from": "nosuchref"})
    assert e.value.code == "E_REF_NOT_FOUND"
    with pytest.raises(JvsError) as e:
        r.call("diff", worktree="nope")
    assert e.value.code == "E_WORKTREE_NOT_FOUND"


def test_go_written_snapshots_without_manifests(lib, upstream):
    r, _ = lib.open(upstream)
    try:
        snaps = r.call("history", all=True)["snapshots"]
        full = [s["snapshot_id"] for s in snaps if not s.get("partial_paths")]
        old, new = full[-1], full[0]
        doc = r.call("diff", **{"from": old, "to": new})
        assert doc["from_snapshot_id"] == old and doc["to_snapshot_id"] == new
        assert ".READY" not in {c["path"] for k in ("added", "removed", "modified") for c in doc[k]}
        same = r.call("diff", **{"from": new, "to": new})
        assert same["totals"] == {"added": 0, "removed": 0, "modified": 0}
        live = r.call("diff")  # main's head vs main, where the Go tool left a copy of .READY
        assert ".READY" not in {c["path"] for k in ("added", "removed", "modified") for c in live[k]}
    finally:
        r.close()


def test_snapshot_sides_come_from_stored_hashes_not_from_reading_files(repo):
    """Proof that diff reads no snapshot file: change a stored copy behind the manifest's back (same
    size) and diff still reports what the manifest vouches for -- verify is what reads files."""
    r, root = repo
    main = root / "main"
    base_tree(main)
    a = snap(r, note="a")
    mutate(main)
    b = snap(r, note="b")
    stored = root / ".jvs" / "snapshots" / b / "b.txt"
    os.chmod(stored, 0o644)
    stored.write_text("XXXXX two\n")  # same size as "bravo two\n"
    os.chmod(stored, 0o644)
    doc = r.call("diff", **{"from": a, "to": b})
    assert by_path(doc["modified"])["b.txt"]["new_hash"] == sha(b"bravo two\n")
    assert r.call("verify", ref=b)["results"][0]["code"] == "E_PAYLOAD_HASH_MISMATCH"
