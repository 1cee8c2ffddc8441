"""Value syntaxes the config accepts (components/values.py), as the tools that read them do."""

from __future__ import annotations

import pytest

from components import values


def test_an_invalid_interface_regex_is_refused_with_re2s_reason_and_nothing_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """RE2 would also log the error itself; the user sees it once, in the refusal."""
    with pytest.raises(ValueError) as err:
        values.interface_regex("(?=eth)")
    assert str(err.value) == "'(?=eth)' is not a valid Go (RE2) regular expression: invalid perl operator: (?="
    assert capfd.readouterr() == ("", "")


def test_a_valid_interface_regex_is_kept_as_written() -> None:
    assert values.interface_regex("^(eth|enp)[0-9]+$") == "^(eth|enp)[0-9]+$"
