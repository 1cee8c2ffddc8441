"""doctor against a fake homelab (tests/support/doctor_lab.py): what cannot be reached, one clear line
each, quickly, never a traceback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from homelab.doctor import checks_dns, cloudflare_api, credentials, kube, runner
from homelab.doctor.checks_cloudflare import MALFORMED_FIX
from homelab.doctor.report import Check, Status
from tests.support import doctor_lab
from tests.support.doctor_breakages import _path
from tests.support.doctor_lab import (
    ACCOUNT,
    ZONE_ID,
    Homelab,
    assert_line,
    expected,
    not_passed,
)
from tests.support.fakes import (
    TOKEN,
    closed_port,
    trickling,
    write_kubeconfig,
)

# the shared fixtures (tests/support/doctor_lab.py): pytest finds them under these names
loopback_only = doctor_lab.loopback_only
servers = doctor_lab.servers
homelab = doctor_lab.homelab


# ---------------------------------------------------------------------------------------------
# what cannot be reached: one clear line each, quickly, never a traceback


def unreachable_cluster_fix(host: str) -> str:
    return (
        f"is the cluster up, {host} reachable from here and the context's credentials valid? "
        "kubectl --context main get --raw /version"
    )


def test_an_unreachable_cluster_is_one_fail_line(homelab: Homelab, tmp_path: Path) -> None:
    exp = expected("main")
    homelab.load(exp)
    host = f"http://127.0.0.1:{closed_port()}"
    config = write_kubeconfig(tmp_path / "config", {"main": host})
    start = time.monotonic()
    checks = homelab.run(exp, kubeconfig=str(config))
    assert time.monotonic() - start < 10
    cluster = [c for c in checks if c.group not in ("Access", "Public DNS", "external-dns", "Cloudflare Tunnel")]
    assert cluster == []  # every cluster check skipped
    [line] = not_passed(checks)
    assert_line(line, "cluster main", Status.FAIL, unreachable_cluster_fix(host), "Connection refused")
    assert line.evidence.endswith("; cluster checks skipped")


def test_a_cluster_that_never_answers_is_bounded(
    homelab: Homelab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts and never answers: the read timeout ends it (3 + 5 s at most for real)."""
    assert sum(kube.TIMEOUT) < 10
    monkeypatch.setattr(kube, "TIMEOUT", (0.2, 0.2))
    exp = expected("main")
    homelab.load(exp)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        config = write_kubeconfig(tmp_path / "config", {"main": host})
        start = time.monotonic()
        checks = homelab.run(exp, kubeconfig=str(config))
        assert time.monotonic() - start < 3
    [line] = not_passed(checks)
    assert_line(line, "cluster main", Status.FAIL, unreachable_cluster_fix(host), "timed out")


TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"
CLOUDFLARE_UNREACHABLE_FIX = (
    "is api.cloudflare.com reachable from here (HTTPS proxy?); $HOMELAB_CLOUDFLARE_API overrides the URL"
)


