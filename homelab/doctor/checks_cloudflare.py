"""Cloudflare checks, read only (:mod:`homelab.doctor.cloudflare_api`): the tunnel and its
connections, the tunnel's DNS record, and for each public app the record external-dns wrote and
its ownership TXT.

The token comes from :mod:`homelab.doctor.credentials`; without one the Cloudflare checks are
skipped with one WARN that says how to give one; a rejected one (401, or 400 for a malformed
one), an API that does not answer (or not completely in time), or one that answers the first call
with a fault (a 5xx, or something that is not its JSON), is one FAIL line. A call refused with 403
FAILs only the checks of that call, naming the permission it needs: a token missing one
permission still runs the checks that need the others. (Cloudflare answers a token without the
permission of a call 403 with code 10000: its changelog of 2026-08-20, "Enriched 403 responses",
shows one; and recorded answers, e.g. lablabs/cloudflare-exporter#120. When it refuses every call,
the token reaches nothing of this stack's, and that is one line again.)
"""

from __future__ import annotations

from collections.abc import Callable

from homelab.config.catalog import CLOUDFLARED, CLOUDFLARED_TOKEN_SECRET, EXTERNAL_DNS_DEPLOYMENT
from homelab.doctor.cloudflare_api import (
    BASE_URL_ENV,
    Api,
    ApiUnreachableError,
    CloudflareError,
    MalformedAnswerError,
    Obj,
    TokenRejectedError,
)
from homelab.doctor.credentials import TOKEN_KEY, Token, token_fix
from homelab.doctor.expected import TUNNEL_CNAME_SUFFIX, Expected, txt_names
from homelab.doctor.report import ACCESS, EXTERNAL_DNS, TUNNEL, Check, Status, failed, passed, warned

TOKEN_CHECK = "Cloudflare API"


# ---------------------------------------------------------------------------------------------
# pure checks


def _live(connector: Obj) -> list[Obj]:
    """The connections of a cloudflared that serve traffic: Cloudflare keeps a connection that
    dropped listed "for several minutes" with ``is_pending_reconnect: true`` (cloudflare-python 5.9,
    ``types/zero_trust/tunnels/cloudflared/client.py``, ``Conn.is_pending_reconnect``: "If `true`,
    the connection has disconnected but is still being tracked"; the field is optional, and a
    connection without it counts as live)."""
    conns = connector.get("conns")
    return [c for c in conns if isinstance(c, dict) and c.get("is_pending_reconnect") is not True] if conns else []


def check_tunnel(exp: Expected, tunnels: list[Obj], connectors: list[Obj]) -> Check:
    """Healthy, with one connected cloudflared per replica the stack runs. ``connectors`` is what
    ``GET .../cfd_tunnel/{id}/connections`` answers: one entry per cloudflared (``id``, ``arch``,
    ``version``, ``run_at``, ``conns``), each connection with ``id``, ``client_id`` (the
    cloudflared's id), ``client_version``, ``colo_name``, ``is_pending_reconnect``, ``opened_at``,
    ``origin_ip``, ``uuid`` (cloudflare-python 5.9, ``Client`` and ``Conn`` in
    ``types/zero_trust/tunnels/cloudflared/client.py``, generated from the API's OpenAPI schema)."""
    name = f"tunnel {exp.tunnel_name}"
    logs = exp.kubectl(CLOUDFLARED.logs)
    if not tunnels:
        return failed(
            TUNNEL,
            name,
            f"no tunnel named {exp.tunnel_name} in account {exp.cluster.cloudflare.account_id}",
            f"{exp.up} (homelab:cluster.cloudflare.tunnelName; the tunnel is protected, never deleted by the program)",
        )
    tunnel = tunnels[0]
    status = str(tunnel.get("status") or "unknown")
    connected = [c for c in connectors if _live(c)]
    conns = sum(len(_live(c)) for c in connected)
    pending = sum(len(c.get("conns") or []) for c in connectors) - conns
    waiting = f", {pending} pending reconnect" if pending else ""
    seen = (
        f"{status}, {len(connected)} cloudflared connected ({conns} connections{waiting}), "
        f"{exp.cloudflared_replicas} replicas"
    )
    if status in ("down", "inactive") or not connected:
        return failed(
            TUNNEL,
            name,
            f"{seen}: every public app is unreachable",
            f"{logs}; cloudflared needs outbound UDP 7844 (QUIC) and its token "
            f"(Secret {CLOUDFLARED.namespace}/{CLOUDFLARED_TOKEN_SECRET})",
        )
    if status != "healthy" or len(connected) != exp.cloudflared_replicas:
        extra = (
            " (a cloudflared outside this cluster runs the tunnel's token?)"
            if len(connected) > exp.cloudflared_replicas
            else ""
        )
        return warned(TUNNEL, name, seen + extra, logs)
    return passed(TUNNEL, name, seen)


