"""Promote the release settings staging runs to main.

    python -m tools.promote --from staging --to main            (make promote FROM=staging TO=main)
    python -m tools.promote --from staging --to main --apply    (make promote APPLY=1)

``homelab:release`` holds the chart versions, image tags and feature values meant to be identical
on both clusters. Change them in ``Pulumi.staging.yaml`` first, run staging, then promote the same
release to main with this command.

Without ``--apply`` it only prints what main would change, one line per setting::

    homelab:release.charts.cilium: 1.20.0 -> 1.20.1
    homelab:release.images.cloudflared: 2026.8.2 -> 2026.9.0
    homelab:release.envoy.replicas: 2 -> 3

``(not set)`` on the left is a setting only staging has (added to main), on the right one only
main has (removed from main). When nothing differs it says main already runs staging's release.

With ``--apply`` it writes staging's ``homelab:release`` into ``Pulumi.main.yaml``: only the
settings that differ change, so comments, key order and formatting stay. Every byte outside
``homelab:release`` is kept: main's ``homelab:cluster``, ``homelab:apps``, ``homelab:promotion``,
its secrets and ``encryptionsalt``, its comments, YAML anchors and aliases, and the layout of the
file: a UTF-8 byte order mark, CRLF line endings (the rewritten release lines get them too), a
missing final newline. Review the result with ``git diff``, then ``pulumi preview --stack main``.

It refuses, exit code 2 and nothing written, when:

* a file cannot be read as a stack file: missing, a directory, not UTF-8, mixed line endings,
  not YAML (syntax error, tab indentation, duplicate keys), a top level or ``config:`` that is
  not a mapping, a ``homelab:release`` that is not a mapping. The message is
  ``error: <file>:<line>: <what is wrong>``, never a traceback;
* either file has a ``homelab:`` key the program does not know (``homelab:releasx``): a
  misspelled release would otherwise stay beside a new one; the closest known key is suggested;
* the source stack's config is invalid (the program's own validation, every key named);
* either file's ``homelab:release`` has a key the program does not know (a typo, or a
  snake_case name such as ``drain_timeout``: only the camelCase keys count);
* the target file cannot be rewritten without changing its formatting outside the release
  settings, or its ``homelab:release`` has YAML anchors, aliases or merge keys to change (a change
  would reach every place sharing the value). Anchors in the source's release are just values.

Exit code 0 otherwise. Problems main already had before the promotion are shown as warnings.
``--root DIR`` reads ``Pulumi.<stack>.yaml`` from another directory; ``--from-file`` and
``--to-file`` name the two stack files directly.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import tempfile
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple, cast

from pydantic import BaseModel
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.tokens import CommentToken

from components.config import (
    APPS_KEY,
    CLUSTER_KEY,
    PROJECT,
    PROMOTION_KEY,
    RELEASE_KEY,
    SECRET_KEYS,
    ConfigError,
    Release,
    parse,
)
from tools.stackfile_rt import StackFile, StackFileError, config_of, decode, dump, key_line, kind, load, read

ROOT = Path(__file__).resolve().parent.parent
RELEASE = f"{PROJECT}:{RELEASE_KEY}"
#: Every ``homelab:`` config key the program reads.
KNOWN_KEYS: tuple[str, ...] = tuple(
    f"{PROJECT}:{key}" for key in (CLUSTER_KEY, RELEASE_KEY, APPS_KEY, PROMOTION_KEY, *SECRET_KEYS)
)
#: The tokens are never in a stack file in plain text; validation gets these instead.
TOKEN_PLACEHOLDER = "placeholder-{name}-for-promote"


class PromoteError(Exception):
    """The promotion is refused; each problem names the file (and the line or key)."""

    def __init__(self, *problems: str):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Absent(Enum):
    ABSENT = "absent"


#: A key one side of a diff does not have.
ABSENT = _Absent.ABSENT


class Change(NamedTuple):
    """One difference between two settings trees; ``old``/``new`` are ABSENT when added/removed."""

    path: tuple[str, ...]
    old: Any
    new: Any
    #: For an added key: the key before it in the source mapping (None: it comes first).
    after: str | None = None


# ---------------------------------------------------------------------------------------------
# plain values (reading and writing the files: tools/stackfile_rt.py)


def to_plain(node: Any) -> Any:
    """ruamel's round-trip types as plain dicts, lists, str, int, float, bool."""
    if isinstance(node, Mapping):
        return {str(k): to_plain(v) for k, v in cast(Mapping[Any, Any], node).items()}
    if isinstance(node, list):
        return [to_plain(v) for v in cast(list[Any], node)]
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def same(a: Any, b: Any) -> bool:
    """Equal plain values of the same types (``1``, ``1.0``, ``True`` and ``"1"`` all differ)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        a_map, b_map = cast(Mapping[Any, Any], a), cast(Mapping[Any, Any], b)
        return a_map.keys() == b_map.keys() and all(same(a_map[k], b_map[k]) for k in a_map)
    if isinstance(a, list) and isinstance(b, list):
        a_list, b_list = cast(list[Any], a), cast(list[Any], b)
        return len(a_list) == len(b_list) and all(same(x, y) for x, y in zip(a_list, b_list, strict=True))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# checks


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The config model an annotation (``Model``, ``Model | None``, ``Annotated[Model, ...]``) holds."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            model = _model_in(arg)
            if model is not None:
                return model
    return None


def _item_annotation(annotation: Any) -> Any:
    """The element type of ``list[X]`` (through Annotated/Optional), else None."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            item = _item_annotation(arg)
            if item is not None:
                return item
    return None


