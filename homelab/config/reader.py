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
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import yaml

from homelab.config.syntax import looks_like_credential

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


#: Set on a node whose tag the file writes (``!!int 3``), not the one the reader resolves.
_EXPLICIT = "homelab_explicit_tag"


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys instead of keeping the last one, and
    marking the nodes whose tag the file writes out."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        explicit = not isinstance(event, yaml.AliasEvent) and getattr(event, "tag", None) not in (None, "!")
        node = super().compose_node(parent, index)  # type: ignore[misc]
        if explicit and node is not None:
            setattr(node, _EXPLICIT, True)
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
            f"{name}:{_line(node.start_mark)}: the top level is a {_kind(data)}; "
            f"{what} is a mapping with a `config:` mapping in it"
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
    return {str(k.value): _line(k.start_mark) for k, _ in config.value if isinstance(k, yaml.ScalarNode)}


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


# ---------------------------------------------------------------------------------------------
# scalars whose meaning depends on the YAML reader

_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
#: What every reader takes for the same number: plain decimal integers and fractions.
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_FRACTION = re.compile(r"^-?[0-9]+\.[0-9]*[1-9]$")
#: YAML 1.2 numbers PyYAML (YAML 1.1) leaves as text: `1e3`, `0o10` (yaml.v3's resolve.go).
_V3_NUMBER = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^0o[0-7]+$")


def _tag_trap(tag: str, instead: str) -> str:
    return f"the tag {tag.replace('tag:yaml.org,2002:', '!!')} is read differently by the Pulumi CLI; {instead}"


_QUOTE_NUMBER = (
    "write the decimal number you mean (no leading zero, prefix, `_`, `:` or exponent), or quote it for text"
)


def _trap(node: yaml.ScalarNode) -> str | None:
    """Why a scalar means different things to PyYAML and to the Pulumi CLI, or None.

    The CLI (v3.259) reads stack files with gopkg.in/yaml.v3 (YAML 1.2 rules), this plan with
    PyYAML (YAML 1.1): measured in ../shared/DESIGN.md, ``010`` is 8 to both but ``0o10`` only
    to yaml.v3, ``1:47:23`` is 6443 to PyYAML and text to yaml.v3, ``yes``/``on`` are booleans
    to PyYAML and text to yaml.v3, ``1e3`` is 1000 to yaml.v3 and text to PyYAML, ``1.0``
    becomes 1, a date becomes a Go time string, ``.inf``/``.nan`` stop the CLI loading the
    stack at all, and tags other than ``!!str`` are read differently again.
    """
    why = _why(node)
    if why is None or not looks_like_credential(node.value.lstrip("+-")):
        return why
    read = str(yaml.safe_load(node.value)) if node.tag == _INT else node.value
    hidden = f"[hidden: {len(node.value)} characters that look like a credential]"
    return why.replace(node.value, hidden).replace(read, hidden)


def _why(node: yaml.ScalarNode) -> str | None:
    text, tag = node.value, node.tag
    plain = node.style is None
    if getattr(node, _EXPLICIT, False):
        return None if tag == _STR else _tag_trap(tag, "write the value without it (only !!str is safe)")
    if not plain:
        return None
    if tag == _INT and not _PLAIN_INT.match(text):
        read = yaml.safe_load(text)
        return f"`{text}` is not a plain decimal number (PyYAML reads {read}, the Pulumi CLI may not); {_QUOTE_NUMBER}"
    if tag == _FLOAT and text.lower().lstrip("+-") in (".inf", ".nan"):
        return f'`{text}` stops the Pulumi CLI from loading the stack file; quote it ("{text}") or remove it'
    if tag == _FLOAT and not _PLAIN_FRACTION.match(text):
        return f"`{text}` is read as a different number by the Pulumi CLI; {_QUOTE_NUMBER}"
    if tag == _BOOL and text.lower() in ("yes", "no", "on", "off"):
        return (
            f'`{text}` is a boolean to PyYAML but text to the Pulumi CLI; write true or false, or quote it ("{text}")'
        )
    if tag == "tag:yaml.org,2002:timestamp":
        return f'`{text}` is a date to YAML readers, each writing it back its own way; quote it ("{text}")'
    if tag == _STR and _V3_NUMBER.match(text):
        return f"`{text}` is text to PyYAML but a number to the Pulumi CLI; {_QUOTE_NUMBER}"
    return None


