"""``Pulumi.yaml``'s own ``config:`` block: values every stack gets unless its file says otherwise.

The CLI merges it into each stack's config (pulumi/pulumi v3.259
``sdk/go/common/workspace/project.go``): ``RewriteShorthandConfigValues`` turns a plain or list
value into ``{default: value}`` for a key of the project (``homelab:x`` or ``x``) and into
``{value: value}`` for another namespace's key (``cloudflare:x``); a mapping is a
``ProjectConfigType`` with the attributes ``type``, ``description``, ``items``, ``default``,
``value`` and ``secret``. ``Project.Validate`` refuses both ``default`` and ``value``, a
``type`` or ``default`` on another namespace's key (which must give a ``value``), an ``array``
without ``items``, and a default not of its type; a stack's own value of a typed key must be of
that type too. So a stack's config is the project's values and defaults under its own file's,
and every run of this program (which reads all stack files to check the homelab) reads them
that way. The file is read as strictly as a stack file (one YAML reader's traps, duplicate keys,
``file:line``); it can hold no secret: it is shared by every stack, in plain text.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homelab.config.models import PROJECT, SECRET_KEYS
from homelab.config.policy import PROVIDER_SECRET_KEYS
from homelab.config.reader import StackFileError, config_block, config_key_lines, qualified, read_stack_file

PROJECT_FILE = "Pulumi.yaml"
#: A ``ProjectConfigType``'s attributes (project.go).
ATTRIBUTES = ("type", "description", "items", "default", "value", "secret")
#: The types the CLI checks values against (project.go ``ValidateConfigValue``).
TYPES = ("string", "integer", "boolean", "array")
#: Keys whose value is a credential: never in a file every stack shares.
CREDENTIALS = frozenset({*(f"{PROJECT}:{k}" for k in SECRET_KEYS), *PROVIDER_SECRET_KEYS})


@dataclass(frozen=True)
class ProjectConfig:
    #: ``namespace:key`` -> the value every stack gets unless its own file sets the key.
    values: dict[str, Any] = field(default_factory=dict)
    #: ``namespace:key`` -> (type, items' type or None) for keys the file types.
    types: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)


def of_type(value: Any, type_name: str, items: dict[str, Any] | None) -> bool:
    """project.go ``ValidateConfigValue``: a string, a whole number, a boolean, or a list whose
    items are of ``items``' type."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "array" and isinstance(value, list):
        inner = items or {}
        return all(of_type(v, str(inner.get("type")), inner.get("items")) for v in value)
    return False


def _entry(full: str, key: str, entry: Any, where: str) -> tuple[bool, Any, tuple[str, Any] | None]:
    """(has a value, the value, its declared type) of one entry; refusals name ``where``."""
    secret_fix = (
        f"a secret cannot have a value in {PROJECT_FILE} (shared by every stack, in plain text); set it per "
        f"stack with `pulumi config set --secret {full}`"
    )
    if not isinstance(entry, dict):  # shorthand: the project's default, another namespace's value
        if full in CREDENTIALS and entry is not None:
            raise StackFileError(f"{where}: config.{key}: {secret_fix}")
        return entry is not None, entry, None
    unknown = sorted(str(k) for k in entry if k not in ATTRIBUTES)
    if unknown:
        raise StackFileError(
            f"{where}: config.{key}: {', '.join(unknown)} is not an attribute of a project config entry "
            f"({', '.join(ATTRIBUTES)}); a value for every stack goes under `default:`"
        )
    has_default, has_value = "default" in entry, "value" in entry
    if has_default and has_value:
        raise StackFileError(f"{where}: config.{key}: both `default` and `value`; the CLI takes one of them")
    if (entry.get("secret") or full in CREDENTIALS) and (has_default or has_value):
        raise StackFileError(f"{where}: config.{key}: {secret_fix}")
    type_name = entry.get("type")
    if not full.startswith(f"{PROJECT}:"):
        if type_name is not None or has_default:
            raise StackFileError(
                f"{where}: config.{key}: not a key of this project, so it takes no `type` or `default`: "
                "write its `value:` (the CLI refuses the file otherwise)"
            )
        if not has_value:
            raise StackFileError(f"{where}: config.{key}: another namespace's key needs a `value:`")
    declared = None
    if type_name is not None:
        if type_name not in TYPES:
            raise StackFileError(f"{where}: config.{key}: type {type_name!r} is none of {', '.join(TYPES)}")
        items = entry.get("items")
        if type_name == "array" and not isinstance(items, dict):
            raise StackFileError(f"{where}: config.{key}: an array needs `items:` with the items' `type:`")
        declared = (type_name, items)
        if has_default and not of_type(entry["default"], type_name, items):
            raise StackFileError(f"{where}: config.{key}: its default is not of its type {type_name!r}")
    value = entry["value"] if has_value else entry.get("default")
    return has_default or has_value, value, declared


@functools.lru_cache(maxsize=16)
def _read(text: str, name: str) -> ProjectConfig:
    config = config_block(text, name, PROJECT_FILE)
    lines = config_key_lines(text)
    entries = qualified(config, name, PROJECT)
    written = dict(zip(entries, config, strict=True))  # full key -> as the file writes it
    out = ProjectConfig()
    for full, entry in entries.items():
        key = str(written[full])
        has, value, declared = _entry(full, key, entry, f"{name}:{lines.get(key, 1)}")
        if has:
            out.values[full] = value
        if declared is not None:
            out.types[full] = declared
    return out


def project_config(root: Path) -> ProjectConfig:
    """The project's config block; empty without a ``Pulumi.yaml`` or a ``config:`` in it."""
    path = root / PROJECT_FILE
    if not path.is_file():
        return ProjectConfig()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StackFileError(f"{PROJECT_FILE}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise StackFileError(f"{PROJECT_FILE}: cannot read it: {exc.strerror or exc}") from None
    return _read(text, PROJECT_FILE)


def project_defaults(root: Path) -> dict[str, Any]:
    """``namespace:key`` -> value every stack of the project gets unless its own file sets it."""
    return copy.deepcopy(project_config(root).values)


def stack_config(path: Path, root: Path | None = None) -> dict[str, Any]:
    """A stack's config as the CLI hands it to a run: ``Pulumi.yaml``'s values and defaults
    (of the project in ``root``, default the stack file's folder) under the stack file's own,
    each of a type ``Pulumi.yaml`` declares."""
    own = read_stack_file(path)
    project = project_config(root or path.parent)
    for key, (type_name, items) in project.types.items():
        if key in own and not of_type(own[key], type_name, items):
            raise StackFileError(
                f"{path.name}: {key}: {PROJECT_FILE} declares it of type {type_name!r}, and this value is not"
            )
    return {**copy.deepcopy(project.values), **own}
