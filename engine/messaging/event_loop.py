"""An asyncio event loop in a thread of its own, for synchronous callers of an asyncio-only client library.

Tasks run in threads of an RQ worker and the trigger listener is synchronous too; nats-py is asyncio only. One
``EventLoopThread`` per connection runs the client's coroutines (and its reader and pinger tasks) while the caller's
thread waits for each result with a timeout, so a kill or a task timeout is noticed between two calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: How long ``close`` waits for the loop's thread to finish its last tasks.
STOP_SECONDS = 5.0


class EventLoopThread:
    """A running event loop, stopped (its pending tasks cancelled, the loop closed) by ``close``."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._started.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            # What is left (a client's reader, a keep-alive) is cancelled and awaited, so nothing runs on a
            # closed loop and no "task was destroyed but it is pending" warning is printed.
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())  # its name lookups' threads
            self._loop.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._loop.is_closed()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """The coroutine's result, run on the loop; ``TimeoutError`` (the coroutine cancelled) past ``timeout``."""
        if not self.running:
            coroutine.close()
            raise RuntimeError("the event loop is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:  # since Python 3.11 also asyncio's: the coroutine's own
            if future.done():
                raise
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:.1f}s") from None

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Start a coroutine on the loop without waiting for it (a background keep-alive)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def close(self) -> None:
        """Stop the loop and wait for its thread; calling it again does nothing."""
        if self._thread.is_alive() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed in between by another caller
                self._loop.call_soon_threadsafe(self._loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(STOP_SECONDS)
