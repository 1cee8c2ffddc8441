"""The models of ``homelab:cluster``: everything that belongs to one cluster (networks, IPs, kube
context, domain, owner ids, Cloudflare names) and is never copied between stacks. What the
models share (the :class:`~homelab.config.models.Model` base, the keys) is in
:mod:`homelab.config.models`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator, model_validator

from homelab.config.models import PROJECT, Model, Port
from homelab.config.syntax import CF_ID, EMAIL, IPv4, IPv4Net, interface_regex, is_dns_name

#: Kubernetes minor versions the rendered objects can be validated for (kubernetes-validate 1.37).
KUBERNETES_MINORS = (25, 37)
KUBERNETES_VERSION = re.compile(r"^1\.(?P<minor>[1-9][0-9]*)\Z")


def _check(pattern: re.Pattern[str], what: str, value: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


class ApiServer(Model):
    """The Kubernetes API endpoint Cilium talks to once kube-proxy is gone."""

    host: str
    port: Port = 6443

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not is_dns_name(host):
                raise ValueError(f"{host!r} is neither an IP address nor a DNS name") from None
        return host


class Network(Model):
    vlan: IPv4Net
    pod_cidr: IPv4Net
    service_cidr: IPv4Net
    api_server: ApiServer


class PoolBlock(Model):
    """One block of the LB-IPAM pool: a CIDR or a start/stop range, as in CiliumLoadBalancerIPPool."""

    cidr: IPv4Net | None = None
    start: IPv4 | None = None
    stop: IPv4 | None = None

    @model_validator(mode="after")
    def _one_form(self) -> PoolBlock:
        if self.cidr is not None and (self.start is not None or self.stop is not None):
            raise ValueError("a block is either `cidr` or `start`/`stop`, not both")
        if self.cidr is None and (self.start is None or self.stop is None):
            raise ValueError("a block needs `cidr`, or both `start` and `stop`")
        return self

    @property
    def first(self) -> ipaddress.IPv4Address:
        return self.cidr.network_address if self.cidr is not None else self.start  # type: ignore[return-value]

    @property
    def last(self) -> ipaddress.IPv4Address:
        return self.cidr.broadcast_address if self.cidr is not None else self.stop  # type: ignore[return-value]

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, ipaddress.IPv4Address) and self.first <= ip <= self.last

    def networks(self) -> Iterator[ipaddress.IPv4Network]:
        """The block as CIDRs, for overlap checks."""
        if self.cidr is not None:
            yield self.cidr
        else:
            yield from ipaddress.summarize_address_range(self.first, self.last)

    def spec(self) -> dict[str, str]:
        """The block as the CRD spells it."""
        if self.cidr is not None:
            return {"cidr": str(self.cidr)}
        return {"start": str(self.start), "stop": str(self.stop)}


class LoadBalancer(Model):
    blocks: Annotated[list[PoolBlock], Field(min_length=1)]
    #: Interfaces (regexes, Go syntax) that answer ARP for LB IPs; empty means every interface.
    l2_interfaces: list[Annotated[str, AfterValidator(interface_regex)]] = Field(default_factory=list)

    def __contains__(self, ip: object) -> bool:
        return any(ip in block for block in self.blocks)


class Gateways(Model):
    internal: IPv4
    external: IPv4


class Dns(Model):
    coredns_ip: IPv4


class Certificates(Model):
    email: str
    issuer: Literal["letsencrypt-prod", "letsencrypt-staging"] = "letsencrypt-prod"

    @field_validator("email")
    @classmethod
    def _email(cls, email: str) -> str:
        match = EMAIL.match(email)
        if not match or not is_dns_name(match["domain"].lower()):
            raise ValueError(f"{email!r} is not an email address")
        return email


#: external-dns writes ``heritage=external-dns,external-dns/owner=<id>,...`` into TXT records and
#: reads it back splitting on ``,`` and ``=`` (endpoint/labels.go): an id with either, a quote or a
#: space never matches again, and the records are orphaned. 63 keeps the TXT string (255 bytes)
#: clear of the resource part after it.
OWNER_ID = re.compile(r"^[A-Za-z0-9._-]{1,63}\Z")
#: Kubeconfig allows any text; a context name no tool writes (control characters, blank, longer
#: than a DNS name) is a paste gone wrong.
CONTEXT_MAX = 253
#: Cloudflare tunnel names: printable text, no control characters; the length is Cloudflare's to
#: refuse (its limit is not documented), capped here where no chosen name reaches.
TUNNEL_NAME_MAX = 255


def _printable(value: str, most: int) -> str:
    """Text a person chose: not blank, no control characters, at most ``most`` characters."""
    if not value.strip():
        raise ValueError(f"{value!r} is blank")
    if any(not c.isprintable() for c in value):
        raise ValueError(f"{value!r} holds a control character")
    if len(value) > most:
        raise ValueError(f"is {len(value)} characters long; at most {most}")
    if value != value.strip():
        raise ValueError(f"{value!r} starts or ends with a space")
    return value


class ExternalDns(Model):
    owner_id: str

    @field_validator("owner_id")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not OWNER_ID.match(value):
            raise ValueError(
                f"{value!r} is not an owner id external-dns can read back from its TXT records (1 to 63 letters, "
                "digits, '.', '_' or '-'; no ',', '=', quote or space)"
            )
        return value


class Cloudflare(Model):
    account_id: str
    #: The Cloudflare zone the records live in; the cluster domain is this name or below it.
    zone: str
    #: Zone id; when empty the zone is looked up by name.
    zone_id: str | None = None
    tunnel_name: str | None = None
    #: The tunnel's CNAME; defaults to ``external.<domain>``.
    tunnel_hostname: str | None = None
    #: The zone has edge certificates for names more than one label below it (Advanced
    #: Certificate Manager or Total TLS): required when ``domain`` is below a zone (this stack's
    #: or another's), since Universal SSL covers only ``<zone>`` and ``*.<zone>``.
    advanced_certificates: StrictBool = False

    @field_validator("account_id", "zone_id")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        if value is not None:
            _check(CF_ID, "a Cloudflare id (32 hex digits)", value)
        return value

    @field_validator("tunnel_name")
    @classmethod
    def _tunnel_name(cls, value: str | None) -> str | None:
        return None if value is None else _printable(value, TUNNEL_NAME_MAX)


class Cluster(Model):
    """Everything that belongs to one cluster and is never promoted."""

    name: str
    #: Cilium's ``cluster.id``: unique across the homelab (Cluster Mesh needs it), never 0.
    cluster_id: StrictInt = Field(ge=1, le=255)
    #: The cluster's Kubernetes minor version (``"1.35"``): what the charts render for and what
    #: the rendered objects are validated against.
    kubernetes_version: str
    kube_context: str
    domain: str
    network: Network
    load_balancer: LoadBalancer
    gateways: Gateways
    dns: Dns
    certificates: Certificates
    external_dns: ExternalDns
    cloudflare: Cloudflare

    @field_validator("kube_context")
    @classmethod
    def _context(cls, value: str) -> str:
        return _printable(value, CONTEXT_MAX)

    @field_validator("kubernetes_version")
    @classmethod
    def _kubernetes_version(cls, value: str) -> str:
        match = KUBERNETES_VERSION.match(value)
        if match is None or not KUBERNETES_MINORS[0] <= int(match["minor"]) <= KUBERNETES_MINORS[1]:
            lo, hi = KUBERNETES_MINORS
            raise ValueError(
                f'{value!r} is not a Kubernetes version 1.{lo} to 1.{hi} as major.minor (quote it: "1.35")'
            )
        return value

    @property
    def tunnel_hostname(self) -> str:
        return self.cloudflare.tunnel_hostname or f"external.{self.domain}"

    @property
    def tunnel_name(self) -> str:
        return self.cloudflare.tunnel_name or f"{PROJECT}-{self.name}"
