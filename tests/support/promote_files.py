"""Copies of the stack files for the promotion tests (tests/promote/), and how they read them: edits,
the command's run, the release block found independently of the tool, what --apply must keep.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from homelab.config import yaml_text as stackfile_rt
from homelab.plan.mockrun import ROOT
from homelab.promote import command as promote
from homelab.promote import edit as promote_edit

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
    return stackfile_rt.plain(stackfile_rt.load(path.read_text()))["config"]


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
    promoted = stackfile_rt.plain(stackfile_rt.load(after))
    original = stackfile_rt.plain(stackfile_rt.load(before))
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


ENVOY_RESOURCES = "      externalTrafficPolicy: Cluster\n      resources:\n"
CLOUDFLARED_RESOURCES = (
    "      resources:\n        cpuRequest: 10m\n        memoryRequest: 64Mi\n        memoryLimit: 256Mi\n"
)


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the one occurrence of ``text`` in the file."""
    content = path.read_text()
    assert content.count(text) == 1
    return content[: content.index(text)].count("\n") + 1


ANCHOR_REFUSAL = (
    "; promote does not rewrite YAML anchors, aliases or merge keys inside homelab:release (a change there "
    "would change every place that shares the value): write the values out, then promote again"
)
