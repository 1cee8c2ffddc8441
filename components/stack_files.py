"""The stack files beside ``Pulumi.yaml``: one ``Pulumi.<stack>.yaml`` per cluster.

The program reads all of them on every run (the homelab is checked as a whole, see
:mod:`components.homelab`), and the offline tools read them too. Reading is strict, because a
stack file is hand-edited: a YAML error, tab indentation, a duplicate key (YAML parsers keep the
last one silently, so a second ``homelab:cluster`` would replace the first), a top level or
``config:`` that is not a mapping all end in one :class:`StackFileError` that names the file and
the line. Encrypted values (``secure:``) are kept as they are: nothing here decrypts anything.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

#: Pulumi's rule for stack names: letters, digits, hyphens, underscores and periods.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.yaml$")


class StackFileError(ValueError):
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
    """PyYAML's safe loader, refusing duplicate keys instead of keeping the last one."""

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


def _line(mark: yaml.Mark) -> int:
    return mark.line + 1


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
    return (_line(mark) if mark else 1), what


def _load(text: str, name: str) -> tuple[yaml.Node | None, Any]:
    """(root node, data) of one YAML document; the loader checks the characters first."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _refuse_cycles(node, name)
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
    try:
        node, data = _load(text, name)
    except yaml.YAMLError as err:
        line, what = _yaml_problem(err, text)
        raise StackFileError(f"{name}:{line}: {what}") from None
    if data is None or node is None:
        return {}
    if not isinstance(data, dict):
        raise StackFileError(
            f"{name}:{_line(node.start_mark)}: the top level is a {_kind(data)}; "
            "a stack file is a mapping with a `config:` mapping in it"
        )
    config = data.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        line = next(
            (_line(v.start_mark) for k, v in node.value if k.value == "config"),
            _line(node.start_mark),
        )
        raise StackFileError(f"{name}:{line}: `config:` is a {_kind(config)}; it must be a mapping of config keys")
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise StackFileError(f"{name}: config key {key!r} is not a string (write it as `project:key`)")
        full = key if ":" in key else f"{project}:{key}"
        if full in out:
            raise StackFileError(f"{name}: config key {key!r} is {full!r} written twice (Pulumi reads both as one)")
        out[full] = value
    return out


def _refuse_cycles(root: yaml.Node, name: str) -> None:
    """An alias inside the node it names (``a: &x [*x]``) is a structure without end."""
    open_nodes: set[int] = set()
    done: set[int] = set()

    def walk(node: yaml.Node) -> None:
        if id(node) in done:
            return
        if id(node) in open_nodes:
            raise StackFileError(f"{name}:{_line(node.start_mark)}: a YAML alias refers to the node that contains it")
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
