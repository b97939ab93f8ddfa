"""restore: by id, prefix, tag, HEAD; dry-run; in-place semantics; errors; -i."""

import os
import subprocess
import time

import pytest

from cli_helpers import EXIT_CANCELLED, EXIT_NOT_FOUND, EXIT_USAGE, base_env, payload, write


@pytest.fixture
def two(repo, jvs):
    """Two snapshots: v1 = {a.txt: one, d/x: x, link->a.txt}; v2 = {a.txt: two, b.txt: new}."""
    write(repo.main / "a.txt", "one\n")
    write(repo.main / "d" / "x", "x", mode=0o600)
    os.symlink("a.txt", repo.main / "link")
    v1 = repo.snapshot("first version", "--tag", "v1")
    expected_v1 = payload(repo.main)
    (repo.main / "link").unlink()
    (repo.main / "d" / "x").unlink()
    (repo.main / "d").rmdir()
    write(repo.main / "a.txt", "two\n")
    write(repo.main / "b.txt", "new\n")
    v2 = repo.snapshot("second version", "--tag", "v2")
    expected_v2 = payload(repo.main)
    return v1, v2, expected_v1, expected_v2


def test_restore_by_id(repo, jvs, two):
    v1, v2, p1, p2 = two
    ino = os.stat(repo.main).st_ino
    doc = jvs.json("restore", v1)
    assert doc["kind"] == "restore" and doc["snapshot_id"] == v1
    assert doc["detached"] is True and doc["dry_run"] is False
    assert payload(repo.main) == p1
    assert os.stat(repo.main).st_ino == ino, "the worktree root must keep its inode"
    assert not (repo.main / "b.txt").exists(), "files absent from the snapshot are removed"
    assert not (repo.main / ".READY").exists()
    assert (repo.main / "d" / "x").stat().st_mode & 0o777 == 0o600
    assert os.readlink(repo.main / "link") == "a.txt"


def test_restore_text_and_head(repo, jvs, two):
    v1, v2, p1, p2 = two
    p = jvs.ok("restore", v1)
    assert p.stdout.startswith(f"Restored to snapshot {v1}\n")
    assert "DETACHED" in p.stdout and "jvs restore HEAD" in p.stdout
    p = jvs.ok("restore", "HEAD")
    assert p.stdout.startswith(f"Restored to latest snapshot {v2}\n")
    assert "HEAD state" in p.stdout
    assert payload(repo.main) == p2
    doc = jvs.json("history")
    assert doc["head_snapshot_id"] == doc["latest_snapshot_id"] == v2


def test_restore_by_prefix_tag_and_relative(repo, jvs, two):
    v1, v2, p1, p2 = two
    assert jvs.json("restore", v1[:18])["snapshot_id"] == v1  # unique id prefix
    assert payload(repo.main) == p1
    assert jvs.json("restore", "v2")["snapshot_id"] == v2  # exact tag
    assert jvs.json("restore", "v1")["snapshot_id"] == v1
    jvs.ok("restore", "HEAD")
    assert jvs.json("restore", "HEAD~1")["snapshot_id"] == v1
    assert jvs.json("restore", "second")["snapshot_id"] == v2  # unique note prefix


def test_restore_from_inside_the_worktree(repo, jvs, two):
    v1, v2, p1, p2 = two
    # a shell sitting in the worktree keeps a valid current directory across restores
    script = f"{jvs.binary} restore {v1} >/dev/null && {jvs.binary} restore HEAD >/dev/null && {jvs.binary} restore {v1} >/dev/null && ls"
    p = subprocess.run(["sh", "-c", script], cwd=repo.main, capture_output=True, text=True, env=base_env())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["a.txt", "d", "link"]


def test_dry_run(repo, jvs, two, unchanged):
    v1, v2, p1, p2 = two
    with unchanged():
        doc = jvs.json("restore", v1, "--dry-run")
        assert doc["dry_run"] is True and doc["snapshot_id"] == v1
        actions = {c["path"]: c["action"] for c in doc["changes"]}
        assert actions["b.txt"] == "delete"
        assert actions["a.txt"] == "update"
        assert actions.get("d") == "mkdir" and actions["d/x"] == "create"
        assert doc["stats"]["deleted"] >= 1 and doc["stats"]["updated"] >= 1
        p = jvs.ok("restore", v1, "--dry-run")
        assert p.stdout.startswith(f"Dry run: restoring snapshot {v1} would change:")
        assert "  - b.txt" in p.stdout and "  ~ a.txt" in p.stdout and "  + d/x" in p.stdout
        assert "Nothing was changed." in p.stdout
    assert payload(repo.main) == p2


