"""The one YAML library for stack files: ruamel.yaml, in round-trip mode.

The plan reads a stack file's values with it and promote edits the same tree and writes it back
byte for byte, so both see the same document: one parser, one set of errors. What ruamel does
not see is taken off the bytes first and put back when a file is written (:class:`Layout`: a
UTF-8 byte order mark, CRLF line ends, a missing final newline).

Every problem is a :class:`StackFileError`, ``<file>:<line>: <what is wrong>`` with a 1-based
line. What is caught is precise: ruamel's :class:`YAMLError` family and the few builtin errors
its constructor raises for documents that parse (``CONSTRUCT_ERRORS``); no traceback reaches
the user. Nesting deeper than :data:`MAX_DEPTH` is refused while composing (ruamel's
``max_depth``), before anything recurses over it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, NamedTuple, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from homelab.errors import HomelabError

BOM = b"\xef\xbb\xbf"
#: Deeper than any stack file needs (the deepest setting is 6 levels down), far below what
#: recursion over the tree can bear.
MAX_DEPTH = 100
_BREAK = re.compile(r"\r\n|\r|\n")
BREAK_NAMES = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


class StackFileError(HomelabError, ValueError):
    """A stack file (or ``Pulumi.yaml``) that cannot be read as one; the message starts with
    ``<file>:<line>:`` where a line is known."""


def at(name: str, line: int, what: str) -> StackFileError:
    return StackFileError(f"{name}:{line}: {what}")


# ---------------------------------------------------------------------------------------------
# bytes <-> text


class Layout(NamedTuple):
    """How a file's bytes differ from the text ruamel reads and writes (LF, final newline).
    ``mixed``: the line after which a second style of line end starts (0: one style)."""

    bom: bool = False
    newline: str = "\n"
    final_newline: bool = True
    mixed: tuple[int, str] | None = None

    def restore(self, text: str) -> bytes:
        """``text`` (LF line ends, ending in a newline) as this file's bytes."""
        if not self.final_newline:
            text = text.removesuffix("\n")
        return (BOM if self.bom else b"") + text.replace("\n", self.newline).encode("utf-8")


def decode(data: bytes, name: str) -> tuple[str, Layout]:
    """A file's bytes as ruamel's input text (LF line ends, a final newline) and the layout
    that gives them back; bytes that are not UTF-8 are refused with their line."""
    bom = data.startswith(BOM)
    body = data[len(BOM) :] if bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise at(name, line, f"not UTF-8 text (byte 0x{body[exc.start]:02x}); save the file as UTF-8") from None
    breaks = [m.group() for m in _BREAK.finditer(text)]
    newline = breaks[0] if breaks else "\n"
    mixed = next(((i + 1, found) for i, found in enumerate(breaks) if found != newline), None)
    if newline != "\n" or mixed:
        text = _BREAK.sub("\n", text)
    final_newline = not text or text.endswith("\n")
    if not final_newline:
        text += "\n"
    return text, Layout(bom, newline, final_newline, mixed)


# ---------------------------------------------------------------------------------------------
# text <-> round-trip tree


