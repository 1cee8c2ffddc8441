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
import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

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
from tools.stackfile_rt import StackFile, StackFileError, dump, key_line, kind, load, read

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
        super().__init__(*problems)

    @property
    def problems(self) -> tuple[str, ...]:
        return self.args


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
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
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
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return same(dict(enumerate(a)), dict(enumerate(b)))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# checks


def unknown_keys(data: Any, model: type[BaseModel], path: str) -> list[str]:
    """``<path>.<key>: unknown key`` for every key of ``data`` (recursively) the model lacks.

    Keys are matched by their camelCase alias only, as the stack files spell them: a snake_case
    field name (``drain_timeout``) is an unknown key. Wrong shapes (a list where a mapping
    belongs...) are left to :func:`components.config.parse`. The release models nest only models
    and scalars (no lists, unions or optional models), so only a model's fields are looked into.
    """
    if not isinstance(data, Mapping):
        return []
    fields = {info.alias or name: info.annotation for name, info in model.model_fields.items()}
    problems: list[str] = []
    for key, value in data.items():
        key_path = f"{path}.{key}"
        annotation = fields.get(key)
        if annotation is None:
            problems.append(f"{key_path}: unknown key")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            problems += unknown_keys(value, annotation, key_path)
    return problems


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
        if token is ABSENT or (isinstance(token, Mapping) and set(token) == {"secure"}):
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
        return bool(difflib.get_close_matches(key.lower(), names, cutoff=0.8))
    return namespace == PROJECT or bool(difflib.get_close_matches(namespace.lower(), [PROJECT], cutoff=0.8))


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
        close = difflib.get_close_matches(text.rpartition(":")[2].lower(), list(by_name))  # best first
        hint = f"did you mean {by_name[close[0]]}?" if close else f"the known keys are {', '.join(KNOWN_KEYS)}"
        problems.append(f"{stack.name}:{key_line(stack.config, key)}: {text}: unknown config key; {hint}")
    release = stack.config.get(RELEASE, ABSENT)
    if release is not ABSENT and not isinstance(release, CommentedMap):
        line = key_line(stack.config, RELEASE)
        problems.append(f"{stack.name}:{line}: {RELEASE} is {kind(release)}; it must be a mapping of release settings")
    return problems


def _anchor(node: Any) -> str | None:
    anchor = getattr(node, Anchor.attrib, None)
    return anchor.value if isinstance(anchor, Anchor) else None


def anchor_problem(config: CommentedMap, lines: Sequence[str], name: str) -> str | None:
    """``<file>:<line>: ...`` for the first YAML anchor, alias or merge key in ``homelab:release``.

    Changing a value another place refers to would change both places (or move the anchor), so
    a target's release is only rewritten when it has none. A source's are just values.
    """

    def entry(parent: CommentedMap | CommentedSeq, key: Any, path: str, line: int) -> str | None:
        value = parent[key]
        anchor = _anchor(value)
        if anchor is not None:
            what = f"is the alias `*{anchor}`" if f"*{anchor}" in lines[line - 1] else f"has the anchor `&{anchor}`"
            return f"{name}:{line}: {path} {what}"
        merged: list[Any] | None = getattr(value, merge_attrib, None)
        if merged:
            return f"{name}:{line}: {path} merges `<<: *{_anchor(merged[0])}`"
        if isinstance(value, CommentedMap):
            for k in [k for k, _ in value.non_merged_items()]:
                found = entry(value, k, f"{path}.{k}", key_line(value, k))
                if found:
                    return found
        elif isinstance(value, CommentedSeq):
            for i in range(len(value)):
                row: int = value.lc.item(i)[0]
                found = entry(value, i, f"{path}[{i}]", row + 1)
                if found:
                    return found
        return None

    found = entry(config, RELEASE, RELEASE, key_line(config, RELEASE))
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
            changes += diff(old_value, new_value, key_path)
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
        for key, value in side.items():
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
    items: dict[Any, list[Any]] = node.ca.items
    return items


def _to_rt(value: Any) -> Any:
    """A plain value as ruamel node (CommentedMap keeps block style and later comments).

    The release holds mappings and scalars only (a valid source's has no list)."""
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _to_rt(v)
        return out
    return value


