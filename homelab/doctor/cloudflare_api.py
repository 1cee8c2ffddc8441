"""Read-only access to Cloudflare's API v4 through the official ``cloudflare`` SDK.

Four GETs, each returning the API's ``result`` list as plain dicts (what the API documents), so
the checks are pure. A token Cloudflare does not accept and an API that does not answer (or not
completely within :data:`DEADLINE`) are errors of their own: every Cloudflare check stops at one
line for them. An answer that is not the API's JSON envelope (malformed JSON, an HTML page from
a proxy) is a fault, as a 5xx is: it says nothing about the token. ``$HOMELAB_CLOUDFLARE_API``
points the client at another base URL (the tests' local server).
"""

from __future__ import annotations

import functools
import json
import ssl
from typing import Any

import cloudflare
import httpx

from homelab.doctor.deadline import DeadlineError, within
from homelab.errors import HomelabError

BASE_URL_ENV = "HOMELAB_CLOUDFLARE_API"
#: Every Cloudflare call is bounded; no retries (they would multiply the bound). Each socket
#: operation by :data:`TIMEOUT`, the whole call (connect to last byte) by :data:`DEADLINE`, read at
#: call time (the tests lower it).
TIMEOUT = httpx.Timeout(8.0, connect=4.0)
DEADLINE = 12.0

Obj = dict[str, Any]


class CloudflareError(HomelabError):
    """A call Cloudflare answered with an error: FAILs the check that made it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def fault(self) -> bool:
        """A fault at Cloudflare (or in between), not an answer about the token: a 5xx."""
        return self.status is not None and self.status >= 500


class MalformedAnswerError(CloudflareError):
    """An answer that is not the API's JSON envelope: malformed JSON, another content (a proxy's or
    captive portal's page), or no ``result`` list. A fault, whatever its status."""

    @property
    def fault(self) -> bool:
        return True


class TokenRejectedError(CloudflareError):
    """The token is not accepted (401, or a 400 for a malformed token). Every Cloudflare check
    stops at one FAIL line. A 403 is not this: the token is good and lacks the permission of that
    one call, so only the checks of that call FAIL."""


class ApiUnreachableError(CloudflareError):
    """No answer from the API, or none complete within :data:`DEADLINE`: every Cloudflare check
    stops at one FAIL line."""


#: Error codes of a token Cloudflare cannot even parse (``Invalid request headers``, ``Invalid
#: format for Authorization header``): answered 400, they mean the token is wrong. Cloudflare
#: documents no list of its codes; these are its recorded answers (400, 6003 with error_chain
#: 6111, in public reports such as jeessy2/ddns-go#916).
MALFORMED = frozenset({6003, 6111})


def _codes(exc: cloudflare.APIStatusError) -> set[int]:
    """Every error code of the answer, with the codes of each error's ``error_chain``."""
    body = exc.body
    errors: Any = body.get("errors") if isinstance(body, dict) else None
    found: list[Any] = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            chain = error.get("error_chain")
            found += [error, *(chain if isinstance(chain, list) else [])]
    return {e["code"] for e in found if isinstance(e, dict) and isinstance(e.get("code"), int)}


def _message(exc: cloudflare.APIStatusError) -> str:
    body = exc.body
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
        return f"HTTP {exc.status_code} ({detail})"
    return f"HTTP {exc.status_code}"


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default trust (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once: loading
    the CA bundle takes ~20 ms a client."""
    return httpx.create_ssl_context()


class Api:
    """The four GETs doctor makes, each the API's ``result`` list as plain dicts.

    The SDK's client does the transport (token, base URL, timeouts, the query syntax, one error
    class per status); the calls go through its documented ``client.get`` for these REST paths
    rather than the typed resources, whose ``zero_trust`` package alone takes ~0.7 s to import.
    """

    def __init__(self, token: str, base_url: str | None) -> None:
        self.client = cloudflare.Cloudflare(
            api_token=token,
            base_url=base_url,
            timeout=TIMEOUT,
            max_retries=0,
            http_client=cloudflare.DefaultHttpxClient(verify=_tls()),
        )
        # the SDK prefers a global key/email from the environment over the token: use the token only
        self.client.api_key = self.client.api_email = self.client.user_service_key = None
        #: the calls made, and those refused with 403 (the token lacks that call's permission)
        self.calls = self.refused = 0

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        """The SDK's documented way to call any path and get the raw response (``cast_to=
        httpx.Response``, the README's "Undocumented endpoints" of cloudflare-python 5.9; the body is
        read before it returns, a non-2xx answer raises its APIStatusError), within :data:`DEADLINE`."""
        url = f"{str(self.client.base_url).rstrip('/')}{path}"
        return within(
            DEADLINE,
            f"GET {url}",
            lambda: self.client.get(path, cast_to=httpx.Response, options={"params": params}),
        )

    def _list(self, path: str, params: dict[str, Any]) -> list[Obj]:
        self.calls += 1
        try:
            response = self._get(path, params)
        except DeadlineError as exc:
            raise ApiUnreachableError(str(exc)) from None
        except cloudflare.AuthenticationError as exc:
            raise TokenRejectedError(f"rejected by Cloudflare: {_message(exc)}", 401) from None
        except cloudflare.BadRequestError as exc:
            if _codes(exc) & MALFORMED:
                raise TokenRejectedError(f"rejected by Cloudflare: {_message(exc)}", 400) from None
            raise CloudflareError(_message(exc), exc.status_code) from None
        except cloudflare.APIStatusError as exc:
            self.refused += exc.status_code == 403
            raise CloudflareError(_message(exc), exc.status_code) from None
        except cloudflare.APIConnectionError as exc:
            raise ApiUnreachableError(f"no answer from {self.client.base_url}: {exc.message}") from None
        code = response.status_code
        try:
            envelope = json.loads(response.content)
        except ValueError as exc:  # JSONDecodeError, or bytes that are not text
            raise MalformedAnswerError(f"HTTP {code} with malformed JSON ({exc})", code) from None
        result = envelope.get("result") if isinstance(envelope, dict) else None
        if not isinstance(result, list):
            raise MalformedAnswerError(f"HTTP {code} without a result list", code)
        return [item for item in result if isinstance(item, dict)]

    def zones(self, name: str, account_id: str) -> list[Obj]:
        """``GET /zones``: the active zones of that name in the account."""
        return self._list("/zones", {"name": name, "account": {"id": account_id}, "status": "active"})

    def tunnels(self, account_id: str, name: str) -> list[Obj]:
        """``GET /accounts/{account}/cfd_tunnel``: the tunnel of that name, not deleted."""
        return self._list(f"/accounts/{account_id}/cfd_tunnel", {"name": name, "is_deleted": "false"})

    def connections(self, account_id: str, tunnel_id: str) -> list[Obj]:
        """``GET .../cfd_tunnel/{id}/connections``: one entry per connected cloudflared, its ``conns``."""
        return self._list(f"/accounts/{account_id}/cfd_tunnel/{tunnel_id}/connections", {})

    def records(self, zone_id: str, name: str) -> list[Obj]:
        """``GET /zones/{zone}/dns_records?name.exact=``: every record of that name."""
        return self._list(f"/zones/{zone_id}/dns_records", {"name": {"exact": name}})
