"""The one shared fixture: the real program run under the SDK's mock monitor (homelab/plan/mockrun.py).

``plans[stack]`` is the unchanged stack file's run (made once per session); ``run_program``
runs the program again with a changed config, for tests of refusals and variants; ``project``
is a temporary copy of the project whose stack files a test may change or add to, with the plan
command run against it.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from homelab.plan import charts, helm, mockrun
from homelab.plan import command as plan_cmd
from homelab.plan.mockrun import Plan, Registration
from tests.support import render_cache

#: Property-based tests (Hypothesis): a few derandomized examples in `make test` (the same ones
#: every run, so the suite stays deterministic and within its time); `make fuzz` runs many more
#: (FUZZ_EXAMPLES per property), random, and keeps what it finds in .hypothesis/ (turn each finding
#: into a regression case).
settings.register_profile(
    "default",
    max_examples=3,
    derandomize=True,
    deadline=timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    derandomize=False,
    deadline=timedelta(seconds=10),
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

STACKS = ("main", "staging")
SCHEMAS = mockrun.ROOT.parent / "shared" / "schemas"


def linking_tests_to_code() -> bool:
    """True while `make mutate` (mutmut) records which functions each test calls.

    It then runs a mutant only against the tests that called the mutated function, so a run
    cached for the session would be linked to the first test that used it and no other: the
    mutants of the program would skip every later test of its results. While it records, the
    session fixtures below do not cache.
    """
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


# ---------------------------------------------------------------------------------------------
# `make mutate`: a mutant's run stops at its first failing test, so the order of its tests
# decides how long it takes (never whether it is caught)

#: The fixtures whose first use costs most: tried last.
_COSTLY = {"planned": 2, "gateway_crds": 2, "project": 1}
#: Which test caught which mutant, one ``function<TAB>test`` line each (in ``mutants/``).
KILLERS = Path(__file__).resolve().parent.parent / ".mutmut-killers"


def _mutated_function() -> str | None:
    """``homelab.config.rules.x__network_problems`` while mutmut runs one of its mutants."""
    name, sep, _ = os.environ.get("MUTANT_UNDER_TEST", "").rpartition("__mutmut_")
    return name if sep else None


def pytest_configure(config: pytest.Config) -> None:
    """The session keeps large objects alive on purpose (each stack's plan, the rendered charts,
    a process's renders and validations): with Python's default thresholds the collector walks
    them again and again. Collecting less often took the suite from 25.5 to 22 s on 2 cores
    (measured twice each); what is collected, and when a test sees it, does not change.

    And one render of each chart per run (tests/support/render_cache.py): the first process makes
    the folder, xdist's workers inherit it through the environment."""
    gc.set_threshold(100_000, 50, 100)
    if os.environ.get("MUTANT_UNDER_TEST"):
        return  # `make mutate`: a mutant may change what renders
    if render_cache.ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="homelab-test-renders-")
        os.environ[render_cache.ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    render_cache.install(Path(os.environ[render_cache.ENV]))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make mutate`: the tests that caught other mutants of the same function (then of the
    same module) go first; the rest by the cost of their fixtures."""
    function = _mutated_function()
    if function is None:
        return
    module = function.rsplit(".", 1)[0] + "."
    caught: Counter[str] = Counter()
    if KILLERS.is_file():
        for line in KILLERS.read_text().splitlines():
            killed, _, test = line.partition("\t")
            caught[test] += 1000 if killed == function else 1 if killed.startswith(module) else 0

    def order(item: pytest.Item) -> tuple[int, int]:
        cost = max((_COSTLY.get(f, 0) for f in getattr(item, "fixturenames", ())), default=0)
        return -caught[item.nodeid], cost

    items.sort(key=order)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    function = _mutated_function()
    if function is not None and report.failed:
        with KILLERS.open("a") as killers:  # one short line: appends of parallel runs stay whole
            killers.write(f"{function}\t{report.nodeid}\n")


class _Plans(dict):
    def __missing__(self, stack: str) -> Plan:
        plan = mockrun.run(stack)
        if not linking_tests_to_code():
            self[stack] = plan
        return plan


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return _Plans()


def stack_config(stack: str) -> dict[str, Any]:
    """A deep copy of the stack file's config, safe to change."""
    return copy.deepcopy(mockrun.read_stack_config(stack))


def app(**fields: Any) -> dict[str, Any]:
    """One entry of ``homelab:apps`` as a user writes it (an external whoami), with ``fields`` changed."""
    base = {
        "name": "whoami",
        "namespace": "apps",
        "hostnames": ["whoami.example.com"],
        "service": "whoami",
        "port": 80,
        "exposure": "external",
    }
    return {**base, **fields}


RunProgram = Callable[..., Plan]


@pytest.fixture
def run_program() -> RunProgram:
    def run(stack: str, config: dict[str, Any] | None = None, **kwargs: Any) -> Plan:
        return mockrun.run(stack, config, **kwargs)

    return run


@pytest.fixture(scope="session")
def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"upstream schemas not found at {SCHEMAS} (they live in ../shared/schemas beside the repo)")
    return SCHEMAS


# ---------------------------------------------------------------------------------------------
# a temporary copy of the project, for tests that change stack files or add a cluster

#: What a project copy holds: the program and every stack file (components come from the repo).
PROJECT_FILES = ("Pulumi.yaml", "__main__.py")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    registered: list[Registration]

    @property
    def text(self) -> str:
        return self.out + self.err


class Project:
    """A copy of the project in a temporary directory; the plan command runs against it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.rendered = root / "rendered"
        self._monkeypatch = monkeypatch
        root.mkdir(parents=True, exist_ok=True)
        for name in PROJECT_FILES:
            shutil.copyfile(mockrun.ROOT / name, root / name)
        for path in mockrun.ROOT.glob("Pulumi.*.yaml"):
            shutil.copyfile(path, root / path.name)

    def file(self, stack: str) -> Path:
        return self.root / f"Pulumi.{stack}.yaml"

    def config(self, stack: str) -> dict[str, Any]:
        return mockrun.read_stack_config(stack, root=self.root)

    def write(self, stack: str, config: dict[str, Any]) -> None:
        # libyaml's emitter when PyYAML has it: over a hundred bad-input cases write a stack file each
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        self.file(stack).write_text(yaml.dump({"config": config}, Dumper=dumper, sort_keys=False))

    def change(self, stack: str, change: Callable[[dict[str, Any]], None]) -> None:
        cfg = self.config(stack)
        change(cfg)
        self.write(stack, cfg)

    def plan(self, stack: str, *args: str, capsys: pytest.CaptureFixture[str]) -> Outcome:
        """`homelab plan --stack <stack>` in this project; records every registration."""
        registered: list[Registration] = []
        original = mockrun.RecordingMonitor._record

        def record(monitor: mockrun.RecordingMonitor, registration: Registration) -> None:
            registered.append(registration)
            original(monitor, registration)

        with self._monkeypatch.context() as patch:
            patch.setattr(mockrun.RecordingMonitor, "_record", record)
            capsys.readouterr()
            code = plan_cmd.main(["--stack", stack, "--root", str(self.root), "--no-validate", "--no-render", *args])
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err, registered)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return Project(tmp_path / "project", monkeypatch)


# ---------------------------------------------------------------------------------------------
# the full offline plan of each stack: rendered with helm and validated, once per session


@dataclass
class PlanRun:
    code: int
    out: str
    err: str
    folder: Path  # rendered/<stack>

    def load(self, rel: str) -> dict[str, Any]:
        """A written file (``cilium/chart/ConfigMap-kube-system-cilium-config.yaml``), parsed."""
        return yaml.load((self.folder / rel).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def need_helm() -> None:
    """Rendering needs helm and the pinned charts: CI must have them (a skip there would hide a
    broken setup), a developer's machine without them skips with the reason."""
    reason = None
    try:
        helm.find()
    except helm.HelmError as exc:
        reason = f"no helm to render with: {exc}"
    if reason is None and not any(p.is_dir() for p in charts.search_path()):
        reason = f"no chart packages in {', '.join(map(str, charts.search_path()))}"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must render the charts: {reason}")
        pytest.skip(reason)


class _PlanRuns(dict):
    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out

    def __missing__(self, stack: str) -> PlanRun:
        need_helm()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = plan_cmd.main(["--stack", stack, "--out", str(self.out)])
        run = PlanRun(code, out.getvalue(), err.getvalue(), self.out / stack)
        if not linking_tests_to_code():
            self[stack] = run
        return run


@pytest.fixture(scope="session")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PlanRun]:
    """``planned[stack]``: `homelab plan --stack <stack>` as a newcomer runs it."""
    return _PlanRuns(tmp_path_factory.mktemp("rendered"))