def _cname(records: list[Obj]) -> Obj | None:
    return next((r for r in records if r.get("type") == "CNAME"), None)


def check_tunnel_record(exp: Expected, tunnel_id: str, records: list[Obj]) -> Check:
    host = exp.tunnel_hostname
    name = f"record {host}"
    target = f"{tunnel_id}{TUNNEL_CNAME_SUFFIX}"
    record = _cname(records)
    if record is None or record.get("content") != target:
        seen = f"CNAME to {record.get('content')}" if record else "no CNAME"
        return failed(TUNNEL, name, f"{seen}; the tunnel is {target}", f"{exp.up} (the record is the program's)")
    if record.get("proxied") is not True:
        return failed(
            TUNNEL, name, f"CNAME to {target} is DNS only", f"turn the proxy on for {host} (dashboard), or {exp.up}"
        )
    return passed(TUNNEL, name, f"CNAME to {target}, proxied")


def check_app_record(exp: Expected, hostname: str, records: list[Obj]) -> Check:
    """A proxied CNAME to the tunnel's hostname, as external-dns writes it for routes on envoy-external."""
    name = f"record {hostname}"
    logs = exp.kubectl(EXTERNAL_DNS_DEPLOYMENT.logs)
    if not records:
        return failed(
            EXTERNAL_DNS,
            name,
            "no record: external-dns has not published it",
            f"{logs}; the route must be Accepted on envoy-external (Gateways above)",
        )
    record = _cname(records)
    if record is None:
        kinds = ", ".join(f"{r.get('type')} {r.get('content')}" for r in records)
        return failed(
            EXTERNAL_DNS, name, f"{kinds}; no CNAME to {exp.tunnel_hostname}", "delete it: external-dns writes its own"
        )
    if record.get("content") != exp.tunnel_hostname:
        return failed(
            EXTERNAL_DNS,
            name,
            f"CNAME to {record.get('content')}, the tunnel's hostname is {exp.tunnel_hostname}",
            f"{logs}; envoy-external's target annotation must be {exp.tunnel_hostname} ({exp.up})",
        )
    if record.get("proxied") is not True:
        return failed(
            EXTERNAL_DNS,
            name,
            f"CNAME to {exp.tunnel_hostname} is DNS only (not proxied): no WAF, and the name does not reach the tunnel",
            "external-dns sets proxied only when it writes the record: turn the proxy on in the dashboard, "
            "or delete the record and its TXT so external-dns writes them again",
        )
    return passed(EXTERNAL_DNS, name, f"CNAME to {exp.tunnel_hostname}, proxied")


def txt_labels(content: str) -> dict[str, str]:
    """``"heritage=external-dns,external-dns/owner=homelab,..."`` as a dict."""
    text = content.strip().strip('"')
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def check_owner(exp: Expected, hostname: str, txts: dict[str, list[Obj]]) -> Check:
    """external-dns's ownership TXT with this stack's owner id: without it, its ``policy: sync``
    never updates or deletes the record; with another owner, another cluster does."""
    name = f"owner {hostname}"
    found = [
        (txt_name, txt_labels(str(r.get("content") or "")))
        for txt_name in txt_names(hostname)
        for r in txts.get(txt_name, [])
        if r.get("type") == "TXT"
    ]
    owned = [(n, labels) for n, labels in found if labels.get("heritage") == "external-dns"]
    if not owned:
        return failed(
            EXTERNAL_DNS,
            name,
            f"no ownership TXT {txt_names(hostname)[0]}: external-dns does not own the record and will never change it",
            "the record was made by hand or by another tool: delete it, external-dns writes it and its TXT again",
        )
    txt_name, labels = owned[0]
    owner = labels.get("external-dns/owner", "")
    if owner != exp.owner_id:
        return failed(
            EXTERNAL_DNS,
            name,
            f"TXT {txt_name} says owner {owner!r}, this stack's owner id is {exp.owner_id!r}",
            f"another external-dns (owner {owner!r}) manages {hostname}: remove the app from that cluster's "
            "homelab:apps, or delete the record and its TXT so this cluster's external-dns takes it over",
        )
    resource = labels.get("external-dns/resource")
    seen = f"TXT {txt_name}: owner {owner}" + (f" ({resource})" if resource else "")
    typed = txt_names(hostname)[0]
    if txt_name != typed:
        return warned(
            EXTERNAL_DNS,
            name,
            f"{seen}, in the format of external-dns before 0.18 only; the current one writes {typed}",
            f"if {typed} does not appear after external-dns's next sync "
            f"({exp.kubectl(EXTERNAL_DNS_DEPLOYMENT.logs)}), "
            "delete the old TXT and the record so it writes both again",
        )
    return passed(EXTERNAL_DNS, name, seen)


