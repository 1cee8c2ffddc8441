"""`make mutate` (homelab/mutate.py): the score it prints and how it fails."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from homelab import mutate
from tests import conftest


def test_score_leaves_out_equivalent_survivors_and_timeouts() -> None:
    statuses = {
        "components.kube.x_a__mutmut_1": "killed",
        "components.kube.x_a__mutmut_2": "killed",
        "components.kube.x_a__mutmut_3": "killed",
        "components.kube.x_a__mutmut_4": "survived",
        "components.kube.x_a__mutmut_5": "survived",
        "components.kube.x_a__mutmut_6": "timeout",
        "homelab.config.syntax.x_b__mutmut_1": "survived",
    }
    value, survivors, counts = mutate.score(statuses, ["components.kube.*"], {"components.kube.x_a__mutmut_5"})
    assert value == 0.75
    assert survivors == ["components.kube.x_a__mutmut_4"]
    assert counts == {"killed": 3, "survived": 2, "timeout": 1}


def test_score_of_nothing_checked_is_none() -> None:
    assert mutate.score({"homelab.promote.command.x_c__mutmut_1": "not checked"}, [], set())[0] is None


def test_equivalents_file_takes_names_and_ignores_reasons(tmp_path: Path) -> None:
    listed = tmp_path / "equivalents.txt"
    listed.write_text(
        "# header\n\ncomponents.kube.x_a__mutmut_5  # only a docstring\nhomelab.promote.command.x_c__mutmut_9\n"
    )
    assert mutate.equivalents(listed) == {"components.kube.x_a__mutmut_5", "homelab.promote.command.x_c__mutmut_9"}
    assert mutate.equivalents(tmp_path / "absent.txt") == set()


def test_a_pattern_that_matches_no_mutant_is_explained_in_one_line() -> None:
    stderr = (
        "Traceback (most recent call last):\n  ...\nAssertionError: Filtered for specific mutants, "
        "but nothing matches\n\nFilter: ('homelab.config.names.*',)\n"
    )
    assert mutate.mutmut_failure(stderr, ["homelab.config.names.*"]) == (
        "no mutant matches 'homelab.config.names.*': names look like components.base.x_helm_release__mutmut_1 "
        "(module, x_, function), so a module is 'components.base.*'"
    )


def test_another_mutmut_failure_shows_its_last_line() -> None:
    assert mutate.mutmut_failure("Traceback ...\n  File x\nOSError: disk full\n\n", []) == (
        "mutmut failed (OSError: disk full)"
    )
    assert mutate.mutmut_failure("", []) == "mutmut failed (the clean test run must pass first)"


def test_a_mutants_tests_start_with_those_that_caught_its_siblings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Order only (a run stops at its first failure): same function first, then same module,
    then the rest by the cost of their fixtures."""
    killers = tmp_path / "killers"
    killers.write_text(
        "homelab.config.rules.x__network_problems\ttests/a.py::same_function\n"
        "homelab.config.rules.x__app_problems\ttests/a.py::same_module\n"
        "homelab.config.cross_stack.x_check\ttests/a.py::other_module\n"
    )
    monkeypatch.setattr(conftest, "KILLERS", killers)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "homelab.config.rules.x__network_problems__mutmut_7")
    items = [
        SimpleNamespace(nodeid="tests/a.py::renders", fixturenames=["planned"]),
        SimpleNamespace(nodeid="tests/a.py::other_module", fixturenames=[]),
        SimpleNamespace(nodeid="tests/a.py::plan_command", fixturenames=["project"]),
        SimpleNamespace(nodeid="tests/a.py::same_module", fixturenames=["project"]),
        SimpleNamespace(nodeid="tests/a.py::same_function", fixturenames=["planned"]),
    ]
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid.split("::")[1] for i in items] == [
        "same_function",
        "same_module",
        "other_module",
        "plan_command",
        "renders",
    ]

    conftest.pytest_runtest_logreport(SimpleNamespace(failed=True, nodeid="tests/b.py::t"))  # type: ignore[arg-type]
    assert killers.read_text().splitlines()[-1] == "homelab.config.rules.x__network_problems\ttests/b.py::t"


def test_outside_a_mutant_run_the_order_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")
    items = [SimpleNamespace(nodeid="b", fixturenames=["planned"]), SimpleNamespace(nodeid="a", fixturenames=[])]
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["b", "a"]
