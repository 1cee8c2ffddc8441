"""Promotion of staging's release settings to main (homelab/promote/command.py): unknown keys, and malformed
files (exit 2, `error: <file>:<line>: <what>`, never a traceback).

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homelab.config.models import Release
from homelab.promote import edit as promote_edit
from homelab.promote import fitness as promote_checks
from tests.support import promote_files
from tests.support.promote_files import (
    BOM,
    RELEASE,
    STACK_FILES,
    edit,
    laid_out,
    line_of,
    run,
    split_release,
    without_comment,
)

# the shared fixtures (tests/support/promote_files.py): pytest finds them under these names
stacks = promote_files.stacks


# ---------------------------------------------------------------------------------------------
# unknown keys


@pytest.mark.parametrize(
    ("name", "old", "key", "suggestion"),
    [
        ("Pulumi.main.yaml", "  homelab:release:\n", "homelab:releasx", "did you mean homelab:release?"),
        ("Pulumi.staging.yaml", "  homelab:release:\n", "homelab:releasx", "did you mean homelab:release?"),
        ("Pulumi.main.yaml", "  homelab:release:\n", "homelab:Release", "did you mean homelab:release?"),
        ("Pulumi.staging.yaml", "  homelab:release:\n", "homelb:release", "did you mean homelab:release?"),
        ("Pulumi.main.yaml", "  homelab:promotion:\n", "homelab:promotoin", "did you mean homelab:promotion?"),
        ("Pulumi.staging.yaml", "  homelab:cluster:\n", "homelab:clusters", "did you mean homelab:cluster?"),
    ],
)
def test_refuses_unknown_homelab_keys(
    stacks: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    old: str,
    key: str,
    suggestion: str,
) -> None:
    monkeypatch.chdir(stacks)
    path = stacks / name
    edit(path, old, f"  {key}:\n")
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = {n: (stacks / n).read_bytes() for n in STACK_FILES}

    code, out, err = run(stacks, capsys, "--apply")

    line = line_of(path, f"  {key}:\n")
    assert (code, out) == (2, "")
    assert err == f"error: {name}:{line}: {key}: unknown config key; {suggestion}\nnothing promoted\n"
    assert {n: (stacks / n).read_bytes() for n in STACK_FILES} == before  # no second homelab:release


def test_other_namespaces_are_not_unknown_keys(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    edit(main, "  homelab:promotion:\n", "  kubernetes:context: main\n  pulumi:tags: {}\n  homelab:promotion:\n")
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_text()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.read_text() == before.replace("      coredns: 1.46.2\n", "      coredns: 1.47.0\n")


@pytest.mark.parametrize("name", STACK_FILES)
@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("      drainTimeout: 180s\n", "      drain_timeout: 180s\n", "envoy.drain_timeout"),
        ("      k8sClientRateLimit:\n", "      k8s_client_rate_limit:\n", "cilium.k8s_client_rate_limit"),
        ("      envoyGateway: v1.9.0\n", "      envoy_gateway: v1.9.0\n", "charts.envoy_gateway"),
    ],
)
def test_snake_case_release_keys_are_unknown(
    stacks: Path, capsys: pytest.CaptureFixture[str], name: str, old: str, new: str, key: str
) -> None:
    edit(stacks / name, old, new)
    before = {n: (stacks / n).read_bytes() for n in STACK_FILES}
    code, _, err = run(stacks, capsys, "--apply")
    assert code == 2
    assert f"{name}: homelab:release.{key}: unknown key" in err
    assert {n: (stacks / n).read_bytes() for n in STACK_FILES} == before


def test_unknown_keys_match_the_camel_case_alias_only() -> None:
    data = {
        "charts": {"cilium": "1", "certManager": "1", "cert_manager": "1"},
        "cilium": {"k8sClientRateLimit": {"qps": 1}, "l2Lease": {"renew_deadline": "5s", "renewDeadline": "5s"}},
        "envoy": {"drainTimeout": "1s", "external_traffic_policy": "Local"},
    }
    assert promote_checks.unknown_keys(data, Release, RELEASE) == [
        "homelab:release.charts.cert_manager: unknown key",
        "homelab:release.cilium.l2Lease.renew_deadline: unknown key",
        "homelab:release.envoy.external_traffic_policy: unknown key",
    ]


# ---------------------------------------------------------------------------------------------
# malformed files: exit 2, `error: <file>:<line>: <what>`, never a traceback


MALFORMED: dict[str, tuple[bytes, int, str]] = {
    "syntax error": (
        b"config:\n  homelab:release:\n    charts: [1.20.0\n    images: {}\n",
        4,
        "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at line 3)",
    ),
    "unclosed quote": (
        b'config:\n  homelab:release:\n    charts: "abc\n',
        4,
        "not valid YAML: found unexpected end of stream (while scanning a quoted scalar at line 3)",
    ),
    "tab indentation": (
        b"config:\n  homelab:release:\n\tcharts: {}\n",
        3,
        "tab character in column 1: YAML indents and separates with spaces only",
    ),
    "tab after spaces": (
        b"config:\n  homelab:release:\n    charts:\n    \tcilium: 1.20.0\n",
        4,
        "tab character in column 5: YAML indents and separates with spaces only",
    ),
    "two documents": (
        b"config: {}\n---\nconfig: {}\n",
        2,
        "not valid YAML: expected a single document in the stream, but found another document",
    ),
    "undefined alias": (b"config:\n  homelab:release: *rel\n", 2, "not valid YAML: found undefined alias 'rel'"),
    "control character": (
        b"config:\n  homelab:release: \x01\n",
        2,
        "a character YAML does not allow (#x0001): remove it",
    ),
    "invalid date outside config:": (
        b"created: 2026-13-45\nconfig:\n  homelab:cluster:\n    name: main\n",
        1,
        "not valid YAML: '2026-13-45' is not a valid timestamp (month must be in 1..12)",
    ),
    "a date inside config:": (
        b"config:\n  homelab:cluster:\n    name: 2026-12-06\n",
        3,
        "homelab:cluster.name: `2026-12-06` is a date to YAML readers, each writing it back its own way; quote it "
        '("2026-12-06")',
    ),
    "!!int that is not one, outside config:": (
        b"replicas: !!int two\nconfig:\n  homelab:cluster:\n    name: main\n",
        1,
        "not valid YAML: 'two' is not a valid int (invalid literal for int() with base 10: 'two')",
    ),
    "top level list": (
        b"# main\n- config\n",
        2,
        "the top level is a list; a stack file is a mapping with a `config:` mapping in it",
    ),
    "top level scalar": (
        b"# main\n\nconfig\n",
        3,
        "the top level is a string; a stack file is a mapping with a `config:` mapping in it",
    ),
    "empty file": (b"", 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`"),
    "only a BOM": (BOM, 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`"),
    "only comments": (
        b"# nothing\n",
        1,
        "no settings (empty, or only comments); a stack file is a mapping with `config:`",
    ),
    "config list": (b"config:\n  - homelab:release\n", 2, "`config:` is a list; it must be a mapping of config keys"),
    "config scalar": (b"config: yes\n", 1, "`config:` is a string; it must be a mapping of config keys"),
    "config empty": (b"config:\n", 1, "`config:` is empty; it must be a mapping of config keys"),
    "config missing": (
        b"# main\nconfg:\n  homelab:release: {}\n",
        2,
        "no `config:` key at the top level; a stack file keeps its settings there",
    ),
    "duplicate key": (
        b"config:\n  homelab:release:\n    charts: {}\n  homelab:release:\n    images: {}\n",
        4,
        "duplicate key `homelab:release` (lines 2 and 4): YAML readers keep only the last, silently; keep one",
    ),
    "nested duplicate key": (
        b"config:\n  homelab:release:\n    charts:\n      cilium: 1\n      coredns: 2\n      cilium: 3\n",
        6,
        "duplicate key `cilium` (lines 4 and 6): YAML readers keep only the last, silently; keep one",
    ),
    "not UTF-8": (
        b"config:\n  homelab:cluster:\n    name: caf\xe9\n",
        3,
        "not UTF-8 text (byte 0xe9); save the file as UTF-8",
    ),
    "UTF-16": (
        "config: {}\n".encode("utf-16"),
        1,
        "not UTF-8 text (byte 0xff); save the file as UTF-8",
    ),
    "mixed CRLF and LF": (
        b"config:\r\n  homelab:release:\n    charts: {}\r\n",
        2,
        "mixed line endings: line 1 ends with CRLF, line 2 with LF; "
        "convert the file to one style (all LF or all CRLF) first",
    ),
    "mixed LF and CR": (
        b"config:\n  homelab:release:\r    charts: {}\n",
        2,
        "mixed line endings: line 1 ends with LF, line 2 with CR; "
        "convert the file to one style (all LF or all CRLF) first",
    ),
    "release list": (
        b"config:\n  homelab:release: [1, 2]\n",
        2,
        "homelab:release is a list; it must be a mapping of release settings",
    ),
    "release scalar": (
        b"config:\n  homelab:release: 1.20.0\n",
        2,
        "homelab:release is a string; it must be a mapping of release settings",
    ),
    "release scalar after other keys": (
        b"config:\n  homelab:apps: []\n  homelab:release: 1.20.0\n",
        3,
        "homelab:release is a string; it must be a mapping of release settings",
    ),
    "release empty": (
        b"# main\nconfig:\n  homelab:release:\n  homelab:apps: []\n",
        3,
        "homelab:release is empty; it must be a mapping of release settings",
    ),
}


#: The other file of a malformed case: any stack file does, the bad one is refused when read.
MINIMAL = b"config: {}\n"


@pytest.mark.parametrize("name", STACK_FILES)
@pytest.mark.parametrize("case", list(MALFORMED))
def test_refuses_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, case: str
) -> None:
    data, line, what = MALFORMED[case]
    monkeypatch.chdir(tmp_path)
    for n in STACK_FILES:
        (tmp_path / n).write_bytes(data if n == name else MINIMAL)
    before = {n: (tmp_path / n).read_bytes() for n in STACK_FILES}

    code, out, err = run(tmp_path, capsys, "--apply")

    assert (code, out) == (2, "")
    assert err == f"error: {name}:{line}: {what}\nnothing promoted\n"
    assert "Traceback" not in err
    assert {n: (tmp_path / n).read_bytes() for n in STACK_FILES} == before


@pytest.mark.parametrize("name", STACK_FILES)
@pytest.mark.parametrize(
    ("make", "what"),
    [
        (Path.unlink, "no such stack file"),
        (lambda p: (p.unlink(), p.mkdir()), "is a directory, not a stack file"),
    ],
    ids=["missing", "directory"],
)
def test_refuses_a_file_it_cannot_read(
    stacks: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    make: Any,
    what: str,
) -> None:
    monkeypatch.chdir(stacks)
    make(stacks / name)
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, out) == (2, "")
    assert err == f"error: {name}: {what}\nnothing promoted\n"
    assert "Traceback" not in err


def test_a_write_error_is_reported_without_traceback(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.chdir(stacks)
    monkeypatch.setattr(promote_edit.tempfile, "mkstemp", refuse)
    main = stacks / "Pulumi.main.yaml"
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (2, "error: Pulumi.main.yaml: cannot write it: Permission denied\nnothing promoted\n")
    assert main.read_bytes() == before


def test_adds_a_missing_release_to_a_crlf_target(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    head, block, tail = split_release(main.read_text())
    main.write_bytes(laid_out("\n".join([*head, *tail]) + "\n", "bom-crlf"))
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    # the release block comes back after homelab:cluster, below the comment lines that follow it
    # (without main's end-of-line comments: they went with the block); every line ends with CRLF
    expected = "\n".join([*head, tail[0], *map(without_comment, block), *tail[1:]]) + "\n"
    assert main.read_bytes() == laid_out(expected, "bom-crlf")


def test_a_tag_ruamel_cannot_construct_is_refused_with_its_line(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ruamel raises AttributeError (not a YAMLError) for ``!!set`` on a scalar; the message after
    the tag is ruamel's own, so only its start is pinned."""
    monkeypatch.chdir(stacks)
    (stacks / "Pulumi.main.yaml").write_bytes(b"charts: !!set cilium\nconfig:\n  homelab:release: {}\n")
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, out) == (2, "")
    assert err.startswith("error: Pulumi.main.yaml:1: not valid YAML: this value cannot be read as `set` (ruamel: ")
    assert err.endswith(")\nnothing promoted\n")
    assert "Traceback" not in err
