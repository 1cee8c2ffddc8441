"""The stack's Cloudflare side as it runs: the account and zone, the tunnel and its configuration,
the DNS records the program creates.

Read with doctor's client (:mod:`homelab.doctor.cloudflare_api`, the stack's token, only GETs).
What the sources say (DESIGN.md "Adopting a running homelab", terraform-provider-cloudflare v5
behind pulumi-cloudflare 6): the tunnel and its configuration are imported as
``<account_id>/<tunnel_id>``, a record as ``<zone_id>/<record_id>``. A tunnel's ``config_src`` is
``local`` for one made with ``cloudflared tunnel create`` (its ingress rules live beside
cloudflared) and ``cloudflare`` for a remotely managed one; the program's is remotely managed,
and ``config_src`` forces a new tunnel when it changes: adopting a locally managed tunnel as a
remotely managed one without replacing it is unconfirmed, so the safe path is a new tunnel
beside it and the CNAME moved over (an in-place record update). The tunnel secret is not read
back: the first up sets a new one, in place (running connectors stay up; a restarted one with
the old token cannot connect).

The wrong account is a refusal: the token sees no zone of the stack's name in
``cloudflare.accountId`` (and, when the token is another account's, the account's tunnels
answer 403 too).
"""

from __future__ import annotations

from homelab.adopt.changes import Known, field_changes
from homelab.adopt.findings import ADOPTING, Finding, State, absent, blocked, importable, noted, unknown
from homelab.config.imports import DNS_RECORD, TUNNEL, TUNNEL_CONFIG, Entry
from homelab.doctor.checks_cloudflare import TOKEN_CHECK, TUNNEL_READ, txt_labels
from homelab.doctor.checks_preflight import CF_OBJECTS
from homelab.doctor.checks_preflight_cloudflare import ZONE_READ, clashes
from homelab.doctor.cloudflare_api import Api, ApiUnreachableError, CloudflareError, Obj, TokenRejectedError
from homelab.doctor.credentials import Token
from homelab.doctor.expected import Expected, txt_names
from homelab.doctor.preflight_plan import CloudflareTarget, Wanted
from homelab.doctor.report import ACCESS, failed, passed
from homelab.plan.mockrun import Plan

ACCOUNT = "account"
NEW_TUNNEL = "<the new tunnel's id>"


def _zone(exp: Expected, zones: list[Obj], tunnels_refused: CloudflareError | None) -> tuple[str | None, Finding]:
    """The zone id, and the account line: no zone of that name in the account is the wrong account."""
    cf = exp.cluster.cloudflare
    if len(zones) != 1:
        refused = f"its tunnels answered {tunnels_refused}, and " if tunnels_refused is not None else ""
        seen = f"{len(zones)} active zones named {cf.zone}" if zones else f"no active zone {cf.zone}"
        return None, noted(
            failed(
                ACCESS,
                ACCOUNT,
                f"the token sees no account {cf.account_id} with zone {cf.zone}: {refused}{seen} in it; "
                "nothing written",
                f"homelab:cluster.cloudflare.accountId must be the account of zone {cf.zone} (the zone's Overview "
                f'page, API section), and the token that account\'s (README "Secrets"); {ZONE_READ} on the zone',
            )
        )
    zone_id = str(zones[0].get("id"))
    if cf.zone_id and cf.zone_id != zone_id:
        return None, noted(
            failed(
                ACCESS,
                ACCOUNT,
                f"zone {cf.zone} of account {cf.account_id} is {zone_id}, homelab:cluster.cloudflare.zoneId says "
                f"{cf.zone_id}; nothing written",
                "set homelab:cluster.cloudflare.zoneId to the zone's id, or remove it (the program then looks it up)",
            )
        )
    return zone_id, noted(passed(ACCESS, ACCOUNT, f"{cf.account_id}: zone {cf.zone} is {zone_id}"))


