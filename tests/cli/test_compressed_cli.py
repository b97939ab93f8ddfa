"""The CLI on a repository the Go tool compressed (tests/fixtures/upstream-compressed-v1.tar.gz):
restore, fork and verify read it as the user's files, and every --json document matches the schema.
The library suite (tests/library/test_compressed.py) covers the rest."""
import os
import tarfile
from pathlib import Path

import pytest

from cli_helpers import EXIT_CORRUPT

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upstream-compressed-v1.tar.gz"


@pytest.fixture
def democ(jvs, tmp_path):
    with tarfile.open(FIXTURE) as t:
        t.extractall(tmp_path)
    jvs.cwd = tmp_path / "democ" / "main"
    return tmp_path / "democ"


def files(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, fs in os.walk(root) for n in fs)


def test_restore_fork_verify_text_and_json(jvs, democ):
    p = jvs.ok("restore", "max")
    assert "compressed by the Go tool" in p.stdout and "mtime_lost 'a.txt'" in p.stderr
    main = democ / "main"
    assert files(main) == ["a.txt", "archive.gz", "d/big.bin", "d/rep.txt", "naïve.txt"]
    assert (main / "a.txt").read_text() == "alpha\nbeta\ngamma\n"
    doc = jvs.json("worktree", "fork", "fast", "f1")
    assert doc["compression"]["verdict"] == "verified"
    assert (democ / "worktrees" / "f1" / "a.txt").read_text() == "alpha\nbeta\n"
    assert not (democ / "worktrees" / "f1" / ".READY").exists()
    v = jvs.json("verify")
    assert v["ok"] is True
    assert sum(1 for r in v["results"] if r.get("compression", {}).get("verdict") == "verified") == 2
    assert "inflated and verified" in jvs.ok("verify").stdout
    d = jvs.json("diff", "plain", "fast")
    assert [m["path"] for m in d["modified"]] == ["a.txt"] and d["added"] == d["removed"] == []


def test_changed_compressed_snapshot_fails_verify_and_restore(jvs, democ):
    import gzip
    (democ / ".jvs/snapshots/1796225425722-64ea70c3/a.txt.gz").write_bytes(gzip.compress(b"other\n", mtime=0))
    before = files(democ / "main")
    jvs.error("restore", "fast", code="E_COMPRESSED_UNVERIFIED", exit=EXIT_CORRUPT)
    assert files(democ / "main") == before
    p = jvs.run("verify")
    assert p.returncode == EXIT_CORRUPT and "E_COMPRESSED_UNVERIFIED" in p.stdout


def inflated_copies(democ):
    cache = democ / ".jvs" / "cache"
    return [n for n in os.listdir(cache) if n.startswith(".jvs-tmp-")] if cache.exists() else []


def test_inflated_copy_is_removed_on_failure_and_after_a_crash(jvs, democ):
    from cli_helpers import base_env
    p = jvs.run("restore", "fast", env=base_env(JVS_FAULT_FAIL_AT="restore.mid_write"))
    assert p.returncode != 0 and inflated_copies(democ) == []
    # (the failed restore got as far as a.txt: restore another snapshot, so there is a file to write)
    p = jvs.run("restore", "max", env=base_env(JVS_FAULT_KILL_AT="restore.mid_write"))
    assert p.returncode == -9 and len(inflated_copies(democ)) == 1
    doc = jvs.json("doctor")
    assert any(f["code"] == "temp_file_leftover" and "/.jvs/cache/.jvs-tmp-" in f["path"] for f in doc["findings"])
    jvs.json("doctor", "--repair")
    assert inflated_copies(democ) == []
    jvs.ok("restore", "fast")
    assert (democ / "main" / "a.txt").read_text() == "alpha\nbeta\n"
