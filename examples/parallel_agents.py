#!/usr/bin/env python3
"""Many agents side by side, each in its own fork of one baseline.

    python3 examples/parallel_agents.py [WORKSPACE_REPO] [--agents 100] [--workers 8] [--cleanup]

One baseline snapshot, then ``--agents`` agents on a thread pool. Each forks its own worktree
from the baseline, does scripted work there (writes a result, edits a file, deletes one; for
some seeds a risky step fails inside ``jvs.transaction`` and is rolled back), and snapshots its
result. Then a summary table (agent, fork, snapshot, files changed) and an isolation check: each
fork holds its own agent's changes and no other's, and the main worktree is untouched.
``--cleanup`` removes the forks afterwards (their snapshots stay until ``ws.gc()``). A new
repository is seeded with a small project (``--seed-files``).

The pattern, copy-pasteable::

    from concurrent.futures import ThreadPoolExecutor
    import jvs

    ws = jvs.Workspace("/data/agent-repo")
    baseline = ws.snapshot("baseline for the experiment")

    def run_agent(seed: int) -> jvs.Snapshot:
        with ws.fork("experiment-%d" % seed, from_=baseline) as fork:   # its own worktree
            run_agent_in(fork.path, seed)                                # cwd = fork.path
            return fork.snapshot("seed %d: done" % seed)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run_agent, range(100)))

One ``Workspace`` is safe to share between threads; the library releases the GIL, so forks and
snapshots of different worktrees run in parallel. On XFS (reflink) and JuiceFS a fork clones
the files instead of copying them: see docs/PERFORMANCE.md for the cost per agent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import jvs


@dataclass(frozen=True)
class AgentResult:
    """What one agent did."""

    seed: int
    fork: str  #: the worktree it worked in
    path: Path
    snapshot: jvs.Snapshot  #: its result
    changes: Dict[str, int]  #: files added / modified / removed against the baseline
    rolled_back: bool  #: a failed step was undone
    seconds: float
    expected: Dict[str, bytes]  #: what isolation must find in its fork: path -> content (b"" = absent)


class StepFailed(RuntimeError):
    pass


def agent_work(root: Path, seed: int, name: str, baseline_files: Sequence[str],
               fork: jvs.Workspace) -> Dict[str, bytes]:
    """Scripted agent: a result file, an edit, a deletion every 4th seed, and for every 7th seed
    a risky step that fails inside a transaction. Returns the expected final contents."""
    result = "agents/%s.txt" % name
    edited = baseline_files[seed % len(baseline_files)]
    (root / "agents").mkdir(exist_ok=True)
    (root / result).write_text("result of %s\n" % name)
    with open(root / edited, "ab") as f:  # the project's files may be binary
        f.write(b"\nedited by %s\n" % name.encode())
    expected = {result: b"result of %s\n" % name.encode()}
    if seed % 4 == 1:
        gone = baseline_files[(seed + 1) % len(baseline_files)]
        if gone != edited:
            (root / gone).unlink()
            expected[gone] = b""
    if seed % 7 == 3:
        try:
            with jvs.transaction(fork, note="%s: risky step" % name):
                (root / ("scratch-%s.tmp" % name)).write_text("half done")
                (root / edited).write_bytes(b"clobbered\n")
                raise StepFailed("risky step of %s failed" % name)
        except StepFailed:
            pass  # the transaction restored the files; the agent goes on
        expected["scratch-%s.tmp" % name] = b""
    expected[edited] = (root / edited).read_bytes()
    return expected


def run_agent(ws: jvs.Workspace, baseline: jvs.Snapshot, seed: int, name: str,
              baseline_files: Sequence[str]) -> AgentResult:
    t0 = time.perf_counter()
    with ws.fork(name, from_=baseline) as fork:
        expected = agent_work(fork.path, seed, name, baseline_files, fork)
        rolled_back = seed % 7 == 3
        snap = fork.snapshot("%s: done" % name, tags=["agent-result"])
        totals = fork.diff(baseline, snap, stat=True).totals
        path = fork.path
    return AgentResult(seed, name, path, snap, dict(totals), rolled_back, time.perf_counter() - t0, expected)


def isolation_problems(results: Sequence[AgentResult], ws: jvs.Workspace,
                       baseline: jvs.Snapshot) -> List[str]:
    """Every fork holds exactly its own agent's changes; main is still the baseline."""
    problems = []
    own = {r.fork for r in results}
    for r in results:
        seen = {p.stem for p in (r.path / "agents").iterdir()}
        if seen != {r.fork}:
            problems.append("%s sees results of %s" % (r.fork, sorted(seen - {r.fork}) or "nobody"))
        for rel, content in r.expected.items():
            actual = (r.path / rel).read_bytes() if (r.path / rel).exists() else b""
            if actual != content:
                problems.append("%s: %s is %r, expected %r" % (r.fork, rel, actual[-60:], content[-60:]))
            marks = [line.split()[-1].decode() for line in actual.split(b"\n") if line.startswith(b"edited by ")]
            others = [m for m in marks if m in own and m != r.fork]
            if others:
                problems.append("%s: %s holds edits of %s" % (r.fork, rel, others))
    totals = ws.diff(baseline, stat=True).totals
    if any(totals.values()):
        problems.append("main changed: %s" % totals)
    return problems