class _Composer(Composer):  # type: ignore[misc]  # ruamel's classes are untyped
    """ruamel's composer, noting which nodes carry a tag the file writes out (``!!int 3``: the
    node's tag alone cannot tell it from a resolved one) and handing the composed document to
    :attr:`StackYaml.check` before anything is constructed from it."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.explicit: set[int] = set()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        tag = None if isinstance(event, AliasEvent) else getattr(event, "ctag", None)
        node = super().compose_node(parent, index)
        if tag is not None and str(tag) != "!":
            self.explicit.add(id(node))
        return node

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        check = getattr(self.loader, "check", None)
        if node is not None and check is not None:
            check(node, frozenset(self.explicit))
        return node


#: Called with the composed root node and the ids of its explicitly tagged nodes.
Check = Callable[[Node, frozenset[int]], None]


class StackYaml(YAML):  # type: ignore[misc]
    """ruamel in round-trip mode, set up to reproduce the stack files byte for byte."""

    def __init__(self, check: Check | None = None) -> None:
        super().__init__()
        self.Composer = _Composer
        self.check = check
        self.max_depth = MAX_DEPTH
        self.preserve_quotes = True
        self.indent(mapping=2, sequence=4, offset=2)
        self.width = 4096  # never re-wrap a long line


def load(text: str, check: Check | None = None) -> Any:
    return StackYaml(check).load(text)


def dump(doc: Any) -> str:
    out = io.StringIO()
    StackYaml().dump(doc, out)
    return out.getvalue()


def compose(text: str) -> Node | None:
    """The composed document, for a look at its nodes (no values are constructed)."""
    return cast(Node | None, StackYaml().compose(text))


def post_order(node: Node) -> Iterator[Node]:
    """Every node of a composed document, children before their parent."""
    if isinstance(node, MappingNode):
        for key, value in cast(list[tuple[Node, Node]], node.value):
            yield from post_order(key)
            yield from post_order(value)
    elif isinstance(node, SequenceNode):
        for item in cast(list[Node], node.value):
            yield from post_order(item)
    yield node


#: What ruamel's constructor raises, instead of a YAMLError, for some documents that parse: a
#: value its tag cannot hold (``!!int x``: ValueError, ``!!bool x``: KeyError, ``!!int 0x``:
#: IndexError, ``2026-13-45``: ValueError), a tag on the wrong kind of node (``!!set x``:
#: AttributeError), a mapping as a key (TypeError). Only the constructor call is guarded.
CONSTRUCT_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError)


def parse(text: str, name: str, check: Check | None = None) -> Any:
    """The round-trip tree of a file's text; every YAML error a :class:`StackFileError`.
    ``check`` sees the composed document first and may refuse it (raising)."""
    try:
        return load(text, check)
    except StackFileError:
        raise  # the check's own refusal
    except YAMLError as exc:
        line, what = yaml_problem(text, exc)
    except CONSTRUCT_ERRORS:
        line, what = _unconstructable(text)
    except RecursionError:
        line, what = 1, f"nested too deep to read (over {MAX_DEPTH} levels)"
    raise at(name, line, what)


def _duplicate(text: str, exc: DuplicateKeyError) -> tuple[int, str]:
    """Line and message for a duplicate key, naming both lines (ruamel gives only the second)."""
    mark = exc.problem_mark
    line = mark.line + 1 if mark is not None else 1
    try:
        root = compose(text)  # composing does not check keys; constructing does
    except YAMLError:
        root = None
    for node in post_order(root) if root is not None else ():
        if not isinstance(node, MappingNode):
            continue
        seen: dict[str, int] = {}
        for key, _ in cast(list[tuple[Node, Node]], node.value):
            if not isinstance(key, ScalarNode):
                continue
            here = key.start_mark
            if key.value in seen and mark is not None and (here.line, here.column) == (mark.line, mark.column):
                return line, (
                    f"duplicate key `{key.value}` (lines {seen[key.value]} and {line}): YAML readers keep only "
                    "the last, silently; keep one"
                )
            seen.setdefault(key.value, here.line + 1)
    # two keys spelled otherwise that read the same (`1` and `+1`, `true` and `True`): ruamel's
    # own text would quote a value, which may be a secret
    return line, "duplicate key: two keys here read as the same one (such as `1` and `+1`); keep one"


def yaml_problem(text: str, exc: YAMLError) -> tuple[int, str]:
    """Line and message for a YAML error, without ruamel's snippet and advice."""
    if isinstance(exc, DuplicateKeyError):
        return _duplicate(text, exc)
    if isinstance(exc, ReaderError):
        line = text[: cast(int, exc.position)].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return line, f"a character YAML does not allow (#x{char:04x}): remove it"
    if not isinstance(exc, MarkedYAMLError):
        return 1, f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem, context = exc.problem or "", exc.context or ""
    if "'\\t'" in problem:
        column = mark.column + 1 if mark is not None else 1
        return line, f"tab character in column {column}: YAML indents and separates with spaces only"
    if problem.startswith("maximum depth"):
        return line, f"nested too deep (over {MAX_DEPTH} levels): no stack file needs that"
    if problem.startswith("but ") and context:
        return line, f"not valid YAML: {context}, {problem}"
    what = f"not valid YAML: {problem or context}" if problem or context else "not valid YAML"
    if problem and context:
        cmark = exc.context_mark
        where = f" at line {cmark.line + 1}" if cmark is not None and cmark.line + 1 != line else ""
        what += f" ({context}{where})"
    return line, what


def _unconstructable(text: str) -> tuple[int, str]:
    """Line and message for a document ruamel parses but cannot construct: each node is built
    alone, children first, so the first one that fails is the culprit."""
    yaml = StackYaml()
    try:
        root = yaml.compose(text)
    except YAMLError:
        root = None
    for node in post_order(root) if isinstance(root, Node) else ():
        try:
            yaml.constructor.construct_object(node, deep=True)
        except (YAMLError, *CONSTRUCT_ERRORS) as exc:
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


# ---------------------------------------------------------------------------------------------
# values


def plain(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """ruamel's round-trip types as plain dicts, lists, str, int, float, bool. A key that is a
    list or mapping (``? [a]``) becomes its text: a plain dict cannot hold it. What an alias
    shares stays shared (converted once: an alias bomb stays linear)."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, CommentedMap | dict):
        mapping: dict[Any, Any] = {}
        memo[id(value)] = mapping
        mapping.update((_plain_key(k), plain(v, memo)) for k, v in value.items())
        return mapping
    if isinstance(value, list):
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(plain(v, memo) for v in value)
        return items
    if isinstance(value, bool | ScalarBoolean):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, TaggedScalar):  # `!!str 1:30`, the one tag the reader lets through
        return str(value.value)
    return value


def _plain_key(key: Any) -> Any:
    return str(key) if isinstance(key, tuple | list | dict) else plain(key)


def kind(value: Any) -> str:
    """``a list``, ``a string``... for messages about a value of the wrong type (never the value
    itself: it may be a credential pasted in the wrong place)."""
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool | ScalarBoolean):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, date):
        return "a date"
    return f"a {type(value).__name__}"


def key_line(mapping: CommentedMap, key: Any) -> int:
    """The 1-based line of a key in the file it was read from (of the mapping: a key added since)."""
    try:
        return cast(tuple[int, int], mapping.lc.key(key))[0] + 1
    except (KeyError, TypeError):
        return cast(int, mapping.lc.line or 0) + 1


def node_line(value: Any, fallback: int = 1) -> int:
    """The 1-based line where a mapping or list of the tree starts."""
    if isinstance(value, CommentedMap | CommentedSeq):
        return cast(int, value.lc.line or 0) + 1
    return fallback
