"""Hostile input for the property-based tests (Hypothesis): stack files with hostile leaves,
mutated YAML text, extra stacks, command lines; and the invariants every run must keep.

The invariants are the ones users rely on, whatever the input:

* exit 0 or 2, never anything else; exit 2 with ``error:`` and a file or key named;
* never a traceback, never the catch-all ("the plan failed", "a bug in");
* a planted credential is refused (exit 2) and never printed, nor written anywhere;
* nothing written, changed or removed outside ``rendered/<stack>`` (the plan) or the target
  stack file (promote);
* a bounded time per run (Hypothesis' deadline).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

#: The credential planted in hostile input: it must never reach output or a written file.
PLANTED = "Pl4ntedT0kenXq7vR2mN9pL4kT8wZ3yB6cD1fG5h"

#: Values that are the right type somewhere and mean nothing (or something else) there.
TRICKY_TEXT = (
    "",
    " ",
    "0.0.0.0",
    "255.255.255.255",
    "10.11.0.0",
    "127.0.0.1",
    "::1",
    "1e3",
    "010",
    "yes",
    "off",
    "2026-01-01",
    "-1",
    "1.0",
    ".inf",
    "~",
    "null",
    "a,b=c",
    "x" * 300,
    "\x07",
    "line\nbreak",
    "ünïcödé",
    "../../etc/passwd",
    "${SECRET_DOMAIN}",
)

hostile_leaf: st.SearchStrategy[Any] = st.one_of(
    st.just(PLANTED),
    st.builds(lambda a, b: f"{a}Bearer {PLANTED}{b}", st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-3, max_value=300), max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", PLANTED, "secure"]), st.integers(0, 3), max_size=2),
)


def leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every path to a value in a config tree, containers included (deepest last)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i)
            yield from leaf_paths(item, (*path, i))


def mutate(config: dict[str, Any], path: tuple[str | int, ...], action: str, leaf: Any) -> bool:
    """Apply one mutation in place; True when it plants the credential (the run must refuse)."""
    parent: Any = config
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "drop" and isinstance(parent, dict):
        del parent[last]
        return False
    if action == "add" and isinstance(parent, dict):
        parent[f"{last}Extra"] = leaf
    else:
        parent[last] = leaf
    return PLANTED in repr(leaf)


@st.composite
def text_mutations(draw: st.DrawFn, text: str) -> bytes:
    """A stack file's text after a few edits a hand (or a bad merge) makes: characters
    inserted, lines dropped, doubled or swapped, tabs, anchors, tags, bytes that are not UTF-8."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        kind = draw(st.sampled_from(["insert", "drop", "double", "swap", "tab", "anchor", "tag", "planted"]))
        if kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = (
                lines[i][:at]
                + draw(st.sampled_from([":", "- ", "{", "[", '"', "'", "#", "&", "*", "|"]))
                + (lines[i][at:])
            )
        elif kind == "drop":
            del lines[i]
        elif kind == "double":
            lines.insert(i, lines[i])
        elif kind == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif kind == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
        elif kind == "anchor":
            lines[i] = lines[i] + " &a" if ":" in lines[i] else lines[i]
        elif kind == "tag":
            lines[i] = lines[i].replace(": ", ": !!binary ", 1)
        elif kind == "planted":
            lines[i] = lines[i].replace(": ", f": {PLANTED} ", 1)
    data = "\n".join(lines).encode()
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]
    return data


def tree(root: Path, skip: Path | None = None) -> dict[str, str]:
    """Every file under ``root`` (but ``skip``) -> a digest of its bytes; symlinks as links
    (directories are not listed: making the output folder is no change to the project)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_symlink():
            out[str(path.relative_to(root))] = f"-> {path.readlink()}"
        elif path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def files_holding(root: Path, needle: str) -> list[str]:
    """Files under ``root`` whose bytes hold ``needle``."""
    data = needle.encode()
    return [str(p) for p in root.rglob("*") if p.is_file() and not p.is_symlink() and data in p.read_bytes()]


def holds_planted(data: bytes) -> bool:
    """The planted credential is in a stack file's values or keys (not only in a comment), as
    another YAML library (PyYAML) reads the file: then the plan must refuse it. A file PyYAML
    cannot read says nothing either way."""
    try:
        return PLANTED in repr(yaml.safe_load(data))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return False


CATCH_ALL = ("the plan failed", "a bug in", "failed: ", "Traceback")


def check_outcome(code: int, out: str, err: str, planted: bool) -> None:
    """The invariants on what a command printed and returned."""
    text = out + err
    assert code in (0, 2), f"exit {code}:\n{text}"
    for words in CATCH_ALL:
        assert words not in text, f"{words!r}:\n{text}"
    assert PLANTED not in text, f"the planted credential was printed:\n{text}"
    if planted:
        assert code == 2, f"a planted credential was accepted:\n{text}"
    if code == 2:
        assert "error:" in err, err
        assert "Pulumi." in err or "homelab:" in err or "--" in err, f"no file, key or flag named:\n{err}"
