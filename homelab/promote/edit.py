"""How the target file is rewritten: the ruamel tree edit that keeps comments, and the text
splice that keeps every byte outside ``homelab:release``.

Split from ``homelab.promote.command`` (the command) so each file stays readable. The diff, its ``Change``,
the plain-value helpers and ``PromoteError`` live here too: the rewrite needs them and
``homelab.promote.command`` imports them from here, so no module imports ``homelab.promote.command`` (no import cycle).
The checks come from ``homelab.promote.fitness``.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from homelab.config.models import PROJECT
from homelab.config.reader import StackFile
from homelab.config.yaml_text import dump, load, plain
from homelab.errors import HomelabError
from homelab.promote.fitness import ABSENT, RELEASE, anchor_problem


class PromoteError(HomelabError):
    """The promotion is refused; each problem names the file (and the line or key)."""

    def __init__(self, *problems: str):
        super().__init__(*problems)

    @property
    def problems(self) -> tuple[str, ...]:
        return self.args


class Change(NamedTuple):
    """One difference between two settings trees; ``old``/``new`` are ABSENT when added/removed."""

    path: tuple[str, ...]
    old: Any
    new: Any
    #: For an added key: the key before it in the source mapping (None: it comes first).
    after: str | None = None


# ---------------------------------------------------------------------------------------------
# plain values (reading and writing the files: homelab/config/reader.py, yaml_text.py)


def same(a: Any, b: Any) -> bool:
    """Equal plain values of the same types (``1``, ``1.0``, ``True`` and ``"1"`` all differ)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return same(dict(enumerate(a)), dict(enumerate(b)))
    return type(a) is type(b) and a == b


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
    """Change ``target`` in place so ``diff(plain(target), source)`` is empty.

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
    before, after = plain(load(target_text))["config"], plain(load(text))["config"]
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

    ``target_text`` is ruamel's view of a stack file :func:`homelab.config.reader.read` accepted
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
    changes = diff({} if current is None else plain(current), release)
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


def written_file(path: Path) -> Path:
    """What :func:`write_in_place` replaces: ``path``, or the file a symbolic link points to."""
    return path.resolve(strict=True) if path.is_symlink() else path


def write_in_place(path: Path, data: bytes, name: str) -> Path:
    """Replace the file atomically (a hidden file beside it, renamed over it), keeping its
    permissions; returns the file written. A symbolic link is kept: the file it points to is
    replaced, in that file's folder. A file with other hard links is refused (``name`` in the
    :class:`PromoteError`): the rename would leave them with the old bytes."""
    real = written_file(path)
    links = real.stat().st_nlink
    if links > 1:
        raise PromoteError(
            f"{name}: the file has {links} hard links (other names of the same file); replacing it would leave "
            "the others with the old settings: make it one file (a symbolic link may point to it) and re-run"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, real.stat().st_mode & 0o7777)
        os.replace(tmp, real)
    except BaseException:
        os.unlink(tmp)  # it exists: every step that can fail comes after mkstemp made it
        raise
    return real
