"""preflight against the loopback fakes (tests/support/fakes.py, the lab in tests/support/preflight_support.py):
Cloudflare's side. The token's permission for each call up makes, the tunnel and the record.
"""

from __future__ import annotations

import json

import pytest

from tests.support import preflight_support
from tests.support.fakes import TOKEN
from tests.support.preflight_support import (
    ACCOUNT,
    ADOPTING,
    TUNNEL_ID,
    TUNNELS,
    ZONE_ID,
    Lab,
)

# the shared fixtures (tests/support/preflight_support.py): pytest finds them under these names
loopback_only = preflight_support.loopback_only
server = preflight_support.server
exp = preflight_support.exp
want = preflight_support.want
lab = preflight_support.lab

#: A DNS record's id, as the API gives them (32 hex digits).
RECORD_ID = "372e67954025e0ba6aaa6d586b9e0b59"
RETRY = "retry later; https://www.cloudflarestatus.com"


# ---------------------------------------------------------------------------------------------
# Cloudflare: the token's permission for each call up makes, the tunnel and the record


def test_an_existing_tunnel_and_record_fail(lab: Lab) -> None:
    cf = lab.api.cloudflare
    cf.tunnels.append(
        {
            "id": TUNNEL_ID,
            "name": "homelab-main",
            "status": "healthy",
            "account_tag": ACCOUNT,
            "created_at": "2026-03-04T05:06:07Z",
            "deleted_at": None,
        }
    )
    cf.records[ZONE_ID] += [
        {
            "id": "9e0c7a1f3b5d4e6a8c2b0d4f6a8c1e3b",
            "type": "TXT",
            "name": "external.example.com",
            "content": '"v=spf1 -all"',
            "proxied": False,
        },
        {
            "id": RECORD_ID,
            "type": "CNAME",
            "name": "external.example.com",
            "content": f"{TUNNEL_ID}.cfargotunnel.com",
            "proxied": True,
        },
    ]
    assert lab.not_passed() == [
        (
            "Cloudflare objects",
            "tunnel homelab-main",
            "FAIL",
            f"would fail: already exists: tunnel {TUNNEL_ID} (healthy, created 2026-03-04)",
            f"import it (`import` option on resource cloudflare-tunnel-tunnel, id {ACCOUNT}/{TUNNEL_ID}; {ADOPTING}), "
            "delete it if nothing runs it (`cloudflared tunnel delete homelab-main`), or choose another "
            "homelab:cluster.cloudflare.tunnelName",
        ),
        (
            "Cloudflare objects",
            "record external.example.com",
            "FAIL",
            f"would fail: already exists: CNAME to {TUNNEL_ID}.cfargotunnel.com, proxied",
            f"import it (`import` option on resource cloudflare-tunnel-dns, id {ZONE_ID}/{RECORD_ID}), or delete it "
            "in the dashboard (DNS > Records of example.com); a record external-dns wrote has a TXT owner record "
            "beside it",
        ),
    ]


def test_a_record_of_another_type_beside_it_passes(lab: Lab) -> None:
    lab.api.cloudflare.records[ZONE_ID].append(
        {
            "id": "9e0c7a1f3b5d4e6a8c2b0d4f6a8c1e3b",
            "type": "TXT",
            "name": "external.example.com",
            "content": '"hello"',
            "proxied": False,
        }
    )
    assert lab.group("Cloudflare objects")[1] == (
        "Cloudflare objects",
        "record external.example.com",
        "PASS",
        "no CNAME of that name in zone example.com (1 of other types)",
        "",
    )


def permission_fix(permission: str, where: str) -> str:
    return (
        f"give the token {permission} on {where} (dashboard: My Profile > API Tokens > Edit), "
        "then store it again as the stack's homelab:cloudflareApiToken"
    )


def test_a_token_without_the_tunnel_permission_fails_naming_it(lab: Lab) -> None:
    lab.api.cloudflare.errors[TUNNELS] = (403, "Unauthorized to access requested resource", 9109)
    lines = lab.lines()
    assert [line for line in lines if line[2] != "PASS"] == [
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "FAIL",
            f"GET {TUNNELS} answered HTTP 403 (9109: Unauthorized to access requested resource): "
            "up cannot create tunnel homelab-main, its configuration or its token",
            permission_fix("Account / Cloudflare Tunnel / Edit", f"account {ACCOUNT}"),
        )
    ]
    assert "tunnel homelab-main" not in [line[1] for line in lines]  # not known: not judged


