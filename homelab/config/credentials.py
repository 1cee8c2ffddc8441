"""What a credential looks like, whole or inside a longer text: the rule every refusal and every
redaction of the tools shares. Only ``re``: the command line masks its output with it before
any heavier module is loaded.
"""

from __future__ import annotations

import re
from typing import Any, TextIO


def shown(value: str) -> str:
    """What a credential shows as in a message: never the value, only its length."""
    return f"[hidden: {len(value)} characters that look like a credential]"


_CREDENTIAL = re.compile(r"^[A-Za-z0-9_+/=-]{24,}$")
_HEX = re.compile(r"^[0-9a-fA-F]{37,}$")


def looks_like_credential(value: str) -> bool:
    """What Cloudflare API tokens (40 random characters), tunnel tokens (base64) and global API
    keys (37 hex digits) look like: 24 or more token characters mixing upper case, lower case
    and digits, or 37 or more hex digits. Names people choose (``kubernetes-admin-main-2024``)
    and 32-digit Cloudflare ids do not. Such a value is never echoed, whatever key it is under."""
    return bool(_HEX.match(value)) or _is_token(value)


def _is_token(value: str) -> bool:
    return (
        bool(_CREDENTIAL.match(value))
        and any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


#: Inside a longer text: a run of URL-safe token characters (Cloudflare API tokens), a long run
#: of base64 (tunnel tokens are base64 JSON, ~180 characters), a JWT, what follows ``Bearer``.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]{24,}")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SCHEME = re.compile(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})")
#: The password of a URL's userinfo (``https://user:<password>@host``), whatever it looks like.
_USERINFO = re.compile(r"://[^/\s:@]+:([^/\s@]{3,})@")
#: A Cloudflare global API key: exactly 37 hex digits (40 and 64 are commit ids and digests).
_GLOBAL_KEY = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{37}(?![0-9a-fA-F])")


def _is_random(run: str) -> bool:
    """A token inside text: also 3 digits or more, which names people write in CamelCase with a
    version in them (``CiliumL2AnnouncementPolicy``) do not reach (a random 40-character token
    has about 6), or exactly a Cloudflare API token's 40 characters mixing cases (about 4% of
    them have fewer than 3 digits)."""
    mixed = any(c.isupper() for c in run) and any(c.islower() for c in run)
    return (_is_token(run) and sum(c.isdigit() for c in run) >= 3) or (len(run) == 40 and mixed)


def _scheme_token(value: str) -> bool:
    """What follows ``Bearer``/``Basic`` when it is a credential, not a word ("Basic
    authentication"): a digit, or upper case past its first letter."""
    return any(c.isdigit() for c in value) or any(c.isupper() for c in value[1:]) or "=" in value


def credentials_in(text: str) -> set[str]:
    """Every part of ``text`` that looks like a credential (:func:`looks_like_credential` for a
    run of token characters, plus JWTs, ``Bearer <token>`` and global API keys), so a token
    inside a longer value (``Bearer <token>``, a URL with a key in it) is found too."""
    found = {m.group() for m in _JWT.finditer(text)}
    found |= {m[1] for m in _SCHEME.finditer(text) if _scheme_token(m[1])}
    found |= {m[1] for m in _USERINFO.finditer(text)}
    found |= {m.group() for m in _GLOBAL_KEY.finditer(text)}
    found |= {m.group() for m in _TOKEN_RUN.finditer(text) if _is_random(m.group())}
    found |= {m.group() for m in _BASE64_RUN.finditer(text) if _is_random(m.group())}
    return found


def mask(text: str) -> str:
    """``text`` with every part that looks like a credential masked (longest first, so a token
    that holds another is hidden whole): the last guard of whatever the commands print."""
    for secret in sorted(credentials_in(text), key=len, reverse=True):
        text = text.replace(secret, shown(secret))
    return text


class Masked:
    """A text stream that masks credentials in what is written to it (:func:`mask`), line by
    line as the commands print; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(mask(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
