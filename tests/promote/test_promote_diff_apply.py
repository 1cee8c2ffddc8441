"""Promotion of staging's release settings to main (homelab/promote/command.py): the diff, --apply, its
refusals and the secrets it leaves alone.

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml.comments import CommentedMap

from homelab.config import yaml_text as stackfile_rt
from homelab.plan.mockrun import ROOT
from homelab.promote import command as promote
from homelab.promote import edit as promote_edit
from homelab.promote import fitness as promote_checks
from tests.support import promote_files
from tests.support.promote_files import (
    RELEASE,
    SALT,
    SECURE,
    STACK_FILES,
    assert_promoted,
    config,
    cut_block,
    edit,
    run,
    split_release,
    without_comment,
)

# the shared fixtures (tests/support/promote_files.py): pytest finds them under these names
stacks = promote_files.stacks


# ---------------------------------------------------------------------------------------------
# diff


def test_identical_stack_files_have_no_diff(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main, staging = config(stacks / "Pulumi.main.yaml"), config(stacks / "Pulumi.staging.yaml")
    assert promote_edit.diff(main[RELEASE], staging[RELEASE]) == []
    code, out, err = run(stacks, capsys)
    assert (code, err) == (0, "")
    assert "main already runs staging's release" in out
    assert "->" not in out


def test_diff_lists_changed_versions_and_features(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    staging = stacks / "Pulumi.staging.yaml"
    edit(staging, "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    edit(staging, "      cloudflared: 2026.8.2\n", "      cloudflared: 2026.9.0\n")
    edit(staging, "      externalTrafficPolicy: Cluster\n", "      externalTrafficPolicy: Local\n")
    edit(staging, "        qps: 50\n", "        qps: 80\n")
    main_before = (stacks / "Pulumi.main.yaml").read_bytes()

    code, out, err = run(stacks, capsys)

    assert (code, err) == (0, "")
    lines = [line.strip() for line in out.splitlines()]
    assert "homelab:release.charts.cilium: 1.20.0 -> 1.20.1" in lines
    assert "homelab:release.images.cloudflared: 2026.8.2 -> 2026.9.0" in lines
    assert "homelab:release.envoy.externalTrafficPolicy: Cluster -> Local" in lines
    assert "homelab:release.cilium.k8sClientRateLimit.qps: 50 -> 80" in lines
    assert sum("->" in line for line in lines) == 4
    assert "dry run" in out
    assert (stacks / "Pulumi.main.yaml").read_bytes() == main_before  # without --apply nothing is written


def test_diff_of_plain_trees() -> None:
    old = {"charts": {"a": "1.0.0", "gone": "2.0.0"}, "envoy": {"replicas": 2, "resources": {"cpu": "1"}}}
    new = {"charts": {"a": "1.0.1", "b": "3.0.0"}, "envoy": {"replicas": "2"}, "extra": {"x": {"y": 1}}}
    changes = promote_edit.diff(old, new)
    assert changes == [
        promote_edit.Change(("charts", "a"), "1.0.0", "1.0.1"),
        promote_edit.Change(("charts", "b"), promote_checks.ABSENT, "3.0.0", "a"),
        promote_edit.Change(("charts", "gone"), "2.0.0", promote_checks.ABSENT),
        promote_edit.Change(("envoy", "replicas"), 2, "2"),  # an int and a string differ
        promote_edit.Change(("envoy", "resources"), {"cpu": "1"}, promote_checks.ABSENT),
        promote_edit.Change(("extra",), promote_checks.ABSENT, {"x": {"y": 1}}, "envoy"),
    ]
    assert promote.describe(changes) == [
        "homelab:release.charts.a: 1.0.0 -> 1.0.1",
        "homelab:release.charts.b: (not set) -> 3.0.0",
        "homelab:release.charts.gone: 2.0.0 -> (not set)",
        'homelab:release.envoy.replicas: 2 -> "2"',
        'homelab:release.envoy.resources.cpu: "1" -> (not set)',  # a string that looks like a number
        "homelab:release.extra.x.y: (not set) -> 1",
    ]
    assert promote_edit.diff(new, new) == []


# ---------------------------------------------------------------------------------------------
# --apply


@pytest.mark.parametrize("name", STACK_FILES)
def test_ruamel_reproduces_the_stack_files(name: str) -> None:
    text = (ROOT / name).read_text()
    assert stackfile_rt.dump(stackfile_rt.load(text)) == text


def test_apply_writes_the_release_and_nothing_else(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    edit(staging, "      cloudflared: 2026.8.2\n", "      cloudflared: 2026.9.0\n")
    edit(staging, "      replicas: 2\n      drainTimeout", "      replicas: 3\n      drainTimeout")
    # the last leaf of main's release carries the comment line of the next section
    edit(staging, "        memoryLimit: 256Mi\n", "")
    before = main.read_text()

    code, out, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    assert "homelab:release.cloudflared.resources.memoryLimit: 256Mi -> (not set)" in out
    after = main.read_text()
    assert_promoted(before, after, staging)
    # the changed scalars stay on their lines
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert new_lines[old_lines.index("      cilium: 1.20.0")] == "      cilium: 1.20.1"
    assert len(new_lines) == len(old_lines) - 1
    assert split_release(after)[2][0].startswith("  # --- apps behind the gateways")

    code, out, _ = run(stacks, capsys)
    assert code == 0
    assert "main already runs staging's release" in out


def test_apply_keeps_comments_quotes_secrets_and_adds_missing_keys(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    edit(staging, "        qps: 50\n", "        qps: 60\n")
    # main: an encrypted token and salt as `pulumi stack init`/`config set --secret` write them,
    # a quoted value with an end-of-line comment, comment lines between and after sections, and
    # no `cloudflared` section (defaults) that staging sets
    main.write_text(SALT + main.read_text())
    edit(main, "  homelab:promotion:\n", SECURE + "  homelab:promotion:\n")
    edit(main, "      coredns: 1.46.2\n", '      coredns: "1.46.2"              # pinned: see DESIGN.md\n')
    edit(main, "    cilium:\n      k8sClientRateLimit:", "    # tuning below\n    cilium:\n      k8sClientRateLimit:")
    removed = cut_block(main, "    cloudflared:\n")
    before = main.read_text()

    code, out, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    assert "homelab:release.cloudflared.replicas: (not set) -> 2" in out
    after = main.read_text()
    assert_promoted(before, after, staging)
    assert '      coredns: "1.47.0"              # pinned: see DESIGN.md' in after.splitlines()
    assert after.startswith(SALT)
    assert SECURE in after
    # the added section comes last, where staging has it, before main's next comment line
    block, tail = split_release(after)[1:]
    assert block[-len(removed) :] == [without_comment(line) for line in removed]
    assert tail[0].startswith("  # --- apps behind the gateways")
    assert "    # tuning below" in block


def test_noop_apply_leaves_the_file_byte_identical(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    # staging's formatting and comments differ; its values do not
    edit(stacks / "Pulumi.staging.yaml", "      cilium: 1.20.0\n", '      cilium: "1.20.0"   # new comment\n')
    before = main.read_bytes()
    code, out, _ = run(stacks, capsys, "--apply")
    assert code == 0
    assert "main already runs staging's release" in out
    assert main.read_bytes() == before
    staging_release = config(stacks / "Pulumi.staging.yaml")[RELEASE]
    assert promote_edit.promoted_text(before.decode(), staging_release, "Pulumi.main.yaml") == before.decode()


def test_apply_diff_moves_comment_lines_with_their_place() -> None:
    node = stackfile_rt.load(
        "a: 1  # eol a\n# about b\nb: 2\nm:\n  p: 1\n# about z\nz: 3\n# after everything\n",
    )
    assert isinstance(node, CommentedMap)
    new = {"b": 3, "m": {"p": 1, "q": 2}, "z": 3, "w": 4}
    promote_edit.apply_diff(node, promote_edit.diff(stackfile_rt.plain(node), new))
    assert stackfile_rt.plain(node) == new
    assert stackfile_rt.dump(node) == (
        "# about b\nb: 3\nm:\n  p: 1\n  q: 2\n# about z\nz: 3\nw: 4\n# after everything\n"
    )


# ---------------------------------------------------------------------------------------------
# refusals


def test_refuses_invalid_source_config(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, "      cilium: 1.20.0\n", "      cilium: 1.20.1\n")
    edit(staging, "      external: 10.12.1.22\n", "      external: 10.12.2.22\n")
    before = main.read_bytes()

    code, out, err = run(stacks, capsys, "--apply")

    assert code == 2
    assert "Pulumi.staging.yaml: the staging stack config is invalid" in err
    assert "homelab:cluster.gateways.external: '10.12.2.22' is outside the LB pool" in err
    assert "nothing promoted" in err
    assert "->" not in out
    assert main.read_bytes() == before


@pytest.mark.parametrize("name", STACK_FILES)
@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("      cilium: 1.20.0\n", "      cilium: 1.20.0\n      ciliumm: 1.20.1\n", "charts.ciliumm"),
        ("        memoryLimit: 1Gi\n", "        memoryLimit: 1Gi\n        cpuLimit: 2\n", "envoy.resources.cpuLimit"),
        ("    images:\n", "    image:\n      cloudflared: 2026.8.2\n    images:\n", "image"),
    ],
)
def test_refuses_unknown_release_keys(
    stacks: Path, capsys: pytest.CaptureFixture[str], name: str, old: str, new: str, key: str
) -> None:
    edit(stacks / name, old, new)
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = {n: (stacks / n).read_bytes() for n in STACK_FILES}

    code, _, err = run(stacks, capsys, "--apply")

    assert code == 2
    assert f"{name}: homelab:release.{key}: unknown key" in err
    assert {n: (stacks / n).read_bytes() for n in STACK_FILES} == before


def test_refuses_a_target_it_cannot_rewrite_faithfully(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    main.write_text(main.read_text().replace("\n  ", "\n    "))  # 4-space indentation
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()
    code, out, err = run(stacks, capsys, "--apply")
    assert code == 2
    assert "cannot rewrite it without changing its formatting" in err
    assert "homelab:release.charts.coredns: 1.46.2 -> 1.47.0" in out
    assert main.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# secrets


def test_secure_token_in_source_is_accepted_and_target_token_kept(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, "  homelab:promotion:\n", SECURE + "  homelab:promotion:\n")
    edit(staging, "      certManager: v1.21.1\n", "      certManager: v1.21.2\n")
    edit(main, "  homelab:promotion:\n", SECURE + "  homelab:promotion:\n")
    before = main.read_text()

    code, _, err = run(stacks, capsys, "--apply")

    assert (code, err) == (0, "")
    after = main.read_text()
    assert SECURE in after
    assert config(main)["homelab:cloudflareApiToken"] == {
        "secure": "v1:AAAABBBBCCCCDDDD:ZW5jcnlwdGVkLXRva2VuLWRvLW5vdC10b3VjaA=="
    }
    assert_promoted(before, after, staging)


def test_refuses_a_plain_text_token_in_the_source(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(
        stacks / "Pulumi.staging.yaml",
        "  homelab:apps: []\n",
        "  homelab:apps: []\n  homelab:cloudflareApiToken: abc\n",
    )
    code, _, err = run(stacks, capsys)
    assert code == 2
    assert "homelab:cloudflareApiToken: is set in plain text" in err
    assert "abc" not in err


def test_warns_about_problems_main_already_has(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    edit(main, "      external: 10.11.1.22 ", "      external: 10.11.9.22 ")
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_text()
    code, out, _ = run(stacks, capsys, "--apply")
    assert code == 0
    assert "warning:" in out
    assert "homelab:cluster.gateways.external: '10.11.9.22' is outside the LB pool" in out
    assert_promoted(before, main.read_text(), stacks / "Pulumi.staging.yaml")
