"""Typed stack configuration.

Every value the program uses comes from the stack file through these models. Parsing happens in
two steps, both before any resource is registered:

1. pydantic parses shapes and types (IPs and CIDRs through :mod:`ipaddress`), refuses unknown
   keys (typos) and missing required keys;
2. :func:`semantic_problems` checks what only makes sense across keys (a pool block outside the
   VLAN, overlapping CIDRs, a gateway IP outside the pool, two apps on one hostname...).

Any mistake ends in one :class:`ConfigError` whose lines each name the config key and the bad
value, so ``pulumi preview`` stops with a message the user can act on.

The config is split the way promotion needs it (see README "Promotion"):

* ``homelab:cluster``: what belongs to one cluster (networks, IPs, kube context, domain, owner
  ids, Cloudflare names). Never copied between stacks.
* ``homelab:release``: chart versions, image tags and the feature values meant to be identical on
  both clusters. Staging runs it first, ``tools/promote.py`` copies it to main.
* ``homelab:apps``: the app routes of this cluster.
* ``homelab:promotion``: the staging gate of main.
* ``homelab:cloudflareApiToken``: the only secret, always set with ``--secret``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

PROJECT = "homelab"

CLUSTER_KEY = "cluster"
RELEASE_KEY = "release"
APPS_KEY = "apps"
PROMOTION_KEY = "promotion"
API_TOKEN_KEY = "cloudflareApiToken"
#: Optional narrower token for what runs in the cluster (cert-manager, external-dns): Zone DNS
#: Edit and Zone Read only. Without it those Secrets get the main token.
DNS_TOKEN_KEY = "cloudflareDnsApiToken"

#: Config keys whose values are secrets: never in a stack file in plain text.
SECRET_KEYS: tuple[str, ...] = (API_TOKEN_KEY, DNS_TOKEN_KEY)
#: Secrets the program cannot run without.
REQUIRED_SECRETS: tuple[str, ...] = (API_TOKEN_KEY,)


def _ipv4(value: Any) -> ipaddress.IPv4Address:
    if isinstance(value, ipaddress.IPv4Address):
        return value
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError as exc:
        raise ValueError(f"not an IPv4 address: {exc}") from None


def _ipv4_net(value: Any) -> ipaddress.IPv4Network:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    try:
        return ipaddress.IPv4Network(str(value))
    except ValueError as exc:  # ipaddress says why: "has host bits set", "invalid prefix"...
        raise ValueError(f"not an IPv4 CIDR: {exc}") from None


IPv4 = Annotated[ipaddress.IPv4Address, PlainValidator(_ipv4), PlainSerializer(str, return_type=str)]
IPv4Net = Annotated[ipaddress.IPv4Network, PlainValidator(_ipv4_net), PlainSerializer(str, return_type=str)]

_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DNS_NAME = re.compile(rf"^(?:{_DNS_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}(?<!-)$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@(?P<domain>[^@\s]+)$")
_CF_ID = re.compile(r"^[0-9a-f]{32}$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|k|M|G)?$")
_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")


class ConfigError(ValueError):
    """Invalid stack config. Each line names the config key and the bad value."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("invalid stack config:\n  - " + "\n  - ".join(self.problems))


def is_dns_name(value: str) -> bool:
    return bool(_DNS_NAME.match(value)) and len(value) <= 253


def is_one_below(host: str, domain: str) -> bool:
    """``app.<domain>``: what ``*.<domain>`` (certificate, tunnel ingress) covers."""
    label, dot, rest = host.partition(".")
    return bool(dot) and rest == domain and is_dns_name(host) and bool(label)


def is_k8s_name(value: str) -> bool:
    return bool(_K8S_NAME.match(value))


