"""The loopback fakes doctor and preflight are tested against: the real clients, real servers.

One threaded HTTP server on 127.0.0.1 answers Kubernetes API paths (``FakeApi.kube``: path ->
object, or a ``(status, message)`` error; a ``...List`` object is filtered by ``labelSelector``
and ``fieldSelector`` as the API server does) and Cloudflare API v4 paths (``FakeApi.cloudflare``:
the token it accepts, zones, tunnels, connections, records, and error answers per path). A UDP
responder answers public DNS. ``write_kubeconfig`` points contexts at the server, and
``loopback_only`` refuses any connection outside the loopback while a test module runs.
Nothing here knows what doctor or preflight check: the tests load the objects.

The HTTP server is pytest-httpserver's (werkzeug's dev server underneath, ``threaded=True``): a
real listening socket, so the clients' connect and read timeouts run for real, and a thread per
connection, so the parts of a run that ask at once are answered at once. One handler function
(``FakeApi._answer``) answers every method and path; a test gives one request another answer with
the library's ``api.expect_oneshot_request(path).respond_with_handler(f)`` (one-shot handlers are
matched before it; that request is not in ``requests``). An answer that trickles (for a deadline
over a whole call) is a ``werkzeug.Response`` whose body is a generator sleeping between chunks,
with its Content-Length (``trickling``): werkzeug writes and flushes each chunk as it comes
(werkzeug/serving.py, ``write``: ``self.wfile.flush()``, line 318 in 3.1.9). Every answer says ``Connection: close``
(line 303 there), as the stdlib server's HTTP/1.0 did. A socket that accepts and never answers,
and a closed port (``closed_port``), need no server: the tests open them with ``socket``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import responses
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "doctortesttoken0123456789abcdefghijklmnop"  # what a Cloudflare token looks like


@dataclass
class CloudflareState:
    token: str = TOKEN
    zones: list[dict[str, Any]] = field(default_factory=list)
    tunnels: list[dict[str, Any]] = field(default_factory=list)
    connections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: path -> (status, error message[, code]): an error answer for that path
    errors: dict[str, tuple[Any, ...]] = field(default_factory=dict)


# the fake servers: one HTTP server (Kubernetes + Cloudflare), one DNS responder

# werkzeug logs every request at INFO (and, finding no handler, adds one writing to stderr): the
# fake answers quietly; a handler's error still reaches pytest's captured log
logging.getLogger("werkzeug").setLevel(logging.WARNING)
logging.getLogger("werkzeug").addHandler(logging.NullHandler())


class FakeApi(HTTPServer):
    """The Kubernetes and Cloudflare fake: ``serving(FakeApi())`` runs it; ``requests`` are the
    (method, path and query) it was asked, ``accepts`` the Accept header of the last GET of each."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", 0, threaded=True)  # the three parts of a run connect at once
        self.kube: dict[str, Any] = {}
        self.cloudflare = CloudflareState()
        self.requests: list[tuple[str, str]] = []
        #: path -> the Accept header of the last GET of it
        self.accepts: dict[str, str] = {}
        self.expect_request(re.compile("")).respond_with_handler(self._answer)  # every method, every path

    @property
    def url(self) -> str:
        assert self.is_running(), "the port is chosen when the server starts: serving(api) first"
        return f"http://127.0.0.1:{self.port}"

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.05)  # stop() waits for one poll: 0.5 s by default

    def _answer(self, request: Request) -> Response:
        path = request.environ["RAW_URI"]  # the request target as sent, query included
        self.requests.append((request.method, path))
        if request.method != "GET":  # doctor never writes: any other method is recorded and refused
            return _json(405, {"kind": "Status", "code": 405, "message": "read-only fake"})
        self.accepts[path] = request.headers.get("Accept", "")
        url = urlsplit(path)
        if url.path.startswith("/client/v4/"):
            return self._cloudflare(url.path.removeprefix("/client/v4"), parse_qs(url.query), request)
        obj = self.kube.get(url.path.rstrip("/"))  # the client asks for /version/
        if obj is None:
            return _status(404, "NotFound", f"{url.path} not found")
        if isinstance(obj, tuple):
            return _json(obj[0], {"kind": "Status", "status": "Failure", "message": obj[1], "code": obj[0]})
        if str(obj.get("kind", "")).endswith("List"):
            try:
                return _json(200, selected(obj, parse_qs(url.query)))
            except ValueError as exc:
                return _status(400, "BadRequest", str(exc))
        return _json(200, obj)

    def _cloudflare(self, path: str, query: dict[str, list[str]], request: Request) -> Response:
        cf = self.cloudflare

        def error(status: int, message: str, code: int = 10000) -> Response:
            """Cloudflare's error envelope: a malformed token is 400 with 6003 and its ``error_chain``
            6111 (as recorded in public reports, e.g. jeessy2/ddns-go#916); a refusal is 403 with
            code 10000 and, since 2026-08, the ``documentation_url`` of the refused endpoint
            (developers.cloudflare.com/changelog/post/2026-08-20-contextual-403s/)."""
            errors: list[dict[str, Any]] = [{"code": code, "message": message}]
            if code == 6003:
                errors[0]["error_chain"] = [{"code": 6111, "message": "Invalid format for Authorization header"}]
            if status == 403:
                errors[0]["documentation_url"] = f"https://developers.cloudflare.com/api/resources{_DOCS.get(kind, '')}"
            return _json(status, {"success": False, "errors": errors, "messages": [], "result": None})

        q = {k: v[0] for k, v in query.items()}
        parts = path.strip("/").split("/")
        kind = parts[-1]
        if request.headers.get("Authorization") != f"Bearer {cf.token}":
            return error(401, "Invalid API Token", 1000)
        if path in cf.errors:
            return error(*cf.errors[path])
        result: list[dict[str, Any]] | None = None
        if parts == ["zones"]:
            result = filtered(cf.zones, q, ZONE_FILTERS)
        elif len(parts) == 3 and parts[0] == "accounts" and parts[2] == "cfd_tunnel":
            result = filtered([t for t in cf.tunnels if t["account_tag"] == parts[1]], q, TUNNEL_FILTERS)
        elif len(parts) == 5 and parts[2] == "cfd_tunnel" and parts[4] == "connections":
            result = cf.connections.get(parts[3])
        elif len(parts) == 3 and parts[0] == "zones" and parts[2] == "dns_records":
            result = filtered(cf.records.get(parts[1], []), q, RECORD_FILTERS)
        if result is None:
            return error(404, f"no route for {path}")
        page = int(q.get("page", "1"))
        items = result if page == 1 else []
        return _json(
            200,
            {
                "success": True,
                "errors": [],
                "messages": [],
                "result": items,
                "result_info": {"page": page, "per_page": 100, "count": len(items), "total_count": len(result)},
            },
        )


