"""The CLI of the integrity and upkeep commands: verify --checksum-only, diff, doctor, gc; text and
JSON, and exit codes that say when something is wrong (in --json mode too)."""

import json
import os

from cli_helpers import EXIT_CORRUPT, removed_worktree_snapshot, write


def test_verify_checksum_only_is_fast_mode_and_still_catches_a_bad_descriptor(repo, jvs, unchanged):
    write(repo.main / "a.txt", "a\n")
    sid = repo.snapshot("a")
    with unchanged():
        doc = jvs.json("verify", "--checksum-only")
        assert doc["ok"] and doc["payload_checked"] is False and doc["audit"]["ok"]
        out = jvs.ok("verify", "--checksum-only").stdout
        assert "payloads were not hashed" in out and "Audit log: 1 record, chain intact" in out
    snap_file = repo.root / ".jvs" / "snapshots" / sid / "a.txt"
    os.chmod(snap_file, 0o644)
    snap_file.write_text("b\n")  # payload tamper: invisible to the fast mode, caught by the full one
    assert jvs.json("verify", "--checksum-only")["ok"]
    assert jvs.json("verify", expect=EXIT_CORRUPT)["ok"] is False
    desc = repo.root / ".jvs" / "descriptors" / f"{sid}.json"
    desc.write_text(desc.read_text().replace('"note": "a"', '"note": "x"'))
    doc = jvs.json("verify", "--checksum-only", expect=EXIT_CORRUPT)
    assert doc["results"][0]["code"] == "E_CHECKSUM_MISMATCH"


def test_verify_reports_a_broken_audit_chain_in_text_and_json(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    repo.snapshot("a")
    audit = repo.root / ".jvs" / "audit" / "audit.jsonl"
    audit.write_text(audit.read_text().replace('"snapshot_create"', '"snapshot_delete"'))
    doc = jvs.json("verify", expect=EXIT_CORRUPT)
    assert doc["audit"]["code"] == "E_AUDIT_CHAIN_BROKEN" and doc["audit"]["line"] == 1
    p = jvs.run("verify")
    assert p.returncode == EXIT_CORRUPT and "Audit log: BROKEN" in p.stdout and "E_AUDIT_CHAIN_BROKEN" in p.stdout


def test_diff_text_and_json(repo, jvs, unchanged):
    write(repo.main / "a.txt", "a\n")
    write(repo.main / "run.sh", "#!/bin/sh\n", mode=0o644)
    os.symlink("a.txt", repo.main / "l")
    a = repo.snapshot("a")
    write(repo.main / "a.txt", "changed\n")
    os.chmod(repo.main / "run.sh", 0o755)
    os.unlink(repo.main / "l")
    os.symlink("run.sh", repo.main / "l")
    write(repo.main / "new.txt", "n\n")
    with unchanged():
        live = jvs.json("diff")
        assert live["from_snapshot_id"] == a and live["to_worktree"] == "main"
        assert live["totals"] == {"added": 1, "removed": 0, "modified": 3}
        out = jvs.ok("diff").stdout.splitlines()
        assert out[0] == f"Diff {a} -> worktree 'main' (unsaved changes)"
        assert "  + new.txt" in out and "  ~ run.sh (mode 0644 -> 0755)" in out
        assert "  ~ l (target a.txt -> run.sh)" in out and "  ~ a.txt (2 -> 8 bytes)" in out
        assert jvs.ok("diff", "--stat").stdout.splitlines()[-1] == "Added: 1, Removed: 0, Modified: 3"
    b = repo.snapshot("b")
    assert jvs.json("diff", a, b)["totals"] == live["totals"]
    assert jvs.ok("diff").stdout.splitlines()[-1] == "No changes."


def test_doctor_exit_code_follows_health_in_text_and_json(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    sid = repo.snapshot("a")
    assert jvs.json("doctor", "--strict")["healthy"] is True
    assert jvs.ok("doctor").stdout.strip() == "Repository is healthy."
    f = repo.root / ".jvs" / "snapshots" / sid / "a.txt"
    os.chmod(f, 0o644)
    f.write_text("tampered\n")
    doc = jvs.json("doctor", "--strict", expect=EXIT_CORRUPT)
    assert doc["healthy"] is False
    assert any(x["error_code"] == "E_PAYLOAD_HASH_MISMATCH" for x in doc["findings"] if "error_code" in x)
    p = jvs.run("doctor", "--strict")
    assert p.returncode == EXIT_CORRUPT and "[critical] integrity" in p.stdout


def test_doctor_repair_in_text(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    repo.snapshot("a")
    stray = repo.root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp"
    stray.mkdir()
    out = jvs.ok("doctor", "--repair").stdout
    assert "snapshot_tmp_leftover" in out and "repaired" in out and not stray.exists()


def test_gc_commands_in_text(repo, jvs):
    t = removed_worktree_snapshot(repo, jvs)
    out = jvs.ok("gc", "plan", "--keep-min-age", "0").stdout.splitlines()
    assert out[0].startswith("GC plan ") and "1 snapshot to delete" in out[0] and f"  - {t}" in out
    plan_id = out[-1].split()[-1]
    assert out[-1] == f"Run it with: jvs gc run --plan-id {plan_id}"
    assert jvs.ok("gc", "pin", t, "--reason", "keep").stdout.strip() == f"Pinned {t}"
    assert t in jvs.ok("gc", "pins").stdout and "keep" in jvs.ok("gc", "pins").stdout
    doc = jvs.json("gc", "run", "--plan-id", plan_id, expect=6)  # now pinned: the plan is refused
    assert doc["error"]["code"] == "E_GC_PLAN_MISMATCH"
    assert jvs.ok("gc", "unpin", t).stdout.strip() == f"Unpinned {t}"
    assert jvs.ok("gc", "pins").stdout.strip() == "No pins."
    plan_id = jvs.json("gc", "plan", "--keep-min-age", "0")["plan_id"]
    out = jvs.ok("gc", "run", "--plan-id", plan_id).stdout.strip()
    assert out.startswith("GC completed successfully: deleted 1 snapshot, freed ")
    assert json.loads(jvs.run("--json", "history", "--all").stdout)["snapshots"][0]["note"] == "a"
