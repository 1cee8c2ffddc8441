"""Read-only access to one cluster, through the official ``kubernetes`` client.

Only GETs: every method here reads one object or one list, and nothing in doctor has a method
that writes. Objects come back as plain dicts, exactly what ``kubectl get -o json`` prints, so
the check functions are pure and their test data is what a real cluster answers.

Every call is bounded twice, with no retries: each socket operation by :data:`TIMEOUT`, and the
whole call, connect to last byte, by :data:`DEADLINE` (:mod:`homelab.doctor.deadline`: a server
that trickles its answer resets a read timeout with every chunk). The first call that gets no
answer, or no complete one in time, marks the cluster unreachable: later calls fail at once with
the same reason instead of waiting again, so an unreachable cluster costs one timeout, not one
per check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from homelab.doctor.deadline import DeadlineError, within
from homelab.doctor.report import Check, failed
from homelab.errors import HomelabError

#: (connect, read) seconds for every API call: each socket operation.
TIMEOUT = (3.0, 5.0)
#: Seconds for the whole of one API call (connect, request, every byte of the answer), read at
#: call time (the tests lower it).
DEADLINE = 8.0
DEFAULT_KUBECONFIG = "~/.kube/config"
#: What to ask for when only the metadata matters (an object's existence, its labels): the API
#: server answers with PartialObjectMetadata(List), so no Secret's data is ever read.
METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

Obj = dict[str, Any]


class KubeError(HomelabError):
    """A read that got no usable answer (unreachable, unauthorized, forbidden, server error)."""


class KubeconfigError(KubeError):
    """The kubeconfig cannot give a client for the context."""


def kubeconfig_path(env: dict[str, str] | None = None) -> str:
    """``$KUBECONFIG`` (a list of files, as kubectl reads it) or ``~/.kube/config``, read at call
    time (the client reads it once, at import)."""
    env = dict(os.environ) if env is None else env
    return env.get("KUBECONFIG") or DEFAULT_KUBECONFIG


def _files(path: str) -> list[Path]:
    return [Path(p).expanduser() for p in path.split(os.pathsep) if p]


def connect(context: str, path: str) -> tuple[Any, str]:
    """An ApiClient for ``context`` of the kubeconfig ``path``, and the API server's URL.

    Raises :class:`KubeconfigError` naming what is missing (the file, the context and the
    contexts there are), never a traceback.
    """
    files = _files(path)
    if not any(f.is_file() for f in files):
        raise KubeconfigError(f"no kubeconfig at {path} (set KUBECONFIG or write ~/.kube/config)")
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=path)
    except Exception as exc:  # YAML errors, unreadable files, a kubeconfig of another shape
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {type(exc).__name__}: {exc}") from None
    known = sorted(str(c.get("name")) for c in cast(list[Any], contexts or []) if isinstance(c, dict))
    if context not in known:
        raise KubeconfigError(f"no context {context!r} in {path} (contexts there: {', '.join(known) or 'none'})")
    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=path, context=context, client_configuration=cfg, persist_config=False)
    except Exception as exc:  # a missing certificate file, a failing exec credential plugin...
        raise KubeconfigError(f"context {context!r} of {path} cannot be used: {type(exc).__name__}: {exc}") from None
    cfg.retries = False  # one attempt per call: the timeouts bound it, retries would multiply them
    return client.ApiClient(cfg), str(cfg.host)


def _api_error(exc: ApiException) -> str:
    """The API server's own message (a Status object) when it sent one."""
    message = ""
    try:
        body = json.loads(exc.body or "")
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
    except ValueError:
        pass
    return f"HTTP {exc.status} {exc.reason or ''}".rstrip() + (f": {message}" if message else "")


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection failure, e.g. ``Connection refused``."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return _reason(reason)
    text = str(exc)
    return text.split(": ", 1)[-1] if "Failed to establish a new connection" in text else text


