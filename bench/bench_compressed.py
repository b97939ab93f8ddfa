#!/usr/bin/env python3
"""Reading a snapshot the Go tool compressed, against reading the same snapshot uncompressed.

A repository of --files files (--size bytes each, 100 per directory) gets two snapshots (10% of the
files changed between them); the second is timed plain, then compressed as the Go tool's
`snapshot --compress` does (tests/library/crafting.py go_compress) and timed again: `jvs restore`
from the first snapshot to the second, and `jvs verify` of the second. Median of --repeat runs, page
cache warm. Prints the times and the ratios compressed/plain (docs/PERFORMANCE.md records them).

    python3 bench/bench_compressed.py [--files 5000] [--size 4096] [--repeat 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "library"))
from crafting import go_compress  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jvs", default=str(ROOT / "build" / "jvs"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jvs-bench-compressed-"))

    def jvs(*args):
        t = time.perf_counter()
        p = subprocess.run([a.jvs, "--json", *args], cwd=tmp / "r" / "main", capture_output=True, text=True)
        dt = time.perf_counter() - t
        if p.returncode != 0:
            sys.exit(f"jvs {' '.join(args)} failed: {p.stdout}{p.stderr}")
        return json.loads(p.stdout), dt

    try:
        subprocess.run([a.jvs, "init", "r"], cwd=tmp, check=True, capture_output=True)
        main_dir = tmp / "r" / "main"
        for i in range(a.files):
            d = main_dir / f"d{i // 100}"
            d.mkdir(exist_ok=True)
            (d / f"f{i}.txt").write_bytes((f"line {i} " * (a.size // 8 + 1))[:a.size].encode())
        s1 = jvs("snapshot", "one")[0]["snapshot"]["snapshot_id"]
        for i in range(0, a.files, 10):
            (main_dir / f"d{i // 100}" / f"f{i}.txt").write_bytes(b"changed %d\n" % i)
        s2 = jvs("snapshot", "two")[0]["snapshot"]["snapshot_id"]

        def measure():
            restores, verifies = [], []
            for _ in range(a.repeat):
                jvs("restore", s1)
                restores.append(jvs("restore", s2)[1])
                verifies.append(jvs("verify", s2)[1])
            return statistics.median(restores), statistics.median(verifies)

        plain = measure()
        go_compress(tmp / "r", s2)
        compressed = measure()
        doc = jvs("verify", s2)[0]["results"][0]
        assert doc["compression"]["verdict"] == "verified", doc
        print(f"{a.files} files x {a.size} B (10% changed), median of {a.repeat}, warm:")
        for name, p, c in (("restore", plain[0], compressed[0]), ("verify", plain[1], compressed[1])):
            print(f"  {name:8} plain {p:.3f} s  compressed {c:.3f} s  ratio {c / p:.2f}x")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