class Model(BaseModel):
    """Base of every config object: camelCase keys as in the stack file, no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


def _check(pattern: re.Pattern[str], what: str, value: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


# ---------------------------------------------------------------------------------------------
# per-cluster settings


class ApiServer(Model):
    """The Kubernetes API endpoint Cilium talks to once kube-proxy is gone."""

    host: str
    port: int = Field(default=6443, ge=1, le=65535)

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
    #: Interfaces (regexes) that answer ARP for LB IPs; empty means every interface.
    l2_interfaces: list[str] = Field(default_factory=list)

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
        match = _EMAIL.match(email)
        if not match or not is_dns_name(match["domain"].lower()):
            raise ValueError(f"{email!r} is not an email address")
        return email


class ExternalDns(Model):
    owner_id: str = Field(min_length=1)


class Cloudflare(Model):
    account_id: str
    #: The Cloudflare zone the records live in; the cluster domain is this name or below it.
    zone: str
    #: Zone id; when empty the zone is looked up by name.
    zone_id: str | None = None
    tunnel_name: str | None = None
    #: The tunnel's CNAME; defaults to ``external.<domain>``.
    tunnel_hostname: str | None = None

    @field_validator("account_id", "zone_id")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        if value is not None:
            _check(_CF_ID, "a Cloudflare id (32 hex digits)", value)
        return value


class Cluster(Model):
    """Everything that belongs to one cluster and is never promoted."""

    name: str
    kube_context: str = Field(min_length=1)
    domain: str
    network: Network
    load_balancer: LoadBalancer
    gateways: Gateways
    dns: Dns
    certificates: Certificates
    external_dns: ExternalDns
    cloudflare: Cloudflare

    @property
    def tunnel_hostname(self) -> str:
        return self.cloudflare.tunnel_hostname or f"external.{self.domain}"

    @property
    def tunnel_name(self) -> str:
        return self.cloudflare.tunnel_name or f"{PROJECT}-{self.name}"


# ---------------------------------------------------------------------------------------------
# release settings: identical on both clusters once promoted


class Charts(Model):
    cilium: str
    coredns: str
    envoy_gateway: str
    cert_manager: str
    external_dns: str


class Images(Model):
    cloudflared: str


class RateLimit(Model):
    qps: int = Field(ge=1)
    burst: int = Field(ge=1)


class L2Lease(Model):
    """Cilium holds one lease per announced service; these bound API-server load and failover time."""

    duration: str = "15s"
    renew_deadline: str = "5s"
    retry_period: str = "2s"


class CiliumTuning(Model):
    k8s_client_rate_limit: RateLimit = Field(default=RateLimit(qps=50, burst=100), alias="k8sClientRateLimit")
    l2_lease: L2Lease = L2Lease()


class Resources(Model):
    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    memory_limit: str = "1Gi"


class EnvoyProxy(Model):
    replicas: int = Field(default=2, ge=1)
    resources: Resources = Resources()
    #: Seconds Envoy drains connections on shutdown before the pod ends.
    drain_timeout: str = "180s"
    external_traffic_policy: Literal["Cluster", "Local"] = "Cluster"


class Cloudflared(Model):
    replicas: int = Field(default=2, ge=1)
    resources: Resources = Resources(cpu_request="10m", memory_request="64Mi", memory_limit="256Mi")


class Release(Model):
    """What staging runs first and promotion copies to main."""

    charts: Charts
    images: Images
    cilium: CiliumTuning = CiliumTuning()
    envoy: EnvoyProxy = EnvoyProxy()
    cloudflared: Cloudflared = Cloudflared()


class Exposure(StrEnum):
    external = "external"
    internal = "internal"
    dual = "dual"


class App(Model):
    """One app behind the gateways: the seed's exposure patterns 1-3."""

    name: str
    namespace: str
    hostnames: Annotated[list[str], Field(min_length=1)]
    service: str
    port: int = Field(ge=1, le=65535)
    exposure: Exposure
    #: Create the app's namespace here (when nothing else does, e.g. before the app exists).
    create_namespace: bool = False


class Promotion(Model):
    #: Refuse chart versions and image tags staging has not run. On by default; never read on
    #: the staging stack itself. Staging's file sets it off to say so.
    require_staging: bool = True
    #: The stack main reads staging's release from.
    staging_stack: str = f"organization/{PROJECT}/staging"


