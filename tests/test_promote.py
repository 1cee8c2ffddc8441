"""Promotion of staging's release settings to main (homelab/promote/command.py).

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.comments import CommentedMap

from homelab.config.models import Release
from homelab.plan.mockrun import ROOT
from homelab.promote import checks as promote_checks
from homelab.promote import command as promote
from homelab.promote import edit as promote_edit
from homelab.promote import roundtrip as stackfile_rt

STACK_FILES = ("Pulumi.main.yaml", "Pulumi.staging.yaml")
RELEASE = "homelab:release"
SALT = "encryptionsalt: v1:Qm9ndXNTYWx0Cg==:v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==\n"
SECURE = "  homelab:cloudflareApiToken:\n    secure: v1:AAAABBBBCCCCDDDD:ZW5jcnlwdGVkLXRva2VuLWRvLW5vdC10b3VjaA==\n"


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """A directory with copies of both stack files."""
    for name in STACK_FILES:
        shutil.copyfile(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not exactly once in {path.name}"
    path.write_text(text.replace(old, new))


def run(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = promote.main(["--from", "staging", "--to", "main", "--root", str(root), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def config(path: Path) -> dict[str, Any]:
    return promote_edit.to_plain(stackfile_rt.load(path.read_text()))["config"]


def split_release(text: str) -> tuple[list[str], list[str], list[str]]:
    """(lines before, lines of, lines after) the `  homelab:release:` block, found independently
    of the tool: the key line and the following lines indented deeper than 2 spaces."""
    lines = text.splitlines()
    start = lines.index(f"  {RELEASE}:")
    end = start + 1
    while end < len(lines) and (lines[end].startswith("   ") or not lines[end].strip()):
        end += 1
    while not lines[end - 1].strip():  # trailing blank lines are outside
        end -= 1
    return lines[:start], lines[start:end], lines[end:]


def cut_block(path: Path, header: str) -> list[str]:
    """Remove the line ``header`` and the lines indented deeper below it from the file; return them."""
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(header)
    indent = len(header) - len(header.lstrip(" "))
    end = start + 1
    while end < len(lines) and lines[end].strip() and len(lines[end]) - len(lines[end].lstrip(" ")) > indent:
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]))
    return lines[start:end]


def without_comment(line: str) -> str:
    """A stack file line without its end-of-line comment (promoted values come without theirs)."""
    return re.sub(r"\s+#.*", "", line.rstrip("\n"))


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def assert_promoted(before: str, after: str, source: Path) -> None:
    """After --apply: the release equals the source's, the rest of the file is unchanged."""
    promoted = promote_edit.to_plain(stackfile_rt.load(after))
    original = promote_edit.to_plain(stackfile_rt.load(before))
    assert promoted["config"][RELEASE] == config(source)[RELEASE]
    assert promote_edit.diff(promoted["config"][RELEASE], config(source)[RELEASE]) == []
    for line in comment_lines(before):
        assert line in after.splitlines(), f"comment line lost: {line!r}"
    # parsed: every key outside homelab:release (per-cluster sections, secrets, salt) is equal
    for doc in (promoted, original):
        doc["config"].pop(RELEASE)
    assert promoted == original
    # text: every line outside the release block is byte-identical, in place
    head_before, _, tail_before = split_release(before)
    head_after, _, tail_after = split_release(after)
    assert head_after == head_before
    assert tail_after == tail_before


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
    promote_edit.apply_diff(node, promote_edit.diff(promote_edit.to_plain(node), new))
    assert promote_edit.to_plain(node) == new
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


# ---------------------------------------------------------------------------------------------
# the file's bytes: BOM, CRLF, final newline, anchors

BOM = b"\xef\xbb\xbf"
IMAGES = "    images:\n      cloudflared: 2026.8.2\n"
#: (BOM, line ending, final newline)
LAYOUTS = {
    "lf": (False, b"\n", True),
    "bom-crlf": (True, b"\r\n", True),
    "crlf-no-final-newline": (False, b"\r\n", False),
    "bom-lf-no-final-newline": (True, b"\n", False),
}


