"""WeChat's web authorisation as the pages' sign-in port (app/services/sign_in.py)."""

from __future__ import annotations

from bot.client import WeChatClient
from bot.errors import WeChatError


class WeChatSignIn:
    def __init__(self, client: WeChatClient) -> None:
        self._client = client

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return self._client.oauth_authorize_url(redirect_uri, state)

    async def openid(self, code: str) -> str | None:
        try:
            return await self._client.oauth_openid(code)
        except WeChatError:  # an expired or reused code, or WeChat unreachable
            return None
