"""What makes a stack file unfit to promote from or to.

The checks that run before anything is written: ``homelab:`` keys the program does not know,
unknown keys in ``homelab:release``, a source config the program itself would refuse, YAML
anchors in a target release that a rewrite would break. Each returns its problems as text
(``<file>:<line>: ...`` where the line is known); the caller decides whether they refuse.
This is the lowest of the three promote modules (``homelab.promote.edit`` imports it,
``homelab.promote.command`` imports both), so ``RELEASE`` and ``ABSENT``, which all three use, live here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from pydantic import BaseModel
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib

from homelab.config.models import (
    APPS_KEY,
    CLUSTER_KEY,
    PROJECT,
    PROMOTION_KEY,
    RELEASE_KEY,
    SECRET_KEYS,
    ConfigError,
    Release,
)
from homelab.config.policy import parse
from homelab.config.reader import StackFile
from homelab.config.yaml_text import key_line, kind

RELEASE = f"{PROJECT}:{RELEASE_KEY}"
#: Every ``homelab:`` config key the program reads.
KNOWN_KEYS: tuple[str, ...] = tuple(
    f"{PROJECT}:{key}" for key in (CLUSTER_KEY, RELEASE_KEY, APPS_KEY, PROMOTION_KEY, *SECRET_KEYS)
)
#: The tokens are never in a stack file in plain text; validation gets these instead.
TOKEN_PLACEHOLDER = "placeholder-{name}-for-promote"


class _Absent(Enum):
    ABSENT = "absent"


#: A key one side of a diff does not have.
ABSENT = _Absent.ABSENT


def unknown_keys(data: Any, model: type[BaseModel], path: str) -> list[str]:
    """``<path>.<key>: unknown key`` for every key of ``data`` (recursively) the model lacks.

    Keys are matched by their camelCase alias only, as the stack files spell them: a snake_case
    field name (``drain_timeout``) is an unknown key. Wrong shapes (a list where a mapping
    belongs...) are left to :func:`homelab.config.policy.parse`. The release models nest only models
    and scalars (no lists, unions or optional models), so only a model's fields are looked into.
    """
    if not isinstance(data, Mapping):
        return []
    fields = {info.alias or name: info.annotation for name, info in model.model_fields.items()}
    problems: list[str] = []
    for key, value in data.items():
        key_path = f"{path}.{key}"
        annotation = fields.get(key)
        if annotation is None:
            problems.append(f"{key_path}: unknown key")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            problems += unknown_keys(value, annotation, key_path)
    return problems


def release_problems(config: Mapping[str, Any]) -> list[str]:
    """Unknown keys (and a wrong shape) of a stack file's ``homelab:release``."""
    release = config.get(RELEASE, ABSENT)
    if release is ABSENT:
        return []
    if not isinstance(release, Mapping):
        return [f"{RELEASE}: must be a mapping of release settings (got {release!r})"]
    return unknown_keys(release, Release, RELEASE)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """What the program itself would refuse in this stack config (``homelab:*`` keys, plain).

    The tokens are never in the stack file in plain text and promotion never reads them: an
    encrypted (``secure:``) or absent one is replaced by a placeholder of its own, marked secret.
    A plain-text token is left for ``parse`` to refuse.
    """
    prefix = f"{PROJECT}:"
    raw = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
    secret_keys: list[str] = []
    for name in SECRET_KEYS:
        token = raw.get(name, ABSENT)
        if token is ABSENT or (isinstance(token, Mapping) and set(token) == {"secure"}):
            raw[name] = TOKEN_PLACEHOLDER.format(name=name)
            secret_keys.append(f"{prefix}{name}")
    try:
        parse(raw, secret_keys)
    except ConfigError as exc:
        return exc.problems
    return []


def _looks_like_ours(key: str) -> bool:
    """A ``homelab:`` key, or a misspelled one (``homelb:release``, ``Homelab:release``, ``release``)."""
    namespace, colon, _ = key.partition(":")
    if not colon:
        names = [k.removeprefix(f"{PROJECT}:").lower() for k in KNOWN_KEYS]
        return bool(difflib.get_close_matches(key.lower(), names, cutoff=0.8))
    return namespace == PROJECT or bool(difflib.get_close_matches(namespace.lower(), [PROJECT], cutoff=0.8))


def file_problems(stack: StackFile) -> list[str]:
    """``<file>:<line>: ...`` for each ``homelab:`` key the program does not know (with the known
    key it is closest to) and for a ``homelab:release`` that is not a mapping.

    A misspelled ``homelab:releasx`` is not promoted into: it would stay beside the real one.
    """
    problems: list[str] = []
    by_name = {key.removeprefix(f"{PROJECT}:").lower(): key for key in KNOWN_KEYS}
    for key in stack.config:
        text = str(key)
        if text in KNOWN_KEYS or not _looks_like_ours(text):
            continue
        close = difflib.get_close_matches(text.rpartition(":")[2].lower(), list(by_name))  # best first
        hint = f"did you mean {by_name[close[0]]}?" if close else f"the known keys are {', '.join(KNOWN_KEYS)}"
        problems.append(f"{stack.name}:{key_line(stack.config, key)}: {text}: unknown config key; {hint}")
    release = stack.config.get(RELEASE, ABSENT)
    if release is not ABSENT and not isinstance(release, CommentedMap):
        line = key_line(stack.config, RELEASE)
        problems.append(f"{stack.name}:{line}: {RELEASE} is {kind(release)}; it must be a mapping of release settings")
    return problems


def _anchor(node: Any) -> str | None:
    anchor = getattr(node, Anchor.attrib, None)
    return anchor.value if isinstance(anchor, Anchor) else None


def anchor_problem(config: CommentedMap, lines: Sequence[str], name: str) -> str | None:
    """``<file>:<line>: ...`` for the first YAML anchor, alias or merge key in ``homelab:release``.

    Changing a value another place refers to would change both places (or move the anchor), so
    a target's release is only rewritten when it has none. A source's are just values.
    """

    def entry(parent: CommentedMap | CommentedSeq, key: Any, path: str, line: int) -> str | None:
        value = parent[key]
        anchor = _anchor(value)
        if anchor is not None:
            what = f"is the alias `*{anchor}`" if f"*{anchor}" in lines[line - 1] else f"has the anchor `&{anchor}`"
            return f"{name}:{line}: {path} {what}"
        merged: list[Any] | None = getattr(value, merge_attrib, None)
        if merged:
            return f"{name}:{line}: {path} merges `<<: *{_anchor(merged[0])}`"
        if isinstance(value, CommentedMap):
            for k in [k for k, _ in value.non_merged_items()]:
                found = entry(value, k, f"{path}.{k}", key_line(value, k))
                if found:
                    return found
        elif isinstance(value, CommentedSeq):
            for i in range(len(value)):
                row: int = value.lc.item(i)[0]
                found = entry(value, i, f"{path}[{i}]", row + 1)
                if found:
                    return found
        return None

    found = entry(config, RELEASE, RELEASE, key_line(config, RELEASE))
    if found is None:
        return None
    return (
        f"{found}; promote does not rewrite YAML anchors, aliases or merge keys inside {RELEASE} "
        "(a change there would change every place that shares the value): write the values out, then promote again"
    )