class StackConfig(Model):
    cluster: Cluster
    release: Release
    apps: list[App] = Field(default_factory=list)
    promotion: Promotion = Promotion()


# ---------------------------------------------------------------------------------------------
# semantic checks


def _key(*parts: str | int) -> str:
    out = f"{PROJECT}:{parts[0]}"
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _version_problems(release: Release) -> Iterator[str]:
    for section, model in (("charts", release.charts), ("images", release.images)):
        for field, value in model:
            if not _VERSION.match(value):
                yield f"{_key(RELEASE_KEY, section, to_camel(field))}: {value!r} is not a pinned version (x.y.z)"
    for field in ("duration", "renew_deadline", "retry_period"):
        value = getattr(release.cilium.l2_lease, field)
        if not _DURATION.match(value):
            yield f"{_key(RELEASE_KEY, 'cilium', 'l2Lease', to_camel(field))}: {value!r} is not a duration"
    if not _DURATION.match(release.envoy.drain_timeout):
        yield f"{_key(RELEASE_KEY, 'envoy', 'drainTimeout')}: {release.envoy.drain_timeout!r} is not a duration"
    for section, res in (("envoy", release.envoy.resources), ("cloudflared", release.cloudflared.resources)):
        for field, value in res:
            if not _QUANTITY.match(value):
                yield f"{_key(RELEASE_KEY, section, 'resources', to_camel(field))}: {value!r} is not a quantity"


def _network_problems(c: Cluster) -> Iterator[str]:
    net = c.network
    named = {
        "vlan": net.vlan,
        "podCidr": net.pod_cidr,
        "serviceCidr": net.service_cidr,
    }
    items = list(named.items())
    for i, (a_key, a) in enumerate(items):
        for b_key, b in items[i + 1 :]:
            if a.overlaps(b):
                yield (
                    f"{_key(CLUSTER_KEY, 'network', b_key)}: {str(b)!r} overlaps "
                    f"{_key(CLUSTER_KEY, 'network', a_key)} {str(a)!r}"
                )
    for i, block in enumerate(c.load_balancer.blocks):
        key = _key(CLUSTER_KEY, "loadBalancer", "blocks", i)
        if block.cidr is None and block.first > block.last:
            yield f"{key}: start {str(block.start)!r} is after stop {str(block.stop)!r}"
            continue
        value = block.spec()
        if not (block.first in net.vlan and block.last in net.vlan):
            yield f"{key}: {value!r} is outside {_key(CLUSTER_KEY, 'network', 'vlan')} {str(net.vlan)!r}"
        for j, other in enumerate(c.load_balancer.blocks[:i]):
            if other.cidr is None and other.first > other.last:
                continue
            if any(a.overlaps(b) for a in block.networks() for b in other.networks()):
                yield f"{key}: {value!r} overlaps {_key(CLUSTER_KEY, 'loadBalancer', 'blocks', j)} {other.spec()!r}"
    seen: dict[ipaddress.IPv4Address, str] = {}
    for which in ("internal", "external"):
        ip = getattr(c.gateways, which)
        key = _key(CLUSTER_KEY, "gateways", which)
        if ip not in c.load_balancer:
            yield f"{key}: {str(ip)!r} is outside the LB pool {_key(CLUSTER_KEY, 'loadBalancer', 'blocks')}"
        if ip in seen:
            yield f"{key}: {str(ip)!r} is already the IP of {seen[ip]}"
        seen[ip] = key
    if c.dns.coredns_ip not in net.service_cidr:
        yield (
            f"{_key(CLUSTER_KEY, 'dns', 'corednsIp')}: {str(c.dns.coredns_ip)!r} is outside "
            f"{_key(CLUSTER_KEY, 'network', 'serviceCidr')} {str(net.service_cidr)!r}"
        )
    try:
        api_ip = ipaddress.ip_address(net.api_server.host)
    except ValueError:
        api_ip = None
    if api_ip is not None and api_ip in c.load_balancer:
        yield (
            f"{_key(CLUSTER_KEY, 'network', 'apiServer', 'host')}: {net.api_server.host!r} is inside the LB pool; "
            "Cilium would hand it to a Service"
        )


