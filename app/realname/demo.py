"""Demo mode's verifier: the production adapter pointed at a local FaceID with DEMO_REGISTER."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import NamedTuple

import aiohttp

from app.realname.simulator import DEMO_REGISTER, RunningFaceId, running_faceid_simulator
from app.realname.tencent import TencentFaceIdVerifier


class DemoVerifier(NamedTuple):
    verifier: TencentFaceIdVerifier
    simulator: RunningFaceId


@asynccontextmanager
async def demo_verifier(
    *,
    register: Mapping[str, str] = DEMO_REGISTER,
    port: int = 0,
    session: aiohttp.ClientSession | None = None,
) -> AsyncIterator[DemoVerifier]:
    """Start a local FaceID (``port`` 0: a free one), yield a verifier on it; stop both after."""
    async with running_faceid_simulator(register=register, port=port) as running:
        verifier = TencentFaceIdVerifier(
            running.secret_id,
            running.secret_key,
            endpoint=running.endpoint,
            session=session,
        )
        try:
            yield DemoVerifier(verifier, running)
        finally:
            await verifier.close()
