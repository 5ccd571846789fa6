"""Running the explorer's pipelines in worker processes, each job under a time and a memory limit.

A pipeline with an extreme parameter can take minutes or ask for gigabytes. Run in the server's
own threads it would hold a thread forever and keep the server from stopping, so every job runs
in a separate process instead:

- the worker's address space is limited (``RLIMIT_AS``: its size after start-up plus
  ``memory_bytes``), so a runaway allocation fails there with ``MemoryError``, not in the server;
- the server waits at most ``timeout_s`` for the answer, then kills the worker (a fresh one is
  started for the next job) and answers 422;
- a worker that dies (killed by the system, a crash in native code) is replaced the same way.

Workers are started with ``spawn`` (never forked from a server with running threads), are
daemons (they end with the server), exit when the server's end of their pipe closes, and on
Linux are killed by the kernel when the server dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

DEFAULT_TIMEOUT_S = 15.0
DEFAULT_MEMORY_BYTES = 4 * 1024**3
DEFAULT_WORKERS = 2
#: How long a new worker may take to import invariance and say it is ready.
STARTUP_TIMEOUT_S = 120.0


class JobError(Exception):
    """A job that did not produce a result; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus ``extra`` bytes (POSIX only)."""
    try:
        import resource
    except ImportError:  # Windows: the time limit still applies
        return
    current = _address_space()
    if current is None:
        return
    soft = current + extra
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, even by SIGKILL (elsewhere: no-op)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return


def _serve(connection: Connection, memory_bytes: int, preload: str | None) -> None:
    """The worker's loop: receive ``(function, payload)``, send back ``("ok", result)`` or an error."""
    _die_with_parent()
    if preload:
        __import__(preload)  # import the heavy modules once, before the limit is set
    _limit_memory(memory_bytes)
    connection.send(("ready", os.getpid()))
    while True:
        try:
            function, payload = connection.recv()
        except (EOFError, OSError):
            return  # the server is gone
        try:
            reply: tuple[Any, ...] = ("ok", function(payload))
        except JobError as error:
            reply = ("error", error.status, error.detail)
        except MemoryError:
            reply = (
                "error",
                422,
                f"the pipeline needs more than the {memory_bytes / 1024**3:g} GiB of memory allowed per request",
            )
        except Exception as error:
            reply = ("error", 422, f"the pipeline failed on this image: {type(error).__name__}: {error}")
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, context: Any, memory_bytes: int, preload: str | None) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, memory_bytes, preload), daemon=True, name="invariance-explore-worker"
        )
        self.process.start()
        child.close()
        if not self.connection.poll(STARTUP_TIMEOUT_S):
            self.kill()
            raise JobError(503, "the pipeline worker did not start in time; try again")
        try:
            self.connection.recv()
        except (EOFError, OSError):
            self.kill()
            raise JobError(503, "the pipeline worker could not start") from None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()


class WorkerPool:
    """Up to ``size`` worker processes, started on first use; see the module docstring.

    Args:
        size: How many jobs may run at once (more wait for a free worker, up to ``timeout_s``).
        timeout_s: The longest a job may run before its worker is killed.
        memory_bytes: Address space each worker may add after start-up.
        preload: A module each worker imports before its memory limit is set.
    """

    def __init__(
        self,
        size: int = DEFAULT_WORKERS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        preload: str | None = "invariance.explore.app",
    ) -> None:
        self.timeout_s = float(timeout_s)
        self.memory_bytes = int(memory_bytes)
        self._preload = preload
        self._context = mp.get_context("spawn")
        self._slots = threading.Semaphore(size)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False
        self._orders: queue.Queue[tuple[threading.Event, list[Any]]] = queue.Queue()
        self._spawner: threading.Thread | None = None

    def _spawn_forever(self) -> None:
        # Workers are started from this one long-lived thread: Linux's parent-death signal fires
        # when the *thread* that started a process ends, and request threads come and go.
        while True:
            done, box = self._orders.get()
            try:
                box.append(_Worker(self._context, self.memory_bytes, self._preload))
            except JobError as error:
                box.append(error)
            done.set()

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._spawner is None:
                self._spawner = threading.Thread(
                    target=self._spawn_forever, daemon=True, name="invariance-explore-spawner"
                )
                self._spawner.start()
        done, box = threading.Event(), list[Any]()
        self._orders.put((done, box))
        done.wait()
        if isinstance(box[0], JobError):
            raise box[0]
        worker: _Worker = box[0]
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def run(self, function: Callable[[Any], Any], payload: Any) -> Any:
        """``function(payload)`` in a worker process; its result, or :class:`JobError`.

        ``function`` must be importable by name (a module-level function) and ``payload``
        picklable. Raises ``JobError(422, ...)`` when the job fails, runs past ``timeout_s`` or
        runs out of memory, and ``JobError(503, ...)`` when no worker is free in time.
        """
        if self._closed:
            raise JobError(503, "the server is stopping")
        if not self._slots.acquire(timeout=self.timeout_s):
            raise JobError(503, "the server is busy with other pipelines; try again")
        try:
            worker = self._take()
            try:
                worker.connection.send((function, payload))
                if not worker.connection.poll(self.timeout_s):
                    self._discard(worker)
                    raise JobError(
                        422,
                        f"the pipeline took longer than {self.timeout_s:g} s on this image and was stopped; "
                        "reduce the parameters that scale the work (kernel sizes, counts, output size)",
                    )
                reply = worker.connection.recv()
            except (EOFError, OSError, BrokenPipeError):
                self._discard(worker)
                raise JobError(
                    422, "the pipeline stopped its worker (out of memory or a crash in native code)"
                ) from None
            self._idle.put(worker)
        finally:
            self._slots.release()
        if reply[0] == "ok":
            return reply[1]
        raise JobError(int(reply[1]), str(reply[2]))

    def prestart(self) -> None:
        """Start one worker in the background, so the first request does not wait for it."""

        def start() -> None:
            # On failure the first request tries again and reports the error itself.
            with contextlib.suppress(JobError):
                self._idle.put(self._take())

        threading.Thread(target=start, daemon=True, name="invariance-explore-prestart").start()

    def close(self) -> None:
        """Kill every worker (the pool refuses new jobs afterwards)."""
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()

    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None and w.process.is_alive()]
