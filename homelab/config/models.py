"""Typed stack configuration: the models every value the program uses goes through.

Parsing happens in three steps, all before any resource is registered:

1. pydantic parses shapes and types (IPs and CIDRs through :mod:`ipaddress`, the syntaxes of
   :mod:`homelab.config.syntax`), refuses unknown keys (typos, snake_case spellings), missing
   required keys and values of the wrong type (strict: ``"2"`` is not a number);
2. :mod:`homelab.config.rules` checks what only makes sense across keys of the stack (a pool block
   outside the VLAN, overlapping CIDRs, a gateway IP outside the pool, two apps on one host...);
3. :mod:`homelab.config.cross_stack` checks the stack against every other stack file of the project.

Any mistake ends in one :class:`ConfigError` whose lines each name the config key and the bad
value (never a secret, nor anything that looks like one), so ``pulumi preview`` stops with a
message the user can act on.

The config is split the way promotion needs it (see README "Promotion"):

* ``homelab:cluster``: what belongs to one cluster (networks, IPs, kube context, domain, owner
  ids, Cloudflare names). Never copied between stacks.
* ``homelab:release``: chart versions, image tags and the feature values meant to be identical on
  every cluster. Staging runs it first, ``homelab/promote/command.py`` copies it to main.
* ``homelab:apps``: the app routes of this cluster.
* ``homelab:promotion``: the staging gate of main.
* ``homelab:cloudflareApiToken`` (and ``homelab:cloudflareDnsApiToken``): secrets, always set
  with ``--secret``.

This module holds what every model shares (the config keys, :class:`ConfigError`, the
:class:`Model` base) and the models of ``homelab:release``, ``homelab:apps`` and
``homelab:promotion``; those of ``homelab:cluster`` are in :mod:`homelab.config.cluster`, and
:class:`~homelab.config.stack.StackConfig`, the four together, in :mod:`homelab.config.stack`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from homelab.config.syntax import CPU, ENVOY_DURATION, go_duration, memory_bytes
from homelab.errors import HomelabError

PROJECT = "homelab"

CLUSTER_KEY = "cluster"
RELEASE_KEY = "release"
APPS_KEY = "apps"
PROMOTION_KEY = "promotion"
API_TOKEN_KEY = "cloudflareApiToken"
#: The token of what runs in the cluster (cert-manager, external-dns): Zone DNS Edit and Zone
#: Read on the stack's zone only. The API token Pulumi uses can read every tunnel's token in the
#: account, so it never enters the cluster.
DNS_TOKEN_KEY = "cloudflareDnsApiToken"

#: Config keys whose values are secrets: never in a stack file in plain text.
SECRET_KEYS: tuple[str, ...] = (API_TOKEN_KEY, DNS_TOKEN_KEY)
#: Secrets the program cannot run without.
REQUIRED_SECRETS: tuple[str, ...] = (API_TOKEN_KEY, DNS_TOKEN_KEY)
#: The Cloudflare token each secret must be, as the dashboard names the permissions.
TOKEN_SCOPES = {
    API_TOKEN_KEY: "Account / Cloudflare Tunnel / Edit, Zone / DNS / Edit and Zone / Zone / Read",
    DNS_TOKEN_KEY: "Zone / DNS / Edit and Zone / Zone / Read, on the stack's zone only",
}


class ConfigError(HomelabError, ValueError):
    """Invalid stack config. Each line names the config key and the bad value; ``source`` names
    the stack file the config comes from (lines about other stack files name theirs)."""

    def __init__(self, problems: Iterable[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        where = f" ({source})" if source else ""
        super().__init__(f"invalid stack config{where}:\n  - " + "\n  - ".join(self.problems))


#: A sane ceiling for replica counts: a homelab cluster has a handful of nodes.
MAX_REPLICAS = 50

Port = Annotated[StrictInt, Field(ge=1, le=65535)]
Replicas = Annotated[StrictInt, Field(ge=1, le=MAX_REPLICAS)]


class Model(BaseModel):
    """Base of every config object: camelCase keys as in the stack file, no unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        # only the documented camelCase keys: `kube_context` is a typo, not an alias
        validate_by_name=False,
        validate_by_alias=True,
        extra="forbid",
        frozen=True,
    )


# ---------------------------------------------------------------------------------------------
# release settings: identical on both clusters once promoted


class Charts(Model):
    """One pinned version per ``version_key`` of the charts :mod:`homelab.config.catalog` declares."""

    cilium: str
    coredns: str
    envoy_gateway: str
    cert_manager: str
    external_dns: str


class Images(Model):
    cloudflared: str


class RateLimit(Model):
    qps: StrictInt = Field(ge=1, le=10000)
    burst: StrictInt = Field(ge=1, le=10000)

    @model_validator(mode="after")
    def _burst(self) -> RateLimit:
        if self.burst < self.qps:
            raise ValueError(f"burst {self.burst} is below qps {self.qps}; a token bucket's burst is at least its rate")
        return self


