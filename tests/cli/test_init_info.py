"""init and info."""

import os

from cli_helpers import EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_USAGE, tree_state


def test_init_text(jvs, tmp_path):
    p = jvs.ok("init", "proj", cwd=tmp_path)
    assert (tmp_path / "proj" / ".jvs").is_dir()
    assert (tmp_path / "proj" / "main").is_dir()
    assert (tmp_path / "proj" / ".jvs" / "format_version").read_text().strip() == "1"
    assert p.stdout.startswith("Initialized JVS repository in ")
    assert "Main worktree: " in p.stdout and "proj/main" in p.stdout


def test_init_json(jvs, tmp_path):
    doc = jvs.json("init", "proj", cwd=tmp_path)
    assert doc["kind"] == "repo"
    assert doc["format_version"] == 1
    assert doc["created"] is True
    assert os.path.realpath(doc["repo_root"]) == os.path.realpath(tmp_path / "proj")
    assert doc["repo_id"] == (tmp_path / "proj" / ".jvs" / "repo_id").read_text().strip()


def test_init_over_existing_repo(jvs, tmp_path):
    jvs.ok("init", "proj", cwd=tmp_path)
    before = tree_state(tmp_path / "proj")
    jvs.error("init", "proj", cwd=tmp_path, code="E_REPO_EXISTS", exit=EXIT_CONFLICT)
    p = jvs.run("init", "proj", cwd=tmp_path)
    assert p.returncode == EXIT_CONFLICT
    assert "[E_REPO_EXISTS]" in p.stderr
    assert tree_state(tmp_path / "proj") == before


def test_init_takes_a_path(jvs, tmp_path):
    # Once a bare name (E_NAME_INVALID otherwise); any path now (tests/cli/test_init_adopt.py).
    jvs.ok("init", "a/b c", cwd=tmp_path)
    assert (tmp_path / "a" / "b c" / ".jvs").is_dir() and (tmp_path / "a" / "b c" / "main").is_dir()


def test_info(repo, jvs):
    doc = jvs.json("info")
    assert doc["kind"] == "info"
    assert doc["total_snapshots"] == 0
    assert doc["total_worktrees"] == 1
    assert doc["worktree"] == "main"
    assert doc["format_version"] == 1
    repo.snapshot("one")
    assert jvs.json("info")["total_snapshots"] == 1
    p = jvs.ok("info")
    assert p.stdout.startswith("Repository: ")
    assert "Repo ID: " + doc["repo_id"] in p.stdout
    assert "Snapshots: 1" in p.stdout


def test_info_from_repo_root_and_subdir(repo, jvs):
    # outside any worktree, operations use "main" (API_REFERENCE §3.2)
    assert jvs.json("info", cwd=repo.root).get("worktree") in (None, "main")
    (repo.main / "deep" / "er").mkdir(parents=True)
    assert jvs.json("info", cwd=repo.main / "deep" / "er")["worktree"] == "main"


def test_info_outside_repository(jvs, tmp_path):
    jvs.error("info", cwd=tmp_path, code="E_NOT_REPO", exit=EXIT_NOT_FOUND)
