"""What rendering the charts adds to a warm offline plan (issue: render every Helm release).

    .venv/bin/python -m benchmarks.render_cost [--runs N]        (make bench-render)

Times `homelab plan --stack <stack>` in fresh processes, with and without
`--no-render`, on this machine, and prints the medians and the difference. Target: rendering
adds at most 4 s to a warm plan of one stack. The first run of each kind is a warm-up (the OS
page cache, the compiled bytecode) and is not counted. Not part of `make test` or CI.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 4.0


def timed(args: list[str], out: Path) -> float:
    cmd = [sys.executable, "-m", "homelab.plan.command", *args, "--out", str(out)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each kind (default 5)")
    parser.add_argument("--stack", default="main")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="homelab-bench-") as tmp:
        out = Path(tmp)
        kinds = {"without rendering": ["--stack", args.stack, "--no-render"], "with rendering": ["--stack", args.stack]}
        medians = {}
        for name, kind in kinds.items():
            timed(kind, out)  # warm-up
            runs = [timed(kind, out) for _ in range(args.runs)]
            medians[name] = statistics.median(runs)
            print(f"{name:<18} median {medians[name]:.2f} s  (runs: {', '.join(f'{r:.2f}' for r in runs)})")
    added = medians["with rendering"] - medians["without rendering"]
    verdict = "ok" if added <= TARGET_S else "OVER TARGET"
    print(f"rendering adds {added:.2f} s to a warm plan of {args.stack} (target <= {TARGET_S:.0f} s): {verdict}")
    return 0 if added <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
