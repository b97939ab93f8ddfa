"""worktree create / list / path / rename / remove / fork (and the `wt` alias)."""

import os

import pytest

from cli_helpers import EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_USAGE, payload, write


@pytest.fixture
def snap(repo, jvs):
    write(repo.main / "a.txt", "alpha\n")
    write(repo.main / "sub" / "b.txt", "beta\n")
    sid = repo.snapshot("base", "--tag", "feature")
    return sid, payload(repo.main)


def test_create_empty(repo, jvs):
    doc = jvs.json("worktree", "create", "side")
    assert doc["kind"] == "worktree"
    wt = doc["worktree"]
    assert wt["name"] == "side" and wt["detached"] is False
    assert os.path.realpath(wt["path"]) == os.path.realpath(repo.wt("side"))
    assert "base_snapshot_id" not in wt and "head_snapshot_id" not in wt
    assert list(repo.wt("side").iterdir()) == []
    p = jvs.ok("wt", "create", "other")
    assert p.stdout.splitlines()[0] == "Created worktree 'other'"
    assert p.stdout.splitlines()[1].startswith("Path: ")


def test_create_from(repo, jvs, snap):
    sid, content = snap
    doc = jvs.json("worktree", "create", "copy", "--from", "feature")
    assert doc["worktree"]["base_snapshot_id"] == sid
    assert payload(repo.wt("copy")) == content
    assert not (repo.wt("copy") / ".READY").exists()
    p = jvs.ok("worktree", "create", "copy2", "--from", sid)
    assert p.stdout.startswith(f"Created worktree 'copy2' from snapshot {sid}\n")


def test_create_errors(repo, jvs, snap, unchanged):
    jvs.ok("worktree", "create", "side")
    with unchanged():
        jvs.error("worktree", "create", "side", code="E_WORKTREE_EXISTS", exit=EXIT_CONFLICT)
        for bad in ("a/b", "..", "bad name", "x..y"):
            jvs.error("worktree", "create", bad, code="E_NAME_INVALID", exit=EXIT_USAGE)
        jvs.error("worktree", "create", "new", "--from", "nope", code="E_REF_NOT_FOUND", exit=EXIT_NOT_FOUND)
        p = jvs.run("worktree", "create", "bad name")
        assert p.returncode == EXIT_USAGE and "[E_NAME_INVALID]" in p.stderr


def test_list(repo, jvs, snap):
    sid, _ = snap
    jvs.ok("worktree", "create", "zeta")
    jvs.ok("worktree", "create", "beta")
    doc = jvs.json("worktree", "list")
    assert doc["kind"] == "worktree_list"
    names = [w["name"] for w in doc["worktrees"]]
    assert sorted(names) == ["beta", "main", "zeta"]
    main = next(w for w in doc["worktrees"] if w["name"] == "main")
    assert main["head_snapshot_id"] == sid and main["latest_snapshot_id"] == sid
    out = jvs.ok("worktree", "list").stdout.splitlines()
    assert len(out) == 3
    current = [l for l in out if l.startswith("*")]
    assert len(current) == 1 and current[0].split()[1:] == ["main", sid]
    assert any(l.split() == ["beta", "(none)"] for l in out)
    # from the repository root no worktree is current
    assert not any(l.startswith("*") for l in jvs.ok("wt", "list", cwd=repo.root).stdout.splitlines())


def test_path(repo, jvs):
    jvs.ok("worktree", "create", "side")
    p = jvs.ok("worktree", "path", "side")
    assert os.path.realpath(p.stdout.strip()) == os.path.realpath(repo.wt("side"))
    assert os.path.realpath(jvs.ok("worktree", "path").stdout.strip()) == os.path.realpath(repo.main)
    doc = jvs.json("worktree", "path", cwd=repo.wt("side"))
    assert doc["kind"] == "worktree_path" and doc["name"] == "side"
    assert os.path.realpath(doc["path"]) == os.path.realpath(repo.wt("side"))
    jvs.error("worktree", "path", "ghost", code="E_WORKTREE_NOT_FOUND", exit=EXIT_NOT_FOUND)
    # jvs.h: outside any worktree the handle is bound to "main"
    assert os.path.realpath(jvs.json("worktree", "path", cwd=repo.root)["path"]) == os.path.realpath(repo.main)


def test_rename(repo, jvs, snap):
    jvs.ok("worktree", "create", "old", "--from", snap[0])
    p = jvs.ok("worktree", "rename", "old", "new")
    assert p.stdout == "Renamed worktree 'old' to 'new'\n"
    assert not repo.wt("old").exists() and payload(repo.wt("new")) == snap[1]
    assert sorted(w["name"] for w in jvs.json("worktree", "list")["worktrees"]) == ["main", "new"]
    doc = jvs.json("worktree", "rename", "new", "newer")
    assert doc["kind"] == "worktree" and doc["worktree"]["name"] == "newer"


def test_rename_errors(repo, jvs, unchanged):
    jvs.ok("worktree", "create", "a")
    jvs.ok("worktree", "create", "b")
    with unchanged():
        jvs.error("worktree", "rename", "main", "primary", code="E_WORKTREE_MAIN", exit=EXIT_CONFLICT)
        jvs.error("worktree", "rename", "a", "b", code="E_WORKTREE_EXISTS", exit=EXIT_CONFLICT)
        jvs.error("worktree", "rename", "ghost", "c", code="E_WORKTREE_NOT_FOUND", exit=EXIT_NOT_FOUND)
        jvs.error("worktree", "rename", "a", "bad/name", code="E_NAME_INVALID", exit=EXIT_USAGE)