def unknown_keys(data: Any, model: type[BaseModel], path: str) -> list[str]:
    """``<path>.<key>: unknown key`` for every key of ``data`` (recursively) the model lacks.

    Keys are matched by their camelCase alias only, as the stack files spell them: a snake_case
    field name (``drain_timeout``) is an unknown key. Wrong shapes (a list where a mapping
    belongs...) are left to :func:`components.config.parse`.
    """
    if not isinstance(data, Mapping):
        return []
    fields = {info.alias or name: info.annotation for name, info in model.model_fields.items()}
    problems: list[str] = []
    for key, value in cast(Mapping[Any, Any], data).items():
        key_path = f"{path}.{key}"
        if key not in fields:
            problems.append(f"{key_path}: unknown key")
        else:
            problems += _unknown_in(value, fields[key], key_path)
    return problems


def _unknown_in(value: Any, annotation: Any, path: str) -> list[str]:
    model = _model_in(annotation)
    if model is not None:
        return unknown_keys(value, model, path)
    item = _item_annotation(annotation)
    if item is not None and isinstance(value, list):
        return [p for i, v in enumerate(cast(list[Any], value)) for p in _unknown_in(v, item, f"{path}[{i}]")]
    return []


def release_problems(config: Mapping[str, Any]) -> list[str]:
    """Unknown keys (and a wrong shape) of a stack file's ``homelab:release``."""
    release = config.get(RELEASE, ABSENT)
    if release is ABSENT:
        return []
    if not isinstance(release, Mapping):
        return [f"{RELEASE}: must be a mapping of release settings (got {release!r})"]
    return unknown_keys(release, Release, RELEASE)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """What the program itself would refuse in this stack config (``homelab:*`` keys, plain).

    The tokens are never in the stack file in plain text and promotion never reads them: an
    encrypted (``secure:``) or absent one is replaced by a placeholder of its own, marked secret.
    A plain-text token is left for ``parse`` to refuse.
    """
    prefix = f"{PROJECT}:"
    raw = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
    secret_keys: list[str] = []
    for name in SECRET_KEYS:
        token = raw.get(name, ABSENT)
        if token is ABSENT or (isinstance(token, Mapping) and set(cast(Mapping[str, Any], token)) == {"secure"}):
            raw[name] = TOKEN_PLACEHOLDER.format(name=name)
            secret_keys.append(f"{prefix}{name}")
    try:
        parse(raw, secret_keys)
    except ConfigError as exc:
        return exc.problems
    return []


