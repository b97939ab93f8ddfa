"""The CLI edges of issue 8 (list 10) and issue 9's gc minimum age: an invalid-UTF-8 note, --paths and
--tag before a positional note, `gc plan --keep-min-age`, `doctor --repair --dry-run`."""
import json
import subprocess

from cli_helpers import EXIT_USAGE, base_env, removed_worktree_snapshot, write



def test_an_invalid_utf8_note_is_e_note_invalid(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    p = subprocess.run([jvs.binary, b"--json", b"snapshot", b"bad \xff note"], cwd=repo.main, capture_output=True,
                       env=base_env())
    assert p.returncode == EXIT_USAGE
    assert json.loads(p.stdout)["error"]["code"] == "E_NOTE_INVALID"
    assert jvs.json("history")["snapshots"] == []


def test_paths_and_tags_take_one_value_per_flag_and_leave_the_note(repo, jvs):
    write(repo.main / "d" / "x.txt", "x\n")
    write(repo.main / "e.txt", "e\n")
    d = jvs.json("snapshot", "--paths", "d", "my note")["snapshot"]
    assert d["note"] == "my note" and d["partial_paths"] == ["d"]
    d = jvs.json("snapshot", "--paths", "d,e.txt", "--tag", "a,b", "--tag", "c", "second")["snapshot"]
    assert (d["note"], d["partial_paths"], d["tags"]) == ("second", ["d", "e.txt"], ["a", "b", "c"])
    d = jvs.json("snapshot", "--paths", "d", "--paths", "e.txt", "third")["snapshot"]
    assert (d["note"], d["partial_paths"]) == ("third", ["d", "e.txt"])
    d = jvs.json("snapshot", "--paths=e.txt", "fourth")["snapshot"]
    assert (d["note"], d["partial_paths"]) == ("fourth", ["e.txt"])


def test_gc_keeps_young_snapshots_unless_told(repo, jvs):
    t = removed_worktree_snapshot(repo, jvs)
    plan = jvs.json("gc", "plan")
    assert plan["candidates"] == [] and plan["retention"]["keep_min_age"] == "24h"
    assert "retention" in {r for p in plan["protected"] if p["snapshot_id"] == t for r in p["reasons"]}
    on_disk = json.loads((repo.root / ".jvs" / "gc" / f"{plan['plan_id']}.json").read_text())
    assert on_disk["retention_policy"]["keep_min_age"] == 24 * 3600 * 10**9  # the Go tool's field, in ns
    jvs.ok("config", "set", "retention.keep_min_age", "1h")
    assert jvs.json("gc", "plan")["retention"]["keep_min_age"] == "1h"
    plan = jvs.json("gc", "plan", "--keep-min-age", "0")
    assert plan["candidates"] == [t] and plan["retention"]["keep_min_age"] == "0"
    on_disk = json.loads((repo.root / ".jvs" / "gc" / f"{plan['plan_id']}.json").read_text())
    assert on_disk["retention_policy"]["keep_min_age"] == 0
    jvs.error("gc", "plan", "--keep-min-age", "a while", code="E_OPTION_INVALID", exit=EXIT_USAGE)


def test_doctor_repair_dry_run_prints_the_plan(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    repo.snapshot("a")
    stray = repo.root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp"
    stray.mkdir()
    out = jvs.ok("doctor", "--repair", "--dry-run").stdout
    assert "Repair plan" in out and "would remove" in out and str(stray) in out
    assert stray.is_dir()
    doc = jvs.json("doctor", "--dry-run")
    assert doc["dry_run"] is True and doc["repairs"][0]["action"] == "remove" and stray.is_dir()
    jvs.ok("doctor", "--repair")
    assert not stray.exists()
