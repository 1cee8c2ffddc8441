"""`make mutate` (tools/mutate.py): the score it prints and how it fails."""

from __future__ import annotations

from pathlib import Path

from tools import mutate


def test_score_leaves_out_equivalent_survivors_and_timeouts() -> None:
    statuses = {
        "components.kube.x_a__mutmut_1": "killed",
        "components.kube.x_a__mutmut_2": "killed",
        "components.kube.x_a__mutmut_3": "killed",
        "components.kube.x_a__mutmut_4": "survived",
        "components.kube.x_a__mutmut_5": "survived",
        "components.kube.x_a__mutmut_6": "timeout",
        "components.values.x_b__mutmut_1": "survived",
    }
    value, survivors, counts = mutate.score(statuses, ["components.kube.*"], {"components.kube.x_a__mutmut_5"})
    assert value == 0.75
    assert survivors == ["components.kube.x_a__mutmut_4"]
    assert counts == {"killed": 3, "survived": 2, "timeout": 1}


def test_score_of_nothing_checked_is_none() -> None:
    assert mutate.score({"tools.promote.x_c__mutmut_1": "not checked"}, [], set())[0] is None


def test_equivalents_file_takes_names_and_ignores_reasons(tmp_path: Path) -> None:
    listed = tmp_path / "equivalents.txt"
    listed.write_text("# header\n\ncomponents.kube.x_a__mutmut_5  # only a docstring\ntools.promote.x_c__mutmut_9\n")
    assert mutate.equivalents(listed) == {"components.kube.x_a__mutmut_5", "tools.promote.x_c__mutmut_9"}
    assert mutate.equivalents(tmp_path / "absent.txt") == set()


def test_a_pattern_that_matches_no_mutant_is_explained_in_one_line() -> None:
    stderr = (
        "Traceback (most recent call last):\n  ...\nAssertionError: Filtered for specific mutants, "
        "but nothing matches\n\nFilter: ('components.names.*',)\n"
    )
    assert mutate.mutmut_failure(stderr, ["components.names.*"]) == (
        "no mutant matches 'components.names.*': names look like components.kube.x_helm_release__mutmut_1 "
        "(module, x_, function), so a module is 'components.kube.*'"
    )


def test_another_mutmut_failure_shows_its_last_line() -> None:
    assert mutate.mutmut_failure("Traceback ...\n  File x\nOSError: disk full\n\n", []) == (
        "mutmut failed (OSError: disk full)"
    )
    assert mutate.mutmut_failure("", []) == "mutmut failed (the clean test run must pass first)"
