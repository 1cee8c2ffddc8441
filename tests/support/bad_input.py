"""Bad input as a user makes it (tests/config/test_bad_input.py): the cases and the edits they make to
a temporary copy of the project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import Project

#: The ciphertext every stack file's token has in these tests: never decrypted, never printed.
CIPHERTEXT = "v1:AAECAwQFBgcICQoL:Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"
#: What a Cloudflare API token looks like (40 characters); pasted into plain keys below.
PASTED_TOKEN = "Xq7vR2mN9pL4kT8wZ3yB6cD1fG5hJ0sA-uE_iO2r"

Edit = Callable[[Project], None]


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    edit: Edit
    #: Fragments the error output must contain (keys, values, files, lines).
    expect: tuple[str, ...]
    #: Fragments that must appear exactly once (a value is never printed twice).
    once: tuple[str, ...] = ()


def _walk(cfg: dict[str, Any], path: str) -> tuple[Any, str | int]:
    node: Any = cfg
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def put(stack: str, path: str, value: Any) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            node[last] = value

        project.change(stack, change)

    return edit


def drop(stack: str, path: str) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            del node[last]

        project.change(stack, change)

    return edit


def rename(stack: str, path: str, new: str) -> Edit:
    def edit(project: Project) -> None:
        def change(cfg: dict[str, Any]) -> None:
            node, last = _walk(cfg, path)
            node[new] = node.pop(last)

        project.change(stack, change)

    return edit


def text(stack: str, content: str | bytes) -> Edit:
    def edit(project: Project) -> None:
        data = content.encode() if isinstance(content, str) else content
        project.file(stack).write_bytes(data)

    return edit


def both(*edits: Edit) -> Edit:
    def edit(project: Project) -> None:
        for one in edits:
            one(project)

    return edit


def on_staging_network(stack: str = "main") -> Edit:
    """Give ``stack`` staging's whole network (consistent within the stack itself)."""

    def edit(project: Project) -> None:
        staging = project.config("staging")["homelab:cluster"]

        def change(cfg: dict[str, Any]) -> None:
            for key in ("network", "loadBalancer", "gateways", "dns"):
                cfg["homelab:cluster"][key] = staging[key]

        project.change(stack, change)

    return edit


def copy_stack(source: str, stack: str, **cluster: Any) -> Edit:
    """A new stack file ``Pulumi.<stack>.yaml``: ``source``'s config with some cluster keys set."""

    def edit(project: Project) -> None:
        cfg = project.config(source)
        cfg["homelab:cluster"].update(cluster)
        project.write(stack, cfg)

    return edit


MAIN_YAML_HEAD = "config:\n  homelab:cluster:\n    name: main\n"