def check_zone(exp: Expected, zones: list[Obj]) -> tuple[str | None, Check]:
    """Exactly one active zone of the configured name in the account (the program's lookup)."""
    cf = exp.cluster.cloudflare
    name = f"zone {cf.zone}"
    if len(zones) != 1:
        return None, failed(
            ACCESS,
            name,
            f"{len(zones)} active zones named {cf.zone} in account {cf.account_id} that the token sees",
            "the token needs Zone / Zone / Read on the zone; check homelab:cluster.cloudflare.zone and accountId",
        )
    return str(zones[0].get("id")), passed(ACCESS, name, f"{zones[0].get('id')} (looked up by name)")


# ---------------------------------------------------------------------------------------------
# fetching


#: The permission each call needs (the dashboard's names), and what it is given on.
TUNNEL_READ = "Account / Cloudflare Tunnel / Read"
ZONE_READ = "Zone / Zone / Read"
DNS_READ = "Zone / DNS / Read"
STATUS_PAGE = "https://www.cloudflarestatus.com"
MALFORMED_FIX = (
    "is something answering in Cloudflare's place (an HTTPS proxy, a captive portal; "
    f"${BASE_URL_ENV} overrides the URL)? else a fault at Cloudflare: retry later; {STATUS_PAGE}"
)


def _error(group: str, name: str, exc: CloudflareError, permission: str) -> Check:
    """An error answer to the call behind one check: 403 is ``permission`` missing."""
    if exc.status == 403:
        fix = f'the token needs {permission} (the stack\'s {TOKEN_KEY}, made as README "Secrets" says, has it)'
    else:
        fix = MALFORMED_FIX if isinstance(exc, MalformedAnswerError) else f"retry; {STATUS_PAGE}"
    return failed(group, name, f"cannot read it: {exc}", fix)


def _attempt(group: str, name: str, permission: str, judge: Callable[[], Check]) -> Check:
    """One check; an error answer FAILs it alone (a rejected token or no answer stops them all)."""
    try:
        return judge()
    except (TokenRejectedError, ApiUnreachableError):
        raise
    except CloudflareError as exc:
        return _error(group, name, exc, permission)


def _zone(exp: Expected, api: Api) -> tuple[str | None, Check]:
    """The zone id: from config (no lookup), or the one active zone of that name in the account."""
    cf = exp.cluster.cloudflare
    if cf.zone_id:
        return cf.zone_id, passed(ACCESS, f"zone {cf.zone}", f"{cf.zone_id} (homelab:cluster.cloudflare.zoneId)")
    try:
        zones = api.zones(cf.zone, cf.account_id)
    except (TokenRejectedError, ApiUnreachableError):
        raise
    except CloudflareError as exc:
        return None, _error(ACCESS, f"zone {cf.zone}", exc, f"{ZONE_READ} on zone {cf.zone}")
    return check_zone(exp, zones)


def _checks(exp: Expected, api: Api, token: Token) -> list[Check]:
    """Every check; when Cloudflare refused every call (403), one line instead: the token reaches
    nothing of this stack's (another account's token, or one without any of the permissions)."""
    out = _each(exp, api, token)
    if api.calls and api.refused == api.calls:
        cf = exp.cluster.cloudflare
        refusal = next(c.evidence.removeprefix("cannot read it: ") for c in out if c.status is Status.FAIL)
        raise TokenRejectedError(
            f"refused by every call, {refusal}: it needs {TUNNEL_READ} on account {cf.account_id}, "
            f"{ZONE_READ} and {DNS_READ} on zone {cf.zone}",
            403,
        )
    return out


