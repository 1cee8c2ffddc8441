"""The homelab as a whole: every stack file beside ``Pulumi.yaml``, checked together.

One stack per cluster, any number of clusters. Each run of the program reads every
``Pulumi.<stack>.yaml`` in the project (plain values only: another stack's ``secure:`` values are
never read or decrypted), parses each with the same models as its own config, and refuses, before
any resource is registered, when the clusters would step on each other (DESIGN.md, "The homelab
as a whole" and "Seed points resolved"):

* no two VLANs or pod CIDRs overlap, in any combination (pools and gateway IPs lie inside their
  VLAN, so disjoint VLANs keep them apart too); service CIDRs may repeat, they never leave a
  cluster;
* cluster names (= stack names), kubeconfig contexts, external-dns owner ids, tunnel names,
  tunnel hostnames and domains are unique;
* a domain below another stack's zone needs ``cloudflare.advancedCertificates: true``, and then
  the other stack's external-dns leaves it alone (``excludeDomains``);
* main's staging gate names a stack of this project.

An invalid stack file stops every stack's run: the homelab is one thing, and the message names
the file. This holds under ``pulumi preview/up`` (the project root is where ``Pulumi.yaml`` is)
as under the offline plan.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, ip_address
from pathlib import Path
from typing import Any

from homelab.config import models as config
from homelab.config import policy
from homelab.config import rules as checks
from homelab.config.cluster import Cluster
from homelab.config.models import ConfigError
from homelab.config.project import stack_config
from homelab.config.reader import StackFileError, is_secure, stack_file, stack_files
from homelab.config.stack import StackConfig
from homelab.config.syntax import is_below

PREFIX = f"{config.PROJECT}:"


@dataclass(frozen=True)
class Member:
    """One cluster of the homelab: its stack, the file it comes from, its parsed config and its
    plain values (to keep anything that looks like a credential out of messages)."""

    stack: str
    file: str
    config: StackConfig
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cluster(self) -> Cluster:
        return self.config.cluster


def homelab_values(file_config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A stack file's ``homelab:*`` values without the prefix, and every key (of any namespace)
    that is encrypted. Encrypted values are never decrypted: only plain values are compared."""
    raw: dict[str, Any] = {}
    secret = [key for key, value in file_config.items() if is_secure(value)]
    for key, value in file_config.items():
        if key.startswith(PREFIX):
            raw[key.removeprefix(PREFIX)] = "[encrypted]" if is_secure(value) else value
    return raw, secret


def read_member(stack: str, path: Path) -> Member:
    """Parse another stack's file as that stack's run would (its secrets not required)."""
    file_config = stack_config(path)
    raw, secret = homelab_values(file_config)
    problems = policy.plain_secret_problems(file_config, secret)
    try:
        parsed = policy.parse(raw, secret, stack=stack, require_secrets=False)
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.problems], source=path.name) from None
    if problems:
        raise ConfigError(problems, source=path.name)
    return Member(stack, path.name, parsed, raw)


# ---------------------------------------------------------------------------------------------
# cross-stack rules


def _key(*parts: str) -> str:
    return config.key(config.CLUSTER_KEY, *parts)


def _in(member: Member, key: str, value: object) -> str:
    return f"{key}: {str(value)!r} in {member.file}"


def _networks(c: Cluster) -> dict[str, IPv4Network]:
    return {"vlan": c.network.vlan, "podCidr": c.network.pod_cidr}


def _api_server_problems(a: Member, b: Member) -> Iterator[str]:
    """Cilium's kube-proxy replacement talks to ``apiServer.host``: an address in another
    cluster's networks (a copied stack file) points one cluster's datapath at the other."""
    host = a.cluster.network.api_server.host
    try:
        ip = ip_address(host)
    except ValueError:
        return
    for name, net in _networks(b.cluster).items():
        if ip in net:
            yield (
                f"{_in(a, _key('network', 'apiServer', 'host'), host)} is inside {b.stack}'s "
                f"{_key('network', name)} {str(net)!r} ({b.file}): it would talk to the other cluster's API server"
            )


def _overlap_problems(a: Member, b: Member) -> Iterator[str]:
    for a_name, a_net in _networks(a.cluster).items():
        for b_name, b_net in _networks(b.cluster).items():
            if a_net.overlaps(b_net):
                yield (
                    f"{_in(b, _key('network', b_name), b_net)} overlaps {a.stack}'s "
                    f"{_key('network', a_name)} {str(a_net)!r} ({a.file}); clusters never share addresses"
                )


#: Values no two clusters may share: (config key, how to read it).
UNIQUE: tuple[tuple[str, Callable[[Cluster], str]], ...] = (
    (_key("kubeContext"), lambda c: c.kube_context),
    (_key("clusterId"), lambda c: str(c.cluster_id)),
    (_key("externalDns", "ownerId"), lambda c: c.external_dns.owner_id),
    (_key("cloudflare", "tunnelName"), lambda c: c.tunnel_name),
    (_key("cloudflare", "tunnelHostname"), lambda c: c.tunnel_hostname),
    (_key("domain"), lambda c: c.domain),
)


def _unique_problems(a: Member, b: Member) -> Iterator[str]:
    for key, read in UNIQUE:
        if read(a.cluster) == read(b.cluster):
            yield f"{_in(b, key, read(b.cluster))} is already {a.stack}'s ({a.file})"


def _zone_problems(child: Member, parent: Member) -> Iterator[str]:
    zone = parent.cluster.cloudflare.zone
    if zone == child.cluster.cloudflare.zone:
        return  # below its own zone: the stack's own check says so
    if is_below(child.cluster.domain, zone) and not child.cluster.cloudflare.advanced_certificates:
        yield (
            f"{_in(child, _key('domain'), child.cluster.domain)} is below {parent.stack}'s "
            f"{_key('cloudflare', 'zone')} {zone!r} ({parent.file}): {checks.ACM_REASON.format(zone=zone)}"
        )