def _looks_like_ours(key: str) -> bool:
    """A ``homelab:`` key, or a misspelled one (``homelb:release``, ``Homelab:release``, ``release``)."""
    namespace, colon, _ = key.partition(":")
    if not colon:
        names = [k.removeprefix(f"{PROJECT}:").lower() for k in KNOWN_KEYS]
        return bool(difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.8))
    return namespace == PROJECT or bool(difflib.get_close_matches(namespace.lower(), [PROJECT], n=1, cutoff=0.8))


def file_problems(stack: StackFile) -> list[str]:
    """``<file>:<line>: ...`` for each ``homelab:`` key the program does not know (with the known
    key it is closest to) and for a ``homelab:release`` that is not a mapping.

    A misspelled ``homelab:releasx`` is not promoted into: it would stay beside the real one.
    """
    problems: list[str] = []
    by_name = {key.removeprefix(f"{PROJECT}:").lower(): key for key in KNOWN_KEYS}
    for key in stack.config:
        text = str(key)
        if text in KNOWN_KEYS or not _looks_like_ours(text):
            continue
        close = difflib.get_close_matches(text.rpartition(":")[2].lower(), list(by_name), n=1, cutoff=0.6)
        hint = f"did you mean {by_name[close[0]]}?" if close else f"the known keys are {', '.join(KNOWN_KEYS)}"
        problems.append(f"{stack.name}:{key_line(stack.config, key)}: {text}: unknown config key; {hint}")
    release = stack.config.get(RELEASE, ABSENT)
    if release is not ABSENT and not isinstance(release, CommentedMap):
        line = key_line(stack.config, RELEASE)
        problems.append(f"{stack.name}:{line}: {RELEASE} is {kind(release)}; it must be a mapping of release settings")
    return problems


def _anchor(node: Any) -> str | None:
    anchor = getattr(node, Anchor.attrib, None)
    return cast("str | None", anchor.value) if isinstance(anchor, Anchor) else None


def anchor_problem(config: CommentedMap, lines: Sequence[str], name: str) -> str | None:
    """``<file>:<line>: ...`` for the first YAML anchor, alias or merge key in ``homelab:release``.

    Changing a value another place refers to would change both places (or move the anchor), so
    a target's release is only rewritten when it has none. A source's are just values.
    """

    def entry(parent: CommentedMap | CommentedSeq, key: Any, path: str, line: int) -> str | None:
        value = parent[key]
        anchor = _anchor(value)
        if anchor is not None:
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            what = f"is the alias `*{anchor}`" if f"*{anchor}" in text else f"has the anchor `&{anchor}`"
            return f"{name}:{line}: {path} {what}"
        merged = cast("list[Any] | None", getattr(value, merge_attrib, None))
        if merged:
            return f"{name}:{line}: {path} merges `<<: *{_anchor(merged[0])}`"
        if isinstance(value, CommentedMap):
            for k in [k for k, _ in value.non_merged_items()]:
                found = entry(value, k, f"{path}.{k}", key_line(value, k))
                if found:
                    return found
        elif isinstance(value, CommentedSeq):
            for i in range(len(value)):
                found = entry(value, i, f"{path}[{i}]", cast(int, value.lc.item(i)[0]) + 1)
                if found:
                    return found
        return None

    found = entry(config, RELEASE, RELEASE, key_line(config, RELEASE)) if RELEASE in config else None
    if found is None:
        return None
    return (
        f"{found}; promote does not rewrite YAML anchors, aliases or merge keys inside {RELEASE} "
        "(a change there would change every place that shares the value): write the values out, then promote again"
    )


# ---------------------------------------------------------------------------------------------
# diff