def _name_problems(c: Cluster) -> Iterator[str]:
    if not is_k8s_name(c.name):
        yield f"{_key(CLUSTER_KEY, 'name')}: {c.name!r} is not a DNS label (a-z, 0-9, -)"
    if not is_dns_name(c.domain):
        yield f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is not a DNS name"
    zone = c.cloudflare.zone
    if not is_dns_name(zone):
        yield f"{_key(CLUSTER_KEY, 'cloudflare', 'zone')}: {zone!r} is not a DNS name"
    elif is_dns_name(c.domain) and not (c.domain == zone or c.domain.endswith("." + zone)):
        zone_key = _key(CLUSTER_KEY, "cloudflare", "zone")
        yield f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is not in {zone_key} {zone!r}"
    host = c.tunnel_hostname
    if is_dns_name(c.domain) and not is_one_below(host, c.domain):
        yield (
            f"{_key(CLUSTER_KEY, 'cloudflare', 'tunnelHostname')}: {host!r} is not one label below the domain "
            f"{c.domain!r}; the wildcard certificate cloudflared verifies the origin against would not cover it"
        )
    if c.cloudflare.tunnel_name is not None and not c.cloudflare.tunnel_name.strip():
        yield f"{_key(CLUSTER_KEY, 'cloudflare', 'tunnelName')}: {c.cloudflare.tunnel_name!r} is empty"


def _app_problems(apps: list[App], cluster: Cluster) -> Iterator[str]:
    domain = cluster.domain
    reserved = {cluster.tunnel_hostname: "the tunnel's hostname", f"internal.{domain}": "envoy-internal's DNS target"}
    claimed: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}
    for i, app in enumerate(apps):
        for field, value in (("name", app.name), ("namespace", app.namespace), ("service", app.service)):
            if not is_k8s_name(value):
                yield f"{_key(APPS_KEY, i, field)}: {value!r} is not a Kubernetes name"
        ident = (app.namespace, app.name)
        if ident in names:
            yield f"{_key(APPS_KEY, i, 'name')}: {app.namespace}/{app.name} is already defined by {names[ident]}"
        names[ident] = _key(APPS_KEY, i)
        for j, host in enumerate(app.hostnames):
            key = _key(APPS_KEY, i, "hostnames", j)
            if not is_one_below(host, domain):
                yield (
                    f"{key}: {host!r} is not a name under the domain {domain!r} "
                    f"(one label below it, as the wildcard certificate *.{domain} covers)"
                )
            elif host in reserved:
                yield f"{key}: {host!r} is {reserved[host]}; an app route there would overwrite its record"
            elif host in claimed:
                yield f"{key}: {host!r} is already claimed by {claimed[host]}"
            claimed.setdefault(host, key)


def semantic_problems(cfg: StackConfig) -> list[str]:
    return [
        *_name_problems(cfg.cluster),
        *_network_problems(cfg.cluster),
        *_version_problems(cfg.release),
        *_app_problems(cfg.apps, cfg.cluster),
    ]


# ---------------------------------------------------------------------------------------------
# entry points


_TOP_KEYS = {CLUSTER_KEY: "cluster", RELEASE_KEY: "release", APPS_KEY: "apps", PROMOTION_KEY: "promotion"}


def _format_error(err: Mapping[str, Any]) -> str:
    loc = list(err["loc"])
    # pydantic puts the failing union branch or validator name into loc; keep only real keys
    loc = [part for part in loc if not (isinstance(part, str) and ("[" in part or part.startswith("function-")))]
    key = _key(*loc) if loc else PROJECT
    kind = err["type"]
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "extra_forbidden":
        # the value is not echoed: a secret pasted under a wrong key must not reach a log
        return f"{key}: unknown key (typo?)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, (dict, list)):
        return f"{key}: {msg}"
    return f"{key}: {msg} (got {value!r})"


