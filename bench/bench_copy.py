#!/usr/bin/env python3
"""Copy-engine benchmark of jvs: snapshot / restore / fork against `cp -a` + `sync`.

One run generates a deterministic workspace (default ~500 MB in ~10,000 files of random bytes, in
nested directories), then times, side by side and REPEAT times each:

  first snapshot           jvs snapshot of the freshly generated workspace  vs  cp -a ws dst && sync
  snapshot after 1%        jvs snapshot after rewriting 1% of the files     vs  the same floor
  restore after 1%         jvs restore <first> after rewriting 1%           vs  the same floor
  fork                     jvs worktree fork <first> <name>                  vs  the same floor

and finally measures the disk space of `.jvs/` after ten snapshots with 1% churn between them
against one full copy of the workspace.  Medians are reported with ratios against the targets.

Every timed run (floor and jvs alike) starts with `sync; echo 3 > /proc/sys/vm/drop_caches`
("cold"), unless --warm is given or the caches cannot be dropped (then both run warm and the
report says so).  The wall time is that of the whole `jvs` process, start-up included; peak RSS
comes from the rusage of that one process (os.wait4, the same number `/usr/bin/time -v` prints).
After every jvs run the benchmark also times a plain `sync` ("deferred flush"): the writeback the
command left behind, which `cp -a && sync` pays inside the floor.

Usage: python3 bench/bench_copy.py [--size-mb 500] [--files 10000] [--repeat 3] [--keep] [--no-write]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from benchtree import Workspace
from perfdoc import write_doc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_JVS = os.path.join(ROOT, "build", "jvs")
PERF_DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
SECTION = "## Copy engine (ext4)"

TARGETS = {  # metric -> (max ratio, text)
    "first_snapshot": (1.3, "<= 1.3x"),
    "snapshot_1pct": (0.2, "<= 0.2x"),
    "restore_1pct": (0.2, "<= 0.2x"),
    "fork": (1.1, "<= 1.1x"),
    "space_10": (1.2, "<= 1.2x"),
}
LABELS = {
    "first_snapshot": "first snapshot",
    "snapshot_1pct": "snapshot after 1% change",
    "restore_1pct": "restore <first> after 1% change",
    "fork": "worktree fork <first>",
    "space_10": "space: .jvs after 10 snapshots, 1% churn",
}


_T0 = time.perf_counter()


def log(*a):
    print(f"[{time.perf_counter() - _T0:6.1f}s]", *a, file=sys.stderr, flush=True)


# ---- workspace ------------------------------------------------------------------------------------

# ---- measurement helpers --------------------------------------------------------------------------

class Runner:
    def __init__(self, jvs, tmp, cold, engine):
        self.jvs, self.tmp, self.cold = jvs, tmp, cold
        self.env = dict(os.environ)
        if engine != "auto":
            self.env["JVS_ENGINE"] = engine  # builds without engine selection ignore it

    def drop_caches(self):
        os.sync()
        if self.cold:
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")

    def run(self, argv, cwd=None, check=True):
        """Runs argv; returns (wall seconds, peak RSS bytes, stdout text)."""
        with tempfile.TemporaryFile(dir=self.tmp) as out, tempfile.TemporaryFile(dir=self.tmp) as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, env=self.env)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            text = out.read().decode(errors="replace")
            if check and p.returncode != 0:
                raise RuntimeError(f"{argv} failed ({p.returncode}):\n{text}\n{err.read().decode(errors='replace')}")
        return wall, ru.ru_maxrss * 1024, text

    def jvs_cmd(self, wt_dir, *args):
        """Cold (if enabled) timed jvs call; returns dict(wall, rss, flush, doc)."""
        self.drop_caches()
        wall, rss, text = self.run([self.jvs, "--json", "--no-progress", "-C", wt_dir, *args])
        t0 = time.perf_counter()
        os.sync()  # what the command left for writeback (cp -a && sync pays this inside the floor)
        flush = time.perf_counter() - t0
        return {"wall": wall, "rss": rss, "flush": flush, "doc": json.loads(text)}

    def floor(self, src):
        """cp -a src dst && sync, cold (if enabled); returns seconds. The copy goes to the trash."""
        dst = os.path.join(self.tmp, "floor-copy")
        self.drop_caches()
        t0 = time.perf_counter()
        subprocess.run(["cp", "-a", src, dst], check=True)
        subprocess.run(["sync"], check=True)
        secs = time.perf_counter() - t0
        self.trash(dst)
        return secs

    def trash(self, path):
        """Moves a tree aside (rename, O(1)); empty_trash() deletes it between measurement phases.
        Deleting inside a phase would put the cost of freeing blocks (synchronous discards on a
        filesystem mounted with `discard`) right before some timed runs and not others."""
        os.makedirs(os.path.join(self.tmp, "trash"), exist_ok=True)
        self.trash_n = getattr(self, "trash_n", 0) + 1
        os.rename(path, os.path.join(self.tmp, "trash", str(self.trash_n)))

    def empty_trash(self, settle=2.0):
        t = os.path.join(self.tmp, "trash")
        if not os.path.exists(t):
            return
        t0 = time.perf_counter()
        remove_tree(t)
        os.sync()
        dt = time.perf_counter() - t0
        self.delete_secs = getattr(self, "delete_secs", 0.0) + dt
        log(f"deleted the phase's copies in {dt:.1f}s (untimed)")
        time.sleep(settle)


def remove_tree(path):
    # `rm -rf` is several times faster than shutil.rmtree on a 10,000-file tree
    subprocess.run(["rm", "-rf", "--", path], check=True)


def du_bytes(*paths):
    out = subprocess.run(["du", "-s", "--block-size=1", *paths], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0]) if len(paths) == 1 else [int(l.split()[0]) for l in out.splitlines()]


def machine_info(path, jvs):
    df = subprocess.run(["df", "-T", path], capture_output=True, text=True).stdout.splitlines()[-1].split()
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    jvs_version = ""
    try:
        jvs_version = subprocess.run([jvs, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    rev = ""
    try:
        git = ["git", "-C", ROOT]
        rev = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--", "lib", "cli", "include"], capture_output=True,
                               text=True).stdout.strip()
        if rev and dirty:
            rev += " + uncommitted changes in lib/, cli/ or include/"
    except OSError:
        pass
    options = ""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 4 and fields[1] == df[-1]:
                    options = fields[3]
    except OSError:
        pass
    return {"rev": rev, "options": options, "nproc": os.cpu_count(), "mem_gib": mem / 2**30, "cpu": cpu, "fs": df[1], "device": df[0],
            "mount": df[-1], "kernel": platform.release(), "jvs": jvs_version}


# ---- the benchmark --------------------------------------------------------------------------------

def bench(args):
    jvs = os.path.abspath(args.jvs)
    if not os.access(jvs, os.X_OK):
        sys.exit(f"jvs not found at {jvs}; build it with `ninja -C {ROOT}/build`")
    cold = not args.warm
    if cold and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        log("cannot write /proc/sys/vm/drop_caches (not root?): running warm")
        cold = False
    base = args.dir or tempfile.gettempdir()
    tmp = tempfile.mkdtemp(prefix="jvs-bench-", dir=base)
    R = Runner(jvs, tmp, cold, args.engine)
    info = machine_info(tmp, jvs)
    if info["fs"] != "ext4":
        log(f"WARNING: {tmp} is on {info['fs']}, not ext4; the doc section is still titled '{SECTION}'")
    log(f"bench dir {tmp} on {info['fs']} ({info['device']} at {info['mount']}); "
        f"{'cold (caches dropped before every timed run)' if cold else 'warm'}")
    ws_files = Workspace(args.files, args.size_mb * 1_000_000, args.seed)
    res = {"times": {k: [] for k in TARGETS if k != "space_10"}, "floor": {k: [] for k in TARGETS if k != "space_10"},
           "rss": {k: 0 for k in TARGETS if k != "space_10"}, "flush": {k: [] for k in TARGETS if k != "space_10"},
           "stats": {}, "churn": []}
    churn_seed = [args.seed * 1000]

    def churn(wt):
        churn_seed[0] += 1
        n, nbytes = ws_files.churn(wt, churn_seed[0])
        res["churn"].append((n, nbytes))
        return n, nbytes

    def record(metric, floor_s, r):
        res["floor"][metric].append(floor_s)
        res["times"][metric].append(r["wall"])
        res["flush"][metric].append(r["flush"])
        res["rss"][metric] = max(res["rss"][metric], r["rss"])
        res["stats"].setdefault(metric, []).append(r["doc"].get("stats"))
        log(f"  {metric:15s} floor {floor_s:7.3f}s  jvs {r['wall']:7.3f}s  ratio {r['wall'] / floor_s:6.3f}"
            f"  (+{r['flush']:.3f}s deferred flush, rss {r['rss'] / 2**20:.0f} MiB) stats {json.dumps(r['doc'].get('stats'))}")

    t_start = time.perf_counter()
    res["load_start"] = os.getloadavg()
    if res["load_start"][0] > 0.5 * (os.cpu_count() or 1):
        log(f"WARNING: load average {res['load_start'][0]:.1f} on {os.cpu_count()} CPUs: other work is running, "
            "expect noisy numbers")
    try:
        # workspace, generated outside any repository, then moved (rename) into each fresh repository
        ws = os.path.join(tmp, "ws")
        t0 = time.perf_counter()
        ws_files.generate(ws, args.seed)
        log(f"generated {len(ws_files.files)} files, {ws_files.total / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s")
        res["ws_du"] = du_bytes(ws)

        # 1. first snapshot: a fresh repository per repetition, the same (unchanged) files each time
        repo = None
        for i in range(args.repeat):
            floor_s = R.floor(ws)
            repo = os.path.join(tmp, f"repo{i}")
            R.run([jvs, "--json", "init", os.path.basename(repo)], cwd=tmp)
            main = os.path.join(repo, "main")
            os.rmdir(main)
            os.rename(ws, main)
            r = R.jvs_cmd(main, "snapshot", "first")
            record("first_snapshot", floor_s, r)
            first_id = r["doc"]["snapshot"]["snapshot_id"]
            res["engine"] = r["doc"].get("engine") or r["doc"]["snapshot"].get("engine", "?")
            if res["engine"] != "copy":
                log(f"WARNING: jvs used the '{res['engine']}' engine, not copy; this is not a copy-engine result")
            ws = main
            if i + 1 < args.repeat:
                R.trash(os.path.join(repo, ".jvs"))
        main = ws
        R.empty_trash()

        # 2. snapshot after rewriting 1% of the files
        for i in range(args.repeat):
            churn(main)
            floor_s = R.floor(main)
            record("snapshot_1pct", floor_s, R.jvs_cmd(main, "snapshot", f"churn {i + 1}"))
        R.empty_trash()

        # 3. restore <first> after rewriting 1% of the files (the worktree starts equal to <first>)
        R.run([jvs, "--json", "--no-progress", "-C", main, "restore", first_id])
        os.sync()
        for i in range(args.repeat):
            churn(main)
            floor_s = R.floor(main)
            record("restore_1pct", floor_s, R.jvs_cmd(main, "restore", first_id))
        R.run([jvs, "--json", "--no-progress", "-C", main, "restore", "HEAD"])  # back to the latest
        R.empty_trash()

        # 4. fork <first> into a new worktree
        for i in range(args.repeat):
            floor_s = R.floor(main)
            name = f"benchfork{i}"
            record("fork", floor_s, R.jvs_cmd(main, "worktree", "fork", first_id, name))
            R.trash(os.path.join(repo, "worktrees", name))  # jvs accepts removing a worktree whose payload is gone
            R.run([jvs, "--json", "-C", main, "worktree", "remove", "--force", name])
        R.empty_trash()

        # 5. space: snapshots of this lineage, continued with 1% churn up to ten
        hist = json.loads(R.run([jvs, "--json", "-C", main, "history"])[2])
        n_snap = len(hist["snapshots"])
        log(f"space: continuing the lineage of {n_snap} snapshots to 10 with 1% churn each")
        while n_snap < 10:
            churn(main)
            R.run([jvs, "--json", "--no-progress", "-C", main, "snapshot", f"space {n_snap}"])
            n_snap += 1
        log(f"space: {n_snap} snapshots taken, measuring")
        hist = json.loads(R.run([jvs, "--json", "-C", main, "history"])[2])
        jvs_dir = os.path.join(repo, ".jvs")
        res["space"] = {
            "snapshots": len(hist["snapshots"]),
            "jvs_bytes": du_bytes(jvs_dir),
            "one_copy_bytes": du_bytes(main),
            "parts": {p: du_bytes(os.path.join(jvs_dir, p)) for p in sorted(os.listdir(jvs_dir))
                      if os.path.isdir(os.path.join(jvs_dir, p))},
        }
        res["space"]["ratio"] = res["space"]["jvs_bytes"] / res["space"]["one_copy_bytes"]
    except BaseException:
        cleanup(tmp, args.keep)
        raise
    res["elapsed"] = time.perf_counter() - t_start
    res["load_end"] = os.getloadavg()
    res["delete_secs"] = getattr(R, "delete_secs", 0.0)
    res["tmp"] = tmp
    res["cold"] = cold
    res["info"] = info
    res["workspace"] = {"files": len(ws_files.files), "bytes": ws_files.total, "dirs": len(ws_files.dirs),
                        "du": res["ws_du"]}
    return res


def cleanup(tmp, keep):
    if keep:
        log(f"kept {tmp}")
        return
    t0 = time.perf_counter()
    log(f"removing {tmp} ...")
    remove_tree(tmp)
    log(f"removed in {time.perf_counter() - t0:.1f}s")


# ---- report -------------------------------------------------------------------------------------

def summarise(res):
    rows = []
    for m in ("first_snapshot", "snapshot_1pct", "restore_1pct", "fork"):
        t, f = statistics.median(res["times"][m]), statistics.median(res["floor"][m])
        ratio = t / f
        fl = statistics.median(res["flush"][m])
        rows.append({"metric": m, "jvs": t, "floor": f, "ratio": ratio, "target": TARGETS[m][1],
                     "jvs_runs": res["times"][m], "floor_runs": res["floor"][m],
                     "verdict": "PASS" if ratio <= TARGETS[m][0] else "MISS", "rss": res["rss"][m],
                     "flush": fl, "ratio_flushed": (t + fl) / f})
    sp = res["space"]
    rows.append({"metric": "space_10", "jvs": sp["jvs_bytes"], "floor": sp["one_copy_bytes"], "ratio": sp["ratio"],
                 "target": TARGETS["space_10"][1], "verdict": "PASS" if sp["ratio"] <= TARGETS["space_10"][0] else "MISS"})
    return rows


def table(rows, res):
    hdr = ("| measurement | jvs, median (min-max) | floor `cp -a` + `sync`, median (min-max) | ratio | target "
           "| verdict | jvs peak RSS "
           "| deferred flush after jvs | ratio incl. flush |")
    out = [hdr, "|" + "---|" * 9]
    for r in rows:
        if r["metric"] == "space_10":
            out.append(f"| {LABELS[r['metric']]} | {r['jvs'] / 1e6:.1f} MB | {r['floor'] / 1e6:.1f} MB (one copy) "
                       f"| {r['ratio']:.3f}x | {r['target']} | **{r['verdict']}** | | | |")
        else:
            out.append(f"| {LABELS[r['metric']]} | {r['jvs']:.3f} s ({min(r['jvs_runs']):.3f}-{max(r['jvs_runs']):.3f}) "
                       f"| {r['floor']:.3f} s ({min(r['floor_runs']):.3f}-{max(r['floor_runs']):.3f}) | {r['ratio']:.3f}x "
                       f"| {r['target']} | **{r['verdict']}** | {r['rss'] / 2**20:.1f} MiB | {r['flush']:.3f} s "
                       f"| {r['ratio_flushed']:.3f}x |")
    return "\n".join(out)


def stats_lines(res):
    out = []
    for m in ("first_snapshot", "snapshot_1pct", "restore_1pct", "fork"):
        s = res["stats"].get(m, [None])[-1]
        out.append(f"- {LABELS[m]}: {json.dumps(s)}")
    return "\n".join(out)


def section(rows, res, args):
    i, w, sp = res["info"], res["workspace"], res["space"]
    churn_files = statistics.median(c[0] for c in res["churn"])
    churn_bytes = statistics.median(c[1] for c in res["churn"])
    parts = ", ".join(f"`{k}/` {v / 1e6:.2f} MB" for k, v in sp["parts"].items() if v > 4096 * 4)
    cmd = "python3 bench/bench_copy.py"
    extra = []
    if args.size_mb != 500: extra.append(f"--size-mb {args.size_mb}")
    if args.files != 10000: extra.append(f"--files {args.files}")
    if args.repeat != 3: extra.append(f"--repeat {args.repeat}")
    if args.warm: extra.append("--warm")
    if args.seed != 1: extra.append(f"--seed {args.seed}")
    if args.engine != "copy": extra.append(f"--engine {args.engine}")
    if extra: cmd += " " + " ".join(extra)
    return f"""{SECTION}

