"""Promotion of staging's release settings to main (homelab/promote/command.py): the command line, what it
prints and the problems it lists.

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab.plan.mockrun import ROOT
from homelab.promote import command as promote
from homelab.promote import edit as promote_edit
from tests.support import promote_files
from tests.support.promote_files import (
    RELEASE,
    config,
    edit,
    line_of,
    run,
)

# the shared fixtures (tests/support/promote_files.py): pytest finds them under these names
stacks = promote_files.stacks


# --- the command line ------------------------------------------------------------------------


def test_explicit_files_are_the_ones_read_and_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--from-file and --to-file name the files; --root is then not read at all."""
    src, dst = tmp_path / "a.yaml", tmp_path / "b.yaml"
    shutil.copyfile(ROOT / "Pulumi.staging.yaml", src)
    shutil.copyfile(ROOT / "Pulumi.main.yaml", dst)
    edit(src, "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    code = promote.main(
        ["--from", "staging", "--to", "main", "--root", str(tmp_path / "nowhere"), "--from-file", str(src),
         "--to-file", str(dst), "--apply"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "  homelab:release.charts.cilium: 1.20.0 -> 1.20.1" in out
    assert config(dst)[RELEASE]["charts"]["cilium"] == "1.20.1"
    assert (ROOT / "Pulumi.main.yaml").read_text().count("cilium: 1.20.0") == 1  # the real file untouched


def test_default_root_is_the_project(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --root, the project's own stack files (read only: no --apply)."""
    code = promote.main(["--from", "staging", "--to", "main"])
    assert code == 0
    assert "main already runs staging's release (homelab:release of Pulumi.main.yaml equals Pulumi.staging.yaml)" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("missing", ["--from", "--to"])
def test_both_stacks_are_required(missing: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = {"--from": "staging", "--to": "main"}
    del args[missing]
    with pytest.raises(SystemExit) as exit_:
        promote.main([item for pair in args.items() for item in pair])
    assert exit_.value.code == 2
    assert f"the following arguments are required: {missing}" in capsys.readouterr().err


# --- more of what users rely on --------------------------------------------------------------


def test_help_shows_the_module_doc_and_every_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    with pytest.raises(SystemExit) as exit_:
        promote.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "usage: homelab promote [-h] --from FROM_STACK --to TO_STACK [--apply] [--root ROOT] "
        "[--from-file FROM_FILE]\n                       [--to-file TO_FILE]\n\n"
        "Promote the release settings staging runs to main.\n\n"
        # the examples keep their indentation
        "    homelab promote --from staging --to main            (make promote FROM=staging TO=main)\n"
    )
    assert out.endswith(
        "options:\n"
        "  -h, --help            show this help message and exit\n"
        "  --from FROM_STACK     stack that runs the release first: staging\n"
        "  --to TO_STACK         stack to promote it to: main\n"
        "  --apply               write the target stack file (default: only show)\n"
        "  --root ROOT           directory of the Pulumi.<stack>.yaml files\n"
        "  --from-file FROM_FILE\n"
        "                        source stack file (default: <root>/Pulumi.<from>.yaml)\n"
        "  --to-file TO_FILE     target stack file (default: <root>/Pulumi.<to>.yaml)\n"
    )


def test_refuses_the_same_file_as_source_and_target(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stacks)
    before = (stacks / "Pulumi.main.yaml").read_bytes()
    code = promote.main(
        ["--from", "main", "--to", "staging", "--root", ".", "--to-file", "./Pulumi.main.yaml", "--apply"]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == "error: Pulumi.main.yaml: source and target are the same file\nnothing promoted\n"
    assert (stacks / "Pulumi.main.yaml").read_bytes() == before


def test_dry_run_and_apply_print_exactly_this(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stacks)
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    header = (
        "homelab:release: what main (Pulumi.main.yaml) changes to run staging's release (Pulumi.staging.yaml):\n"
        "  homelab:release.charts.coredns: 1.46.2 -> 1.47.0\n"
    )
    assert run(stacks, capsys) == (
        0,
        header + "dry run: nothing written; re-run with --apply to write Pulumi.main.yaml\n",
        "",
    )
    assert run(stacks, capsys, "--apply") == (
        0,
        header + "wrote Pulumi.main.yaml; review it with `git diff`, then `pulumi preview --stack main`\n",
        "",
    )


def test_every_problem_of_an_invalid_source_is_listed(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stacks)
    staging = stacks / "Pulumi.staging.yaml"
    edit(staging, "      cilium: 1.20.0\n", "      cilium: latest\n")
    edit(staging, "      coredns: 1.46.2\n", "      coredns: main\n")
    code, out, err = run(stacks, capsys)
    assert (code, out) == (2, "")
    assert err == (
        "error: Pulumi.staging.yaml: the staging stack config is invalid, fix it first:\n"
        "  - homelab:release.charts.cilium: 'latest' is not a pinned version (x.y.z)\n"
        "  - homelab:release.charts.coredns: 'main' is not a pinned version (x.y.z)\n"
        "nothing promoted\n"
    )


def test_problems_of_the_target_are_warnings_even_when_its_release_hid_them(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """main's invalid release kept the check of its gateways from running; those problems are
    main's own, not staging's release's: promoted, with a warning naming each (a bug: it was
    refused as "staging's release would make the main config invalid")."""
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    edit(main, "      external: 10.11.1.22 ", "      external: 10.11.9.22 ")
    edit(main, "      internal: 10.11.1.21 ", "      internal: 10.11.9.21 ")
    edit(main, "      replicas: 2\n      drainTimeout", "      replicas: 0\n      drainTimeout")
    before = main.read_text()
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert out.startswith(
        "warning: Pulumi.main.yaml: the main config has problems promotion does not fix:\n"
        "  - homelab:cluster.gateways.internal: '10.11.9.21' is outside the LB pool"
    )
    assert "\n  - homelab:cluster.gateways.external: '10.11.9.22' is outside the LB pool" in out
    assert "  homelab:release.envoy.replicas: 0 -> 2\n" in out
    assert main.read_text() == before.replace(
        "      replicas: 0\n      drainTimeout", "      replicas: 2\n      drainTimeout"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Pulumi's legacy `<namespace>:config:<name>` form of homelab:apps
        ("  homelab:config:apps: []\n", "homelab:config:apps: unknown config key; did you mean homelab:apps?"),
        (
            "  homelab:flavour: vanilla\n",
            "homelab:flavour: unknown config key; the known keys are homelab:cluster, homelab:release, "
            "homelab:apps, homelab:promotion, homelab:cloudflareApiToken, homelab:cloudflareDnsApiToken",
        ),
        ("  release: {}\n", "release: unknown config key; did you mean homelab:release?"),
        ("  Cluster: {}\n", "Cluster: unknown config key; did you mean homelab:cluster?"),
    ],
)
def test_unknown_homelab_keys_are_named_with_a_hint(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    edit(main, "  homelab:promotion:\n", line + "  homelab:promotion:\n")
    code, out, err = run(stacks, capsys)
    assert (code, out) == (2, "")
    assert err == f"error: Pulumi.main.yaml:{line_of(main, line)}: {message}\nnothing promoted\n"


def test_keys_of_other_tools_are_left_alone(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only keys close to homelab's are taken for misspelled ones: `home:` and `promtail` are not."""
    main = stacks / "Pulumi.main.yaml"
    edit(main, "  homelab:promotion:\n", "  home:assistant: true\n  promtail: {}\n  homelab:promotion:\n")
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_text()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.read_text() == before.replace("      coredns: 1.46.2\n", "      coredns: 1.47.0\n")


def test_refuses_a_source_token_that_is_a_mapping_but_not_an_encrypted_secret(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        stacks / "Pulumi.staging.yaml",
        "  homelab:apps: []\n",
        "  homelab:apps: []\n  homelab:cloudflareApiToken:\n    value: abcdefgh\n",
    )
    code, out, err = run(stacks, capsys)
    assert (code, out) == (2, "")
    assert "  - homelab:cloudflareApiToken: is set in plain text in the stack config;" in err


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        # values as YAML reads them: a float, a boolean (also behind an anchor), "", a mapping (a
        # date or `2.0` never get here: the reader refuses what YAML readers read differently)
        ("      replicas: 2\n      drainTimeout", "      replicas: 2.5\n      drainTimeout", "2.5 -> 2"),
        ("      replicas: 2\n      drainTimeout", "      replicas: true\n      drainTimeout", "true -> 2"),
        ("      replicas: 2\n      drainTimeout", "      replicas: &r false\n      drainTimeout", "false -> 2"),
        ("      replicas: 2\n      drainTimeout", '      replicas: ""\n      drainTimeout', '"" -> 2'),
        ("      replicas: 2\n      drainTimeout", "      replicas: {x: 2}\n      drainTimeout", '{"x": 2} -> 2'),
        ("      replicas: 2\n      drainTimeout", "      replicas: [2]\n      drainTimeout", "[2] -> 2"),
    ],
    ids=["float", "bool", "anchored-bool", "empty-string", "mapping", "list"],
)
def test_the_diff_shows_a_wrong_typed_target_value_as_read(
    stacks: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, shown: str
) -> None:
    edit(stacks / "Pulumi.main.yaml", old, new)
    code, out, err = run(stacks, capsys)
    assert (code, err) == (0, "")
    assert [line for line in out.splitlines() if "->" in line] == [f"  homelab:release.envoy.replicas: {shown}"]


def test_describe_a_mapping_replaced_by_a_scalar_in_one_line() -> None:
    changes = promote_edit.diff({"x": {"a": 1}, "y": [1, {"b": 2}], "z": [1]}, {"x": "s", "y": [1, {"b": 3}], "z": [1]})
    assert promote.describe(changes) == [
        'homelab:release.x: {"a": 1} -> s',
        'homelab:release.y: [1, {"b": 2}] -> [1, {"b": 3}]',
    ]