def test_a_trickling_answer_ends_at_the_call_s_deadline(homelab: Homelab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API server's and Cloudflare's first answers trickle, a byte every 50 ms for 4 s and
    more: every byte restarts the clients' read timeouts (5 and 8 s), so only the deadline over the
    whole call (8 and 12 s for real, 0.15 s here) ends them, each one line naming the endpoint."""
    monkeypatch.setattr(kube, "DEADLINE", 0.15)
    monkeypatch.setattr(cloudflare_api, "DEADLINE", 0.15)
    exp = expected("main+public")
    homelab.load(exp)
    api, stop = homelab.api, threading.Event()
    version = json.dumps({**homelab.api.kube["/version"], "goVersion": "go1.25.5", "compiler": "gc"}).encode()
    tunnels = json.dumps({"success": True, "errors": [], "messages": [], "result": []}).encode()
    assert min(len(version), len(tunnels)) * 0.05 > 3
    api.expect_oneshot_request("/version").respond_with_handler(trickling(version, 0.05, stop))
    api.expect_oneshot_request(f"/client/v4{TUNNELS}").respond_with_handler(trickling(tunnels, 0.05, stop))
    start = time.monotonic()
    try:
        checks = homelab.run(exp)
        took = time.monotonic() - start
    finally:
        stop.set()  # the abandoned calls' threads end with the short answer
        api.oneshot_handlers.clear()
    assert took < 1.5, took  # the parts run side by side: one deadline, and the rest of the run
    cluster, token = not_passed(checks)
    deadline = "no complete answer within 0.15 s (the deadline of one call)"
    assert_line(cluster, "cluster main", Status.FAIL, unreachable_cluster_fix(api.url))
    assert cluster.evidence == f"{api.url}: GET /version: {deadline}; cluster checks skipped"
    assert_line(token, "Cloudflare API", Status.FAIL, CLOUDFLARE_UNREACHABLE_FIX)
    assert token.evidence == f"GET {api.url}/client/v4{TUNNELS}: {deadline}; Cloudflare checks skipped"


def test_a_probe_that_trickles_ends_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTPS server that sends the start of a TLS record and then a byte every 50 ms: the
    handshake's reads never time out, the probe's deadline ends it."""
    monkeypatch.setattr(checks_dns, "PROBE_DEADLINE", 0.15)
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with server, server.accept()[0] as conn:
            conn.recv(4096)  # the ClientHello
            for byte in b"\x16\x03\x03\x40\x00" + b"\x02" * 100:  # a handshake record of 16 KiB, never whole
                if stop.wait(0.05):
                    return
                conn.sendall(bytes([byte]))

    threading.Thread(target=serve, daemon=True).start()
    start = time.monotonic()
    try:
        result = checks_dns.probe("blog.example.com", port=server.getsockname()[1], connect_to="127.0.0.1")
    finally:
        stop.set()
    assert time.monotonic() - start < 1.0
    line = checks_dns.check_probe(expected("main+public"), "blog.example.com", result)
    evidence = "https://blog.example.com/: no complete answer within 0.15 s (the deadline of one call)"
    assert_line(line, "probe blog.example.com", Status.FAIL, "see the checks above for this name")
    assert line.evidence == evidence


#: What a cut answer looks like: valid JSON up to a point.
CUT = '{"success": true, "errors": [], "messages": [], "result": [{"id": '


@pytest.mark.parametrize("where", ["the first call", "a later call"])
def test_malformed_json_from_cloudflare_is_a_fault_not_a_bug(homelab: Homelab, where: str) -> None:
    """An answer cut short (or a proxy's page) is a fault of the answer, as a 5xx is: on the first
    call it says nothing of the token (one line), on a later one it FAILs that check alone."""
    exp = expected("main+public")
    homelab.load(exp)
    path = TUNNELS if where == "the first call" else f"/zones/{ZONE_ID['main']}/dns_records"
    homelab.api.expect_oneshot_request(f"/client/v4{path}").respond_with_data(CUT, content_type="application/json")
    try:
        checks = homelab.run(exp)
    finally:
        homelab.api.oneshot_handlers.clear()
    [line] = not_passed(checks)
    malformed = "HTTP 200 with malformed JSON (Expecting value: line 1 column 67 (char 66))"
    if where == "the first call":
        assert_line(line, "Cloudflare API", Status.FAIL, MALFORMED_FIX)
        assert line.evidence == (
            f"Cloudflare API answered {malformed}; token from $CLOUDFLARE_API_TOKEN not checked; "
            "Cloudflare checks skipped"
        )
    else:  # the first records call: the tunnel's CNAME
        assert_line(line, "record external.example.com", Status.FAIL, MALFORMED_FIX)
        assert line.evidence == f"cannot read it: {malformed}"
    assert MALFORMED_FIX == (
        "is something answering in Cloudflare's place (an HTTPS proxy, a captive portal; $HOMELAB_CLOUDFLARE_API "
        "overrides the URL)? else a fault at Cloudflare: retry later; https://www.cloudflarestatus.com"
    )


def test_a_missing_context_or_kubeconfig_is_one_fail_line(homelab: Homelab, tmp_path: Path) -> None:
    exp = expected("staging")
    homelab.load(exp)
    only_main = write_kubeconfig(tmp_path / "config", {"main": homelab.api.url})
    for path, says in ((only_main, "no context 'staging'"), (tmp_path / "absent", "no kubeconfig at")):
        checks = homelab.run(exp, kubeconfig=str(path))
        [line] = not_passed(checks)
        fix = (
            "homelab:cluster.kubeContext is 'staging': add that context to the kubeconfig, "
            "or point KUBECONFIG at the file that has it"
        )
        assert_line(line, "cluster staging", Status.FAIL, fix, says)
    assert "contexts there: main" in homelab.run(exp, kubeconfig=str(only_main))[0].evidence


TOKEN_FIX = (
    "export CLOUDFLARE_API_TOKEN=<the stack's homelab:cloudflareApiToken> (doctor only reads), or install the "
    "Pulumi CLI, log in and export PULUMI_CONFIG_PASSPHRASE: doctor runs "
    "`pulumi config get --stack main homelab:cloudflareApiToken`"
)


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("wrong token", "rejected by Cloudflare: HTTP 401 (1000: Invalid API Token)"),
        ("malformed token", "rejected by Cloudflare: HTTP 400 (6003: Invalid request headers)"),
        (
            "every call refused",
            "refused by every call, HTTP 403 (10000: Authentication error): it needs Account / Cloudflare Tunnel / "
            f"Read on account {ACCOUNT}, Zone / Zone / Read and Zone / DNS / Read on zone example.com",
        ),
    ],
)
def test_a_rejected_token_is_one_fail_line_and_never_shown(homelab: Homelab, how: str, says: str) -> None:
    """A token Cloudflare does not take, or one that reaches nothing of the stack's (every call
    403: another account's token). One refused permission FAILs its checks alone
    (test_doctor_failures.py, "token without the tunnel permission")."""
    exp = expected("main+public")
    homelab.load(exp)
    if how == "wrong token":
        homelab.api.cloudflare.token = "another-token-altogether-0123456789abcdef"
    elif how == "malformed token":
        homelab.api.cloudflare.errors[TUNNELS] = (400, "Invalid request headers", 6003)
    else:
        for path in (TUNNELS, "/zones", f"/zones/{ZONE_ID['main']}/dns_records"):
            homelab.api.cloudflare.errors[path] = (403, "Authentication error")
    checks = homelab.run(exp)
    cloudflare = [c for c in checks if c.group in ("Cloudflare Tunnel", "external-dns") and c.name != "cloudflared"]
    assert [c.name for c in cloudflare] == ["external-dns-cloudflare"]  # the cluster's own checks stay
    [line] = not_passed(checks)
    fix = (
        "the token is wrong, expired or revoked, or reaches nothing of this stack's: "
        f'create one (README "Secrets") and give it again; {TOKEN_FIX}'
    )
    assert_line(line, "Cloudflare API", Status.FAIL, fix, f"token from $CLOUDFLARE_API_TOKEN {says}")
    assert line.evidence.endswith("; Cloudflare checks skipped")
    assert TOKEN not in json.dumps([c.__dict__ for c in checks], default=str)