def diff(old: Mapping[str, Any], new: Mapping[str, Any], path: tuple[str, ...] = ()) -> list[Change]:
    """What changes when ``old`` becomes ``new`` (plain values), in ``new``'s key order.

    Mappings on both sides are compared key by key; anything else is a leaf. A key only ``new``
    has is one added Change (its value may be a whole mapping), one only ``old`` has is one
    removed Change.
    """
    changes: list[Change] = []
    previous: str | None = None
    for key, new_value in new.items():
        key_path = (*path, key)
        old_value = old.get(key, ABSENT)
        if isinstance(old_value, Mapping) and isinstance(new_value, Mapping):
            changes += diff(cast(Mapping[str, Any], old_value), cast(Mapping[str, Any], new_value), key_path)
        elif old_value is ABSENT:
            changes.append(Change(key_path, ABSENT, new_value, previous))
        elif not same(old_value, new_value):
            changes.append(Change(key_path, old_value, new_value))
        previous = key
    changes += [Change((*path, key), value, ABSENT) for key, value in old.items() if key not in new]
    return changes


def _format(value: Any) -> str:
    if value is ABSENT:
        return "(not set)"
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            if value and value == value.strip():
                return value
        return json.dumps(value)  # "", " x", "1.20", "true": show that it is a string
    return json.dumps(value, default=str)


def _leaves(path: tuple[str, ...], old: Any, new: Any) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """An added or removed mapping as one line per leaf."""
    side = new if old is ABSENT else old if new is ABSENT else None
    if isinstance(side, Mapping) and side:
        for key, value in cast(Mapping[str, Any], side).items():
            if old is ABSENT:
                yield from _leaves((*path, key), ABSENT, value)
            else:
                yield from _leaves((*path, key), value, ABSENT)
    else:
        yield path, old, new


def describe(changes: Iterable[Change], prefix: str = RELEASE) -> list[str]:
    """One line per changed leaf: ``homelab:release.charts.cilium: 1.20.0 -> 1.20.1``."""
    return [
        f"{'.'.join((prefix, *path))}: {_format(old)} -> {_format(new)}"
        for change in changes
        for path, old, new in _leaves(change.path, change.old, change.new)
    ]


# ---------------------------------------------------------------------------------------------
# applying a diff to a round-trip mapping, keeping its comments


def _ca_items(node: CommentedMap) -> dict[Any, list[Any]]:
    return cast(dict[Any, list[Any]], node.ca.items)


def _to_rt(value: Any) -> Any:
    """A plain value as ruamel node (CommentedMap keeps block style and later comments)."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in cast(Mapping[Any, Any], value).items():
            out[k] = _to_rt(v)
        return out
    if isinstance(value, list):
        return CommentedSeq([_to_rt(v) for v in cast(list[Any], value)])
    return value


def _entry_slot(parent: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
    """Where ruamel keeps the comment lines after an entry: its deepest last key."""
    value = parent[key]
    if isinstance(value, CommentedMap) and value:
        return _entry_slot(value, list(value)[-1])
    return parent, key


def _last_slot(node: CommentedMap) -> tuple[CommentedMap, Any] | None:
    return _entry_slot(node, list(node)[-1]) if node else None


def _take_lines(slot: tuple[CommentedMap, Any]) -> str:
    """Detach the full comment lines after a slot's value (its end-of-line comment stays)."""
    node, key = slot
    entry = _ca_items(node).get(key)
    if not entry or len(entry) < 3 or entry[2] is None:
        return ""
    token = cast(CommentToken, entry[2])
    eol, _, lines = token.value.partition("\n")
    if not lines:
        return ""
    if eol:
        token.value = eol + "\n"
    else:
        entry[2] = None
    return lines


def _put_lines(slot: tuple[CommentedMap, Any], lines: str) -> None:
    node, key = slot
    entry = _ca_items(node).setdefault(key, [None, None, None, None])
    while len(entry) < 3:
        entry.append(None)
    if entry[2] is None:
        entry[2] = CommentToken("\n" + lines, CommentMark(0))
    else:
        token = cast(CommentToken, entry[2])
        token.value = token.value + lines


