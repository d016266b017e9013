"""The security headers every response carries, set in one place just before it is sent.

A signal (``on_response_prepare``) rather than a middleware: it also reaches responses a
handler streams itself (a file download, a CSV, an export) and the error pages, and the
root application's signal fires for the /api/v1 sub-application too.

- ``Content-Security-Policy``: scripts, styles and everything else from our own origin only, no
  inline script or style, no plugins, no ``<base>``, and no framing (``frame-ancestors 'none'``:
  nobody can wrap a page to trick a tap). The one exception is ``HANDLERS``: the few inline event
  handlers the templates use (send a form once a photo is chosen, ask before a withdrawal),
  allowed by their exact hash (``'unsafe-hashes'``), so injected markup runs nothing else.
  Images may also come from MinIO, whose presigned links a staff page's ``<img>`` is
  redirected to. There is no ``form-action``: paying posts to our page, which redirects to
  Alipay's cashier.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a link another site is
  opened through never learns our URLs; a handler may ask for stricter, as /files/ does).
- ``Cache-Control: no-store`` on everything but /static/: pages and API answers carry personal
  data, and no shared or browser cache should keep them. A handler's own value stands.
- ``Server`` says our name and no version.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from app.settings import Settings

SERVER = "buchumen"
STATIC = "/static/"
RAW_FILES = "/files/"  # objects as stored (photos, PDFs): a policy would only hinder the viewer

# Every inline event handler in app/web/templates, exactly as written there (a test holds them to
# this list; a handler not in it is refused by the browser and fails the browser tests).
HANDLERS = (
    "this.form.submit()",
    "return confirm('确定撤回本办件吗？撤回后不能恢复，如需再办须重新申请。')",
    "return confirm('删除后将无法再调用这份材料，确定删除吗？')",
    "return confirm('确定取消这次预约吗？')",
    "return confirm('确定解除该申请人的预约限制吗？')",
)

Prepare = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def content_security_policy(settings: Settings) -> str:
    """The policy our pages satisfy; images also from the object store's own origin."""
    images = ["'self'", "data:"]
    if settings.object_store == "minio" and (origin := _minio_origin(settings)):
        images.append(origin)
    hashes = [f"'sha256-{_sha256(handler)}'" for handler in HANDLERS]
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", "'unsafe-hashes'", *hashes]),
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _sha256(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


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
