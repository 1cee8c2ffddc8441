"""Run the real program in-process under the Pulumi SDK's mock monitor.

This is how the project proves itself without the Pulumi CLI, a cluster or a cloud account: the
unchanged ``__main__.py`` runs against a recording monitor that keeps every registration
(type, name, parent, provider, dependencies, protect, inputs with their secret markers) and the
stack outputs. The offline plan, the tests, the schema validation and the benchmark all use it.

What the mocks cannot prove: what a provider does with the inputs (Helm rendering, server-side
defaults and CEL rules, Cloudflare's API answers). Mocked provider answers are marked ``mock-``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import json
import os
import runpy
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, cast

from homelab.paths import ROOT

PROGRAM = ROOT / "__main__.py"
PROJECT = "homelab"

# the SDK's wire markers for secrets (pulumi.runtime.rpc); kept in recorded inputs on purpose
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET_SHOWN = "[secret]"
PLACEHOLDER_PREFIX = "PLACEHOLDER-SECRET-"

from pulumi.runtime import config as runtime_config  # noqa: E402
from pulumi.runtime import mocks as pulumi_mocks  # noqa: E402
from pulumi.runtime import resource as sdk_resource  # noqa: E402
from pulumi.runtime import rpc, settings  # noqa: E402
from pulumi.runtime.proto import source_pb2  # noqa: E402
from pulumi.runtime.stack import run_in_stack  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402

# ---------------------------------------------------------------------------------------------
# stack config


def stack_file(stack: str, root: Path = ROOT) -> Path:
    from homelab.config.reader import stack_file as path_of

    return path_of(root, stack)


def read_stack_config(stack: str, path: Path | None = None, root: Path = ROOT) -> dict[str, Any]:
    """The config a run of ``stack`` gets, keys in full (``homelab:cluster``...): the project's
    ``Pulumi.yaml`` defaults under the stack file's values. Raises
    :class:`homelab.config.reader.StackFileError` (file:line: what) for a broken file."""
    from homelab.config.project import stack_config

    return stack_config(path or stack_file(stack, root), root)


def placeholder(key: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{key.split(':', 1)[-1]}"


def program_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Turn a stack file's config into what the CLI hands the program: JSON strings and the
    list of secret keys. Encrypted values (and the secrets a fresh clone lacks) become clearly
    marked placeholders, still flagged secret."""
    from homelab.config.models import PROJECT as CFG_PROJECT
    from homelab.config.models import REQUIRED_SECRETS

    out: dict[str, str] = {}
    secret: list[str] = []
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            out[key] = placeholder(key)
            secret.append(key)
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    for key in REQUIRED_SECRETS:
        full = f"{CFG_PROJECT}:{key}"
        if full not in out:
            out[full] = placeholder(full)
            secret.append(full)
    return out, secret


