"""An agent on one "host" of tests/fs/test_multihost.py: a separate process that drives libjvs through
one mount point of a shared JuiceFS volume and prints JSON on stdout.

    python3 hostagent.py work  '<spec>'   snapshot/restore/fork loops (spec: see `work`); one JSON
                                          document at the end
    python3 hostagent.py pause '<spec>'   one call that stops at the start of a phase: prints
                                          `PAUSED <phase>`, waits for a line on stdin, goes on, then
                                          prints the call's result or error as JSON
    python3 hostagent.py call  '<spec>'   calls in sequence, one JSON line each (spec: {lib, repo,
                                          calls: [[method, opts], ...], hostname?})

`hostname` (optional, with `unshare --uts`) renames the host before the library is loaded: another
host as far as jvs can tell, on the same mount."""
import ctypes
import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "library"))
sys.path.insert(0, HERE)

EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)


def open_lib(spec):
    if spec.get("hostname"):
        socket.sethostname(spec["hostname"])
    from libjvs_driver import Lib
    return Lib(spec["lib"])


def error_doc(e):
    return {"ok": False, "code": getattr(e, "code", None) or type(e).__name__, "message": str(e)[:500]}


def write_files(wt, tag, names):
    for n in names:
        p = os.path.join(wt, n)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(f"{tag} {n}\n" * 50)


def work(spec):
    """spec: {lib, repo (root through this host's mount), host, worktree, iterations, role, go_file}.
    role "own": the worktree is this agent's alone: each round writes, snapshots, dirties and restores
    the snapshot, every other round restores the previous one (detached) and HEAD again, then forks
    the snapshot; every restore and fork is compared with the snapshot's directory.
    role "shared": both hosts' agents snapshot one worktree, each writing only its own files.
    Then, with `race`, forks that name (another host's agent races for it)."""
    from cowtest import snapshot_dir, tree
    lib = open_lib(spec)
    root, host, wt_name = spec["repo"], spec["host"], spec["worktree"]
    repo, _ = lib.open(root)
    wt = os.path.join(root, "main") if wt_name == "main" else os.path.join(root, "worktrees", wt_name)
    out = {"host": host, "worktree": wt_name, "snapshots": [], "forks": [], "errors": [], "mismatches": []}
    deadline = time.monotonic() + 60
    while spec.get("go_file") and not os.path.exists(spec["go_file"]) and time.monotonic() < deadline:
        time.sleep(0.01)  # start together with the other host's agents

    def call(method, **opts):
        try:
            return repo.call(method, **opts)
        except Exception as e:  # noqa: BLE001 - reported, the test asserts there is none
            out["errors"].append({"call": method, "opts": opts, **error_doc(e)})
            return None

    def same(what, got, sid):
        want = tree(snapshot_dir(root, sid))
        if got != want:
            diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            out["mismatches"].append({"what": what, "snapshot": sid, "paths": diff[:10]})

    prev = None
    for i in range(spec["iterations"]):
        write_files(wt, f"{host}-{i}", [f"{host}/f{i}.txt", f"{host}/common.txt", f"{host}/d{i % 2}/x.txt"])
        d = call("snapshot", worktree=wt_name, note=f"{host} round {i}", lock_timeout_ms=120000)
        if not d:
            continue
        sid = d["snapshot"]["snapshot_id"]
        out["snapshots"].append({"id": sid, "parent": d["snapshot"]["parent_id"], "engine": d["engine"]})
        if spec["role"] != "own":
            continue
        write_files(wt, "junk", [f"{host}/f{i}.txt", "junk/new.txt"])
        if call("restore", worktree=wt_name, ref=sid):
            same(f"restore round {i}", tree(wt), sid)
        if prev and i % 2 and call("restore", worktree=wt_name, ref=prev):
            same(f"restore previous, round {i}", tree(wt), prev)
            if call("restore", worktree=wt_name, ref="HEAD"):
                same(f"restore HEAD, round {i}", tree(wt), sid)
        name = f"{host}-{wt_name}-f{i}"
        f = call("worktree_fork", **{"from": sid, "name": name, "lock_timeout_ms": 120000})
        if f:
            out["forks"].append({"name": name, "from": sid, "engine": f["engine"]})
            same(f"fork {name}", tree(f["worktree"]["path"]), sid)
        prev = sid
    if spec.get("race"):
        sid = out["snapshots"][-1]["id"] if out["snapshots"] else "HEAD"
        try:
            repo.call("worktree_fork", **{"from": sid, "name": spec["race"], "lock_timeout_ms": 120000})
            out["race"] = {"ok": True, "from": sid}
        except Exception as e:  # noqa: BLE001
            out["race"] = error_doc(e)
    repo.close()
    print(json.dumps(out), flush=True)


def pause(spec):
    """spec: {lib, repo, method, opts, phase, env?}: runs the call, stopping at `phase`."""
    os.environ.update(spec.get("env", {}))
    lib = open_lib(spec)
    repo, _ = lib.open(spec["repo"])
    state = {"paused": False}

    def cb(event, _):
        ev = json.loads(event)
        if ev.get("phase") == spec["phase"] and not state["paused"]:
            state["paused"] = True
            print(f"PAUSED {spec['phase']}", flush=True)
            sys.stdin.readline()  # the test kills this host's mount meanwhile
        return 0

    keep = EVENT_CB(cb)
    out = ctypes.c_void_p()
    rc = lib.c.jvs_call(repo.h, spec["method"].encode(), json.dumps(spec["opts"]).encode(),
                        ctypes.cast(keep, ctypes.c_void_p), None, ctypes.byref(out))
    try:
        doc = lib._take(rc, out)
        print(json.dumps({"ok": True, "paused": state["paused"], "doc": doc}), flush=True)
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"paused": state["paused"], **error_doc(e)}), flush=True)


def calls(spec):
    lib = open_lib(spec)
    repo, _ = lib.open(spec["repo"])
    for method, opts in spec["calls"]:
        try:
            print(json.dumps({"ok": True, "doc": repo.call(method, **opts)}), flush=True)
        except Exception as e:  # noqa: BLE001
            print(json.dumps(error_doc(e)), flush=True)
    repo.close()


if __name__ == "__main__":
    {"work": work, "pause": pause, "call": calls}[sys.argv[1]](json.loads(sys.argv[2]))