def _each(exp: Expected, api: Api, token: Token) -> list[Check]:
    account, zone = exp.cluster.cloudflare.account_id, exp.cluster.cloudflare.zone
    tunnel_read, dns_read = f"{TUNNEL_READ} on account {account}", f"{DNS_READ} on zone {zone}"
    tunnel_check = f"tunnel {exp.tunnel_name}"
    tunnels: list[Obj] = []
    first: Check | None = None
    try:  # the first call also tells whether the token is accepted (401/400 say it is not)
        tunnels = api.tunnels(account, exp.tunnel_name)
    except (TokenRejectedError, ApiUnreachableError):
        raise
    except CloudflareError as exc:
        if exc.fault:  # no proper answer: the token is not known good
            return [
                failed(
                    ACCESS,
                    TOKEN_CHECK,
                    f"Cloudflare API answered {exc}; token from {token.source} not checked; Cloudflare checks skipped",
                    MALFORMED_FIX
                    if isinstance(exc, MalformedAnswerError)
                    else f"a fault at Cloudflare: retry later; {STATUS_PAGE}",
                )
            ]
        first = _error(TUNNEL, tunnel_check, exc, tunnel_read)  # 403: the other permissions are still checked
    out = [passed(ACCESS, TOKEN_CHECK, f"token from {token.source}, accepted")]
    tunnel_id = str(tunnels[0].get("id")) if tunnels else None
    out.append(
        first
        or _attempt(
            TUNNEL,
            tunnel_check,
            tunnel_read,
            lambda: check_tunnel(exp, tunnels, api.connections(account, tunnel_id) if tunnel_id else []),
        )
    )
    zone_id, zone_check = _zone(exp, api)
    out.append(zone_check)
    if zone_id is None:
        return out
    if tunnel_id:
        out.append(
            _attempt(
                TUNNEL,
                f"record {exp.tunnel_hostname}",
                dns_read,
                lambda: check_tunnel_record(exp, tunnel_id, api.records(zone_id, exp.tunnel_hostname)),
            )
        )
    elif first is not None:  # the record's target is the tunnel's id, which the refused list would give
        unknown = f"not checked: the tunnel's id is unknown ({tunnel_check} above)"
        out.append(warned(TUNNEL, f"record {exp.tunnel_hostname}", unknown, first.fix))
    for host in exp.public_hostnames:
        out.append(
            _attempt(
                EXTERNAL_DNS,
                f"record {host}",
                dns_read,
                lambda host=host: check_app_record(exp, host, api.records(zone_id, host)),
            )
        )
        out.append(
            _attempt(
                EXTERNAL_DNS,
                f"owner {host}",
                dns_read,
                lambda host=host: check_owner(exp, host, {n: api.records(zone_id, n) for n in txt_names(host)}),
            )
        )
    return out


def with_api(
    token: Token, base_url: str | None, rejected: str, fix: str, checks: Callable[[Api], list[Check]]
) -> list[Check]:
    """``checks`` run against Cloudflare's API with the token. No token, a rejected token or no
    answer is one line, and the rest is skipped with it; ``rejected`` says what a refused token
    means and ``fix`` what to do about it (doctor and preflight each name their own command)."""
    if token.value is None:
        return [warned(ACCESS, TOKEN_CHECK, f"{token.source}: Cloudflare checks skipped", fix)]
    api = Api(token.value, base_url)
    try:
        return checks(api)
    except TokenRejectedError as exc:
        return [
            failed(
                ACCESS,
                TOKEN_CHECK,
                f"token from {token.source} {exc}; Cloudflare checks skipped",
                f'{rejected}: create one (README "Secrets") and give it again; {fix}',
            )
        ]
    except ApiUnreachableError as exc:
        return [
            failed(
                ACCESS,
                TOKEN_CHECK,
                f"{exc}; Cloudflare checks skipped",
                f"is api.cloudflare.com reachable from here (HTTPS proxy?); ${BASE_URL_ENV} overrides the URL",
            )
        ]
    finally:
        api.close()


def cloudflare_checks(exp: Expected, token: Token, base_url: str | None) -> list[Check]:
    """Every Cloudflare check. No token, a rejected token, no answer or a 5xx to the first call is
    one line, and the rest is skipped with it."""
    rejected = "the token is wrong, expired or revoked, or reaches nothing of this stack's"
    return with_api(token, base_url, rejected, token_fix(exp), lambda api: _checks(exp, api, token))
