"""Read-only access to Cloudflare's API v4 through the official ``cloudflare`` SDK.

Four GETs, each returning the API's ``result`` list as plain dicts (what the API documents), so
the checks are pure. A token Cloudflare does not accept and an API that does not answer are
errors of their own: every Cloudflare check stops at one line for them. ``$HOMELAB_CLOUDFLARE_API``
points the client at another base URL (the tests' local server).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import cloudflare
import httpx

from homelab.errors import HomelabError

BASE_URL_ENV = "HOMELAB_CLOUDFLARE_API"
#: Every Cloudflare call is bounded; no retries (they would multiply the bound).
TIMEOUT = httpx.Timeout(8.0, connect=4.0)

Obj = dict[str, Any]


class CloudflareError(HomelabError):
    """A call Cloudflare answered with an error: FAILs the check that made it."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TokenRejectedError(CloudflareError):
    """The token is not accepted (401, a 400 for a malformed token, or a 403 on the first call: no
    access to the stack's account). Every Cloudflare check stops at one FAIL line."""


class ApiUnreachableError(CloudflareError):
    """No answer from the API: every Cloudflare check stops at one FAIL line."""


#: Error codes of a token Cloudflare cannot even parse (``Invalid request headers``, ``Invalid
#: format for Authorization header``): answered 400, they mean the token is wrong.
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

    def close(self) -> None:
        self.client.close()

    def _list(self, path: str, params: dict[str, Any]) -> list[Obj]:
        try:
            envelope = self.client.get(path, cast_to=object, options={"params": params})
        except cloudflare.AuthenticationError as exc:
            raise TokenRejectedError(f"rejected by Cloudflare: {_message(exc)}", 401) from None
        except cloudflare.BadRequestError as exc:
            if _codes(exc) & MALFORMED:
                raise TokenRejectedError(f"rejected by Cloudflare: {_message(exc)}", 400) from None
            raise CloudflareError(_message(exc), exc.status_code) from None
        except cloudflare.APIStatusError as exc:
            raise CloudflareError(_message(exc), exc.status_code) from None
        except cloudflare.APIConnectionError as exc:
            raise ApiUnreachableError(f"no answer from {self.client.base_url}: {exc.message}") from None
        result = envelope.get("result") if isinstance(envelope, dict) else None
        if not isinstance(result, list):
            raise CloudflareError(f"GET {path}: an answer without a result list")
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
