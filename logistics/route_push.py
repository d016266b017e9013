"""SF's route push (RoutePushService), verified: digest first, then that it is for our account.

SF posts a form like its API calls (``partnerID``, ``requestID``, ``serviceCode``, ``timestamp``,
``msgData``, ``msgDigest``), with ``msgData`` holding its JSON push body
``{"Body": {"WaybillRoute": [...]}}`` (up to 10 routes). The digest is the request rule over the
pushed ``msgData`` with our check word. We answer ``{"return_code": "0000"}`` once the events
are recorded, else ``"1000"`` and SF pushes again; so one event may arrive several times and out
of order, and the caller deduplicates by ``RouteEvent.key``.

Pure and synchronous: the endpoint reads the form, calls ``verify_route_push``, records the
events (each once), and answers ``ACCEPTED`` or ``RETRY``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logistics import sf_protocol as sf
from logistics.port import CourierError, RouteEvent

ACCEPTED: dict[str, str] = {"return_code": "0000", "return_msg": "成功"}
RETRY: dict[str, str] = {"return_code": "1000", "return_msg": "系统繁忙，请重推"}
MAX_ROUTES = 10


class PushRejected(CourierError):
    """Not a push we may act on (forged, not ours, malformed); ``detail`` says why."""

    message = "推送无效"


@dataclass(frozen=True)
class SfAccount:
    """What the push endpoint needs to believe a push: our partnerID and check word."""

    partner_id: str
    check_word: str = field(repr=False)

    def verify(self, form: Mapping[str, str]) -> list[RouteEvent]:
        return verify_route_push(form, partner_id=self.partner_id, check_word=self.check_word)


def verify_route_push(
    form: Mapping[str, str], *, partner_id: str, check_word: str
) -> list[RouteEvent]:
    """The pushed route events, oldest first, if SF signed them for ``partner_id``."""
    msg_data = form.get("msgData", "")
    timestamp = form.get("timestamp", "")
    digest = form.get("msgDigest", "")
    if not (msg_data and timestamp and digest):
        raise PushRejected("msgData, timestamp or msgDigest missing")
    if not sf.digest_matches(msg_data, timestamp, check_word, digest):
        raise PushRejected("bad msgDigest")
    if form.get("partnerID") != partner_id:
        raise PushRejected("partnerID is not ours")
    if form.get("serviceCode", sf.ROUTE_PUSH) != sf.ROUTE_PUSH:
        raise PushRejected(f"serviceCode {form.get('serviceCode')!r} is not a route push")
    try:
        body = json.loads(msg_data)
        routes = body["Body"]["WaybillRoute"]
    except (ValueError, KeyError, TypeError):
        raise PushRejected("msgData is not a route push body") from None
    if not isinstance(routes, list) or not 0 < len(routes) <= MAX_ROUTES:
        raise PushRejected("WaybillRoute must hold 1 to 10 routes")
    return sorted((_event(route) for route in routes), key=lambda e: e.at)


def _event(route: Any) -> RouteEvent:
    if not isinstance(route, dict):
        raise PushRejected("a WaybillRoute is not an object")
    try:
        return sf.route_event(str(route.get("mailno", "")), route)
    except ValueError as e:
        raise PushRejected(f"unreadable route: {e}") from None
