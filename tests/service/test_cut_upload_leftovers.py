"""What an upload cut off by a crash leaves in the object directory's tmp/ is removed at the
next start, once nothing has written to it for an hour; an upload in progress is never touched.

Issue 20 found 26 such files after 16 kill -9, never cleaned.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.files import TMP_SAFE_AGE, FileObjectStore
from storage.objects import ObjectNotFound

ROOT = Path(__file__).resolve().parents[2]
# A process that streams an upload into the store and hangs half-way, to be killed there.
UPLOADING = """
import asyncio, sys
from pathlib import Path
from storage.files import FileObjectStore

async def chunks():
    yield b"\\xff\\xd8\\xff" + b"x" * 65536
    print("half-way", flush=True)
    await asyncio.Event().wait()

asyncio.run(FileObjectStore(Path(sys.argv[1])).put(
    "cases/BC1/photo/a.jpg", chunks(), content_type="image/jpeg", max_bytes=10**7))
"""


async def one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_a_start_removes_what_a_killed_upload_left_and_keeps_what_is_in_progress(
    tmp_path: Path,
) -> None:
    root = tmp_path / "objects"
    store = FileObjectStore(root)
    await store.put(
        "cases/BC0/photo/kept.jpg", one(b"kept"), content_type="image/jpeg", max_bytes=99
    )
    uploading = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPLOADING, str(root), cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert uploading.stdout is not None
    assert (await uploading.stdout.readline()).strip() == b"half-way"
    uploading.send_signal(signal.SIGKILL)
    await uploading.wait()
    [left] = list((root / "tmp").iterdir())
    assert left.stat().st_size > 65536

    age(left, TMP_SAFE_AGE.total_seconds() + 60)
    in_progress = root / "tmp" / "f00d"  # another instance's upload, written to a minute ago
    in_progress.write_bytes(b"\xff\xd8\xff")
    age(in_progress, 60)
    await FileObjectStore(root).open()  # the next start

    assert list((root / "tmp").iterdir()) == [in_progress]
    assert b"".join([c async for c in store.get("cases/BC0/photo/kept.jpg")]) == b"kept"
    with pytest.raises(ObjectNotFound):  # a cut upload never became an object
        await store.stat("cases/BC1/photo/a.jpg")


async def test_a_start_on_a_new_directory_finds_nothing_to_remove(tmp_path: Path) -> None:
    await asyncio.wait_for(FileObjectStore(tmp_path / "new").open(), timeout=5)
    assert not (tmp_path / "new").exists()  # nothing is created before the first write