Measured by `bench/bench_copy.py` (see `bench/README.md` for what each number means).

- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; {i['jvs'] or 'jvs'}, source {i['rev'] or '?'};
  engine reported by jvs: `{res.get('engine', '?')}`
- Machine: {i['nproc']} CPUs ({i['cpu']}), {i['mem_gib']:.1f} GiB RAM, kernel {i['kernel']}
- Filesystem: {i['fs']} ({i['device']} mounted at {i['mount']}, options `{i['options']}`), benchmark tree under
  the system temp dir
- Load average (1 min) at start / end: {res['load_start'][0]:.2f} / {res['load_end'][0]:.2f}
- Workspace: {w['files']} files, {w['bytes'] / 1e6:.1f} MB of random bytes, {w['dirs']} directories
  (90% of files 1-16 KiB, 8% 16-256 KiB, 2% MB-sized holding most bytes); 1% churn = {churn_files:.0f} files
  rewritten (~{churn_bytes / 1e6:.1f} MB), 1% of each size class
- Caches: {'cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before every timed run, floor and jvs alike' if res['cold'] else 'warm (caches not dropped)'}
- Median of {args.repeat} runs (ratio = median jvs / median floor); wall time of the whole `jvs` process (start-up included); floor =
  `cp -a <worktree> <dst> && sync`; benchmark wall time {res['elapsed']:.0f} s, of which {res['delete_secs']:.0f} s
  deleting copies between phases (untimed; never inside a phase)