#: The API reference page of each list the fake answers (a 403's ``documentation_url``), by the
#: path's last part: in the pattern of the changelog's example
#: (``/api/resources/workers/subresources/beta/subresources/workers/methods/list``); doctor does
#: not read them.
_DOCS = {
    "zones": "/zones/methods/list/",
    "cfd_tunnel": "/zero_trust/subresources/tunnels/subresources/cloudflared/methods/list/",
    "connections": "/zero_trust/subresources/tunnels/subresources/cloudflared/subresources/connections/methods/get/",
    "dns_records": "/dns/subresources/records/methods/list/",
}


def trickling(body: bytes, every: float, stop: threading.Event) -> Callable[[Request], Response]:
    """A handler answering 200 with ``body`` (JSON), one byte every ``every`` seconds, its full
    Content-Length announced: each byte restarts the client's read timeout, so only a deadline over
    the whole call ends it. It stops early (a short answer) once ``stop`` is set."""

    def chunks() -> Iterator[bytes]:
        for i in range(len(body)):
            if stop.wait(every):
                return
            yield body[i : i + 1]

    def handler(_: Request) -> Response:
        headers = {"Content-Length": str(len(body))}
        return Response(chunks(), 200, headers=headers, content_type="application/json", direct_passthrough=True)

    return handler


def _json(code: int, body: Any) -> Response:
    """``body`` as JSON, the status line's reason as the stdlib and the API servers spell it (``403
    Forbidden``, which doctor shows; werkzeug's own is upper case; a code without one: ``UNKNOWN``)."""
    return Response(json.dumps(body), f"{code} {responses.get(code, '')}".strip(), content_type="application/json")


def _status(code: int, reason: str, message: str) -> Response:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message}
    return _json(code, {**status, "code": code})


def _requirements(selector: str, what: str) -> list[tuple[str, bool, str]]:
    """``k=v,k2==v2,k3!=v3`` as (key, negated, value); anything else (set-based selectors, a bare
    key) is answered 400, so a selector the fake cannot judge never passes unnoticed."""
    out = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        op = next((o for o in ("!=", "==", "=") if o in part), None)
        key, _, value = part.partition(op or "=")
        if op is None or not key.strip() or any(c in value for c in "()=! "):
            raise ValueError(f"unable to parse {what} requirement {part!r} (the fake knows k=v, k==v, k!=v)")
        out.append((key.strip(), op == "!=", value.strip()))
    return out


