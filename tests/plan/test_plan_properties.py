"""The plan command against input a machine makes (Hypothesis, tests/support/hostile.py): hostile
values anywhere in a stack file, mutated YAML text, extra stacks, hostile command lines. Each run
keeps the invariants users rely on (see tests/support/hostile.py). `make test` runs a few fixed
examples; `make fuzz` many random ones. What fuzzing found is kept as a named regression case
beside the rule it broke (each says "found by `make fuzz`")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from homelab import cli
from tests.conftest import STACKS, Project
from tests.support.hostile import (
    PLANTED,
    check_outcome,
    files_holding,
    holds_planted,
    hostile_leaf,
    leaf_paths,
    mutate,
    text_mutations,
    tree,
)

FAST = ("--no-validate", "--no-render")


@pytest.fixture
def originals(project: Project) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in project.root.iterdir() if path.is_file()}


def restore(project: Project, originals: dict[Path, bytes]) -> None:
    """Each example starts from the checked-in project: its files back, nothing else left."""
    for path in list(project.root.rglob("*")):
        if path.is_file() and path not in originals:
            path.unlink()
    for path, data in originals.items():
        path.write_bytes(data)


def run_plan(
    project: Project, stack: str, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str, dict[str, str]]:
    """The plan through the one command line; the project's files before it, but rendered/<stack>."""
    skip = project.rendered / stack
    before = tree(project.root, skip)
    capsys.readouterr()
    code = cli.main(["plan", "--stack", stack, "--root", str(project.root), *FAST, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, before


def check_files(project: Project, stack: str, before: dict[str, str]) -> None:
    assert tree(project.root, project.rendered / stack) == before, "the plan changed files outside rendered/<stack>"
    assert files_holding(project.rendered, PLANTED) == [], "the planted credential was written"


@given(data=st.data())
def test_a_hostile_value_anywhere_is_refused_cleanly_or_planned(
    project: Project, originals: dict[Path, bytes], capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    restore(project, originals)
    stack = data.draw(st.sampled_from(STACKS), label="stack")
    config = project.config(stack)
    path = data.draw(st.sampled_from(list(leaf_paths(config))), label="path")
    action = data.draw(st.sampled_from(["replace", "drop", "add"]), label="action")
    leaf = data.draw(hostile_leaf, label="leaf")
    planted = mutate(config, path, action, leaf)
    project.write(stack, config)
    code, out, err, before = run_plan(project, stack, capsys)
    check_outcome(code, out, err, planted)
    check_files(project, stack, before)


@given(data=st.data())
def test_a_mutated_stack_file_is_refused_with_its_file_or_planned(
    project: Project, originals: dict[Path, bytes], capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    restore(project, originals)
    mutated = data.draw(st.sampled_from(STACKS), label="mutated file")
    stack = data.draw(st.sampled_from(STACKS), label="planned stack")
    text = project.file(mutated).read_text()
    project.file(mutated).write_bytes(data.draw(text_mutations(text), label="bytes"))
    code, out, err, before = run_plan(project, stack, capsys)
    planted = holds_planted(project.file(mutated).read_bytes())
    check_outcome(code, out, err, planted)
    check_files(project, stack, before)


STACK_NAMES = st.one_of(
    st.sampled_from(["lab", "main2", "x.y", "a_b", "rendered", "Main", "-", "_", "1"]),
    st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True),
)


@given(data=st.data())
def test_an_extra_stack_file_never_breaks_a_plan_uncleanly(
    project: Project, originals: dict[Path, bytes], capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    """Every run reads every stack file: a third one, valid or not, is checked with the others."""
    restore(project, originals)
    name = data.draw(STACK_NAMES.filter(lambda n: n not in STACKS and n not in (".", "..")), label="name")
    staging = project.config("staging")
    kind = data.draw(st.sampled_from(["copy", "mutated", "hostile"]), label="kind")
    extra = project.root / f"Pulumi.{name}.yaml"
    if kind == "copy":
        extra.write_text(yaml.safe_dump({"config": staging}))
    elif kind == "mutated":
        extra.write_bytes(data.draw(text_mutations(yaml.safe_dump({"config": staging})), label="bytes"))
    else:
        path = data.draw(st.sampled_from(list(leaf_paths(staging))), label="path")
        mutate(staging, path, "replace", data.draw(hostile_leaf, label="leaf"))
        extra.write_text(yaml.safe_dump({"config": staging}))
    code, out, err, before = run_plan(project, "main", capsys)
    check_outcome(code, out, err, planted=False)
    check_files(project, "main", before)


ARGS = st.lists(
    st.one_of(
        st.sampled_from(["--stack-file", "--charts", "--debug-x", "-h", "--", "--stack"]),
        st.sampled_from(["main", "staging", "lab", "..", "../main", "Pulumi.main.yaml", PLANTED, ""]),
        st.text(max_size=8),
    ),
    max_size=4,
)


@given(stack=st.one_of(st.sampled_from([*STACKS, "lab", "..", PLANTED, "rendered"]), st.text(max_size=12)), rest=ARGS)
def test_a_hostile_command_line_is_refused_cleanly(
    project: Project, capsys: pytest.CaptureFixture[str], stack: str, rest: list[str]
) -> None:
    before = tree(project.root, project.rendered)
    capsys.readouterr()
    try:
        code = cli.main(["plan", "--stack", stack, "--root", str(project.root), *FAST, *rest])
    except SystemExit as exc:  # argparse's own refusal (exit 2) or --help (exit 0)
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code in (0, 2), text
    assert "Traceback" not in text and "the plan failed" not in text and "failed: " not in text, text
    assert PLANTED not in text, text
    assert tree(project.root, project.rendered) == before