- Reproduce: `{cmd}`

{table(rows, res)}

"Deferred flush" is a `sync` timed right after the jvs process exits: the dirty data jvs left for
writeback. `snapshot`, `restore` and `worktree fork` each flush once with `syncfs` before they publish
(the descriptor, or the worktree config), so it is near zero for all of them: their wall time already
includes the disk writes that the floor's `sync` pays. "ratio incl. flush" would show any that did not.

Space: {sp['snapshots']} snapshots of one lineage (first + 9 with 1% churn each), `du -s --block-size=1 .jvs`
= {sp['jvs_bytes'] / 1e6:.1f} MB vs one copy of the worktree {sp['one_copy_bytes'] / 1e6:.1f} MB ({parts}).

Result `stats` of the last run of each:
{stats_lines(res)}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=500, help="workspace size in MB (default 500)")
    ap.add_argument("--files", type=int, default=10000, help="number of files (default 10000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per timed measurement; the median is reported")
    ap.add_argument("--seed", type=int, default=1, help="workspace and churn seed (default 1)")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark directory")
    ap.add_argument("--no-write", action="store_true", help=f"do not update {os.path.relpath(PERF_DOC, ROOT)}")
    ap.add_argument("--warm", action="store_true", help="do not drop the page cache before timed runs")
    ap.add_argument("--dir", help="parent directory of the benchmark tree (default: the system temp dir)")
    ap.add_argument("--engine", default="copy",
                    help="JVS_ENGINE for the jvs runs (default copy: this is the copy-engine benchmark; 'auto' = unset)")
    ap.add_argument("--jvs", default=DEFAULT_JVS, help="jvs executable (default build/jvs)")
    ap.add_argument("--json-out", help="also write the raw results as JSON to this file")
    args = ap.parse_args()
    if args.repeat < 1 or args.files < 100 or args.size_mb < 1:
        ap.error("need --repeat >= 1, --files >= 100, --size-mb >= 1")
    res = bench(args)
    rows = summarise(res)
    text = section(rows, res, args)
    print(text)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"rows": rows, **{k: v for k, v in res.items()}}, f, indent=2, default=str)
    if not args.no_write:
        write_doc(text, SECTION)
        log(f"updated {PERF_DOC}")
    cleanup(res["tmp"], args.keep)
    return 0 if all(r["verdict"] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
