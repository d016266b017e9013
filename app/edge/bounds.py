"""What a request carries, read within bounds: numbers in its query and path, its JSON body.

Every handler that reads a number from the query or the path reads it here, so one rule holds
everywhere: ASCII digits only (``str.isdigit`` also takes ``²`` and ``٣``), between the bounds
the parameter states, otherwise a 400 with the usual error body, long before a huge value can
overflow a store query. A JSON body is parsed with its nesting and its numbers bounded too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, overload

from aiohttp import web

from app.domain.errors import DomainError
from app.edge.errors import BadRequest

INT64 = 2**63
MAX_PAGE = 100_000  # a list page; far beyond any real queue, well inside a store's skip
MAX_JSON_DEPTH = 32  # our bodies nest three deep; the rest is an attack on the parser
MAX_JSON_DIGITS = 19  # an int64; Python refuses past 4,300 digits with a ValueError (a 500)

_INTEGER = re.compile(r"-?[0-9]{1,19}")


class OutOfBounds(DomainError):
    """A query or path parameter is not an integer within its bounds (a 400)."""

    code = "invalid_query"


def bounded_int(raw: str, name: str, *, low: int, high: int) -> int:
    """``raw`` as an integer in ``[low, high]``, or ``OutOfBounds`` naming ``name``."""
    if _INTEGER.fullmatch(raw) and low <= (value := int(raw)) <= high:
        return value
    raise OutOfBounds(f"参数 {name} 须为 {low} 到 {high} 之间的整数")


@overload
def query_int(request: web.Request, name: str, *, low: int, high: int, default: int) -> int: ...
@overload
def query_int(
    request: web.Request, name: str, *, low: int, high: int, default: None = None
) -> int | None: ...
def query_int(
    request: web.Request, name: str, *, low: int, high: int, default: int | None = None
) -> int | None:
    """The query parameter ``name`` within bounds; ``default`` when it is absent or empty."""
    raw = request.query.get(name, "")
    return default if raw == "" else bounded_int(raw, name, low=low, high=high)


def path_int(request: web.Request, name: str, *, low: int, high: int) -> int:
    """The path parameter ``name`` within bounds (the route's pattern may say digits only)."""
    return bounded_int(request.match_info[name], name, low=low, high=high)


def load_json(raw: bytes) -> Any:
    """Parse a JSON body: malformed, nested deeper than ``MAX_JSON_DEPTH``, or carrying a
    number beyond int64 or not finite, it is a ``BadRequest`` (400), never a 500."""
    try:
        data = json.loads(raw, parse_int=_int, parse_float=_float, parse_constant=_not_a_number)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        raise BadRequest("malformed_json", f"请求体不是合法的 JSON（第 {line} 行）") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    if _depth(data) > MAX_JSON_DEPTH:
        raise _too_deep()
    return data


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS or not -INT64 <= (value := int(text)) < INT64:
        raise BadRequest("number_out_of_range", "请求体中的数字超出允许范围")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest("number_out_of_range", "请求体中的数字超出允许范围")
    return value


def _not_a_number(text: str) -> float:
    raise BadRequest("malformed_json", f"请求体不是合法的 JSON（不支持 {text}）")


def _too_deep() -> BadRequest:
    return BadRequest("too_deep", f"请求体嵌套超过 {MAX_JSON_DEPTH} 层")


def _depth(data: Any) -> int:
    """How deep arrays and objects nest in ``data`` (a scalar is 0), without recursion."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:  # past the limit the answer is known
                todo.extend((child, depth + 1) for child in value)
    return deepest
