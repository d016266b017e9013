"""The security headers every response carries, set in one place just before it is sent.

A signal (``on_response_prepare``) rather than a middleware: it also reaches responses a
handler streams itself (a file download, a CSV, an export) and the error pages, and the
root application's signal fires for the /api/v1 sub-application too.

- ``Content-Security-Policy``: scripts, styles and everything else from our own origin only, no
  inline script, event handler or style, no plugins, no ``<base>``, and no framing
  (``frame-ancestors 'none'``: nobody can wrap a page to trick a tap). What pages once did in
  inline handlers (ask before a withdrawal, send a form once a photo is chosen) static/forms.js
  does by attribute, so injected markup runs nothing at all. Images may also come from MinIO,
  whose presigned links a staff page's ``<img>`` is redirected to. There is no
  ``form-action``: paying posts to our page, which redirects to Alipay's cashier (browsers
  hold the redirect to it too), and in demo mode the cashier's address is known only once its
  simulator has started.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a link another site is
  opened through never learns our URLs; a handler may ask for stricter, as /files/ does).
- ``Cache-Control: no-store`` on everything but /static/: pages and API answers carry personal
  data, and no shared or browser cache should keep them. A handler's own value stands.
- ``Server`` says our name and no version, also on the 400 aiohttp sends by itself for a
  request it cannot parse (no signal reaches that one: its default is replaced at import).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web, web_response

from app.settings import Settings

SERVER = "buchumen"
# aiohttp fills in its module's SERVER_SOFTWARE ("Python/3.x aiohttp/3.y") where a response
# has no Server header: on the answers to malformed requests, made before any app is involved.
# tests/http/test_security_headers.py notices if this name ever stops being the one it reads.
web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]  # read at each send
STATIC = "/static/"
RAW_FILES = "/files/"  # objects as stored (photos, PDFs): a policy would only hinder the viewer

Prepare = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def content_security_policy(settings: Settings) -> str:
    """The policy our pages satisfy; images also from the object store's own origin."""
    images = ["'self'", "data:"]
    if settings.object_store == "minio" and (origin := _minio_origin(settings)):
        images.append(origin)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _minio_origin(settings: Settings) -> str | None:
    if settings.minio_public_url:
        parts = urlsplit(settings.minio_public_url)
        return f"{parts.scheme}://{parts.netloc}"
    if settings.minio_endpoint:
        return f"{'https' if settings.minio_secure else 'http'}://{settings.minio_endpoint}"
    return None


def security_headers(settings: Settings) -> Prepare:
    """The ``on_response_prepare`` handler that sets the headers on every response."""
    policy = content_security_policy(settings)

    async def prepare(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = SERVER
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith(RAW_FILES):
            headers["Content-Security-Policy"] = policy
        if not request.path.startswith(STATIC):
            headers.setdefault("Cache-Control", "no-store")

    return prepare
