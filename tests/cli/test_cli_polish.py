"""CLI polish: did-you-mean for mistyped commands, the exit-code table in `jvs --help` only,
`--compress` help naming only what it accepts, the warning when a tag is reused."""

import re

from cli_helpers import EXIT_USAGE, write


def test_mistyped_command_suggests(jvs, tmp_path):
    p = jvs.run("snapshto", cwd=tmp_path)
    assert p.returncode == EXIT_USAGE
    assert "unknown command 'snapshto'" in p.stderr
    assert "did you mean 'snapshot'?" in p.stderr
    doc = jvs.error("snapshto", code="E_USAGE", exit=EXIT_USAGE, cwd=tmp_path)
    assert doc["error"]["details"]["did_you_mean"] == ["snapshot"]


def test_mistyped_subcommand_suggests(jvs, tmp_path):
    p = jvs.run("worktree", "lsit", cwd=tmp_path)
    assert p.returncode == EXIT_USAGE
    assert "did you mean 'list'?" in p.stderr and "jvs worktree --help" in p.stderr
    p = jvs.run("--json", "wt", "remvoe", "x", cwd=tmp_path)  # through the alias, global flag first
    assert p.returncode == EXIT_USAGE and "did you mean 'remove'?" in p.stdout
    p = jvs.run("gc", "pln", cwd=tmp_path)
    assert "did you mean 'plan'" in p.stderr


def test_unknown_command_without_a_near_one(jvs, tmp_path):
    p = jvs.run("frobnicate", cwd=tmp_path)
    assert p.returncode == EXIT_USAGE
    assert "unknown command 'frobnicate'" in p.stderr and "did you mean" not in p.stderr


def test_positional_arguments_are_not_commands(jvs, repo):
    # a mistyped reference is a reference error, not a command suggestion
    p = jvs.run("restore", "snapshto")
    assert "unknown command" not in p.stderr


def test_exit_codes_in_top_help_only(jvs, tmp_path):
    assert "Exit codes:" in jvs.ok("--help", cwd=tmp_path).stdout
    for args in (["snapshot"], ["restore"], ["history"], ["worktree", "fork"], ["worktree"], ["gc", "plan"]):
        out = jvs.ok(*args, "--help", cwd=tmp_path).stdout
        assert "Exit codes:" not in out, args
    assert "<ref> is HEAD" in jvs.ok("restore", "--help", cwd=tmp_path).stdout  # its own text stays


def test_compress_help_lists_only_what_it_accepts(jvs, tmp_path):
    out = jvs.ok("snapshot", "--help", cwd=tmp_path).stdout
    line = next(l for l in out.splitlines() if "--compress" in l)
    assert "none" in line
    for refused in ("fast", "default", "max", "|"):
        assert refused not in line, line


def test_reused_tag_warns_and_names_the_pick(jvs, repo):
    write(repo.main / "a.txt", "a")
    first = repo.snapshot("one", "--tag", "v1")
    write(repo.main / "a.txt", "b")
    p = jvs.ok("snapshot", "two", "--tag", "v1,fresh")
    second = re.search(r"Created snapshot (\S+)", p.stdout).group(1)
    assert f"tag 'v1' is also on snapshot {first}" in p.stderr
    assert f"`jvs restore v1` picks the newest, this one ({second})" in p.stderr
    assert "fresh" not in p.stderr  # a new tag: no warning
    write(repo.main / "a.txt", "c")
    p = jvs.ok("snapshot", "three", "--tag", "other")
    assert "warning" not in p.stderr


def test_mistyped_flag_suggests(jvs, repo):
    p = jvs.run("snapshot", "note", "--tga", "v1")
    assert p.returncode == EXIT_USAGE
    assert "unknown flag '--tga' for 'jvs snapshot'" in p.stderr and "did you mean '--tag'?" in p.stderr
    p = jvs.run("history", "-n5", "--jsn")  # a short option with its value is not the culprit
    assert "unknown flag '--jsn'" in p.stderr and "'--json'" in p.stderr
    assert jvs.run("history", "-n5").returncode == 0