# ---------------------------------------------------------------------------------------------
# what was registered


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    #: A component a provider builds (``helm.v4.Chart``): its children never reach this monitor.
    remote: bool = False
    #: Left in place when Pulumi deletes it (``retain_on_delete``).
    retain_on_delete: bool = False

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secret markers replaced by ``[secret]``."""
        return reveal(self.inputs, shown=SECRET_SHOWN)

    @property
    def k8s_object(self) -> dict[str, Any]:
        """apiVersion/kind/metadata/spec... as the Kubernetes API would get them."""
        return {k: v for k, v in self.plain_inputs.items() if k != "__meta"}


class Call(NamedTuple):
    """A provider function the program called: its token, arguments and provider reference
    (``<provider urn>::<id>``; empty for the default provider)."""

    token: str
    args: dict[str, Any]
    provider: str


@dataclass
class Plan:
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    log: list[str]
    #: Provider functions called (data sources such as the zone lookup).
    calls: list[Call] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise KeyError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    @cached_property
    def _by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    @cached_property
    def _children(self) -> dict[str, list[Registration]]:
        kids: dict[str, list[Registration]] = {}
        for r in self.resources:
            kids.setdefault(r.parent, []).append(r)
        return kids

    def by_urn(self, urn: str) -> Registration:
        return self._by_urn[urn]

    def is_top(self, res: Registration) -> bool:
        """True for a resource whose parent is the stack itself."""
        return res.parent not in self._by_urn

    def component_of(self, res: Registration) -> Registration | None:
        """The top-level component a resource belongs to (None for a top-level resource)."""
        node = res
        while not self.is_top(node):
            node = self.by_urn(node.parent)
        return None if node is res else node

    def k8s_object(self, kind: str, name: str) -> dict[str, Any]:
        """The registered Kubernetes object of this kind whose ``metadata.name`` is ``name``."""
        for r in self.resources:
            if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}"):
                obj = r.k8s_object
                if (obj.get("metadata") or {}).get("name") == name:
                    return obj
        raise KeyError(f"no {kind} named {name}")

    def children(self, parent: Registration) -> list[Registration]:
        return self._children.get(parent.urn, [])

    def descendants(self, parent: Registration) -> Iterator[Registration]:
        for child in self.children(parent):
            yield child
            yield from self.descendants(child)


def _normalize(value: Any) -> Any:
    """Protobuf carries every number as a float; give integral ones back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def reveal(value: Any, shown: str | None = None) -> Any:
    """Strip secret markers: keep the values (``shown=None``) or replace them with ``shown``."""
    if is_secret(value):
        return reveal(value["value"]) if shown is None else shown
    if isinstance(value, dict):
        return {k: reveal(v, shown) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v, shown) for v in value]
    return value


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in ``value`` that is not under a secret marker."""
    if is_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from plain_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from plain_strings(v)


# ---------------------------------------------------------------------------------------------
# the mocks


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
        self.calls.append(Call(args.token, _normalize(dict(args.args)), args.provider))
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
        inputs = _normalize(rpc.deserialize_properties(request.object, keep_unknowns=False))
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
                outputs={"id": response.id, **_normalize(rpc.deserialize_properties(response.object))}
                if request.custom
                else {},
                remote=request.remote,
                retain_on_delete=bool(request.retainOnDelete),
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
                inputs=_normalize(rpc.deserialize_properties(request.properties)),
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        outputs = _normalize(rpc.deserialize_properties(request.outputs, keep_unknowns=False))
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = dict(outputs or {})
        else:
            registration = self._by_urn.get(request.urn)
            if registration is not None:
                registration.outputs = dict(outputs or {})
        return super().RegisterResourceOutputs(request)


class _LogCapture(list):
    def __init__(self) -> None:
        super().__init__()
        import logging

        self.logger = logging.getLogger(f"homelab.mockrun.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        capture = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                capture.append(f"{record.levelname.lower()}: {record.getMessage()}")

        self.logger.handlers = [_Handler()]


def _drop_leftovers() -> None:
    """A failed run leaves registrations and outputs pending; cancel them so the next run in
    this process starts clean (tests run the program many times)."""
    loop = asyncio.get_event_loop()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    cast(Any, settings.SETTINGS).outputs.clear()  # pending Output tasks of the failed run


def _quiet_failed_outputs(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A program that raises (bad config, the staging gate) leaves Outputs whose error nobody
    awaits; the error already reached the caller, so don't print it again at exit."""
    if str(context.get("message", "")).endswith("exception was never retrieved"):
        return
    loop.default_exception_handler(context)


def _fresh_loop() -> None:
    """Each run gets an event loop of its own, the last one closed.

    A loop inherited through fork shares its epoll instance and its wake-up pipe with the parent
    and with every sibling forked from it (``make mutate`` forks one process per mutant, two at
    a time): a wake-up that a sibling reads leaves this run waiting forever.
    """
    policy = asyncio.get_event_loop_policy()
    with contextlib.suppress(RuntimeError):
        old = policy.get_event_loop()
        if not old.is_running():
            old.close()
    policy.set_event_loop(policy.new_event_loop())


@contextlib.contextmanager
def _own_executor() -> Iterator[None]:
    """The run's thread pool (the SDK hands blocking mock calls to the loop's default
    executor) is made for the run and shut down after it, so no worker thread outlives it.

    A process with leftover pool threads cannot fork safely: the child inherits the pool but not
    its threads, and its next run waits forever for them (``make mutate`` forks after running
    the tests; every mutant then hung until its timeout).
    """
    loop = asyncio.get_event_loop()
    pool = ThreadPoolExecutor(thread_name_prefix="homelab-mockrun")
    loop.set_default_executor(pool)
    try:
        yield
    finally:
        pool.shutdown(wait=True)


