"""The stack files beside ``Pulumi.yaml``: one ``Pulumi.<stack>.yaml`` per cluster.

The program reads all of them on every run (the homelab is checked as a whole, see
:mod:`homelab.config.cross_stack`), and the offline tools read them too. Reading is strict, because a
stack file is hand-edited: a YAML error, tab indentation, a duplicate key (YAML parsers keep the
last one silently, so a second ``homelab:cluster`` would replace the first), a top level or
``config:`` that is not a mapping all end in one :class:`StackFileError` that names the file and
the line. Encrypted values (``secure:``) are kept as they are: nothing here decrypts anything.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from homelab.config.traps import EXPLICIT_TAG, line_of, reader_traps, secure_problems
from homelab.errors import HomelabError

#: Pulumi's rule for stack names: letters, digits, hyphens, underscores and periods.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.yaml$")


class StackFileError(HomelabError, ValueError):
    """A stack file that cannot be read as one; the message starts with ``<file>:<line>:``."""


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


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys instead of keeping the last one, and
    marking the nodes whose tag the file writes out."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        explicit = not isinstance(event, yaml.AliasEvent) and getattr(event, "tag", None) not in (None, "!")
        node = super().compose_node(parent, index)  # type: ignore[misc]
        if explicit and node is not None:
            setattr(node, EXPLICIT_TAG, True)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base`: its keys may be overridden here, which is no duplicate
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the base class says what is wrong with it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key] + 1}); YAML would silently keep only the last",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(err: yaml.YAMLError, text: str) -> tuple[int, str]:
    """(line, what is wrong) of a YAML error, without PyYAML's own position text."""
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text[: err.position].count("\n") + 1
        return line, f"a character YAML does not allow (#x{err.character:04x}): remove it"
    if not isinstance(err, yaml.MarkedYAMLError):
        return 1, str(err)
    mark = err.problem_mark or err.context_mark
    what = err.problem or "not valid YAML"
    if err.context and err.context not in what:
        what = f"{err.context}: {what}"
    if "'\\t'" in what:
        what += " (tabs cannot indent YAML: use spaces)"
    return (line_of(mark) if mark else 1), what


def _config_node(root: yaml.Node) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    return next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "config"), None)


def _encrypts_locally(root: yaml.Node) -> bool:
    """The file names a passphrase salt or a cloud KMS provider: its secrets are ``v1:`` texts."""
    keys = (
        {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
        if isinstance(root, yaml.MappingNode)
        else set()
    )
    return bool(keys & {"encryptionsalt", "secretsprovider", "encryptedkey"})


def _load(text: str, name: str) -> tuple[yaml.Node | None, Any]:
    """(root node, data) of one YAML document. The loader checks the characters first; the
    ``config:`` block's traps (values the CLI reads otherwise, malformed ``secure:`` values,
    tags) are refused before anything is constructed, so no tag reaches a constructor."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _refuse_cycles(node, name)
        config = _config_node(node)
        if isinstance(config, yaml.MappingNode):
            trap = next(reader_traps(config), None) or next(secure_problems(config, _encrypts_locally(node)), None)
            if trap is not None:
                raise StackFileError(f"{name}:{trap[0]}: {trap[1]}")
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def read_stack_file(path: Path, shown: str | None = None, project: str = "homelab") -> dict[str, Any]:
    """The ``config:`` mapping of a stack file, every key as ``namespace:key``.

    A key without a namespace belongs to the project, as Pulumi reads it (``cloudflareApiToken``
    is ``homelab:cloudflareApiToken``); a key written both ways is a duplicate. ``shown`` is how
    the file is named in errors (default: its file name).
    """
    name = shown or path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise StackFileError(f"{name}: no such stack file") from None
    except IsADirectoryError:
        raise StackFileError(f"{name}: is a directory, not a stack file") from None
    except OSError as exc:
        raise StackFileError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = text_line_of_byte(path.read_bytes(), exc.start)
        raise StackFileError(f"{name}:{line}: not UTF-8 text ({exc.reason})") from None
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


def config_block(text: str, name: str, what: str) -> dict[Any, Any]:
    """The ``config:`` mapping of a Pulumi YAML file's text (a stack file, or ``Pulumi.yaml``),
    read strictly: every YAML error, a top level or ``config:`` that is not a mapping, a value
    the CLI reads otherwise and a malformed ``secure:`` value is a :class:`StackFileError`."""
    try:
        node, data = _load(text, name)
    except yaml.YAMLError as err:
        line, what_wrong = _yaml_problem(err, text)
        raise StackFileError(f"{name}:{line}: {what_wrong}") from None
    if data is None or node is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(
            f"{name}:{line_of(node.start_mark)}: the top level is a {_kind(data)}; "
            f"{what} is a mapping with a `config:` mapping in it"
        )
    config = data.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        line = next(
            (line_of(v.start_mark) for k, v in node.value if k.value == "config"),
            line_of(node.start_mark),
        )
        raise StackFileError(f"{name}:{line}: `config:` is a {_kind(config)}; it must be a mapping of config keys")
    return config


def config_key_lines(text: str) -> dict[str, int]:
    """Line of each key of a file's ``config:`` block, as written (the text reads: its errors are
    reported when it is read for its values)."""
    loader = _StrictLoader(text)
    try:
        config = _config_node(loader.get_single_node() or yaml.ScalarNode("", ""))
    finally:
        loader.dispose()
    if not isinstance(config, yaml.MappingNode):
        return {}
    return {str(k.value): line_of(k.start_mark) for k, _ in config.value if isinstance(k, yaml.ScalarNode)}


def _refuse_cycles(root: yaml.Node, name: str) -> None:
    """An alias inside the node it names (``a: &x [*x]``) is a structure without end."""
    open_nodes: set[int] = set()
    done: set[int] = set()

    def walk(node: yaml.Node) -> None:
        if id(node) in done:
            return
        if id(node) in open_nodes:
            raise StackFileError(f"{name}:{line_of(node.start_mark)}: a YAML alias refers to the node that contains it")
        open_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(key)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)
        done.add(id(node))  # a node is walked once: an alias used twice is no cycle, and no bomb

    walk(root)


def text_line_of_byte(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    return {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), type(value).__name__)


def is_secure(value: Any) -> bool:
    """An encrypted config value as the CLI writes it: ``{secure: <ciphertext>}``."""
    return isinstance(value, dict) and set(value) == {"secure"}
