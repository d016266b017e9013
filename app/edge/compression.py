"""Text responses go gzip-compressed to clients that accept gzip; photos and PDFs never do.

A page, a JSON answer or a stylesheet shrinks five- to tenfold (a 7 KB reviewer queue page is
about 1.2 KB), which a phone on a weak signal notices. What is compressed already (JPEG, PNG,
WebP, HEIC, PDF, archives) would only cost CPU, so only text types are, and only from 1 KB.

BREACH: a compressed page's length can leak a secret in it (a CSRF token) to someone who can
both inject text into the page and watch its size on the wire, by making the victim's browser
fetch it again and again. Those fetches come from another site, and the browser says so
(``Sec-Fetch-Site: cross-site``): such requests are answered uncompressed.
"""

from __future__ import annotations

import mimetypes

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_response import ContentCoding

MIN_BYTES = 1024  # below this the header and the CPU outweigh what is saved
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/problem+json",
        "image/svg+xml",
    }
)
COMPRESS_FOR = frozenset({"same-origin", "none", ""})  # Sec-Fetch-Site: ours, typed, or unsaid


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (by name or ``*``), honouring ``q=0``."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding.strip():
            allowed[coding.strip()] = q > 0
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in TEXT_TYPES


def _content_type(request: web.Request, response: web.StreamResponse) -> str:
    if isinstance(response, web.FileResponse):  # its type is set when it is sent
        return mimetypes.guess_type(request.path)[0] or ""
    return response.content_type


def worth_compressing(request: web.Request, response: web.StreamResponse) -> bool:
    if response.prepared or hdrs.CONTENT_ENCODING in response.headers:
        return False  # streamed by the handler already, or encoded by it
    if request.method == "HEAD" or response.status in (204, 304) or response.status < 200:
        return False
    if request.headers.get("Sec-Fetch-Site", "").lower() not in COMPRESS_FOR:
        return False
    if not accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        return False
    if not is_text(_content_type(request, response)):
        return False
    if isinstance(response, web.Response):
        body = response.body
        return isinstance(body, bytes | bytearray) and len(body) >= MIN_BYTES
    return True  # a text file: stylesheets and scripts are worth it at any size we serve


@web.middleware
async def compression(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if worth_compressing(request, response):
        response.enable_compression(ContentCoding.gzip)
    if not response.prepared and is_text(_content_type(request, response)):
        # Caches (and the browser's) must not hand a compressed answer to a client that
        # asked without gzip, nor the other way round.
        vary = response.headers.get(hdrs.VARY, "")
        if "accept-encoding" not in vary.lower():
            response.headers[hdrs.VARY] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
    return response
