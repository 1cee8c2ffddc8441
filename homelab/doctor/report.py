"""The result of a check, and the two ways doctor prints results (a table, or JSON for scripts).

Every check ends in one :class:`Check`: a status, the evidence it saw, and for WARN/FAIL what to
do. Check functions never print; the CLI renders the list once at the end, in the order of
:data:`GROUPS`: the concerns of the seed's troubleshooting section (gateways, DNS, external-dns,
LB-IPAM, the tunnel, the policies), ordered the way the stack is built, bottom first, so that a
FAIL in Cilium explains most FAILs below it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from homelab.config.policy import MIN_SECRET, hide


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


# The groups, in the order they print: the seed's troubleshooting concerns, as the stack is built.
ACCESS = "Access"
CILIUM = "Cilium"
LB = "LB-IPAM and L2"
CLUSTER_DNS = "Cluster DNS"
GATEWAYS = "Gateways and routes"
POLICIES = "Traffic policies"
CERTIFICATES = "Certificates"
EXTERNAL_DNS = "external-dns"
TUNNEL = "Cloudflare Tunnel"
PUBLIC_DNS = "Public DNS"

GROUPS: tuple[str, ...] = (
    ACCESS,
    CILIUM,
    LB,
    CLUSTER_DNS,
    GATEWAYS,
    POLICIES,
    CERTIFICATES,
    EXTERNAL_DNS,
    TUNNEL,
    PUBLIC_DNS,
)


@dataclass(frozen=True)
class Check:
    """One line of the report. ``fix`` is what to do; empty for PASS."""

    group: str
    name: str
    status: Status
    evidence: str
    fix: str = ""


def passed(group: str, name: str, evidence: str) -> Check:
    return Check(group, name, Status.PASS, evidence)


def warned(group: str, name: str, evidence: str, fix: str) -> Check:
    return Check(group, name, Status.WARN, evidence, fix)


def failed(group: str, name: str, evidence: str, fix: str) -> Check:
    return Check(group, name, Status.FAIL, evidence, fix)


def ordered(checks: Iterable[Check], groups: Sequence[str] = GROUPS) -> list[Check]:
    """Grouped in ``groups`` order (doctor's :data:`GROUPS` unless given); within a group, in the
    order the checks ran."""
    rank = {g: i for i, g in enumerate(groups)}
    return sorted(checks, key=lambda c: rank.get(c.group, len(groups)))


def exit_code(checks: Iterable[Check]) -> int:
    """0 when nothing FAILs (WARNs are for a human to read), else 1."""
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


def redact(checks: Iterable[Check], secrets: Iterable[str]) -> list[Check]:
    """Defence in depth: no secret ever reaches the output, whatever an API error message echoed.
    A value shorter than ``MIN_SECRET`` is no real token, and hiding it would mangle every word
    it occurs in (a token ``x`` would print ``conte[secret]t``)."""
    hidden = {s for s in secrets if len(s) >= MIN_SECRET}
    return [replace(c, evidence=hide(c.evidence, hidden), fix=hide(c.fix, hidden)) for c in checks]


def counts(checks: Sequence[Check]) -> str:
    parts = [f"{sum(c.status is s for c in checks)} {s.value}" for s in Status]
    return f"{len(checks)} checks: " + ", ".join(parts)


def table(checks: Sequence[Check], title: str, groups: Sequence[str] = GROUPS) -> str:
    """The human report: one block per group, one line per check, its fix indented below."""
    lines = [title]
    width = max((len(c.name) for c in checks), default=0)
    group = None
    for check in ordered(checks, groups):
        if check.group != group:
            group = check.group
            lines += ["", group]
        lines.append(f"  {check.status.value}  {check.name:<{width}}  {check.evidence}")
        if check.fix:
            lines.append(f"        {'':<{width}}  fix: {check.fix}")
    lines += ["", counts(checks)]
    return "\n".join(lines)


def as_json(checks: Sequence[Check], groups: Sequence[str] = GROUPS) -> str:
    """For scripts: a list of ``{group, check, status, evidence, fix}`` (``fix`` null on PASS)."""
    rows = []
    for check in ordered(checks, groups):
        row = asdict(check)
        rows.append(
            {
                "group": row["group"],
                "check": row["name"],
                "status": check.status.value,
                "evidence": row["evidence"],
                "fix": row["fix"] or None,
            }
        )
    return json.dumps(rows, indent=2)


def show(checks: Sequence[Check], title: str, json_out: bool, groups: Sequence[str] = GROUPS) -> int:
    """Prints the report (the table, or JSON with ``--json``); returns the exit code."""
    print(as_json(checks, groups) if json_out else table(checks, title, groups))
    return exit_code(checks)
