"""The config a mock run hands the program, as the Pulumi CLI would: the stack file's values
under the project's defaults (:func:`read_stack_config`), turned into JSON strings and secret
keys with placeholders for what a fresh clone cannot decrypt (:func:`program_config`); the
program's own config check (:func:`preflight`); and the answers for the stack references the
staging gate makes (:func:`referenced_stack_outputs`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from homelab.config import cross_stack
from homelab.config.cross_stack import read_member
from homelab.config.models import PROJECT as CFG_PROJECT
from homelab.config.models import REQUIRED_SECRETS, Promotion
from homelab.config.policy import release_settings
from homelab.config.project import stack_config
from homelab.config.reader import stack_file as path_of
from homelab.paths import ROOT

PROJECT = "homelab"
PLACEHOLDER_PREFIX = "PLACEHOLDER-SECRET-"


def stack_file(stack: str, root: Path = ROOT) -> Path:
    return path_of(root, stack)


def read_stack_config(stack: str, path: Path | None = None, root: Path = ROOT) -> dict[str, Any]:
    """The config a run of ``stack`` gets, keys in full (``homelab:cluster``...): the project's
    ``Pulumi.yaml`` defaults under the stack file's values. Raises
    :class:`homelab.config.reader.StackFileError` (file:line: what) for a broken file."""
    return stack_config(path or stack_file(stack, root), root)


def placeholder(key: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{key.split(':', 1)[-1]}"


def program_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Turn a stack file's config into what the CLI hands the program: JSON strings and the
    list of secret keys. Encrypted values (and the secrets a fresh clone lacks) become clearly
    marked placeholders, still flagged secret."""
    out: dict[str, str] = {}
    secret: list[str] = []
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            out[key] = placeholder(key)
            secret.append(key)
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    for key in REQUIRED_SECRETS:
        full = f"{CFG_PROJECT}:{key}"
        if full not in out:
            out[full] = placeholder(full)
            secret.append(full)
    return out, secret


def referenced_stack(stack: str, config: Mapping[str, Any], root: Path = ROOT) -> tuple[str, str] | None:
    """(reference, stack name) of the stack ``stack``'s staging gate reads, or None when the
    gate is off or reads no stack file here. Uses the config model, so its defaults hold."""
    try:
        promotion = Promotion.model_validate(config.get(f"{PROJECT}:promotion") or {})
    except ValidationError:
        return None  # the program itself reports the bad key
    other = promotion.staging_stack_name
    if not promotion.require_staging or other == stack or not stack_file(other, root).exists():
        return None
    return promotion.staging_stack, other


def referenced_stack_outputs(stack: str, config: Mapping[str, Any], root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Answers for the stack references ``stack`` makes: main's staging gate reads the
    ``release`` output staging exports, as if staging were deployed as written. The program
    exports ``release_settings`` of its parsed config (``__main__.py``), so the answer is that
    function of staging's parsed file: no run of staging's whole program."""
    ref = referenced_stack(stack, config, root)
    if ref is None:
        return {}
    reference, other = ref
    return {reference: {"release": release_settings(read_member(other, stack_file(other, root)).config)}}


def preflight(
    stack: str, values: Mapping[str, str], secret_keys: list[str], root: Path = ROOT, source: str | None = None
) -> None:
    """The program's own config check (this stack and the homelab around it), done before
    anything runs: a refused config never costs a run of the stack main's gate reads."""
    cross_stack.check(stack, cross_stack.decoded(values), secret_keys, root, source)
