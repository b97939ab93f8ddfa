"""`jvs init PATH`: any path; an existing folder with files adopted in place; refusals change nothing."""

import os

from cli_helpers import EXIT_CONFLICT, payload, tree_state, write


def _inodes(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (dirpath == str(root) and d == ".jvs")]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = os.lstat(p).st_ino
    return out


def _project(root):
    write(root / "src" / "main.py", "print('hi')\n")
    write(root / "README.md", "# project\n")
    os.symlink("README.md", root / "link")
    return root


def test_init_absolute_and_relative_paths(jvs, tmp_path):
    doc = jvs.json("init", tmp_path / "abs" / "deep", cwd=tmp_path)
    assert doc["layout"] == "standard" and os.path.realpath(doc["worktree_path"]) == str(tmp_path / "abs/deep/main")
    jvs.ok("init", "./rel/repo", cwd=tmp_path)
    assert (tmp_path / "rel" / "repo" / ".jvs").is_dir() and (tmp_path / "rel" / "repo" / "main").is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    doc = jvs.json("init", ".", cwd=empty)  # an empty directory gets the Go tool's layout
    assert doc["layout"] == "standard" and (empty / "main").is_dir()


def test_init_dot_adopts_folder_in_place(jvs, tmp_path):
    proj = _project(tmp_path / "proj")
    before, inodes = payload(proj), _inodes(proj)
    p = jvs.ok("init", cwd=proj)
    assert "Adopted in place" in p.stdout
    assert payload(proj) == {**before, **{k: v for k, v in payload(proj).items() if k.startswith(".jvs")}}
    assert _inodes(proj) == inodes  # nothing moved, nothing copied
    assert not (proj / "main").exists() and not (proj / "worktrees").exists()
    info = jvs.json("info", cwd=proj / "src")
    assert info["layout"] == "adopted" and info["worktree"] == "main"
    assert os.path.realpath(info["worktree_path"]) == str(proj)


def test_adopted_snapshot_restore_round_trip_excludes_jvs(jvs, tmp_path):
    proj = _project(tmp_path / "proj")
    jvs.ok("init", proj, cwd=tmp_path)
    inodes = _inodes(proj)
    s1 = jvs.json("snapshot", "first", "--tag", "v1", cwd=proj)["snapshot"]["snapshot_id"]
    stored = payload(proj / ".jvs" / "snapshots" / s1)
    assert not any(k == ".jvs" or k.startswith(".jvs/") for k in stored), sorted(stored)
    assert _inodes(proj) == inodes  # a snapshot reads the folder, never rewrites it
    write(proj / "README.md", "changed\n")
    write(proj / "new.txt", "new\n")
    (proj / "src" / "main.py").unlink()
    diff = jvs.json("diff", cwd=proj)
    assert {c["path"] for c in diff["added"]} == {"new.txt"}
    jvs.ok("restore", "v1", cwd=proj)
    assert (proj / "README.md").read_text() == "# project\n" and not (proj / "new.txt").exists()
    assert (proj / "src" / "main.py").exists() and (proj / ".jvs" / "format_version").exists()
    jvs.ok("restore", "HEAD", cwd=proj)
    assert jvs.json("verify", "--all", cwd=proj)["ok"] is True
    assert jvs.json("doctor", "--strict", cwd=proj)["healthy"] is True


def test_adopted_fork_lives_under_jvs(jvs, tmp_path):
    proj = _project(tmp_path / "proj")
    jvs.ok("init", proj, cwd=tmp_path)
    jvs.ok("snapshot", "base", cwd=proj)
    doc = jvs.json("worktree", "fork", "exp", cwd=proj)
    path = doc.get("path") or doc["worktree"]["path"]
    assert os.path.realpath(path).startswith(str(proj / ".jvs") + "/")
    assert (proj.joinpath(path) / "README.md").read_text() == "# project\n"
    assert jvs.json("info", cwd=path)["worktree"] == "exp"
    write(os.path.join(path, "exp.txt"), "x\n")
    jvs.ok("snapshot", "in fork", cwd=path)
    assert not (proj / "exp.txt").exists()


def test_init_no_adopt_uses_go_layout(jvs, tmp_path):
    proj = _project(tmp_path / "proj")
    doc = jvs.json("init", "--no-adopt", proj, cwd=tmp_path)
    assert doc["layout"] == "standard" and (proj / "main").is_dir()
    adopted = tmp_path / "empty-adopted"
    adopted.mkdir()
    assert jvs.json("init", "--adopt", adopted, cwd=tmp_path)["layout"] == "adopted"


def test_init_inside_a_worktree_refuses_and_writes_nothing(jvs, tmp_path):
    jvs.ok("init", "repo", cwd=tmp_path)
    write(tmp_path / "repo" / "main" / "sub" / "f.txt", "x\n")
    before = tree_state(tmp_path / "repo")
    for where, arg in ((tmp_path / "repo" / "main", "."), (tmp_path / "repo" / "main", "sub"),
                       (tmp_path / "repo" / "main", "new/nested"), (tmp_path, "repo"), (tmp_path / "repo", ".")):
        doc = jvs.error("init", arg, cwd=where, code="E_REPO_EXISTS", exit=EXIT_CONFLICT)
        assert "nothing was changed" in doc["error"]["hint"]
    assert tree_state(tmp_path / "repo") == before
    proj = _project(tmp_path / "proj")
    jvs.ok("init", cwd=proj)
    before = tree_state(proj)
    doc = jvs.error("init", "src", cwd=proj, code="E_REPO_EXISTS", exit=EXIT_CONFLICT)
    assert doc["error"]["details"]["inside"] is True
    jvs.error("init", cwd=proj, code="E_REPO_EXISTS", exit=EXIT_CONFLICT)
    assert tree_state(proj) == before


def test_init_on_a_file_refuses(jvs, tmp_path):
    write(tmp_path / "file.txt", "x")
    jvs.error("init", "file.txt", cwd=tmp_path, code="E_PATH_CONFLICT", exit=EXIT_CONFLICT)
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]


def test_adopting_a_parent_of_a_repository_refuses(jvs, tmp_path):
    jvs.ok("init", "inner/repo", cwd=tmp_path)
    write(tmp_path / "inner" / "repo" / "main" / "f.txt", "x\n")
    before = tree_state(tmp_path)
    doc = jvs.error("init", cwd=tmp_path, code="E_REPO_EXISTS", exit=EXIT_CONFLICT)
    assert doc["error"]["details"]["nested_repo"].endswith("inner/repo")
    assert tree_state(tmp_path) == before
