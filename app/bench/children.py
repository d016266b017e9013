"""Load from a separate process, so the server's CPU and RSS are its own; every wait bounded."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class BenchTimeout(RuntimeError):
    """Something a benchmark waited for did not come in time: the bench is broken."""


async def within(seconds: float, work: Awaitable[T], what: str) -> T:
    """``work``'s result, or BenchTimeout naming ``what`` after ``seconds``."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        raise BenchTimeout(f"{what}: no result within {seconds:.0f} s") from None


async def in_child(target: Callable[..., None], *args: object, seconds: float) -> Any:
    """Run ``target(*args, out)`` in a spawned process; what it puts on ``out``, within bounds.

    The child is killed if it has not answered in ``seconds`` or dies without answering.
    """
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out), daemon=True)
    proc.start()
    try:
        return await asyncio.to_thread(_answer, out, proc, seconds)
    finally:
        await asyncio.to_thread(proc.join, 5)
        if proc.is_alive():
            proc.kill()
            await asyncio.to_thread(proc.join, 5)


def _answer(out: Any, proc: Any, timeout: float) -> Any:
    waited = 0.0
    while waited < timeout:
        try:
            return out.get(timeout=min(1.0, timeout - waited))
        except queue.Empty:
            waited += 1.0
            if not proc.is_alive() and out.empty():
                raise BenchTimeout(f"the load process died (exit code {proc.exitcode})") from None
    raise BenchTimeout(f"the load process gave no result within {timeout:.0f} s")