class L2Lease(Model):
    """Cilium holds one lease per announced service; these bound API-server load and failover time.

    Go durations. Cilium elects each service's announcer with client-go's leader election, which
    refuses a renew deadline not below the lease duration, or not above 1.2 x the retry period.
    """

    duration: str = "15s"
    renew_deadline: str = "5s"
    retry_period: str = "2s"

    @field_validator("duration", "renew_deadline", "retry_period")
    @classmethod
    def _duration(cls, value: str) -> str:
        seconds = go_duration(value)
        if seconds is None:
            raise ValueError(f"{value!r} is not a Go duration (e.g. 15s, 1m30s)")
        if seconds <= 0:
            raise ValueError(f"{value!r} is not a positive duration")
        return value

    @model_validator(mode="after")
    def _order(self) -> L2Lease:
        duration, renew, retry = (
            go_duration(v) or 0.0 for v in (self.duration, self.renew_deadline, self.retry_period)
        )
        if not renew < duration:
            raise ValueError(f"renewDeadline {self.renew_deadline!r} must be below duration {self.duration!r}")
        if not renew > retry * 1.2:
            raise ValueError(
                f"renewDeadline {self.renew_deadline!r} must be above 1.2 x retryPeriod {self.retry_period!r} "
                "(client-go leader election)"
            )
        return self


class CiliumTuning(Model):
    k8s_client_rate_limit: RateLimit = Field(default=RateLimit(qps=50, burst=100), alias="k8sClientRateLimit")
    l2_lease: L2Lease = L2Lease()


class Resources(Model):
    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    memory_limit: str = "1Gi"

    @field_validator("cpu_request")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not CPU.match(value) or value.strip("0.m") == "":
            raise ValueError(f"{value!r} is not a CPU quantity (e.g. 100m or 0.5)")
        return value

    @field_validator("memory_request", "memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not memory_bytes(value):
            raise ValueError(f"{value!r} is not a memory quantity (e.g. 128Mi or 1Gi)")
        return value

    @model_validator(mode="after")
    def _request_within_limit(self) -> Resources:
        if (memory_bytes(self.memory_request) or 0) > (memory_bytes(self.memory_limit) or 0):
            raise ValueError(
                f"memoryRequest {self.memory_request!r} is above memoryLimit {self.memory_limit!r}; "
                "the API server refuses such a pod"
            )
        return self


#: The longest drain the config takes (a decision, README "Config"): an hour.
DRAIN_MAX_SECONDS = 3600


class EnvoyProxy(Model):
    replicas: Replicas = 2
    resources: Resources = Resources()
    #: How long Envoy drains connections on shutdown (the EnvoyProxy CRD's duration syntax).
    drain_timeout: str = "180s"
    external_traffic_policy: Literal["Cluster", "Local"] = "Cluster"

    @field_validator("drain_timeout")
    @classmethod
    def _drain(cls, value: str) -> str:
        if not ENVOY_DURATION.match(value):
            raise ValueError(
                f"{value!r} is not a duration the EnvoyProxy CRD accepts (whole numbers of h, m, s or ms, e.g. 180s)"
            )
        if (go_duration(value) or 0.0) > DRAIN_MAX_SECONDS:
            raise ValueError(
                f"{value!r} is longer than 1h: every rollout of the Envoy pods and every node drain would wait "
                "that long for connections to close (the CRD accepts up to 4 x 99999h)"
            )
        return value


class Cloudflared(Model):
    replicas: Replicas = 2
    #: ``strict``: post-quantum key agreement only, no classical fallback (``TUNNEL_POST_QUANTUM``);
    #: ``prefer``: cloudflared's default, post-quantum when the edge offers it.
    post_quantum: Literal["strict", "prefer"] = "strict"
    resources: Resources = Resources.model_validate(
        {"cpuRequest": "10m", "memoryRequest": "64Mi", "memoryLimit": "256Mi"}
    )


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
    port: Port
    exposure: Exposure
    #: Who creates the app's namespace. Unset: this program, unless the namespace is the
    #: program's or the cluster's own (a route must never land in a namespace nobody creates);
    #: the namespace is retained when the app goes. ``false``: it exists already and something
    #: else owns it (``make preflight`` checks it does). ``true``: this program, said outright.
    create_namespace: StrictBool | None = None


class Promotion(Model):
    #: Refuse chart versions and image tags staging has not run. On by default; never read on
    #: the staging stack itself. Staging's file sets it off to say so.
    require_staging: StrictBool = True
    #: The stack main reads staging's release from.
    staging_stack: str = f"organization/{PROJECT}/staging"

    @property
    def staging_stack_name(self) -> str:
        """The stack the gate reads: the last part of ``stagingStack``."""
        return self.staging_stack.rsplit("/", 1)[-1]


# ---------------------------------------------------------------------------------------------
# entry points


def key(*parts: str | int) -> str:
    """The config key as the user writes it: ``homelab:cluster.loadBalancer.blocks[1]``."""
    out = f"{PROJECT}:{parts[0]}"
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
