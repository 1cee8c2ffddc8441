"""What a stack file's ``config:`` block must not hold, found on the composed YAML nodes before
anything is constructed: scalars (and tags) whose meaning depends on the YAML reader, and
``secure:`` values the CLI could not decrypt or would not treat as a secret. The strict reader
(:mod:`homelab.config.reader`) refuses a file with any of them.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import implicit_resolvers

from homelab.config.credentials import looks_like_credential, shown


def line_of(mark: Any) -> int:
    """The 1-based line of a position in a YAML text."""
    return int(mark.line) + 1


def _pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    return cast(list[tuple[Node, Node]], node.value)


# ---------------------------------------------------------------------------------------------
# scalars whose meaning depends on the YAML reader

_STR, _INT, _FLOAT, _BOOL, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "merge"))
#: What every reader takes for the same number: plain decimal integers and fractions.
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)\Z")
_PLAIN_FRACTION = re.compile(r"^-?[0-9]+\.[0-9]*[1-9]\Z")
#: YAML 1.2 numbers YAML 1.1 leaves as text: `1e3`, `0o10` (yaml.v3's resolve.go).
_V3_NUMBER = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z|^0o[0-7]+\Z")
#: What Go's strconv.ParseInt(text, 0, 64) takes, which yaml.v3 tries on a plain scalar: base
#: prefixes in either case (``0X1F``, ``0O17``, ``0B1``) and ``_`` between digits.
_GO_INT = re.compile(r"^[-+]?0[xXoObB][0-9a-fA-F_]+\Z")
#: What YAML 1.1's float (yaml.org/type/float.html: ``[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?``)
#: does not allow and ruamel's 1.1 table does: no dot in the mantissa, no sign in the exponent.
_NOT_YAML11_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*[eE]|[eE][0-9]")


def resolved(text: str, version: tuple[int, int]) -> str:
    """The tag a plain scalar resolves to under YAML ``version``'s rules (ruamel's resolver
    table: the same rules, read in the same order), with YAML 1.1's float as its spec writes it."""
    first = text[:1]
    for versions, tag, regexp, chars in implicit_resolvers:
        if version in versions and (first in (chars or [first])) and regexp.match(text):
            if version == (1, 1) and tag == _FLOAT and _NOT_YAML11_FLOAT.search(text):
                return _STR
            return str(tag)
    return _STR


def read_as_yaml11(text: str) -> Any:
    """What a YAML 1.1 reader makes of a plain scalar (``010`` is 8, ``1:30`` is 90)."""
    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reader.load(text)


def _tag_trap(tag: str, instead: str) -> str:
    return f"the tag {tag.replace('tag:yaml.org,2002:', '!!')} is read differently by the Pulumi CLI; {instead}"


_QUOTE_NUMBER = (
    "write the decimal number you mean (no leading zero, prefix, `_`, `:` or exponent), or quote it for text"
)


def _trap(node: ScalarNode, explicit: frozenset[int]) -> str | None:
    """Why a scalar means different things to YAML readers, or None.

    The CLI (v3.259) reads stack files with gopkg.in/yaml.v3 (YAML 1.2 rules, with some of
    1.1's), this plan with ruamel.yaml (YAML 1.2), and many editors and tools with YAML 1.1:
    measured in ../shared/DESIGN.md, ``010`` is 8 to YAML 1.1 and yaml.v3 but 10 to YAML 1.2,
    ``0o10`` a number only to YAML 1.2, ``1:47:23`` is 6443 to YAML 1.1 and text to yaml.v3,
    ``yes``/``on`` are booleans to YAML 1.1 and text to yaml.v3, ``1e3`` is 1000 to yaml.v3
    and text to YAML 1.1, ``1.0`` becomes 1, a date becomes a Go time string, ``.inf``/``.nan``
    stop the CLI loading the stack at all, and tags other than ``!!str`` are read differently
    again. Only what every reader reads the same is let through.
    """
    why = _why(node, explicit)
    text = str(node.value)
    if why is None or not looks_like_credential(text.lstrip("+-")):
        return why
    read = str(read_as_yaml11(text)) if resolved(text, (1, 1)) == _INT else text
    hidden = shown(text)
    return why.replace(text, hidden).replace(read, hidden)