def _entry_slot(parent: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
    """Where ruamel keeps the comment lines after an entry: its deepest last key."""
    value = parent[key]
    if isinstance(value, CommentedMap) and value:
        return _entry_slot(value, list(value)[-1])
    return parent, key


def _take_lines(slot: tuple[CommentedMap, Any]) -> str:
    """Detach the full comment lines after a slot's value (its end-of-line comment stays)."""
    node, key = slot
    entry = _ca_items(node).get(key)
    if entry is None or entry[2] is None:
        return ""
    token: CommentToken = entry[2]
    eol, _, lines = token.value.partition("\n")
    if not lines:
        return ""
    if eol:
        token.value = eol + "\n"
    else:
        entry[2] = None
    return lines


def _comment(text: str) -> CommentToken:
    return CommentToken(text, CommentMark(0))


def _put_lines(slot: tuple[CommentedMap, Any], lines: str) -> None:
    node, key = slot
    entry = _ca_items(node).setdefault(key, [None, None, None, None])
    token: CommentToken | None = entry[2]
    if token is None:
        entry[2] = _comment("\n" + lines)
    else:
        token.value += lines


def _put_before_first(node: CommentedMap, owner: tuple[CommentedMap, Any] | None, lines: str) -> None:
    """Comment lines at the start of a mapping, before its first key. ruamel writes the ones its
    parent keeps for its key (``owner``) when the parent has comments there, else its own."""
    entry = _ca_items(owner[0]).get(owner[1]) if owner else None
    if entry is None:
        if node.ca.comment is None:
            node.ca.comment = [None, None]
        comments: list[Any] = node.ca.comment
        at = 1
    else:
        comments, at = entry, 3
    if comments[at] is None:
        comments[at] = [_comment(lines)]
    else:
        comments[at].append(_comment(lines))  # the list ruamel may share between node and parent


class _Lines(NamedTuple):
    """Comment lines that follow an entry (they belong before its next sibling)."""

    parent: CommentedMap
    key: Any
    siblings: list[Any]  # parent's keys before the change
    text: str


def _detach_all(root: CommentedMap) -> tuple[list[_Lines], str]:
    """Take every block of full comment lines out of the tree, remembering what they follow;
    the last block is the lines after the whole mapping.

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
    keys = list(root)
    return found, _take_lines(_entry_slot(root, keys[-1])) if keys else ""


def _maps_in(node: CommentedMap) -> Iterator[CommentedMap]:
    yield node
    for value in node.values():
        if isinstance(value, CommentedMap):
            yield from _maps_in(value)


def _reattach_all(root: CommentedMap, blocks: Sequence[_Lines], trailing: str) -> None:
    owners = {id(value): (node, key) for node in _maps_in(root) for key, value in node.items()}
    alive = {id(m) for m in _maps_in(root)}
    for block in blocks:
        parent = block.parent
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
            _put_before_first(parent, owners.get(id(parent)), block.text)
    if trailing:  # root is the source's release: never empty
        _put_lines(_entry_slot(root, list(root)[-1]), trailing)


def _node_at(root: CommentedMap, path: Sequence[str]) -> CommentedMap:
    """The mapping at ``path`` (a Change's parent: a mapping on both sides of the diff)."""
    node = root
    for key in path:
        node = node[key]
    return node


def apply_diff(target: CommentedMap, changes: Sequence[Change]) -> None:
    """Change ``target`` in place so ``diff(to_plain(target), source)`` is empty.

    Only the changed leaves are touched: unchanged keys keep their comments and position, a
    changed scalar keeps its key's comment (and its quote style), added keys go where the
    source has them, comment lines that followed a removed key or preceded an added one stay
    where they were in the text.
    """
    blocks, trailing = _detach_all(target)
    for change in changes:
        if change.new is ABSENT:
            del _node_at(target, change.path[:-1])[change.path[-1]]
    for change in changes:
        if change.new is ABSENT:
            continue
        parent, key = _node_at(target, change.path[:-1]), change.path[-1]
        if change.old is ABSENT:
            # the key before it in the source is in the target by now: kept, or added before it
            pos = 0 if change.after is None else list(parent).index(change.after) + 1
            parent.insert(pos, key, _to_rt(change.new))
        else:
            parent[key] = _to_rt(change.new)  # ruamel keeps a quoted string's quotes
    _reattach_all(target, blocks, trailing)


# ---------------------------------------------------------------------------------------------
# the promoted file


_RELEASE_LINE = re.compile(rf"""^(?P<indent> *)(?P<q>["']?){re.escape(RELEASE)}(?P=q) *:""")


def lines_of(text: str) -> list[str]:
    """The lines of a text that ends in a newline (as ruamel reads and writes it), each with its
    ``\n``; unlike ``str.splitlines`` only ``\n`` ends one."""
    return [line + "\n" for line in text.split("\n")[:-1]]


def release_span(lines: Sequence[str]) -> tuple[int, int] | None:
    """Lines ``[start, end)`` of the ``homelab:release`` block in a stack file's text.

    The block is its key line and every following line indented deeper, up to the last such
    line: blank lines and comment lines (at any indentation, such as a line commented out at
    column 0) do not end it, and those after its last deeper line are outside.
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
            content = text.lstrip(" ")
            if len(text) - len(content) > indent:
                end = i + 1
            elif not content.startswith("#"):
                break
        return start, end
    return None


def _outside(text: str) -> tuple[list[str], list[str]] | None:
    """The lines before and after the ``homelab:release`` block (None: the file has none)."""
    lines = lines_of(text)
    span = release_span(lines)
    return None if span is None else (lines[: span[0]], lines[span[1] :])


def check_promoted(target_text: str, text: str, release: Mapping[str, Any], name: str) -> None:
    """Raise :class:`PromoteError` unless ``text`` keeps the promise: ``target_text`` with
    ``release`` (plain) as its ``homelab:release``, every other setting and every line outside the
    release block unchanged. A last guard against ruamel's surprises; nothing is written then."""
    before, after = to_plain(load(target_text))["config"], to_plain(load(text))["config"]
    if not same(after.pop(RELEASE), release):
        raise PromoteError(f"{name}: internal error: the written {RELEASE} would differ from the source's")
    before.pop(RELEASE, None)
    if not same(before, after):
        raise PromoteError(f"{name}: internal error: settings outside {RELEASE} would change")
    old, new = _outside(target_text), _outside(text)
    kept = old == new if old is not None else new is not None and target_text == "".join(new[0] + new[1])
    if not kept:
        raise PromoteError(f"{name}: internal error: lines outside {RELEASE} would change")


def promoted_text(target_text: str, release: Mapping[str, Any], name: str) -> str:
    """The target stack file's text with ``release`` (plain) as its ``homelab:release``.

    ``target_text`` is ruamel's view of a stack file :func:`tools.stackfile_rt.read` accepted
    and :func:`file_problems` found no problem in (LF, no BOM, a ``config:`` mapping whose
    release, if any, is a mapping). Raises :class:`PromoteError` when ruamel cannot keep the
    file's formatting, when the target's release has YAML anchors or aliases to rewrite, or when
    the result differs from the promise (:func:`check_promoted`).
    """
    doc = load(target_text)
    rewritten = dump(doc)
    if rewritten != target_text:
        old, new = lines_of(target_text), lines_of(rewritten)
        line = next(i for i, (a, b) in enumerate(itertools.zip_longest(old, new)) if a != b)
        raise PromoteError(
            f"{name}:{line + 1}: cannot rewrite it without changing its formatting (expected 2-space mappings, "
            "sequences as `  - ` under their key, no comment after an alias); edit homelab:release by hand "
            "or reformat the file"
        )
    config: CommentedMap = doc["config"]
    current: CommentedMap | None = config.get(RELEASE)
    changes = diff({} if current is None else to_plain(current), release)
    if not changes:
        return target_text
    if current is None:
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
    check_promoted(target_text, text, release, name)
    return text


def promoted_bytes(target: StackFile, release: Mapping[str, Any]) -> bytes:
    """The target file's bytes with ``release`` promoted, in the file's own layout: its line
    ending on every line (the new ones too), its BOM, its missing final newline."""
    return target.layout.restore(promoted_text(target.text, release, target.name))


def _write(path: Path, data: bytes) -> None:
    """Replace the file atomically, keeping its permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)  # it exists: every step that can fail comes after mkstemp made it
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
    changes = diff(dst_plain.get(RELEASE, {}), release)

    # the source's release is valid, and no check looks at a release beside other settings:
    # what is wrong with the target's config once it runs that release is the target's own
    problems = config_problems({**dst_plain, RELEASE: release})
    if problems:
        lines = "\n  - ".join(problems)
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

    root: Path = args.root
    source: Path = args.from_file or root / f"Pulumi.{args.from_stack}.yaml"
    target: Path = args.to_file or root / f"Pulumi.{args.to_stack}.yaml"
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