def _put_before_first(node: CommentedMap, lines: str) -> None:
    """Comment lines at the start of a mapping, before its first key."""
    comment = cast("list[Any] | None", node.ca.comment)
    if comment is None:
        comment = [None, []]
        node.ca.comment = comment
    while len(comment) < 2:
        comment.append(None)
    comment[1] = [*(comment[1] or []), CommentToken(lines, CommentMark(0))]


class _Lines(NamedTuple):
    """Comment lines that follow an entry (they belong before its next sibling)."""

    parent: CommentedMap | None  # None: they follow the whole mapping
    key: Any
    siblings: list[Any]  # parent's keys before the change
    text: str


def _detach_all(root: CommentedMap) -> list[_Lines]:
    """Take every block of full comment lines out of the tree, remembering what they follow.

    ruamel hangs comment lines on the deepest last key before them; once keys are added or
    removed that is the wrong place. Each block is owned by the outermost entry that ends there.
    """
    found: list[_Lines] = []

    def walk(node: CommentedMap) -> None:
        keys = list(node)
        for i, key in enumerate(keys):
            value = node[key]
            if isinstance(value, CommentedMap):
                walk(value)
            if i < len(keys) - 1:
                text = _take_lines(_entry_slot(node, key))
                if text:
                    found.append(_Lines(node, key, keys, text))

    walk(root)
    slot = _last_slot(root)
    text = _take_lines(slot) if slot else ""
    if text:
        found.append(_Lines(None, None, list(root), text))
    return found


def _maps_in(node: CommentedMap) -> Iterator[CommentedMap]:
    yield node
    for value in node.values():
        if isinstance(value, CommentedMap):
            yield from _maps_in(value)


def _reattach_all(root: CommentedMap, blocks: Sequence[_Lines]) -> None:
    alive = {id(m) for m in _maps_in(root)}
    for block in blocks:
        parent = block.parent
        if parent is None:
            slot = _last_slot(root)
            if slot is not None:
                _put_lines(slot, block.text)
            continue
        if id(parent) not in alive:
            continue  # comment lines inside a removed block go with it
        if block.key in parent:
            _put_lines(_entry_slot(parent, block.key), block.text)
            continue
        before = block.siblings[: block.siblings.index(block.key)]
        kept = [k for k in before if k in parent]
        if kept:
            _put_lines(_entry_slot(parent, kept[-1]), block.text)
        else:
            _put_before_first(parent, block.text)


def _node_at(root: CommentedMap, path: Sequence[str]) -> CommentedMap:
    node = root
    for key in path:
        child = node[key]
        if not isinstance(child, CommentedMap):
            raise KeyError(".".join(path))
        node = child
    return node


def apply_diff(target: CommentedMap, changes: Sequence[Change]) -> None:
    """Change ``target`` in place so ``diff(to_plain(target), source)`` is empty.

    Only the changed leaves are touched: unchanged keys keep their comments and position, a
    changed scalar keeps its key's comment (and its quote style), added keys go where the
    source has them, comment lines that followed a removed key or preceded an added one stay
    where they were in the text.
    """
    blocks = _detach_all(target)
    for change in changes:
        if change.new is ABSENT:
            parent, key = _node_at(target, change.path[:-1]), change.path[-1]
            del parent[key]
            _ca_items(parent).pop(key, None)
    for change in changes:
        parent, key = _node_at(target, change.path[:-1]), change.path[-1]
        if change.new is ABSENT:
            continue
        if change.old is ABSENT:
            keys = list(parent)
            pos = 0 if change.after is None else keys.index(change.after) + 1 if change.after in keys else len(keys)
            parent.insert(pos, key, _to_rt(change.new))
        else:
            parent[key] = _to_rt(change.new)  # ruamel keeps a quoted string's quotes
    _reattach_all(target, blocks)


