"""Which keys a chart's values.yaml documents only as commented-out defaults
(``  # leaseDuration: 15s``): a line-by-line walk that tracks indentation, skipping doc comments
and commented examples. :mod:`homelab.plan.chart_values` adds what it finds to the chart's keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_COMMENT = re.compile(r"^(?P<indent> *)#+(?P<gap> *)(?P<body>.*?)\s*$")
_REAL = re.compile(r"^(?P<indent> *)(?P<body>[^\s#].*?)\s*$")
_DASH = re.compile(r"^-(?:\s+|$)")
_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s"'#\-\[\]{}][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(?P<value>.*))?$""")
_COMMENTED_KEY = re.compile(r"""^(?:[A-Za-z_][A-Za-z0-9_.\-/]*|"[^"]+"|'[^']+')\Z""")
_DOC_WORDS = frozenset({"example", "examples", "note", "ref", "see", "warning", "deprecated", "default", "todo"})
_INLINE_COMMENT = re.compile(r"(?:^|\s+)#.*$")


@dataclass
class _Line:
    real: bool
    indent: int  # spaces before the content (or before the ``#``)
    col: int  # where the content would start uncommented
    body: str  # content without indentation and ``#``


def _lines(text: str) -> list[_Line | None]:
    """Each line as real content, commented content, or None (blank, ``#`` alone)."""
    out: list[_Line | None] = []
    for raw in text.splitlines():
        if m := _COMMENT.match(raw):
            body, indent = m["body"], len(m["indent"])
            # ``# key: v`` sits at the ``#``; ``#   key:`` (3 spaces) two columns deeper
            out.append(_Line(False, indent, indent + max(len(m["gap"]) - 1, 0), body) if body else None)
        elif m := _REAL.match(raw):
            indent = len(m["indent"])
            out.append(_Line(True, indent, indent, m["body"]))
        else:
            out.append(None)
    return out


@dataclass
class _Scope:
    col: int
    path: tuple[str, ...] | None  # None: inside a commented example, not a real place
    opener: bool = False  # no value, null, {} or []: a mapping or list (maybe commented) follows
    item: bool = False  # a list item


@dataclass
class ValuesScan:
    real: set[tuple[str, ...]] = field(default_factory=set)
    commented: dict[tuple[str, ...], str] = field(default_factory=dict)  # path -> default kind


def _split_key(body: str) -> tuple[str, str] | None:
    m = _KEY.match(body)
    if m is None:
        return None
    key = m["key"]
    if key[:1] in "\"'":
        key = key[1:-1]
    value = m["value"] or ""
    if value[:1] not in "\"'":
        value = _INLINE_COMMENT.sub("", value)
    return key, value.strip()


def _is_prose(key: str, value: str) -> bool:
    """``# Example:``, ``# ref: https://...``, ``# nodes: Count of nodes...`` are docs, not keys."""
    if not _COMMENTED_KEY.match(key):
        return True
    if value.startswith(("http://", "https://")):
        return True
    if key[:1].isupper() and (not value or key.lower() in _DOC_WORDS):
        return True
    return bool(value) and value[0] not in "\"'[{|>" and " " in value


def _kind_of(value: str) -> str:
    if value in ("{}", "[]"):
        return "free"
    return "null" if value in ("", "~", "null") else "scalar"


def scan(text: str) -> ValuesScan:
    """Walk a values.yaml line by line, tracking indentation, and collect the paths of keys the
    chart documents only as commented-out defaults (``  # leaseDuration: 15s``). List items are
    the path segment ``[]``. Real keys are collected too, so a test can check the walk against
    the YAML parser.

    Doc comments (``# -- ...``, prose, cilium's ``# @schema`` blocks) are skipped; a commented
    block indented below a doc line (``# for example:`` / ``#   affinity:``) is an example, not
    a key; comments written flush left between a key and its first child (coredns
    ``service:`` / ``# clusterIP: ""`` / ``  name: ""``) belong to that key.
    """
    lines = _lines(text)
    next_real = [-1] * (len(lines) + 1)  # indentation of the next real line
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        next_real[i] = line.indent if line is not None and line.real else next_real[i + 1]

    scan = ValuesScan()
    stack = [_Scope(-1, ())]
    in_schema = False  # inside cilium's ``# @schema`` ... ``# @schema`` annotations
    block: tuple[bool, int] | None = None  # inside a block scalar: (real?, col of its key)
    rebase: tuple[int, int] | None = None  # (opener col, its children's col)
    prose: int | None = None  # col of the doc line just before
    example: int | None = None  # inside a commented example below a doc line at this col

    for i, line in enumerate(lines):
        if line is None:
            continue
        if block is not None:
            real, key_col = block
            if real and line.indent > key_col:
                continue
            if not real and not line.real and line.col > key_col:
                continue
            block = None
        body, col = line.body, line.col
        if line.real:
            in_schema = False
            rebase = prose = example = None
        else:
            if body.startswith("@schema"):
                in_schema = not in_schema
                continue
            if in_schema:
                continue
            if rebase is not None and col <= rebase[0]:
                col = rebase[1] + (col - rebase[0])

        dash_col: int | None = None
        if dash := _DASH.match(body):
            dash_col, body = col, body[dash.end() :]
            col += dash.end()
        kv = _split_key(body) if body else None
        detached = False
        if not line.real:
            at = col if dash_col is None else dash_col
            if example is not None and at <= example:
                example = None  # back at (or left of) the doc line: the example is over
            if body.startswith("--") or kv is None or _is_prose(*kv):
                if example is None:  # a comment inside an example does not end it
                    prose = at
                continue
            if example is None and prose is not None and at > prose:
                example = prose
            prose = None
            detached = example is not None

        # find the parent: a list item's parent is the key at or left of its dash
        if dash_col is not None:
            while stack[-1].col > dash_col or (stack[-1].col == dash_col and not stack[-1].opener):
                stack.pop()
            if stack[-1].item:  # ``# - key:`` in line with an item's keys: another item
                stack.pop()
            parent = stack[-1].path
            stack.append(_Scope(dash_col + 1, None if parent is None else (*parent, "[]"), item=True))
        if kv is None:
            continue
        while stack[-1].col >= col:
            stack.pop()
        while not (stack[-1].opener or stack[-1].item or stack[-1].col < 0):
            stack.pop()  # nothing nests under a scalar: a deeper comment there is a sibling
        key, value = kv
        parent = stack[-1].path
        path = None if detached or parent is None else (*parent, key)
        stack.append(_Scope(col, path, opener=_kind_of(value) != "scalar"))
        if path is not None:
            if line.real:
                scan.real.add(path)
            else:
                scan.commented.setdefault(path, _kind_of(value))
        if value.startswith(("|", ">")):
            block = (line.real, col)
        if line.real and not value and next_real[i + 1] > col:
            rebase = (col, next_real[i + 1])
    return scan


def key_paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path in parsed YAML, list items as ``[]`` (what :func:`scan` should find)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, str(k))
            yield from key_paths(v, (*prefix, str(k)))
    elif isinstance(value, list):
        for v in value:
            yield from key_paths(v, (*prefix, "[]"))
