"""The Cloudflare API token doctor reads with: never printed, never written anywhere.

The stack's ``homelab:cloudflareApiToken``, from ``$CLOUDFLARE_API_TOKEN`` when set, else through
``pulumi config get`` when the Pulumi CLI is installed (it decrypts the stack's secret; the
passphrase comes from ``$PULUMI_CONFIG_PASSPHRASE`` as for every Pulumi command). The CLI masks
the token in every line it prints, whatever an error message might echo.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from homelab.config.models import API_TOKEN_KEY, PROJECT
from homelab.doctor.expected import Expected

TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
TOKEN_KEY = f"{PROJECT}:{API_TOKEN_KEY}"
#: `pulumi config get` must not eat the 10 s in which a bad token has to be one FAIL line.
PULUMI_TIMEOUT = 5.0


@dataclass(frozen=True)
class Token:
    value: str | None
    #: where it came from (never the token itself), or why there is none
    source: str


def find_token(
    stack: str,
    root: Path,
    env: Mapping[str, str],
    which: Callable[[str], str | None],
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> Token:
    """``$CLOUDFLARE_API_TOKEN``, else ``pulumi config get --stack <stack> homelab:cloudflareApiToken``."""
    if env.get(TOKEN_ENV, "").strip():
        return Token(env[TOKEN_ENV].strip(), f"${TOKEN_ENV}")
    pulumi = which("pulumi")
    if pulumi is None:
        return Token(None, f"no ${TOKEN_ENV}, and no pulumi CLI on PATH to read {TOKEN_KEY}")
    try:
        done = run(
            [pulumi, "config", "get", "--stack", stack, TOKEN_KEY],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT,
            stdin=subprocess.DEVNULL,  # never wait for a passphrase prompt
            env={**env, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Token(None, f"`pulumi config get {TOKEN_KEY}` did not run: {type(exc).__name__}")
    value = done.stdout.strip()
    if done.returncode != 0 or not value:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return Token(None, f"`pulumi config get --stack {stack} {TOKEN_KEY}` failed: {why}")
    return Token(value, f"pulumi config of stack {stack}")


def token_fix(exp: Expected, tool: str = "doctor") -> str:
    return (
        f"export {TOKEN_ENV}=<the stack's {TOKEN_KEY}> ({tool} only reads), or install the Pulumi CLI, "
        f"log in and export PULUMI_CONFIG_PASSPHRASE: {tool} runs `pulumi config get --stack {exp.stack} {TOKEN_KEY}`"
    )
