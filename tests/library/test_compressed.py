"""Snapshots the Go tool compressed (`snapshot --compress`): tests/fixtures/upstream-compressed-v1.tar.gz.

jvs reads them as the files the user had (names without the added `.gz`, content inflated, the user's
own `archive.gz` as it was, modes and mtimes from the nearest plain snapshot) and checks the result
against payload_root_hash with the project's oracle. verify and doctor give them their own verdict;
damage is still detected; a worktree never gets a `.gz` name or a `.READY`.
"""
import gzip
import json
import os
import stat
import subprocess
import tarfile

import pytest

from crafting import go_compress, go_gzip
from libjvs_driver import COMPRESSED_FIXTURE, REF_PY, JvsError, tree_listing

PLAIN, FAST, MAX, AFTER = ("1796225425680-bde6c198", "1796225425722-64ea70c3", "1796225425786-d6937e18",
                           "1796225425857-abe547c2")
A_TXT = {PLAIN: b"alpha\n", FAST: b"alpha\nbeta\n", MAX: b"alpha\nbeta\ngamma\n", AFTER: b"alpha\nbeta\ngamma\ndelta\n"}


@pytest.fixture
def democ(tmp_path):
    with tarfile.open(COMPRESSED_FIXTURE) as t:
        t.extractall(tmp_path)
    return tmp_path / "democ"


def ref_payload(path):
    return subprocess.run(["python3", str(REF_PY), "payload", str(path)], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]


def descriptor(root, sid):
    return json.loads((root / ".jvs" / "descriptors" / f"{sid}.json").read_text())


def names(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs)


def assert_user_tree(root, sid, democ):
    """`root` holds what the user had when `sid` was taken (README table), exactly."""
    assert names(root) == ["a.txt", "archive.gz", "d", "d/big.bin", "d/rep.txt", "naïve.txt"]
    assert (root / "a.txt").read_bytes() == A_TXT[sid]
    assert (root / "naïve.txt").read_bytes() == "é\n".encode()
    assert (root / "d" / "rep.txt").read_bytes() == b"x" * 3000
    assert stat.S_IMODE((root / "d" / "rep.txt").stat().st_mode) == 0o755
    assert (root / "d" / "big.bin").read_bytes() == (democ / ".jvs/snapshots" / PLAIN / "d/big.bin").read_bytes()
    assert gzip.decompress((root / "archive.gz").read_bytes()) == b"log line\n"  # the user's own, kept as is
    assert ref_payload(root) == descriptor(democ, sid)["payload_root_hash"]


def no_staging_left(democ):
    cache = democ / ".jvs" / "cache"
    return not cache.exists() or not [n for n in os.listdir(cache) if n.startswith(".jvs-tmp-")]


def test_oracle_confirms_the_fixture_table(democ, tmp_path):
    """Independent of libjvs: the README's content with the plain snapshot's modes hashes to each
    compressed snapshot's payload_root_hash (so the tests below compare against the truth)."""
    for sid in (FAST, MAX):
        t = tmp_path / f"t{sid}"
        subprocess.run(["cp", "-a", str(democ / ".jvs/snapshots" / PLAIN), str(t)], check=True)
        (t / ".READY").unlink()
        (t / "a.txt").write_bytes(A_TXT[sid])
        assert ref_payload(t) == descriptor(democ, sid)["payload_root_hash"]


def test_verify_gives_compressed_snapshots_their_own_verdict(lib, democ):
    repo, _ = lib.open(democ / "main")
    doc = repo.call("verify", all=True)
    assert doc["ok"] is True
    res = {r["snapshot_id"]: r for r in doc["results"]}
    for sid, level in ((FAST, 1), (MAX, 9)):
        r = res[sid]
        assert r["payload_hash_valid"] and not r["tamper_detected"] and "code" not in r
        c = r["compression"]
        assert (c["type"], c["level"], c["verdict"]) == ("gzip", level, "verified")
        assert c["inflated_files"] == 4 and c["mtimes_lost"] == 1  # a.txt: no plain snapshot has its content
    assert "compression" not in res[PLAIN] and "compression" not in res[AFTER]
    quick = repo.call("verify", all=True, payload=False)
    assert quick["ok"] is True
    assert {r["snapshot_id"]: r.get("compression", {}).get("verdict") for r in quick["results"]}[FAST] == "not_checked"
    assert repo.call("doctor", strict=True)["healthy"] is True
    repo.close()


