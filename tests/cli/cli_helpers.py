"""Helpers shared by the CLI tests (importable: tests/cli is on sys.path)."""

import hashlib
import os
import stat
from pathlib import Path

# Exit codes (docs/ARCHITECTURE.md).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_LOCKED, EXIT_CORRUPT, EXIT_CONFLICT = 0, 1, 2, 3, 4, 5, 6
EXIT_CANCELLED = 130


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "JVS_ENGINE")}
    env.update({"TZ": "UTC", "LC_ALL": "C.UTF-8", "NO_COLOR": "1", "TERM": "dumb"})
    env.update(extra)
    return env


def write(path, text, mode=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def removed_worktree_snapshot(repo, jvs):
    """A snapshot of `a` in main, then one of a worktree `t` that is removed: returns the latter, which
    only gc's minimum age still protects."""
    write(repo.main / "a.txt", "a\n")
    repo.snapshot("a")
    jvs.ok("worktree", "create", "t")
    write(repo.wt("t") / "t.txt", "t\n")
    t = repo.snapshot("t", cwd=repo.wt("t"))
    jvs.ok("worktree", "remove", "t")
    return t


def tree_state(root, ignore=(".jvs/locks", ".jvs/cache/engine.json")):
    """Full listing of a directory: type, mode, size, content hash / link target per path.

    Lock files are ignored: a writer records its owner in them when it takes the lock, which is
    allowed even when the operation then fails. So is the engine-detection cache, which the first
    writer creates once per repository (a probe result, not repository content).
    """
    root = Path(root)
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                state[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                state[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                state[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return state


def payload(root):
    """The user-visible content of a worktree: {relpath: content or ('link', target) or 'dir'}."""
    root = Path(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out
