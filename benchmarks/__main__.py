# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Command line: ``python -m benchmarks [--quick] [--case N ...] [--repeats R]``.

Each case runs in its own Python process (so no case warms the caches or the
allocator of another); the parent collects their rows and prints one table.
``--busy N`` keeps N spinning processes on the cores while the cases run.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import time

_MARK = "@@BENCH-ROWS@@"


def _fmt(x, kind="g"):
    """Format a number for the table (blank for None)."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "**no**"
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return str(x)
        if kind == "ratio":
            return f"{x:.2f}x"
        if kind == "e":
            return f"{x:.1e}"
        return f"{x:.3g}"
    return str(x)


def _worker(case, quick, repeats):
    """Run one case in this process and print its rows as JSON."""
    from benchmarks._busy import BUSY_CASES
    from benchmarks._cases import CASES
    from benchmarks._classifier_cv import CLASSIFIER_CV_CASES
    from benchmarks._curvature import CURVATURE_CASES
    from benchmarks._glm import GLM_CASES
    from benchmarks._quantile import QUANTILE_CASES

    start = time.perf_counter()
    cases = {
        **CASES,
        **CURVATURE_CASES,
        **GLM_CASES,
        **QUANTILE_CASES,
        **CLASSIFIER_CV_CASES,
        **BUSY_CASES,
    }
    rows = cases[case](quick, repeats)
    for row in rows:
        row["seconds"] = time.perf_counter() - start
    print(_MARK + json.dumps(rows), flush=True)


def _table(rows):
    """Return the markdown table of all rows."""
    head = (
        "| case | skgd vs | size | time ratio (median) | skgd subopt | other subopt "
        "| skgd coef err | other coef err | skgd passes | target | met |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    str(r["case"]),
                    r["against"],
                    r["size"],
                    _fmt(r.get("ratio"), "ratio"),
                    _fmt(r.get("skgd_subopt"), "e"),
                    _fmt(r.get("other_subopt"), "e"),
                    _fmt(r.get("skgd_coef_err"), "e"),
                    _fmt(r.get("other_coef_err"), "e"),
                    _fmt(r.get("passes")),
                    r["target"],
                    _fmt(r.get("met")) if r.get("met") is not None else "",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def _details(rows):
    """Return one line per row with the fields the table leaves out."""
    skip = {
        "case", "against", "size", "ratio", "target", "met", "skgd_subopt",
        "other_subopt", "skgd_coef_err", "other_coef_err", "passes",
    }  # fmt: skip
    out = []
    for r in rows:
        extra = {k: v for k, v in r.items() if k not in skip}
        text = ", ".join(f"{k}={_fmt(v)}" for k, v in extra.items())
        out.append(f"- case {r['case']} vs {r['against']}: {text}")
    return "\n".join(out)


@contextlib.contextmanager
def _busy(n):
    """Keep ``n`` processes spinning on the CPU while the block runs.

    They load the cores as other jobs would, so that the table shows what shared
    cores cost each contender (their threads wait on busy cores).
    """
    spin = [sys.executable, "-c", "while True: pass"]
    procs = [subprocess.Popen(spin) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def main(argv=None):
    """Run the cases asked for and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (~1 min)")
    parser.add_argument("--case", type=int, nargs="*", default=None, help="cases")
    parser.add_argument("--repeats", type=int, default=None, help="timing rounds")
    parser.add_argument("--json", default=None, help="also write rows to this file")
    parser.add_argument(
        "--busy", type=int, default=0, help="spinning processes during the cases"
    )
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (5 if args.quick else 7)
    if args.worker is not None:
        _worker(args.worker, args.quick, repeats)
        return 0

    from benchmarks._common import blas_info

    # Case 12 (streaming quality) next to case 4 (streaming throughput), case 24
    # (8 classes) next to case 10 (5 classes).
    cases = args.case or [
        *(1, 2, 3, 4, 12, 5, 6, 7, 8, 9, 10, 24, 11),
        *(13, 14, 15, 16, 17, 18, 19, 21, 22, 23),
    ]
    print(
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; BLAS: {blas_info()}"
        + (f"; {args.busy} busy processes" if args.busy else "")
    )
    rows = []
    with _busy(args.busy):
        rows = _run_cases(cases, args.quick, repeats)
    print()
    print(_table(rows))
    print()
    print(_details(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def _run_cases(cases, quick, repeats):
    """Run each case in its own process and return all their rows."""
    rows = []
    for case in cases:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks",
            "--worker",
            str(case),
            "--repeats",
            str(repeats),
        ] + (["--quick"] if quick else [])
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        took = time.perf_counter() - start
        found = [ln for ln in proc.stdout.splitlines() if ln.startswith(_MARK)]
        if proc.returncode or not found:
            print(f"case {case} failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
            continue
        new = json.loads(found[-1][len(_MARK) :])
        rows += new
        print(f"case {case} done in {took:.0f}s", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
