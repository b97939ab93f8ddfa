"""Fixtures of the adversarial suite: the library, a populated repository, and a canary tree outside
the repository that nothing jvs does may create, change, delete or read.

The canary (`<tmp>/outside/`) holds a directory of files and a `secret` file (mode 0600, as a
root-only file would be), each carrying a unique token. Afterwards:
  - the same entries exist with the same type, mode, size, mtime and content (nothing created,
    changed or deleted);
  - no entry's access time moved (every atime is set to 1970 first, so under relatime any read or
    directory listing would move it), when the filesystem updates atimes at all (probed; the check
    is skipped with a printed reason otherwise);
  - the token appears in no file anywhere in the repository (nothing was read into a snapshot,
    manifest, worktree or cache)."""
import hashlib
import os
import pathlib
import secrets
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "library"))

from libjvs_driver import LIB_PATH, Lib  # noqa: E402

JVS_BIN = os.environ.get("JVS_BIN", str(HERE.parents[1] / "build" / "jvs"))


@pytest.fixture(scope="session")
def lib():
    if not os.path.exists(LIB_PATH):
        pytest.skip(f"libjvs not built at {LIB_PATH}")
    return Lib(LIB_PATH)


@pytest.fixture
def jvs_bin():
    if not os.path.exists(JVS_BIN):
        pytest.skip(f"jvs CLI not built at {JVS_BIN}")
    return JVS_BIN


def atime_is_updated(directory):
    """Whether reading a file whose atime predates its mtime moves the atime here (relatime)."""
    probe = os.path.join(directory, ".atime-probe")
    with open(probe, "w") as f:
        f.write("x")
    os.utime(probe, (1, os.stat(probe).st_mtime))
    with open(probe) as f:
        f.read()
    moved = os.stat(probe).st_atime > 1
    os.unlink(probe)
    return moved


class Canary:
    def __init__(self, base):
        self.root = pathlib.Path(base) / "outside"
        self.token = "CANARY-" + secrets.token_hex(16)
        d = self.root / "dir"
        (d / "sub").mkdir(parents=True)
        for rel in ("f0", "f1", "sub/f0", "sub/deep"):
            (d / rel).write_text(f"{self.token} {rel}\n")
        (self.root / "secret").write_text(f"{self.token} secret, readable by its owner only\n")
        os.chmod(self.root / "secret", 0o600)
        self.atime_checked = atime_is_updated(base)
        self.paths = sorted(p for p in self.root.rglob("*")) + [self.root]
        self.before = self._state(read=True)
        # Last, after every read of our own: atimes back to 1970, older than every mtime, so that
        # (relatime) the next read of a file or listing of a directory moves them.
        for p in self.paths:
            os.utime(p, ns=(1_000_000_000, os.lstat(p).st_mtime_ns), follow_symlinks=False)
        self.atimes = {p: os.lstat(p).st_atime_ns for p in self.paths}

    def _state(self, read):
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in dirnames + filenames:
                p = pathlib.Path(dirpath) / n
                st = os.lstat(p)
                content = None
                if read and not os.path.islink(p) and p.is_file():
                    content = hashlib.sha256(p.read_bytes()).hexdigest()
                out[str(p.relative_to(self.root))] = (st.st_mode, st.st_size, st.st_mtime_ns, content)
        return out

    def escapes(self, repo_root):
        """Everything that shows jvs reached outside: a list of findings (empty = none)."""
        found = []
        if self.atime_checked:  # first, before anything below reads the canary itself
            for p in self.paths:
                try:
                    if os.lstat(p).st_atime_ns != self.atimes[p]:
                        found.append(f"read: {p}")
                except FileNotFoundError:
                    found.append(f"deleted: {p}")
        after = self._state(read=True)
        for rel in sorted(set(self.before) | set(after)):
            if self.before.get(rel) != after.get(rel):
                found.append(f"changed: {rel} {self.before.get(rel)} -> {after.get(rel)}")
        token = self.token.encode()
        for dirpath, dirnames, filenames in os.walk(repo_root):  # never follows links
            for n in filenames:
                p = os.path.join(dirpath, n)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                with open(p, "rb") as f:
                    if token in f.read():
                        found.append(f"canary content inside the repository: {p}")
        return found

    def describe(self):
        return "atime, content and listing checked" if self.atime_checked else \
            "content and listing checked (atime not updated on this filesystem: read check skipped)"


@pytest.fixture
def canary(tmp_path):
    c = Canary(tmp_path)
    if not c.atime_checked:
        print("\n[adversarial] this filesystem does not update access times: the 'nothing read' check relies "
              "on the token search only", file=sys.stderr)
    return c


def populate(worktree, files_per_dir=8):
    """d0..d3, each with sub/ and files f0..; the names the adversary attacks."""
    for k in range(4):
        d = pathlib.Path(worktree) / f"d{k}"
        (d / "sub").mkdir(parents=True, exist_ok=True)
        for i in range(files_per_dir):
            (d / f"f{i}").write_text(f"d{k} file {i}\n" * (i + 1))
            (d / "sub" / f"f{i}").write_text(f"d{k}/sub file {i}\n")
    (pathlib.Path(worktree) / "top").write_text("top\n")
