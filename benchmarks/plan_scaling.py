"""Plan time and its scaling with the number of app routes (issue 7).

    .venv/bin/python -m benchmarks.plan_scaling [--quick] [--reps N] [--routes 10,100,1000]

Side by side, each measurement in a fresh subprocess (so its peak RSS is its own):

* (a) the real program under the mock monitor, ``homelab.plan.mockrun.run(stack, config)``: both stacks
  as written, and main with N app routes generated into a copy of its config;
* (b) a bare baseline importing the same SDKs that registers as many plain ``CustomResource``
  objects (HTTPRoute-like specs) through the same ``mockrun.run(..., program=...)``, so only the
  program differs. main's run also runs staging's (main's staging gate reads its outputs), so the
  baseline does a staging-sized run first too;
* the import floor: a fresh process that only imports the SDKs; and a second one that also
  imports every module (a) loads beyond them (SDK submodules, pydantic, components), which
  separates what (a) pays for loading code from what it pays for running it.

Prints median wall times, a/b, time above the import floor and peak RSS, then PASS/FAIL per
target of the issue; exits 1 when a target is missed. Wall time is the user's: start to exit of
the process, interpreter teardown included.

Bytecode: by default the children get a private, pre-warmed ``PYTHONPYCACHEPREFIX`` (the normal
case on a developer machine). ``--bytecode env`` leaves the environment alone; with
``PYTHONDONTWRITEBYTECODE=1`` and no compiled ``.pyc`` in the venv, every process then recompiles
pulumi_cloudflare's 26 MB of source, which dwarfs everything measured here.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # also runnable as `python benchmarks/plan_scaling.py`
    sys.path.insert(0, str(ROOT))

EXPOSURES = ("external", "internal", "dual")
RESULT_MARK = "BENCH-RESULT "
DEFAULT_ROUTES = (10, 100, 1000)

# targets of issue 7
MAX_RATIO = 1.25
MAX_GROWTH_100_TO_1000 = 10.0
MAX_RSS_MB = 400.0


# ---------------------------------------------------------------------------------------------
# what the children run (heavy imports happen only here, never in the parent)


#: The SDK modules the program imports ("the same SDKs" of issue 7): the baseline and the floor
#: load them too, so a/b compares the program's own work (config models, components, its run).
SDK_MODULES = (
    "pulumi",
    "pulumi_cloudflare",
    "pulumi_random",
    "pulumi_kubernetes",
    "pulumi_kubernetes.apiextensions",
    "pulumi_kubernetes.apps.v1",
    "pulumi_kubernetes.core.v1",
    "pulumi_kubernetes.helm.v3",
    "pulumi_kubernetes.meta.v1",
    "pulumi_kubernetes.policy.v1",
)


def import_sdks() -> None:
    """The import floor: what both (a) and (b) pay before registering anything."""
    import importlib

    for name in SDK_MODULES:
        importlib.import_module(name)


def config_with_routes(total: int) -> dict[str, Any]:
    """main's stack config with its own apps topped up to ``total`` generated ones.

    Names are unique valid Kubernetes names, hostnames unique under main's domain, exposures
    cycle external/internal/dual, namespaces spread over 16 so (namespace, name) stays unique.
    """
    from homelab.plan import mockrun

    config = copy.deepcopy(mockrun.read_stack_config("main"))
    domain = config["homelab:cluster"]["domain"]
    apps: list[dict[str, Any]] = list(config.get("homelab:apps") or [])
    for i in range(len(apps), total):
        apps.append(
            {
                "name": f"bench-app-{i:04d}",
                "namespace": f"bench-{i % 16:02d}",
                "hostnames": [f"bench-app-{i:04d}.{domain}"],
                "service": f"bench-app-{i:04d}",
                "port": 8000 + i % 1000,
                "exposure": EXPOSURES[i % len(EXPOSURES)],
            }
        )
    config["homelab:apps"] = apps
    return config


def baseline_program(count: int) -> Callable[[], None]:
    """A program registering ``count`` resources: one Kubernetes provider (the real program
    binds one too) and HTTPRoute-like CustomResources, no components, no config parsing."""

    def program() -> None:
        import pulumi
        import pulumi_kubernetes as kubernetes
        from pulumi_kubernetes.apiextensions import CustomResource
        from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

        provider = kubernetes.Provider("baseline", kubernetes.ProviderArgs(context="baseline"))
        opts = pulumi.ResourceOptions(provider=provider)
        for i in range(count - 1):
            name = f"route-{i:04d}"
            CustomResource(
                name,
                api_version="gateway.networking.k8s.io/v1",
                kind="HTTPRoute",
                metadata=ObjectMetaArgs(name=name, namespace=f"bench-{i % 16:02d}"),
                spec={
                    "hostnames": [f"{name}.example.com"],
                    "parentRefs": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "Gateway",
                            "name": "envoy-external",
                            "namespace": "network",
                            "sectionName": "https",
                        }
                    ],
                    "rules": [{"backendRefs": [{"name": name, "port": 8000 + i % 1000}]}],
                },
                opts=opts,
            )
        pulumi.export("count", count)

    return program


def child(kind: str, stack: str, routes: int, count: int, ref_count: int, modules: Sequence[str]) -> dict[str, Any]:
    """One measurement. Returns counts, in-process times and the modules (a) loaded beyond the
    SDKs; the parent times the whole process."""
    started = time.perf_counter()
    import_sdks()
    imported = time.perf_counter()
    before = set(sys.modules)
    out: dict[str, Any] = {"import_s": imported - started}
    if kind == "modules":  # the floor with everything (a) loads: its imports cost, not its run
        import importlib

        failed = 0
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # a module that only imports inside a run: counted, not fatal
                failed += 1
        out["failed_imports"] = failed
    elif kind in ("program", "baseline"):
        from homelab.plan import mockrun

        config = config_with_routes(routes) if routes else mockrun.read_stack_config(stack)
        found = mockrun.referenced_stack(stack, config)  # the baseline mirrors main's staging run
        ref = found[1] if found else None
        if kind == "program":
            plan = mockrun.run(stack, config)
            routes_seen = len(plan.of_type("homelab:app_route:AppRoute"))
            if routes and routes_seen != routes:
                raise SystemExit(f"expected {routes} app routes, the program registered {routes_seen}")
            out["modules"] = sorted(set(sys.modules) - before)
        else:
            if ref is not None and ref_count:
                mockrun.run(ref, program=baseline_program(ref_count), stack_outputs={})
            plan = mockrun.run(stack, config, program=baseline_program(count), stack_outputs={})
        out.update(resources=len(plan.resources), ref_stack=ref, run_s=time.perf_counter() - imported)
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return out


# ---------------------------------------------------------------------------------------------
# the parent: schedules children, keeps the numbers, prints the table


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, wall: float, result: dict[str, Any]) -> None:
        self.wall.append(wall)
        self.rss_mb.append(result["maxrss_kb"] / 1024)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_mb)


@dataclass
class Case:
    label: str
    stack: str
    routes: int = 0  # 0: the stack file as written
    resources: int = 0
    ref_stack: str | None = None
    a: Samples = field(default_factory=Samples)
    b: Samples = field(default_factory=Samples)


@dataclass
class Results:
    floor: Samples
    floor_modules: Samples
    modules: list[str]
    cases: list[Case]


@dataclass
class Runner:
    env: dict[str, str]
    verbose: bool = False
    fast_exit: bool = False

    def measure(
        self, kind: str, case: Case | None = None, count: int = 0, ref_count: int = 0, modules: Sequence[str] = ()
    ) -> tuple[float, dict[str, Any]]:
        """Wall time of one fresh process (interpreter start to exit) and what it reported."""
        cmd = [sys.executable, "-m", "benchmarks.plan_scaling", "--child", kind]
        if case is not None:
            cmd += ["--stack", case.stack, "--routes", str(case.routes)]
            cmd += ["--count", str(count), "--ref-count", str(ref_count)]
        if modules:
            cmd += ["--modules", ",".join(modules)]
        if self.fast_exit:
            cmd.append("--fast-exit")
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=600, check=False)
        wall = time.perf_counter() - start
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
        if proc.returncode != 0 or not lines:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"benchmark child failed ({' '.join(cmd[3:9])}), exit {proc.returncode}")
        result = json.loads(lines[-1].removeprefix(RESULT_MARK))
        if self.verbose:
            what = kind if case is None else f"{kind:8} {case.label}"
            print(f"  {what:28} {wall:6.2f}s {result['maxrss_kb'] / 1024:6.0f} MB", file=sys.stderr)
        return wall, result


def child_env(mode: str, pycache: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if mode == "cached" and pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_benchmark(routes: Sequence[int], reps: int, runner: Runner) -> Results:
    cases = [Case("staging", "staging"), Case("main", "main")]
    cases += [Case(f"main, {n} routes", "main", n) for n in routes]

    # calibration, which also warms the bytecode and page caches: what (a) registers and loads
    runner.measure("floor")
    modules: set[str] = set()
    for case in cases:
        _, got = runner.measure("program", case)
        case.resources, case.ref_stack = got["resources"], got["ref_stack"]
        modules.update(got["modules"])
    counts = {c.stack: c.resources for c in cases if not c.routes}

    def b_counts(case: Case) -> tuple[int, int]:
        if case.ref_stack is None:
            return case.resources, 0
        if case.ref_stack not in counts:
            raise SystemExit(f"{case.label} runs {case.ref_stack} first, which is not measured")
        return case.resources, counts[case.ref_stack]

    runner.measure("baseline", cases[0], *b_counts(cases[0]))  # warm-up
    loaded = sorted(modules)
    _, got = runner.measure("modules", modules=loaded)
    if got["failed_imports"]:
        print(f"note: {got['failed_imports']} of {len(loaded)} modules (a) loads did not import alone", file=sys.stderr)

    results = Results(Samples(), Samples(), loaded, cases)
    for rep in range(reps):
        print(f"repetition {rep + 1}/{reps}", file=sys.stderr)
        results.floor.add(*runner.measure("floor"))
        results.floor_modules.add(*runner.measure("modules", modules=loaded))
        for case in cases:
            order = ("program", "baseline") if rep % 2 == 0 else ("baseline", "program")
            for kind in order:  # alternate so drift does not favour one side
                if kind == "program":
                    wall, got = runner.measure(kind, case)
                    case.a.add(wall, got)
                else:
                    wall, got = runner.measure(kind, case, *b_counts(case))
                    case.b.add(wall, got)
                if got["resources"] != case.resources:
                    raise SystemExit(f"{case.label} {kind}: {got['resources']} resources, expected {case.resources}")
    return results


def _packages(modules: Sequence[str]) -> str:
    """What the modules (a) loads beyond the SDKs are, roughly: counts per top-level package."""
    tops: dict[str, int] = {}
    for name in modules:
        parts = name.split(".")
        top = ".".join(parts[:3]) if parts[0] == "pulumi_kubernetes" else parts[0]  # e.g. core.v1
        tops[top] = tops.get(top, 0) + 1
    biggest = sorted(tops.items(), key=lambda kv: -kv[1])[:8]
    return ", ".join(name for name, _ in biggest)


COLUMNS = (  # header, width, format
    ("case", 20, ""),
    ("res", 5, "d"),
    ("a s", 6, ".2f"),
    ("b s", 6, ".2f"),
    ("a/b", 5, ".2f"),
    ("a-floor", 7, ".2f"),
    ("b-floor", 7, ".2f"),
    ("a-b", 6, ".2f"),
    ("a MB", 5, ".0f"),
    ("b MB", 5, ".0f"),
)


def row(*cells: str | float | None) -> str:
    """One table line; None leaves a cell blank."""
    out = []
    for (_, width, fmt), cell in zip(COLUMNS, cells, strict=False):
        text = "" if cell is None else format(cell, fmt)
        out.append(text.ljust(width) if isinstance(cell, str) else text.rjust(width))
    return " ".join(out).rstrip()


def report(results: Results) -> bool:
    """Print the table and the targets; True when every target is met."""
    cases, f, fm = results.cases, results.floor.median, results.floor_modules
    head = " ".join(name.ljust(w) if i == 0 else name.rjust(w) for i, (name, w, _) in enumerate(COLUMNS))
    print(head)
    print("-" * len(head))
    print(row("import floor (SDKs)", None, f, None, None, None, None, None, results.floor.peak_mb))
    print(row(" + modules a loads", None, fm.median, None, None, fm.median - f, None, None, fm.peak_mb))
    for c in cases:
        a, b = c.a.median, c.b.median
        print(row(c.label, c.resources, a, b, a / b, a - f, b - f, a - b, c.a.peak_mb, c.b.peak_mb))
    print(f"median of {len(results.floor.wall)} runs, each a fresh process timed from start to exit;")
    print("a: the program, b: the baseline; res: resources registered; x-floor: x minus the SDKs' import")
    print("floor; MB: highest peak RSS of the runs.")
    print(f"modules a loads beyond the SDKs: {len(results.modules)} ({_packages(results.modules)})")
    print(
        "a above the floor with its modules (its run proper): "
        + ", ".join(f"{c.label} {c.a.median - fm.median:.2f}s" for c in cases)
    )
    by_routes = {c.routes: c for c in cases if c.routes}
    if {10, 100, 1000} <= set(by_routes):
        a10, a100, a1000 = (by_routes[n].a.median for n in (10, 100, 1000))
        print(
            f"marginal cost per route: 10->100 {(a100 - a10) / 90 * 1000:.2f} ms, "
            f"100->1000 {(a1000 - a100) / 900 * 1000:.2f} ms"
        )

    print()
    ok = True
    worst = max(cases, key=lambda c: c.a.median / c.b.median)
    ratio = worst.a.median / worst.b.median
    ok &= verdict(ratio <= MAX_RATIO, f"a/b <= {MAX_RATIO} at every size (worst {ratio:.2f}, {worst.label})")
    if 100 in by_routes and 1000 in by_routes:
        t100, t1000 = by_routes[100].a.median - f, by_routes[1000].a.median - f
        growth = t1000 / t100
        what = f"1000 routes above floor <= {MAX_GROWTH_100_TO_1000:g}x 100 routes"
        ok &= verdict(growth <= MAX_GROWTH_100_TO_1000, f"{what} ({t1000:.2f}s / {t100:.2f}s = {growth:.1f}x)")
    else:
        print("n/a   linear scaling: needs --routes with 100 and 1000")
    rss = max(max(c.a.peak_mb, c.b.peak_mb) for c in cases)
    ok &= verdict(rss < MAX_RSS_MB, f"peak RSS < {MAX_RSS_MB:g} MB (max {rss:.0f} MB)")
    return ok


def verdict(passed: bool, what: str) -> bool:
    print(f"{'PASS' if passed else 'FAIL'}  {what}")
    return passed


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cpus, {cpu}, Python {sys.version.split()[0]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 5")
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 5, --quick 3)")
    parser.add_argument(
        "--routes",
        help=f"app route counts for main, comma-separated (default {','.join(map(str, DEFAULT_ROUTES))})",
    )
    parser.add_argument(
        "--bytecode",
        choices=("cached", "env"),
        default="cached",
        help="cached: private warm .pyc cache (default); env: inherit the environment unchanged",
    )
    parser.add_argument(
        "--fast-exit",
        action="store_true",
        help="children gc.freeze() at exit, skipping the final collection of interpreter teardown "
        "(what an entry point could do; shows what teardown costs)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every measurement")
    parser.add_argument("--child", choices=("floor", "modules", "program", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--stack", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ref-count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--modules", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.fast_exit:
            import atexit
            import gc

            atexit.register(gc.freeze)  # runs last: after this, teardown frees nothing cyclic
        modules = [m for m in args.modules.split(",") if m]
        result = child(args.child, args.stack, int(args.routes or 0), args.count, args.ref_count, modules)
        print(RESULT_MARK + json.dumps(result))
        return 0

    routes = sorted({int(n) for n in (args.routes or ",".join(map(str, DEFAULT_ROUTES))).split(",") if n.strip()})
    reps = args.reps or (3 if args.quick else 5)
    pycache = Path(tempfile.mkdtemp(prefix="homelab-bench-pyc-")) if args.bytecode == "cached" else None
    bytecode = "private warm cache" if pycache else f"as the environment has it ({_bytecode_env()})"
    exit_mode = "; children skip the final collection (--fast-exit)" if args.fast_exit else ""
    print(f"plan_scaling: {machine()}; {reps} repetitions; bytecode: {bytecode}{exit_mode}", flush=True)
    started = time.perf_counter()
    try:
        runner = Runner(child_env(args.bytecode, pycache), args.verbose, args.fast_exit)
        results = run_benchmark(routes, reps, runner)
    finally:
        if pycache is not None:
            shutil.rmtree(pycache, ignore_errors=True)
    ok = report(results)
    print(f"benchmark took {time.perf_counter() - started:.0f}s")
    return 0 if ok else 1


def _bytecode_env() -> str:
    value = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return f"PYTHONDONTWRITEBYTECODE={value}" if value else "bytecode writes allowed"


if __name__ == "__main__":
    raise SystemExit(main())
