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
import contextlib
import gc
import logging
import os
import runpy
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from homelab.paths import ROOT
from homelab.plan.mock_monitor import ProviderMocks, RecordingMonitor
from homelab.plan.recorded import (
    SECRET_SHOWN,
    SECRET_SIG,
    SECRET_SIG_KEY,
    Call,
    Plan,
    Registration,
    is_secret,
    plain_strings,
    reveal,
)
from homelab.plan.run_config import (
    PLACEHOLDER_PREFIX,
    PROJECT,
    placeholder,
    preflight,
    program_config,
    read_stack_config,
    referenced_stack,
    referenced_stack_outputs,
    stack_file,
)

#: What other modules and the tests read from here; each lives in the module named above.
__all__ = [
    "PLACEHOLDER_PREFIX",
    "PROGRAM",
    "PROJECT",
    "ROOT",
    "SECRET_SHOWN",
    "SECRET_SIG",
    "SECRET_SIG_KEY",
    "Call",
    "Plan",
    "ProviderMocks",
    "RecordingMonitor",
    "Registration",
    "is_secret",
    "placeholder",
    "plain_strings",
    "preflight",
    "program_config",
    "read_stack_config",
    "referenced_stack",
    "referenced_stack_outputs",
    "reveal",
    "run",
    "stack_file",
]

PROGRAM = ROOT / "__main__.py"


class _LogCapture(list):
    def __init__(self) -> None:
        super().__init__()
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