def judge_tunnel(exp: Expected, target: CloudflareTarget, tunnels: list[Obj]) -> Finding:
    name = f"tunnel {target.name}"
    if not tunnels:
        return absent(CF_OBJECTS, name, f"up creates it, remotely managed, in account {target.scope}")
    if len(tunnels) > 1:
        ids = ", ".join(str(t.get("id")) for t in tunnels)
        return blocked(CF_OBJECTS, name, f"{len(tunnels)} live tunnels have that name ({ids})", "delete all but one")
    tunnel = tunnels[0]
    tunnel_id, source = str(tunnel.get("id")), str(tunnel.get("config_src") or "local")
    seen = f"{tunnel.get('status') or 'unknown'}, created {str(tunnel.get('created_at') or '?')[:10]}"
    if source != "cloudflare":
        why = (
            f"tunnel {tunnel_id} is locally managed (config_src {source}; {seen}), the program's is remotely "
            f"managed (config_src cloudflare): that forces a new tunnel, and adopting it without one is unconfirmed"
        )
    else:
        why = (
            f"tunnel {tunnel_id} is remotely managed ({seen}), but an import leaves config_src unset and the program "
            "sets it to cloudflare, which forces a new tunnel: importing it would replace it (a new id, its "
            "connections cut)"
        )
    return blocked(
        CF_OBJECTS,
        name,
        f"{why} ({ADOPTING})",
        "the safe path is a new tunnel beside it: set homelab:cluster.cloudflare.tunnelName to a new name "
        f"(pulumi config set --path --stack {exp.stack} homelab:cluster.cloudflare.tunnelName {target.name}-2) "
        f"and run adopt again; keep the import of record {exp.tunnel_hostname}: up creates the new tunnel, points "
        "the program's cloudflared at it and moves the CNAME to it in place (whether requests fail while the pods "
        f"roll is unconfirmed); then `cloudflared tunnel delete {target.name}`",
    )


def judge_config(target: CloudflareTarget, resource: str, tunnel: Finding) -> Finding:
    """The tunnel's configuration (ingress rules) goes with the tunnel."""
    name = f"tunnel configuration {target.name}"
    if tunnel.entry is None:
        if tunnel.state is State.ABSENT:
            return absent(CF_OBJECTS, name, "up creates it with the tunnel")
        return blocked(CF_OBJECTS, name, "it goes with the tunnel (above)", "see the tunnel's line")
    return importable(
        CF_OBJECTS,
        name,
        Entry(resource, TUNNEL_CONFIG, tunnel.entry.id),
        "the tunnel's ingress rules",
        fix="the first up replaces the tunnel's ingress rules with the program's (not read here: dashboard, "
        f"Networks > Tunnels > {target.name})",
    )


def _record(r: Obj) -> str:
    return f"{r.get('type')} to {r.get('content')}" + (", proxied" if r.get("proxied") else "")


def judge_record(
    exp: Expected,
    target: CloudflareTarget,
    zone_id: str,
    records: list[Obj],
    want: Obj,
    owners: dict[str, str],
    known: Known,
) -> Finding:
    """A record the program creates: ``want`` its inputs; ``owners`` external-dns's ownership TXT
    of that name (TXT name -> owner id)."""
    name = f"record {target.name}"
    cf = exp.cluster.cloudflare
    matching = [r for r in records if clashes(target.kind, str(r.get("type")))]
    if not matching:
        others = f" ({len(records)} of other types beside it)" if records else ""
        return absent(CF_OBJECTS, name, f"up creates {target.kind} {target.name}{others}")
    dashboard = f"the dashboard (DNS > Records of {cf.zone})"
    if len(matching) > 1:
        return blocked(
            CF_OBJECTS,
            name,
            f"{len(matching)} records match ({'; '.join(_record(r) for r in matching)}): one import takes one "
            f"record, and a {target.kind} shares its name with no A, AAAA or CNAME",
            f"keep at most one {target.kind}: delete the others in {dashboard}, then run adopt again",
        )
    record = matching[0]
    if record.get("type") != target.kind:
        return blocked(
            CF_OBJECTS,
            name,
            f"{_record(record)} stands where the program's {target.kind} goes: a record of another type",
            f"delete it in {dashboard} just before `pulumi up` (the name does not resolve in between) and let up "
            "create the record, or choose another homelab:cluster.cloudflare.tunnelHostname",
        )
    fields = {k: want[k] for k in ("content", "proxied", "ttl", "comment") if k in want}
    changes = field_changes(record, fields, known=known)
    fix = ""
    if owners:
        txt = "; ".join(f"{n} (owner {o})" for n, o in sorted(owners.items()))
        mine = exp.owner_id in owners.values()
        fix = (
            f"external-dns owns it: TXT {txt}; "
            + (
                f"the program's external-dns (owner {exp.owner_id}) has no source for it and would delete it (policy "
                "sync): delete "
                if mine
                else "delete "
            )
            + f"the TXT record(s) in {dashboard} right after the import, so only Pulumi manages it"
        )
    return importable(
        CF_OBJECTS,
        name,
        Entry(target.resource, DNS_RECORD, f"{zone_id}/{record.get('id')}"),
        _record(record),
        tuple(changes),
        fix,
    )