def test_dry_run_no_changes(repo, jvs, two):
    v1, v2, p1, p2 = two
    doc = jvs.json("restore", "HEAD", "--dry-run")
    assert doc["changes"] == [] or all(c["action"] == "metadata" for c in doc["changes"])


def test_unknown_ref(repo, jvs, two, unchanged):
    with unchanged():
        doc = jvs.error("restore", "nosuchthing", code="E_REF_NOT_FOUND", exit=EXIT_NOT_FOUND)
        assert "nosuchthing" in doc["error"]["message"]
        p = jvs.run("restore", "nosuchthing")
        assert p.returncode == EXIT_NOT_FOUND
        assert p.stderr.splitlines()[0].endswith("[E_REF_NOT_FOUND]")
        # -i without a terminal behaves like the plain command
        jvs.error("restore", "-i", "nosuchthing", code="E_REF_NOT_FOUND", exit=EXIT_NOT_FOUND)


def test_ambiguous_ref(repo, jvs, two, unchanged):
    v1, v2, _, _ = two
    with unchanged():
        doc = jvs.error("restore", "1", code="E_REF_AMBIGUOUS", exit=EXIT_USAGE)  # every id starts with 1
        cands = doc["error"]["details"]["candidates"]
        flat = [c if isinstance(c, str) else c["snapshot_id"] for c in cands]
        assert set(flat) == {v1, v2}
        p = jvs.run("restore", "1")
        assert p.returncode == EXIT_USAGE and "[E_REF_AMBIGUOUS]" in p.stderr
        assert v1 in p.stderr and v2 in p.stderr  # candidates are listed
        jvs.error("restore", "v", code="E_REF_AMBIGUOUS", exit=EXIT_USAGE)  # tag prefix of v1 and v2


def test_restore_outside_repository(jvs, tmp_path):
    jvs.error("restore", "HEAD", cwd=tmp_path, code="E_NOT_REPO", exit=EXIT_NOT_FOUND)


def _interactive(jvs, args, cwd, answer):
    """Runs jvs with stdin on a pseudo-terminal, types `answer` once prompted."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([jvs.binary, *args], cwd=cwd, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=base_env(), text=True)
    os.close(slave)
    time.sleep(0.5)
    os.write(master, answer.encode())
    try:
        out, err = p.communicate(timeout=60)
    finally:
        os.close(master)
    return p.returncode, out, err


def test_interactive_choice(repo, jvs, two):
    v1, v2, p1, p2 = two
    # "version" is no reference, but both notes contain it: candidates newest first
    code, out, err = _interactive(jvs, ["restore", "-i", "version"], repo.main, "2\n")
    assert f"1) {v2}" in err and f"2) {v1}" in err and "Restore which snapshot?" in err, err
    assert code == 0, err
    assert out.startswith(f"Restored to snapshot {v1}\n")
    assert payload(repo.main) == p1


def test_interactive_cancel(repo, jvs, two, unchanged):
    with unchanged():
        code, out, err = _interactive(jvs, ["restore", "-i", "1"], repo.main, "0\n")
        assert code == EXIT_CANCELLED, err
        assert "[E_CANCELLED]" in err


def test_restore_partial_snapshot_touches_only_its_paths(repo, jvs):
    write(repo.main / "keep.txt", "v1\n")
    write(repo.main / "part" / "p.txt", "v1\n")
    full = repo.snapshot("full")
    part = repo.snapshot("only part", "--paths", "part")
    write(repo.main / "keep.txt", "v2\n")
    write(repo.main / "part" / "p.txt", "v2\n")
    write(repo.main / "part" / "new.txt", "new\n")
    repo.snapshot("v2")
    p = jvs.ok("restore", part)
    assert "partial snapshot" in p.stdout
    assert (repo.main / "part" / "p.txt").read_text() == "v1\n"
    assert not (repo.main / "part" / "new.txt").exists()
    assert (repo.main / "keep.txt").read_text() == "v2\n"  # outside the snapshot's paths
    assert jvs.json("restore", full, "--dry-run")["partial"] is False
