"""The stack files beside ``Pulumi.yaml``: one ``Pulumi.<stack>.yaml`` per cluster.

The program reads all of them on every run (the homelab is checked as a whole, see
:mod:`homelab.config.cross_stack`), and the offline tools read them too; promote reads and edits
them through the same :func:`read`. Reading is strict, because a stack file is hand-edited: a
YAML error, tab indentation, a duplicate key (YAML parsers keep the last one silently, so a
second ``homelab:cluster`` would replace the first), a value YAML readers read differently
(:mod:`homelab.config.traps`), a top level or ``config:`` that is not a mapping all end in one
:class:`StackFileError` that names the file and the line. Encrypted values (``secure:``) are kept
as they are: nothing here decrypts anything.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any, NamedTuple, cast

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from homelab.config.credentials import mask
from homelab.config.traps import line_of, reader_traps, secure_problems
from homelab.config.yaml_text import (
    Check,
    Layout,
    StackFileError,
    at,
    compose,
    decode,
    key_line,
    kind,
    node_line,
    parse,
    plain,
)

__all__ = ["StackFile", "StackFileError", "read", "read_stack_file", "stack_file", "stack_files"]

#: Pulumi's rule for stack names: letters, digits, hyphens, underscores and periods.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\Z")
_STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.yaml\Z")


def is_stack_name(name: str) -> bool:
    return bool(STACK_NAME.match(name)) and name not in (".", "..")


def stack_file(root: Path, stack: str) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def stack_files(root: Path) -> dict[str, Path]:
    """Stack name -> file, for every ``Pulumi.<stack>.yaml`` in ``root``, sorted by name."""
    found = {}
    for path in root.glob("Pulumi.*.yaml"):
        match = _STACK_FILE.match(path.name)
        if match and is_stack_name(match["stack"]) and path.is_file():
            found[match["stack"]] = path
    return dict(sorted(found.items()))


def _pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    return cast(list[tuple[Node, Node]], node.value)


def _config_node(root: Node | None) -> Node | None:
    if not isinstance(root, MappingNode):
        return None
    return next((v for k, v in _pairs(root) if isinstance(k, ScalarNode) and k.value == "config"), None)


def _encrypts_locally(root: Node) -> bool:
    """The file names a passphrase salt or a cloud KMS provider: its secrets are ``v1:`` texts."""
    keys = {k.value for k, _ in _pairs(root) if isinstance(k, ScalarNode)} if isinstance(root, MappingNode) else set()
    return bool(keys & {"encryptionsalt", "secretsprovider", "encryptedkey"})


def _checker(name: str) -> Check:
    """What is refused on the composed document, before anything is constructed: alias
    cycles, and in the ``config:`` block the values the CLI reads otherwise, malformed
    ``secure:`` values and tags (so no tag reaches a constructor)."""

    def check(root: Node, explicit: frozenset[int]) -> None:
        _refuse_cycles(root, name)
        _refuse_expansion(root, name)
        config = _config_node(root)
        if isinstance(config, MappingNode):
            trap = next(reader_traps(config, explicit), None) or next(
                secure_problems(config, _encrypts_locally(root)), None
            )
            if trap is not None:
                raise at(name, trap[0], mask(trap[1]))  # a key may be a pasted token

    return check


class StackFile(NamedTuple):
    """A stack file as read: its text (as ruamel reads it), the layout of its bytes, and the
    round-trip tree (``config``: its ``config:`` mapping, empty when the file has none)."""

    name: str
    text: str
    layout: Layout
    doc: Any
    config: CommentedMap


def read_text(path: Path, name: str) -> tuple[str, Layout]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StackFileError(f"{name}: no such stack file") from None
    except IsADirectoryError:
        raise StackFileError(f"{name}: is a directory, not a stack file") from None
    except OSError as exc:
        raise StackFileError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    return decode(data, name)


_DIRECTIVE = re.compile(r"^%YAML\b", re.MULTILINE)


def _refuse_directive(text: str, name: str) -> None:
    """``%YAML 1.1`` makes ruamel read the values by YAML 1.1's rules (``y`` is true), which the
    Pulumi CLI (yaml.v3) does not follow: the same file would mean two things."""
    match = _DIRECTIVE.search(text)
    if match is not None:
        line = text[: match.start()].count("\n") + 1
        raise at(name, line, "a %YAML directive changes how YAML readers read the values, not alike: remove it")


def _strict_parse(text: str, name: str) -> Any:
    """A Pulumi YAML file's tree, with everything the reader refuses refused (the directive on
    the text, the rest on the composed nodes)."""
    _refuse_directive(text, name)
    return parse(text, name, _checker(name))


def read(path: Path, name: str) -> StackFile:
    """A stack file read strictly, as a tree that can be edited and written back."""
    text, layout = read_text(path, name)
    doc = _strict_parse(text, name)
    config = config_of(doc, text, name, "a stack file")
    return StackFile(name, text, layout, doc, CommentedMap() if config is None else config)


def read_stack_file(path: Path, shown: str | None = None, project: str = "homelab") -> dict[str, Any]:
    """The ``config:`` mapping of a stack file, every key as ``namespace:key``.

    A key without a namespace belongs to the project, as Pulumi reads it (``cloudflareApiToken``
    is ``homelab:cloudflareApiToken``); a key written both ways is a duplicate. ``shown`` is how
    the file is named in errors (default: its file name).
    """
    name = shown or path.name
    text, _ = read_text(path, name)
    return copy.deepcopy(_parsed(text, name, project))


@functools.lru_cache(maxsize=64)
def _parsed(text: str, name: str, project: str) -> dict[str, Any]:
    """The config of one stack file's text. Cached by content: each run reads every stack file
    of the homelab, and the same text always reads (or fails) the same way."""
    return qualified(config_block(text, name, "a stack file"), name, project)


def qualified(config: dict[Any, Any], name: str, project: str) -> dict[str, Any]:
    """``config`` with every key as ``namespace:key``: a key without a namespace is the
    project's, as Pulumi reads it; a key written both ways is a duplicate."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise StackFileError(f"{name}: config key {key!r} is not a string (write it as `project:key`)")
        full = key if ":" in key else f"{project}:{key}"
        if full in out:
            raise StackFileError(f"{name}: config key {key!r} is {full!r} written twice (Pulumi reads both as one)")
        out[full] = value
    return out