def _txt_owners(api: Api, zone_id: str, hostname: str, kind: str) -> dict[str, str]:
    owners = {}
    for txt in txt_names(hostname, kind):
        for r in api.records(zone_id, txt):
            labels = txt_labels(str(r.get("content") or ""))
            if r.get("type") == "TXT" and labels.get("heritage") == "external-dns":
                owners[txt] = labels.get("external-dns/owner", "?")
    return owners


def _mocks(plan: Plan) -> tuple[str, str]:
    """The plan's mock zone id and tunnel id."""
    zone = next((str(r.plain_inputs.get("zoneId") or "") for r in plan.of_type(DNS_RECORD)), "")
    tunnel = next((str(r.outputs.get("id") or "") for r in plan.of_type(TUNNEL)), "")
    return zone, tunnel


def findings(exp: Expected, want: Wanted, plan: Plan, api: Api, token: Token, known: Known) -> list[Finding]:
    """Every Cloudflare finding; gives ``known`` the real zone and tunnel ids (always, even when
    nothing could be read)."""
    mock_zone, mock_tunnel = _mocks(plan)
    real: dict[str, str] = {}
    try:
        return _findings(exp, want, plan, api, token, known, (mock_zone, mock_tunnel), real)
    finally:
        known.provide(real)


def _findings(
    exp: Expected,
    want: Wanted,
    plan: Plan,
    api: Api,
    token: Token,
    known: Known,
    mocks: tuple[str, str],
    real: dict[str, str],
) -> list[Finding]:
    cf = exp.cluster.cloudflare
    out = [noted(passed(ACCESS, TOKEN_CHECK, f"token from {token.source}, accepted"))]
    tunnels: list[Obj] = []
    tunnels_refused: CloudflareError | None = None
    try:  # the first call also tells whether the token is accepted
        tunnels = api.tunnels(cf.account_id, exp.tunnel_name) if want.tunnels else []
    except (TokenRejectedError, ApiUnreachableError):
        raise
    except CloudflareError as exc:
        tunnels_refused = exc
    try:
        zones = api.zones(cf.zone, cf.account_id)
    except (TokenRejectedError, ApiUnreachableError):
        raise
    except CloudflareError as exc:
        fix = f"the token needs {ZONE_READ} on zone {cf.zone}"
        return [*out, unknown(ACCESS, ACCOUNT, f"GET /zones answered {exc}; nothing written", fix)]
    zone_id, line = _zone(exp, zones, tunnels_refused)
    out.append(line)
    if zone_id is None:
        return out
    real[mocks[0]] = zone_id
    tunnel: Finding | None = None
    for target in want.tunnels:
        if tunnels_refused is not None:
            fix = f"the token needs {TUNNEL_READ} on account {cf.account_id}"
            out.append(unknown(CF_OBJECTS, f"tunnel {target.name}", f"cannot read it: {tunnels_refused}", fix))
            continue
        tunnel = judge_tunnel(exp, target, tunnels)
        out.append(tunnel)
        real[mocks[1]] = tunnel.entry.id.split("/")[1] if tunnel.entry else NEW_TUNNEL
        for config in plan.of_type(TUNNEL_CONFIG):
            out.append(judge_config(target, config.name, tunnel))
    local = Known()
    local.provide(real)
    records = {r.name: r.plain_inputs for r in plan.of_type(DNS_RECORD)}
    for target in want.records:
        try:
            found = api.records(zone_id, target.name)
            owners = _txt_owners(api, zone_id, target.name, target.kind) if found else {}
        except (TokenRejectedError, ApiUnreachableError):
            raise
        except CloudflareError as exc:
            fix = f"the token needs Zone / DNS / Read on zone {cf.zone}"
            out.append(unknown(CF_OBJECTS, f"record {target.name}", f"cannot read it: {exc}", fix))
            continue
        out.append(judge_record(exp, target, zone_id, found, records.get(target.resource, {}), owners, local))
    return out
