"""snapshot: notes, tags, partial paths, stdin and -F, --compress, detached refusal."""

import re

import pytest

from cli_helpers import EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_USAGE, write

ID_RE = r"\d{13}-[0-9a-f]{8}"


def history(jvs, *args):
    return jvs.json("history", *args)["snapshots"]


def test_snapshot_text(repo, jvs):
    write(repo.main / "a.txt", "hello\n")
    p = jvs.ok("snapshot", "first")
    m = re.match(rf"Created snapshot ({ID_RE})\n", p.stdout)
    assert m, p.stdout
    assert history(jvs)[0]["snapshot_id"] == m.group(1)
    assert history(jvs)[0]["note"] == "first"


def test_snapshot_json(repo, jvs):
    write(repo.main / "a.txt", "hello\n")
    doc = jvs.json("snapshot", "first")
    assert doc["kind"] == "snapshot"
    d = doc["snapshot"]
    assert re.fullmatch(ID_RE, d["snapshot_id"])
    assert d["worktree_name"] == "main" and d["note"] == "first"
    assert d["engine"] == doc["engine"]
    assert doc["stats"]["files"] == 1
    assert isinstance(doc["degradations"], list)
    assert "tags" not in d and "partial_paths" not in d


def test_snapshot_without_note(repo, jvs):
    doc = jvs.json("snapshot")
    assert "note" not in doc["snapshot"]
    assert "(no note)" in jvs.ok("history").stdout


def test_tags_repeatable_and_comma_split(repo, jvs):
    doc = jvs.json("snapshot", "tagged", "--tag", "v1,rel", "--tag", "x.y-z_1")
    assert doc["snapshot"]["tags"] == ["v1", "rel", "x.y-z_1"]
    p = jvs.ok("snapshot", "again", "--tag", "a", "--tag", "b")
    assert "Tags: a, b" in p.stdout


def test_invalid_tag(repo, jvs, unchanged):
    with unchanged():
        jvs.error("snapshot", "x", "--tag", "bad tag", code="E_TAG_INVALID", exit=EXIT_USAGE)


def test_partial_paths(repo, jvs):
    write(repo.main / "a.txt", "a")
    write(repo.main / "d" / "b.txt", "b")
    write(repo.main / "c.txt", "c")
    doc = jvs.json("snapshot", "part", "--paths", "a.txt,d", "--paths", "c.txt")
    assert sorted(doc["snapshot"]["partial_paths"]) == ["a.txt", "c.txt", "d"]
    p = jvs.ok("snapshot", "part2", "--paths", "a.txt")
    assert re.match(rf"Created partial snapshot {ID_RE} \(1 path\)", p.stdout), p.stdout


def test_partial_path_missing(repo, jvs, unchanged):
    with unchanged():
        jvs.error("snapshot", "x", "--paths", "nope.txt", code="E_PATH_NOT_FOUND", exit=EXIT_NOT_FOUND)


@pytest.mark.parametrize("bad", ["../x", "/etc"])
def test_partial_path_invalid(repo, jvs, unchanged, bad):
    with unchanged():
        doc = jvs.json("snapshot", "x", "--paths", bad, expect=EXIT_USAGE)
        assert doc["error"]["code"] in ("E_PATH_INVALID", "E_PATH_ESCAPE")


def test_note_from_stdin(repo, jvs):
    doc = jvs.json("snapshot", "-", input="from stdin\nsecond line\n")
    assert doc["snapshot"]["note"] == "from stdin\nsecond line"


def test_note_from_file(repo, jvs, tmp_path):
    f = write(tmp_path / "note.txt", "from a file\n")
    assert jvs.json("snapshot", "-F", f)["snapshot"]["note"] == "from a file"
    assert jvs.json("snapshot", "--file", f)["snapshot"]["note"] == "from a file"
    assert jvs.json("snapshot", "-F", "-", input="piped\n")["snapshot"]["note"] == "piped"


def test_note_file_errors(repo, jvs, unchanged, tmp_path):
    with unchanged():
        jvs.error("snapshot", "-F", tmp_path / "missing.txt", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        f = write(tmp_path / "note.txt", "x")
        jvs.error("snapshot", "both", "-F", f, code="E_OPTION_INVALID", exit=EXIT_USAGE)


def test_compress(repo, jvs, unchanged):
    assert jvs.json("snapshot", "plain", "--compress", "none")["kind"] == "snapshot"
    with unchanged():
        for level in ("fast", "default", "max", "1", "9"):
            doc = jvs.error("snapshot", "z", "--compress", level, code="E_OPTION_INVALID", exit=EXIT_USAGE)
            assert doc["error"]["message"]
        p = jvs.run("snapshot", "z", "--compress", "max")
        assert p.returncode == EXIT_USAGE and "[E_OPTION_INVALID]" in p.stderr


def test_snapshot_while_detached(repo, jvs, unchanged):
    first = repo.snapshot("one")
    repo.snapshot("two")
    jvs.ok("restore", first)
    with unchanged():
        jvs.error("snapshot", "three", code="E_DETACHED", exit=EXIT_CONFLICT)
        p = jvs.run("snapshot", "three")
        assert p.returncode == EXIT_CONFLICT
        assert "[E_DETACHED]" in p.stderr and "hint:" in p.stderr


def test_snapshot_outside_repository(jvs, tmp_path):
    jvs.error("snapshot", "x", cwd=tmp_path, code="E_NOT_REPO", exit=EXIT_NOT_FOUND)


def test_snapshot_records_lineage(repo, jvs):
    a = repo.snapshot("a")
    b = repo.snapshot("b")
    snaps = history(jvs)
    assert [s["snapshot_id"] for s in snaps] == [b, a]
    assert snaps[0]["parent_id"] == a and "parent_id" not in snaps[1]
