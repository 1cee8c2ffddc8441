"""Parsing a stack's config, and the policy for what no message may show.

:func:`parse` runs pydantic over the models (:mod:`homelab.config.models`), then the
single-stack rules (:mod:`homelab.config.rules`); every mistake ends in one
:class:`~homelab.config.models.ConfigError` whose lines name the key and the value, redacted
(:func:`redact`: never a secret, nor anything that looks like one). A plain value where a
credential belongs is refused by name, never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from homelab.config.credentials import credentials_in, looks_like_credential, shown
from homelab.config.models import (
    API_TOKEN_KEY,
    APPS_KEY,
    CLUSTER_KEY,
    DNS_TOKEN_KEY,
    PROJECT,
    PROMOTION_KEY,
    RELEASE_KEY,
    REQUIRED_SECRETS,
    SECRET_KEYS,
    TOKEN_SCOPES,
    ConfigError,
    key,
)
from homelab.config.rules import semantic_problems
from homelab.config.stack import StackConfig

_TOP_KEYS = {CLUSTER_KEY: "cluster", RELEASE_KEY: "release", APPS_KEY: "apps", PROMOTION_KEY: "promotion"}


def format_error(err: Mapping[str, Any]) -> str:
    loc = list(err["loc"])
    # pydantic puts the failing union branch or validator (`function-after[...]`) into loc;
    # keep only real keys (config keys never hold a bracket)
    loc = [part for part in loc if not (isinstance(part, str) and "[" in part)]
    name = key(*loc) if loc else PROJECT
    kind = err["type"]
    if kind == "missing":
        return f"{name}: required key is missing"
    if kind == "extra_forbidden":
        # the value is not echoed: a secret pasted under a wrong key must not reach a log
        return f"{name}: unknown key (typo?)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, (dict, list)) or repr(value) in msg or (isinstance(value, str) and value in msg):
        return f"{name}: {msg}"  # the value once, never twice
    return f"{name}: {msg} (got {value!r})"


#: Plain keys of the providers' own config that hold credentials. The program configures its
#: providers explicitly from ``homelab:`` secrets, but a plain value here is still a leak.
PROVIDER_SECRET_KEYS = ("cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey")


def _how(key: str) -> str:
    return f"`pulumi config set --secret {key} <value>`"


def _token_problems(raw: Mapping[str, Any], secret_keys: Iterable[str], require: bool) -> Iterator[str]:
    secret = set(secret_keys)
    for name in SECRET_KEYS:
        key = f"{PROJECT}:{name}"
        value = raw.get(name)
        if value is None or not str(value).strip():
            if require and name in REQUIRED_SECRETS:
                yield (
                    f"{key}: required secret is missing; create a Cloudflare API token with {TOKEN_SCOPES[name]} "
                    f"and set it with {_how(key)}"
                )
        elif key not in secret:
            # never echo the value: it is the secret
            yield (
                f"{key}: is set in plain text in the stack config; remove it (`pulumi config rm {key}`), "
                f"rotate it, and set it with {_how(key)}"
            )
    api, dns = raw.get(API_TOKEN_KEY), raw.get(DNS_TOKEN_KEY)
    if require and isinstance(api, str) and api.strip() and api == dns:
        yield (
            f"{PROJECT}:{DNS_TOKEN_KEY}: is the same token as {PROJECT}:{API_TOKEN_KEY}; the cluster gets a token "
            f"of its own with {TOKEN_SCOPES[DNS_TOKEN_KEY]}, never the one that can edit tunnels"
        )


def plain_secret_problems(config: Mapping[str, Any], secret_keys: Iterable[str]) -> list[str]:
    """Provider credentials (``cloudflare:apiToken``...) set without ``--secret``; values never shown."""
    secret = set(secret_keys)
    return [
        f"{key}: is set in plain text in the stack config; remove it (`pulumi config rm {key}`), rotate it, "
        f"and keep the token in homelab:{API_TOKEN_KEY} (set with {_how(f'{PROJECT}:{API_TOKEN_KEY}')})"
        for key in PROVIDER_SECRET_KEYS
        if config.get(key) not in (None, "") and key not in secret
    ]


def _strings(value: Any) -> Iterator[str]:
    """Every text in a config value: its strings and its mapping keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield str(name)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


