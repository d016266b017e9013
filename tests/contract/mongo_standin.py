"""A MongoDB stand-in for CI: nx-27017, a MongoDB wire-protocol server over SQLite.

No MongoDB server installs on these machines, so when ``BUCHUMEN_MONGODB_URI`` is not set the
MongoDB contract suites run against this stand-in (``standin()`` starts one per test process).
The adapter (storage/mongo.py) is written for real MongoDB and is never bent to the stand-in:
the stand-in's own defects are worked around here, in the process that runs it, or the tests
they break are marked with the deviation below (``STANDIN_DEVIATIONS``).

Known deviations of nx-27017 0.8.1 from MongoDB, and what this launcher does about each:

1. ``index_ends_in_id``: a compound index whose last key is ``_id`` makes every insert into the
   collection fail ("JSON path error near '_id'"). Worked around: the trailing ``_id`` (a sort
   tie-breaker) is dropped from such indexes when they are created; queries are unchanged.
2. ``read_concern_document``: a transaction's first command carries ``readConcern`` and the
   stand-in stores it as a document of the collection. Worked around: stripped before the
   command is run.
3. ``overlapping_transactions``: transactions of two sessions that overlap break its SQLite
   savepoints. Worked around: transactions run one at a time (a session that starts one waits
   for the other's commit or abort).
4. ``ne_null_matches_missing``: ``{"f": {"$ne": None}}`` matches documents without ``f``;
   MongoDB treats a missing field as null. Tests that depend on it are marked.
5. ``dirty_reads``: a read outside a transaction sees another session's uncommitted insert.
   Tests that depend on it are marked.
6. ``dotted_projection``: a projection of ``a.b`` returns the key ``"a.b"`` flat at the top of
   each document; MongoDB nests it (``{"a": {"b": ...}}``). Worked around: the documents of
   every reply batch have such keys nested again (the app stores no dotted names).
7. ``interleaved_commands``: commands of several clients run at once on its one SQLite
   connection, and its own locks do not cover a whole command: about one run in ten of the
   many-instances test saw a read fail with "abort due to ROLLBACK" (another session's
   transaction rolled back under it) or miss a case another instance was writing. Worked
   around: one command (or insert) at a time, after any wait of 3; with it, 16 runs of 16 pass.

Run as ``python -m tests.contract.mongo_standin PORT DATA_DIR``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STANDIN_DEVIATIONS = {
    "ne_null_matches_missing": "nx-27017: {'f': {'$ne': None}} matches a missing field",
    "dirty_reads": "nx-27017: a read outside a transaction sees uncommitted inserts",
}


def _patch() -> None:
    """Apply workarounds 1-3, 6 and 7 to the stand-in's command handler, in this process only."""
    from nx_27017.handler import NeoSQLiteHandler

    one_transaction = threading.Lock()
    one_command = threading.Lock()
    holder: dict[str, Any] = {}
    original = NeoSQLiteHandler.handle_command
    original_insert = NeoSQLiteHandler.handle_insert

    def body_of(msg: dict[str, Any]) -> dict[str, Any]:
        return next(doc for kind, doc in msg["sections"] if kind == "body")

    def before(body: dict[str, Any]) -> None:
        body.pop("readConcern", None)  # 2
        for spec in body.get("indexes", []) if "createIndexes" in body else []:  # 1
            key = spec.get("key")
            if isinstance(key, dict) and len(key) > 1 and list(key)[-1] == "_id":
                spec["key"] = {k: v for k, v in key.items() if k != "_id"}
        lsid = str(body.get("lsid"))
        if body.get("startTransaction") and holder.get("lsid") != lsid:
            one_transaction.acquire()  # 3: wait for the other session's transaction to end
            holder["lsid"] = lsid

    def after(body: dict[str, Any]) -> None:
        ends = "commitTransaction" in body or "abortTransaction" in body
        if ends and holder.get("lsid") == str(body.get("lsid")):
            holder.pop("lsid", None)
            one_transaction.release()

    def nested(doc: Any) -> Any:  # 6
        if not isinstance(doc, dict) or not any("." in key for key in doc):
            return doc
        out: dict[str, Any] = {}
        for key, value in doc.items():
            *parents, name = key.split(".")
            place = out
            for parent in parents:
                place = place.setdefault(parent, {})
            place[name] = value
        return out

    def handle_command(self: Any, msg: dict[str, Any]) -> Any:
        body = body_of(msg)
        before(body)
        try:
            with one_command:  # 7
                request_id, reply = original(self, msg)
        finally:
            after(body)
        cursor = reply.get("cursor") if isinstance(reply, dict) else None
        for batch in ("firstBatch", "nextBatch") if isinstance(cursor, dict) else ():
            if batch in cursor:
                cursor[batch] = [nested(doc) for doc in cursor[batch]]
        return request_id, reply

    def handle_insert(self: Any, msg: dict[str, Any]) -> Any:
        before(body_of(msg))
        with one_command:  # 7
            return original_insert(self, msg)

    NeoSQLiteHandler.handle_command = handle_command  # type: ignore[method-assign]
    NeoSQLiteHandler.handle_insert = handle_insert  # type: ignore[method-assign]

    # Sessions waiting their turn (3) each hold a worker thread: enough threads that the one
    # whose commit would release them is never left without one.
    pool = ThreadPoolExecutor(max_workers=256)

    async def to_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        call = functools.partial(func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(pool, call)

    asyncio.to_thread = to_thread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def standin(directory: Path) -> Iterator[str]:
    """A patched nx-27017 on a free port with its data in ``directory``; its URI."""
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / "standin.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own module, no shell
        [sys.executable, "-m", "tests.contract.mongo_standin", str(port), str(directory)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the MongoDB stand-in did not start; see {log.name}")
            time.sleep(0.05)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main() -> None:
    port, directory = sys.argv[1], sys.argv[2]
    _patch()
    from nx_27017 import nx_27017

    pid = os.path.join(directory, "standin.pid")
    log = os.path.join(directory, "standin-server.log")
    sys.argv = ["nx-27017", "--data-dir", directory, "-p", port, "--pid-file", pid,
                "--log-file", log]  # fmt: skip
    nx_27017.main()


if __name__ == "__main__":
    main()
