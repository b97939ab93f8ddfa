"""Shell completion: the generated bash script, loaded into a real bash, completes commands, flags,
refs, tags, worktree names and config keys of a real repository (COMP_WORDS / COMP_CWORD set as
bash sets them, the `_jvs` function called, COMPREPLY read back). zsh and fish scripts are checked
by their own shells when installed (skipped with the reason otherwise)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cli_helpers import base_env, write


def complete(jvs, words, cwd, script):
    """The completions bash offers for `words` (the last one is the word being completed)."""
    bin_dir = Path(jvs.binary).resolve().parent
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source '{script}'\n"
        f"COMP_WORDS=({quoted})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "COMP_LINE=\"${COMP_WORDS[*]}\"\nCOMP_POINT=${#COMP_LINE}\n"
        "_jvs\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = base_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return sorted(w for w in p.stdout.splitlines() if w)


@pytest.fixture
def script(jvs, tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    path = tmp_path / "jvs.bash"
    path.write_text(jvs.ok("completion", "bash", cwd=tmp_path).stdout)
    return path


@pytest.fixture
def populated(repo, jvs):
    write(repo.main / "a.txt", "a\n")
    first = repo.snapshot("first", "--tag", "release-1")
    write(repo.main / "b.txt", "b\n")
    second = repo.snapshot("second", "--tag", "rc")
    jvs.ok("worktree", "create", "feature-x")
    jvs.ok("worktree", "create", "fix-y")
    return first, second


def test_commands_and_did_you_mean_targets(jvs, script, tmp_path):
    assert "snapshot" in complete(jvs, ["jvs", "sn"], tmp_path, script)
    assert complete(jvs, ["jvs", "wor"], tmp_path, script) == ["worktree"]
    assert complete(jvs, ["jvs", "worktree", "re"], tmp_path, script) == ["remove", "rename"]
    assert complete(jvs, ["jvs", "wt", "fo"], tmp_path, script) == ["fork"]  # through the alias
    assert "__complete" not in complete(jvs, ["jvs", "_"], tmp_path, script)  # hidden


def test_flags(jvs, script, tmp_path):
    flags = complete(jvs, ["jvs", "snapshot", "--"], tmp_path, script)
    assert {"--tag", "--paths", "--compress", "--json", "--lock-timeout"} <= set(flags)
    assert complete(jvs, ["jvs", "history", "--gr"], tmp_path, script) == ["--grep"]


def test_shell_names_after_completion(jvs, script, tmp_path):
    assert complete(jvs, ["jvs", "completion", ""], tmp_path, script) == ["bash", "fish", "powershell", "zsh"]
    assert complete(jvs, ["jvs", "completion", "z"], tmp_path, script) == ["zsh"]


def test_refs_and_tags(jvs, script, repo, populated):
    first, second = populated
    refs = complete(jvs, ["jvs", "restore", ""], repo.main, script)
    assert {"HEAD", "release-1", "rc", first, second} <= set(refs)
    assert complete(jvs, ["jvs", "restore", "rel"], repo.main, script) == ["release-1"]
    assert complete(jvs, ["jvs", "verify", first[:14]], repo.main, script) == [first]  # ids start with a timestamp
    # a flag's value: the tags, not the refs
    assert complete(jvs, ["jvs", "history", "--tag", ""], repo.main, script) == ["rc", "release-1"]
    assert complete(jvs, ["jvs", "worktree", "create", "new", "--from", "r"], repo.main, script) == ["rc", "release-1"]
    # -C given earlier on the line: asked of that repository
    assert complete(jvs, ["jvs", "-C", str(repo.main), "diff", "rc"], repo.root.parent, script) == ["rc"]


def test_worktree_names_and_config_keys(jvs, script, repo, populated):
    assert complete(jvs, ["jvs", "worktree", "remove", "f"], repo.main, script) == ["feature-x", "fix-y"]
    assert complete(jvs, ["jvs", "wt", "rename", ""], repo.main, script) == ["feature-x", "fix-y", "main"]
    # the second positional of rename is a new name: nothing to offer
    assert complete(jvs, ["jvs", "wt", "rename", "fix-y", ""], repo.main, script) == []
    keys = complete(jvs, ["jvs", "config", "get", ""], repo.main, script)
    assert "default_engine" in keys and "progress_enabled" in keys
    assert complete(jvs, ["jvs", "config", "set", "progress_e"], repo.main, script) == ["progress_enabled"]


def test_outside_a_repository_offers_nothing_quietly(jvs, script, tmp_path):
    assert complete(jvs, ["jvs", "restore", ""], tmp_path, script) == []
    p = jvs.run("__complete", "refs", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == ""


def zsh_candidates(jvs, script, words, cwd):
    """What the zsh script hands to compadd for `words` (zsh's compadd then keeps those that start
    with the word being completed): bashcompinit's _bash_complete runs with compadd captured."""
    bin_dir = Path(jvs.binary).resolve().parent
    quoted = " ".join("'" + w + "'" for w in words)
    program = (f"autoload -U +X compinit && compinit -u\nsource {script}\n"
               "compadd() { local seen=0 a; for a in \"$@\"; do ((seen)) && print -r -- \"$a\"; "
               "[[ $a == - ]] && seen=1; done; return 0 }\n"
               f"words=({quoted}); CURRENT={len(words)}\n_bash_complete -F _jvs\n")
    p = subprocess.run(["zsh", "-f", "-c", program], cwd=cwd, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL,
                       env=base_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"))
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split())


def test_zsh_script_completes(jvs, repo, populated, tmp_path):
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    first, second = populated
    path = tmp_path / "_jvs"
    path.write_text(jvs.ok("completion", "zsh", cwd=tmp_path).stdout)
    assert {"HEAD", "release-1", "rc", first, second} <= zsh_candidates(jvs, path, ["jvs", "restore", "re"], repo.main)
    assert {"snapshot", "worktree", "wt"} <= zsh_candidates(jvs, path, ["jvs", "wor"], repo.main)
    assert zsh_candidates(jvs, path, ["jvs", "completion", ""], repo.main) == {"bash", "zsh", "fish", "powershell"}
    assert {"feature-x", "fix-y", "main"} == zsh_candidates(jvs, path, ["jvs", "worktree", "remove", ""], repo.main)


def test_fish_script_completes(jvs, repo, populated, tmp_path):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    path = tmp_path / "jvs.fish"
    path.write_text(jvs.ok("completion", "fish", cwd=tmp_path).stdout)
    bin_dir = Path(jvs.binary).resolve().parent
    p = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C 'jvs restore re'"],
                       cwd=repo.main, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env=base_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"))
    assert p.returncode == 0, p.stderr
    assert "release-1" in p.stdout.split()
