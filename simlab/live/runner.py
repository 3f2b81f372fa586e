"""One thread running one asyncio event loop: where the lab's listeners and connections live.

:class:`LoopThread` uses documented asyncio and threading API only
(``asyncio.new_event_loop``, ``loop.run_until_complete``,
``loop.call_soon_threadsafe``, ``asyncio.Event``, ``asyncio.all_tasks``,
``loop.shutdown_asyncgens``, ``loop.shutdown_default_executor``,
``loop.close``; ``threading.Thread``; ``concurrent.futures.Future``).

The thread runs one coroutine from start to end:

1. ``opening()`` - start the servers on their pre-bound sockets; once it
   returns, :meth:`LoopThread.start` returns (an exception it raises is
   raised by :meth:`~LoopThread.start` at once, with nothing left running);
2. wait until :meth:`LoopThread.stop` is called;
3. ``closing()`` - close the servers and end the connections.

Then, as :func:`asyncio.run` does, the tasks still pending are cancelled
and awaited, asynchronous generators and the default executor are shut
down and the loop is closed, all on the loop's own thread; :meth:`stop`
returns once that thread has ended.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["LoopThread"]


class LoopThread:
    """An event loop of its own in a thread of its own, for servers started and stopped from another thread.

    ``opening`` and ``closing`` are coroutine functions run on the loop;
    ``exception_handler`` is the loop's (``loop.set_exception_handler``).
    """

    def __init__(self, opening: Callable[[], Awaitable[Any]], closing: Callable[[], Awaitable[Any]], *,
                 name: str = "simlab-live", exception_handler: Callable[..., Any] | None = None) -> None:
        self.opening = opening
        self.closing = closing
        self.loop = asyncio.new_event_loop()
        if exception_handler is not None:
            self.loop.set_exception_handler(exception_handler)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ready: concurrent.futures.Future = concurrent.futures.Future()
        self._stop_requested: asyncio.Event | None = None
        self._stopping = False  # set by stop(), read on the loop: a stop before the Event exists is not lost
        self._main_task: asyncio.Task | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and return once ``opening()`` has returned; raise what it raised."""
        self.thread.start()
        try:
            self._ready.result(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Run ``closing()``, end the loop and join the thread (``timeout``: seconds for ``closing()``).

        If ``closing()`` takes longer, it is cancelled. Safe to call more than once.
        """
        self._stopping = True
        if self.thread.ident is None:  # never started
            if not self.loop.is_closed():
                self.loop.close()
            return
        if not self.thread.is_alive():
            self.thread.join()
            return
        try:
            self.loop.call_soon_threadsafe(self._request_stop)
        except RuntimeError:  # the loop has closed meanwhile: the thread is ending
            pass
        self.thread.join(timeout)
        if self.thread.is_alive():
            try:
                self.loop.call_soon_threadsafe(self._cancel_main)
            except RuntimeError:
                pass
            self.thread.join()

    # --- on the loop's thread ------------------------------------------------------------
    def _request_stop(self) -> None:
        if self._stop_requested is not None:
            self._stop_requested.set()

    def _cancel_main(self) -> None:
        if self._main_task is not None:
            self._main_task.cancel()

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            self._main_task = loop.create_task(self._main())
            try:
                loop.run_until_complete(self._main_task)
            except asyncio.CancelledError:  # stop() gave up waiting for closing()
                pass
            finally:
                self._cancel_the_rest()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
        except BaseException as exc:  # pragma: no cover - a fault of this module, not of a connection
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def _main(self) -> None:
        self._stop_requested = asyncio.Event()
        try:
            await self.opening()
        except BaseException as exc:
            self._ready.set_exception(exc)
            await self.closing()  # whatever did start
            return
        self._ready.set_result(None)
        if not self._stopping:
            await self._stop_requested.wait()
        await self.closing()

    def _cancel_the_rest(self) -> None:
        loop = self.loop
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for task in pending:
            if not task.cancelled() and task.exception() is not None:
                loop.call_exception_handler({"message": "simlab.live: error in a task ended at stop",
                                             "exception": task.exception(), "task": task})