def test_an_error_that_echoes_the_token_is_masked(homelab: Homelab) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    homelab.api.cloudflare.errors[f"/zones/{ZONE_ID['main']}/dns_records"] = (500, f"bad header Bearer {TOKEN}")
    checks = homelab.run(exp)
    text = json.dumps([c.__dict__ for c in checks], default=str)
    assert TOKEN not in text and "Bearer [secret]" in text
    line = next(c for c in checks if c.name == "record external.example.com")
    evidence = "cannot read it: HTTP 500 (10000: bad header Bearer [secret])"
    assert_line(line, "record external.example.com", Status.FAIL, "retry; https://www.cloudflarestatus.com", evidence)


@pytest.mark.parametrize(("status", "message"), [(500, "Internal Server Error"), (503, "Service Unavailable")])
def test_a_cloudflare_api_answering_5xx_is_one_fail_line(homelab: Homelab, status: int, message: str) -> None:
    """A server error to the first call says nothing of the token: never "accepted", nothing else asked."""
    exp = expected("main+public")
    homelab.load(exp)
    homelab.api.cloudflare.errors[TUNNELS] = (status, message)
    checks = homelab.run(exp)
    [line] = not_passed(checks)
    fix = "a fault at Cloudflare: retry later; https://www.cloudflarestatus.com"
    assert_line(line, "Cloudflare API", Status.FAIL, fix)
    assert line.evidence == (
        f"Cloudflare API answered HTTP {status} (10000: {message}); token from $CLOUDFLARE_API_TOKEN not checked; "
        "Cloudflare checks skipped"
    )
    cloudflare = [
        c.name for c in checks if c.group in ("Cloudflare Tunnel", "external-dns") or c.name.startswith("zone")
    ]
    assert cloudflare == ["external-dns-cloudflare", "cloudflared"]  # the cluster's own checks stay
    asked = [urlsplit(path).path for _, path in homelab.api.requests if path.startswith("/client/v4/")]
    assert asked == [f"/client/v4{TUNNELS}"]  # the first call only


