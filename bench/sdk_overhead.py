#!/usr/bin/env python3
"""Per-call cost of the Python SDK (in-process, cffi) vs the CLI through subprocess.

    JVS_LIBRARY=build/libjvs.so PYTHONPATH=python-cffi/src \\
        python3 bench/sdk_overhead.py [--cli build/jvs] [--iterations 200] [--files 10] [--json]

Measures, in the same run and on identical small workspaces:

  * ``Workspace.history(limit=1)``  vs  ``subprocess.run([jvs, "history", "--limit", "1", "--json"])``
  * ``Workspace.snapshot(note)``    vs  ``subprocess.run([jvs, "snapshot", note, "--json"])``

Each side has its own repository (same files); rounds alternate between the two sides so that
drift (page cache, repository growth) affects both alike. Reports the median and mean per call
and the ratio subprocess / SDK (target: >= 200x). The subprocess side includes everything a
CLI-wrapping SDK pays: fork/exec, loading the binary and libjvs, parsing the JSON output.
"""

from __future__ import annotations

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
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
if "jvs" not in sys.modules:
    try:
        import jvs  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(ROOT / "python-cffi" / "src"))
        if not os.environ.get("JVS_LIBRARY") and (ROOT / "build" / "libjvs.so").exists():
            os.environ["JVS_LIBRARY"] = str(ROOT / "build" / "libjvs.so")
import jvs  # noqa: E402


def populate(root: Path, files: int) -> None:
    for i in range(files):
        p = root / ("src/mod%02d.py" % i)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("def f%d():\n    return %d\n" % (i, i) * 20)


def timed(fn: Callable[[], object], n: int) -> List[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def stats(samples: List[float]) -> Dict[str, float]:
    return {"median_us": statistics.median(samples) * 1e6, "mean_us": statistics.fmean(samples) * 1e6,
            "min_us": min(samples) * 1e6, "n": float(len(samples))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.environ.get("JVS_CLI") or str(ROOT / "build" / "jvs"))
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5, help="alternations between SDK and CLI blocks")
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    cli = shutil.which(args.cli) or args.cli
    if not os.access(cli, os.X_OK):
        print("CLI not found at %s (use --cli)" % cli, file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="jvs-bench-"))
    try:
        sdk_ws = jvs.Workspace.init(tmp / "sdk")
        populate(sdk_ws.path, args.files)
        sdk_ws.snapshot("seed")
        cli_ws = jvs.Workspace.init(tmp / "cli")
        populate(cli_ws.path, args.files)
        cli_ws.snapshot("seed")
        cli_cwd = str(cli_ws.path)
        cli_ws.close()

        env = dict(os.environ)
        lib_dir = os.path.dirname(os.path.realpath(jvs.library_path()))
        env["LD_LIBRARY_PATH"] = lib_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")

        def run_cli(*argv: str) -> dict:
            r = subprocess.run([cli, *argv, "--json"], cwd=cli_cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if r.returncode != 0:
                raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                          r.stderr.decode(errors="replace")))
            parsed: dict = json.loads(r.stdout)
            return parsed

        # sanity: both sides answer the same question
        assert run_cli("history", "--limit", "1") is not None
        assert sdk_ws.history(limit=1)

        per_round = max(1, args.iterations // args.rounds)
        results: Dict[str, Dict[str, List[float]]] = {
            "history(limit=1)": {"sdk": [], "cli": []},
            "snapshot()": {"sdk": [], "cli": []},
        }
        # warm-up
        timed(lambda: sdk_ws.history(limit=1), 20)
        timed(lambda: run_cli("history", "--limit", "1"), 3)
        for _ in range(args.rounds):
            results["history(limit=1)"]["sdk"] += timed(lambda: sdk_ws.history(limit=1), per_round)
            results["history(limit=1)"]["cli"] += timed(lambda: run_cli("history", "--limit", "1"), per_round)
            results["snapshot()"]["sdk"] += timed(lambda: sdk_ws.snapshot("bench"), per_round)
            results["snapshot()"]["cli"] += timed(lambda: run_cli("snapshot", "bench"), per_round)
        sdk_ws.close()

        report = {
            "library": jvs.library_version(),
            "python": sys.version.split()[0],
            "files": args.files,
            "iterations": per_round * args.rounds,
            "results": {},
        }
        for name, sides in results.items():
            s, c = stats(sides["sdk"]), stats(sides["cli"])
            report["results"][name] = {"sdk": s, "cli": c,
                                       "ratio_median": c["median_us"] / s["median_us"],
                                       "ratio_mean": c["mean_us"] / s["mean_us"]}
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print("libjvs %s, Python %s, %d files, %d calls per side and operation"
                  % (report["library"], report["python"], args.files, report["iterations"]))
            print()
            print("| call | SDK median | SDK mean | subprocess median | subprocess mean | ratio (median) | ratio (mean) |")
            print("|---|---|---|---|---|---|---|")
            for name, r in report["results"].items():
                print("| %s | %.1f µs | %.1f µs | %.0f µs | %.0f µs | %.0fx | %.0fx |" % (
                    name, r["sdk"]["median_us"], r["sdk"]["mean_us"], r["cli"]["median_us"],
                    r["cli"]["mean_us"], r["ratio_median"], r["ratio_mean"]))
            print()
            for name, r in report["results"].items():
                verdict = "meets" if r["ratio_median"] >= 200 else "MISSES"
                print("%s: SDK is %.0fx faster than subprocess (%s the 200x target)"
                      % (name, r["ratio_median"], verdict))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
