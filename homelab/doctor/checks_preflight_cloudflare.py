"""Preflight's Cloudflare checks: the stack's token may make each call ``up`` makes, and what
``up`` creates there (the tunnel by name, each DNS record) is not there already.

Read only: each call ``up`` makes is tried as the read of the same API (the zone lookup as the
program's ``getZone`` does it; the tunnels of the account; the records of the zone). A 403 is a
FAIL naming the permission the call needs. That the token may also *write* is not provable
without writing: a token with a permission's Edit can read, so a refused read is certain, an
answered one means the token reaches that API with Read at least.
"""

from __future__ import annotations

from homelab.doctor.checks_cloudflare import TOKEN_CHECK, with_api
from homelab.doctor.checks_preflight import ADOPTING, CF_OBJECTS, CF_TOKEN
from homelab.doctor.cloudflare_api import (
    Api,
    ApiUnreachableError,
    CloudflareError,
    Obj,
    TokenRejectedError,
)
from homelab.doctor.credentials import TOKEN_KEY, Token, token_fix
from homelab.doctor.expected import Expected
from homelab.doctor.preflight_plan import CloudflareTarget, Wanted
from homelab.doctor.report import ACCESS, Check, Status, failed, passed, warned

ZONE_READ = "Zone / Zone / Read"
TUNNEL_EDIT = "Account / Cloudflare Tunnel / Edit"
DNS_EDIT = "Zone / DNS / Edit"
#: Record types that cannot share a name with a CNAME (nor a CNAME with them).
ADDRESS_TYPES = frozenset({"A", "AAAA", "CNAME"})
SERVER_ERROR = "a fault at Cloudflare, not an answer about the token"
RETRY = "retry later; https://www.cloudflarestatus.com"


def _refused(permission: str, call: str, exc: CloudflareError, why: str, where: str) -> Check:
    """A call answered with an error: 403 is the permission missing; a 5xx, or an answer that is
    not the API's JSON, a fault at Cloudflare (or in between)."""
    if exc.status == 403:
        return failed(
            CF_TOKEN,
            permission,
            f"{call} answered {exc}: {why}",
            f"give the token {permission} on {where} (dashboard: My Profile > API Tokens > Edit), "
            f"then store it again as the stack's {TOKEN_KEY}",
        )
    if not exc.fault:
        fix = "check homelab:cluster.cloudflare (accountId, zone, zoneId) against the dashboard"
        return failed(CF_TOKEN, permission, f"{call} answered {exc}", fix)
    return failed(CF_TOKEN, permission, f"{call} answered {exc}: {SERVER_ERROR}", RETRY)


def check_zone(exp: Expected, zone: str, account: str, zones: list[Obj]) -> tuple[str | None, Check]:
    """The program's ``getZone``: exactly one active zone of that name in the account."""
    if len(zones) != 1:
        return None, failed(
            CF_TOKEN,
            ZONE_READ,
            f"{len(zones)} active zones named {zone} in account {account} that the token sees: up's getZone fails",
            f"give the token {ZONE_READ} on {zone}; check homelab:cluster.cloudflare.zone and accountId",
        )
    zone_id = str(zones[0].get("id"))
    return zone_id, passed(CF_TOKEN, ZONE_READ, f"zone {zone} is {zone_id} (up's getZone)")


def check_tunnel(exp: Expected, target: CloudflareTarget, tunnels: list[Obj]) -> Check:
    """Cloudflare keeps one live tunnel per name in an account."""
    name = f"tunnel {target.name}"
    if not tunnels:
        return passed(CF_OBJECTS, name, f"no tunnel of that name in account {target.scope}")
    tunnel = tunnels[0]
    return failed(
        CF_OBJECTS,
        name,
        f"would fail: already exists: tunnel {tunnel.get('id')} ({tunnel.get('status') or 'unknown'}, "
        f"created {str(tunnel.get('created_at') or '?')[:10]})",
        f"import it (`import` option on resource {target.resource}, id {target.scope}/{tunnel.get('id')}; "
        f"{ADOPTING}), delete it if nothing runs it (`cloudflared tunnel delete {target.name}`), or choose another "
        "homelab:cluster.cloudflare.tunnelName",
    )


def clashes(kind: str, other: str) -> bool:
    """Cloudflare refuses a record of a type the name has, and a CNAME beside an A, AAAA or CNAME."""
    return kind == other or ("CNAME" in (kind, other) and {kind, other} <= ADDRESS_TYPES)


