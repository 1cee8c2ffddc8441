"""One finding per resource the first ``pulumi up`` would create: what runs in its place.

A :class:`Finding` is a report line (doctor's :class:`~homelab.doctor.report.Check`, so the table,
JSON and exit codes are doctor's) with what adopt needs beyond it: the import-plan entry of an
importable resource, the changes the first up makes to it, and the Flux objects that made it
(they must stop reconciling before ``up``). Its state decides the line's status:

* absent (up creates it): PASS;
* importable: PASS, or WARN when the first up changes it or something needs doing first;
* not adoptable as is: FAIL, with the way out;
* not known (a read failed, the wrong cluster or account): FAIL; no import plan is written then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from homelab.config.imports import Entry, id_form, id_ok
from homelab.doctor.checks_preflight import CF_OBJECTS, OBJECTS, RELEASES
from homelab.doctor.report import ACCESS, Check, Status, failed, passed, warned

#: adopt's groups, in the order they print.
GROUPS: tuple[str, ...] = (ACCESS, RELEASES, OBJECTS, CF_OBJECTS)
ADOPTING = 'DESIGN.md "Adopting a running homelab"'


class State(StrEnum):
    ABSENT = "absent"
    IMPORTABLE = "importable"
    BLOCKED = "not adoptable as is"
    UNKNOWN = "unknown"
    #: a line about no resource of the plan (access, the cluster's identity) that did not FAIL
    NOTE = "note"


@dataclass(frozen=True, order=True)
class FluxOwner:
    """A Flux object that made something adopt found: ``kind`` is ``helmrelease`` or ``kustomization``."""

    kind: str
    namespace: str
    name: str

    @property
    def label(self) -> str:
        return f"Flux {'HelmRelease' if self.kind == 'helmrelease' else 'Kustomization'} {self.namespace}/{self.name}"

    def suspend(self, context: str) -> str:
        return f"flux --context {context} suspend {self.kind} {self.name} -n {self.namespace}"


@dataclass(frozen=True)
class Finding:
    check: Check
    state: State
    entry: Entry | None = None
    #: what the first up changes on it: ``key: old -> new`` lines
    changes: tuple[str, ...] = ()
    owners: tuple[FluxOwner, ...] = field(default_factory=tuple)
    #: what the changes are of (``Helm release kube-system/cilium (revision 2, chart cilium 1.19.1)``)
    title: str = ""
    #: objects the first up can only take over with the provider's upsert switch (a chart's)
    upsert: bool = False


def absent(group: str, name: str, evidence: str) -> Finding:
    return Finding(passed(group, name, f"absent: {evidence}"), State.ABSENT)


def importable(
    group: str,
    name: str,
    entry: Entry,
    evidence: str,
    changes: tuple[str, ...] = (),
    fix: str = "",
    owners: tuple[FluxOwner, ...] = (),
    title: str = "",
) -> Finding:
    """Importable as ``entry.id``: a WARN (with ``fix``) when up changes it or ``fix`` asks for
    something first, else a PASS."""
    if not id_ok(entry.type, entry.id):  # never write an import plan the program would refuse
        return unknown(
            group,
            name,
            f"present, but its import id {entry.id!r} is not {id_form(entry.type)}, which homelab/config/imports.py "
            f"asks of a {entry.type}: nothing written",
            "a gap between adopt and the import plan's reader (for a Kubernetes kind: homelab/config/names.py "
            "CLUSTER_SCOPED, the kinds without a namespace): report it",
        )
    said = f"importable as {entry.id}: {evidence}"
    if changes:
        said += f"; the first up changes {len(changes)} {'field' if len(changes) == 1 else 'fields'} (below)"
    if changes or fix:
        check = warned(group, name, said, fix or "review the changes below: the first up makes them")
    else:
        check = passed(group, name, said)
    return Finding(check, State.IMPORTABLE, entry, changes, owners, title or name)


def blocked(group: str, name: str, evidence: str, fix: str, owners: tuple[FluxOwner, ...] = ()) -> Finding:
    return Finding(failed(group, name, f"not adoptable as is: {evidence}", fix), State.BLOCKED, owners=owners)


def unknown(group: str, name: str, evidence: str, fix: str) -> Finding:
    return Finding(failed(group, name, evidence, fix), State.UNKNOWN)


def noted(check: Check) -> Finding:
    """A line that is about no resource of the plan (access, the cluster's identity): a FAIL
    among them means the findings cannot be trusted, so no import plan is written."""
    return Finding(check, State.UNKNOWN if check.status is Status.FAIL else State.NOTE)


def ordered(findings: list[Finding]) -> list[Finding]:
    """In :data:`GROUPS` order, as the report prints them; within a group, as found."""
    rank = {g: i for i, g in enumerate(GROUPS)}
    return sorted(findings, key=lambda f: rank.get(f.check.group, len(GROUPS)))