#: the fields a fieldSelector may name (what the API server allows for every kind)
FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "metadata.name": lambda o: o["metadata"].get("name"),
    "metadata.namespace": lambda o: o["metadata"].get("namespace"),
}


def selected(items: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """A list as the API server answers it: only the items its ``labelSelector`` and
    ``fieldSelector`` select (equality-based)."""
    labels = _requirements(query.get("labelSelector", [""])[0], "label")
    fields = _requirements(query.get("fieldSelector", [""])[0], "field")
    for key, _, _ in fields:
        if key not in FIELDS:
            raise ValueError(f'field label not supported: "{key}"')

    def keep(item: dict[str, Any]) -> bool:
        have = item["metadata"].get("labels") or {}
        return all((have.get(k) == v) != negated for k, negated, v in labels) and all(
            (str(FIELDS[k](item)) == v) != negated for k, negated, v in fields
        )

    return {**items, "items": [item for item in items["items"] if keep(item)]}


Filters = dict[str, Callable[[dict[str, Any]], Any]]
#: The list filters of Cloudflare's API v4 the fake honours, as the API documents them: a filter
#: that is not sent selects everything (so a filter doctor stops sending lets the decoys in).
ZONE_FILTERS: Filters = {
    "name": lambda z: z["name"],
    "status": lambda z: z["status"],
    "account.id": lambda z: z["account"]["id"],
}
TUNNEL_FILTERS: Filters = {
    "name": lambda t: t["name"],
    "status": lambda t: t["status"],
    "is_deleted": lambda t: t["deleted_at"] is not None,  # true: only deleted ones; false: none of them
}
RECORD_FILTERS: Filters = {"name": lambda r: r["name"], "name.exact": lambda r: r["name"], "type": lambda r: r["type"]}


def filtered(items: list[dict[str, Any]], query: dict[str, str], filters: Filters) -> list[dict[str, Any]]:
    """The items every filter of the query selects (names and booleans compared case-insensitively)."""
    return [i for i in items if all(str(f(i)).lower() == query[k].lower() for k, f in filters.items() if k in query)]


class DnsStub:
    """A UDP DNS responder on 127.0.0.1: ``answers[name]`` are its A/AAAA records; others NXDOMAIN."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answers: dict[str, list[str]] = {}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            if name not in self.answers:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                want = "AAAA" if question.rdtype == dns.rdatatype.AAAA else "A"
                found = [a for a in self.answers[name] if (":" in a) == (want == "AAAA")]
                if found:
                    response.answer.append(dns.rrset.from_text(question.name, 300, "IN", want, *found))
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


def write_kubeconfig(path: Path, servers: dict[str, str]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": {"server": s}} for n, s in servers.items()],
                "users": [{"name": "admin", "user": {"token": "kube-token"}}],
                "contexts": [{"name": n, "context": {"cluster": n, "user": "admin"}} for n in servers],
                "current-context": next(iter(servers)),
            }
        )
    )
    return path


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """While it is open, every socket may connect or send to the loopback only: a test that would
    reach out (a real resolver, a real API) fails instead of leaving the machine. Each test module
    holds it open as a module-scoped autouse fixture of the same name."""
    outside: list[str] = []
    real = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex", "sendto")}

    def guard(name: str) -> Callable[..., Any]:
        def call(self: socket.socket, *args: Any) -> Any:
            address = args[-1]
            host = address[0] if isinstance(address, tuple) else str(address)
            if self.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
                outside.append(f"{name} {address}")
                raise ConnectionRefusedError(f"tests: {address} is outside the loopback")
            return real[name](self, *args)

        return call

    with pytest.MonkeyPatch.context() as patch:
        for name in real:
            patch.setattr(socket.socket, name, guard(name))
        yield outside
    assert outside == [], f"tried to leave the loopback: {outside}"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def direct_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients talk to 127.0.0.1 directly (no proxy), and the Cloudflare SDK with the token only."""
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for key in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(key, raising=False)


@contextlib.contextmanager
def serving(api: FakeApi) -> Iterator[FakeApi]:
    """``api`` answering from a thread of its own until the block ends; an error the handler raised
    (answered 500) fails the block's end."""
    api.start()
    try:
        yield api
    finally:
        api.stop()  # closes the listening socket too (werkzeug's serve_forever)
    api.check_handler_errors()
