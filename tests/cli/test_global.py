"""Global flags, usage errors, help, colour and completion."""

import json
import os
import re
import shutil
import subprocess

import pytest

from cli_helpers import EXIT_NOT_FOUND, EXIT_USAGE, base_env


def test_version(jvs):
    p = jvs.ok("--version")
    assert re.fullmatch(r"jvs \d+\.\d+\.\d+\S* \(abi \d+\)\n", p.stdout), p.stdout


def test_version_json_is_build_info(jvs):
    doc = jvs.json("--version")
    assert doc["kind"] == "build_info"
    assert isinstance(doc["abi_version"], int)


def test_help_lists_commands(jvs):
    p = jvs.ok("--help")
    for cmd in ("init", "info", "snapshot", "restore", "history", "verify", "worktree", "diff", "doctor", "gc", "config", "completion"):
        assert cmd in p.stdout
    assert "Exit codes" in p.stdout


def test_no_arguments_prints_help(jvs):
    p = jvs.ok()
    assert "snapshot" in p.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["--bogus-flag", "info"],
        ["init", "a", "b"],  # `jvs init` alone is valid: it initialises (or adopts) the current directory
        ["init", "--adopt", "--no-adopt"],
        ["restore"],
        ["snapshot", "a", "b"],
        ["history", "-n", "many"],
        ["worktree"],  # needs a subcommand
        ["worktree", "rename", "only-one"],
        ["worktree", "fork", "a", "b", "c"],
        ["gc", "run"],  # --plan-id is required
        ["completion", "powershell-ish"],
        ["verify", "a", "b"],
    ],
)
def test_usage_errors_exit_2(jvs, args):
    p = jvs.run(*args)
    assert p.returncode == EXIT_USAGE, (p.stdout, p.stderr)
    assert p.stderr.startswith("jvs: "), p.stderr
    assert "[E_USAGE]" in p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["nosuchcmd", "--help"],
        ["gc", "bogus", "--help"],
        ["worktree", "bogus", "-h"],
        ["-C", ".", "nosuchcmd", "--help"],
        ["--lock-timeout", "5", "config", "bogus", "--help"],
    ],
)
def test_unknown_command_with_help_fails_like_without(jvs, args):
    """--help does not rescue an unknown command: the usage code, as without --help (the Go tool exits 1)."""
    p = jvs.run(*args)
    assert p.returncode == EXIT_USAGE, (p.stdout, p.stderr)
    assert "[E_USAGE]" in p.stderr and "unknown command" in p.stderr, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("args", [["--help"], ["gc", "--help"], ["-C", ".", "restore", "x", "--help"],
                                  ["snapshot", "--tag", "v1", "--help"], ["worktree", "fork", "-h"]])
def test_help_of_known_commands_still_exits_0(jvs, args):
    p = jvs.run(*args)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "Usage: jvs" in p.stdout


def test_usage_error_json_goes_to_stdout(jvs):
    p = jvs.run("--json", "frobnicate")
    assert p.returncode == EXIT_USAGE
    doc = json.loads(p.stdout)
    assert doc["schema"] == 1 and doc["kind"] == "error"
    assert doc["error"]["code"] == "E_USAGE"
    assert doc["error"]["status_name"]
    assert p.stderr == ""


def test_global_flags_accepted_after_subcommand(repo, jvs):
    doc = jvs.json("info")
    p = jvs.run("info", "--json", "--no-color", "--no-progress", "--debug")
    assert p.returncode == 0
    assert json.loads(p.stdout)["repo_id"] == doc["repo_id"]


def test_dash_C_runs_elsewhere(repo, jvs, tmp_path):
    doc = jvs.json("-C", repo.main, "info", cwd=tmp_path)
    assert doc["kind"] == "info"
    assert os.path.realpath(doc["repo_root"]) == os.path.realpath(repo.root)
    # relative -C, and init under -C
    jvs.ok("-C", "repo/main", "info", cwd=tmp_path)
    (tmp_path / "sub").mkdir()
    jvs.ok("-C", "sub", "init", "inner", cwd=tmp_path)
    assert (tmp_path / "sub" / "inner" / ".jvs").is_dir()


def test_dash_C_missing_directory(jvs, tmp_path):
    doc = jvs.error("-C", tmp_path / "nope", "info", code="E_PATH_NOT_FOUND", exit=EXIT_NOT_FOUND)
    assert "nope" in doc["error"]["message"]


def test_text_error_format(jvs, tmp_path):
    p = jvs.run("info", cwd=tmp_path)
    assert p.returncode == EXIT_NOT_FOUND
    first = p.stderr.splitlines()[0]
    assert first.startswith("jvs: ") and first.endswith("[E_NOT_REPO]"), p.stderr
    assert p.stdout == ""


def _run_in_pty(jvs, args, cwd, env):
    """Runs jvs with stdout and stderr on a pseudo-terminal; returns (exit code, output)."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([jvs.binary, *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_colour_only_on_a_terminal(repo, jvs):
    repo.snapshot("coloured", "--tag", "t1")
    env = base_env()
    del env["NO_COLOR"]
    env["TERM"] = "xterm"
    # piped: never colour
    p = jvs.run("history", env=env)
    assert p.returncode == 0 and "\x1b[" not in p.stdout
    # terminal: colour, unless NO_COLOR / --no-color / TERM=dumb
    code, out = _run_in_pty(jvs, ["history"], repo.main, env)
    assert code == 0 and "\x1b[" in out, out
    code, out = _run_in_pty(jvs, ["--no-color", "history"], repo.main, env)
    assert code == 0 and "\x1b[" not in out, out
    code, out = _run_in_pty(jvs, ["history"], repo.main, {**env, "NO_COLOR": ""})
    assert code == 0 and "\x1b[" not in out, out
    code, out = _run_in_pty(jvs, ["history"], repo.main, {**env, "TERM": "dumb"})
    assert code == 0 and "\x1b[" not in out, out


def test_no_progress_output_when_piped(repo, jvs):
    (repo.main / "f.txt").write_text("x" * 10000)
    p = jvs.run("snapshot", "quiet")
    assert p.returncode == 0
    assert p.stderr == ""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completion_scripts(jvs, shell):
    p = jvs.ok("completion", shell)
    assert "snapshot" in p.stdout and "worktree" in p.stdout
    assert ("-l 'tag'" if shell == "fish" else "--tag") in p.stdout
    if shell == "bash" and shutil.which("bash"):
        check = subprocess.run(["bash", "-n"], input=p.stdout, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr
        # the function completes subcommands of `worktree`
        script = p.stdout + '\nCOMP_WORDS=(jvs wt cr); COMP_CWORD=2; _jvs; echo "${COMPREPLY[@]}"\n'
        run = subprocess.run(["bash", "-c", script], text=True, capture_output=True)
        assert run.stdout.split() == ["create"], run


def test_completion_needs_no_repository(jvs, tmp_path):
    jvs.ok("completion", "bash", cwd=tmp_path)
