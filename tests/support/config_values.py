"""The config values the typed-config tests (tests/config/test_config*.py) parse: a stack file's
``homelab:`` values and both tokens."""

from __future__ import annotations

from typing import Any

from homelab.config import models as config
from tests.conftest import stack_config

#: Both tokens, as `pulumi config set --secret` leaves them.
SECRETS = [f"homelab:{config.API_TOKEN_KEY}", f"homelab:{config.DNS_TOKEN_KEY}"]


def raw_config(stack: str = "main") -> dict[str, Any]:
    """A stack file's ``homelab:`` values without the prefix, plus test tokens: what parse reads."""
    raw = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items()}
    raw[config.API_TOKEN_KEY] = "api-token-for-tests"
    raw[config.DNS_TOKEN_KEY] = "dns-token-for-tests"
    return raw