def laid_out(text: str, layout: str) -> bytes:
    """``text`` (LF, ending in a newline) with a layout of LAYOUTS."""
    bom, newline, final = LAYOUTS[layout]
    data = text.encode().replace(b"\n", newline)
    return (BOM if bom else b"") + (data if final else data.removesuffix(newline))


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


ENVOY_RESOURCES = "      externalTrafficPolicy: Cluster\n      resources:\n"
CLOUDFLARED_RESOURCES = (
    "      resources:\n        cpuRequest: 10m\n        memoryRequest: 64Mi\n        memoryLimit: 256Mi\n"
)


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


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the one occurrence of ``text`` in the file."""
    content = path.read_text()
    assert content.count(text) == 1
    return content[: content.index(text)].count("\n") + 1


ANCHOR_REFUSAL = (
    "; promote does not rewrite YAML anchors, aliases or merge keys inside homelab:release (a change there "
    "would change every place that shares the value): write the values out, then promote again"
)


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
        "not valid YAML: character #x0001: special characters are not allowed",
    ),
    "invalid date": (
        b"config:\n  homelab:cluster:\n    name: 2026-13-45\n",
        3,
        "not valid YAML: '2026-13-45' is not a valid timestamp (month must be in 1..12)",
    ),
    "!!int that is not one": (
        b"config:\n  homelab:release:\n    envoy:\n      replicas: !!int two\n",
        4,
        "not valid YAML: 'two' is not a valid int (invalid literal for int() with base 10: 'two')",
    ),
    "top level list": (
        b"# main\n- config\n",
        2,
        "the top level is a list; a stack file is a mapping with `config:`",
    ),
    "top level scalar": (
        b"# main\n\nconfig\n",
        3,
        "the top level is a string ('config'); a stack file is a mapping with `config:`",
    ),
    "empty file": (b"", 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`"),
    "only a BOM": (BOM, 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`"),
    "only comments": (
        b"# nothing\n",
        1,
        "no settings (empty, or only comments); a stack file is a mapping with `config:`",
    ),
    "config list": (b"config:\n  - homelab:release\n", 1, "`config:` is a list; it must be a mapping of settings"),
    "config scalar": (b"config: yes\n", 1, "`config:` is a string ('yes'); it must be a mapping of settings"),
    "config empty": (b"config:\n", 1, "`config:` is empty; it must be a mapping of settings"),
    "config missing": (
        b"# main\nconfg:\n  homelab:release: {}\n",
        2,
        "no `config:` key at the top level; a stack file keeps its settings there",
    ),
    "duplicate key": (
        b"config:\n  homelab:release:\n    charts: {}\n  homelab:release:\n    images: {}\n",
        4,
        "duplicate key `homelab:release` (lines 2 and 4); keep one",
    ),
    "nested duplicate key": (
        b"config:\n  homelab:release:\n    charts:\n      cilium: 1\n      coredns: 2\n      cilium: 3\n",
        6,
        "duplicate key `cilium` (lines 4 and 6); keep one",
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
        "homelab:release is a string ('1.20.0'); it must be a mapping of release settings",
    ),
    "release scalar after other keys": (
        b"config:\n  homelab:apps: []\n  homelab:release: 1.20.0\n",
        3,
        "homelab:release is a string ('1.20.0'); it must be a mapping of release settings",
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
        (Path.unlink, "cannot read it: No such file or directory"),
        (lambda p: (p.unlink(), p.mkdir()), "cannot read it: Is a directory"),
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
    assert err == f"error: {name}:1: {what}\nnothing promoted\n"
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
    (stacks / "Pulumi.main.yaml").write_bytes(b"config:\n  homelab:release:\n    charts: !!set cilium\n")
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, out) == (2, "")
    assert err.startswith("error: Pulumi.main.yaml:3: not valid YAML: this value cannot be read as `set` (ruamel: ")
    assert err.endswith(")\nnothing promoted\n")
    assert "Traceback" not in err


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
    edit(main, "  homelab:promotion:\n", "  home:assistant: on\n  promtail: {}\n  homelab:promotion:\n")
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
        # values as YAML reads them: a float, a boolean (also behind an anchor), a date, "", a mapping
        ("      replicas: 2\n      drainTimeout", "      replicas: 2.0\n      drainTimeout", "2.0 -> 2"),
        ("      replicas: 2\n      drainTimeout", "      replicas: true\n      drainTimeout", "true -> 2"),
        ("      replicas: 2\n      drainTimeout", "      replicas: &r false\n      drainTimeout", "false -> 2"),
        (
            "      replicas: 2\n      drainTimeout",
            "      replicas: 2026-08-02\n      drainTimeout",
            '"2026-08-02" -> 2',
        ),
        ("      replicas: 2\n      drainTimeout", '      replicas: ""\n      drainTimeout', '"" -> 2'),
        ("      replicas: 2\n      drainTimeout", "      replicas: {n: 2}\n      drainTimeout", '{"n": 2} -> 2'),
        ("      replicas: 2\n      drainTimeout", "      replicas: [2]\n      drainTimeout", "[2] -> 2"),
    ],
    ids=["float", "bool", "anchored-bool", "date", "empty-string", "mapping", "list"],
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


def test_apply_puts_an_added_key_where_the_source_has_it(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main leaves envoy.replicas at its default; staging sets it: it comes first, as in staging."""
    main = stacks / "Pulumi.main.yaml"
    original = main.read_text()
    edit(main, "    envoy:\n      replicas: 2\n", "    envoy:\n")
    code, out, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert "  homelab:release.envoy.replicas: (not set) -> 2\n" in out
    assert main.read_text() == original


