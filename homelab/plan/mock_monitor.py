"""The mocks a run of the program registers against: :class:`ProviderMocks` stands in for what
providers compute (ids, random bytes, Cloudflare's answers, other stacks' outputs), every
invented value recognisably fake; :class:`RecordingMonitor` is the SDK's mock monitor keeping
each registration as a :class:`homelab.plan.recorded.Registration`.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from homelab.plan.recorded import Call, Registration, normalize


def _fake_id(*parts: str) -> str:
    """A provider-computed id stand-in: ``mock-`` and 27 hex digits (32 characters, like
    Cloudflare's ids), so no rendered file can pass it off as a real one."""
    return "mock-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:27]


class ProviderMocks(pulumi_mocks.Mocks):
    """Stand-ins for what providers compute. Everything invented is recognisably fake."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None):
        self.stack_outputs = dict(stack_outputs or {})
        #: Every provider function the program called: (token, arguments).
        self.calls: list[Call] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        outputs = dict(args.inputs)
        rid = f"mock-{args.name}"
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name") or args.name
            if name not in self.stack_outputs:
                raise RuntimeError(f"mock: no stack named {name!r} (known: {sorted(self.stack_outputs)})")
            outputs = {"name": name, "outputs": dict(self.stack_outputs[name]), "secretOutputNames": []}
            rid = name
        elif args.typ == "random:index/randomBytes:RandomBytes":
            length = int(args.inputs.get("length", 32))
            raw = hashlib.sha256(f"mock-{args.name}".encode()).digest() * (length // 32 + 1)
            outputs["base64"] = base64.b64encode(raw[:length]).decode()
            outputs["hex"] = raw[:length].hex()
        elif args.typ == "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared":
            rid = f"mock-tunnel-{uuid.UUID(hashlib.sha256(str(args.inputs.get('name')).encode()).hexdigest()[:32])}"
            outputs["accountTag"] = args.inputs.get("accountId")
        elif args.typ.startswith("cloudflare:"):
            rid = _fake_id(args.typ, args.name)
        return rid, outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        self.calls.append(Call(args.token, normalize(dict(args.args)), args.provider))
        if args.token == "cloudflare:index/getZone:getZone":
            name = (args.args.get("filter") or {}).get("name", "")
            return {"id": _fake_id("zone", name), "zoneId": _fake_id("zone", name), "name": name}, []
        if args.token == "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
            return {"token": f"mock-tunnel-token-{args.args.get('tunnelId')}"}, []
        return {}, []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping what the plain one drops: parent, provider,
    dependencies, protect and the raw inputs with secret markers."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        # urn -> registration, for RegisterResourceOutputs (once per component): scanning the
        # list instead made a run quadratic in its size
        self._by_urn: dict[str, Registration] = {}

    def _record(self, registration: Registration) -> None:
        self.registrations.append(registration)
        self._by_urn[registration.urn] = registration

    def RegisterResource(self, request):  # noqa: N802 (gRPC name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = normalize(rpc.deserialize_properties(request.object, keep_unknowns=False))
        # a remote component gets its provider in `providers`, keyed by package
        provider = request.provider or dict(request.providers).get(request.type.split(":", 1)[0], "")
        self._record(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                provider=provider,
                protect=bool(request.protect),
                dependencies=list(request.dependencies),
                inputs=inputs,
                outputs={"id": response.id, **normalize(rpc.deserialize_properties(response.object))}
                if request.custom
                else {},
                remote=request.remote,
                retain_on_delete=bool(request.retainOnDelete),
                import_id=request.importId,
            )
        )
        return response

    def ReadResource(self, request):  # noqa: N802
        response = super().ReadResource(request)
        self._record(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=True,
                provider=request.provider,
                protect=False,
                dependencies=list(request.dependencies),
                inputs=normalize(rpc.deserialize_properties(request.properties)),
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        outputs = normalize(rpc.deserialize_properties(request.outputs, keep_unknowns=False))
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = dict(outputs or {})
        else:
            registration = self._by_urn.get(request.urn)
            if registration is not None:
                registration.outputs = dict(outputs or {})
        return super().RegisterResourceOutputs(request)
