"""Gateways, app routes and traffic policies (what Envoy Gateway reports in their status), and the
certificate both gateways serve (what cert-manager reports).

Pure ``check_*`` functions from the object (a dict, or None when absent) to one :class:`Check`;
:func:`gateway_checks` fetches and runs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from components.cert_manager import API as CERT_API
from components.envoy_gateway import ENVOY_API, GATEWAY_API
from homelab.config import names
from homelab.config.catalog import CERT_MANAGER, CERT_MANAGER_CONTROLLER, CERT_MANAGER_TOKEN_SECRET, ENVOY_GATEWAY
from homelab.config.catalog import ENVOY_GATEWAY_CONTROLLER as CONTROLLER
from homelab.config.models import App
from homelab.doctor.expected import Expected
from homelab.doctor.kube import (
    Kube,
    Obj,
    condition,
    conditions,
    describe,
    get,
    guarded,
    is_true,
    outdated,
    parse_time,
)
from homelab.doctor.report import CERTIFICATES, GATEWAYS, POLICIES, Check, failed, passed, warned

NETWORK = names.NETWORK_NAMESPACE
CM = CERT_MANAGER.namespace
#: A certificate closer than this to its expiry is a WARN (cert-manager renews at 30 days left).
MIN_DAYS_LEFT = 14
#: A certificate this long past its ``status.renewalTime`` ("the time at which the certificate will
#: be next renewed", cert-manager's CRD: ../shared/schemas/cert-manager.io/certificate_v1.json) is
#: a WARN however long it has left: cert-manager tries again after a failed issuance only after
#: ``time.Hour * 2 ^ (failedIssuanceAttempts - 1)`` (same schema, ``status.failedIssuanceAttempts``),
#: so a renewal an hour overdue has failed at least once.
RENEWAL_GRACE = timedelta(hours=1)
ENVOY_GATEWAY_LOGS = f"-n {CONTROLLER.namespace} logs deploy/{CONTROLLER.name}"
#: What a missing Envoy Gateway object comes back with.
ENVOY_GATEWAY_UP = f"({ENVOY_GATEWAY.release})"
#: The two policies (kind: resource plural), both named after the EnvoyProxy (components/envoy_gateway.py).
POLICY_KINDS = {"ClientTrafficPolicy": "clienttrafficpolicies", "BackendTrafficPolicy": "backendtrafficpolicies"}


def _stale(kind: str, obj: Obj, conds: list[tuple[str, Obj | None]]) -> str | None:
    """The evidence when a condition doctor judges by was set for an older generation of ``obj``
    than it has now (:func:`homelab.doctor.kube.outdated`): Envoy Gateway stamps each with the
    object's generation (envoyproxy/gateway ``internal/gatewayapi/status/policy.go``,
    ``SetConditionForPolicyAncestor(..., generation)``, called with ``policy.Generation``), so what
    it says is about a spec that is no longer there. ``conds`` are (label, condition)."""
    old = {label: seen for label, cond in conds if (seen := outdated(obj, cond)) is not None}
    if not old:
        return None
    seen = sorted(set(old.values()))
    return (
        f"status is stale: {', '.join(old)} set for generation{'s' if len(seen) > 1 else ''} "
        f"{', '.join(map(str, seen))}; the {kind} is at generation {get(obj, 'metadata', 'generation')}: "
        "Envoy Gateway has not processed its latest change"
    )


def check_gateway(exp: Expected, gateway: str, address: str, gw: Obj | None) -> Check:
    """Programmed, with the configured address, and every listener programmed (a listener whose
    certificate Secret is missing is not, while the Gateway itself may still be)."""
    name = f"Gateway {gateway}"
    look = f"{exp.kubectl(f'-n {NETWORK} describe gateway {gateway}')}; {exp.kubectl(ENVOY_GATEWAY_LOGS)}"
    if gw is None:
        return failed(GATEWAYS, name, f"no Gateway {NETWORK}/{gateway}", f"{exp.up} {ENVOY_GATEWAY_UP}")
    conds = conditions(gw)
    listened = [
        (f"listener {listener.get('name')}", cond)
        for listener in get(gw, "status", "listeners", default=[])
        for cond in conditions(listener, ("conditions",))
        if cond.get("type") in ("Programmed", "ResolvedRefs", "Accepted")
    ]
    if stale := _stale("Gateway", gw, [("Programmed", condition(conds, "Programmed")), *listened]):
        return failed(GATEWAYS, name, stale, look)
    if not is_true(conds, "Programmed"):
        return failed(
            GATEWAYS,
            name,
            f"not programmed: {describe(condition(conds, 'Programmed'), 'Programmed')}",
            f"{look}; its Service must have {address} (LB-IPAM above)",
        )
    addresses = [str(a.get("value")) for a in get(gw, "status", "addresses", default=[])]
    if address not in addresses:
        return failed(
            GATEWAYS,
            name,
            f"Programmed, but its addresses {addresses or 'are empty'}, the stack asks {address}",
            f"{look}; its Service must have {address} (LB-IPAM above)",
        )
    broken = [
        f"{listener}: {describe(cond, str(cond.get('type')))}"
        for listener, cond in listened
        if cond.get("status") != "True"
    ]
    if broken:
        return failed(
            GATEWAYS,
            name,
            "; ".join(broken),
            f"{look}; the https listener needs Secret {NETWORK}/{names.WILDCARD_TLS_SECRET} (Certificates below)",
        )
    return passed(GATEWAYS, name, f"Programmed, address {address}")


def _ours(ref: Obj, gateway: str, namespace: str) -> bool:
    return ref.get("name") == gateway and ref.get("namespace", namespace) == NETWORK


def check_route(exp: Expected, app: App, route: Obj | None) -> Check:
    """Accepted and ResolvedRefs on each gateway the app's exposure names, and on no other: an
    internal app attached to envoy-external would get a public record."""
    name = f"HTTPRoute {app.namespace}/{app.name}"
    look = exp.kubectl(f"-n {app.namespace} describe httproute {app.name}")
    want = exp.parents(app)
    if route is None:
        return failed(
            GATEWAYS,
            name,
            f"no HTTPRoute {app.namespace}/{app.name} (homelab:apps, exposure {app.exposure.value})",
            f"{exp.up}; namespace {app.namespace} must exist (or createNamespace: true)",
        )
    attached = {str(r.get("name")) for r in get(route, "spec", "parentRefs", default=[])}
    extra = sorted(attached - set(want))
    if extra:
        return failed(
            GATEWAYS,
            name,
            f"attached to {', '.join(extra)} too; exposure {app.exposure.value} names only {', '.join(want)}",
            f"{exp.up} (the route was changed by hand)",
        )
    hostnames = sorted(get(route, "spec", "hostnames", default=[]))
    if hostnames != sorted(app.hostnames):
        return failed(GATEWAYS, name, f"hostnames {hostnames}, the stack asks {sorted(app.hostnames)}", exp.up)
    parents = {
        gateway: next(
            (
                p
                for p in get(route, "status", "parents", default=[])
                if _ours(p.get("parentRef") or {}, gateway, app.namespace)
            ),
            None,
        )
        for gateway in want
    }
    judged = [
        (f"{c} on {gateway}", condition(conditions(parent, ("conditions",)), c))
        for gateway, parent in parents.items()
        for c in ("Accepted", "ResolvedRefs")
    ]
    if stale := _stale("HTTPRoute", route, judged):
        return failed(GATEWAYS, name, stale, f"{look}; {exp.kubectl(ENVOY_GATEWAY_LOGS)}")
    problems = []
    for gateway, parent in parents.items():
        if parent is None:
            problems.append(f"{gateway}: no status (the gateway has not taken the route)")
            continue
        conds = conditions(parent, ("conditions",))
        problems += [
            f"{gateway}: {describe(condition(conds, c), c)}"
            for c in ("Accepted", "ResolvedRefs")
            if not is_true(conds, c)
        ]
    if problems:
        refs = "; ".join(problems)
        backend = exp.kubectl(f"-n {app.namespace} get service {app.service}")
        return failed(
            GATEWAYS,
            name,
            refs,
            f"{look}; ResolvedRefs=False: Service {app.service}:{app.port} must exist ({backend}); "
            f"Accepted=False: the hostnames must be one label below {exp.cluster.domain}",
        )
    return passed(GATEWAYS, name, f"Accepted, ResolvedRefs on {', '.join(want)} ({', '.join(app.hostnames)})")


def check_policy(exp: Expected, kind: str, policy: Obj | None) -> Check:
    """Accepted on both gateways (the policies target every Gateway in ``network``)."""
    name = f"{kind} {names.ENVOY_PROXY}"
    look = (
        f"{exp.kubectl(f'-n {NETWORK} describe {kind.lower()} {names.ENVOY_PROXY}')}; {exp.kubectl(ENVOY_GATEWAY_LOGS)}"
    )
    if policy is None:
        return failed(POLICIES, name, f"no {kind} {NETWORK}/{names.ENVOY_PROXY}", f"{exp.up} {ENVOY_GATEWAY_UP}")
    ancestors = get(policy, "status", "ancestors", default=[])
    entries = {
        gw.name: next((a for a in ancestors if _ours(a.get("ancestorRef") or {}, gw.name, NETWORK)), None)
        for gw in exp.gateways
    }
    judged = [(f"Accepted on {g}", condition(conditions(e, ("conditions",)), "Accepted")) for g, e in entries.items()]
    if stale := _stale(kind, policy, judged):
        return failed(POLICIES, name, stale, look)
    problems = []
    for gateway, entry in entries.items():
        if entry is None:
            problems.append(f"{gateway}: no status (Envoy Gateway has not attached it)")
        elif not is_true(conds := conditions(entry, ("conditions",)), "Accepted"):
            problems.append(f"{gateway}: {describe(condition(conds, 'Accepted'), 'Accepted')}")
    if problems:
        return failed(POLICIES, name, "; ".join(problems), look)
    return passed(POLICIES, name, f"Accepted on {', '.join(gw.name for gw in exp.gateways)}")


# ---------------------------------------------------------------------------------------------
# certificate


def check_certificate(exp: Expected, cert: Obj | None, now: datetime) -> Check:
    """Both gateways and cloudflared's origin check use it: Ready, the stack's names and issuer,
    and far enough from expiry that a failing renewal is noticed before clients are."""
    secret = names.WILDCARD_TLS_SECRET
    name = f"Certificate {secret}"
    look = (
        f"{exp.kubectl(f'-n {NETWORK} describe certificate {secret}')}; "
        f"{exp.kubectl('get certificaterequests,orders,challenges -A')}; "
        f"{exp.kubectl(f'-n {CM} logs deploy/{CERT_MANAGER_CONTROLLER.name}')}; "
        f"the DNS-01 token: Secret {CM}/{CERT_MANAGER_TOKEN_SECRET}"
    )
    if cert is None:
        return failed(CERTIFICATES, name, f"no Certificate {NETWORK}/{secret}", f"{exp.up} ({CERT_MANAGER.release})")
    dns = sorted(get(cert, "spec", "dnsNames", default=[]))
    if dns != sorted(exp.certificate_names):
        return failed(CERTIFICATES, name, f"names {dns}, the stack asks {exp.certificate_names}", exp.up)
    issuer = get(cert, "spec", "issuerRef", "name", default="")
    if issuer != exp.issuer:
        return failed(CERTIFICATES, name, f"issuer {issuer!r}, the stack asks {exp.issuer!r}", exp.up)
    conds = conditions(cert)
    if not is_true(conds, "Ready"):
        return failed(CERTIFICATES, name, describe(condition(conds, "Ready"), "Ready"), look)
    not_after = parse_time(get(cert, "status", "notAfter"))
    if not_after is None:
        return failed(CERTIFICATES, name, "Ready but no status.notAfter", look)
    days = (not_after - now).total_seconds() / 86400
    when = not_after.strftime("%Y-%m-%d")
    if days <= 0:
        return failed(CERTIFICATES, name, f"expired on {when}: every HTTPS client and cloudflared refuse it", look)
    if days < MIN_DAYS_LEFT:
        return warned(
            CERTIFICATES,
            name,
            f"expires {when} ({days:.0f} days left): cert-manager should have renewed it at 30",
            f"renewal is failing: {look}",
        )
    due = parse_time(get(cert, "status", "renewalTime"))
    if due is not None and now - due > RENEWAL_GRACE:
        attempts, last = (
            get(cert, "status", "failedIssuanceAttempts"),
            parse_time(get(cert, "status", "lastFailureTime")),
        )
        tried = (
            f"; {attempts} failed issuance attempts, the last at {last:%Y-%m-%d %H:%M} UTC" if attempts and last else ""
        )
        return warned(
            CERTIFICATES,
            name,
            f"Ready, expires {when} ({days:.0f} days left), but its renewal was due {due:%Y-%m-%d %H:%M} UTC "
            f"and has not happened{tried}",
            f"renewal is failing: {look}",
        )
    return passed(CERTIFICATES, name, f"Ready, {', '.join(dns)} from {issuer}, expires {when} ({days:.0f} days)")


def gateway_checks(exp: Expected, kube: Kube, now: datetime) -> list[Check]:
    """The Gateways, each app's route, the two policies and the certificate the gateways serve."""
    out = [
        guarded(
            GATEWAYS,
            f"Gateway {gw.name}",
            lambda gw=gw: check_gateway(
                exp, gw.name, gw.address, kube.custom(GATEWAY_API, "gateways", gw.name, NETWORK)
            ),
            exp.read_access,
        )
        for gw in exp.gateways
    ]
    out += [
        guarded(
            GATEWAYS,
            f"HTTPRoute {app.namespace}/{app.name}",
            lambda app=app: check_route(exp, app, kube.custom(GATEWAY_API, "httproutes", app.name, app.namespace)),
            exp.read_access,
        )
        for app in exp.apps
    ]
    out += [
        guarded(
            POLICIES,
            f"{kind} {names.ENVOY_PROXY}",
            lambda kind=kind, plural=plural: check_policy(
                exp, kind, kube.custom(ENVOY_API, plural, names.ENVOY_PROXY, NETWORK)
            ),
            exp.read_access,
        )
        for kind, plural in POLICY_KINDS.items()
    ]
    out.append(
        guarded(
            CERTIFICATES,
            f"Certificate {names.WILDCARD_TLS_SECRET}",
            lambda: check_certificate(
                exp, kube.custom(CERT_API, "certificates", names.WILDCARD_TLS_SECRET, NETWORK), now
            ),
            exp.read_access,
        )
    )
    return out