def check_record(exp: Expected, target: CloudflareTarget, zone: str, zone_id: str, records: list[Obj]) -> Check:
    """A record of the same name and type, or an address record where a CNAME goes (or the other
    way round), refuses the create."""
    name = f"record {target.name}"
    clash = [r for r in records if clashes(target.kind, str(r.get("type")))]
    if not clash:
        others = f" ({len(records)} of other types)" if records else ""
        return passed(CF_OBJECTS, name, f"no {target.kind} of that name in zone {zone}{others}")
    record = clash[0]
    proxied = ", proxied" if record.get("proxied") else ""
    return failed(
        CF_OBJECTS,
        name,
        f"would fail: already exists: {record.get('type')} to {record.get('content')}{proxied}",
        f"import it (`import` option on resource {target.resource}, id {zone_id}/{record.get('id')}), or delete it "
        f"in the dashboard (DNS > Records of {zone}); a record external-dns wrote has a TXT owner record beside it",
    )


def _checks(exp: Expected, wanted: Wanted, api: Api, token: Token) -> list[Check]:
    cf = exp.cluster.cloudflare
    out: list[Check] = []
    accepted = passed(ACCESS, TOKEN_CHECK, f"token from {token.source}, accepted")
    for target in wanted.tunnels:
        call = f"GET /accounts/{target.scope}/cfd_tunnel"
        try:
            tunnels = api.tunnels(target.scope, target.name)
        except (TokenRejectedError, ApiUnreachableError):
            raise
        except CloudflareError as exc:
            why = f"up cannot create tunnel {target.name}, its configuration or its token"
            out.append(_refused(TUNNEL_EDIT, call, exc, why, f"account {target.scope}"))
            continue
        out.append(
            passed(
                CF_TOKEN,
                TUNNEL_EDIT,
                f"{call} answered: the token reaches the account's tunnels "
                f"(up creates tunnel {target.name}; Edit itself is not provable by reading)",
            )
        )
        out.append(check_tunnel(exp, target, tunnels))
    zone_id = cf.zone_id
    for zone, account in wanted.zone_lookups:
        try:
            zone_id, line = check_zone(exp, zone, account, api.zones(zone, account))
        except (TokenRejectedError, ApiUnreachableError):
            raise
        except CloudflareError as exc:
            zone_id, line = None, _refused(ZONE_READ, "GET /zones", exc, f"up's getZone {zone} fails", f"zone {zone}")
        out.append(line)
    for target in wanted.records:
        name = f"record {target.name}"
        if zone_id is None:
            out.append(warned(CF_OBJECTS, name, "not checked: no zone id (above)", f"give the token {ZONE_READ}"))
            continue
        call = f"GET /zones/{zone_id}/dns_records"
        try:
            records = api.records(zone_id, target.name)
        except (TokenRejectedError, ApiUnreachableError):
            raise
        except CloudflareError as exc:
            out.append(_refused(DNS_EDIT, call, exc, f"up cannot create record {target.name}", f"zone {cf.zone}"))
            continue
        out.append(
            passed(
                CF_TOKEN,
                DNS_EDIT,
                f"{call} answered: the token reaches the zone's records "
                f"(up creates {target.kind} {target.name}; Edit itself is not provable by reading)",
            )
        )
        out.append(check_record(exp, target, cf.zone, zone_id, records))
    calls = [c for c in out if c.group == CF_TOKEN]
    if calls and all(c.evidence.endswith(SERVER_ERROR) for c in calls):  # nothing said whether the token is good
        accepted = warned(ACCESS, TOKEN_CHECK, f"token from {token.source} not checked: {SERVER_ERROR}", RETRY)
    return [accepted, *_dedupe(out)]


def _dedupe(checks: list[Check]) -> list[Check]:
    """One line per permission: the first refusal, else the first answer."""
    seen: dict[tuple[str, str], int] = {}
    out: list[Check] = []
    for check in checks:
        key = (check.group, check.name)
        if check.group == CF_TOKEN and key in seen:
            if check.status is Status.FAIL and out[seen[key]].status is not Status.FAIL:
                out[seen[key]] = check
            continue
        seen[key] = len(out)
        out.append(check)
    return out


def cloudflare_checks(exp: Expected, wanted: Wanted, token: Token, base_url: str | None) -> list[Check]:
    """Every Cloudflare check; no token, a rejected token or no answer is one line."""
    fix = token_fix(exp, "preflight")
    return with_api(
        token, base_url, "the token is wrong, expired or revoked", fix, lambda api: _checks(exp, wanted, api, token)
    )
