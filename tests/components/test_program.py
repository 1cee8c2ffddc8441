"""The whole program per stack: providers, names, outputs."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from components.app_route import AppRoute
from components.cert_manager import CertManager
from components.cilium import Cilium
from components.cloudflare_tunnel import CloudflareTunnel
from components.coredns import CoreDns
from components.envoy_gateway import EnvoyGateway
from components.external_dns import ExternalDns
from components.promotion import StagingGate
from homelab.plan import mockrun
from homelab.plan.mockrun import Plan
from tests.conftest import STACKS

K8S_PROVIDER = "pulumi:providers:kubernetes"


@pytest.mark.parametrize("stack", STACKS)
def test_one_kubernetes_provider_bound_to_the_stacks_context(plans: dict[str, Plan], stack: str) -> None:
    (provider,) = plans[stack].of_type(K8S_PROVIDER)
    assert provider.plain_inputs["context"] == stack


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_uses_the_stacks_provider(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    (provider,) = plan.of_type(K8S_PROVIDER)
    k8s = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert k8s
    for res in k8s:
        assert res.provider.startswith(provider.urn + "::"), f"{res.type} {res.name} uses {res.provider!r}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_is_named_explicitly(plans: dict[str, Plan], stack: str) -> None:
    """No auto-naming: what other objects refer to never changes under them."""
    for res in plans[stack].resources:
        if res.custom and res.type.startswith("kubernetes:") and "helm.sh" not in res.type:
            assert (res.k8s_object.get("metadata") or {}).get("name"), f"{res.type} {res.name} has no metadata.name"


@pytest.mark.parametrize("stack", STACKS)
def test_components_use_homelab_type_tokens(plans: dict[str, Plan], stack: str) -> None:
    components = [r for r in plans[stack].resources if not r.custom and not r.remote]
    assert components
    for res in components:
        module, _, name = res.type.partition(":")[2].partition(":")
        assert res.type.startswith("homelab:") and module and name[0].isupper(), res.type


@pytest.mark.parametrize("stack", STACKS)
def test_outputs(plans: dict[str, Plan], stack: str) -> None:
    out = plans[stack].outputs
    assert out["cluster"] == stack
    assert out["kubeContext"] == stack
    assert out["lbPool"] == f"{stack}-pool"
    assert out["corednsIp"] == "10.200.0.10"


def test_a_process_that_ran_the_program_can_fork_and_run_it_again() -> None:
    """`make mutate` forks a process that already ran the tests, once per mutant, two at a time: a
    run must not leave worker threads behind, or the forked child waits forever for threads it
    does not have."""
    before = threading.active_count()
    mockrun.run("main")
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]
    # nor reuse the loop it found: after a fork, that loop's epoll and wake-up pipe are shared
    # with the parent and every sibling, which can read the wake-ups this run waits for
    inherited = asyncio.get_event_loop()
    mockrun.run("main")
    assert inherited.is_closed()
    assert asyncio.get_event_loop() is not inherited
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code
        try:
            plan = mockrun.run("main")
            os._exit(0 if plan.of_type("kubernetes:helm.sh/v3:Release") else 3)
        except BaseException:
            os._exit(4)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(child, 9)
    os.waitpid(child, 0)
    pytest.fail("the forked child's program run hung for 30 s")


def test_each_component_writes_its_type_token_out() -> None:
    """Part of every child's URN: a token derived from a module or class name would change with
    a rename and replace everything the component made."""
    classes = (AppRoute, CertManager, Cilium, CloudflareTunnel, CoreDns, EnvoyGateway, ExternalDns, StagingGate)
    assert [c.TYPE for c in classes] == [
        "homelab:app_route:AppRoute",
        "homelab:cert_manager:CertManager",
        "homelab:cilium:Cilium",
        "homelab:cloudflare_tunnel:CloudflareTunnel",
        "homelab:coredns:CoreDns",
        "homelab:envoy_gateway:EnvoyGateway",
        "homelab:external_dns:ExternalDns",
        "homelab:promotion:StagingGate",
    ]
