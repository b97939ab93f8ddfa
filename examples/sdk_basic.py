#!/usr/bin/env python3
"""The "before agent run / on failure restore" pattern with the jvs Python SDK.

    python3 examples/sdk_basic.py [WORKSPACE_REPO] [--fail]

Creates the repository if needed, snapshots a baseline, runs a (simulated) agent that edits,
creates and deletes files, then either snapshots the result or - when the agent fails
(``--fail``) - restores the baseline, which also removes every file the agent created.
The second half shows the same thing with ``jvs.transaction``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import List

import jvs


class AgentFailed(RuntimeError):
    pass


def agent_run(workdir: Path, fail: bool) -> str:
    """Stand-in for an agent: rewrites a file, creates one, deletes one, maybe crashes."""
    (workdir / "plan.md").write_text("# plan\n1. refactor\n2. test\n")
    (workdir / "scratch").mkdir(exist_ok=True)
    (workdir / "scratch" / "tmp.json").write_text('{"half": "done"}\n')
    if (workdir / "old.txt").exists():
        (workdir / "old.txt").unlink()
    if fail:
        raise AgentFailed("the agent crashed half-way")
    return "refactor done"


def listing(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def main(argv: List[str]) -> int:
    fail = "--fail" in argv
    args = [a for a in argv if not a.startswith("--")]
    repo = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="jvs-sdk-basic-")) / "agent-repo"

    ws = jvs.Workspace.init(repo) if not (repo / ".jvs").exists() else jvs.Workspace(repo)
    with ws:
        print("workspace", ws.path, "(libjvs %s)" % jvs.library_version())
        if ws.current_snapshot is None:  # seed a small project on first use
            (ws.path / "plan.md").write_text("# plan\n")
            (ws.path / "old.txt").write_text("obsolete\n")
            ws.snapshot("initial import", tags=["init"])

        # --- the plan's pattern, spelled out ------------------------------------------------
        baseline = ws.snapshot("Before agent run")
        print("baseline", baseline.id, "files:", listing(ws.path))
        try:
            result = agent_run(ws.path, fail)
            done = ws.snapshot("Agent completed: %s" % result)
            print("agent ok -> snapshot", done.id, "files:", listing(ws.path))
        except AgentFailed as e:
            ws.restore(baseline.id)
            print("agent failed (%s) -> restored %s, files: %s" % (e, baseline.id, listing(ws.path)))
            assert not (ws.path / "scratch").exists(), "files created by the agent are removed"

        # --- the same with a transaction ----------------------------------------------------
        try:
            with jvs.transaction(ws, note="agent run (transaction)") as tx:
                agent_run(ws.path, fail)
            assert tx.after is not None
            print("transaction committed", tx.after.id)
        except AgentFailed:
            print("transaction rolled back to", tx.baseline.id if tx.baseline else "?",
                  "files:", listing(ws.path))

        for snap in ws.history(limit=5):
            print("  %s  %s  %s" % (snap.id, snap.created_at.isoformat(timespec="seconds"), snap.note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
