"""The import plan: which resources the next ``pulumi up`` takes over from what already runs.

``homelab adopt --stack <stack>`` writes ``<stack>.imports.yaml`` beside the stack file (not
``Pulumi.<stack>.imports.yaml``: that is the stack file of a stack named ``<stack>.imports``);
the user reviews it and commits it (or deletes it). While it exists, the program reads it on
every run and sets Pulumi's ``import`` option on exactly the resources it lists
(:mod:`components.imports`); nothing else changes. Once an update has imported them, the file
can go: the program says so at every run while it is there. Format::

    # written by `homelab adopt --stack main`: review it, commit it, ...
    stack: main
    imports:
      - resource: cilium-release            # the program's resource name
        type: kubernetes:helm.sh/v3:Release # its Pulumi type
        id: kube-system/cilium              # the import id (pulumi-kubernetes, pulumi-cloudflare)

Import ids, as the providers read them (../shared/DESIGN.md "Adopting a running homelab"):
``helm.v3.Release`` ``<namespace>/<release>``; namespaced objects and custom resources
``<namespace>/<name>``, cluster-scoped ones ``<name>``; the tunnel and its configuration
``<account_id>/<tunnel_id>``; a DNS record ``<zone_id>/<record_id>``. Nothing else is
importable here: the tunnel secret (``random`` bytes) cannot be read back, providers and
components are not resources with an id.

A file that cannot be read, holds another stack's plan, an entry twice, a type that cannot be
imported or an id of the wrong shape is refused with ``<file>:<line>``, the entry and the fix;
an entry naming a resource the program does not have is refused once the program has run
(:mod:`components.imports`), by the offline plan and by every preview.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from homelab.config import names
from homelab.config.yaml_text import StackFileError, decode, dump, key_line, kind, parse, plain

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared"
TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"

_K8S_NAME = r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"
_HEX32 = r"[0-9a-f]{32}"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: Pulumi type -> (the id's pattern, how the id is written), for the types that are not plain
#: Kubernetes objects.
_IDS: dict[str, tuple[re.Pattern[str], str]] = {
    HELM_RELEASE: (re.compile(rf"^{_K8S_NAME}/{_K8S_NAME}\Z"), "<namespace>/<release>"),
    TUNNEL: (re.compile(rf"^{_HEX32}/{_UUID}\Z"), "<account id>/<tunnel id>"),
    TUNNEL_CONFIG: (re.compile(rf"^{_HEX32}/{_UUID}\Z"), "<account id>/<tunnel id>"),
    DNS_RECORD: (re.compile(rf"^{_HEX32}/{_HEX32}\Z"), "<zone id>/<record id>"),
}
_KUBE_TYPE = re.compile(r"^kubernetes:(?P<group>[a-z0-9.-]+)/(?P<version>v[0-9a-z]+):(?P<kind>[A-Z][A-Za-z0-9]+)\Z")
_NAMESPACED = re.compile(rf"^{_K8S_NAME}/{_K8S_NAME}\Z")
_CLUSTER = re.compile(rf"^{_K8S_NAME}\Z")


def import_file(stack_file: Path) -> Path:
    """``Pulumi.main.yaml`` -> ``main.imports.yaml``, beside it."""
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    return stack_file.with_name(f"{stack}.imports.yaml")


def id_form(type_: str) -> str | None:
    """How an import id of ``type_`` is written, or None when the type cannot be imported."""
    if type_ in _IDS:
        return _IDS[type_][1]
    match = _KUBE_TYPE.match(type_)
    if match is None or match["group"] == "helm.sh":
        return None  # helm.v4.Chart is a component: its objects are imported one by one
    return "<name>" if match["kind"] in names.CLUSTER_SCOPED else "<namespace>/<name>"


def id_ok(type_: str, id_: str) -> bool:
    if type_ in _IDS:
        return bool(_IDS[type_][0].match(id_))
    form = id_form(type_)
    return form is not None and bool((_CLUSTER if form == "<name>" else _NAMESPACED).match(id_))


@dataclass(frozen=True)
class Entry:
    resource: str
    type: str
    id: str
    #: 1-based line of the entry in the file (0: not read from a file)
    line: int = 0


@dataclass(frozen=True)
class ImportPlan:
    stack: str
    #: how the file is named in messages
    shown: str
    entries: tuple[Entry, ...]

    def ids(self) -> dict[tuple[str, str], str]:
        """(type, resource name) -> import id."""
        return {(e.type, e.resource): e.id for e in self.entries}


class ImportFileError(StackFileError):
    """An import plan that cannot be used; the message names the file, the line and the fix."""


def read_import_plan(path: Path, stack: str, shown: str | None = None) -> ImportPlan | None:
    """The import plan beside a stack file, or None when there is none."""
    name = shown or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ImportFileError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    text, _ = decode(data, name)
    try:
        doc = parse(text, name)
    except StackFileError as exc:
        raise ImportFileError(str(exc)) from None
    return _plan(doc, name, stack)


def _plan(doc: Any, name: str, stack: str) -> ImportPlan:
    again = f"run `make adopt STACK={stack}` again, or delete {name}"
    if not isinstance(doc, CommentedMap) or set(doc) != {"stack", "imports"}:
        raise ImportFileError(f"{name}:1: an import plan is a mapping of `stack:` and `imports:` only; {again}")
    if doc["stack"] != stack:
        raise ImportFileError(
            f"{name}:{key_line(doc, 'stack')}: the import plan of stack {plain(doc['stack'])!r}, not of {stack!r}; "
            f"each stack has its own ({stack}.imports.yaml); {again}"
        )
    items = doc["imports"]
    if not isinstance(items, CommentedSeq):
        raise ImportFileError(f"{name}:{key_line(doc, 'imports')}: `imports:` is {kind(items)}; it is a list; {again}")
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        line = int(items.lc.item(i)[0]) + 1
        where = f"{name}:{line}: imports[{i}]"
        if not isinstance(item, CommentedMap) or set(item) != {"resource", "type", "id"}:
            raise ImportFileError(f"{where}: an entry is a mapping of `resource`, `type` and `id`; {again}")
        resource, type_, id_ = (
            value if isinstance(value := plain(item[k]), str) else "" for k in ("resource", "type", "id")
        )
        entry = Entry(resource, type_, id_, line)
        if not entry.resource or not entry.type or not entry.id:
            raise ImportFileError(f"{where}: `resource`, `type` and `id` are text, none empty; {again}")
        form = id_form(entry.type)
        if form is None:
            raise ImportFileError(
                f"{where}: {entry.resource} is a {entry.type}, which cannot be imported (its value cannot be read "
                f"back, or it is not one resource); remove the entry"
            )
        if not id_ok(entry.type, entry.id):
            raise ImportFileError(f"{where}: id {entry.id!r} is not {form} for a {entry.type}; {again}")
        key = (entry.type, entry.resource)
        if key in seen:
            raise ImportFileError(f"{where}: {entry.resource} is already imported at line {seen[key]}; keep one")
        seen[key] = line
        entries.append(entry)
    return ImportPlan(stack, name, tuple(entries))


HEADER = """\
# Written by `homelab adopt --stack {stack}`: the resources the next `pulumi up` imports instead of
# creating (README "Adopting a running homelab"). Review it, commit it, check it with
# `make plan STACK={stack}` and `pulumi preview --stack {stack}`, then `pulumi up`. Once that update has
# run, delete this file: the imported resources are in the stack's state.
"""


def import_plan_text(plan: ImportPlan) -> str:
    """The file :func:`read_import_plan` reads back, with its header."""
    doc = CommentedMap(
        stack=plan.stack,
        imports=[CommentedMap(resource=e.resource, type=e.type, id=e.id) for e in plan.entries],
    )
    return HEADER.format(stack=plan.stack) + dump(doc)