def test_an_unreachable_cloudflare_api_is_one_fail_line(homelab: Homelab) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    url = f"http://127.0.0.1:{closed_port()}/client/v4"
    checks = homelab.run(exp, cloudflare_api=url)
    [line] = not_passed(checks)
    assert_line(line, "Cloudflare API", Status.FAIL, CLOUDFLARE_UNREACHABLE_FIX, f"no answer from {url}")
    assert line.evidence.endswith("; Cloudflare checks skipped")


def test_without_a_token_cloudflare_is_skipped_with_a_warning(homelab: Homelab) -> None:
    exp = expected("main")
    homelab.load(exp)
    checks = homelab.run(exp, env={})
    [line] = not_passed(checks)
    evidence = "no $CLOUDFLARE_API_TOKEN, and no pulumi CLI on PATH to read homelab:cloudflareApiToken"
    assert_line(line, "Cloudflare API", Status.WARN, TOKEN_FIX, f"{evidence}: Cloudflare checks skipped")
    assert not any(c.group == "Cloudflare Tunnel" and c.name != "cloudflared" for c in checks)


def test_the_token_comes_from_the_environment_or_the_pulumi_cli(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def pulumi(answer: str, code: int = 0, err: str = "") -> Callable[..., subprocess.CompletedProcess[str]]:
        def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            calls.append(args)
            assert kwargs["cwd"] == tmp_path and kwargs["timeout"] <= 5
            return subprocess.CompletedProcess(args, code, answer, err)

        return run

    def which(_: str) -> str:
        return "/usr/bin/pulumi"

    env = credentials.find_token("main", tmp_path, {"CLOUDFLARE_API_TOKEN": f" {TOKEN}\n"}, which, pulumi("x"))
    assert (env.value, env.source, calls) == (TOKEN, "$CLOUDFLARE_API_TOKEN", [])
    got = credentials.find_token("main", tmp_path, {}, which, pulumi(f"{TOKEN}\n"))
    assert (got.value, got.source) == (TOKEN, "pulumi config of stack main")
    assert calls == [["/usr/bin/pulumi", "config", "get", "--stack", "main", "homelab:cloudflareApiToken"]]
    locked = credentials.find_token("main", tmp_path, {}, which, pulumi("", 255, "error: passphrase must be set"))
    assert locked.value is None and "passphrase must be set" in locked.source
    assert credentials.find_token("main", tmp_path, {}, lambda _: None).value is None


def test_an_unexpected_answer_is_one_fail_line_not_a_traceback(
    homelab: Homelab, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = expected("main")
    homelab.load(exp)
    _path("/gateways/envoy-internal")(homelab)["status"]["addresses"] = ["10.11.1.21"]  # not objects
    checks = homelab.run(exp)
    [line] = not_passed(checks)
    fix = (
        "a version of the object doctor does not know: compare it with `kubectl get -o yaml`; "
        "re-run with --debug for the traceback"
    )
    assert_line(line, "Gateway envoy-internal", Status.FAIL, fix, "doctor cannot read the object: ")

    def broken(*_: Any) -> list[Check]:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "public_part", broken)
    checks = homelab.run(exp)
    assert [c.name for c in not_passed(checks)] == ["Gateway envoy-internal", "public DNS"]
    line = not_passed(checks)[1]
    fix = "a bug in doctor or an answer it does not understand: re-run with --debug for the traceback"
    assert_line(line, "public DNS", Status.FAIL, fix, "doctor stopped: RuntimeError: boom")
    with pytest.raises(RuntimeError):
        homelab.run(exp, debug=True)