@pytest.mark.parametrize("sid", [FAST, MAX])
def test_restore_gives_back_the_users_files(lib, democ, sid):
    main = democ / "main"
    repo, _ = lib.open(main)
    ino = os.stat(main).st_ino
    doc = repo.call("restore", ref=sid)
    assert os.stat(main).st_ino == ino
    assert_user_tree(main, sid, democ)
    assert doc["compression"]["verdict"] == "verified"
    assert [(g["kind"], g["path"]) for g in doc["degradations"]] == [("mtime_lost", "a.txt")]
    # Modes and mtimes of files a plain snapshot holds with the same content come from it.
    plain = democ / ".jvs/snapshots" / PLAIN / "d" / "rep.txt"
    assert (main / "d" / "rep.txt").stat().st_mtime_ns == plain.stat().st_mtime_ns
    assert no_staging_left(democ)
    # The worktree now matches the snapshot: diff against it is empty, and a restore back works.
    d = repo.call("diff", **{"from": sid})
    assert d["added"] == d["removed"] == d["modified"] == []
    repo.call("restore", ref=AFTER)
    assert (main / "a.txt").read_bytes() == A_TXT[AFTER]
    repo.close()


def test_fork_and_create_from_read_inflated(lib, democ):
    repo, _ = lib.open(democ / "main")
    f = repo.call("worktree_fork", **{"from": MAX, "name": "fmax"})
    assert f["compression"]["verdict"] == "verified"
    assert_user_tree(democ / "worktrees" / "fmax", MAX, democ)
    c = repo.call("worktree_create", name="cfast", **{"from": FAST})
    assert [g["kind"] for g in c["degradations"]] == ["mtime_lost"]
    assert_user_tree(democ / "worktrees" / "cfast", FAST, democ)
    assert no_staging_left(democ)
    repo.close()


def test_diff_reads_inflated_names(lib, democ):
    repo, _ = lib.open(democ / "main")
    for a, b in ((PLAIN, FAST), (FAST, MAX), (MAX, AFTER)):
        d = repo.call("diff", **{"from": a, "to": b})
        assert d["added"] == d["removed"] == [], d
        assert [m["path"] for m in d["modified"]] == ["a.txt"]
        assert d["modified"][0]["new_size"] == len(A_TXT[b])
    repo.close()


def test_without_plain_snapshots_modes_come_from_the_hash(lib, democ):
    """No uncompressed neighbour: the lost modes are the ones that make payload_root_hash match."""
    for sid in (PLAIN, AFTER):
        (democ / ".jvs/descriptors" / f"{sid}.json").unlink()
        subprocess.run(["rm", "-rf", str(democ / ".jvs/snapshots" / sid)], check=True)
    repo, _ = lib.open(democ / "main")
    doc = repo.call("restore", ref=MAX)
    assert doc["compression"]["verdict"] == "verified"
    assert doc["compression"]["modes_inferred"] == 4
    assert sorted(g["path"] for g in doc["degradations"]) == ["a.txt", "d/big.bin", "d/rep.txt", "naïve.txt"]
    main = democ / "main"
    assert (main / "a.txt").read_bytes() == A_TXT[MAX]
    assert stat.S_IMODE((main / "d" / "rep.txt").stat().st_mode) == 0o755
    assert gzip.decompress((main / "archive.gz").read_bytes()) == b"log line\n"
    assert ref_payload(main) == descriptor(democ, MAX)["payload_root_hash"]
    repo.close()