@pytest.mark.parametrize(
    ("path", "permission", "evidence", "where"),
    [
        (
            "/zones",
            "Zone / Zone / Read",
            "GET /zones answered HTTP 403 (10000: Authentication error): up's getZone example.com fails",
            "zone example.com",
        ),
        (
            f"/zones/{ZONE_ID}/dns_records",
            "Zone / DNS / Edit",
            f"GET /zones/{ZONE_ID}/dns_records answered HTTP 403 (10000: Authentication error): "
            "up cannot create record external.example.com",
            "zone example.com",
        ),
    ],
)
def test_a_token_without_a_zone_permission_fails_naming_it(
    lab: Lab, path: str, permission: str, evidence: str, where: str
) -> None:
    lab.api.cloudflare.errors[path] = (403, "Authentication error", 10000)
    failing = [line for line in lab.not_passed() if line[2] == "FAIL"]
    assert failing == [("Cloudflare token", permission, "FAIL", evidence, permission_fix(permission, where))]


def test_a_rejected_token_is_one_line_and_never_shown(lab: Lab) -> None:
    lab.api.cloudflare.token = "another-token-altogether-0123456789abcdef"
    checks = lab.run()
    cloudflare = [c for c in checks if c.group.startswith("Cloudflare") or c.name == "Cloudflare API"]
    assert [(c.group, c.name, c.status.value, c.evidence, c.fix) for c in cloudflare] == [
        (
            "Access",
            "Cloudflare API",
            "FAIL",
            "token from $CLOUDFLARE_API_TOKEN rejected by Cloudflare: HTTP 401 (1000: Invalid API Token); "
            "Cloudflare checks skipped",
            'the token is wrong, expired or revoked: create one (README "Secrets") and give it again; '
            "export CLOUDFLARE_API_TOKEN=<the stack's homelab:cloudflareApiToken> (preflight only reads), or install "
            "the Pulumi CLI, log in and export PULUMI_CONFIG_PASSPHRASE: preflight runs "
            "`pulumi config get --stack main homelab:cloudflareApiToken`",
        )
    ]
    assert TOKEN not in json.dumps([c.__dict__ for c in checks], default=str)


def test_server_errors_say_nothing_of_the_token(lab: Lab) -> None:
    for path in (TUNNELS, "/zones"):
        lab.api.cloudflare.errors[path] = (503, "Service Unavailable")
    fault = "a fault at Cloudflare, not an answer about the token"
    retry = "retry later; https://www.cloudflarestatus.com"
    assert lab.not_passed() == [
        ("Access", "Cloudflare API", "WARN", f"token from $CLOUDFLARE_API_TOKEN not checked: {fault}", retry),
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "FAIL",
            f"GET {TUNNELS} answered HTTP 503 (10000: Service Unavailable): {fault}",
            retry,
        ),
        (
            "Cloudflare token",
            "Zone / Zone / Read",
            "FAIL",
            f"GET /zones answered HTTP 503 (10000: Service Unavailable): {fault}",
            retry,
        ),
        (
            "Cloudflare objects",
            "record external.example.com",
            "WARN",
            "not checked: no zone id (above)",
            "give the token Zone / Zone / Read",
        ),
    ]


def test_an_answer_that_is_not_json_says_nothing_of_the_token(lab: Lab) -> None:
    """A proxy's page where the API's JSON belongs is a fault, as a 5xx is (not a config error);
    the other calls answered, so the token is accepted."""
    page = "<html><body>Sign in to the guest network</body></html>"
    lab.api.expect_oneshot_request(f"/client/v4{TUNNELS}").respond_with_data(page, content_type="text/html")
    try:
        lines = lab.not_passed()
    finally:
        lab.api.oneshot_handlers.clear()
    fault = "a fault at Cloudflare, not an answer about the token"
    assert lines == [
        (
            "Cloudflare token",
            "Account / Cloudflare Tunnel / Edit",
            "FAIL",
            f"GET {TUNNELS} answered HTTP 200 with malformed JSON (Expecting value: line 1 column 1 (char 0)): {fault}",
            RETRY,
        ),
    ]
