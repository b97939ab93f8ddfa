"""Threads and processes together on one repository: 8 processes x 4 threads snapshot, restore and
fork their own worktrees while other processes run gc plan/run and verify --all in a loop. Afterwards:
zero corrupt snapshots, an intact audit chain holding exactly one record per mutating call that
succeeded, every worktree's head valid and equal to its files. And two processes racing on one
worktree: each attempt either wins or fails with E_LOCKED, and nothing is lost."""
import json
import os
import subprocess
import sys
import time

import pytest

from libjvs_driver import LIB_PATH

HERE = os.path.dirname(os.path.abspath(__file__))
PROCS, THREADS, ROUNDS = 8, 4, int(os.environ.get("JVS_CONCURRENCY_ROUNDS", "4"))

PRELUDE = f"""
import json, os, sys, threading, time
sys.path.insert(0, {HERE!r})
from libjvs_driver import Lib, JvsError
lib = Lib({os.path.abspath(LIB_PATH)!r})
def wait_for_go(root):  # every process starts at once
    while not os.path.exists(os.path.join(root, "go")):
        time.sleep(0.005)
"""

# One process: THREADS threads, each owning worktree w<p>-<t> (created concurrently), half of them
# sharing the process's handle. Prints one JSON line per thread: its snapshots, audited calls, errors.
WORKER = PRELUDE + """
root, p, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wait_for_go(root)
shared, _ = lib.open(root)
WAIT = 120000  # lock_timeout_ms: writers wait for each other, never fail

def work(t):
    rep = {"wt": f"w{p}-{t}", "snapshots": [], "audited": 0, "errors": [], "fork_snapshots": []}
    h = shared if t % 2 == 0 else lib.open(root)[0]
    wt = rep["wt"]
    def call(method, **kw):
        doc = h.call(method, **kw)
        if doc.get("warnings"):
            rep["errors"].append(f"{method} warned: {doc['warnings']}")
        return doc
    try:
        call("worktree_create", name=wt, lock_timeout_ms=WAIT)
        rep["audited"] += 1
        d = os.path.join(root, "worktrees", wt)
        for r in range(rounds):
            for i in range(4):
                with open(os.path.join(d, f"f{i}.txt"), "w") as f:
                    f.write(f"{wt} round {r} file {i}\\n" * (10 + r * 7 + i))
            os.makedirs(os.path.join(d, "sub"), exist_ok=True)
            with open(os.path.join(d, "sub", f"r{r}.txt"), "w") as f:
                f.write(f"{wt} {r}\\n")
            sid = call("snapshot", worktree=wt, note=f"{wt} r{r}", lock_timeout_ms=WAIT)["snapshot"]["snapshot_id"]
            rep["snapshots"].append(sid)
            rep["audited"] += 1
            if r >= 1:  # back one step (detached), then return to the latest
                call("restore", worktree=wt, ref="HEAD~1", lock_timeout_ms=WAIT)
                call("restore", worktree=wt, ref="HEAD", lock_timeout_ms=WAIT)
                rep["audited"] += 2
            if r == 1:  # a fork that lives briefly: its own snapshot becomes garbage for gc
                fk = f"f{p}-{t}"
                call("worktree_fork", name=fk, lock_timeout_ms=WAIT, **{"from": sid})
                with open(os.path.join(root, "worktrees", fk, "fork.txt"), "w") as f:
                    f.write("fork\\n")
                rep["fork_snapshots"].append(
                    call("snapshot", worktree=fk, lock_timeout_ms=WAIT)["snapshot"]["snapshot_id"])
                call("worktree_remove", name=fk, lock_timeout_ms=WAIT)
                rep["audited"] += 3
    except Exception as e:  # reported, and fails the test
        rep["errors"].append(repr(e))
    if h is not shared:
        h.close()
    print(json.dumps(rep), flush=True)

ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for x in ts: x.start()
for x in ts: x.join()
"""