def _token_problems(raw: Mapping[str, Any], secret_keys: Iterable[str]) -> Iterator[str]:
    secret = set(secret_keys)
    for name in SECRET_KEYS:
        key = f"{PROJECT}:{name}"
        how = f"set it with `pulumi config set --secret {key} <token>`"
        value = raw.get(name)
        if value is None or not str(value).strip():
            if name in REQUIRED_SECRETS:
                yield f"{key}: required secret is missing; {how}"
        elif key not in secret:
            # never echo the value: it is the secret
            yield f"{key}: is set in plain text in the stack config; remove it and {how}"


def parse(raw: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> StackConfig:
    """Parse the stack's ``homelab:*`` values (keys without the ``homelab:`` prefix).

    ``secret_keys`` are the full config keys Pulumi marks secret. Raises :class:`ConfigError`
    listing every mistake; the API token's value never appears in it.
    """
    problems = [f"{PROJECT}:{k}: unknown config key" for k in sorted(set(raw) - set(_TOP_KEYS) - set(SECRET_KEYS))]
    problems += _token_problems(raw, secret_keys)
    try:
        cfg = StackConfig.model_validate({k: v for k, v in raw.items() if k in _TOP_KEYS})
    except ValidationError as exc:
        raise ConfigError([*problems, *(_format_error(e) for e in exc.errors())]) from None
    problems += semantic_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


class Settings(NamedTuple):
    config: StackConfig
    #: Secret Output: the Cloudflare API token, never plain.
    cloudflare_api_token: pulumi.Output[str]
    #: Secret Output: the token the cluster's Secrets get (the DNS-only one when set).
    cluster_dns_token: pulumi.Output[str]


def load() -> Settings:
    """Read and validate the running stack's config before any resource is registered."""
    from pulumi.runtime import config as runtime_config

    prefix = f"{PROJECT}:"
    present = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw: dict[str, Any] = {}
    secret_keys = [k for k in present if runtime_config.is_config_secret(k)]
    for full_key in present:
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        value = runtime_config.get_config(full_key)
        if key not in SECRET_KEYS and isinstance(value, str):
            # a plain string where an object belongs stays a string: pydantic names the key
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        raw[key] = value
    cfg = parse(raw, secret_keys)
    for warning in placeholder_warnings(cfg):
        pulumi.log.warn(warning)
    api_token = pulumi.Output.secret(str(raw[API_TOKEN_KEY]))
    dns_token = pulumi.Output.secret(str(raw[DNS_TOKEN_KEY])) if raw.get(DNS_TOKEN_KEY) else api_token
    return Settings(cfg, api_token, dns_token)


#: Domains reserved for documentation (RFC 2606/6761): fine for the offline plan, refused by
#: Let's Encrypt and owned by nobody, so a real `pulumi up` with them cannot work.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "test", "invalid", "localhost", "example")


def _reserved(name: str) -> bool:
    return any(name == d or name.endswith("." + d) for d in RESERVED_DOMAINS)


def placeholder_warnings(cfg: StackConfig) -> list[str]:
    """Values still set to the checked-in placeholders."""
    c = cfg.cluster
    out = []
    if _reserved(c.domain):
        out.append(f"{_key(CLUSTER_KEY, 'domain')}: {c.domain!r} is a placeholder; set your own domain and zone")
    email_domain = c.certificates.email.rpartition("@")[2].lower()
    if _reserved(email_domain):
        out.append(
            f"{_key(CLUSTER_KEY, 'certificates', 'email')}: {c.certificates.email!r} is a placeholder; "
            "Let's Encrypt refuses addresses at reserved domains, so no certificate would be issued"
        )
    if c.cloudflare.account_id == "0123456789abcdef0123456789abcdef":
        out.append(
            f"{_key(CLUSTER_KEY, 'cloudflare', 'accountId')}: is the placeholder; set your Cloudflare account id"
        )
    return out


def release_settings(cfg: StackConfig) -> dict[str, Any]:
    """The release section as the stack file spells it (camelCase), for exports and diffs."""
    return cfg.release.model_dump(mode="json", by_alias=True)
