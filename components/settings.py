"""The program's config, read once before any resource exists: the running stack's (as the CLI
hands it over), checked with the homelab around it (:mod:`homelab.config.cross_stack`)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pulumi
from pulumi.runtime import config as runtime_config

from homelab.config import models, rules
from homelab.config.cross_stack import PREFIX, check, decoded, excluded_domains
from homelab.config.models import ConfigError
from homelab.config.reader import StackFileError
from homelab.config.stack import StackConfig
from homelab.errors import HomelabError


class Settings(NamedTuple):
    config: StackConfig
    #: Secret Output: the Cloudflare API token, never plain.
    cloudflare_api_token: pulumi.Output[str]
    #: Secret Output: the DNS-only token the cluster's Secrets get.
    cluster_dns_token: pulumi.Output[str]
    #: Other clusters' domains below this cluster's domain (external-dns leaves them alone).
    excluded_domains: list[str]


#: The project this code belongs to (components/..), the last place to look for Pulumi.yaml.
CODE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """Where ``Pulumi.yaml`` and the stack files are: the directory the CLI names (the project
    root), else the working directory (the CLI runs the program there), else this code's project."""
    root = pulumi.get_root_directory()  # None outside a Pulumi run
    candidates = [Path(root)] if root else []
    candidates += [Path.cwd(), CODE_ROOT]
    for candidate in candidates:
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise ConfigError([f"no Pulumi.yaml in {', '.join(map(str, candidates))}: cannot find the homelab's stack files"])


class ConfigRefusedError(HomelabError, pulumi.RunError):
    """The config refused, as the program stops under the CLI: a ``RunError`` prints its message
    without a traceback (pulumi SDK ``pulumi/errors.py``)."""


def load() -> Settings:
    """Read and validate the running stack's config, and the homelab around it, before any
    resource is registered."""
    present = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = [k for k in present if runtime_config.is_config_secret(k)]
    values = decoded({key: runtime_config.get_config(key) for key in present})
    try:
        member, members = check(pulumi.get_stack(), values, secret_keys, project_root())
    except (ConfigError, StackFileError) as exc:
        raise ConfigRefusedError(str(exc)) from None
    for warning in rules.placeholder_warnings(member.config):
        pulumi.log.warn(warning)
    api_token = pulumi.Output.secret(str(values[PREFIX + models.API_TOKEN_KEY]))
    dns_token = pulumi.Output.secret(str(values[PREFIX + models.DNS_TOKEN_KEY]))  # never the API token
    return Settings(member.config, api_token, dns_token, excluded_domains(member, members))
