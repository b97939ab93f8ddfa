#!/usr/bin/env python3
"""Scale benchmark of jvs: many small files, and one big sparse file, with the copy engine.

Many files (for each --files N, default 100,000; 1,000,000 with `--files 100000 1000000`): a generated
tree of N small files, 100 to a directory (two directory levels), in a fresh repository. Then, each
measured as wall time and peak RSS of the `jvs` process (`/usr/bin/time -f %M`), against the hard-link floor of the format, `cp -al` of the worktree (same filesystem):

  snapshot after 0.1%      rewrite 0.1% of the files, `jvs snapshot`       vs  cp -al worktree copy
  restore after 0.1%       rewrite 0.1% of the files, `jvs restore <last>` vs  the same floor
  history / info / diff    of the unchanged worktree (O(files) in time, bounded in memory)

The first snapshot (a full copy) is timed too, for information. Caches are warm (a million-file tree
cannot be dropped and re-read fairly on a shared machine); every timed run starts after a sync.

Sparse (--sparse-gib, default 5): one file of that apparent size holding 8 KiB of data; snapshot,
restore (after deleting it) and fork, each timed with the disk it used (st_blocks), against
`cp --sparse=always`.

Usage: python3 bench/bench_scale.py [--files 100000 [1000000]] [--repeat 1] [--dir DIR] [--no-write]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_copy import ROOT, DEFAULT_JVS, PERF_DOC, log, machine_info, remove_tree
from perfdoc import write_doc

SECTION = "## Scale: a million files (copy engine)"
TARGETS = {  # metric -> max ratio against cp -al (None: reported, no target)
    "first_snapshot": None,
    "snapshot_0.1pct": 1.0,
    "restore_0.1pct": 0.5,
    "history": None,
    "info": None,
    "diff_stat": None,
}
RSS_PER_FILE = 400  # bytes per file, plus a fixed base
RSS_BASE = 20 << 20


class Runner:
    def __init__(self, jvs, tmp, engine):
        self.jvs, self.tmp = jvs, tmp
        self.env = dict(os.environ)
        if engine != "auto":
            self.env["JVS_ENGINE"] = engine

    def run(self, argv, cwd=None):
        """(wall seconds, peak RSS bytes, stdout) of one child process, after a sync. The RSS comes
        from /usr/bin/time, which forks the command: Linux carries a process's RSS high-water mark
        across exec, so the rusage of a child this (large) Python process started directly would
        report this process's RSS as the command's."""
        os.sync()
        rss_file = os.path.join(self.tmp, "rss")
        with tempfile.TemporaryFile(dir=self.tmp) as out, tempfile.TemporaryFile(dir=self.tmp) as err:
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv], cwd=cwd, stdout=out,
                               stderr=err, env=self.env)
            wall = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            if p.returncode != 0:
                raise RuntimeError(f"{argv} failed:\n{out.read().decode()}\n{err.read().decode()}")
            with open(rss_file) as f:
                rss = int(f.read().split()[-1]) * 1024
            return wall, rss, out.read().decode(errors="replace")

    def jvs_json(self, wt, *args):
        wall, rss, text = self.run([self.jvs, "--json", "--no-progress", "-C", wt, *args])
        return wall, rss, json.loads(text)

    def floor(self, src):
        """cp -al src <tmp>/floor; (wall, rss); the copy is removed afterwards (untimed)."""
        dst = os.path.join(self.tmp, "floor")
        wall, rss, _ = self.run(["cp", "-al", src, dst])
        remove_tree(dst)
        return wall, rss


# ---- many files -----------------------------------------------------------------------------------

def layout(n):
    """Relative paths of n files, 100 per directory, directories two levels deep (100 per parent)."""
    paths = []
    for i in range(n):
        d = i // 100
        paths.append(f"g{d // 100:03d}/d{d % 100:02d}/f{i % 100:02d}.txt")
    return paths


def write_file(path, i, gen):
    with open(path, "wb") as f:
        f.write(f"file {i} generation {gen}\n".encode() * 3)


def generate(root, paths):
    made = set()
    for i, rel in enumerate(paths):
        d = os.path.dirname(rel)
        if d not in made:
            os.makedirs(os.path.join(root, d), exist_ok=True)
            made.add(d)
        write_file(os.path.join(root, rel), i, 0)


def churn(root, paths, gen, fraction=0.001):
    step = max(1, round(1 / fraction))
    picked = list(range(gen % step, len(paths), step))
    for i in picked:
        write_file(os.path.join(root, paths[i]), i, gen)
    return len(picked)


def bench_files(R, n, repeat):
    tmp = tempfile.mkdtemp(prefix=f"scale-{n}-", dir=R.tmp)
    repo = os.path.join(tmp, "r")
    R.run([R.jvs, "--json", "init", "r"], cwd=tmp)
    main = os.path.join(repo, "main")
    paths = layout(n)
    t0 = time.perf_counter()
    generate(main, paths)
    log(f"{n:,} files generated in {time.perf_counter() - t0:.1f}s")
    res = {"files": n, "runs": {k: [] for k in TARGETS}}

    def record(metric, wall, rss, floor=None, stats=None):
        res["runs"][metric].append({"wall": wall, "rss": rss, "floor": floor, "stats": stats})
        ratio = f" floor {floor[0]:.2f}s ratio {wall / floor[0]:.2f}x" if floor else ""
        log(f"  {n:>9,} {metric:16s} {wall:7.2f}s rss {rss / 2**20:7.1f} MiB ({rss / n:6.0f} B/file){ratio}")

    floor = R.floor(main)  # before the first snapshot: it reads every file anyway
    wall, rss, doc = R.jvs_json(main, "snapshot", "first")
    record("first_snapshot", wall, rss, floor, doc.get("stats"))
    # Later floors link the latest snapshot's tree (same files, same directories), never the
    # worktree: a link changes each file's ctime, and the stat cache (rightly) trusts no file whose
    # ctime moved, so `cp -al` of the worktree would make jvs re-read every file.
    snap_tree = lambda d: os.path.join(repo, ".jvs", "snapshots", d["snapshot"]["snapshot_id"])  # noqa: E731
    gen = 0
    for _ in range(repeat):
        gen += 1
        churn(main, paths, gen)
        floor = R.floor(snap_tree(doc))
        wall, rss, doc = R.jvs_json(main, "snapshot", f"churn {gen}")
        record("snapshot_0.1pct", wall, rss, floor, doc.get("stats"))
    last = doc["snapshot"]["snapshot_id"]
    last_tree = snap_tree(doc)
    for _ in range(repeat):
        gen += 1
        churn(main, paths, gen)
        floor = R.floor(last_tree)
        wall, rss, doc = R.jvs_json(main, "restore", last)
        record("restore_0.1pct", wall, rss, floor, doc.get("stats"))
    for _ in range(repeat):  # the worktree is now unchanged
        for metric, argv in (("history", ["history"]), ("info", ["info"]), ("diff_stat", ["diff", "--stat"])):
            wall, rss, doc = R.jvs_json(main, *argv)
            if metric == "diff_stat":
                assert doc["totals"] == {"added": 0, "removed": 0, "modified": 0}, doc["totals"]
            record(metric, wall, rss)
    remove_tree(tmp)
    return res


def summarise(res):
    n = res["files"]
    rows = []
    for metric, target in TARGETS.items():
        runs = res["runs"][metric]
        if not runs:
            continue
        wall = statistics.median(r["wall"] for r in runs)
        rss = max(r["rss"] for r in runs)
        floor = statistics.median(r["floor"][0] for r in runs) if runs[0]["floor"] else None
        ratio = wall / floor if floor else None
        mem_ok = rss <= RSS_BASE + RSS_PER_FILE * n
        time_ok = target is None or (ratio is not None and ratio <= target)
        rows.append({"files": n, "metric": metric, "wall": wall, "floor": floor, "ratio": ratio, "target": target,
                     "rss": rss, "mem_ok": mem_ok, "time_ok": time_ok})
    return rows


# ---- one sparse file ------------------------------------------------------------------------------

def bench_sparse(R, gib):
    tmp = tempfile.mkdtemp(prefix="sparse-", dir=R.tmp)
    repo = os.path.join(tmp, "r")
    R.run([R.jvs, "--json", "init", "r"], cwd=tmp)
    main = os.path.join(repo, "main")
    f = os.path.join(main, "disk.img")
    size = gib << 30
    with open(f, "wb") as out:
        out.write(b"a" * 4096)
        out.seek(size - 4096)
        out.write(b"z" * 4096)
    blocks = lambda p: os.stat(p).st_blocks * 512  # noqa: E731
    rows = []
    floor_wall, _, _ = R.run(["cp", "--sparse=always", f, os.path.join(tmp, "floor.img")])
    wall, rss, doc = R.jvs_json(main, "snapshot", "sparse")
    sid = doc["snapshot"]["snapshot_id"]
    rows.append(("snapshot", wall, blocks(os.path.join(repo, ".jvs", "snapshots", sid, "disk.img")), doc))
    os.unlink(f)
    wall, rss, doc = R.jvs_json(main, "restore", sid)
    rows.append(("restore", wall, blocks(f), doc))
    wall, rss, doc = R.jvs_json(main, "worktree", "fork", sid, "sparsefork")
    rows.append(("fork", wall, blocks(os.path.join(repo, "worktrees", "sparsefork", "disk.img")), doc))
    remove_tree(tmp)
    for what, wall, used, _ in rows:
        log(f"  sparse {gib} GiB {what:9s} {wall:6.2f}s, {used / 1024:.0f} KiB on disk (cp --sparse=always {floor_wall:.2f}s)")
    return {"gib": gib, "floor": floor_wall,
            "rows": [{"op": w, "wall": t, "disk": u, "degradations": d.get("degradations", [])} for w, t, u, d in rows]}


# ---- report ---------------------------------------------------------------------------------------

def section(rows, sparse, info, load, args):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [SECTION, "",
           "Measured by `bench/bench_scale.py`: a generated tree of N small files (100 to a directory) in a fresh "
           "repository, copy engine, warm caches, a sync before every timed run. Floor: `cp -al` of the worktree "
           "(the hard-link floor of the format). Targets (issue 9): snapshot after a 0.1% change <= 1.0x, restore "
           "after a 0.1% change <= 0.5x, peak RSS <= 400 bytes per file + a fixed base (here taken as 20 MiB). "
           "Peak RSS is `/usr/bin/time -f %M` of the jvs process.", "",
           f"- Date: {now}; {info['jvs']}, source {info['rev']}",
           f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['mem_gib']:.1f} GiB RAM, kernel {info['kernel']}",
           f"- Filesystem: {info['fs']} on {info['device']} ({info['options']})",
           f"- Load average (1 min) at start / end: {load[0]:.2f} / {load[1]:.2f} on {info['nproc']} CPUs "
           "(other work on the machine shows up in these numbers)",
           f"- Reproduce: `nice python3 bench/bench_scale.py --files {' '.join(str(n) for n in args.files)} "
           f"--repeat {args.repeat}`", "",
           "| files | operation | jvs | floor (cp -al) | ratio | target | peak RSS | bytes/file | memory target |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        floor = f"{r['floor']:.2f} s" if r["floor"] else "—"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "—"
        target = f"<= {r['target']}x {'met' if r['time_ok'] else 'MISSED'}" if r["target"] else "—"
        out.append(f"| {r['files']:,} | {r['metric']} | {r['wall']:.2f} s | {floor} | {ratio} | {target} | "
                   f"{r['rss'] / 2**20:.1f} MiB | {r['rss'] / r['files']:.0f} | {'met' if r['mem_ok'] else 'MISSED'} |")
    if sparse:
        out += ["", f"Sparse file: {sparse['gib']} GiB apparent size, 8 KiB of data "
                f"(`cp --sparse=always`: {sparse['floor']:.2f} s).", "",
                "| operation | jvs | disk used by the copy | degradations |", "|---|---|---|---|"]
        for r in sparse["rows"]:
            out.append(f"| {r['op']} | {r['wall']:.2f} s | {r['disk'] / 1024:.0f} KiB | "
                       f"{', '.join(d['kind'] for d in r['degradations']) or 'none'} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, nargs="+", default=[100_000], help="tree sizes (default 100000)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per timed measurement (median)")
    ap.add_argument("--sparse-gib", type=int, default=5, help="apparent size of the sparse file (0: skip)")
    ap.add_argument("--dir", help="parent directory of the benchmark trees (default: the system temp dir)")
    ap.add_argument("--engine", default="copy", help="JVS_ENGINE for jvs runs (default copy; 'auto' = unset)")
    ap.add_argument("--jvs", default=DEFAULT_JVS)
    ap.add_argument("--no-write", action="store_true", help=f"do not update {os.path.relpath(PERF_DOC, ROOT)}")
    ap.add_argument("--json-out", help="also write the raw results as JSON to this file")
    args = ap.parse_args()
    jvs = os.path.abspath(args.jvs)
    tmp = tempfile.mkdtemp(prefix="jvs-scale-", dir=args.dir or tempfile.gettempdir())
    R = Runner(jvs, tmp, args.engine)
    info = machine_info(tmp, jvs)
    load0 = os.getloadavg()[0]
    rows, raw, sparse = [], [], None
    try:
        if args.sparse_gib > 0:
            sparse = bench_sparse(R, args.sparse_gib)
        for n in args.files:
            res = bench_files(R, n, args.repeat)
            raw.append(res)
            rows += summarise(res)
    finally:
        remove_tree(tmp)
    text = section(rows, sparse, info, (load0, os.getloadavg()[0]), args)
    print(text)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"rows": rows, "raw": raw, "sparse": sparse}, f, indent=2, default=str)
    if not args.no_write:
        write_doc(text, SECTION)
        log(f"updated {PERF_DOC}")
    return 0 if all(r["mem_ok"] and r["time_ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
