"""Promotion of staging's release settings to main (homelab/promote/command.py): --apply on the edges of a
hand-edited file (added, removed and commented-out keys, merge keys, the promise it checks).

Every test works on copies of the stack files in tmp_path; the real files are never written.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.comments import CommentedMap

from homelab.config import yaml_text as stackfile_rt
from homelab.plan.mockrun import ROOT
from homelab.promote import command as promote
from homelab.promote import edit as promote_edit
from homelab.promote import fitness as promote_checks
from tests.support import promote_files
from tests.support.promote_files import (
    ANCHOR_REFUSAL,
    CLOUDFLARED_RESOURCES,
    STACK_FILES,
    edit,
    line_of,
    run,
    split_release,
    without_comment,
)

# the shared fixtures (tests/support/promote_files.py): pytest finds them under these names
stacks = promote_files.stacks


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
    promote_edit.apply_diff(node, promote_edit.diff(stackfile_rt.plain(node), new))
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
