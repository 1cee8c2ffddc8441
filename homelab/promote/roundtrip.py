"""Stack files read for a round trip: bytes in, ruamel's round-trip tree, bytes out.

What ruamel does not see is taken off before it parses the text and put back when the file is
written: a UTF-8 byte order mark, CRLF line endings, a missing final newline (:class:`Layout`).
A file with mixed line endings is refused rather than guessed at.

Every problem with a file is a :class:`StackFileError`, ``<file>:<line>: <what is wrong>`` with
a 1-based line: unreadable, not UTF-8, not YAML (syntax, tabs, duplicate keys...), not a stack
file (no ``config:`` mapping). What is caught is precise: OSError reading, UnicodeDecodeError
decoding, ruamel's :class:`YAMLError` family and the few builtin errors its constructor raises for
documents that parse (``_CONSTRUCT_ERRORS``) around the load; no traceback reaches the user.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from homelab.errors import HomelabError

BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(r"\r\n|\r|\n")
_BREAK_NAMES = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


class StackFileError(HomelabError):
    """A stack file that cannot be read: ``<file>:<line>: <what is wrong>``."""

    def __init__(self, name: str, line: int, what: str):
        self.name, self.line, self.what = name, line, what
        super().__init__(f"{name}:{line}: {what}")


# ---------------------------------------------------------------------------------------------
# bytes <-> text


class Layout(NamedTuple):
    """How a file's bytes differ from the text ruamel reads and writes (LF, final newline)."""

    bom: bool = False
    newline: str = "\n"
    final_newline: bool = True

    def restore(self, text: str) -> bytes:
        """``text`` (LF line ends, ending in a newline) as this file's bytes."""
        if not self.final_newline:
            text = text.removesuffix("\n")
        return (BOM if self.bom else b"") + text.replace("\n", self.newline).encode("utf-8")


def decode(data: bytes, name: str) -> tuple[str, Layout]:
    """A file's bytes as ruamel's input text and the layout that gives them back."""
    bom = data.startswith(BOM)
    body = data[len(BOM) :] if bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise StackFileError(
            name, line, f"not UTF-8 text (byte 0x{body[exc.start]:02x}); save the file as UTF-8"
        ) from None
    breaks = [m.group() for m in _BREAK.finditer(text)]
    newline = breaks[0] if breaks else "\n"
    for i, found in enumerate(breaks):
        if found != newline:
            raise StackFileError(
                name,
                i + 1,
                f"mixed line endings: line 1 ends with {_BREAK_NAMES[newline]}, line {i + 1} with "
                f"{_BREAK_NAMES[found]}; convert the file to one style (all LF or all CRLF) first",
            )
    if newline != "\n":
        text = text.replace(newline, "\n")
    final_newline = not text or text.endswith("\n")
    if not final_newline:
        text += "\n"
    return text, Layout(bom, newline, final_newline)


# ---------------------------------------------------------------------------------------------
# text <-> round-trip tree


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


def _post_order(node: Node) -> Iterator[Node]:
    """Every node of a composed document, children before their parent."""
    if isinstance(node, MappingNode):
        for key, value in cast(list[tuple[Node, Node]], node.value):
            yield from _post_order(key)
            yield from _post_order(value)
    elif isinstance(node, SequenceNode):
        for item in cast(list[Node], node.value):
            yield from _post_order(item)
    yield node


def _duplicate(text: str, exc: DuplicateKeyError) -> tuple[int, str]:
    """Line and message for a duplicate key, naming both lines (ruamel gives only the second)."""
    mark = exc.problem_mark
    line = mark.line + 1 if mark is not None else 1
    try:
        root = yaml_rt().compose(text)  # composing does not check keys; constructing does
    except YAMLError:
        root = None
    for node in _post_order(root) if isinstance(root, Node) else ():
        if not isinstance(node, MappingNode):
            continue
        seen: dict[str, int] = {}
        for key, _ in cast(list[tuple[Node, Node]], node.value):
            if not isinstance(key, ScalarNode):
                continue
            here = key.start_mark
            if key.value in seen and mark is not None and (here.line, here.column) == (mark.line, mark.column):
                return line, f"duplicate key `{key.value}` (lines {seen[key.value]} and {line}); keep one"
            seen.setdefault(key.value, here.line + 1)
    return line, f"duplicate key: {exc.problem}"


def _syntax(text: str, exc: YAMLError) -> tuple[int, str]:
    """Line and message for a YAML error, without ruamel's snippet and advice."""
    if isinstance(exc, DuplicateKeyError):
        return _duplicate(text, exc)
    if isinstance(exc, ReaderError):
        line = text[: cast(int, exc.position)].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return line, f"not valid YAML: character #x{char:04x}: {exc.reason}"
    if not isinstance(exc, MarkedYAMLError):
        return 1, f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem, context = exc.problem or "", exc.context or ""
    if "'\\t'" in problem:
        column = mark.column + 1 if mark is not None else 1
        return line, f"tab character in column {column}: YAML indents and separates with spaces only"
    if problem.startswith("but ") and context:
        return line, f"not valid YAML: {context}, {problem}"
    what = f"not valid YAML: {problem or context}"
    if problem and context:
        cmark = exc.context_mark
        where = f" at line {cmark.line + 1}" if cmark is not None and cmark.line + 1 != line else ""
        what += f" ({context}{where})"
    return line, what


