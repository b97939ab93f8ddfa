"""history: lineage, filters, --all, limits, text layout and markers."""

import re

from cli_helpers import EXIT_NOT_FOUND, write


def ids(doc):
    return [s["snapshot_id"] for s in doc["snapshots"]]


def test_empty_history(repo, jvs):
    doc = jvs.json("history")
    assert doc["kind"] == "history" and doc["snapshots"] == [] and doc["worktree"] == "main"
    assert jvs.ok("history").stdout == "No snapshots yet.\n"


def test_lineage_newest_first(repo, jvs):
    a = repo.snapshot("alpha", "--tag", "v1")
    b = repo.snapshot("beta")
    c = repo.snapshot("gamma fix", "--tag", "v2,rel")
    doc = jvs.json("history")
    assert doc["mode"] == "lineage"
    assert ids(doc) == [c, b, a]
    assert doc["head_snapshot_id"] == c == doc["latest_snapshot_id"]


def test_text_layout(repo, jvs):
    a = repo.snapshot("alpha", "--tag", "v1")
    b = repo.snapshot(None, "--tag", "x,y")
    out = jvs.ok("history").stdout.splitlines()
    created = {s["snapshot_id"]: s["created_at"] for s in jvs.json("history")["snapshots"]}
    # full ids, UTC (TZ=UTC) date and minute of created_at, note, tags, [HEAD] on latest
    assert out[0] == f"{b}  {created[b][:10]} {created[b][11:16]}  (no note)  [x,y]  [HEAD]"
    assert out[1] == f"{a}  {created[a][:10]} {created[a][11:16]}  alpha  [v1]"
    assert len(out) == 2  # the head is marked once ([HEAD]), no extra "you are here" line


def test_detached_marker(repo, jvs):
    a = repo.snapshot("a")
    b = repo.snapshot("b")
    c = repo.snapshot("c")
    jvs.ok("restore", b)
    doc = jvs.json("history")
    assert doc["head_snapshot_id"] == b and doc["latest_snapshot_id"] == c
    assert ids(doc) == [b, a]  # the lineage starts at head
    out = jvs.ok("history").stdout.splitlines()
    assert out[0].startswith(b) and "[HEAD]" not in out[0]
    assert out[1] == "◄── you are here (detached)"
    assert out[2].startswith(a)


def test_limit(repo, jvs):
    made = [repo.snapshot(f"n{i}") for i in range(5)]
    assert ids(jvs.json("history", "-n", "2")) == made[::-1][:2]
    assert ids(jvs.json("history", "--limit", "3")) == made[::-1][:3]
    assert ids(jvs.json("history", "-n", "0")) == made[::-1]
    assert len(jvs.ok("history", "-n", "1").stdout.splitlines()) == 1


def test_grep_and_tag_filters(repo, jvs):
    a = repo.snapshot("fix login", "--tag", "v1")
    repo.snapshot("add feature", "--tag", "v1.1")
    c = repo.snapshot("Fix crash", "--tag", "v2")
    assert ids(jvs.json("history", "-g", "fix")) == [a]  # case-sensitive substring
    assert ids(jvs.json("history", "--grep", "x")) == [c, a]
    assert ids(jvs.json("history", "--tag", "v1")) == [a]  # exact tag
    assert ids(jvs.json("history", "--tag", "v1", "-g", "login")) == [a]
    assert ids(jvs.json("history", "--tag", "nope")) == []
    assert jvs.ok("history", "--tag", "nope").stdout == "No snapshots found.\n"


def test_all_includes_other_worktrees(repo, jvs):
    a = repo.snapshot("main one")
    jvs.ok("worktree", "create", "side")
    side = repo.wt("side")
    write(side / "s.txt", "side")
    s = repo.snapshot("side one", cwd=side)
    assert ids(jvs.json("history")) == [a]
    doc = jvs.json("history", "--all")
    assert doc["mode"] == "all"
    assert set(ids(doc)) == {a, s}
    assert ids(doc) == sorted(ids(doc), key=lambda i: next(x["created_at"] for x in doc["snapshots"] if x["snapshot_id"] == i), reverse=True)
    assert ids(jvs.json("history", "--all", "-g", "side")) == [s]
    out = jvs.ok("history", "--all").stdout
    assert "[HEAD]" not in out and "you are here" not in out


def test_history_from_repo_root_uses_main(repo, jvs):
    # jvs.h: a handle opened outside any worktree is bound to "main"
    a = repo.snapshot("a")
    assert ids(jvs.json("history", cwd=repo.root)) == [a]


def test_history_outside_repository(jvs, tmp_path):
    jvs.error("history", cwd=tmp_path, code="E_NOT_REPO", exit=EXIT_NOT_FOUND)


def test_history_descriptors_are_complete(repo, jvs):
    repo.snapshot("n", "--tag", "t")
    d = jvs.json("history")["snapshots"][0]
    for key in ("snapshot_id", "worktree_name", "created_at", "note", "tags", "engine", "payload_root_hash",
                "descriptor_checksum", "integrity_state"):
        assert key in d, key
    assert re.fullmatch(r"[0-9a-f]{64}", d["payload_root_hash"])
