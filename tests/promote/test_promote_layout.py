"""Promotion of staging's release settings to main (homelab/promote/command.py): the file's bytes (BOM, CRLF,
final newline) and its anchors.

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.config import yaml_text as stackfile_rt
from tests.support import promote_files
from tests.support.promote_files import (
    ANCHOR_REFUSAL,
    BOM,
    CLOUDFLARED_RESOURCES,
    ENVOY_RESOURCES,
    IMAGES,
    edit,
    laid_out,
    line_of,
    run,
    split_release,
)

# the shared fixtures (tests/support/promote_files.py): pytest finds them under these names
stacks = promote_files.stacks


# ---------------------------------------------------------------------------------------------
# the file's bytes: BOM, CRLF, final newline, anchors


def test_decode_and_restore_a_layout() -> None:
    data = BOM + b"config:\r\n  a: 1\r\n  b: 2"
    text, layout = stackfile_rt.decode(data, "f.yaml")
    assert (text, layout) == ("config:\n  a: 1\n  b: 2\n", stackfile_rt.Layout(True, "\r\n", False))
    assert layout.restore(text) == data
    assert layout.restore("config:\n  a: 1\n  c: 3\n") == BOM + b"config:\r\n  a: 1\r\n  c: 3"
    assert stackfile_rt.decode(b"", "f.yaml") == ("", stackfile_rt.Layout())


@pytest.mark.parametrize(
    ("target_layout", "source_layout"),
    [
        ("lf", "bom-crlf"),
        ("bom-crlf", "lf"),
        ("crlf-no-final-newline", "bom-lf-no-final-newline"),
        ("bom-lf-no-final-newline", "crlf-no-final-newline"),
    ],
)
def test_apply_keeps_the_layout_of_the_file(
    stacks: Path, capsys: pytest.CaptureFixture[str], target_layout: str, source_layout: str
) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    original = main.read_text()
    # a changed line, a removed line (envoy's memoryLimit) and added lines (images)
    edit(staging, "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    edit(staging, "        memoryLimit: 1Gi\n", "")
    staging.write_bytes(laid_out(staging.read_text(), source_layout))
    assert original.count(IMAGES) == 1
    main.write_bytes(laid_out(original.replace(IMAGES, ""), target_layout))

    code, out, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    assert "homelab:release.images.cloudflared: (not set) -> 2026.8.2" in out
    expected = original.replace("      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    expected = expected.replace("        memoryLimit: 1Gi\n", "")
    assert main.read_bytes() == laid_out(expected, target_layout)


@pytest.mark.parametrize(
    ("old", "new", "last_line"),
    [
        ("        memoryLimit: 256Mi\n", "        memoryLimit: 512Mi\n", b"        memoryLimit: 512Mi"),
        ("        memoryLimit: 256Mi\n", "", b"        memoryRequest: 64Mi"),
    ],
    ids=["last-line-changed", "last-line-removed"],
)
def test_apply_to_a_release_at_the_end_of_a_file_without_final_newline(
    stacks: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, last_line: bytes
) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, old, new)
    head, block, tail = split_release(main.read_text())
    moved = "\n".join([*head, *tail, *block]) + "\n"  # the release block last
    main.write_bytes(laid_out(moved, "crlf-no-final-newline"))

    code, _, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    after = main.read_bytes()
    assert after == laid_out(moved.replace(old, new), "crlf-no-final-newline")
    assert after.endswith(b"\r\n" + last_line)


def test_apply_keeps_anchors_and_aliases_outside_the_release(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    edit(main, "    domain: example.com        ", "    domain: &domain example.com")
    edit(main, "      zone: example.com\n", "      zone: *domain\n")
    edit(stacks / "Pulumi.staging.yaml", "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    before = main.read_bytes()

    code, out, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    assert [line.strip() for line in out.splitlines() if "->" in line] == [
        "homelab:release.charts.cilium: 1.20.0 -> 1.20.1"
    ]
    assert main.read_bytes() == before.replace(b"      cilium: 1.20.0\n", b"      cilium: 1.20.1\n")


@pytest.mark.parametrize(
    ("cloudflared_resources", "changed"),
    [
        # an alias: cloudflared's resources are envoy's
        (
            "      resources: *res\n",
            {"cpuRequest": ("10m", "100m"), "memoryRequest": ("64Mi", "128Mi"), "memoryLimit": ("256Mi", "1Gi")},
        ),
        # a merge key: envoy's resources, cpuRequest overridden
        (
            "      resources:\n        <<: *res\n        cpuRequest: 10m\n",
            {"memoryRequest": ("64Mi", "128Mi"), "memoryLimit": ("256Mi", "1Gi")},
        ),
    ],
    ids=["alias", "merge"],
)
def test_anchors_in_the_source_release_are_promoted_as_values(
    stacks: Path, capsys: pytest.CaptureFixture[str], cloudflared_resources: str, changed: dict[str, tuple[str, str]]
) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, ENVOY_RESOURCES, ENVOY_RESOURCES.replace("resources:", "resources: &res"))
    edit(staging, CLOUDFLARED_RESOURCES, cloudflared_resources)
    before = main.read_text()

    code, out, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    assert [line.strip() for line in out.splitlines() if "->" in line] == [
        f"homelab:release.cloudflared.resources.{key}: {old} -> {new}" for key, (old, new) in changed.items()
    ]
    expected = CLOUDFLARED_RESOURCES
    for key, (old, new) in changed.items():
        expected = expected.replace(f"{key}: {old}\n", f"{key}: {new}\n")
    assert main.read_text() == before.replace(CLOUDFLARED_RESOURCES, expected)


@pytest.mark.parametrize(
    ("cloudflared_resources", "diff_lines"),
    [
        (
            "      resources: *res\n",  # cloudflared's resources are envoy's: they differ from staging's
            [
                "homelab:release.charts.coredns: 1.46.2 -> 1.47.0",
                "homelab:release.cloudflared.resources.cpuRequest: 100m -> 10m",
                "homelab:release.cloudflared.resources.memoryRequest: 128Mi -> 64Mi",
                "homelab:release.cloudflared.resources.memoryLimit: 1Gi -> 256Mi",
            ],
        ),
        (
            # a merge key whose values equal staging's: refused all the same, though only coredns changes
            "      resources:\n        <<: *res\n        cpuRequest: 10m\n        memoryRequest: 64Mi\n"
            "        memoryLimit: 256Mi\n",
            ["homelab:release.charts.coredns: 1.46.2 -> 1.47.0"],
        ),
    ],
    ids=["alias", "merge"],
)
def test_refuses_to_rewrite_anchors_in_the_target_release(
    stacks: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cloudflared_resources: str,
    diff_lines: list[str],
) -> None:
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    edit(main, ENVOY_RESOURCES, ENVOY_RESOURCES.replace("resources:", "resources: &res"))
    edit(main, CLOUDFLARED_RESOURCES, cloudflared_resources)
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()

    code, out, err = run(stacks, capsys)  # the dry run shows the plain values
    assert (code, err) == (0, "")
    assert [line.strip() for line in out.splitlines() if "->" in line] == diff_lines

    code, _, err = run(stacks, capsys, "--apply")
    line = line_of(main, "      resources: &res\n")
    what = "homelab:release.envoy.resources has the anchor `&res`"
    assert (code, err) == (2, f"error: Pulumi.main.yaml:{line}: {what}{ANCHOR_REFUSAL}\nnothing promoted\n")
    assert main.read_bytes() == before


def test_refuses_an_alias_into_the_target_release(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An alias inside the release to an anchor outside it: changing it would move the anchor."""
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    edit(main, "      issuer: letsencrypt-prod\n", "      issuer: &v v1.9.0\n")  # the value does not matter here
    edit(main, "      envoyGateway: v1.9.0\n", "      envoyGateway: *v\n")
    edit(stacks / "Pulumi.staging.yaml", "      envoyGateway: v1.9.0\n", "      envoyGateway: v1.9.1\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    line = line_of(main, "      envoyGateway: *v\n")
    what = "homelab:release.charts.envoyGateway is the alias `*v`"
    assert (code, err) == (2, f"error: Pulumi.main.yaml:{line}: {what}{ANCHOR_REFUSAL}\nnothing promoted\n")
    assert main.read_bytes() == before


def test_refuses_a_target_ruamel_cannot_reproduce_and_names_the_line(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ruamel drops an end-of-line comment after an alias: the file is left alone."""
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    edit(main, "    domain: example.com        ", "    domain: &domain example.com")
    edit(main, "      zone: example.com\n", "      zone: *domain                  # the same zone\n")
    edit(stacks / "Pulumi.staging.yaml", "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert code == 2
    assert err == (
        f"error: Pulumi.main.yaml:{line_of(main, '      zone: *domain')}: cannot rewrite it without changing its "
        "formatting (expected 2-space mappings, sequences as `  - ` under their key, no comment after an alias); "
        "edit homelab:release by hand or reformat the file\nnothing promoted\n"
    )
    assert main.read_bytes() == before