#: What ruamel's constructor raises, instead of a YAMLError, for some documents that parse: a
#: value its tag cannot hold (``!!int x``: ValueError, ``!!bool x``: KeyError, ``!!int 0x``:
#: IndexError, ``2026-13-45``: ValueError), a tag on the wrong kind of node (``!!set x``:
#: AttributeError), a mapping as a key (TypeError). Only the constructor call is guarded.
_CONSTRUCT_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError)


def _unconstructable(text: str) -> tuple[int, str]:
    """Line and message for a document ruamel parses but cannot construct: each node is built
    alone, children first, so the first one that fails is the culprit."""
    yaml = yaml_rt()
    try:
        root = yaml.compose(text)
    except YAMLError:
        root = None
    for node in _post_order(root) if isinstance(root, Node) else ():
        try:
            yaml.constructor.construct_object(node, deep=True)
        except (YAMLError, *_CONSTRUCT_ERRORS) as exc:
            line = node.start_mark.line + 1
            tag = str(getattr(node.tag, "value", None) or node.tag).rpartition(":")[2]
            if isinstance(node, ScalarNode) and isinstance(exc, ValueError | KeyError | IndexError):
                why = f" ({exc})" if isinstance(exc, ValueError) else ""
                return line, f"not valid YAML: {node.value!r} is not a valid {tag}{why}"
            if isinstance(node, MappingNode):
                keys = [k for k, _ in cast(list[tuple[Node, Node]], node.value) if isinstance(k, MappingNode)]
                if keys:
                    return keys[0].start_mark.line + 1, "not valid YAML: a mapping is used as a key"
            return line, f"not valid YAML: this value cannot be read as `{tag}` (ruamel: {exc})"
    return 1, "not valid YAML: the document cannot be read"


def parse(text: str, name: str) -> Any:
    """The round-trip tree of a stack file's text; YAML errors as :class:`StackFileError`."""
    try:
        return load(text)
    except YAMLError as exc:
        line, what = _syntax(text, exc)
    except _CONSTRUCT_ERRORS:
        line, what = _unconstructable(text)
    raise StackFileError(name, line, what)


# ---------------------------------------------------------------------------------------------
# stack files


def key_line(mapping: CommentedMap, key: Any) -> int:
    """The 1-based line of a key in the file it was read from (of the mapping: a key added since)."""
    try:
        return cast(tuple[int, int], mapping.lc.key(key))[0] + 1
    except (KeyError, TypeError):
        return cast(int, mapping.lc.line or 0) + 1


def kind(value: Any) -> str:
    """``a list``, ``a string``... for messages about a value of the wrong type."""
    if value is None:
        return "empty"
    if isinstance(value, CommentedMap):
        return "a mapping"
    if isinstance(value, CommentedSeq | list):
        return "a list"
    if isinstance(value, bool | ScalarBoolean):
        return f"a boolean ({bool(value)})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    return f"a {type(value).__name__}"


def _first_content_line(text: str) -> int:
    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%", "---")):
            return i + 1
    return 1


def config_of(doc: Any, text: str, name: str) -> CommentedMap:
    """The ``config:`` mapping of a parsed stack file."""
    if doc is None:
        raise StackFileError(name, 1, "no settings (empty, or only comments); a stack file is a mapping with `config:`")
    if not isinstance(doc, CommentedMap):
        line = cast(int, doc.lc.line) + 1 if isinstance(doc, CommentedSeq) else _first_content_line(text)
        raise StackFileError(name, line, f"the top level is {kind(doc)}; a stack file is a mapping with `config:`")
    if "config" not in doc:
        line = cast(int, doc.lc.line) + 1
        raise StackFileError(name, line, "no `config:` key at the top level; a stack file keeps its settings there")
    config = doc["config"]
    if not isinstance(config, CommentedMap):
        raise StackFileError(
            name, key_line(doc, "config"), f"`config:` is {kind(config)}; it must be a mapping of settings"
        )
    return config


class StackFile(NamedTuple):
    """A stack file as read: ruamel's text and tree, and the layout of its bytes."""

    name: str
    text: str
    layout: Layout
    config: CommentedMap


def read(path: Path, name: str) -> StackFile:
    """Read and parse a stack file; every problem is a :class:`StackFileError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StackFileError(name, 1, f"cannot read it: {exc.strerror or exc}") from None
    text, layout = decode(data, name)
    doc = parse(text, name)
    return StackFile(name, text, layout, config_of(doc, text, name))
