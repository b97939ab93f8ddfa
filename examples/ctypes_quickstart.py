#!/usr/bin/env python3
"""libjvs driven with nothing but the standard library's ctypes.

For consumers that cannot install cffi (or the jvs package): init a repository, snapshot,
list history, change files, restore - freeing every buffer the library returns.

    python3 examples/ctypes_quickstart.py [REPO_DIR]       # uses a pip-installed jvs package's library
    JVS_LIBRARY=build/libjvs.so python3 examples/ctypes_quickstart.py [REPO_DIR]

Rules this example follows (docs/ARCHITECTURE.md, include/jvs.h):
  * every function gets explicit argtypes/restype (ctypes would otherwise assume `int` and
    truncate 64-bit pointers);
  * an owned result (char **out_json) is received as a c_void_p - never c_char_p, which would
    convert to bytes and lose the pointer - copied with string_at, then released with
    jvs_free() exactly once, on success *and* on failure;
  * `const char *` returns (jvs_version_string, jvs_status_name) are static: never freed;
  * the handle is an opaque c_void_p closed with jvs_repo_close().
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import json
import os
import sys
import tempfile
from typing import Any, Dict, Optional

c_status = ctypes.c_int32
c_repo_p = ctypes.c_void_p
# typedef int32_t (*jvs_event_cb)(const char *event_json, void *user_data);
EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)
P_OUT = ctypes.POINTER(ctypes.c_void_p)  # char **out_json, read as an untyped pointer

# name: (restype, argtypes) - every symbol of include/jvs.h used here.
SIGNATURES = {
    "jvs_abi_version": (ctypes.c_uint32, []),
    "jvs_version_string": (ctypes.c_char_p, []),  # static: c_char_p is fine, never freed
    "jvs_status_name": (ctypes.c_char_p, [c_status]),  # static
    "jvs_free": (None, [ctypes.c_void_p]),
    "jvs_repo_init": (c_status, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(c_repo_p), P_OUT]),
    "jvs_repo_open": (c_status, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(c_repo_p), P_OUT]),
    "jvs_repo_close": (None, [c_repo_p]),
    "jvs_snapshot": (c_status, [c_repo_p, ctypes.c_char_p, EVENT_CB, ctypes.c_void_p, P_OUT]),
    "jvs_restore": (c_status, [c_repo_p, ctypes.c_char_p, EVENT_CB, ctypes.c_void_p, P_OUT]),
    "jvs_history": (c_status, [c_repo_p, ctypes.c_char_p, P_OUT]),
}
EXPECTED_ABI = 1


class JvsError(Exception):
    def __init__(self, status: int, doc: Optional[Dict[str, Any]]):
        err = (doc or {}).get("error", {})
        self.status = status
        self.code = err.get("code", "")
        self.hint = err.get("hint", "")
        super().__init__("%s: %s (hint: %s)" % (self.code or status, err.get("message", ""), self.hint))


def installed_package_library() -> Optional[str]:
    """The libjvs.so.1 inside a pip-installed `jvs` package (found without importing it: the
    package itself needs cffi, this example does not)."""
    try:
        spec = importlib.util.find_spec("jvs")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "libjvs.so.1")
        if os.path.exists(path):
            return path
    return None


def load_library() -> ctypes.CDLL:
    """$JVS_LIBRARY, else the library of a pip-installed jvs package, else the system's libjvs.so.1."""
    candidates = [os.environ.get("JVS_LIBRARY"), installed_package_library(), ctypes.util.find_library("jvs"),
                  "libjvs.so.1"]
    errors = []
    for name in candidates:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise SystemExit("libjvs not found (set JVS_LIBRARY): " + "; ".join(errors))
    for fn, (restype, argtypes) in SIGNATURES.items():
        f = getattr(lib, fn)
        f.restype = restype
        f.argtypes = argtypes
    abi = lib.jvs_abi_version()
    if abi != EXPECTED_ABI:
        raise SystemExit("libjvs ABI %d, this example speaks ABI %d" % (abi, EXPECTED_ABI))
    return lib


