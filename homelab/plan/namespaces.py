"""Every namespace an object of the plan goes into must exist when ``pulumi up`` creates it.

Creating an object in a namespace that does not exist fails: the provider retries NotFound a
few times, then the update fails, and preview shows it only as a preview-time problem
(DESIGN.md, "What the first real `pulumi up` meets"). A bare cluster brings only its own
namespaces, so every other one must be created by the plan itself: a Namespace the program
creates, one a chart renders, or one an app declares as already there
(``createNamespace: false``, checked live by ``make preflight``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homelab.config import names
from homelab.config.models import APPS_KEY, PROJECT, App
from homelab.plan.mockrun import Plan
from homelab.plan.render import HELM_CHART, HELM_RELEASE, Rendered
from homelab.plan.schema_problems import object_label


def _created(plan: Plan, charts: Sequence[Rendered]) -> set[str]:
    made = {
        str((r.k8s_object.get("metadata") or {}).get("name"))
        for r in plan.resources
        if r.type == "kubernetes:core/v1:Namespace"
    }
    made |= {
        str((o.get("metadata") or {}).get("name")) for c in charts for o in c.objects if o.get("kind") == "Namespace"
    }
    return made | set(names.CLUSTER_NAMESPACES)


def _placed(plan: Plan, charts: Sequence[Rendered]) -> Iterable[tuple[str, str]]:
    """(what, namespace) of every namespaced thing the plan writes."""
    for res in plan.resources:
        if res.type in (HELM_RELEASE, HELM_CHART):
            yield f"{res.type.rsplit(':', 1)[-1]} {res.name}", str(res.plain_inputs.get("namespace") or "default")
        elif res.custom and res.type.startswith("kubernetes:") and not res.type.startswith("pulumi:"):
            obj = res.k8s_object
            namespace = (obj.get("metadata") or {}).get("namespace")
            if namespace:
                yield f"{object_label(obj)} ({res.name})", str(namespace)
    for chart in charts:
        for obj in chart.objects:
            namespace = (obj.get("metadata") or {}).get("namespace")
            if namespace and not chart.spec.stored:  # a release's objects go where the release goes
                yield f"{object_label(obj)} (helm.v4.Chart {chart.spec.release})", str(namespace)


def declared(config: Mapping[str, Any]) -> set[str]:
    """Namespaces a stack file's apps say exist already (``createNamespace: false``); the
    config was checked by the run, so this reads it as the program does."""
    apps = [App.model_validate(app) for app in config.get(f"{PROJECT}:{APPS_KEY}") or []]
    return {app.namespace for app in apps if app.create_namespace is False}


def problems(plan: Plan, charts: Sequence[Rendered], existing: Iterable[str] = ()) -> list[str]:
    """One line per object headed for a namespace nobody creates. ``existing``: namespaces the
    config says are there already (apps with ``createNamespace: false``)."""
    there = _created(plan, charts) | set(existing)
    return sorted(  # registration order varies from run to run
        f"{what} goes into namespace {namespace!r}, which nothing in this plan creates: `pulumi up` would fail "
        "with NotFound (an app's namespace: leave the app's createNamespace unset, and the program creates it)"
        for what, namespace in _placed(plan, charts)
        if namespace not in there
    )