#: Secrets shorter than this are not masked in messages (a word such as "token" would be); no
#: real Cloudflare token is anywhere near as short.
MIN_SECRET = 8


#: What a secret shows as wherever the tools print or write it.
SECRET_SHOWN = "[secret]"


def hide(text: str, secrets: Iterable[str], shown: Callable[[str], str] = lambda _: SECRET_SHOWN) -> str:
    """The one redactor: ``text`` with every one of ``secrets`` replaced by ``shown(secret)``,
    longest first (a secret that holds another is hidden whole). Each caller says what counts
    as a secret where it stands: config values, a run's secret inputs, the tokens doctor used."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, shown(secret))
    return text


def redact(problems: Iterable[str], raw: Mapping[str, Any]) -> list[str]:
    """``problems`` with every credential-looking value or key of ``raw`` (whole, or a part of a
    longer text) and every secret masked."""
    hidden = {s for s in _strings(raw) if looks_like_credential(s)}
    hidden |= {part for s in _strings(raw) for part in credentials_in(s)}
    hidden |= {str(raw[k]) for k in SECRET_KEYS if isinstance(raw.get(k), str) and len(raw[k]) >= MIN_SECRET}
    return [hide(line, hidden, shown) for line in problems]


#: Plain keys that hold ids, validated as such (a pasted token fails there, unechoed).
_ID_KEYS = frozenset({"accountId", "zoneId"})


_NOT_ACCEPTED = "not shown, not accepted: a secret belongs in a `--secret` key"


def _credential_problems(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[str]:
    """A value that looks like a credential, or holds one (``Bearer <token>``, a JWT), under a
    plain key, and a key that does: a token pasted in the wrong place would reach the stack
    outputs, the state, ``rendered/`` and the logs in plain text."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if path and credentials_in(str(k)):
                yield f"{key(*path)}: a key in it looks like a credential (pasted in the wrong place?); {_NOT_ACCEPTED}"
            elif path or k in _TOP_KEYS:
                yield from _credential_problems(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _credential_problems(v, (*path, i))
    elif isinstance(value, str) and path and path[-1] not in _ID_KEYS:
        if looks_like_credential(value):
            yield f"{key(*path)}: looks like a credential (an API token pasted under the wrong key?); {_NOT_ACCEPTED}"
        elif credentials_in(value):
            yield f"{key(*path)}: holds what looks like a credential (a token inside the value); {_NOT_ACCEPTED}"


def parse(
    raw: Mapping[str, Any],
    secret_keys: Iterable[str] = (),
    *,
    stack: str | None = None,
    require_secrets: bool = True,
) -> StackConfig:
    """Parse the stack's ``homelab:*`` values (keys without the ``homelab:`` prefix).

    ``secret_keys`` are the full config keys Pulumi marks secret; ``stack`` is the stack's name
    (the cluster must be named after it); ``require_secrets`` off parses another stack's file,
    whose secrets are never read. Raises :class:`ConfigError` listing every mistake; no secret
    and nothing that looks like one appears in it.
    """
    problems = [f"{PROJECT}:{k}: unknown config key" for k in sorted(set(raw) - set(_TOP_KEYS) - set(SECRET_KEYS))]
    problems += _token_problems(raw, secret_keys, require_secrets)
    try:
        cfg = StackConfig.model_validate({k: v for k, v in raw.items() if k in _TOP_KEYS})
    except ValidationError as exc:
        raise ConfigError(redact([*problems, *(format_error(e) for e in exc.errors())], raw)) from None
    problems += _credential_problems(raw)
    problems += semantic_problems(cfg, stack)
    if problems:
        raise ConfigError(redact(problems, raw))
    return cfg


def release_settings(cfg: StackConfig) -> dict[str, Any]:
    """The release section as the stack file spells it (camelCase), for exports and diffs."""
    return cfg.release.model_dump(mode="json", by_alias=True)
