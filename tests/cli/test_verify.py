"""verify: all / one snapshot, text and JSON, tamper detection with exit code 5."""

import json
import os

import pytest

from cli_helpers import EXIT_CORRUPT, EXIT_NOT_FOUND, write


@pytest.fixture
def snaps(repo, jvs):
    write(repo.main / "a.txt", "hello\n")
    a = repo.snapshot("a")
    write(repo.main / "b.txt", "more\n")
    b = repo.snapshot("b")
    return a, b


def test_verify_all_ok(repo, jvs, snaps, unchanged):
    a, b = snaps
    with unchanged():
        doc = jvs.json("verify")
        assert doc["kind"] == "verify" and doc["ok"] is True
        res = {r["snapshot_id"]: r for r in doc["results"]}
        assert set(res) == {a, b}
        for r in res.values():
            assert r["checksum_valid"] and r["payload_hash_valid"] and not r["tamper_detected"]
        assert jvs.json("verify", "--all")["ok"] is True
        out = jvs.ok("verify").stdout.splitlines()
        assert f"{a}  OK" in out and f"{b}  OK" in out
        assert out[-1] == "2 snapshots verified, all OK"


def test_verify_one(repo, jvs, snaps):
    a, b = snaps
    doc = jvs.json("verify", a)
    assert doc["ok"] is True and [r["snapshot_id"] for r in doc["results"]] == [a]
    out = jvs.ok("verify", a).stdout.splitlines()
    assert out == [f"Snapshot: {a}", "  Checksum: valid", "  Payload hash: valid"]
    assert [r["snapshot_id"] for r in jvs.json("verify", "HEAD")["results"]] == [b]


def test_verify_unknown_ref(repo, jvs, snaps, unchanged):
    with unchanged():
        jvs.error("verify", "nope", code="E_REF_NOT_FOUND", exit=EXIT_NOT_FOUND)


def _tamper_payload(repo, sid, name):
    f = repo.root / ".jvs" / "snapshots" / sid / name
    os.chmod(f, 0o644)
    f.write_text("HACKED\n")


def test_verify_detects_payload_tamper(repo, jvs, snaps):
    a, b = snaps
    _tamper_payload(repo, b, "b.txt")  # only in b (a.txt may be hard-linked between snapshots)
    # JSON mode: the report, then exit 5
    p = jvs.run("--json", "verify")
    assert p.returncode == EXIT_CORRUPT, p.stderr
    doc = json.loads(p.stdout)
    assert doc["kind"] == "verify" and doc["ok"] is False
    bad = {r["snapshot_id"]: r for r in doc["results"]}[b]
    assert bad["tamper_detected"] is True and bad["payload_hash_valid"] is False
    assert bad.get("code") == "E_PAYLOAD_HASH_MISMATCH"
    # text mode: the report, then exit 5
    p = jvs.run("verify")
    assert p.returncode == EXIT_CORRUPT
    assert any(l.startswith(f"{b}  TAMPERED") for l in p.stdout.splitlines()), p.stdout
    assert f"{a}  OK" in p.stdout.splitlines()
    assert "1 of 2 snapshots failed verification" in p.stdout
    # a single snapshot
    p = jvs.run("verify", b)
    assert p.returncode == EXIT_CORRUPT and "TAMPER DETECTED" in p.stdout
    assert jvs.run("verify", a).returncode == 0
    assert jvs.json("verify", b, expect=EXIT_CORRUPT)["ok"] is False


def test_verify_detects_descriptor_tamper(repo, jvs, snaps):
    a, b = snaps
    path = repo.root / ".jvs" / "descriptors" / f"{b}.json"
    d = json.loads(path.read_text())
    d["note"] = "rewritten history"
    os.chmod(path, 0o644)
    path.write_text(json.dumps(d, indent=2))
    doc = jvs.json("verify", expect=EXIT_CORRUPT)
    bad = {r["snapshot_id"]: r for r in doc["results"]}[b]
    assert bad["checksum_valid"] is False and bad["tamper_detected"] is True
    assert bad.get("code") == "E_CHECKSUM_MISMATCH"
