"""An app behind the gateways: one HTTPRoute for the seed's three exposure patterns.

* ``external``: parent ``envoy-external``. external-dns (``--gateway-name=envoy-external``)
  publishes each hostname as a proxied CNAME to the gateway's target, the tunnel's hostname.
* ``internal``: parent ``envoy-internal``. No public record: LAN DNS must point the name at
  ``internal.<domain>`` / the internal gateway IP.
* ``dual``: both parents in one route (the seed's Pattern 3). The public record exists because
  the route is on envoy-external; LAN clients use it too (through Cloudflare) unless LAN DNS
  answers the name with the internal gateway.

Routes attach to the ``https`` listener only; plain HTTP is the redirect route's job. The route
lives in the app's namespace, and a route in a namespace that does not exist fails ``pulumi up``
(the provider retries NotFound a few times; preview hides it). So this program creates every app
namespace that is not its own or the cluster's (the first app of a namespace owns the Namespace
resource), retained on delete: dropping an app, or the whole stack, never deletes the namespace
and what the app runs in it. ``createNamespace: false`` says the namespace exists already and
something else owns it (``make preflight`` checks it does); then nothing here creates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.base import Component
from components.envoy_gateway import GATEWAY_API, parent_ref
from homelab.config import names
from homelab.config.models import App, Exposure
from homelab.config.rules import app_namespaces

PARENTS: dict[Exposure, tuple[str, ...]] = {
    Exposure.external: (names.EXTERNAL_GATEWAY,),
    Exposure.internal: (names.INTERNAL_GATEWAY,),
    Exposure.dual: (names.EXTERNAL_GATEWAY, names.INTERNAL_GATEWAY),
}


def route_spec(app: App) -> dict[str, Any]:
    return {
        "hostnames": list(app.hostnames),
        "parentRefs": [parent_ref(gateway, names.HTTPS_LISTENER) for gateway in PARENTS[app.exposure]],
        "rules": [{"backendRefs": [{"name": app.service, "port": app.port}]}],
    }


def namespace_resource_name(namespace: str) -> str:
    """The app Namespace's resource name: the namespace's alone, never its first app's. Which
    app creates it changes when apps are renamed, reordered or dropped; under one parent type
    (AppRoute) the same name keeps the same URN, so the Namespace is neither re-created (it is
    retained on delete: the new create would fail, the namespace already exists) nor lost."""
    return f"{namespace}.namespace"


class AppRoute(Component):
    TYPE = "homelab:app_route:AppRoute"
    #: The app's Namespace, when this route's component creates it.
    namespace: Namespace | None

    def __init__(
        self,
        name: str,
        app: App,
        after: Sequence[pulumi.Resource] = (),
        creates_namespace: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: the Envoy Gateway CRDs and chart, and the app's Namespace when another
        app's component creates it."""
        super().__init__(name, opts)
        needs = list(after)
        self.namespace = None
        if creates_namespace:
            self.namespace = Namespace(
                namespace_resource_name(app.namespace),
                metadata=ObjectMetaArgs(name=app.namespace),
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            needs.append(self.namespace)
        self.route = CustomResource(
            f"{name}-route",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=ObjectMetaArgs(name=app.name, namespace=app.namespace),
            spec=route_spec(app),
            opts=pulumi.ResourceOptions(parent=self, depends_on=needs),
        )
        self.register_outputs({"hostnames": list(app.hostnames), "exposure": app.exposure.value})


def app_routes(apps: Sequence[App], after: Sequence[pulumi.Resource], opts: pulumi.ResourceOptions) -> list[AppRoute]:
    """One :class:`AppRoute` per app, each namespace created once (see the module docstring)."""
    creators = app_namespaces(list(apps))
    routes: list[AppRoute] = []
    for i, app in enumerate(apps):
        creator = creators.get(app.namespace)
        namespace = routes[creator].namespace if creator is not None and creator < i else None
        routes.append(
            AppRoute(
                f"{app.namespace}.{app.name}",
                app,
                after=[*after, *([namespace] if namespace is not None else [])],
                creates_namespace=creator == i,
                opts=opts,
            )
        )
    return routes
