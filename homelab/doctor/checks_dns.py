"""Public DNS and the optional HTTPS probe: what the internet sees of the stack.

Each public name (the tunnel's hostname and every hostname external-dns publishes) must resolve,
at a public resolver (1.1.1.1 unless told otherwise), to Cloudflare's edge only: an address
outside Cloudflare's ranges means the record is not proxied, or another record shadows it.
``--probe`` then makes one HTTPS GET through each app's public name and reports the status and
who issued the certificate the edge presented.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from homelab.doctor.deadline import DeadlineError, within
from homelab.doctor.expected import Expected
from homelab.doctor.report import PUBLIC_DNS, Check, failed, passed, warned

#: Cloudflare's published edge ranges, https://www.cloudflare.com/ips/ (ips-v4 and ips-v6).
CLOUDFLARE_RANGES: tuple[IPv4Network | IPv6Network, ...] = tuple(
    ip_network(n)
    for n in (
        "173.245.48.0/20",
        "103.21.244.0/22",
        "103.22.200.0/22",
        "103.31.4.0/22",
        "141.101.64.0/18",
        "108.162.192.0/18",
        "190.93.240.0/20",
        "188.114.96.0/20",
        "197.234.240.0/22",
        "198.41.128.0/17",
        "162.158.0.0/15",
        "104.16.0.0/13",
        "104.24.0.0/14",
        "172.64.0.0/13",
        "131.0.72.0/22",
        "2400:cb00::/32",
        "2606:4700::/32",
        "2803:f800::/32",
        "2405:b500::/32",
        "2405:8100::/32",
        "2a06:98c0::/29",
        "2c0f:f248::/32",
    )
)
DEFAULT_NAMESERVER = "1.1.1.1"
#: Seconds one name may take at the resolver (A and AAAA together).
DNS_LIFETIME = 3.0
#: Seconds for each socket operation of a probe, and for the whole probe (connect, TLS, the
#: answer's status line and headers: :mod:`homelab.doctor.deadline`), read at call time.
PROBE_TIMEOUT = 8.0
PROBE_DEADLINE = 12.0


def is_cloudflare(address: str) -> bool:
    ip = ip_address(address)
    return any(ip.version == net.version and ip in net for net in CLOUDFLARE_RANGES)


def parse_nameserver(spec: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT``. Raises ValueError."""
    host, port = spec, 53
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = int(rest.removeprefix(":")) if rest else 53
    elif spec.count(":") == 1:
        host, text = spec.split(":")
        port = int(text)
    ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return host, port


def make_resolver(nameservers: Sequence[tuple[str, int]]) -> dns.resolver.Resolver:
    """A resolver that asks only these servers (never the machine's own configuration), no cache."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers]
    resolver.lifetime = DNS_LIFETIME
    resolver.timeout = DNS_LIFETIME / 2
    return resolver


@dataclass(frozen=True)
class Answer:
    addresses: tuple[str, ...] = ()
    #: why there are none: NXDOMAIN, no answer from the resolver...
    error: str = ""
    #: the resolver did not answer at all (later names are not asked again)
    timeout: bool = False


def lookup(resolver: dns.resolver.Resolver, name: str) -> Answer:
    """A and AAAA of ``name``."""
    addresses: list[str] = []
    for kind in (dns.rdatatype.A, dns.rdatatype.AAAA):
        try:
            answer = resolver.resolve(name, kind, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer(error="NXDOMAIN: no such name")
        except dns.resolver.NoAnswer:
            continue
        except dns.exception.Timeout:
            return Answer(error="no answer from the resolver (timeout)", timeout=True)
        except dns.exception.DNSException as exc:  # SERVFAIL and the like
            return Answer(error=f"the resolver failed: {exc}")
        addresses += [r.to_text() for r in answer]
    if not addresses:
        return Answer(error="no A or AAAA record")
    return Answer(tuple(addresses))


def check_public_name(exp: Expected, name: str, answer: Answer, server: str) -> Check:
    """Every address the public resolver gives for ``name`` is Cloudflare's edge."""
    check = f"resolve {name}"
    if answer.error:
        if answer.timeout:
            fix = f"is {server} reachable from here (DNS over UDP)? --nameserver picks another public resolver"
        elif name == exp.tunnel_hostname:
            fix = f"the tunnel's record (Cloudflare Tunnel above); {exp.up}"
        else:
            fix = "external-dns has not published it (external-dns above)"
        return failed(PUBLIC_DNS, check, f"{answer.error} (asked {server})", fix)
    outside = [a for a in answer.addresses if not is_cloudflare(a)]
    if outside:
        return failed(
            PUBLIC_DNS,
            check,
            f"{', '.join(outside)} is not Cloudflare's edge (asked {server}): the name bypasses the proxy",
            "turn the proxy on for the record, or delete the record that shadows it (external-dns above)",
        )
    return passed(PUBLIC_DNS, check, f"{', '.join(sorted(answer.addresses))}: Cloudflare (asked {server})")


