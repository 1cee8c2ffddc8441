"""Runs every check of one stack: the cluster, Cloudflare and public DNS side by side.

The three sources do not depend on each other, so they run in parallel threads: the slowest
bounds the run (an unreachable cluster costs its connect timeout once, whatever else is slow).
A source that cannot be reached at all is one FAIL line in the Access group and its checks are
skipped; an unexpected failure inside one source is one FAIL line too, never a traceback (unless
``debug``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homelab.doctor import checks_cloudflare, checks_dns, credentials
from homelab.doctor.checks_cluster import cluster_checks
from homelab.doctor.cloudflare_api import BASE_URL_ENV
from homelab.doctor.expected import Expected
from homelab.doctor.kube import Kube, KubeconfigError, KubeError, connect, kubeconfig_path
from homelab.doctor.report import ACCESS, Check, failed, passed, redact


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Options:
    """Where doctor looks. Every default is the real one; tests point each at the loopback."""

    root: Path
    kubeconfig: str
    env: Mapping[str, str]
    nameservers: Sequence[tuple[str, int]] = ((checks_dns.DEFAULT_NAMESERVER, 53),)
    probe: bool = False
    cloudflare_api: str | None = None
    prober: Callable[[str], checks_dns.Probe] = checks_dns.probe
    which: Callable[[str], str | None] = shutil.which
    now: Callable[[], datetime] = field(default=_now)
    debug: bool = False

    @classmethod
    def live(cls, root: Path, debug: bool, **more: Any) -> Options:
        """The real places, read from this process's environment (the kubeconfig, the Cloudflare
        API's URL): what doctor, preflight and adopt run with."""
        env = dict(os.environ)
        api = env.get(BASE_URL_ENV) or None
        return cls(root=root, kubeconfig=kubeconfig_path(env), env=env, cloudflare_api=api, debug=debug, **more)


@contextmanager
def open_cluster(exp: Expected, kubeconfig: str) -> Iterator[tuple[Check, Kube | None]]:
    """The ``cluster <context>`` line, and the cluster to read when it PASSes (else None): the
    context must be in the kubeconfig and its API server answer ``/version`` (one bounded try)."""
    name = f"cluster {exp.context}"
    try:
        api_client, host = connect(exp.context, kubeconfig)
    except KubeconfigError as exc:
        api_client, host = None, str(exc)
    if api_client is None:
        fix = (
            f"homelab:cluster.kubeContext is {exp.context!r}: add that context to the kubeconfig, "
            "or point KUBECONFIG at the file that has it"
        )
        yield failed(ACCESS, name, f"{host}; cluster checks skipped", fix), None
        return
    try:
        kube: Kube | None = Kube(api_client)
        try:
            version = kube.version()
            access = passed(ACCESS, name, f"{host}, Kubernetes {version.get('gitVersion', '?')}")
        except KubeError as exc:
            kube = None
            access = failed(
                ACCESS,
                name,
                f"{host}: {exc}; cluster checks skipped",
                f"is the cluster up, {host} reachable from here and the context's credentials valid? "
                f"{exp.kubectl('get --raw /version')}",
            )
        yield access, kube
    finally:
        api_client.close()


def cluster_part(exp: Expected, opts: Options) -> list[Check]:
    with open_cluster(exp, opts.kubeconfig) as (access, kube):
        return [access] if kube is None else [access, *cluster_checks(exp, kube, opts.now())]


def cloudflare_part(exp: Expected, opts: Options) -> list[Check]:
    token = credentials.find_token(exp.stack, opts.root, opts.env, opts.which)
    return redact(checks_cloudflare.cloudflare_checks(exp, token, opts.cloudflare_api), [token.value or ""])


def public_part(exp: Expected, opts: Options) -> list[Check]:
    out = checks_dns.public_dns_checks(exp, opts.nameservers)
    if opts.probe:
        out += checks_dns.probe_checks(exp, opts.prober)
    return out


Part = Callable[[Expected, Options], list[Check]]


def _guard(what: str, part: Part, exp: Expected, opts: Options, tool: str = "doctor") -> list[Check]:
    try:
        return part(exp, opts)
    except Exception as exc:
        if opts.debug:
            raise
        return [
            failed(
                ACCESS,
                what,
                f"{tool} stopped: {type(exc).__name__}: {exc}",
                f"a bug in {tool} or an answer it does not understand: re-run with --debug for the traceback",
            )
        ]


def run_parts(parts: Sequence[tuple[str, Part]], exp: Expected, opts: Options, tool: str = "doctor") -> list[Check]:
    """Each part in its own thread; an unexpected failure in one is one FAIL line named ``what``."""
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(_guard, what, part, exp, opts, tool) for what, part in parts]
        return [check for future in futures for check in future.result()]


def run(exp: Expected, opts: Options) -> list[Check]:
    parts = (("cluster", cluster_part), ("Cloudflare", cloudflare_part), ("public DNS", public_part))
    return run_parts(parts, exp, opts)
