"""What a mock run of the program registered: each resource (:class:`Registration`), each
provider function called (:class:`Call`) and the whole run (:class:`Plan`), with the helpers that
read the SDK's secret markers kept in recorded inputs. No Pulumi import: the plan's readers
(schema checks, rendering, doctor) use these without the SDK; :mod:`homelab.plan.mockrun` makes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from homelab.config.policy import SECRET_SHOWN  # one marker for every secret the tools show

# the SDK's wire markers for secrets (pulumi.runtime.rpc); kept in recorded inputs on purpose
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    #: A component a provider builds (``helm.v4.Chart``): its children never reach this monitor.
    remote: bool = False
    #: Left in place when Pulumi deletes it (``retain_on_delete``).
    retain_on_delete: bool = False
    #: The id Pulumi imports it by instead of creating it (the ``import`` option), or "".
    import_id: str = ""

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secret markers replaced by ``[secret]``."""
        return reveal(self.inputs, shown=SECRET_SHOWN)

    @property
    def k8s_object(self) -> dict[str, Any]:
        """apiVersion/kind/metadata/spec... as the Kubernetes API would get them."""
        return {k: v for k, v in self.plain_inputs.items() if k != "__meta"}


class Call(NamedTuple):
    """A provider function the program called: its token, arguments and provider reference
    (``<provider urn>::<id>``; empty for the default provider)."""

    token: str
    args: dict[str, Any]
    provider: str


@dataclass
class Plan:
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    log: list[str]
    #: Provider functions called (data sources such as the zone lookup).
    calls: list[Call] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise KeyError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    @cached_property
    def _by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    @cached_property
    def _children(self) -> dict[str, list[Registration]]:
        kids: dict[str, list[Registration]] = {}
        for r in self.resources:
            kids.setdefault(r.parent, []).append(r)
        return kids

    def by_urn(self, urn: str) -> Registration:
        return self._by_urn[urn]

    def is_top(self, res: Registration) -> bool:
        """True for a resource whose parent is the stack itself."""
        return res.parent not in self._by_urn

    def component_of(self, res: Registration) -> Registration | None:
        """The top-level component a resource belongs to (None for a top-level resource)."""
        node = res
        while not self.is_top(node):
            node = self.by_urn(node.parent)
        return None if node is res else node

    def k8s_object(self, kind: str, name: str) -> dict[str, Any]:
        """The registered Kubernetes object of this kind whose ``metadata.name`` is ``name``."""
        for r in self.resources:
            if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}"):
                obj = r.k8s_object
                if (obj.get("metadata") or {}).get("name") == name:
                    return obj
        raise KeyError(f"no {kind} named {name}")

    def children(self, parent: Registration) -> list[Registration]:
        return self._children.get(parent.urn, [])

    def descendants(self, parent: Registration) -> Iterator[Registration]:
        for child in self.children(parent):
            yield child
            yield from self.descendants(child)


def normalize(value: Any) -> Any:
    """Protobuf carries every number as a float; give integral ones back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def reveal(value: Any, shown: str | None = None) -> Any:
    """Strip secret markers: keep the values (``shown=None``) or replace them with ``shown``."""
    if is_secret(value):
        return reveal(value["value"]) if shown is None else shown
    if isinstance(value, dict):
        return {k: reveal(v, shown) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v, shown) for v in value]
    return value


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in ``value`` that is not under a secret marker."""
    if is_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from plain_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from plain_strings(v)