@contextlib.contextmanager
def _no_stack_traces() -> Iterator[None]:
    """The SDK walks and formats the Python stack for every resource it registers (pulumi
    ``runtime/resource.py`` ``_get_stack_trace``, for the engine's error reports; about a tenth of
    a mock run). The mock monitor reads no stack trace, so a run skips them."""
    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the program runs (a performance fix, see
    benchmarks/plan_scaling.py).

    A run allocates many long-lived objects (Outputs, tasks, recorded inputs), which keeps
    triggering full collections, and each one walks the whole heap, SDK modules included
    (pulumi_cloudflare alone is ~300k objects): that was half of a 1000-route run. Reference
    counting still frees what it can. Afterwards the run's survivors go straight to the oldest
    generation (freeze + unfreeze moves them without walking them, unless the caller froze
    objects itself), so re-enabling the collector does not walk them all at once either; the
    cycles the run left are freed by the next full collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def referenced_stack(stack: str, config: Mapping[str, Any], root: Path = ROOT) -> tuple[str, str] | None:
    """(reference, stack name) of the stack ``stack``'s staging gate reads, or None when the
    gate is off or reads no stack file here. Uses the config model, so its defaults hold."""
    from pydantic import ValidationError

    from homelab.config.models import Promotion

    try:
        promotion = Promotion.model_validate(config.get(f"{PROJECT}:promotion") or {})
    except ValidationError:
        return None  # the program itself reports the bad key
    other = promotion.staging_stack_name
    if not promotion.require_staging or other == stack or not stack_file(other, root).exists():
        return None
    return promotion.staging_stack, other


def referenced_stack_outputs(stack: str, config: Mapping[str, Any], root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """Answers for the stack references ``stack`` makes: main's staging gate reads the
    ``release`` output staging exports, as if staging were deployed as written. The program
    exports ``release_settings`` of its parsed config (``__main__.py``), so the answer is that
    function of staging's parsed file: no run of staging's whole program."""
    ref = referenced_stack(stack, config, root)
    if ref is None:
        return {}
    from homelab.config.cross_stack import read_member
    from homelab.config.policy import release_settings

    reference, other = ref
    return {reference: {"release": release_settings(read_member(other, stack_file(other, root)).config)}}


def preflight(
    stack: str, values: Mapping[str, str], secret_keys: list[str], root: Path = ROOT, source: str | None = None
) -> None:
    """The program's own config check (this stack and the homelab around it), done before
    anything runs: a refused config never costs a run of the stack main's gate reads."""
    from homelab.config import cross_stack as homelab

    homelab.check(stack, homelab.decoded(values), secret_keys, root, source)


def run(
    stack: str,
    config: Mapping[str, Any] | None = None,
    *,
    secret_values: Mapping[str, str] | None = None,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    program: Callable[[], None] | None = None,
    preview: bool = True,
    registered: list[Registration] | None = None,
    root: Path = ROOT,
    preflight_check: bool = True,
    source: str | None = None,
) -> Plan:
    """Run the program for ``stack`` under mocks and return what it registered.

    ``config`` is a stack file's ``config:`` map (default: ``Pulumi.<stack>.yaml``);
    ``secret_values`` replace the placeholders of secret keys (tests use them to trace a known
    token); ``stack_outputs`` answers StackReferences by stack name. Exceptions the program
    raises (a :class:`homelab.config.models.ConfigError` for bad input) propagate unchanged;
    pass ``registered`` to see what was registered before the failure. ``root`` is the project
    directory (its ``Pulumi.yaml`` and stack files), as the CLI's project root.
    ``preflight_check`` off leaves every config check to the program itself (as under the CLI).
    """
    raw_config = read_stack_config(stack, root=root) if config is None else config
    values, secret_keys = program_config(raw_config)
    for key, value in (secret_values or {}).items():
        values[key] = value
        if key not in secret_keys:
            secret_keys.append(key)
    if program is None and preflight_check:
        preflight(stack, values, secret_keys, root, source)
    if stack_outputs is None:
        stack_outputs = referenced_stack_outputs(stack, raw_config, root)

    mocks = ProviderMocks(stack_outputs)
    monitor = RecordingMonitor(mocks)
    if registered is not None:
        monitor.registrations = registered
    logs = _LogCapture()
    _fresh_loop()
    pulumi_mocks.set_mocks(
        monitor.mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        monitor=monitor,
        logger=logs.logger,
        organization="organization",
    )
    cast(Any, settings.SETTINGS).root_directory = str(root)  # what the CLI tells the program: the project root
    runtime_config.set_all_config(values, secret_keys)
    os.environ.pop("PULUMI_CONFIG", None)

    def body() -> None:
        if program is not None:
            program()
        else:
            program_file = root / PROGRAM.name if (root / PROGRAM.name).is_file() else PROGRAM
            runpy.run_path(str(program_file), run_name="__main__")

    # set_mocks made (and finished) a root stack; start a fresh one exactly as `pulumi up` does
    settings.ROOT.set(None)
    asyncio.get_event_loop().set_exception_handler(_quiet_failed_outputs)
    with _gc_paused(), _own_executor(), _no_stack_traces():
        try:
            _sync_await(run_in_stack(body))
        finally:
            _drop_leftovers()
    return Plan(
        stack=stack, resources=monitor.registrations, outputs=monitor.stack_outputs, log=list(logs), calls=mocks.calls
    )
