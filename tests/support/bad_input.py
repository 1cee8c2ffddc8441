"""Bad input as a user makes it (tests/config/test_bad_input.py): the cases, read from the data files in
tests/config/bad_inputs/ (one file per rule broken, see its README), and the edits they make to a temporary
copy of the project.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import Project

#: The folder of data files, one per rule: ``<rule>.yaml`` holding ``cases:``.
CASES_DIR = Path(__file__).resolve().parents[1] / "config" / "bad_inputs"

#: The ciphertext every stack file's token has in these tests: never decrypted, never printed.
CIPHERTEXT = "v1:AAECAwQFBgcICQoL:Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"
#: What a Cloudflare API token looks like (40 characters); the data files paste it into plain keys.
PASTED_TOKEN = "Xq7vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"

#: An edit step's kind (the one of these keys it has) -> the keys it needs and the keys it may add; every
#: step may also name the stack file it edits with ``in:`` (the case's own stack when left out).
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "put": (frozenset({"value"}), frozenset()),  # a config key's value (dotted path; digits index lists)
    "drop": (frozenset(), frozenset()),  # remove a config key
    "rename": (frozenset({"to"}), frozenset()),  # rename a config key's last part
    "text": (frozenset(), frozenset()),  # the stack file's raw text
    "bytes_base64": (frozenset(), frozenset()),  # the stack file's raw bytes (not UTF-8, control bytes)
    "copy_from": (frozenset(), frozenset({"set"})),  # another stack's config, with dotted keys set
    "take_from": (frozenset({"keys"}), frozenset()),  # these dotted keys' values from another stack
}
_CASE_KEYS = {"name", "stack", "edit", "expect", "once"}


@dataclass(frozen=True)
class Case:
    #: ``<file stem>/<case name>``
    id: str
    stack: str
    edit: tuple[dict[str, Any], ...]
    #: Fragments the error output must contain (keys, values, files, lines).
    expect: tuple[str, ...]
    #: Fragments that must appear exactly once (a value is never printed twice).
    once: tuple[str, ...] = ()

    def apply(self, project: Project) -> None:
        for step in self.edit:
            _apply(project, step, step.get("in", self.stack))


def _walk(cfg: dict[str, Any], path: str) -> tuple[Any, str | int]:
    node: Any = cfg
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def _get(cfg: dict[str, Any], path: str) -> Any:
    node, last = _walk(cfg, path)
    return node[last]


def _put(cfg: dict[str, Any], path: str, value: Any) -> None:
    node, last = _walk(cfg, path)
    node[last] = copy.deepcopy(value)


def _apply(project: Project, step: dict[str, Any], stack: str) -> None:
    if "put" in step:
        project.change(stack, lambda cfg: _put(cfg, step["put"], step["value"]))
    elif "drop" in step:

        def drop(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, step["drop"])
            del node[last]

        project.change(stack, drop)
    elif "rename" in step:

        def rename(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, step["rename"])
            node[step["to"]] = node.pop(last)

        project.change(stack, rename)
    elif "text" in step:
        project.file(stack).write_bytes(step["text"].encode())
    elif "bytes_base64" in step:
        project.file(stack).write_bytes(base64.b64decode(step["bytes_base64"], validate=True))
    elif "copy_from" in step:
        cfg = project.config(step["copy_from"])
        for path, value in step.get("set", {}).items():
            _put(cfg, path, value)
        project.write(stack, cfg)
    else:
        source = project.config(step["take_from"])

        def take(cfg: dict[str, Any]) -> None:
            for path in step["keys"]:
                _put(cfg, path, _get(source, path))

        project.change(stack, take)


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: not a list of strings: {value!r}")
    return tuple(value)


def _step(where: str, step: Any) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise ValueError(f"{where}: an edit step is a mapping, not {step!r}")
    kinds = [k for k in step if k in KINDS]
    if len(kinds) != 1:
        raise ValueError(f"{where}: an edit step has exactly one of {sorted(KINDS)}, not {sorted(step)}")
    kind = kinds[0]
    need, may = KINDS[kind]
    keys = set(step) - {kind, "in"}
    if not need <= keys or not keys <= need | may:
        raise ValueError(f"{where}: `{kind}` takes {sorted(need)} (and may take {sorted(may)}), not {sorted(keys)}")
    if not isinstance(step[kind], str) or not isinstance(step.get("in", ""), str):
        raise ValueError(f"{where}: `{kind}` and `in` are strings: {step!r}")
    if kind == "take_from":
        _strings(f"{where}: keys", step["keys"])
    if kind == "copy_from" and not isinstance(step.get("set", {}), dict):
        raise ValueError(f"{where}: `set` is a mapping of dotted keys to values")
    return step


def load_cases(folder: Path = CASES_DIR) -> list[Case]:
    """Every case of every ``<rule>.yaml`` in ``folder``, in file order; a malformed file fails loudly."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    cases: list[Case] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        if not isinstance(data, dict) or set(data) != {"cases"} or not isinstance(data["cases"], list):
            raise ValueError(f"{path.name}: the file is a mapping with only `cases:`, a list")
        for number, raw in enumerate(data["cases"], 1):
            where = f"{path.name}: case {number}"
            if not isinstance(raw, dict) or not {"name", "stack", "edit"} <= set(raw) <= _CASE_KEYS:
                raise ValueError(f"{where}: a case has name, stack, edit and expect and/or once ({raw!r})")
            name, stack, edit = raw["name"], raw["stack"], raw["edit"]
            if not isinstance(name, str) or not isinstance(stack, str):
                raise ValueError(f"{where}: name and stack are strings")
            if not isinstance(edit, list) or not edit:
                raise ValueError(f"{where}: edit is a list of steps")
            expect = _strings(f"{where}: expect", raw.get("expect", []))
            once = _strings(f"{where}: once", raw.get("once", []))
            if not expect and not once:
                raise ValueError(f"{where}: a case expects at least one line")
            steps = tuple(_step(f"{where}: edit[{i}]", s) for i, s in enumerate(edit))
            cases.append(Case(f"{path.stem}/{name}", stack, steps, expect, once))
    return cases