def test_remove(repo, jvs, snap):
    sid, _ = snap
    jvs.ok("worktree", "create", "gone", "--from", sid)
    p = jvs.ok("worktree", "remove", "gone")
    assert p.stdout == "Removed worktree 'gone'\n"
    assert not repo.wt("gone").exists()
    assert [w["name"] for w in jvs.json("worktree", "list")["worktrees"]] == ["main"]
    jvs.ok("worktree", "create", "gone2")
    doc = jvs.json("wt", "remove", "gone2")
    assert doc["kind"] == "worktree_remove" and doc["name"] == "gone2"
    # snapshots are kept
    assert sid in [s["snapshot_id"] for s in jvs.json("history", "--all")["snapshots"]]


def test_remove_errors(repo, jvs, snap, unchanged):
    sid, _ = snap
    jvs.ok("worktree", "fork", sid, "det")
    det = repo.wt("det")
    write(det / "more.txt", "more")
    repo.snapshot("second", cwd=det)
    jvs.ok("restore", sid, cwd=det)  # det is now detached
    with unchanged():
        jvs.error("worktree", "remove", "main", code="E_WORKTREE_MAIN", exit=EXIT_CONFLICT)
        jvs.error("worktree", "remove", "ghost", code="E_WORKTREE_NOT_FOUND", exit=EXIT_NOT_FOUND)
        jvs.error("worktree", "remove", "det", code="E_DETACHED", exit=EXIT_CONFLICT)
    jvs.ok("worktree", "remove", "-f", "det")
    assert not det.exists()


def test_fork_no_args(repo, jvs, snap):
    sid, content = snap
    doc = jvs.json("worktree", "fork")
    wt = doc["worktree"]
    assert wt["name"].startswith("fork-")
    assert wt["base_snapshot_id"] == wt["head_snapshot_id"] == wt["latest_snapshot_id"] == sid
    assert wt["detached"] is False
    assert payload(repo.wt(wt["name"])) == content


def test_fork_one_arg_is_a_name_unless_it_resolves_exactly(repo, jvs, snap):
    sid, content = snap
    write(repo.main / "a.txt", "changed\n")
    later = repo.snapshot("later")
    # a plain word that is no reference: the new worktree's name, forked from head
    wt = jvs.json("worktree", "fork", "hotfix")["worktree"]
    assert wt["name"] == "hotfix" and wt["base_snapshot_id"] == later
    # an exact tag: a reference, auto-named
    wt = jvs.json("worktree", "fork", "feature")["worktree"]
    assert wt["base_snapshot_id"] == sid and wt["name"] != "feature"
    assert payload(repo.wt(wt["name"])) == content
    # a full id and a unique id prefix: references
    wt = jvs.json("worktree", "fork", later)["worktree"]
    assert wt["base_snapshot_id"] == later
    wt = jvs.json("worktree", "fork", sid[:18])["worktree"]
    assert wt["base_snapshot_id"] == sid
    # a tag prefix or a note prefix is NOT taken as a reference: it becomes the name
    wt = jvs.json("worktree", "fork", "feat")["worktree"]
    assert wt["name"] == "feat" and wt["base_snapshot_id"] == later
    wt = jvs.json("worktree", "fork", "lat")["worktree"]
    assert wt["name"] == "lat" and wt["base_snapshot_id"] == later


def test_fork_two_args(repo, jvs, snap):
    sid, content = snap
    write(repo.main / "a.txt", "changed\n")
    repo.snapshot("later")
    p = jvs.ok("worktree", "fork", "feature", "exp")
    assert p.stdout.startswith(f"Created worktree 'exp' from snapshot {sid}\n")
    assert "Path: " in p.stdout
    assert payload(repo.wt("exp")) == content
    # the fork can snapshot at once
    write(repo.wt("exp") / "n.txt", "n")
    doc = jvs.json("snapshot", "in fork", cwd=repo.wt("exp"))
    assert doc["snapshot"]["parent_id"] == sid and doc["snapshot"]["worktree_name"] == "exp"


def test_fork_from_detached_position(repo, jvs, snap):
    sid, content = snap
    write(repo.main / "a.txt", "changed\n")
    repo.snapshot("later")
    jvs.ok("restore", sid)
    wt = jvs.json("worktree", "fork", "from-past")["worktree"]
    assert wt["base_snapshot_id"] == sid
    assert payload(repo.wt("from-past")) == content


def test_fork_without_snapshots(repo, jvs, unchanged):
    with unchanged():
        jvs.error("worktree", "fork", "x", code="E_NO_SNAPSHOTS", exit=EXIT_NOT_FOUND)
        jvs.error("worktree", "fork", code="E_NO_SNAPSHOTS", exit=EXIT_NOT_FOUND)


def test_fork_errors_exit_codes(repo, jvs, snap, unchanged):
    sid, _ = snap
    jvs.ok("worktree", "create", "taken")
    with unchanged():
        jvs.error("worktree", "fork", sid, "taken", code="E_WORKTREE_EXISTS", exit=EXIT_CONFLICT)
        jvs.error("worktree", "fork", sid, "bad name", code="E_NAME_INVALID", exit=EXIT_USAGE)
        jvs.error("worktree", "fork", "nope", "x", code="E_REF_NOT_FOUND", exit=EXIT_NOT_FOUND)