# gc plan + gc run in a loop until the workers are done. A plan overtaken by the workers is refused
# (E_GC_PLAN_MISMATCH); anything else is an error.
GC = PRELUDE + """
root = sys.argv[1]
r, _ = lib.open(root)
wait_for_go(root)
rep = {"audited": 0, "runs": 0, "mismatches": 0, "deleted": [], "errors": []}
while not os.path.exists(os.path.join(root, "done")):
    try:
        plan = r.call("gc_plan", keep_min_age="0", keep_last=0)
        rep["audited"] += 1
        try:
            res = r.call("gc_run", plan_id=plan["plan_id"], lock_timeout_ms=120000)
            rep["audited"] += 1
            rep["runs"] += 1
            rep["deleted"] += res["deleted"]
        except JvsError as e:
            if e.code != "E_GC_PLAN_MISMATCH":
                raise
            rep["mismatches"] += 1
    except Exception as e:
        rep["errors"].append(repr(e))
    time.sleep(0.05)
print(json.dumps(rep), flush=True)
"""

# verify --all in a loop: every verdict while everything else runs must be "ok".
VERIFY = PRELUDE + """
root = sys.argv[1]
r, _ = lib.open(root)
wait_for_go(root)
rep = {"passes": 0, "checked": 0, "skipped": 0, "errors": []}
while not os.path.exists(os.path.join(root, "done")):
    try:
        doc = r.call("verify", all=True, payload=True)
        rep["passes"] += 1
        rep["checked"] += len(doc["results"])
        rep["skipped"] += len(doc.get("skipped", []))
        if not doc["ok"]:
            rep["errors"].append(json.dumps([x for x in doc["results"] if x.get("code")] + [doc["audit"]]))
    except Exception as e:
        rep["errors"].append(repr(e))
print(json.dumps(rep), flush=True)
"""