def test_apply_removes_in_one_section_and_changes_a_later_one(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    staging, main = stacks / "Pulumi.staging.yaml", stacks / "Pulumi.main.yaml"
    edit(staging, "        memoryLimit: 1Gi\n", "")
    edit(staging, "      postQuantum: strict", "      postQuantum: prefer")
    before = main.read_text()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.read_text() == before.replace("        memoryLimit: 1Gi\n", "").replace(
        "      postQuantum: strict ", "      postQuantum: prefer "
    )


def test_apply_fills_an_empty_release_mapping(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    original = main.read_text()
    head, block, tail = split_release(original)
    assert tail[0].startswith("  # --- apps")
    main.write_text("\n".join([*head, "  homelab:release: {}", *tail[1:]]) + "\n")  # homelab:apps right after
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.read_text() == "\n".join([*head, *map(without_comment, block), *tail[1:]]) + "\n"


def test_apply_across_blank_lines_and_lines_commented_out_in_the_release(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blank line and a line commented out at column 0 inside the release do not end it (a bug:
    the column-0 comment was taken for the end of the release block, and the promotion refused
    with "internal error: lines outside homelab:release would change")."""
    main = stacks / "Pulumi.main.yaml"
    edit(main, "    images:\n", "\n    images:\n")
    edit(main, "      envoyGateway: v1.9.0\n", "#      envoyGateway: v1.8.0\n      envoyGateway: v1.9.0\n")
    edit(stacks / "Pulumi.staging.yaml", "      envoyGateway: v1.9.0\n", "      envoyGateway: v1.9.1\n")
    edit(stacks / "Pulumi.staging.yaml", "      cloudflared: 2026.8.2\n", "      cloudflared: 2026.9.0\n")
    before = main.read_text()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.read_text() == before.replace("      envoyGateway: v1.9.0\n", "      envoyGateway: v1.9.1\n").replace(
        "      cloudflared: 2026.8.2\n", "      cloudflared: 2026.9.0\n"
    )


def test_apply_adds_the_release_at_the_end_of_a_config_without_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")
    main = tmp_path / "Pulumi.main.yaml"
    main.write_text("config:\n  homelab:promotion:\n    requireStaging: true\n")
    code, out, err = run(tmp_path, capsys, "--apply")
    assert (code, err) == (0, "")
    assert out.startswith("warning: Pulumi.main.yaml: the main config has problems promotion does not fix:\n")
    block = split_release((ROOT / "Pulumi.staging.yaml").read_text())[1]
    assert main.read_text() == "config:\n  homelab:promotion:\n    requireStaging: true\n" + "".join(
        f"{without_comment(line)}\n" for line in block
    )


def test_refuses_a_target_whose_end_ruamel_drops_and_names_that_line(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    main.write_text(main.read_text() + "...\n")  # YAML's document end marker
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (
        2,
        f"error: Pulumi.main.yaml:{line_of(main, '...')}: cannot rewrite it without changing its formatting "
        "(expected 2-space mappings, sequences as `  - ` under their key, no comment after an alias); "
        "edit homelab:release by hand or reformat the file\nnothing promoted\n",
    )
    assert main.read_bytes() == before


MERGED_RESOURCES = [
    (
        "  homelab:release:\n",
        "  other:resources: &res\n    cpuRequest: 10m\n    memoryRequest: 64Mi\n  homelab:release:\n",
    ),
    (CLOUDFLARED_RESOURCES, "      resources:\n        <<: *res\n        memoryLimit: 256Mi\n"),
]


@pytest.mark.parametrize(
    ("edits", "at", "what"),
    [
        # a merge key whose anchor is outside the release
        (
            MERGED_RESOURCES,
            "      resources:\n        <<: *res\n",
            "homelab:release.cloudflared.resources merges `<<: *res`",
        ),
        (
            [("    envoy:\n      replicas: 2\n", "    envoy:\n      replicas:\n        - 1\n        - &n 2\n")],
            "        - &n 2\n",
            "homelab:release.envoy.replicas[1] has the anchor `&n`",
        ),
        (
            [
                (
                    "  homelab:release:\n    charts:\n",
                    "  other:charts: &c\n    cilium: 1.20.0\n  homelab:release:\n    <<: *c\n    charts:\n",
                ),
            ],
            "  homelab:release:\n    <<: *c\n",
            "homelab:release merges `<<: *c`",
        ),
    ],
    ids=["merge", "anchor-in-a-list", "merge-into-the-release"],
)
def test_refuses_merge_keys_and_anchors_in_lists_in_the_target_release(
    stacks: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    edits: list[tuple[str, str]],
    at: str,
    what: str,
) -> None:
    monkeypatch.chdir(stacks)
    main = stacks / "Pulumi.main.yaml"
    for old, new in edits:
        edit(main, old, new)
    edit(stacks / "Pulumi.staging.yaml", "      envoyGateway: v1.9.0\n", "      envoyGateway: v1.9.1\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (
        2,
        f"error: Pulumi.main.yaml:{line_of(main, at)}: {what}{ANCHOR_REFUSAL}\nnothing promoted\n",
    )
    assert main.read_bytes() == before


def test_apply_diff_keeps_every_comment_line_where_it_was() -> None:
    """Comment lines after a removed key go after the kept key before it, or before the first key
    of their mapping (below one already there, below an end-of-line comment of the mapping's key);
    an end-of-line comment and the lines after it stay together; lines inside a removed mapping
    go with it."""
    node = stackfile_rt.load(
        "a0: 0\na: 1\nb: 2  # eol b\n# after b\nc: 3\n# after c\n"
        "gone:\n  g: 1\n  # inside gone\n  h: 2\n"
        "m:\n  # before p\n  p: 1\n  # after p\n  q: 2\n"
        "n:\n  x: 1\n  # after x\n  y: 2\n"
        "k:  # eol k\n  s: 1\n  # after s\n  t: 2\n"
        "z: 9\n# the end\n"
    )
    assert isinstance(node, CommentedMap)
    new = {"a0": 0, "a": 1, "b": 3, "m": {"q": 2, "w": 1}, "n": {"y": 2}, "k": {"t": 2}, "z": 9}
    promote_edit.apply_diff(node, promote_edit.diff(promote_edit.to_plain(node), new))
    assert stackfile_rt.dump(node) == (
        "a0: 0\na: 1\nb: 3  # eol b\n# after b\n# after c\n"
        "m:\n  # before p\n  # after p\n  q: 2\n  w: 1\n"
        "n:\n  # after x\n  y: 2\n"
        "k:  # eol k\n  # after s\n  t: 2\n"
        "z: 9\n# the end\n"
    )


CHECKED = "config:\n  homelab:cluster:\n    name: main\n  homelab:release:\n    charts:\n      cilium: 1.20.0\n"


@pytest.mark.parametrize(
    ("target", "text", "problem"),
    [
        (CHECKED, CHECKED.replace("1.20.0", "1.20.1"), "the written homelab:release would differ from the source's"),
        (CHECKED, CHECKED.replace("name: main", "name: mian"), "settings outside homelab:release would change"),
        (CHECKED, "# new\n" + CHECKED, "lines outside homelab:release would change"),
        (
            "config:\n  homelab:cluster:\n    name: main\n",
            "# new\n" + CHECKED,
            "lines outside homelab:release would change",
        ),
        (
            "config:\n  homelab:cluster:\n    name: main\n",
            'config:\n  homelab:cluster:\n    name: main\n  "homelab:release":\n    charts:\n      cilium: 1.20.0\n',
            None,
        ),
        (
            "config:\n  homelab:cluster:\n    name: main\n",
            "config:\n  homelab:cluster:\n    name: main\n  homelab:release: {charts: {cilium: 1.20.0}}\n",
            None,
        ),
    ],
    ids=["release", "settings", "lines", "lines-of-a-new-release", "quoted-new-release", "flow-new-release"],
)
def test_a_result_that_breaks_the_promise_is_refused(target: str, text: str, problem: str | None) -> None:
    """The last guard before writing: the release equals the source's, all else is unchanged."""
    release = {"charts": {"cilium": "1.20.0"}}
    if problem is None:
        promote_edit.check_promoted(target, text, release, "Pulumi.main.yaml")
        return
    with pytest.raises(promote_edit.PromoteError) as refused:
        promote_edit.check_promoted(target, text, release, "Pulumi.main.yaml")
    assert refused.value.problems == (f"Pulumi.main.yaml: internal error: {problem}",)


def test_apply_keeps_the_file_mode(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = stacks / "Pulumi.main.yaml"
    main.chmod(0o640)
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (0, "")
    assert main.stat().st_mode & 0o7777 == 0o640
    assert "      coredns: 1.47.0\n" in main.read_text()


def test_a_failed_replace_leaves_the_file_and_no_temporary_one(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new bytes go to a hidden file beside the target (same file system: the rename is
    atomic); when the rename fails, that file is removed and the target is untouched."""
    renamed: list[tuple[str, str]] = []

    def fail(src: str, dst: str) -> None:
        renamed.append((str(src), str(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.chdir(stacks)
    monkeypatch.setattr(promote_edit.os, "replace", fail)
    main = stacks / "Pulumi.main.yaml"
    edit(stacks / "Pulumi.staging.yaml", "      coredns: 1.46.2\n", "      coredns: 1.47.0\n")
    before = main.read_bytes()
    code, _, err = run(stacks, capsys, "--apply")
    assert (code, err) == (2, "error: Pulumi.main.yaml: cannot write it: No space left on device\nnothing promoted\n")
    assert main.read_bytes() == before
    assert sorted(p.name for p in stacks.iterdir()) == sorted(STACK_FILES)
    [(src, dst)] = renamed
    assert (Path(src).parent, dst) == (stacks, str(main))
    assert Path(src).name.startswith(".Pulumi.main.yaml.")


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("", "x", 'homelab:release.cloudflared.note: "" -> x'),
        (" x", "1.20", 'homelab:release.cloudflared.note: " x" -> "1.20"'),
        (promote_checks.ABSENT, 3, "homelab:release.cloudflared.note: (not set) -> 3"),
        (datetime.date(2026, 11, 27), None, 'homelab:release.cloudflared.note: "2026-11-27" -> null'),
    ],
    ids=["empty", "spaces-and-number-like", "added", "date"],
)
def test_each_change_is_shown_so_strings_and_other_values_differ(old: Any, new: Any, line: str) -> None:
    assert promote.describe([promote_edit.Change(("cloudflared", "note"), old, new)]) == [line]