def reader_traps(node: yaml.Node, path: str = "", seen: set[int] | None = None) -> Iterator[tuple[int, str]]:
    """(line, ``<key>: why``) of every key or value under ``node`` that the CLI and this plan
    would read differently; the key is shown as ``homelab:cluster.clusterId``. A node an alias
    names again is walked once (an alias bomb stays linear)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    shown = path or "config"
    if isinstance(node, yaml.ScalarNode):
        why = _trap(node)
        if why:
            yield _line(node.start_mark), f"{shown}: {why}"
    elif isinstance(node, yaml.MappingNode):
        if getattr(node, _EXPLICIT, False):
            yield _line(node.start_mark), f"{shown}: {_tag_trap(node.tag, 'write a plain mapping')}"
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                yield from reader_traps(value, path, seen)
                continue
            label = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from reader_traps(key, f"{path}.{label}" if path else label, seen)
            yield from reader_traps(value, f"{path}.{label}" if path else label, seen)
    elif isinstance(node, yaml.SequenceNode):
        if getattr(node, _EXPLICIT, False):
            yield _line(node.start_mark), f"{shown}: {_tag_trap(node.tag, 'write a plain list')}"
        for i, item in enumerate(node.value):
            yield from reader_traps(item, f"{shown}[{i}]", seen)


# ---------------------------------------------------------------------------------------------
# encrypted values

#: What the CLI writes for ``pulumi config set --secret``: ``v1:<nonce>:<ciphertext>`` from the
#: passphrase and cloud-KMS secrets providers (a 12-byte AES-GCM nonce, then the ciphertext with
#: its 16-byte tag), plain base64 from the Pulumi Cloud backend (../shared/DESIGN.md, "Secure values").
_V1 = re.compile(r"^v1:(?P<nonce>[A-Za-z0-9+/]{16}):(?P<text>[A-Za-z0-9+/]+={0,2})$")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_SET_SECRET = "set it with `pulumi config set --secret {key} <value>`"


def _is_ciphertext(text: str, v1_only: bool) -> bool:
    """``v1:`` texts carry the 16-byte GCM tag at least. Pulumi Cloud's base64 texts are taken
    when they decode to 32 bytes or more: a 40-character Cloudflare token pasted there decodes
    to 30, and no ciphertext here is that short (nonce and tag alone are 28 bytes)."""
    match = _V1.match(text)
    if match:
        return len(match["text"]) % 4 == 0 and len(match["text"]) >= 24
    return not v1_only and bool(_BASE64.match(text)) and len(text) * 3 // 4 - text.count("=") >= 32


def secure_problems(node: yaml.Node, v1_only: bool = False, path: str = "") -> Iterator[tuple[int, str]]:
    """(line, ``<key>: why``) of every ``secure:`` value the CLI could not decrypt or would not
    treat as a secret, then of every ciphertext written under two keys (an alias too).
    ``v1_only``: the file names a passphrase salt or KMS provider, whose texts are ``v1:``."""
    seen: dict[str, str] = {}
    for where, value in _secure_nodes(node, path):
        key = where or "config"
        nested = "." in key or "[" in key
        fix = _SET_SECRET.format(key=f"--path '{key}'" if nested else key)
        inner = next(v for k, v in value.value if isinstance(k, yaml.ScalarNode) and k.value == "secure")
        if len(value.value) != 1 or not isinstance(inner, yaml.ScalarNode) or inner.tag != _STR:
            what = "more keys beside `secure:`" if len(value.value) != 1 else f"a {_node_kind(inner)} under `secure:`"
            yield (
                _line(value.start_mark),
                f"{key}: {what}: the Pulumi CLI hands this to the program as a plain object, not as a secret; {fix}",
            )
        elif not inner.value:
            yield _line(inner.start_mark), f"{key}: `secure:` is empty (the CLI fails: bad value); {fix}"
        elif not _is_ciphertext(inner.value, v1_only):
            yield (
                _line(inner.start_mark),
                f"{key}: `secure:` does not hold a value the CLI encrypted (`v1:<nonce>:<ciphertext>`, or "
                f"base64 from Pulumi Cloud), so it may be the secret itself in plain text; {fix}",
            )
        elif inner.value in seen:
            yield (
                _line(inner.start_mark),
                f"{key}: the same ciphertext as {seen[inner.value]}: one secret copied under two keys (a value "
                f"never encrypts twice to the same text); {fix}",
            )
        else:
            seen[inner.value] = key


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "non-text value"


def _secure_nodes(node: yaml.Node, path: str, seen: set[int] | None = None) -> Iterator[tuple[str, yaml.MappingNode]]:
    """(key, mapping) of every mapping under ``node`` with a ``secure`` key, in file order;
    each node once (an alias bomb stays linear)."""
    seen = set() if seen is None else seen
    if isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "secure" for k, _ in node.value
    ):
        yield path, node  # each time a key names it: one secret under two keys is refused
        return
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            label = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from _secure_nodes(value, f"{path}.{label}" if path else label, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _secure_nodes(item, f"{path}[{i}]", seen)
