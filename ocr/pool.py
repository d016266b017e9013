"""A bounded OCR process pool: the event loop never waits on recognition; stuck ones time out.

Work on a stored photo names it by key (``on_object``): the worker reads it from the object
store itself, so the photo never passes through the process that asked, the web process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ocr.errors import OcrError
from storage.objects import ObjectStore

T = TypeVar("T")


class OcrTimeout(OcrError):
    """Recognition took longer than allowed; the worker that ran it is replaced."""

    message = "识别超时，请稍后重试或重新拍摄一张更清晰的照片"


class OcrPool:
    """At most ``workers`` recognitions run at once, each in a worker process, each bounded."""

    def __init__(
        self,
        workers: int = 2,
        *,
        timeout: float = 30.0,
        initializer: Callable[[], object] | None = None,
    ) -> None:
        """``initializer`` runs once in each new worker (picklable: a module-level function
        or a ``functools.partial`` of one)."""
        self._workers = workers
        self._timeout = timeout
        self._initializer = initializer
        # Made at the first run: an instance that never judges a photo (a web instance beside
        # `buchumen worker`) starts no process, not even multiprocessing's resource tracker.
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        # spawn: workers start clean, never inheriting the service's threads or sockets.
        return concurrent.futures.ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self._initializer),
        )

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._pool is None:
            self._pool = self._new_executor()
        pool = self._pool
        future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        try:
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError as exc:
            # A stuck worker cannot be interrupted: stop its processes (a pathological image
            # must not keep burning a core) and give later photos fresh workers.
            self._pool = self._new_executor()
            _terminate(pool)
            raise OcrTimeout("recognition timed out") from exc
        except concurrent.futures.process.BrokenProcessPool as exc:
            self._pool = self._new_executor()  # a worker crashed (e.g. out of memory)
            raise OcrError("the OCR worker stopped") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


PARENT_CHECK = 1.0  # seconds between a worker's looks at whether the service still runs


def _start_worker(parent: int, initializer: Callable[[], object] | None) -> None:
    """In each new worker: leave once the service that started it is gone; then its setup."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="parent-watch").start()
    if initializer is not None:
        initializer()


def _exit_with(parent: int) -> None:
    # An idle worker waits on its task queue, whose write end it holds itself: when the service
    # is killed (SIGKILL, the OOM killer) no EOF wakes it, and it would keep its models (some
    # 400 MB) forever. An orphan is handed to another parent, so a new parent pid means gone.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(1)


def on_object(
    opener: Callable[[], ObjectStore], key: str, fn: Callable[..., T], *args: object
) -> T:
    """Worker: ``fn(data, *args)`` with the bytes stored under ``key``, read here.

    Submit it as ``pool.run(on_object, objects.opener(), key, fn, ...)``. ObjectNotFound
    reaches the caller as raised.
    """
    return fn(asyncio.run(_read(opener(), key)), *args)


async def _read(objects: ObjectStore, key: str) -> bytes:
    try:
        return b"".join([chunk async for chunk in objects.get(key)])
    finally:
        await objects.close()


def _terminate(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    # The executor has no public way to stop a running task; its process table is the one
    # handle (stable since Python 3.2). Queued work is cancelled and fails with the pool.
    processes = dict(getattr(executor, "_processes", None) or {})
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes.values():
        process.terminate()