def spawn(code, *args):
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def reports(p, timeout):
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err[-3000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def audit_records(root):
    return [json.loads(line) for line in (root / ".jvs" / "audit" / "audit.jsonl").read_text().splitlines()]


def test_8_processes_x_4_threads_with_gc_and_verify_running(lib, tmp_path, capsys):
    root = tmp_path / "r"
    r, _ = lib.open(root, init=True)
    try:
        (root / "main" / "seed.txt").write_text("seed\n")
        r.call("snapshot", note="seed")
        started = time.monotonic()
        workers = [spawn(WORKER, root, p, THREADS, ROUNDS) for p in range(PROCS)]
        gc, verify = spawn(GC, root), spawn(VERIFY, root)
        time.sleep(1.0)  # let every process load the library and wait at the start line
        (root / "go").write_text("")
        per_thread = [rep for w in workers for rep in reports(w, 600)]
        (root / "done").write_text("")
        gc_rep, verify_rep = reports(gc, 300)[0], reports(verify, 300)[0]
        elapsed = time.monotonic() - started
        (root / "go").unlink()
        (root / "done").unlink()

        assert len(per_thread) == PROCS * THREADS
        errors = [e for rep in per_thread for e in rep["errors"]] + gc_rep["errors"] + verify_rep["errors"]
        assert not errors, "\n".join(errors[:20])
        assert verify_rep["passes"] >= 1

        # Zero corrupt snapshots, an intact audit chain with one record per audited call.
        v = r.call("verify", all=True, payload=True)
        assert v["ok"] and v["audit"]["ok"] and not v.get("skipped"), json.dumps(v)[:3000]
        expected_records = 1 + sum(rep["audited"] for rep in per_thread) + gc_rep["audited"]
        assert v["audit"]["records"] == expected_records == len(audit_records(root))

        # Nothing a worktree needs was collected; only the removed forks' snapshots were.
        fork_snaps = {s for rep in per_thread for s in rep["fork_snapshots"]}
        assert set(gc_rep["deleted"]) <= fork_snaps
        published = {s["snapshot_id"] for s in r.call("history", all=True)["snapshots"]}
        for rep in per_thread:
            assert set(rep["snapshots"]) <= published, rep["wt"]
            assert len(rep["snapshots"]) == ROUNDS
            wt = r.call("worktree_list")["worktrees"]
            cfg = next(w for w in wt if w["name"] == rep["wt"])
            # Every head valid: the thread's last snapshot, attached, verifying, equal to the files.
            assert cfg["head_snapshot_id"] == cfg["latest_snapshot_id"] == rep["snapshots"][-1]
            assert not cfg["detached"]
            assert r.call("verify", ref=cfg["head_snapshot_id"])["ok"]
            assert r.call("diff", worktree=rep["wt"], stat=True)["totals"] == {"added": 0, "removed": 0, "modified": 0}
            lineage = [s["snapshot_id"] for s in r.call("history", worktree=rep["wt"])["snapshots"]]
            assert lineage[:ROUNDS] == rep["snapshots"][::-1]
        # A final collection takes whatever the loop left of the forks, and nothing else.
        plan = r.call("gc_plan", keep_min_age="0", keep_last=0)
        assert set(plan["candidates"]) <= fork_snaps
        r.call("gc_run", plan_id=plan["plan_id"])
        assert fork_snaps.isdisjoint({s["snapshot_id"] for s in r.call("history", all=True)["snapshots"]})
        doc = r.call("doctor", strict=True)
        assert doc["healthy"] and all(f["severity"] == "info" for f in doc["findings"]), json.dumps(doc)[:3000]
        with capsys.disabled():
            print(f"\nconcurrency: {PROCS} processes x {THREADS} threads x {ROUNDS} rounds in {elapsed:.1f}s: "
                  f"{sum(len(x['snapshots']) + len(x['fork_snapshots']) for x in per_thread)} snapshots, "
                  f"gc {gc_rep['runs']} runs ({len(gc_rep['deleted'])} deleted, {gc_rep['mismatches']} refused), "
                  f"verify {verify_rep['passes']} passes ({verify_rep['checked']} verdicts, all ok), "
                  f"{v['audit']['records']} audit records intact")
    finally:
        r.close()


# Two processes on the same worktree, attempts without waiting: one wins, the other gets E_LOCKED.
RACER = PRELUDE + """
root, who, attempts, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
wait_for_go(root)
r, _ = lib.open(root)
rep = {"ok": [], "locked": 0, "errors": []}
for k in range(attempts):
    with open(os.path.join(root, "main", f"{who}.txt"), "w") as f:
        f.write(f"{who} {k}\\n")
    try:
        doc = r.call("snapshot", note=f"{who} {k}", lock_timeout_ms=timeout)
        rep["ok"].append([doc["snapshot"]["snapshot_id"], doc["snapshot"]["note"]])
    except JvsError as e:
        if e.code == "E_LOCKED" and timeout == 0:
            rep["locked"] += 1
            assert e.doc["error"]["hint"] and "holder" in e.doc["error"]["details"]
        else:
            rep["errors"].append(repr(e))
print(json.dumps(rep), flush=True)
"""


@pytest.mark.parametrize("timeout", [0, 60000])
def test_two_processes_racing_on_one_worktree_lose_nothing(lib, tmp_path, timeout):
    root = tmp_path / "r"
    r, _ = lib.open(root, init=True)
    try:
        (root / "main" / "seed.txt").write_text("seed\n")
        base = r.call("snapshot", note="seed")["snapshot"]["snapshot_id"]
        attempts = 15
        ps = [spawn(RACER, root, who, attempts, timeout) for who in ("a", "b")]
        (root / "go").write_text("")
        reps = [reports(p, 300)[0] for p in ps]
        (root / "go").unlink()
        assert not [e for x in reps for e in x["errors"]]
        won = [s for x in reps for s in x["ok"]]
        assert len(won) + sum(x["locked"] for x in reps) == 2 * attempts
        if timeout:
            assert len(won) == 2 * attempts  # waiting writers all get their turn
        # Every winner is in the one linear lineage, in order; nothing was lost or branched off.
        hist = r.call("history")["snapshots"]
        assert [d["snapshot_id"] for d in hist][-1] == base
        assert {(d["snapshot_id"], d["note"]) for d in hist[:-1]} == {tuple(s) for s in won}
        for newer, older in zip(hist, hist[1:]):
            assert newer["parent_id"] == older["snapshot_id"]
        v = r.call("verify", all=True)
        assert v["ok"] and v["audit"]["records"] == 1 + len(won)
    finally:
        r.close()