def _why(node: ScalarNode, explicit: frozenset[int]) -> str | None:
    text, tag = str(node.value), str(node.tag)
    if id(node) in explicit:
        return None if tag == _STR else _tag_trap(tag, "write the value without it (only !!str is safe)")
    if node.style is not None:
        return None
    tag = resolved(text, (1, 1))
    if tag == _INT and not _PLAIN_INT.match(text):
        read = read_as_yaml11(text)
        return (
            f"`{text}` is not a plain decimal number (YAML 1.1 reads {read}, the Pulumi CLI may not); {_QUOTE_NUMBER}"
        )
    if tag == _FLOAT and text.lower().lstrip("+-") in (".inf", ".nan"):
        return f'`{text}` stops the Pulumi CLI from loading the stack file; quote it ("{text}") or remove it'
    if tag == _FLOAT and not _PLAIN_FRACTION.match(text):
        return f"`{text}` is read as a different number by the Pulumi CLI; {_QUOTE_NUMBER}"
    if (tag == _BOOL and text.lower() in ("yes", "no", "on", "off")) or text in ("y", "Y", "n", "N"):
        return (
            f'`{text}` is a boolean to YAML 1.1 but text to the Pulumi CLI; write true or false, or quote it ("{text}")'
        )
    if tag == "tag:yaml.org,2002:timestamp":
        return f'`{text}` is a date to YAML readers, each writing it back its own way; quote it ("{text}")'
    if tag == _STR and (_V3_NUMBER.match(text) or _GO_INT.match(text) or resolved(text, (1, 2)) in (_INT, _FLOAT)):
        return f"`{text}` is text to YAML 1.1 but a number to the Pulumi CLI; {_QUOTE_NUMBER}"
    return None