class Kube:
    """One cluster, read only. Each method returns the object as a dict, or None when it does
    not exist (404); every other failure is a :class:`KubeError`."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client
        self.unreachable: str | None = None

    def _fetch(self, path: str, query: list[tuple[str, str]], accept: str) -> bytes:
        """The body of ``GET path``, read in full, as the typed calls of the client send it
        (``_preload_content=False``: a non-2xx answer is an ApiException)."""
        request = self.api_client.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": accept}, auth_settings=["BearerToken"]
        )
        response = self.api_client.call_api(*request, _request_timeout=TIMEOUT)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return bytes(response.read())

    def read(self, path: str, labels: str = "", fields: str = "", accept: str = "application/json") -> Obj | None:
        """Any object or list by its API path (``/apis/apps/v1/daemonsets``), with selectors."""
        if self.unreachable:
            raise KubeError(self.unreachable)
        query = [(k, v) for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v]
        try:
            data = json.loads(within(DEADLINE, f"GET {path}", lambda: self._fetch(path, query, accept)))
        except DeadlineError as exc:
            self.unreachable = str(exc)
            raise KubeError(self.unreachable) from None
        except ApiException as exc:
            if exc.status == 404:
                return None
            if not exc.status:  # TLS failures come as status 0
                self.unreachable = f"no answer from the API server: {exc.reason}"
                raise KubeError(self.unreachable) from None
            raise KubeError(_api_error(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.unreachable = f"no answer from the API server: {_reason(exc)}"
            raise KubeError(self.unreachable) from None
        except ValueError as exc:
            raise KubeError(f"the API server answered with something that is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise KubeError("the API server answered with something that is not an object")
        return data

    def _named(self, prefix: str, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        """One object of an API group (``/api/v1``, ``/apis/apps/v1``) by name."""
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace is not None else ""
        return self.read(f"{prefix}{where}/{plural}/{quote(name, safe='')}")

    def version(self) -> Obj:
        """``GET /version``: the first call, to learn quickly whether the cluster answers."""
        data = self.read("/version")
        if data is None:
            raise KubeError("GET /version answered 404: this is not a Kubernetes API server")
        return data

    def config_map(self, namespace: str, name: str) -> Obj | None:
        return self._named("/api/v1", "configmaps", name, namespace)

    def service(self, namespace: str, name: str) -> Obj | None:
        return self._named("/api/v1", "services", name, namespace)

    def daemon_set(self, namespace: str, name: str) -> Obj | None:
        return self._named("/apis/apps/v1", "daemonsets", name, namespace)

    def deployment(self, namespace: str, name: str) -> Obj | None:
        return self._named("/apis/apps/v1", "deployments", name, namespace)

    def lease(self, namespace: str, name: str) -> Obj | None:
        return self._named("/apis/coordination.k8s.io/v1", "leases", name, namespace)

    def endpoint_slices(self, namespace: str, service: str) -> Obj | None:
        path = f"/apis/discovery.k8s.io/v1/namespaces/{quote(namespace, safe='')}/endpointslices"
        return self.read(path, labels=f"kubernetes.io/service-name={service}")

    def metadata(self, path: str) -> Obj | None:
        """Only the metadata of one object (None when it does not exist)."""
        return self.read(path, accept=METADATA)

    def metadata_list(self, path: str, labels: str = "") -> list[Obj]:
        """Only the metadata of each object of a list (empty when there is none)."""
        found = self.read(path, labels=labels, accept=METADATA_LIST)
        items = (found or {}).get("items")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def custom(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> Obj | None:
        """A custom resource (``group/version``); cluster-scoped when ``namespace`` is None."""
        return self._named(f"/apis/{api_version}", plural, name, namespace)


# ---------------------------------------------------------------------------------------------
# reading the objects (pure)


def conditions(obj: Obj | None, path: tuple[str, ...] = ("status", "conditions")) -> list[Obj]:
    node: Any = obj or {}
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return [c for c in node if isinstance(c, dict)] if isinstance(node, list) else []


def condition(items: list[Obj], kind: str) -> Obj | None:
    return next((c for c in items if c.get("type") == kind), None)


def is_true(items: list[Obj], kind: str) -> bool:
    found = condition(items, kind)
    return found is not None and found.get("status") == "True"


def outdated(obj: Obj | None, cond: Obj | None) -> int | None:
    """The generation ``cond`` was set for, when that is older than ``obj``'s own: a condition's
    ``observedGeneration`` "represents the .metadata.generation that the condition was set based
    upon. For instance, if .metadata.generation is currently 12, but the
    .status.conditions[x].observedGeneration is 9, the condition is out of date" (metav1.Condition,
    as every Gateway API and Envoy Gateway CRD carries it: ../shared/schemas/
    gateway.networking.k8s.io/gateway_v1.json, ``status.conditions``, ``status.listeners[].conditions``;
    httproute_v1.json ``status.parents[].conditions``; gateway.envoyproxy.io/
    clienttrafficpolicy_v1alpha1.json ``status.ancestors[].conditions``). The field is optional
    there: a condition without it, or an object without ``metadata.generation``, is not judged."""
    generation, observed = get(obj, "metadata", "generation"), (cond or {}).get("observedGeneration")
    if type(generation) is int and type(observed) is int and observed < generation:
        return observed
    return None


def describe(cond: Obj | None, kind: str) -> str:
    """``Programmed=False (AddressNotAssigned: no address assigned)``, as kubectl describe says it."""
    if cond is None:
        return f"no {kind} condition yet"
    detail = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
    return f"{kind}={cond.get('status')}" + (f" ({detail})" if detail else "")


def parse_time(value: Any) -> datetime | None:
    """A Kubernetes timestamp (RFC 3339, ``Z``, optional microseconds), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def get(obj: Obj | None, *path: str, default: Any = None) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, dict):
            return default
        node = node.get(key)
    return default if node is None else node


def guarded(group: str, name: str, judge: Callable[[], Check], access_fix: str) -> Check:
    """Run one check; a read that failed (forbidden, server error, the cluster gone) or an object
    of a shape doctor does not know FAILs only that check, with the reason, not the others."""
    try:
        return judge()
    except KubeError as exc:
        return failed(group, name, f"cannot read it: {exc}", access_fix)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # an object of another shape
        return failed(
            group,
            name,
            f"doctor cannot read the object: {type(exc).__name__}: {exc}",
            "a version of the object doctor does not know: compare it with `kubectl get -o yaml`; "
            "re-run with --debug for the traceback",
        )
