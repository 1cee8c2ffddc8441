"""What a stack file's ``config:`` block must not hold, found on the YAML nodes before anything
is constructed: scalars (and tags) the Pulumi CLI reads otherwise than this plan, and
``secure:`` values the CLI could not decrypt or would not treat as a secret. The strict reader
(:mod:`homelab.config.reader`) refuses a file with any of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from homelab.config.syntax import looks_like_credential

#: Set on a node whose tag the file writes (``!!int 3``), not the one the reader resolves.
EXPLICIT_TAG = "homelab_explicit_tag"


def line_of(mark: yaml.Mark) -> int:
    """The 1-based line of a position in a YAML text."""
    return mark.line + 1


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
    if getattr(node, EXPLICIT_TAG, False):
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
            yield line_of(node.start_mark), f"{shown}: {why}"
    elif isinstance(node, yaml.MappingNode):
        if getattr(node, EXPLICIT_TAG, False):
            yield line_of(node.start_mark), f"{shown}: {_tag_trap(node.tag, 'write a plain mapping')}"
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                yield from reader_traps(value, path, seen)
                continue
            label = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from reader_traps(key, f"{path}.{label}" if path else label, seen)
            yield from reader_traps(value, f"{path}.{label}" if path else label, seen)
    elif isinstance(node, yaml.SequenceNode):
        if getattr(node, EXPLICIT_TAG, False):
            yield line_of(node.start_mark), f"{shown}: {_tag_trap(node.tag, 'write a plain list')}"
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
