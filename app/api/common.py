"""What every handler needs: the caller, the JSON body as a typed model, and JSON replies."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from app.domain.actors import Actor
from app.edge.bounds import load_json
from app.edge.errors import BadRequest, InvalidToken
from app.keys import ACCOUNTS, TOKENS
from app.services.sessions import Use

M = TypeVar("M", bound=BaseModel)


async def actor_of(request: web.Request) -> Actor:
    """The authenticated caller, from ``Authorization: Bearer <jwt>``: an API token (a page's
    cookie is not one) whose session still lives; an applicant's authorities are read now, and
    a deleted account's token opens nothing."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("missing bearer token")
    session = request.config_dict[TOKENS].verify(token.strip(), Use.API)
    actor = await request.config_dict[ACCOUNTS].resume(session)
    if actor is None:
        raise InvalidToken("the session has ended or the account is gone")
    return actor


async def read_model(request: web.Request, model: type[M]) -> M:
    """Parse the JSON body into ``model``; malformed JSON is a 400, wrong fields a 422."""
    raw = await request.read()  # bounded by the app's client_max_size (413 beyond)
    data = load_json(raw or b"{}")  # nesting and numbers bounded too: 400, never a 500
    if not isinstance(data, dict):
        raise BadRequest("malformed_json", "请求体须为 JSON 对象")
    return model.model_validate(data)


def reply(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=_default)
    )


def _default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