def _gate_problems(member: Member, stacks: Sequence[str]) -> Iterator[str]:
    promotion = member.config.promotion
    if not promotion.require_staging:
        return
    key = config.key(config.PROMOTION_KEY, "stagingStack")
    parts = promotion.staging_stack.split("/")
    if len(parts) != 3 or parts[1] != config.PROJECT or not all(parts):
        yield (
            f"{_in(member, key, promotion.staging_stack)} is not `<organization>/{config.PROJECT}/<stack>`, "
            "a stack of this project"
        )
    elif parts[2] == member.stack:
        yield (
            f"{_in(member, key, promotion.staging_stack)} is this stack itself: the gate would compare the stack "
            "with itself and always pass; name the stack that runs releases first, or set requireStaging: false"
        )
    elif parts[2] not in stacks:
        yield (
            f"{_in(member, key, promotion.staging_stack)} names no stack of this project "
            f"(no Pulumi.{parts[2]}.yaml beside Pulumi.yaml)"
        )


def _gate_cycles(members: Sequence[Member]) -> Iterator[str]:
    """Gates that read each other in a ring: no stack of the ring could ever be deployed first."""
    reads: dict[str, str] = {}
    for m in members:
        promotion = m.config.promotion
        other = promotion.staging_stack_name
        if promotion.require_staging and other != m.stack:
            reads[m.stack] = other
    reported: set[frozenset[str]] = set()
    for start in sorted(reads):
        chain, node = [start], reads[start]
        while node in reads and node not in chain:
            chain.append(node)
            node = reads[node]
        if node in chain:
            ring = chain[chain.index(node) :]
            if frozenset(ring) not in reported:
                reported.add(frozenset(ring))
                path = " -> ".join([*ring, ring[0]])
                files = ", ".join(f"Pulumi.{s}.yaml" for s in ring)
                yield (
                    f"{config.key(config.PROMOTION_KEY, 'stagingStack')}: the gates read each other in a ring ({path}; "
                    f"{files}): set requireStaging: false on the stack that runs releases first"
                )


def homelab_problems(members: Sequence[Member]) -> list[str]:
    """Every broken cross-stack rule, each naming both files, both keys and both values.

    Stacks are compared in name order; the later one is named as the one that collides.
    """
    ordered = sorted(members, key=lambda m: m.stack)
    stacks = [m.stack for m in ordered]
    problems: list[str] = list(_gate_cycles(ordered))
    for i, b in enumerate(ordered):
        problems += _gate_problems(b, stacks)
        for a in ordered[:i]:
            problems += _overlap_problems(a, b)
            problems += _unique_problems(a, b)
        for a in ordered:
            if a is not b:
                problems += _zone_problems(b, a)
                problems += _api_server_problems(b, a)
    return problems


def excluded_domains(member: Member, members: Sequence[Member]) -> list[str]:
    """Other clusters' domains below this one's: its external-dns (domain filter = its domain,
    which matches every name below it) must leave their records alone."""
    return sorted(
        m.cluster.domain
        for m in members
        if m.stack != member.stack and is_below(m.cluster.domain, member.cluster.domain)
    )


def project_members(root: Path, current: Member | None = None) -> list[Member]:
    """Every stack of the project in ``root``; ``current`` (the running stack, parsed from the
    config the CLI handed the program) takes the place of its own file. Raises ConfigError."""
    members = [] if current is None else [current]
    problems: list[str] = []
    for stack, path in stack_files(root).items():
        if current is not None and stack == current.stack:
            continue
        try:
            members.append(read_member(stack, path))
        except StackFileError as exc:
            problems.append(str(exc))
        except ConfigError as exc:
            problems += [f"{exc.source}: {p}" for p in exc.problems]
    if problems:
        raise ConfigError(
            [*problems, "every stack file of the homelab must be valid: each run checks them all together"],
            source=current.file if current else None,
        )
    return members


def decoded(values: Mapping[str, Any]) -> dict[str, Any]:
    """Config as the CLI hands it over (strings) with the ``homelab:`` objects decoded."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith(PREFIX) and key.removeprefix(PREFIX) not in config.SECRET_KEYS and isinstance(value, str):
            # a plain string where an object belongs stays a string: pydantic names the key
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        out[key] = value
    return out


def check(
    stack: str, file_config: Mapping[str, Any], secret_keys: Sequence[str], root: Path, source: str | None = None
) -> tuple[Member, list[Member]]:
    """Validate ``stack``'s config (as the CLI hands it over: full keys, decoded values) and the
    whole homelab around it. Raises :class:`ConfigError` naming keys, values and files;
    ``source`` names the file the config was read from (default ``Pulumi.<stack>.yaml``)."""
    source = source or stack_file(root, stack).name
    raw = {k.removeprefix(PREFIX): v for k, v in file_config.items() if k.startswith(PREFIX)}
    problems = policy.plain_secret_problems(file_config, secret_keys)
    try:
        parsed = policy.parse(raw, secret_keys, stack=stack)
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.problems], source=source) from None
    if problems:
        raise ConfigError(problems, source=source)
    member = Member(stack, source, parsed, raw)
    members = project_members(root, member)
    cross = homelab_problems(members)
    if cross:
        # a token pasted into the same plain key of two stacks must not be printed either
        raise ConfigError(policy.redact(cross, {m.stack: m.raw for m in members}), source=source)
    return member, members
