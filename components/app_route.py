"""An app behind the gateways: one HTTPRoute for the seed's three exposure patterns.

* ``external``: parent ``envoy-external``. external-dns (``--gateway-name=envoy-external``)
  publishes each hostname as a proxied CNAME to the gateway's target, the tunnel's hostname.
* ``internal``: parent ``envoy-internal``. No public record: LAN DNS must point the name at
  ``internal.<domain>`` / the internal gateway IP.
* ``dual``: both parents in one route (the seed's Pattern 3). The public record exists because
  the route is on envoy-external; LAN clients use it too (through Cloudflare) unless LAN DNS
  answers the name with the internal gateway.

Routes attach to the ``https`` listener only; plain HTTP is the redirect route's job. The route
lives in the app's namespace, which the app's own deployment creates; ``createNamespace: true``
makes this program create it instead (only when nothing else does: two owners fight).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components import names
from components.config import App, Exposure
from components.envoy_gateway import GATEWAY_API, parent_ref

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


class AppRoute(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        app: App,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``after``: the Envoy Gateway chart (it brings the HTTPRoute CRD)."""
        super().__init__("homelab:app_route:AppRoute", name, None, opts)
        needs = list(after)
        if app.create_namespace:
            needs.append(
                Namespace(
                    f"{name}-namespace",
                    metadata=ObjectMetaArgs(name=app.namespace),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.route = CustomResource(
            f"{name}-route",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=ObjectMetaArgs(name=app.name, namespace=app.namespace),
            spec=route_spec(app),
            opts=pulumi.ResourceOptions(parent=self, depends_on=needs),
        )
        self.register_outputs({"hostnames": list(app.hostnames), "exposure": app.exposure.value})
