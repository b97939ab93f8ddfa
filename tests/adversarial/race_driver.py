"""Drives jvs operations through libjvs for a bounded number of rounds while the adversary races:

    python3 race_driver.py <repo> <rounds> <full-snapshot-id> <partial-snapshot-id>

Each round: snapshot main, diff main, restore the partial snapshot, restore the full one, restore
HEAD (back to the latest), fork the full snapshot, snapshot the fork, remove the fork, then a gc
plan and run that deletes the fork's snapshot. Every outcome is counted by operation and result
(`ok` or the error code) and printed as one JSON document. Run as its own process so that the
environment (JVS_TEST_FORCE_WALK) picks the resolution mode."""
import json
import pathlib
import sys
import time
from collections import Counter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "library"))
from libjvs_driver import LIB_PATH, JvsError, Lib  # noqa: E402

# Codes an operation may fail with when the tree changes under it; anything else is a finding.
EXPECTED = {"E_PATH_ESCAPE", "E_IO", "E_PATH_CONFLICT", "E_PATH_NOT_FOUND", "E_SNAPSHOT_INCOMPLETE",
            "E_DETACHED", "E_GC_PLAN_MISMATCH", "E_REF_NOT_FOUND", "E_WORKTREE_NOT_FOUND",
            "E_WORKTREE_EXISTS", "E_NO_SNAPSHOTS"}


def main():
    repo, rounds, full, partial = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    r, _ = Lib(LIB_PATH).open(repo)
    counts, unexpected = Counter(), []

    def op(method, **kw):
        try:
            doc = r.call(method if method != "snapshot_fork" else "snapshot", **kw)
            counts[f"{method}:ok"] += 1
            return doc
        except JvsError as e:
            counts[f"{method}:{e.code}"] += 1
            if e.code not in EXPECTED:
                unexpected.append(f"{method}: {e}")
            return None

    start = time.monotonic()
    for i in range(rounds):
        op("snapshot", note=f"race {i}")
        op("diff")
        op("restore", ref=partial)
        op("restore", ref=full)
        op("restore", ref="HEAD")
        name = f"fk{i}"
        if op("worktree_fork", **{"from": full, "name": name}):
            op("snapshot_fork", worktree=name, note=f"fork {i}")
            op("worktree_remove", name=name, force=True)
        plan = op("gc_plan", keep_last=1, keep_min_age="0")  # collect the removed forks now, not in 24h
        if plan:
            op("gc_run", plan_id=plan["plan_id"])
    r.close()
    print(json.dumps({"counts": counts, "unexpected": unexpected, "seconds": time.monotonic() - start,
                      "operations": sum(counts.values())}))


if __name__ == "__main__":
    main()
