"""Promote against input a machine makes (Hypothesis, tests/support/hostile.py): mutated source
and target stack files, hostile values in the release, hostile command lines. Whatever the
input: exit 0 or 2, never a traceback or the catch-all, a planted credential never printed, and
nothing written but the target file (and that only with --apply and exit 0)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from homelab import cli
from homelab.plan.mockrun import ROOT
from tests.support.hostile import (
    PLANTED,
    check_outcome,
    hostile_leaf,
    leaf_paths,
    mutate,
    text_mutations,
    tree,
)

FILES = ("Pulumi.main.yaml", "Pulumi.staging.yaml")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "stacks"


def fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(ROOT / name, folder / name)


def promote(folder: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(["promote", "--root", str(folder), *args])
    except SystemExit as exc:  # argparse's own refusal
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def check_writes(folder: Path, before: dict[str, str], code: int, applied: bool) -> None:
    """Only the target may change, and only when --apply succeeded."""
    after = tree(folder)
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    allowed = {"Pulumi.main.yaml"} if applied and code == 0 else set()
    assert changed <= allowed, f"promote changed {sorted(changed - allowed)}"


@given(data=st.data())
def test_mutated_stack_files_are_promoted_or_refused_cleanly(
    folder: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    fresh(folder)
    name = data.draw(st.sampled_from(FILES), label="mutated file")
    path = folder / name
    path.write_bytes(data.draw(text_mutations(path.read_text()), label="bytes"))
    apply = data.draw(st.booleans(), label="--apply")
    before = tree(folder)
    code, out, err = promote(folder, capsys, "--from", "staging", "--to", "main", *(["--apply"] if apply else []))
    check_outcome(code, out, err, planted=False)
    check_writes(folder, before, code, apply)


@given(data=st.data())
def test_a_hostile_release_value_is_promoted_or_refused_cleanly(
    folder: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    fresh(folder)
    source = folder / "Pulumi.staging.yaml"
    config = yaml.safe_load(source.read_text())["config"]
    release = config["homelab:release"]
    path = data.draw(st.sampled_from(list(leaf_paths(release))), label="path")
    planted = mutate(
        release,
        path,
        data.draw(st.sampled_from(["replace", "drop", "add"]), label="action"),
        data.draw(hostile_leaf, label="leaf"),
    )
    source.write_text(yaml.safe_dump({"config": config}))
    before = tree(folder)
    code, out, err = promote(folder, capsys, "--from", "staging", "--to", "main", "--apply")
    check_outcome(code, out, err, planted)
    check_writes(folder, before, code, applied=True)
    if code == 0:
        assert PLANTED not in (folder / "Pulumi.main.yaml").read_text()


@given(
    args=st.lists(
        st.one_of(
            st.sampled_from(["--from", "--to", "--apply", "--from-file", "--to-file", "staging", "main", PLANTED]),
            st.sampled_from(["Pulumi.main.yaml", "../Pulumi.main.yaml", "Pulumi.staging.yaml", ".", ""]),
            st.text(max_size=6).filter(lambda t: not t.startswith(("/", "~"))),
        ),
        max_size=6,
    )
)
def test_a_hostile_promote_command_line_is_refused_cleanly(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """Relative file names resolve inside the test's folder (its working directory)."""
    fresh(folder)
    monkeypatch.chdir(folder)
    before = tree(folder.parent)
    code, out, err = promote(folder, capsys, *args)
    text = out + err
    assert code in (0, 2), text
    assert "Traceback" not in text and "failed: " not in text, text
    assert PLANTED not in text, text
    after = tree(folder.parent)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= {"stacks/Pulumi.main.yaml", "stacks/Pulumi.staging.yaml"}, changed
