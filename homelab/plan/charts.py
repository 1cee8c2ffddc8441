"""The pinned charts, packaged as their repositories serve them.

    homelab charts            (make charts: fill the cache online, record digests)

Where the plan finds ``<chart>-<version>.tgz``, first match wins:

1. ``--charts DIR`` or ``$HOMELAB_CHARTS``;
2. ``../shared/charts`` beside the project (the build machines have it);
3. ``charts/`` in the project: the cache ``make charts`` fills, online, with ``helm pull`` of each
   release every stack file pins, from the release's repository or OCI registry.

``charts.lock`` (committed) holds the SHA-256 of every package the plan may render with, by
where it comes from: ``registry`` (what ``make charts`` pulled; a later pull that differs is
refused) and ``shared`` (``../shared/charts``, as its README lists them: packaged from the
upstream tags, so most differ from the registries' bytes). A package whose digest is not the one
recorded for its place is refused; a package in a folder of your own (``--charts``) passes when
it matches either record, or when neither records that file.

Offline and without a pinned chart the plan stops with the chart, the version and the places it
looked (exit 2); ``--no-render`` skips rendering on purpose.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from homelab.config.catalog import chart_name
from homelab.config.reader import stack_files
from homelab.errors import HomelabError
from homelab.paths import ROOT
from homelab.plan import helm

SHARED = ROOT.parent / "shared" / "charts"
CACHE = ROOT / "charts"
LOCK = ROOT / "charts.lock"
ENV = "HOMELAB_CHARTS"


class ChartError(HomelabError):
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
        return chart_name(self.chart)

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


#: The sections of charts.lock: where a package comes from.
REGISTRY, SHARED_SECTION = "registry", "shared"

Lock = dict[str, dict[str, str]]


def read_lock(path: Path = LOCK) -> Lock:
    """``{section: {<chart file>: <sha256>}}`` (sections: ``registry``, ``shared``)."""
    if not path.is_file():
        return {REGISTRY: {}, SHARED_SECTION: {}}
    data = yaml.safe_load(path.read_text()) or {}
    return {
        section: {str(k): str(v) for k, v in (data.get(section) or {}).items()}
        for section in (REGISTRY, SHARED_SECTION)
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verify(path: Path, place: Path, lock: Lock) -> None:
    digest = sha256(path)
    if place in (SHARED, CACHE):
        section = SHARED_SECTION if place == SHARED else REGISTRY
        expected = lock[section].get(path.name)
        if expected is not None and digest != expected:
            fix = (
                "delete it and run `make charts` again" if place == CACHE else "it is not the package the project pins"
            )
            raise ChartError(f"{path}: sha256 {digest} is not the {expected} that charts.lock recorded; {fix}")
        return
    known = {lock[s][path.name] for s in lock if path.name in lock[s]}
    if known and digest not in known:
        raise ChartError(
            f"{path}: sha256 {digest} is none of the digests charts.lock records for {path.name} "
            f"({', '.join(sorted(known))}): not the package the project pins"
        )


def locate(chart: Chart, charts_dir: Path | None = None, lock: Lock | None = None) -> Path:
    """The package of ``chart``, its digest checked; raises ChartError naming the chart, its
    version and the places looked in."""
    places = search_path(charts_dir)
    for place in places:
        path = place / chart.file
        if path.is_file():
            _verify(path, place, read_lock() if lock is None else lock)
            return path
    looked = ", ".join(str(p) for p in places)
    raise ChartError(
        f"chart {chart.name} {chart.version} ({chart.source}) is not in {looked}: run `make charts` online, "
        f"point --charts or ${ENV} at a folder that has {chart.file}, or plan with --no-render"
    )


def pinned_charts(root: Path = ROOT) -> list[Chart]:
    """Every chart a stack file of the project pins, through the program's own releases and
    client-side charts (``helm.v4.Chart``: Envoy Gateway's CRDs)."""
    from homelab.plan import mockrun  # deferred: imports the Pulumi SDK (~0.3 s), only needed here

    found: set[Chart] = set()
    for stack in stack_files(root):
        plan = mockrun.run(stack, root=root)
        for type_ in ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"):
            found.update(release_chart(r.plain_inputs) for r in plan.of_type(type_))
    return sorted(found)


def release_chart(inputs: dict) -> Chart:
    repo = (inputs.get("repositoryOpts") or {}).get("repo") or ""
    return Chart(chart=str(inputs["chart"]), version=str(inputs["version"]), repo=str(repo))


def pull(charts: Iterable[Chart], helm_path: Path | str, cache: Path = CACHE, lock_path: Path = LOCK) -> list[str]:
    """`helm pull` every chart not yet cached into ``cache``; record digests in ``lock_path``."""
    full = read_lock(lock_path)
    lock = full[REGISTRY]
    cache.mkdir(parents=True, exist_ok=True)
    lines = []
    for chart in charts:
        target = cache / chart.file
        if not target.is_file():
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                # the same deadline and process-group kill as every helm call (helm.run): a registry
                # that never answers stops the command instead of holding it
                what = f"helm pull {chart.source} {chart.version}"
                done = helm.run(chart.pull_command(helm_path, Path(tmp)), what, "a chart downloads in seconds")
                pulled = Path(tmp) / chart.file
                if done.returncode != 0 or not pulled.is_file():
                    raise ChartError(f"{what}: {done.stderr or 'no package'}")
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
    write_lock(full, lock_path)
    return lines


def write_lock(lock: Lock, path: Path = LOCK) -> None:
    header = (
        "# sha256 of the chart packages the plan may render with (homelab/plan/charts.py); committed.\n"
        "# registry: what `make charts` pulled; shared: ../shared/charts, as its README lists them.\n"
    )
    body = {section: dict(sorted(lock.get(section, {}).items())) for section in (REGISTRY, SHARED_SECTION)}
    path.write_text(header + yaml.safe_dump(body, sort_keys=False))


#: How the command line names this command.
PROG = "homelab charts"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.parse_args(argv)
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
