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
settings that differ change, so comments, key order and formatting stay. Nothing outside
``homelab:release`` is touched: main's ``homelab:cluster``, ``homelab:apps``,
``homelab:promotion``, its secrets and ``encryptionsalt`` stay byte for byte. Review the result
with ``git diff``, then ``pulumi preview --stack main``.

It refuses, exit code 2 and nothing written, when:

* the source stack's config is invalid (the program's own validation, every key named);
* either file's ``homelab:release`` has a key the program does not know (a typo);
* the target file cannot be rewritten without changing its formatting outside the release
  settings.

Exit code 0 otherwise. Problems main already had before the promotion are shown as warnings.
``--root DIR`` reads ``Pulumi.<stack>.yaml`` from another directory; ``--from-file`` and
``--to-file`` name the two stack files directly.
"""

from __future__ import annotations

import argparse
import io
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
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.tokens import CommentToken

from components.config import API_TOKEN_KEY, PROJECT, RELEASE_KEY, ConfigError, Release, parse

ROOT = Path(__file__).resolve().parent.parent
RELEASE = f"{PROJECT}:{RELEASE_KEY}"
TOKEN = f"{PROJECT}:{API_TOKEN_KEY}"
#: The API token is never in a stack file in plain text; validation gets this instead.
TOKEN_PLACEHOLDER = "placeholder-token-for-promote"


class PromoteError(Exception):
    """The promotion is refused; the message names the file and the key."""


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
# reading and writing stack files


def yaml_rt() -> YAML:
    """ruamel in round-trip mode, set up to reproduce the stack files byte for byte."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap a long line
    return yaml


def load(text: str) -> Any:
    return yaml_rt().load(text)


def dump(doc: Any) -> str:
    out = io.StringIO()
    yaml_rt().dump(doc, out)
    return out.getvalue()


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

    Keys are matched like the program does: by alias (camelCase) or field name. Wrong shapes
    (a list where a mapping belongs...) are left to :func:`components.config.parse`.
    """
    if not isinstance(data, Mapping):
        return []
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        fields[name] = info.annotation
        if info.alias:
            fields[info.alias] = info.annotation
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

    The API token is never in the stack file in plain text: an encrypted (``secure:``) or absent
    token is replaced by a placeholder marked secret. A plain-text token is left for ``parse``
    to refuse.
    """
    prefix = f"{PROJECT}:"
    raw = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
    secret_keys: list[str] = []
    token = raw.get(API_TOKEN_KEY, ABSENT)
    if token is ABSENT or (isinstance(token, Mapping) and set(cast(Mapping[str, Any], token)) == {"secure"}):
        raw[API_TOKEN_KEY] = TOKEN_PLACEHOLDER
        secret_keys.append(TOKEN)
    try:
        parse(raw, secret_keys)
    except ConfigError as exc:
        return exc.problems
    return []


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


_RELEASE_LINE = re.compile(rf"^(?P<indent> *){re.escape(RELEASE)} *:")


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
    lines = text.splitlines(keepends=True)
    span = release_span(lines)
    return None if span is None else (lines[: span[0]], lines[span[1] :])


def _config_of(doc: Any, name: str) -> CommentedMap:
    if not isinstance(doc, CommentedMap):
        raise PromoteError(f"{name}: not a stack file (no `config:` mapping)")
    config = doc.get("config")
    if not isinstance(config, CommentedMap):
        raise PromoteError(f"{name}: not a stack file (no `config:` mapping)")
    return config


def promoted_text(target_text: str, release: Mapping[str, Any], name: str = "target") -> str:
    """The target stack file's text with ``release`` (plain) as its ``homelab:release``.

    Raises :class:`PromoteError` when ruamel cannot keep the file's formatting, or when the
    result differs from the promise (release equal to the source's, the rest unchanged).
    """
    doc = load(target_text)
    if dump(doc) != target_text:
        raise PromoteError(
            f"{name}: cannot rewrite it without changing its formatting (expected 2-space mappings, "
            "sequences as `  - ` under their key); edit homelab:release by hand or reformat the file"
        )
    config = _config_of(doc, name)
    current = config.get(RELEASE)
    if not isinstance(current, CommentedMap):
        current = CommentedMap()
        keys = list(config)
        after = keys.index(f"{PROJECT}:cluster") + 1 if f"{PROJECT}:cluster" in keys else len(keys)
        config.insert(after, RELEASE, current)
    apply_diff(current, diff(to_plain(current), release))
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


def _write(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
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


def _read(path: Path) -> tuple[str, CommentedMap]:
    name = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromoteError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    try:
        doc = load(text)
    except YAMLError as exc:
        raise PromoteError(f"{name}: not valid YAML: {exc}") from None
    return text, _config_of(doc, name)


def promote(source: Path, target: Path, from_stack: str, to_stack: str, apply: bool) -> int:
    src_name, dst_name = _shown(source), _shown(target)
    if source.resolve() == target.resolve():
        raise PromoteError(f"{src_name}: source and target are the same file")
    _, src_config = _read(source)
    dst_text, dst_config = _read(target)
    src_plain, dst_plain = to_plain(src_config), to_plain(dst_config)

    problems = [f"{src_name}: {p}" for p in release_problems(src_plain)]
    problems += [f"{dst_name}: {p}" for p in release_problems(dst_plain)]
    if problems:
        raise PromoteError("\n".join(problems))
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
    _write(target, promoted_text(dst_text, release, dst_name))
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
    except PromoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing promoted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