def test_changed_compressed_content_is_detected_and_not_restored(lib, democ):
    gz = democ / ".jvs/snapshots" / FAST / "a.txt.gz"
    gz.chmod(0o600)
    gz.write_bytes(go_gzip(b"alpha\nBETA\n"))
    repo, _ = lib.open(democ / "main")
    r = repo.call("verify", ref=FAST)["results"][0]
    assert r["code"] == "E_COMPRESSED_UNVERIFIED" and r["payload_hash_valid"] is False
    assert r["compression"]["verdict"] == "unverified"
    before = tree_listing(democ / "main")
    with pytest.raises(JvsError) as e:
        repo.call("restore", ref=FAST)
    assert e.value.code == "E_COMPRESSED_UNVERIFIED"
    assert tree_listing(democ / "main") == before, "a refused restore changes nothing"
    with pytest.raises(JvsError) as e:
        repo.call("worktree_fork", **{"from": FAST, "name": "bad"})
    assert e.value.code == "E_COMPRESSED_UNVERIFIED"
    assert not (democ / "worktrees" / "bad").exists()
    doc = repo.call("doctor", strict=True)
    assert doc["healthy"] is False
    assert any(f.get("error_code") == "E_COMPRESSED_UNVERIFIED" for f in doc["findings"])
    assert no_staging_left(democ)
    repo.close()


def test_damaged_gzip_is_tampering(lib, democ):
    gz = democ / ".jvs/snapshots" / MAX / "d" / "big.bin.gz"
    raw = bytearray(gz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    gz.write_bytes(bytes(raw))
    repo, _ = lib.open(democ / "main")
    r = repo.call("verify", ref=MAX)["results"][0]
    assert r["code"] == "E_PAYLOAD_HASH_MISMATCH" and r["tamper_detected"] is True
    assert r["compression"]["verdict"] == "damaged"
    with pytest.raises(JvsError) as e:
        repo.call("restore", ref=MAX)
    assert e.value.code == "E_COMPRESSED_UNVERIFIED"
    repo.close()


def test_missing_marker_is_reported(lib, democ):
    (democ / ".jvs/snapshots" / FAST / ".READY.gz").unlink()
    repo, _ = lib.open(democ / "main")
    r = repo.call("verify", ref=FAST)["results"][0]
    assert r["code"] == "E_READY_MISMATCH" and ".READY.gz" in r["error"]
    repo.close()


def test_symlink_and_a_users_go_like_gz_come_back(lib, tmp_path):
    """A compressed symlink is given back as the neighbour's link; a user's own .gz that looks exactly
    like the Go tool's (its header, mode 0600) is kept because the neighbour holds it as it is; an unusual
    mode (0640) that no neighbour has is found by the hash."""
    repo, _ = lib.open(tmp_path / "r", init=True)
    main = tmp_path / "r" / "main"
    (main / "sub").mkdir()
    (main / "sub" / "t.txt").write_text("target\n")
    os.symlink("sub/t.txt", main / "a-link")  # sorts before its target: the Go tool's walk survives it
    (main / "user.gz").write_bytes(go_gzip(b"mine\n"))
    (main / "user.gz").chmod(0o600)
    (main / "x.sh").write_text("echo\n")
    (main / "x.sh").chmod(0o755)
    (main / "a.txt").write_text("one\n")
    repo.call("snapshot", note="plain")
    (main / "a.txt").write_text("two\n")
    (main / "a.txt").chmod(0o640)
    sid = repo.call("snapshot", note="to compress")["snapshot"]["snapshot_id"]
    expected = tree_listing(main)
    go_compress(tmp_path / "r", sid)
    assert (tmp_path / "r/.jvs/snapshots" / sid / "a-link.gz").exists()

    v = repo.call("verify", ref=sid)["results"][0]
    assert v["compression"]["verdict"] == "verified", v
    (main / "a.txt").write_text("changed\n")
    (main / "a-link").unlink()
    (main / "user.gz").unlink()
    doc = repo.call("restore", ref=sid)
    assert doc["compression"]["verdict"] == "verified"
    got = tree_listing(main)
    assert got == expected
    assert os.readlink(main / "a-link") == "sub/t.txt"
    assert [g["path"] for g in doc["degradations"]] == ["a.txt"]  # its mtime: no neighbour holds "two"
    assert ref_payload(main) == descriptor(tmp_path / "r", sid)["payload_root_hash"]
    repo.close()
