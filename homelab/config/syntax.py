"""Value syntaxes of the config: IPs and CIDRs, DNS and Kubernetes names, Go and Envoy
durations, Kubernetes quantities, RE2 regexes, and what a credential looks like.

Pure functions and patterns, each with the upstream rule it follows, so the config models
(:mod:`homelab.config.models`) and the checks (:mod:`homelab.config.rules`) say the same thing.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

import re2  # google-re2
from pydantic import PlainSerializer, PlainValidator


def _ipv4(value: Any) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError as exc:
        raise ValueError(f"not an IPv4 address: {exc}") from None


def _ipv4_net(value: Any) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value))
    except ValueError as exc:  # ipaddress says why: "has host bits set", "invalid prefix"...
        raise ValueError(f"not an IPv4 CIDR: {exc}") from None


IPv4 = Annotated[ipaddress.IPv4Address, PlainValidator(_ipv4), PlainSerializer(str, return_type=str)]
IPv4Net = Annotated[ipaddress.IPv4Network, PlainValidator(_ipv4_net), PlainSerializer(str, return_type=str)]

_DNS_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DNS_NAME = re.compile(rf"^(?:{_DNS_LABEL}\.)+[a-z][a-z0-9-]{{0,62}}(?<!-)\Z")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@(?P<domain>[^@\s]+)\Z")
CF_ID = re.compile(r"^[0-9a-f]{32}\Z")
#: What the EnvoyProxy CRD accepts for ``shutdown.drainTimeout`` (gateway.envoyproxy.io v1.9.0).
ENVOY_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}\Z")
#: Go's time.ParseDuration, what Cilium reads its lease flags with (no sign: a lease is positive).
_GO_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
#: The longest Go duration: int64 nanoseconds (about 292 years, 2562047h47m16.854775807s).
GO_DURATION_MAX = (2**63 - 1) / 1e9
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
#: CPU: millicores or cores with at most three decimals, as Kubernetes stores them.
CPU = re.compile(r"^(?:[0-9]+m|[0-9]+(?:\.[0-9]{1,3})?)\Z")
#: Memory: bytes with a binary or decimal suffix (``100m`` would be a tenth of a byte).
_MEMORY = re.compile(r"^(?P<n>[0-9]+)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?\Z")
_MEMORY_UNITS = {
    None: 1,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}
VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?\Z")


def is_dns_name(value: str) -> bool:
    return bool(_DNS_NAME.match(value)) and len(value) <= 253


def is_one_below(host: str, domain: str) -> bool:
    """``app.<domain>``: what ``*.<domain>`` (certificate, tunnel ingress) covers."""
    label, dot, rest = host.partition(".")
    return bool(dot) and rest == domain and is_dns_name(host) and bool(label)


def is_k8s_name(value: str) -> bool:
    return bool(_K8S_NAME.match(value))


def is_below(name: str, parent: str) -> bool:
    """``name`` is a strict subdomain of ``parent``."""
    return name.endswith("." + parent)


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration (``15s``, ``1m30s``, ``1.5h``), None when Go would refuse it."""
    if text == "0":
        return 0.0  # time.ParseDuration's one unitless duration
    pos, total = 0, 0.0
    while pos < len(text):
        match = _GO_DURATION_PART.match(text, pos)
        if match is None:
            return None
        total += float(match[1]) * _GO_UNITS[match[2]]
        pos = match.end()
    if total > GO_DURATION_MAX:
        return None  # time.ParseDuration: "invalid duration" past int64 nanoseconds
    return total if text else None


def memory_bytes(text: str) -> int | None:
    match = _MEMORY.match(text)
    return None if match is None else int(match["n"]) * _MEMORY_UNITS[match["unit"]]


def interface_regex(value: str) -> str:
    """A regex Cilium can compile: Go's regexp is RE2, so RE2 itself (google-re2) decides. No
    lookaround, backreferences, atomic groups or possessive quantifiers; ``\\z`` ends the text."""
    options = re2.Options()
    options.log_errors = False  # the error comes back as the exception; nothing on stderr
    try:
        re2.compile(value, options)
    except re2.error as exc:
        reason = exc.args[0].decode()  # google-re2 gives RE2's own message, as bytes
        raise ValueError(f"{value!r} is not a valid Go (RE2) regular expression: {reason}") from None
    return value
