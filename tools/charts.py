"""The pinned charts, packaged as their repositories serve them.

    python -m tools.charts            (make charts: fill the cache online, record digests)

Where the plan finds ``<chart>-<version>.tgz``, first match wins:

1. ``--charts DIR`` or ``$HOMELAB_CHARTS``;
2. ``../shared/charts`` beside the project (the build machines have it);
3. ``charts/`` in the project: the cache ``make charts`` fills, online, with ``helm pull`` of each
   release every stack file pins, from the release's repository or OCI registry. Each pulled
   package's SHA-256 goes into ``charts.lock`` (committed): a later pull that differs is refused,
   and the plan refuses a cached package that no longer matches it.

Offline and without a pinned chart the plan stops with the chart, the version and the places it
looked (exit 2); ``--no-render`` skips rendering on purpose.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "charts"
CACHE = ROOT / "charts"
LOCK = ROOT / "charts.lock"
ENV = "HOMELAB_CHARTS"


class ChartError(Exception):
    """A pinned chart that cannot be found, fetched or trusted; the message says which."""


@dataclass(frozen=True, order=True)
class Chart:
    """A chart as a Helm release names it: ``chart`` (a name with ``repo``, or an ``oci://``
    reference) at ``version``."""

    chart: str
    version: str
    repo: str = ""

    @property
    def name(self) -> str:
        return self.chart.rstrip("/").rsplit("/", 1)[-1]

    @property
    def file(self) -> str:
        """The package's file name, as `helm pull` writes it."""
        return f"{self.name}-{self.version}.tgz"

    @property
    def source(self) -> str:
        return self.chart if self.chart.startswith("oci://") else f"{self.repo.rstrip('/')}/{self.chart}"

    def pull_command(self, helm: Path | str, dest: Path) -> list[str]:
        cmd = [str(helm), "pull", self.chart, "--version", self.version, "--destination", str(dest)]
        return cmd if self.chart.startswith("oci://") else [*cmd, "--repo", self.repo]


def search_path(charts_dir: Path | None = None) -> list[Path]:
    explicit = charts_dir or (Path(os.environ[ENV]) if os.environ.get(ENV) else None)
    return [p for p in (explicit, SHARED, CACHE) if p is not None]


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """``<chart file>: <sha256>`` for every package ``make charts`` pulled."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {str(k): str(v) for k, v in (data.get("charts") or {}).items()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locate(chart: Chart, charts_dir: Path | None = None, lock: dict[str, str] | None = None) -> Path:
    """The package of ``chart``; raises ChartError naming the chart, its version and the places."""
    places = search_path(charts_dir)
    for place in places:
        path = place / chart.file
        if path.is_file():
            if place == CACHE:
                expected = (read_lock() if lock is None else lock).get(chart.file)
                if expected is not None and sha256(path) != expected:
                    raise ChartError(
                        f"{path}: sha256 {sha256(path)} is not the {expected} that charts.lock recorded; "
                        "delete it and run `make charts` again"
                    )
            return path
    looked = ", ".join(str(p) for p in places)
    raise ChartError(
        f"chart {chart.name} {chart.version} ({chart.source}) is not in {looked}: run `make charts` online, "
        f"point --charts or ${ENV} at a folder that has {chart.file}, or plan with --no-render"
    )


def pinned_charts(root: Path = ROOT) -> list[Chart]:
    """Every chart a stack file of the project pins, through the program's own releases."""
    from components.stack_files import stack_files
    from tools import mockrun

    found: set[Chart] = set()
    for stack in stack_files(root):
        plan = mockrun.run(stack, root=root)
        found.update(release_chart(r.plain_inputs) for r in plan.of_type("kubernetes:helm.sh/v3:Release"))
    return sorted(found)


def release_chart(inputs: dict) -> Chart:
    repo = (inputs.get("repositoryOpts") or {}).get("repo") or ""
    return Chart(chart=str(inputs["chart"]), version=str(inputs["version"]), repo=str(repo))


def pull(charts: Iterable[Chart], helm: Path | str, cache: Path = CACHE, lock_path: Path = LOCK) -> list[str]:
    """`helm pull` every chart not yet cached into ``cache``; record digests in ``lock_path``."""
    lock = read_lock(lock_path)
    cache.mkdir(parents=True, exist_ok=True)
    lines = []
    for chart in charts:
        target = cache / chart.file
        if not target.is_file():
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                done = subprocess.run(chart.pull_command(helm, Path(tmp)), capture_output=True, text=True, check=False)
                pulled = Path(tmp) / chart.file
                if done.returncode != 0 or not pulled.is_file():
                    raise ChartError(f"helm pull {chart.source} {chart.version}: {done.stderr.strip() or 'no package'}")
                digest = sha256(pulled)
                if chart.file in lock and lock[chart.file] != digest:
                    raise ChartError(
                        f"{chart.file}: the registry now serves sha256 {digest}, charts.lock recorded "
                        f"{lock[chart.file]}; a republished chart is not taken silently"
                    )
                pulled.replace(target)
        digest = sha256(target)
        if lock.get(chart.file, digest) != digest:
            raise ChartError(f"{target}: sha256 {digest} is not the {lock[chart.file]} charts.lock recorded")
        lock[chart.file] = digest
        lines.append(f"{chart.file}  {digest}  {chart.source}")
    write_lock(lock, lock_path)
    return lines


def write_lock(lock: dict[str, str], path: Path = LOCK) -> None:
    header = "# sha256 of each chart package `make charts` pulled (tools/charts.py); committed\n"
    path.write_text(header + yaml.safe_dump({"charts": dict(sorted(lock.items()))}, sort_keys=False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    from tools import helm

    try:
        lines = pull(pinned_charts(), helm.find())
    except (ChartError, helm.HelmError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # bad config: the plan says it better
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"charts cached in {CACHE.relative_to(ROOT)}/, digests in {LOCK.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
