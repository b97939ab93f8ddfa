"""--json documents of every command, commands forwarded through jvs_call, Ctrl-C."""

import json
import os
import signal
import subprocess
import time

import pytest

from cli_helpers import EXIT_CANCELLED, EXIT_LOCKED, base_env, tree_state, write


def test_every_command_json_kind(repo, jvs, tmp_path):
    assert jvs.json("init", "other", cwd=tmp_path)["kind"] == "repo"
    assert jvs.json("info")["kind"] == "info"
    write(repo.main / "f", "f")
    sid = jvs.json("snapshot", "n", "--tag", "t")["snapshot"]["snapshot_id"]
    assert jvs.json("history")["kind"] == "history"
    assert jvs.json("restore", sid, "--dry-run")["kind"] == "restore"
    assert jvs.json("restore", "HEAD")["kind"] == "restore"
    assert jvs.json("verify")["kind"] == "verify"
    assert jvs.json("worktree", "create", "w1")["kind"] == "worktree"
    assert jvs.json("worktree", "list")["kind"] == "worktree_list"
    assert jvs.json("worktree", "path", "w1")["kind"] == "worktree_path"
    assert jvs.json("worktree", "rename", "w1", "w2")["kind"] == "worktree"
    assert jvs.json("worktree", "remove", "w2")["kind"] == "worktree_remove"
    assert jvs.json("worktree", "fork", sid, "w3")["kind"] == "worktree"


def test_json_errors_on_stdout_only(repo, jvs):
    p = jvs.run("--json", "restore", "missing")
    assert p.returncode == 3 and p.stderr == ""
    err = json.loads(p.stdout)["error"]
    for key in ("status", "status_name", "code", "message", "hint", "op"):
        assert key in err, key
    assert err["status_name"].endswith("NOT_FOUND") and err["status"] == -3


def test_json_is_pretty_printed(repo, jvs):
    p = jvs.ok("--json", "info")
    assert p.stdout.startswith("{\n  \"")
    assert p.stdout.endswith("}\n")


# Commands the library may not implement yet: they must parse the Go tool's flags and answer
# with a document (a result, or the library's error), never a usage error.
@pytest.mark.parametrize(
    "args",
    [
        ["diff"],
        ["diff", "--stat", "HEAD"],
        ["doctor", "--strict"],
        ["doctor", "--repair-list"],
        ["doctor", "--repair-runtime"],
        ["gc", "plan"],
        ["gc", "run", "--plan-id", "00000000-0000-0000-0000-000000000000"],
        ["config", "show"],
        ["config", "get", "default_engine"],
    ],
)
def test_forwarded_commands_answer_with_a_document(repo, jvs, args):
    p = jvs.run("--json", *args)
    doc = json.loads(p.stdout)
    assert doc["schema"] == 1
    if p.returncode != 0:
        assert doc["kind"] == "error" and doc["error"]["code"] != "E_USAGE"
        t = jvs.run(*args)
        assert t.returncode == p.returncode and t.stderr.startswith("jvs: ")


def test_cancel_with_ctrl_c(repo, jvs):
    """SIGINT during a long snapshot: E_CANCELLED, exit 130, repository untouched."""
    blob = os.urandom(1 << 20)
    for d in range(8):
        (repo.main / f"d{d}").mkdir()
        for i in range(40):
            (repo.main / f"d{d}" / f"f{i}.bin").write_bytes(blob[i:] + blob[:i])
    before = tree_state(repo.root)
    proc = subprocess.Popen([jvs.binary, "--json", "snapshot", "big"], cwd=repo.main, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=base_env())
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the snapshot finished before SIGINT arrived")
    assert proc.returncode == EXIT_CANCELLED, (out, err)
    assert json.loads(out)["error"]["code"] == "E_CANCELLED"
    assert tree_state(repo.root) == before


def test_locked_worktree_exit_4(repo, jvs, unchanged):
    import fcntl

    repo.snapshot("first")
    lock = repo.root / ".jvs" / "locks" / "wt-main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with unchanged():
            doc = jvs.error("--lock-timeout", "0", "snapshot", "second", code="E_LOCKED", exit=EXIT_LOCKED)
            assert doc["error"]["status_name"].endswith("LOCKED")
            t0 = time.monotonic()
            p = jvs.run("snapshot", "second", "--lock-timeout", "300")
            assert p.returncode == EXIT_LOCKED and "[E_LOCKED]" in p.stderr
            assert time.monotonic() - t0 >= 0.25
            jvs.error("--lock-timeout", "0", "restore", "HEAD", code="E_LOCKED", exit=EXIT_LOCKED)
        # readers are not blocked
        assert jvs.json("history")["kind"] == "history"
    jvs.ok("--lock-timeout", "0", "snapshot", "second")


def test_cancel_restore_with_ctrl_c(repo, jvs):
    """SIGINT during a long restore: exit 130, head not moved, no torn file."""
    blob = os.urandom(1 << 20)
    expected = {}
    for d in range(8):
        (repo.main / f"d{d}").mkdir()
        for i in range(40):
            data = blob[i:] + blob[:i]
            (repo.main / f"d{d}" / f"f{i}.bin").write_bytes(data)
            expected[f"d{d}/f{i}.bin"] = data
    big = repo.snapshot("big")
    for d in range(8):
        for i in range(40):
            (repo.main / f"d{d}" / f"f{i}.bin").unlink()
    small = repo.snapshot("small")
    proc = subprocess.Popen([jvs.binary, "--json", "restore", big], cwd=repo.main, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=base_env())
    # SIGINT as soon as the write phase is under way (the first restored file appears), so that
    # the interruption lands mid-restore on a fast machine as on a slow one.
    dirs = [repo.main / f"d{d}" for d in range(8)]
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if any(next(os.scandir(d), None) is not None for d in dirs):
            break
        time.sleep(0.0005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the restore finished before SIGINT arrived")
    assert proc.returncode == EXIT_CANCELLED, (out, err)
    assert json.loads(out)["error"]["code"] == "E_CANCELLED"
    assert "partly restored" in err
    assert jvs.json("history")["head_snapshot_id"] == small
    for rel, data in expected.items():
        f = repo.main / rel
        if f.exists():
            assert f.read_bytes() == data, f"torn file {rel}"
    # finishing the job works
    jvs.ok("restore", big)
    assert all((repo.main / rel).read_bytes() == data for rel, data in expected.items())
