"""Bad input of every shape, over both stacks and the rules between them.

The cases are data: ``tests/config/bad_inputs/<rule>.yaml``, one file per rule broken (see its README),
globbed and loaded by tests/support/bad_input.py; a test's id is ``<rule>/<case name>``. Each case edits a
temporary copy of the project as a user would (a stack file's values, its text, its bytes, a second stack's
file), runs the offline plan command against it and asserts what the user gets: exit code 2, no resource
registered, nothing left under ``rendered/<stack>`` (an earlier rendering is removed), the config key(s) and
value(s) or the ``file:line`` named, no traceback, and no secret (nor anything pasted that looks like one)
printed.
"""

from __future__ import annotations

import pytest

from tests.conftest import Project
from tests.support.bad_input import CIPHERTEXT, PASTED_TOKEN, Case, load_cases

#: every case of every file in tests/config/bad_inputs/, files in name order
CASES = load_cases()


@pytest.fixture
def homelab(project: Project) -> Project:
    """The project with an encrypted token in every stack file, as after `pulumi config set --secret`."""
    for stack in ("main", "staging"):
        project.change(stack, lambda cfg: cfg.update({"homelab:cloudflareApiToken": {"secure": CIPHERTEXT}}))
    return project


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.stack for c in CASES} == {"main", "staging"}
    # the token the data files paste is the one the test makes sure is never printed
    assert any(PASTED_TOKEN in repr(c.edit) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused(case: Case, homelab: Project, capsys: pytest.CaptureFixture[str]) -> None:
    stale = homelab.rendered / case.stack / "stale.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Left-from-an-earlier-plan\n")
    case.apply(homelab)

    outcome = homelab.plan(case.stack, capsys=capsys)

    assert outcome.code == 2, outcome.text
    assert outcome.registered == [], "resources were registered before the refusal"
    assert not (homelab.rendered / case.stack).exists(), "an earlier rendering survived a refused plan"
    assert "nothing written" in outcome.err
    for fragment in case.expect:
        assert fragment in outcome.err, f"{fragment!r} not in:\n{outcome.err}"
    for fragment in case.once:
        assert outcome.err.count(fragment) == 1, f"{fragment!r} not exactly once in:\n{outcome.err}"
    assert "Traceback" not in outcome.text
    assert CIPHERTEXT not in outcome.text and CIPHERTEXT[3:] not in outcome.text
    assert PASTED_TOKEN not in outcome.text
    assert "PLACEHOLDER-SECRET" not in outcome.text


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("../victim", "error: --stack '../victim' is not a stack name"),
        ("main/../../victim", "error: --stack 'main/../../victim' is not a stack name"),
        ("..", "error: --stack '..' is not a stack name"),
        ("lab", "error: no stack file"),
    ],
)
def test_stack_must_be_a_stack_of_the_project(
    stack: str, message: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = project.root.parent / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n")
    outcome = project.plan(stack, "--out", str(project.root), capsys=capsys)
    assert outcome.code == 2
    assert message in outcome.err
    assert (victim / "keep.txt").read_text() == "mine\n"
    assert (project.root / "Pulumi.yaml").is_file()
    assert "Traceback" not in outcome.text
