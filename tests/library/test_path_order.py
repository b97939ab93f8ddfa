"""Restore and diff pair a snapshot's manifest with the worktree's scan by merging two lists in path
order (component by component: `a` and everything below it before `a-b` and `a.c`, though '-' and '.'
sort before '/' bytewise). Names that sort differently the two ways, and a manifest the descriptor
vouches for but that lists siblings in another order, must give exactly what an index would."""
import os

import crafting  # tests/library/crafting.py
from libjvs_driver import snap, tree_listing

# '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): bytewise `a-b` < `a.c` < `a/x`, by component `a/x` first.
NAMES = ["a", "a/x", "a/x/y.txt", "a/z.txt", "a-b", "a-b/q.txt", "a.c", "a0", "a 1"]


def make_tree(main):
    for rel in NAMES:
        p = main / rel
        if rel.endswith(".txt") or rel in ("a.c", "a0", "a 1"):
            p.write_text(rel + "\n")
        else:
            p.mkdir()


def mutate(main):
    (main / "a" / "x" / "y.txt").write_text("changed\n")   # modified below `a`
    (main / "a-b" / "q.txt").unlink()                      # removed below `a-b`
    (main / "a-b" / "new.txt").write_text("new\n")         # added below `a-b`
    (main / "a.c").unlink()
    (main / "a.c").mkdir()                                 # a file became a directory
    (main / "a.c" / "in.txt").write_text("in\n")
    (main / "a0").unlink()                                 # removed
    (main / "a" / "w").mkdir()                             # added directory (goes whole on restore)
    (main / "a" / "w" / "deep.txt").write_text("deep\n")


def paths(doc, key):
    return [c["path"] for c in doc[key]]


def test_diff_pairs_every_path_and_lists_bytewise(repo):
    r, root = repo
    main = root / "main"
    make_tree(main)
    a = snap(r, note="a")
    mutate(main)
    live = r.call("diff")
    assert paths(live, "added") == ["a-b/new.txt", "a.c/in.txt", "a/w", "a/w/deep.txt"]
    assert paths(live, "removed") == ["a-b/q.txt", "a0"]
    assert paths(live, "modified") == ["a.c", "a/x/y.txt"]
    assert live["totals"] == {"added": 4, "removed": 2, "modified": 2}
    assert r.call("diff", stat=True)["totals"] == live["totals"]
    b = snap(r, note="b")
    between = r.call("diff", **{"from": a, "to": b})
    for key in ("added", "removed", "modified"):
        assert paths(between, key) == paths(live, key)
    assert r.call("diff", stat=True)["totals"] == {"added": 0, "removed": 0, "modified": 0}


def snapshot_then_mutate(r, main):
    """The tree snapshotted, then changed: (its snapshot id, its listing at the snapshot)."""
    make_tree(main)
    a = snap(r, note="a")
    want = tree_listing(main)
    mutate(main)
    return a, want


def test_restore_across_names_that_sort_differently(repo):
    r, root = repo
    main = root / "main"
    a, want = snapshot_then_mutate(r, main)
    doc = r.call("restore", ref=a)
    assert tree_listing(main) == want
    changes = [(c["path"], c["action"]) for c in doc["changes"]]
    # The snapshot's paths in path order (directories whose entries changed get their mtime back),
    # then what is not in the snapshot, deepest first: `a/w` goes whole.
    assert changes == [("a", "metadata"), ("a/x/y.txt", "update"), ("a-b", "metadata"), ("a-b/q.txt", "create"),
                       ("a.c", "rmdir"), ("a.c", "create"), ("a0", "create"),
                       ("a.c/in.txt", "delete"), ("a-b/new.txt", "delete"), ("a/w", "rmdir")]
    assert r.call("diff", stat=True)["totals"] == {"added": 0, "removed": 0, "modified": 0}


def test_a_manifest_out_of_path_order_restores_and_diffs_as_the_ordered_one(repo):
    r, root = repo
    main = root / "main"
    a, want = snapshot_then_mutate(r, main)
    plan = r.call("restore", ref=a, dry_run=True)["changes"]
    diff = r.call("diff", **{"from": a})
    # Bytewise order, siblings reversed: parents still come before their children.
    entries = crafting.read_manifest(root, a)
    entries.sort(key=lambda e: e[5], reverse=True)
    entries.sort(key=lambda e: e[5].count(b"/"))
    crafting.write_manifest_trusted(root, a, entries)
    assert [e[5] for e in crafting.read_manifest(root, a)] != sorted(e[5] for e in entries)
    assert r.call("restore", ref=a, dry_run=True)["changes"] == plan
    assert r.call("diff", **{"from": a}) == diff
    r.call("restore", ref=a)
    assert tree_listing(main) == want
    assert r.call("verify", all=True)["ok"]