# ---------------------------------------------------------------------------------------------
# the promoted file


_RELEASE_LINE = re.compile(rf"""^(?P<indent> *)(?P<q>["']?){re.escape(RELEASE)}(?P=q) *:""")


def lines_of(text: str) -> list[str]:
    """The lines of a text with their ``\n``; unlike ``str.splitlines`` only ``\n`` ends one."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def release_span(lines: Sequence[str]) -> tuple[int, int] | None:
    """Lines ``[start, end)`` of the ``homelab:release`` block in a stack file's text.

    The block is its key line and every following line indented deeper, up to the last such
    line; blank lines and comments at the key's indentation after it are outside.
    """
    for start, line in enumerate(lines):
        match = _RELEASE_LINE.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        end = start + 1
        for i in range(start + 1, len(lines)):
            text = lines[i]
            if not text.strip():
                continue
            if len(text) - len(text.lstrip(" ")) <= indent:
                break
            end = i + 1
        return start, end
    return None


def _outside(text: str) -> tuple[list[str], list[str]] | None:
    """The lines before and after the ``homelab:release`` block (None: the file has none)."""
    lines = lines_of(text)
    span = release_span(lines)
    return None if span is None else (lines[: span[0]], lines[span[1] :])


def promoted_text(target_text: str, release: Mapping[str, Any], name: str = "target") -> str:
    """The target stack file's text with ``release`` (plain) as its ``homelab:release``.

    ``target_text`` is ruamel's view of the file (:func:`tools.stackfile_rt.decode`: LF, no
    BOM). Raises :class:`PromoteError` when ruamel cannot keep the file's formatting, when the
    target's release has YAML anchors or aliases to rewrite, or when the result differs from the
    promise (release equal to the source's, the rest unchanged).
    """
    doc = load(target_text)
    rewritten = dump(doc)
    if rewritten != target_text:
        old, new = lines_of(target_text), lines_of(rewritten)
        line = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
        raise PromoteError(
            f"{name}:{line + 1}: cannot rewrite it without changing its formatting (expected 2-space mappings, "
            "sequences as `  - ` under their key, no comment after an alias); edit homelab:release by hand "
            "or reformat the file"
        )
    config = config_of(doc, target_text, name)
    current = config.get(RELEASE, ABSENT)
    if current is not ABSENT and not isinstance(current, CommentedMap):
        line = key_line(config, RELEASE)
        raise PromoteError(f"{name}:{line}: {RELEASE} is {kind(current)}; it must be a mapping of release settings")
    changes = diff({} if current is ABSENT else to_plain(current), release)
    if not changes:
        return target_text
    if current is ABSENT:
        current = CommentedMap()
        keys = list(config)
        after = keys.index(f"{PROJECT}:cluster") + 1 if f"{PROJECT}:cluster" in keys else len(keys)
        config.insert(after, RELEASE, current)
    else:
        problem = anchor_problem(config, target_text.split("\n"), name)
        if problem is not None:
            raise PromoteError(problem)
    apply_diff(current, changes)
    text = dump(doc)

    before, after_doc = to_plain(load(target_text)), to_plain(load(text))
    if not same(after_doc["config"].get(RELEASE), dict(release)):
        raise PromoteError(f"{name}: internal error: the written {RELEASE} would differ from the source's")
    before["config"].pop(RELEASE, None)
    after_doc["config"].pop(RELEASE, None)
    if not same(before, after_doc):
        raise PromoteError(f"{name}: internal error: settings outside {RELEASE} would change")
    old, new = _outside(target_text), _outside(text)
    kept = old == new if old is not None else new is not None and target_text == "".join(new[0] + new[1])
    if not kept:
        raise PromoteError(f"{name}: internal error: lines outside {RELEASE} would change")
    return text


def promoted_bytes(target: StackFile, release: Mapping[str, Any]) -> bytes:
    """The target file's bytes with ``release`` promoted, in the file's own layout: its line
    ending on every line (the new ones too), its BOM, its missing final newline."""
    text = promoted_text(target.text, release, target.name)
    data = target.layout.restore(text)
    if decode(data, target.name) != (text, target.layout):
        raise PromoteError(f"{target.name}: internal error: the file's line endings or encoding would change")
    return data


def _write(path: Path, data: bytes) -> None:
    """Replace the file atomically, keeping its permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# command


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def promote(source: Path, target: Path, from_stack: str, to_stack: str, apply: bool) -> int:
    src_name, dst_name = _shown(source), _shown(target)
    if source.resolve() == target.resolve():
        raise PromoteError(f"{src_name}: source and target are the same file")
    src, dst = read(source, src_name), read(target, dst_name)
    problems = [*file_problems(src), *file_problems(dst)]
    if problems:
        raise PromoteError(*problems)
    src_plain, dst_plain = to_plain(src.config), to_plain(dst.config)

    problems = [f"{src_name}: {p}" for p in release_problems(src_plain)]
    problems += [f"{dst_name}: {p}" for p in release_problems(dst_plain)]
    if problems:
        raise PromoteError(*problems)
    invalid = config_problems(src_plain)
    if invalid:
        lines = "\n  - ".join(invalid)
        raise PromoteError(f"{src_name}: the {from_stack} stack config is invalid, fix it first:\n  - {lines}")

    release: dict[str, Any] = src_plain[RELEASE]
    current = dst_plain.get(RELEASE)
    changes = diff(current if isinstance(current, dict) else {}, release)

    before = set(config_problems(dst_plain))
    after = config_problems({**dst_plain, RELEASE: release})
    introduced = [p for p in after if p not in before]
    if introduced:
        lines = "\n  - ".join(introduced)
        raise PromoteError(f"{dst_name}: {from_stack}'s release would make the {to_stack} config invalid:\n  - {lines}")
    if after:
        lines = "\n  - ".join(after)
        print(f"warning: {dst_name}: the {to_stack} config has problems promotion does not fix:\n  - {lines}")

    if not changes:
        print(f"{to_stack} already runs {from_stack}'s release ({RELEASE} of {dst_name} equals {src_name})")
        return 0
    print(f"{RELEASE}: what {to_stack} ({dst_name}) changes to run {from_stack}'s release ({src_name}):")
    for line in describe(changes):
        print(f"  {line}")
    if not apply:
        print(f"dry run: nothing written; re-run with --apply to write {dst_name}")
        return 0
    data = promoted_bytes(dst, release)
    try:
        _write(target, data)
    except OSError as exc:
        raise PromoteError(f"{dst_name}: cannot write it: {exc.strerror or exc}") from None
    print(f"wrote {dst_name}; review it with `git diff`, then `pulumi preview --stack {to_stack}`")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="from_stack", required=True, help="stack that runs the release first: staging")
    parser.add_argument("--to", dest="to_stack", required=True, help="stack to promote it to: main")
    parser.add_argument("--apply", action="store_true", help="write the target stack file (default: only show)")
    parser.add_argument("--root", type=Path, default=ROOT, help="directory of the Pulumi.<stack>.yaml files")
    parser.add_argument("--from-file", type=Path, help="source stack file (default: <root>/Pulumi.<from>.yaml)")
    parser.add_argument("--to-file", type=Path, help="target stack file (default: <root>/Pulumi.<to>.yaml)")
    args = parser.parse_args(argv)

    root = cast(Path, args.root)
    source = cast("Path | None", args.from_file) or root / f"Pulumi.{args.from_stack}.yaml"
    target = cast("Path | None", args.to_file) or root / f"Pulumi.{args.to_stack}.yaml"
    try:
        return promote(source, target, args.from_stack, args.to_stack, args.apply)
    except StackFileError as exc:
        problems: Sequence[str] = (str(exc),)
    except PromoteError as exc:
        problems = exc.problems
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print("nothing promoted", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
