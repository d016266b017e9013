"""The port a phone page signs in through: WeChat's web authorisation (snsapi_base).

The page sends the phone to ``authorize_url`` and WeChat sends it back with a single-use code;
``openid`` says whose phone it is. The chat adapter implements it (bot/oauth.py); the pages
meet only this port.
"""

from __future__ import annotations

from typing import Protocol


class PhoneSignIn(Protocol):
    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send the phone; it comes back to ``redirect_uri?code=..&state=..``."""
        ...

    async def openid(self, code: str) -> str | None:
        """Whose phone the code stands for; None when the code is expired or used, or WeChat
        cannot be reached (the person opens the link again)."""
        ...
