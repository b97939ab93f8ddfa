"""The oracle itself is checked before anything is checked against it: the worked example of the
format (hand-derived lines and hashes) and every hash in the repositories the Go tool wrote
(tests/fixtures/) must come out of jvs_oracle.py exactly."""
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
sys.path.insert(0, str(HERE))

import jvs_oracle as oracle  # noqa: E402


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixtures")
    for name in ("upstream-repo-v1.tar.gz", "upstream-compressed-v1.tar.gz"):
        with tarfile.open(FIXTURES / name) as t:
            t.extractall(root)  # modes kept: they are part of the payload hash
    return root


def test_worked_example(tmp_path):
    """a.txt = hello, sub/ (0755), sub/b.bin = x (0600), link -> a.txt: the lines are derived by hand."""
    (tmp_path / "a.txt").write_bytes(b"hello\n")
    os.chmod(tmp_path / "a.txt", 0o644)
    (tmp_path / "sub").mkdir()
    os.chmod(tmp_path / "sub", 0o755)
    (tmp_path / "sub" / "b.bin").write_bytes(b"x")
    os.chmod(tmp_path / "sub" / "b.bin", 0o600)
    os.symlink("a.txt", tmp_path / "link")
    (tmp_path / ".READY").write_text("{}")  # skipped
    expected = (
        f"dir:sub:mode=0755:{sha(b'sub')}\n"
        f"file:a.txt:mode=0644,size=6:{sha(b'hello' + bytes([10]))}\n"
        f"file:sub/b.bin:mode=0600,size=1:{sha(b'x')}\n"
        f"symlink:link:mode=0777:{sha(b'a.txt')}\n"
    ).encode()
    h, blob = oracle.payload_root_hash(str(tmp_path))
    assert blob == expected
    assert h == sha(expected) == "58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3"


def test_empty_tree_and_ready_directories(tmp_path):
    assert oracle.payload_root_hash(str(tmp_path))[0] == sha(b"")
    (tmp_path / ".READY").mkdir()  # its own line is skipped, its children are hashed
    (tmp_path / ".READY" / "f").write_bytes(b"")
    os.chmod(tmp_path / ".READY" / "f", 0o644)
    assert oracle.payload_root_hash(str(tmp_path))[1] == f"file:.READY/f:mode=0644,size=0:{sha(b'')}\n".encode()


def test_canonical_json_is_gos():
    assert oracle.canonical({"b": 1, "a": ["<&>", "\u2028", "\b\f\x01"], "c": None, "d": True}) == \
        '{"a":["\\u003c\\u0026\\u003e","\\u2028","\\b\\f\\u0001"],"b":1,"c":null,"d":true}'
    assert [oracle.go_number(x) for x in (6.0, 1e21, 1e-7, 1.5e-6, 1e16)] == \
        ["6", "1e+21", "1e-07", "0.0000015", "10000000000000000"]


def descriptors(repo: Path):
    for f in sorted((repo / ".jvs" / "descriptors").glob("*.json")):
        yield json.loads(f.read_bytes())


@pytest.mark.parametrize("repo", ["demo", "democ"])
def test_every_go_descriptor_checksum(unpacked, repo):
    descs = list(descriptors(unpacked / repo))
    assert len(descs) == 4
    for d in descs:
        assert oracle.descriptor_checksum(d)[0] == d["descriptor_checksum"], d["snapshot_id"]
    if repo == "democ":  # the compression object is covered by the checksum
        assert sum(1 for d in descs if d.get("compression")) == 2


def test_every_go_payload_hash(unpacked):
    """The uncompressed snapshots hash as the Go tool recorded (the compressed ones hold .gz files)."""
    checked = 0
    for repo in ("demo", "democ"):
        for d in descriptors(unpacked / repo):
            if d.get("compression"):
                continue
            snap = unpacked / repo / ".jvs" / "snapshots" / d["snapshot_id"]
            assert oracle.payload_root_hash(str(snap))[0] == d["payload_root_hash"], d["snapshot_id"]
            checked += 1
    assert checked == 6


def test_compressed_payload_hash_as_the_fixture_readme_says(unpacked):
    """The two compressed snapshots hash as recorded once inflated, with the user's own archive.gz kept
    and the modes the README gives (d/rep.txt 0755, the rest 0644): what libjvs must give back."""
    checked = 0
    for d in descriptors(unpacked / "democ"):
        if not d.get("compression"):
            continue
        snap = unpacked / "democ" / ".jvs" / "snapshots" / d["snapshot_id"]
        got = oracle.inflated_payload_root_hash(str(snap), {"archive.gz"}, {"d/rep.txt": 0o755})
        assert got == d["payload_root_hash"], d["snapshot_id"]
        checked += 1
    assert checked == 2


@pytest.mark.parametrize("repo,records", [("demo", 5), ("democ", 4)])
def test_go_audit_chain(unpacked, repo, records):
    rows = oracle.check_audit_chain(str(unpacked / repo / ".jvs" / "audit" / "audit.jsonl"))
    assert len(rows) == records and all(ok for _, _, ok in rows)


def test_command_line(unpacked):
    snap = next((unpacked / "demo" / ".jvs" / "snapshots").iterdir())
    out = subprocess.run([sys.executable, str(HERE / "jvs_oracle.py"), "payload", str(snap)],
                         capture_output=True, check=True).stdout
    assert out.splitlines()[-1].decode() == oracle.payload_root_hash(str(snap))[0]
    assert subprocess.run([sys.executable, str(HERE / "jvs_oracle.py"), "bogus"], capture_output=True).returncode == 2
