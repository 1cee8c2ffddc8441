"""doctor against a fake homelab (tests/support/doctor_lab.py): the command (table, JSON, exit codes,
bad input) and --probe.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from homelab.doctor import checks_dns
from homelab.doctor import command as cli
from homelab.doctor.report import Status
from tests.conftest import Project
from tests.support import doctor_lab
from tests.support.doctor_breakages import _certificate_expiring, _gateway_not_programmed
from tests.support.doctor_lab import (
    CERT_FIX,
    FIXTURES,
    GATEWAY_FIX,
    PUBLIC_APPS,
    Homelab,
    assert_line,
    expected,
)
from tests.support.fakes import (
    TOKEN,
    closed_port,
)

# the shared fixtures (tests/support/doctor_lab.py): pytest finds them under these names
loopback_only = doctor_lab.loopback_only
servers = doctor_lab.servers
homelab = doctor_lab.homelab


# ---------------------------------------------------------------------------------------------
# the command: table, JSON, exit codes, bad input


@pytest.fixture
def cli_env(homelab: Homelab, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("KUBECONFIG", str(homelab.kubeconfig))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOMELAB_CLOUDFLARE_API", f"{homelab.api.url}/client/v4")

    def doctor(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main([*args, "--nameserver", f"127.0.0.1:{homelab.dns.port}"])
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err and TOKEN not in out.out + out.err
        return code, out.out, out.err

    return doctor


def test_the_command_prints_the_table_and_exits_0_when_nothing_fails(
    homelab: Homelab, cli_env: Callable[..., tuple[int, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    homelab.load(expected("main"))
    code, out, _ = cli_env("--stack", "main", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "homelab doctor: stack main (context main, domain example.com, zone example.com)"
    for group in (
        "Access",
        "Cilium",
        "LB-IPAM and L2",
        "Cluster DNS",
        "Gateways and routes",
        "Traffic policies",
        "Certificates",
        "external-dns",
        "Cloudflare Tunnel",
        "Public DNS",
    ):
        assert group in lines
    assert any(ln.split()[:3] == ["PASS", "Gateway", "envoy-external"] for ln in lines)
    assert lines[-1] == "25 checks: 25 PASS, 0 WARN, 0 FAIL"

    _gateway_not_programmed(homelab)
    code, out, _ = cli_env("--stack", "main", capsys=capsys)
    assert code == 1
    lines = out.splitlines()
    [fail] = [i for i, ln in enumerate(lines) if ln.strip().startswith("FAIL")]
    assert lines[fail].split()[:3] == ["FAIL", "Gateway", "envoy-external"]
    fix = GATEWAY_FIX.format(gw="envoy-external", then="its Service must have 10.11.1.22 (LB-IPAM above)")
    assert lines[fail + 1].strip() == f"fix: {fix}"
    assert lines[-1] == "25 checks: 24 PASS, 0 WARN, 1 FAIL"


def test_json_output_for_scripts(
    homelab: Homelab, cli_env: Callable[..., tuple[int, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    homelab.load(expected("staging"))
    _certificate_expiring(homelab)
    code, out, _ = cli_env("--stack", "staging", "--json", capsys=capsys)
    rows = json.loads(out)
    assert code == 0  # a WARN does not fail
    assert all(list(row) == ["group", "check", "status", "evidence", "fix"] for row in rows)
    warn = [row for row in rows if row["status"] != "PASS"]
    assert [(r["group"], r["check"], r["status"]) for r in warn] == [
        ("Certificates", "Certificate wildcard-tls", "WARN")
    ]
    assert warn[0]["fix"] == f"renewal is failing: {CERT_FIX}".replace("--context main", "--context staging")
    assert {r["fix"] for r in rows if r["status"] == "PASS"} == {None}
    assert rows[0] == {
        "group": "Access",
        "check": "cluster staging",
        "status": "PASS",
        "evidence": f"{homelab.api.url}, Kubernetes v1.35.0",
        "fix": None,
    }


def test_bad_input_exits_2_with_the_program_s_message(
    homelab: Homelab,
    cli_env: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
    project: Project,
) -> None:
    homelab.api.requests.clear()
    project.change("staging", lambda cfg: cfg["homelab:cluster"]["gateways"].update(internal="10.12.300.1"))
    cases = [
        (["--stack", "prod"], "no stack file Pulumi.prod.yaml"),
        (["--stack", "../main"], "is not a stack name"),
        (["--stack", "staging", "--root", str(project.root)], "homelab:cluster.gateways.internal"),
        (["--stack", "main", "--root", str(project.root / "nowhere")], "no Pulumi.yaml"),
    ]
    for args, says in cases:
        code, out, err = cli_env(*args, capsys=capsys)
        assert (code, out) == (2, ""), err
        assert err.startswith("error: ") and says in err, err
    capsys.readouterr()
    assert cli.main(["--stack", "main", "--nameserver", "dns.google"]) == 2
    assert "--nameserver" in capsys.readouterr().err
    assert homelab.api.requests == []  # bad input reaches nothing


def test_a_changed_stack_file_is_what_doctor_checks(
    homelab: Homelab,
    cli_env: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
    project: Project,
) -> None:
    """doctor reads the stack file it is pointed at: here main with a public app added."""
    project.change("main", lambda cfg: cfg["homelab:apps"].extend(PUBLIC_APPS["main"]))
    homelab.load(expected("main+public"))
    code, out, _ = cli_env("--stack", "main", "--root", str(project.root), capsys=capsys)
    assert code == 0, out
    assert "PASS  owner blog.example.com" in out and out.splitlines()[-1] == "33 checks: 33 PASS, 0 WARN, 0 FAIL"


# ---------------------------------------------------------------------------------------------
# --probe: one HTTPS GET through each public name


@pytest.fixture(scope="module")
def tls_server() -> Iterator[int]:
    class Hello(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def version_string(self) -> str:
            return "cloudflare"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(FIXTURES / "probe-server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_probe_reports_status_and_issuer(tls_server: int) -> None:
    trusted = ssl.create_default_context(cafile=str(FIXTURES / "probe-ca.pem"))
    exp = expected("main+public")

    def at_local(host: str, context: ssl.SSLContext = trusted) -> checks_dns.Probe:
        return checks_dns.probe(host, port=tls_server, connect_to="127.0.0.1", context=context, timeout=2)

    ok = at_local("app.doctor.test")
    assert ok == checks_dns.Probe(200, "Doctor Test CA (Doctor Test Root)", "cloudflare")
    assert checks_dns.check_probe(exp, "app.doctor.test", ok).status is Status.PASS
    untrusted = at_local("app.doctor.test", ssl.create_default_context())
    assert "certificate not trusted" in untrusted.error
    wrong_name = at_local("other.doctor.test")
    assert "certificate not trusted" in wrong_name.error and "other.doctor.test" in wrong_name.error
    refused = checks_dns.probe("app.doctor.test", port=closed_port(), connect_to="127.0.0.1", timeout=2)
    assert "ConnectionRefusedError" in refused.error
    assert_line(
        checks_dns.check_probe(exp, "app.doctor.test", refused),
        "probe app.doctor.test",
        Status.FAIL,
        "see the checks above for this name",
        "https://app.doctor.test/: ConnectionRefusedError",
    )
    assert_line(
        checks_dns.check_probe(exp, "x", checks_dns.Probe(530, "Google Trust Services (WE1)")),
        "probe x",
        Status.FAIL,
        "Cloudflare reached no origin: the tunnel (Cloudflare Tunnel above), or cloudflared cannot reach "
        "envoy-external or verify its certificate for external.example.com",
        "HTTP 530, certificate from Google Trust Services (WE1)",
    )
    assert_line(
        checks_dns.check_probe(exp, "x", checks_dns.Probe(404, "CA")),
        "probe x",
        Status.FAIL,
        "no route answers x: its HTTPRoute must be Accepted on envoy-external",
        "HTTP 404",
    )


def test_the_probe_option_probes_each_public_name(homelab: Homelab, tls_server: int) -> None:
    exp = expected("main+public")
    homelab.load(exp)
    trusted = ssl.create_default_context(cafile=str(FIXTURES / "probe-ca.pem"))
    seen: list[str] = []

    def prober(host: str) -> checks_dns.Probe:  # every public name, answered by the local server
        seen.append(host)
        return checks_dns.probe("app.doctor.test", port=tls_server, connect_to="127.0.0.1", context=trusted)

    checks = homelab.run(exp, probe=True, prober=prober)
    assert seen == ["blog.example.com", "status.example.com"]
    probes = [c for c in checks if c.name.startswith("probe ")]
    assert [(c.name, c.status) for c in probes] == [
        ("probe blog.example.com", Status.PASS),
        ("probe status.example.com", Status.PASS),
    ]
    assert probes[0].evidence == "HTTP 200, certificate from Doctor Test CA (Doctor Test Root), server cloudflare"
    assert [c.name for c in homelab.run(expected("main"), probe=True, prober=prober) if c.name.startswith("probe")] == [
        "probe"
    ]