def seed_project(root: Path, files: int) -> None:
    for i in range(files):
        d = root / "src" / ("pkg%02d" % (i % 10))
        d.mkdir(parents=True, exist_ok=True)
        (d / ("mod%04d.py" % i)).write_text("# module %d\nVALUE = %d\n" % (i, i) + "x = 1\n" * 20)


def run(repo: Path, agents: int, workers: int, *, seed_files: int = 200, cleanup: bool = False,
        quiet: bool = False) -> int:
    ws = jvs.Workspace.init(repo) if not (repo / ".jvs").exists() else jvs.Workspace(repo)
    with ws:
        if ws.current_snapshot is None:
            seed_project(ws.path, seed_files)
        baseline = ws.snapshot("parallel baseline (%d agents)" % agents)
        baseline_files = sorted(p.relative_to(ws.path).as_posix() for p in ws.path.rglob("*")
                                if p.is_file() and not p.relative_to(ws.path).as_posix().startswith("agents/"))
        run_id = baseline.id[-8:]  # fork names stay unique when the runner is started again
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(
                lambda i: run_agent(ws, baseline, i, "agent-%03d-%s" % (i, run_id), baseline_files),
                range(agents)))
        wall = time.perf_counter() - t0

        if not quiet:
            print("%-22s %-24s %-5s %-5s %-5s %-9s %s" % ("fork", "snapshot", "added", "modif", "remov",
                                                       "rollback", "seconds"))
            for r in results:
                print("%-22s %-24s %5d %5d %5d %-9s %.3f" % (
                    r.fork, r.snapshot.id, r.changes.get("added", 0), r.changes.get("modified", 0),
                    r.changes.get("removed", 0), "yes" if r.rolled_back else "-", r.seconds))
        problems = isolation_problems(results, ws, baseline)
        print("baseline %s: %d files; %d agents on %d workers in %.2f s (%.1f agents/s); %d rolled back"
              % (baseline.id, len(baseline_files), agents, workers, wall, agents / wall,
                 sum(r.rolled_back for r in results)))
        print("isolation: %s" % ("ok (each fork holds only its own agent's changes; main untouched)"
                                 if not problems else "FAILED"))
        for p in problems[:20]:
            print("  " + p)
        if cleanup:
            for r in results:
                ws.remove_worktree(r.fork)
            print("removed %d forks (their snapshots stay until ws.gc())" % len(results))
        return 1 if problems else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("repo", nargs="?", help="repository (created if missing; default: a temp dir)")
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--workers", type=int, default=min(8, (os.cpu_count() or 2) * 2))
    ap.add_argument("--seed-files", type=int, default=200, help="files of a new repository's project")
    ap.add_argument("--cleanup", action="store_true", help="remove the forks at the end")
    ap.add_argument("--quiet", action="store_true", help="only the summary, not a row per agent")
    a = ap.parse_args(argv)
    if a.agents < 1 or a.workers < 1:
        ap.error("--agents and --workers must be at least 1")
    repo = Path(a.repo) if a.repo else Path(tempfile.mkdtemp(prefix="jvs-parallel-")) / "repo"
    return run(repo, a.agents, a.workers, seed_files=a.seed_files, cleanup=a.cleanup, quiet=a.quiet)


if __name__ == "__main__":
    sys.exit(main())
