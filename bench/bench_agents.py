#!/usr/bin/env python3
"""Parallel agents: N agents forked from one baseline, against the copies a user would make instead.

    sudo nice python3 bench/bench_agents.py [--only ext4,xfs,juicefs] [--agents 100] [--workers 4]
        [--xfs 10000:500] [--juicefs 10000:500[:AGENTS]] [--ext4 1000:50] [--no-write] [--json-out FILE]

Each filesystem is made by the benchmark itself (tests/fs/fsmounts.py) and removed at the end: ext4
on a loop image (the copy engine: a fork is a full copy), XFS with reflink=1 on a loop image, JuiceFS
(SQLite metadata, local-directory bucket, FUSE). ``--FS FILES:MB[:AGENTS]`` sets each baseline
(default: the issue's scale, 10,000 files / 500 MB on XFS and JuiceFS, 1,000 files / 50 MB on ext4)
and optionally that filesystem's agent count (default ``--agents``). Needs root.

On each: a repository whose main worktree holds the baseline (bench/benchtree.py: random bytes,
realistic size mix) and a first snapshot of it, then, with ``--workers`` threads each:

  floor   ``--agents`` x ``cp -a`` of the worktree (ext4), ``cp -a --reflink=always`` (XFS),
          ``juicefs clone -p`` (JuiceFS), then syncfs(2); removed afterwards
  forks   ``--agents`` x ``Workspace.fork(from_=first)`` in one process, then syncfs; removed
  agents  ``examples/parallel_agents.py --agents N --workers W --quiet`` as a child process: a
          baseline snapshot, then per agent a fork, scripted work (a few small writes, an edit, a
          deletion, every 7th a rolled-back transaction), a result snapshot; then its isolation
          check (not timed: the runner reports the time of its agent phase)

Reported per filesystem: wall time of each phase, forks (or agents) per second, bytes added to the
filesystem per fork/agent (used space from statfs before and after, after syncfs; on JuiceFS the
bytes of the bucket directory plus the metadata file, since its statfs counts a clone's logical
size), and the child's peak RSS. Targets (issue 12): on XFS and JuiceFS the agents phase <= 1.5x the
floor's time and <= 1% of the baseline's bytes per agent; on ext4 <= 1.1x the copy floor.
Caches stay warm. Replaces the ``## Parallel agents`` section of docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fs"))
sys.path.insert(0, str(ROOT / "bench"))
import fsmounts  # noqa: E402
from perfdoc import write_doc  # noqa: E402
from benchtree import Workspace as BenchTree  # noqa: E402

try:
    import jvs
except ImportError:  # a checkout: the package source and the library built next to it
    sys.path.insert(0, str(ROOT / "python-cffi" / "src"))
    os.environ.setdefault("JVS_LIBRARY", str(ROOT / "build" / "libjvs.so.1"))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [sys.path[0], os.environ.get("PYTHONPATH")]))
    import jvs

PERF_DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Parallel agents"
RUNNER = ROOT / "examples" / "parallel_agents.py"
DEFAULT_SCALE = {"ext4": (1000, 50), "xfs": (10000, 500), "juicefs": (10000, 500)}
TIME_TARGET = {"ext4": 1.1, "xfs": 1.5, "juicefs": 1.5}
BYTES_TARGET = {"xfs": 0.01, "juicefs": 0.01}  # of the baseline's bytes, per agent
FLOOR_NAME = {"ext4": "cp -a", "xfs": "cp -a --reflink=always", "juicefs": "juicefs clone -p"}

Result = Dict[str, Any]


def log(*a: Any) -> None:
    print(*a, file=sys.stderr, flush=True)


def used_bytes(m: Any) -> int:
    """Bytes the filesystem holds: statfs for a loop filesystem; for JuiceFS what its bucket and
    metadata take on the disk below (its statfs counts a clone as a copy)."""
    fsmounts.syncfs(m.path)
    if m.kind == "juicefs":
        total = 0
        for d, _, names in os.walk(m.bucket):
            total += sum(os.lstat(os.path.join(d, n)).st_blocks * 512 for n in names)
        meta = m.meta_url.split("://", 1)[1]
        return total + sum(os.lstat(p).st_blocks * 512 for p in (meta, meta + "-wal") if os.path.exists(p))
    st = os.statvfs(m.path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def timed(m: Any, work: Callable[[], Any]) -> Tuple[float, int]:
    """Wall time of ``work`` plus a final syncfs, and the bytes it added."""
    before = used_bytes(m)
    t0 = time.perf_counter()
    work()
    fsmounts.syncfs(m.path)
    seconds = time.perf_counter() - t0
    return seconds, used_bytes(m) - before


def in_parallel(workers: int, n: int, job: Callable[[int], Any]) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(job, range(n)))


def floor_phase(m: Any, src: Path, dst: Path, agents: int, workers: int) -> Result:
    dst.mkdir()

    def copy(i: int) -> None:
        target = str(dst / ("copy-%03d" % i))
        argv = {"ext4": ["cp", "-a", str(src), target],
                "xfs": ["cp", "-a", "--reflink=always", str(src), target],
                "juicefs": [m.juicefs, "clone", "-p", str(src), target]}[m.kind]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    seconds, added = timed(m, lambda: in_parallel(workers, agents, copy))
    shutil.rmtree(dst)
    fsmounts.syncfs(m.path)
    return {"seconds": seconds, "bytes_per": added / agents}


def forks_phase(m: Any, ws: jvs.Workspace, first: jvs.Snapshot, agents: int, workers: int) -> Result:
    names = ["bench-fork-%03d" % i for i in range(agents)]

    def fork(i: int) -> None:
        ws.fork(names[i], from_=first).close()

    seconds, added = timed(m, lambda: in_parallel(workers, agents, fork))
    for n in names:
        ws.remove_worktree(n)
    fsmounts.syncfs(m.path)
    return {"seconds": seconds, "bytes_per": added / agents}


def agents_phase(m: Any, repo: Path, agents: int, workers: int) -> Result:
    out: Dict[str, Any] = {}

    def run() -> None:
        with open(repo.parent / "runner.out", "w+") as f:
            child = subprocess.Popen([sys.executable, str(RUNNER), str(repo), "--agents", str(agents),
                                      "--workers", str(workers), "--quiet"], stdout=f, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(child.pid, 0)  # the runner's own peak RSS, not other children's
            child.returncode = os.waitstatus_to_exitcode(status)
            f.seek(0)
            out["stdout"], out["peak_rss"] = f.read(), usage.ru_maxrss * 1024
        if child.returncode != 0:
            raise RuntimeError("parallel_agents.py failed:\n" + out["stdout"])

    seconds, added = timed(m, run)
    match = re.search(r"(\d+) agents on (\d+) workers in ([\d.]+) s", out["stdout"])
    assert match and "isolation: ok" in out["stdout"], out["stdout"]
    return {"seconds": float(match.group(3)), "process_seconds": seconds, "bytes_per": added / agents,
            "peak_rss": out["peak_rss"],
            "summary": [ln for ln in out["stdout"].splitlines() if ln.startswith(("baseline", "isolation"))]}


def bench_fs(kind: str, files: int, size_mb: int, agents: int, workers: int, parent: Optional[str]) -> Result:
    tree = BenchTree(files, size_mb * 1_000_000, 1)
    # Room for the baseline, its snapshot, the floor's copies (ext4: full ones) and some slack.
    image = max(2 << 30, int(tree.total * (agents + 3) * 1.3)) if kind == "ext4" else max(2 << 30, tree.total * 6)
    kw: Dict[str, Any] = {"parent": parent} if kind == "juicefs" else {"size": image, "parent": parent}
    with fsmounts.mounted(kind, **kw) as m:
        log("[%s] %s at %s: generating %d files, %.0f MB" % (kind, m.fstype, m.path, files, tree.total / 1e6))
        repo = Path(m.path) / "repo"
        with jvs.Workspace.init(repo) as ws:
            tree.generate(str(ws.path), 1)
            first = ws.snapshot("bench baseline")
            log("[%s] first snapshot %s (%s engine)" % (kind, first.id, first.engine))
            log("[%s] floor: %d x %s" % (kind, agents, FLOOR_NAME[kind]))
            floor = floor_phase(m, ws.path, Path(m.path) / "floor", agents, workers)
            log("[%s] %d forks" % (kind, agents))
            forks = forks_phase(m, ws, first, agents, workers)
        log("[%s] %d agents" % (kind, agents))
        runner = agents_phase(m, repo, agents, workers)
        return {"kind": kind, "agents_n": agents, "fstype": m.fstype, "files": len(tree.files), "bytes": tree.total,
                "engine": first.engine, "floor": floor, "forks": forks, "agents": runner,
                "image_dir": os.path.dirname(m.base), "image_fs": fsmounts.fstype(os.path.dirname(m.base))}


def fmt_bytes(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= scale:
            return "%.1f %s" % (n / scale, unit)
    return "%d B" % n


def verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**MISS**"


def render_run(results: List[Result], meta: Dict[str, Any]) -> List[str]:
    """One run: its circumstances, its table, its runner summaries."""
    lines = ["### Run of %s" % meta["date"], "",
             "- jvs %s (libjvs %s), source %s" % (jvs.__version__, jvs.library_version(), meta["rev"]),
             "- Machine: %d CPUs, %.1f GiB RAM, kernel %s; load average (1 min) at start / end: %.2f / %.2f "
             "(other jobs shared the machine: the numbers carry their noise)" % (
                 os.cpu_count() or 0, meta["mem_gib"], platform.release(), meta["load"][0], meta["load"][1]),
             "- Agents per filesystem: %s; %d worker threads; caches warm; every phase ends with syncfs(2), "
             "inside its time" % (", ".join("%s %d" % (r["kind"], r["agents_n"]) for r in results), meta["workers"]),
             "- Reproduce: `%s`" % meta["cmd"], ""]
    lines += ["| filesystem (engine) | baseline | phase | wall | per second | bytes added per fork/agent | "
              "% of baseline | peak RSS | vs floor | target |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        k, base = r["kind"], "%d files, %s" % (r["files"], fmt_bytes(r["bytes"]))
        fs = "%s (`%s`)" % ({"ext4": "ext4", "xfs": "XFS", "juicefs": "JuiceFS"}[k], r["engine"])
        floor, forks, agents = r["floor"], r["forks"], r["agents"]
        n = r["agents_n"]
        for phase, d, per in (("floor: %d x `%s`" % (n, FLOOR_NAME[k]), floor, "copies"),
                              ("%d x `fork`" % n, forks, "forks"), ("%d agents" % n, agents, "agents")):
            ratio = d["seconds"] / floor["seconds"]
            target = ""
            if d is agents:
                ok = ratio <= TIME_TARGET[k]
                goal = "<= %.1fx" % TIME_TARGET[k]
                if k in BYTES_TARGET:
                    ok = ok and d["bytes_per"] <= BYTES_TARGET[k] * r["bytes"]
                    goal += ", <= %g%% bytes" % (BYTES_TARGET[k] * 100)
                target = "%s %s" % (goal, verdict(ok))
            lines.append("| %s | %s | %s | %.2f s | %.1f %s/s | %s | %.3f%% | %s | %s | %s |" % (
                fs, base, phase, d["seconds"], n / d["seconds"], per, fmt_bytes(d["bytes_per"]),
                100.0 * d["bytes_per"] / r["bytes"], fmt_bytes(d["peak_rss"]) if "peak_rss" in d else "",
                "1x" if d is floor else "%.2fx" % ratio, target))
    lines.append("")
    for r in results:
        lines.append("- %s: image in %s (%s); runner: %s" % (r["kind"], r["image_dir"], r["image_fs"],
                                                            " / ".join(r["agents"]["summary"])))
    for k, why in (meta.get("unavailable") or {}).items():
        lines.append("- %s: not measured (%s)" % (k, why))
    return lines + [""]


def render(runs: List[Tuple[List[Result], Dict[str, Any]]]) -> str:
    """The section: what is measured, each run, how to read it."""
    lines = [SECTION, "", "Measured by `bench/bench_agents.py`: N agents on a thread pool, each forking its own "
             "worktree from one baseline (the runner `examples/parallel_agents.py`), against the copies a user "
             "would make instead. The agents phase is the runner's own timing of its agent phase (fork + "
             "scripted work + result snapshot per agent, on its thread pool); its process also took the "
             "baseline snapshot and ran the isolation check, both outside that time. Bytes added per agent "
             "include its fork, its changed files and its result snapshot. Peak RSS is the runner process's.", ""]
    for results, meta in runs:
        lines += render_run(results, meta)
    scale = "; ".join(", ".join("%s %d agents over %d files / %s" % (r["kind"], r["agents_n"], r["files"],
                                                                   fmt_bytes(r["bytes"])) for r in results)
                      for results, _ in runs)
    lines += ["**Scale.** Issue 12 asks for 100 agents over 10,000 files / 500 MB on XFS and JuiceFS and over "
              "1,000 files / 50 MB on ext4. Measured here: %s. On this 2-CPU machine shared with other jobs "
              "JuiceFS at that scale takes far longer than a few minutes (a `juicefs clone` of 1,000 files "
              "takes seconds here, and an agent makes two): `python3 bench/bench_agents.py` runs it." % scale, "",
              "**Reading the numbers.** The floor makes one copy per agent; an agent makes its fork *and* a "
              "result snapshot, which on XFS and JuiceFS is a second clone of the whole tree (on ext4 the "
              "copy engine hard-links the snapshot to the baseline's stored copy and copies only what "
              "changed). The like-for-like comparison with the floor is the fork row. On XFS a reflinked "
              "file still costs an inode, a directory entry and its extent records (0.6-0.8 KB a file in "
              "these runs), in the floor's copy as in a fork: with files of 50 KB on average that alone is "
              "1.2-1.6% of the baseline per copy, and an agent holds two trees (its fork and its result), so "
              "the 1%-per-agent target is below what even the floor reaches at this file size. On JuiceFS the bytes are metadata "
              "(the SQLite file grows with the inodes of each clone); no file data is copied.", ""]
    return "\n".join(lines)


def parse_scale(text: str) -> Tuple[int, ...]:
    parts = tuple(int(x) for x in text.split(":"))
    if len(parts) not in (2, 3):
        raise ValueError("FILES:MB or FILES:MB:AGENTS")
    return parts


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="ext4,xfs,juicefs")
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--workers", type=int, default=4)
    for k, (f, mb) in DEFAULT_SCALE.items():
        ap.add_argument("--" + k, type=parse_scale, default=(f, mb), metavar="FILES:MB",
                        help="baseline on %s (default %d:%d)" % (k, f, mb))
    ap.add_argument("--dir", default=None, help="where the images and JuiceFS data go (default /var/tmp)")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/PERFORMANCE.md")
    ap.add_argument("--json-out", help="also write the raw results here")
    ap.add_argument("--from-json", help="render (and write) the results of earlier --json-out runs (FILE[,FILE...]), "
                                        "one table each; run nothing")
    a = ap.parse_args(argv)
    if a.from_json:
        saved = [json.loads(Path(f).read_text()) for f in a.from_json.split(",")]
        text = render([(d["results"], d["meta"]) for d in saved])
        print(text)
        if not a.no_write:
            write_doc(text, SECTION)
        return 0
    kinds = [k for k in a.only.split(",") if k]
    if set(kinds) - set(DEFAULT_SCALE):
        ap.error("unknown filesystems: %s" % sorted(set(kinds) - set(DEFAULT_SCALE)))
    os.environ.pop("JVS_ENGINE", None)  # measure what auto-detection picks
    cmd = "python3 bench/bench_agents.py" + "".join(
        [" --only " + a.only] * (kinds != list(DEFAULT_SCALE)) +
        [" --agents %d" % a.agents] * (a.agents != 100) + [" --workers %d" % a.workers] +
        [" --%s %s" % (k, ":".join(map(str, getattr(a, k)))) for k in kinds if getattr(a, k) != DEFAULT_SCALE[k]])
    with open("/proc/meminfo") as meminfo:
        mem = int(meminfo.readline().split()[1]) * 1024
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    meta: Dict[str, Any] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "rev": rev,
                            "mem_gib": mem / 2**30, "load": [os.getloadavg()[0], 0.0], "agents": a.agents,
                            "workers": a.workers, "cmd": cmd, "unavailable": {}}
    results = []
    for k in kinds:
        files, mb, *n = getattr(a, k)
        try:
            results.append(bench_fs(k, files, mb, n[0] if n else a.agents, a.workers, a.dir))
        except fsmounts.Unavailable as e:
            meta["unavailable"][k] = str(e)
            log("%s unavailable: %s" % (k, e))
    meta["load"][1] = os.getloadavg()[0]
    text = render([(results, meta)])
    print(text)
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    if not a.no_write:
        write_doc(text, SECTION)
        log("updated %s" % PERF_DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