def public_names(exp: Expected) -> list[str]:
    """The tunnel's hostname, then every name external-dns publishes."""
    return [exp.tunnel_hostname, *exp.public_hostnames]


def public_dns_checks(exp: Expected, nameservers: Sequence[tuple[str, int]]) -> list[Check]:
    """One check per public name; a resolver that times out once is not asked again."""
    resolver = make_resolver(nameservers)
    server = ", ".join(f"{h}:{p}" if p != 53 else h for h, p in nameservers)
    out = []
    dead: Answer | None = None
    for name in public_names(exp):
        answer = dead or lookup(resolver, name)
        if answer.timeout:
            dead = answer
        out.append(check_public_name(exp, name, answer, server))
    return out


# ---------------------------------------------------------------------------------------------
# --probe


@dataclass(frozen=True)
class Probe:
    """What one HTTPS GET saw: the status, the certificate's issuer, the Server header, or the error."""

    status: int = 0
    issuer: str = ""
    server: str = ""
    error: str = ""


def issuer_of(cert: dict[str, Any]) -> str:
    """``Google Trust Services (WE1)`` from ``ssl.getpeercert()``'s issuer."""
    fields = {k: v for rdn in cert.get("issuer", ()) for k, v in rdn}
    org, cn = fields.get("organizationName", ""), fields.get("commonName", "")
    return f"{org} ({cn})" if org and cn else org or cn or "unknown issuer"


def probe(
    host: str,
    *,
    port: int = 443,
    connect_to: str | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> Probe:
    """One ``GET https://<host>/``: TLS verified for ``host`` (SNI and Host too), connecting to
    ``connect_to`` when given (what curl's ``--connect-to`` does; the tests' local server), done
    within :data:`PROBE_DEADLINE` as a whole."""
    call = functools.partial(_get, host, port, connect_to, context or ssl.create_default_context(), timeout)
    try:
        return within(PROBE_DEADLINE, f"GET https://{host}/", call)
    except DeadlineError as exc:
        return Probe(error=f"no complete answer within {exc.seconds:g} s (the deadline of one call)")


def _get(host: str, port: int, connect_to: str | None, context: ssl.SSLContext, timeout: float) -> Probe:
    try:
        with (
            socket.create_connection((connect_to or host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert() or {}
            request = f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: homelab-doctor\r\nConnection: close\r\n\r\n"
            tls.sendall(request.encode())
            response = http.client.HTTPResponse(tls)
            response.begin()
            return Probe(response.status, issuer_of(dict(cert)), response.getheader("server") or "")
    except ssl.SSLCertVerificationError as exc:
        return Probe(error=f"certificate not trusted: {exc.verify_message}")
    except (OSError, http.client.HTTPException) as exc:
        return Probe(error=f"{type(exc).__name__}: {exc}")


def check_probe(exp: Expected, host: str, result: Probe) -> Check:
    """2xx/3xx PASS, and 401/403 (the app answers, behind its login); 404 means no route took the
    name, 502/52x/530 that Cloudflare reached no origin: both FAIL, as does any TLS failure."""
    check = f"probe {host}"
    if result.error:
        return failed(PUBLIC_DNS, check, f"https://{host}/: {result.error}", "see the checks above for this name")
    seen = f"HTTP {result.status}, certificate from {result.issuer}" + (
        f", server {result.server}" if result.server else ""
    )
    if result.status in (502, 530) or result.status >= 520:
        return failed(
            PUBLIC_DNS,
            check,
            seen,
            "Cloudflare reached no origin: the tunnel (Cloudflare Tunnel above), or cloudflared cannot reach "
            f"envoy-external or verify its certificate for {exp.tunnel_hostname}",
        )
    if result.status == 404:
        return failed(
            PUBLIC_DNS, check, seen, f"no route answers {host}: its HTTPRoute must be Accepted on envoy-external"
        )
    if result.status >= 500:
        return failed(PUBLIC_DNS, check, seen, "the app answers with an error: its logs")
    if result.status >= 400 and result.status not in (401, 403):
        return warned(PUBLIC_DNS, check, seen, "the app answers with a client error: its logs")
    return passed(PUBLIC_DNS, check, seen)


def probe_checks(exp: Expected, prober: Callable[[str], Probe] = probe) -> list[Check]:
    if not exp.public_hostnames:
        return [passed(PUBLIC_DNS, "probe", "no app with exposure external or dual: nothing to probe")]
    return [check_probe(exp, host, prober(host)) for host in exp.public_hostnames]