def config_block(text: str, name: str, what: str) -> dict[str, Any]:
    """The ``config:`` mapping of a Pulumi YAML file's text (a stack file, or ``Pulumi.yaml``)
    as plain values, read strictly: every YAML error, a top level or ``config:`` that is not a
    mapping, a value the CLI reads otherwise and a malformed ``secure:`` value is a
    :class:`StackFileError`."""
    config = config_of(_strict_parse(text, name), text, name, what)
    return plain(config) if config is not None else {}


def config_of(doc: Any, text: str, name: str, what: str) -> CommentedMap | None:
    """The ``config:`` mapping of a parsed file; None for an empty file or ``config:``."""
    if doc is None:
        return None
    if not isinstance(doc, CommentedMap):
        line = node_line(doc, _first_content_line(text))
        raise at(name, line, f"the top level is {kind(doc)}; {what} is a mapping with a `config:` mapping in it")
    config = doc.get("config")
    if config is None:
        return None
    if not isinstance(config, CommentedMap):
        line = node_line(config, key_line(doc, "config")) if "config" in doc else node_line(doc)
        raise at(name, line, f"`config:` is {kind(config)}; it must be a mapping of config keys")
    return config


def _first_content_line(text: str) -> int:
    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%", "---")):
            return i + 1
    return 1


def config_key_lines(text: str) -> dict[str, int]:
    """Line of each key of a file's ``config:`` block, as written (the text reads: its errors are
    reported when it is read for its values)."""
    config = _config_node(compose(text))
    if not isinstance(config, MappingNode):
        return {}
    return {str(k.value): line_of(k.start_mark) for k, _ in _pairs(config) if isinstance(k, ScalarNode)}


#: Values a stack file may expand to through its aliases: the checked-in ones hold a few hundred,
#: and the Pulumi CLI hands config to the program as JSON, aliases written out.
MAX_EXPANDED = 100_000


def _refuse_expansion(root: Node, name: str) -> None:
    """Aliases that name nodes naming others (``a: &a [x, x]``, ``b: &b [*a, *a]``...) expand
    exponentially ("a billion laughs"): counted once per node, refused at the first node whose
    expansion passes the bound, before anything walks the expanded values."""
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        if id(node) not in sizes:
            if isinstance(node, MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in _pairs(node))
            elif isinstance(node, SequenceNode):
                total = 1 + sum(size(item) for item in cast(list[Node], node.value))
            else:
                total = 1
            if total > MAX_EXPANDED:
                raise at(
                    name,
                    line_of(node.start_mark),
                    f"YAML aliases expand this value to over {MAX_EXPANDED:,} values (a stack file holds a few "
                    "hundred): write the values out, or name fewer aliases",
                )
            sizes[id(node)] = total
        return sizes[id(node)]

    size(root)


def _refuse_cycles(root: Node, name: str) -> None:
    """An alias inside the node it names (``a: &x [*x]``) is a structure without end."""
    open_nodes: set[int] = set()
    done: set[int] = set()

    def walk(node: Node) -> None:
        if id(node) in done:
            return
        if id(node) in open_nodes:
            raise at(name, line_of(node.start_mark), "a YAML alias refers to the node that contains it")
        open_nodes.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in _pairs(node):
                walk(key)
                walk(value)
        elif isinstance(node, SequenceNode):
            for item in cast(list[Node], node.value):
                walk(item)
        done.add(id(node))  # a node is walked once: an alias used twice is no cycle, and no bomb

    walk(root)


def is_secure(value: Any) -> bool:
    """An encrypted config value as the CLI writes it: ``{secure: <ciphertext>}``."""
    return isinstance(value, dict) and set(value) == {"secure"}