def reader_traps(
    node: Node, explicit: frozenset[int], path: str = "", seen: set[int] | None = None
) -> Iterator[tuple[int, str]]:
    """(line, ``<key>: why``) of every key or value under ``node`` that YAML readers read
    differently; the key is shown as ``homelab:cluster.clusterId``. ``explicit``: the ids of
    the nodes whose tag the file writes. A node an alias names again is walked once (an alias
    bomb stays linear)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    shown = path or "config"
    if isinstance(node, ScalarNode):
        why = _trap(node, explicit)
        if why:
            yield line_of(node.start_mark), f"{shown}: {why}"
    elif isinstance(node, MappingNode):
        if id(node) in explicit:
            yield line_of(node.start_mark), f"{shown}: {_tag_trap(str(node.tag), 'write a plain mapping')}"
        for key, value in _pairs(node):
            if str(key.tag) == _MERGE:
                yield from reader_traps(value, explicit, path, seen)
                continue
            if not isinstance(key, ScalarNode):
                yield line_of(key.start_mark), f"{shown}: a {_node_kind(key)} used as a key; a key is text"
                continue
            label = str(key.value)
            yield from reader_traps(key, explicit, f"{path}.{label}" if path else label, seen)
            yield from reader_traps(value, explicit, f"{path}.{label}" if path else label, seen)
    elif isinstance(node, SequenceNode):
        if id(node) in explicit:
            yield line_of(node.start_mark), f"{shown}: {_tag_trap(str(node.tag), 'write a plain list')}"
        for i, item in enumerate(cast(list[Node], node.value)):
            yield from reader_traps(item, explicit, f"{shown}[{i}]", seen)


# ---------------------------------------------------------------------------------------------
# encrypted values

#: What the CLI writes for ``pulumi config set --secret``: ``v1:<nonce>:<ciphertext>`` from the
#: passphrase and cloud-KMS secrets providers (a 12-byte AES-GCM nonce, then the ciphertext with
#: its 16-byte tag), plain base64 from the Pulumi Cloud backend (../shared/DESIGN.md, "Secure values").
_V1 = re.compile(r"^v1:(?P<nonce>[A-Za-z0-9+/]{16}):(?P<text>[A-Za-z0-9+/]+={0,2})\Z")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
_SET_SECRET = "set it with `pulumi config set --secret {key} <value>`"


def _is_ciphertext(text: str, v1_only: bool) -> bool:
    """``v1:`` texts carry the 16-byte GCM tag at least. Pulumi Cloud's base64 texts are taken
    when they decode to 32 bytes or more: a 40-character Cloudflare token pasted there decodes
    to 30, and no ciphertext here is that short (nonce and tag alone are 28 bytes)."""
    match = _V1.match(text)
    if match:
        return len(match["text"]) % 4 == 0 and len(match["text"]) >= 24
    return not v1_only and bool(_BASE64.match(text)) and len(text) * 3 // 4 - text.count("=") >= 32


def secure_problems(node: Node, v1_only: bool = False, path: str = "") -> Iterator[tuple[int, str]]:
    """(line, ``<key>: why``) of every ``secure:`` value the CLI could not decrypt or would not
    treat as a secret, then of every ciphertext written under two keys (an alias too).
    ``v1_only``: the file names a passphrase salt or KMS provider, whose texts are ``v1:``."""
    seen: dict[str, str] = {}
    for where, value in _secure_nodes(node, path):
        key = where or "config"
        nested = "." in key or "[" in key
        fix = _SET_SECRET.format(key=f"--path '{key}'" if nested else key)
        inner = next(v for k, v in _pairs(value) if isinstance(k, ScalarNode) and k.value == "secure")
        if len(value.value) != 1 or not isinstance(inner, ScalarNode) or str(inner.tag) != _STR:
            what = "more keys beside `secure:`" if len(value.value) != 1 else f"a {_node_kind(inner)} under `secure:`"
            yield (
                line_of(value.start_mark),
                f"{key}: {what}: the Pulumi CLI hands this to the program as a plain object, not as a secret; {fix}",
            )
        elif not inner.value:
            yield line_of(inner.start_mark), f"{key}: `secure:` is empty (the CLI fails: bad value); {fix}"
        elif not _is_ciphertext(inner.value, v1_only):
            yield (
                line_of(inner.start_mark),
                f"{key}: `secure:` does not hold a value the CLI encrypted (`v1:<nonce>:<ciphertext>`, or "
                f"base64 from Pulumi Cloud), so it may be the secret itself in plain text; {fix}",
            )
        elif inner.value in seen:
            yield (
                line_of(inner.start_mark),
                f"{key}: the same ciphertext as {seen[inner.value]}: one secret copied under two keys (a value "
                f"never encrypts twice to the same text); {fix}",
            )
        else:
            seen[inner.value] = key


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "list"
    return "non-text value"


def _secure_nodes(node: Node, path: str, seen: set[int] | None = None) -> Iterator[tuple[str, MappingNode]]:
    """(key, mapping) of every mapping under ``node`` with a ``secure`` key, in file order;
    each node once (an alias bomb stays linear)."""
    seen = set() if seen is None else seen
    if isinstance(node, MappingNode) and any(
        isinstance(k, ScalarNode) and k.value == "secure" for k, _ in _pairs(node)
    ):
        yield path, node  # each time a key names it: one secret under two keys is refused
        return
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in _pairs(node):
            label = str(key.value) if isinstance(key, ScalarNode) else "?"
            yield from _secure_nodes(value, f"{path}.{label}" if path else label, seen)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(cast(list[Node], node.value)):
            yield from _secure_nodes(item, f"{path}[{i}]", seen)
