"""An overall deadline for one external call: the whole call, not each read.

The clients' own timeouts bound one socket operation each, not the answer: urllib3's read
timeout (the ``kubernetes`` client) is "the maximum amount of time to wait between consecutive
read operations" (urllib3 2.x, ``urllib3/util/timeout.py``, ``Timeout``), httpx's (the
``cloudflare`` SDK) "the maximum duration to wait for a chunk of data to be received"
(https://www.python-httpx.org/advanced/timeouts/). A server that trickles its answer, a few bytes
now and then, holds such a call for as long as it goes on. :func:`within` bounds the whole
call, connect, headers and body together: the call runs in a thread of its own, and when the
deadline passes the caller gets :class:`DeadlineError` at once. The thread is left to end by
itself: its reads stay bounded by the clients' timeouts, and it is a daemon thread, so it never
holds the process's exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from homelab.errors import HomelabError

T = TypeVar("T")


class DeadlineError(HomelabError):
    """The call had no complete answer within its deadline: names the endpoint and the deadline."""

    def __init__(self, endpoint: str, seconds: float) -> None:
        super().__init__(f"{endpoint}: no complete answer within {seconds:g} s (the deadline of one call)")
        self.endpoint = endpoint
        self.seconds = seconds


def within(seconds: float, endpoint: str, call: Callable[[], T]) -> T:
    """``call()``'s result, or what it raised; :class:`DeadlineError` when it has not ended
    ``seconds`` after it started. ``endpoint`` (``GET /version``) is what the message names."""
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller, whatever it is
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name=f"doctor {endpoint}", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineError(endpoint, seconds)
    if failure:
        raise failure[0]
    return outcome[0]
