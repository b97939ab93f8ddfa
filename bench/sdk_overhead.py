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
    ap.add_argument("--history-depth", type=int, default=10,
                    help="snapshots in the repository read by the history benchmark")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    cli = shutil.which(args.cli) or args.cli
    if not os.access(cli, os.X_OK):
        print("CLI not found at %s (use --cli)" % cli, file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="jvs-bench-"))
    try:
        def make_repo(name: str, snapshots: int) -> "jvs.Workspace":
            w = jvs.Workspace.init(tmp / name)
            populate(w.path, args.files)
            for i in range(snapshots):
                w.snapshot("seed %d" % i)
            return w

        # history: one read-only repository with a fixed lineage, read by all three sides.
        hist_ws = make_repo("history", args.history_depth)
        # snapshot: one repository per side, so that each side's lineage grows alike.
        snap_ws = make_repo("snap-sdk", 1)
        c_ws = make_repo("snap-c", 1)
        cli_snap_ws = make_repo("snap-cli", 1)
        hist_cwd, snap_cwd = str(hist_ws.path), str(cli_snap_ws.path)
        cli_snap_ws.close()

        env = dict(os.environ)
        lib_dir = os.path.dirname(os.path.realpath(jvs.library_path()))
        env["LD_LIBRARY_PATH"] = lib_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")

        def run_cli(cwd: str, *argv: str) -> dict:
            r = subprocess.run([cli, *argv, "--json"], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if r.returncode != 0:
                raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                          r.stderr.decode(errors="replace")))
            parsed: dict = json.loads(r.stdout)
            return parsed

        # sanity: both sides answer the same question
        cli_doc = run_cli(hist_cwd, "history", "--limit", "1")
        sdk_top = hist_ws.history(limit=1)[0]
        assert json.dumps(cli_doc).count(sdk_top.id) >= 1, "CLI and SDK disagree on history"

        # The bare C call through cffi, without the SDK (what the library itself costs).
        from jvs._ffi import ffi, lib

        hist_handle, c_handle = hist_ws._handle, c_ws._handle
        hist_opts, snap_opts = b'{"limit":1}', b'{"note":"bench"}'

        def c_history() -> None:
            out = ffi.new("char **")
            lib.jvs_history(hist_handle, hist_opts, out)
            ffi.string(out[0])
            lib.jvs_free(out[0])

        def c_snapshot() -> None:
            out = ffi.new("char **")
            lib.jvs_snapshot(c_handle, snap_opts, ffi.NULL, ffi.NULL, out)
            ffi.string(out[0])
            lib.jvs_free(out[0])

        per_round = max(1, args.iterations // args.rounds)
        results: Dict[str, Dict[str, List[float]]] = {
            "history(limit=1)": {"sdk": [], "cli": [], "c": []},
            "snapshot()": {"sdk": [], "cli": [], "c": []},
        }
        timed(lambda: hist_ws.history(limit=1), 50)  # warm-up
        timed(c_history, 50)
        timed(lambda: run_cli(hist_cwd, "history", "--limit", "1"), 3)
        for _ in range(args.rounds):
            h = results["history(limit=1)"]
            h["sdk"] += timed(lambda: hist_ws.history(limit=1), per_round)
            h["c"] += timed(c_history, per_round)
            h["cli"] += timed(lambda: run_cli(hist_cwd, "history", "--limit", "1"), per_round)
            sn = results["snapshot()"]
            sn["sdk"] += timed(lambda: snap_ws.snapshot("bench"), per_round)
            sn["c"] += timed(c_snapshot, per_round)
            sn["cli"] += timed(lambda: run_cli(snap_cwd, "snapshot", "bench"), per_round)
        for w in (hist_ws, snap_ws, c_ws):
            w.close()

        report: Dict[str, object] = {
            "library": jvs.library_version(),
            "python": sys.version.split()[0],
            "files": args.files,
            "history_depth": args.history_depth,
            "iterations": per_round * args.rounds,
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        }
        res: Dict[str, Dict[str, object]] = {}
        for name, sides in results.items():
            s, c, raw = stats(sides["sdk"]), stats(sides["cli"]), stats(sides["c"])
            sdk_over = s["median_us"] - raw["median_us"]
            cli_over = c["median_us"] - raw["median_us"]
            res[name] = {"sdk": s, "cli": c, "c_call": raw,
                         "ratio_median": c["median_us"] / s["median_us"],
                         "ratio_mean": c["mean_us"] / s["mean_us"],
                         "sdk_overhead_us": sdk_over, "cli_overhead_us": cli_over,
                         "overhead_ratio": (cli_over / sdk_over) if sdk_over > 0 else None}
        report["results"] = res
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print("libjvs %s, Python %s, %d files, history depth %d, %d calls per side and operation"
                  " (load average %.1f)" % (report["library"], report["python"], args.files,
                                           args.history_depth, report["iterations"],
                                           report["load_average"] or 0.0))
            print()
            print("| call | bare C call | SDK | subprocess | subprocess / SDK | SDK overhead | subprocess overhead | overhead ratio |")
            print("|---|---|---|---|---|---|---|---|")
            for name, r in res.items():
                ov = r["overhead_ratio"]
                print("| %s | %.1f µs | %.1f µs | %.0f µs | %.0fx | %s | %.0f µs | %s |" % (
                    name, r["c_call"]["median_us"], r["sdk"]["median_us"], r["cli"]["median_us"],
                    r["ratio_median"],
                    ("%.1f µs" % r["sdk_overhead_us"]) if ov is not None else "within noise",
                    r["cli_overhead_us"], ("%.0fx" % ov) if ov is not None else "n/a"))
            print()
            print("Medians. 'bare C call' = jvs_<op> called through cffi without the SDK (the")
            print("library's own work); overhead = median minus the bare C call.")
            print()
            for name, r in res.items():
                verdict = "meets" if r["ratio_median"] >= 200 else "MISSES"
                print("%s: SDK call is %.0fx faster than the subprocess call (%s the 200x target)"
                      % (name, r["ratio_median"], verdict))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
