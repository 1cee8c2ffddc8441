"""``Pulumi.yaml``'s own ``config:`` block: values every stack gets unless its file says otherwise.

The CLI merges it into each stack's config (pulumi/pulumi v3.259
``sdk/go/common/workspace/project.go``): ``RewriteShorthandConfigValues`` turns a plain or list
value into ``{default: value}`` for a key of the project (``homelab:x`` or ``x``) and into
``{value: value}`` for another namespace's key (``cloudflare:x``); a mapping is a
``ProjectConfigType`` with the attributes ``type``, ``description``, ``items``, ``default``,
``value`` and ``secret``. So a stack's config is the project's values and defaults under its own
file's values, and every run of this program (which reads all stack files to check the homelab)
reads them that way too. The file is read as strictly as a stack file (one YAML reader's traps,
duplicate keys, ``file:line``); it can hold no secret: it is shared by every stack, in plain text.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from components.config import PROJECT, PROVIDER_SECRET_KEYS, SECRET_KEYS
from components.stack_files import StackFileError, config_block, qualified, read_stack_file

PROJECT_FILE = "Pulumi.yaml"
#: A ``ProjectConfigType``'s attributes (project.go).
ATTRIBUTES = ("type", "description", "items", "default", "value", "secret")


#: Keys whose value is a credential: never in a file every stack shares.
CREDENTIALS = frozenset({*(f"{PROJECT}:{k}" for k in SECRET_KEYS), *PROVIDER_SECRET_KEYS})


@functools.lru_cache(maxsize=16)
def _defaults(text: str, name: str) -> dict[str, Any]:
    config = config_block(text, name, PROJECT_FILE)
    entries = qualified(config, name, PROJECT)
    written = dict(zip(entries, config, strict=True))  # full key -> as the file writes it
    out: dict[str, Any] = {}
    for full, entry in entries.items():
        key = written[full]
        if isinstance(entry, dict):
            unknown = sorted(str(k) for k in entry if k not in ATTRIBUTES)
            if unknown:
                raise StackFileError(
                    f"{name}: config.{key}: {', '.join(unknown)} is not an attribute of a project config entry "
                    f"({', '.join(ATTRIBUTES)}); a value for every stack goes under `default:`"
                )
            if (entry.get("secret") or full in CREDENTIALS) and ("default" in entry or "value" in entry):
                raise StackFileError(
                    f"{name}: config.{key}: a secret cannot have a value in {PROJECT_FILE} (shared by every stack, "
                    f"in plain text); set it per stack with `pulumi config set --secret {full}`"
                )
            if "value" in entry or "default" in entry:
                out[full] = entry["value"] if "value" in entry else entry["default"]
        elif full in CREDENTIALS:
            raise StackFileError(
                f"{name}: config.{key}: a secret cannot have a value in {PROJECT_FILE} (shared by every stack, "
                f"in plain text); set it per stack with `pulumi config set --secret {full}`"
            )
        elif entry is not None:
            out[full] = entry
    return out


def project_defaults(root: Path) -> dict[str, Any]:
    """``namespace:key`` -> value every stack of the project gets unless its own file sets it;
    empty without a ``Pulumi.yaml`` or a ``config:`` block in it."""
    path = root / PROJECT_FILE
    if not path.is_file():
        return {}
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StackFileError(f"{PROJECT_FILE}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise StackFileError(f"{PROJECT_FILE}: cannot read it: {exc.strerror or exc}") from None
    return copy.deepcopy(_defaults(text, PROJECT_FILE))


def stack_config(path: Path, root: Path | None = None) -> dict[str, Any]:
    """A stack's config as the CLI hands it to a run: ``Pulumi.yaml``'s values and defaults
    (of the project in ``root``, default the stack file's folder) under the stack file's own."""
    own = read_stack_file(path)
    return {**project_defaults(root or path.parent), **own}
