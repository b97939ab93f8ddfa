"""A plain-ctypes driver of libjvs and helpers shared by the library-level suites."""
import ctypes
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("JVS_LIB", str(ROOT / "build" / "libjvs.so"))
FIXTURES = ROOT / "tests" / "fixtures"  # repositories the Go tool wrote (see its README)
FIXTURE = FIXTURES / "upstream-repo-v1.tar.gz"
COMPRESSED_FIXTURE = FIXTURES / "upstream-compressed-v1.tar.gz"
REF_PY = ROOT / "tests" / "oracle" / "jvs_oracle.py"  # the project's oracle for the Go hashes


class JvsError(Exception):
    def __init__(self, status, doc):
        self.status, self.doc = status, doc
        self.code = doc["error"]["code"] if doc else None
        super().__init__(f"{status} {self.code}: {doc['error']['message'] if doc else ''}")


class Lib:
    """The library through ctypes only: every out buffer is copied then released with jvs_free."""

    def __init__(self, path):
        self.c = ctypes.CDLL(path)
        P, S = ctypes.c_void_p, ctypes.c_char_p
        self.c.jvs_free.argtypes = [P]
        self.c.jvs_repo_init.argtypes = self.c.jvs_repo_open.argtypes = [S, S, P, P]
        self.c.jvs_repo_close.argtypes = [P]
        self.c.jvs_call.argtypes = [P, S, S, P, P, P]
        for fn in (self.c.jvs_repo_init, self.c.jvs_repo_open, self.c.jvs_call):
            fn.restype = ctypes.c_int32

    def _take(self, rc, out):
        text = ctypes.string_at(out.value).decode() if out.value else None
        self.c.jvs_free(out)
        doc = json.loads(text) if text else None
        if rc != 0:
            raise JvsError(rc, doc)
        return doc

    def open(self, path, init=False, **opts):
        repo, out = ctypes.c_void_p(), ctypes.c_void_p()
        fn = self.c.jvs_repo_init if init else self.c.jvs_repo_open
        rc = fn(str(path).encode(), json.dumps(opts).encode(), ctypes.byref(repo), ctypes.byref(out))
        doc = self._take(rc, out)
        return Repo(self, repo), doc


class Repo:
    def __init__(self, lib, handle):
        self.lib, self.h = lib, handle

    def call(self, method, **opts):
        out = ctypes.c_void_p()
        rc = self.lib.c.jvs_call(self.h, method.encode(), json.dumps(opts).encode(), None, None, ctypes.byref(out))
        return self.lib._take(rc, out)

    def close(self):
        self.lib.c.jvs_repo_close(self.h)
        self.h = None


def tree_listing(root):
    """Everything under root: path, type, mode, size, content or link target (to prove 'unchanged').

    `.jvs/locks/` is runtime coordination state (a lock file names its last holder) and
    `.jvs/cache/engine.json` the engine-detection result the first writer caches; neither is
    repository content, so both are left out."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) == ".jvs" and "locks" in dirnames:
            dirnames.remove("locks")
        dirnames.sort()
        if os.path.basename(dirpath) == "cache" and "engine.json" in filenames:
            filenames.remove("engine.json")
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out.append((rel, "l", os.readlink(p)))
            elif os.path.isdir(p):
                out.append((rel, "d", st.st_mode))
            else:
                with open(p, "rb") as f:
                    out.append((rel, "f", st.st_mode, f.read()))
    return out


def snap(r, **kw):
    """Takes a snapshot through the handle `r`; returns its id."""
    return r.call("snapshot", **kw)["snapshot"]["snapshot_id"]
