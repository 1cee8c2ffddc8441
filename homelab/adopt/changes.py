"""What the first ``pulumi up`` changes on a resource it imports, as ``key: old -> new`` lines.

Two ways of comparing. A Helm release's values are replaced whole by an upgrade with the
program's values (Helm reuses the old ones only when none are given), so every key of either side
counts (:func:`value_changes`: a key only the running release has goes, ``old -> (unset)``). A
Kubernetes object is applied with the fields the program sets, so only those count
(:func:`field_changes`); what the API server or another tool added is not the program's.

Secrets are never shown: a value the program marks secret, a value under a key that names one
(``token``, ``password``, ``apiKey``...), and a value that looks like a credential
(:func:`homelab.config.credentials.credentials_in`) show as ``[secret]``. The plan's
provider answers are mocks (``mock-...``, homelab/plan/mock_monitor.py): :class:`Known` puts the
real ones in (the zone id, the tunnel id) once Cloudflare has been read; what only ``up`` learns
(a token's hash on a pod template) shows as ``[known at up]`` and is counted only where nothing runs.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from homelab.config.credentials import credentials_in
from homelab.config.policy import SECRET_SHOWN

UNSET = "(unset)"
AT_UP = "[known at up]"
#: Longest a value is shown (JSON); longer ones are cut with an ellipsis.
WIDTH = 100
MOCK = "mock-"
#: Pod template annotations that carry a hash of a token (components/base.py ``token_hash``).
HASH_PREFIX = "checksum/"
_SECRET_KEY = re.compile(r"(?i)(password|passwd|token|secret|credential|api[-_]?key|private[-_]?key)")


class _Missing:
    def __repr__(self) -> str:
        return UNSET


MISSING: Any = _Missing()


class Known:
    """The real values of the plan's mock provider answers, given once Cloudflare has been read
    (from another thread); :meth:`resolve` waits for them (at most ``wait`` seconds)."""

    def __init__(self, wait: float = 30.0) -> None:
        self._ready = threading.Event()
        self._wait = wait
        self._real: dict[str, str] = {}

    def provide(self, real: Mapping[str, str]) -> None:
        """``mock -> real`` (the zone id, the tunnel id); called once, also with nothing known."""
        self._real.update({k: v for k, v in real.items() if k.startswith(MOCK)})
        self._ready.set()

    def resolve(self, value: Any) -> Any:
        """``value`` with every mock replaced by its real value; :data:`AT_UP` for a text that is
        still a mock (known only to up)."""
        if isinstance(value, str) and MOCK in value:
            self._ready.wait(self._wait)
            for mock, real in sorted(self._real.items(), key=lambda kv: -len(kv[0])):
                value = value.replace(mock, real)
            return AT_UP if MOCK in value else value
        return value


def _last_key(path: str) -> str:
    return re.split(r"[.\[]", path)[-1]


def _secret(path: str, *values: Any) -> bool:
    """A secret's value: marked so by the program, under a key that names a secret (not one that
    refers to it: ``secretName``, ``secretKeyRef``), or looking like a credential."""
    last = _last_key(path)
    if SECRET_SHOWN in values or (_SECRET_KEY.search(last) and not last.endswith(("Name", "Ref", "name"))):
        return True
    return any(isinstance(v, str) and bool(credentials_in(v)) for v in values)


def show(value: Any) -> str:
    """A value as a line shows it: JSON, cut at :data:`WIDTH`."""
    if value is MISSING:
        return UNSET
    if value == AT_UP:
        return AT_UP
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def _same(old: Any, new: Any) -> bool:
    """Equal as the API compares them: ``1`` and ``1.0`` are, ``1`` and ``true`` are not."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return bool(old == new)


def _masked(value: Any, path: str) -> Any:
    """``value`` with every secret in it (at any depth) shown as ``[secret]``."""
    if isinstance(value, Mapping):
        return {k: _masked(v, _join(path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return SECRET_SHOWN if isinstance(value, str) and _secret(path, value) else value


def _line(path: str, old: Any, new: Any) -> list[str]:
    if new == AT_UP:
        return [f"{path}: {show(old)} -> {AT_UP}"] if old is MISSING else []
    if new == SECRET_SHOWN and old is not MISSING:
        return []  # a secret of the stack's: not comparable here
    if _secret(path, old, new):
        return [f"{path}: {UNSET if old is MISSING else SECRET_SHOWN} -> {UNSET if new is MISSING else SECRET_SHOWN}"]
    return [f"{path}: {show(_masked(old, path))} -> {show(_masked(new, path))}"]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _compare(old: Any, new: Any, path: str, every_key: bool, known: Known | None) -> list[str]:
    """The changes under ``path``: a mapping on either side is gone into (so a value shown is
    a leaf, or a list of another length), its other side taken as empty when unset."""
    if new is not MISSING:
        new = AT_UP if _last_key(path).startswith(HASH_PREFIX) else known.resolve(new) if known else new
    descend = isinstance(new, Mapping) and (isinstance(old, Mapping) or old is MISSING)
    if descend or (every_key and isinstance(old, Mapping) and new is MISSING):
        before = old if isinstance(old, Mapping) else {}
        after = new if isinstance(new, Mapping) else {}
        keys = list(after) + ([k for k in before if k not in after] if every_key else [])
        out: list[str] = []
        for key in sorted(keys, key=str):
            out += _compare(before.get(key, MISSING), after.get(key, MISSING), _join(path, str(key)), every_key, known)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        pairs = enumerate(zip(old, new, strict=True))
        return [line for i, (a, b) in pairs for line in _compare(a, b, f"{path}[{i}]", every_key, known)]
    if new is MISSING and not every_key:
        return []
    return [] if _same(old, new) else _line(path, old, new)


def value_changes(old: Mapping[str, Any], new: Mapping[str, Any], known: Known | None = None) -> list[str]:
    """A Helm release's values: every key of either side."""
    return _compare(dict(old), dict(new), "", True, known)


def field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], skip: frozenset[str] = frozenset(), known: Known | None = None
) -> list[str]:
    """An object's fields the program sets (``new``), but those of ``skip`` (top-level keys)."""
    kept = {k: v for k, v in new.items() if k not in skip}
    return _compare(dict(old), kept, "", False, known)