LIB = load_library()
NO_CALLBACK = EVENT_CB()  # a NULL function pointer


def take(status: int, out: ctypes.c_void_p) -> Dict[str, Any]:
    """Copy the result document, free it (always), raise on failure."""
    doc = None
    if out.value:
        try:
            doc = json.loads(ctypes.string_at(out.value).decode("utf-8"))
        finally:
            LIB.jvs_free(out)
            out.value = None
    if status != 0:
        if doc is None:  # only JVS_E_NOMEM may leave out_json NULL
            raise MemoryError(LIB.jvs_status_name(status).decode())
        raise JvsError(status, doc)
    assert doc is not None
    return doc


def opts(**kw: Any) -> bytes:
    return json.dumps(kw).encode("utf-8")


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="jvs-ctypes-")
    repo_dir = os.path.join(base, "repo")
    print("libjvs", LIB.jvs_version_string().decode(), "ABI", LIB.jvs_abi_version())

    repo = c_repo_p()
    out = ctypes.c_void_p()
    info = take(LIB.jvs_repo_init(repo_dir.encode(), None, ctypes.byref(repo), ctypes.byref(out)), out)
    try:
        wt = info.get("worktree_path") or os.path.join(repo_dir, "main")
        print("init", info["repo_root"], "worktree", wt)

        with open(os.path.join(wt, "model.txt"), "w") as f:
            f.write("v1\n")
        snap1 = take(LIB.jvs_snapshot(repo, opts(note="first", tags=["v1"]), NO_CALLBACK, None,
                                      ctypes.byref(out)), out)["snapshot"]
        print("snapshot", snap1["snapshot_id"], snap1.get("note"))

        # A progress callback: keep the CFUNCTYPE object referenced for the whole call.
        events = []

        @EVENT_CB
        def on_event(event_json: bytes, _user_data: Optional[int]) -> int:
            events.append(json.loads(event_json))
            return 0  # non-zero would cancel

        with open(os.path.join(wt, "model.txt"), "w") as f:
            f.write("v2\n")
        with open(os.path.join(wt, "scratch.tmp"), "w") as f:
            f.write("temporary\n")
        snap2 = take(LIB.jvs_snapshot(repo, opts(note="second"), on_event, None, ctypes.byref(out)),
                     out)["snapshot"]
        print("snapshot", snap2["snapshot_id"], snap2.get("note"), "(%d progress events)" % len(events))

        hist = take(LIB.jvs_history(repo, opts(limit=10), ctypes.byref(out)), out)
        for d in hist["snapshots"]:
            print("history", d["snapshot_id"], d.get("note", ""), ",".join(d.get("tags", [])))

        res = take(LIB.jvs_restore(repo, opts(ref="v1"), NO_CALLBACK, None, ctypes.byref(out)), out)
        with open(os.path.join(wt, "model.txt")) as f:
            content = f.read().strip()
        print("restore", res["snapshot_id"], "model.txt =", content,
              "scratch.tmp exists =", os.path.exists(os.path.join(wt, "scratch.tmp")),
              "detached =", res.get("detached"))
        assert content == "v1" and not os.path.exists(os.path.join(wt, "scratch.tmp"))

        # An error: the document comes back in the same out slot and is freed the same way.
        try:
            take(LIB.jvs_restore(repo, opts(ref="no-such-snapshot"), NO_CALLBACK, None,
                                 ctypes.byref(out)), out)
        except JvsError as e:
            print("error", e.code, LIB.jvs_status_name(e.status).decode())

        res = take(LIB.jvs_restore(repo, opts(ref="HEAD"), NO_CALLBACK, None, ctypes.byref(out)), out)
        print("restore HEAD", res["snapshot_id"], "detached =", res.get("detached"))
    finally:
        LIB.jvs_repo_close(repo)
    print("ok")


if __name__ == "__main__":
    main()
