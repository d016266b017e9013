"""A local S3 for the MinIO adapter's contract tests: moto's threaded server, plus presign checks.

moto serves presigned URLs without checking their signature or expiry, which S3 and MinIO both
do. So its WSGI app sits behind ``PresignCheck``, an independent SigV4 query-signature check
written from AWS's description (not the SDK's signer, which would agree with itself): a request
carrying ``X-Amz-Signature`` must be signed by a known key and not expired, or it gets the 403
S3 gives. Every other request goes to moto unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _encode(text: str, *, slash: bool = False) -> str:
    return quote(text, safe="-_.~/" if slash else "-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class PresignCheck:
    """WSGI middleware refusing presigned requests whose SigV4 signature or expiry is wrong."""

    def __init__(self, app: WsgiApp, credentials: dict[str, str]) -> None:
        self._app = app
        self._credentials = credentials

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "X-Amz-Signature" not in dict(params):
            return self._app(environ, start_response)
        problem = self._problem(environ, params)
        if problem is None:
            return self._app(environ, start_response)
        code, message = problem
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml")])
        return [body]

    def _problem(
        self, environ: dict[str, Any], params: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        query = dict(params)
        try:
            access_key, day, region, service, terminal = query["X-Amz-Credential"].split("/")
            amz_date = query["X-Amz-Date"]
            expires = int(query["X-Amz-Expires"])
            signed_headers = query["X-Amz-SignedHeaders"].split(";")
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return "AuthorizationQueryParametersError", "malformed presigned query"
        secret = self._credentials.get(access_key)
        if secret is None:
            return "InvalidAccessKeyId", "unknown access key"
        canonical_query = "&".join(
            f"{_encode(k)}={_encode(v)}" for k, v in sorted(params) if k != "X-Amz-Signature"
        )
        headers = {"host": environ.get("HTTP_HOST", "")}
        canonical_request = "\n".join(
            [
                environ["REQUEST_METHOD"],
                _encode(environ.get("PATH_INFO", "/"), slash=True),
                canonical_query,
                "".join(f"{h}:{headers.get(h, '').strip()}\n" for h in signed_headers),
                ";".join(signed_headers),
                "UNSIGNED-PAYLOAD",
            ]
        )
        scope = f"{day}/{region}/{service}/{terminal}"
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                amz_date,
                scope,
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )
        key = _hmac(f"AWS4{secret}".encode(), day)
        for part in (region, service, terminal):
            key = _hmac(key, part)
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
            return "SignatureDoesNotMatch", "the signature does not match"
        if time.time() > signed_at.timestamp() + expires:
            return "AccessDenied", "Request has expired"
        return None


class CheckedMotoServer(ThreadedMotoServer):
    """moto on 127.0.0.1 and a free port, its presigned URLs checked as S3 checks them."""

    def __init__(self, credentials: dict[str, str]) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self._credentials = credentials

    def _server_entry(self) -> None:  # ThreadedMotoServer's, with the check in front of moto
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        app = PresignCheck(DomainDispatcherApplication(create_backend_app), self._credentials)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"{host}:{port}"
