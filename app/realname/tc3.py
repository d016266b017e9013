"""Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256, exactly as Tencent documents it.

Pure functions shared by the FaceID adapter (which signs) and the local FaceID (which checks).
Checked against the worked example of Tencent's "签名方法 v3" page (tests/unit/test_tc3_signing.py).
The steps: a canonical request (method, URI "/", query, the signed headers as lowercased
``name:value`` lines in ASCII order, their names, the payload's SHA-256); a string to sign
(algorithm, timestamp, credential scope ``<UTC date>/<service>/tc3_request``, the canonical
request's SHA-256); a key derived HMAC by HMAC from "TC3" + SecretKey through the date, the
service and "tc3_request"; the signature is the hex HMAC of the string to sign under that key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
TERMINATOR = "tc3_request"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# What the official SDKs sign: the two headers Tencent requires.
SIGNED_HEADERS = ("content-type", "host")

_AUTHORIZATION = re.compile(
    rf"{ALGORITHM} Credential=(?P<secret_id>[^/, ]+)/(?P<date>\d{{4}}-\d{{2}}-\d{{2}})"
    rf"/(?P<service>[a-z0-9-]+)/{TERMINATOR}, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_date(timestamp: int) -> str:
    """The credential scope's date: UTC, never local time (a UTC+8 date fails after midnight)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def credential_scope(timestamp: int, service: str) -> str:
    return f"{utc_date(timestamp)}/{service}/{TERMINATOR}"


def canonical_request(
    *,
    method: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
    uri: str = "/",
    query: str = "",
) -> str:
    """Step 1. ``headers`` are looked up by the lowercase names in ``signed_headers``."""
    names = sorted(name.lower() for name in signed_headers)
    lowered = {key.lower(): value for key, value in headers.items()}
    lines = "".join(f"{name}:{lowered[name].strip().lower()}\n" for name in names)
    return "\n".join((method.upper(), uri, query, lines, ";".join(names), sha256_hex(payload)))


def string_to_sign(timestamp: int, service: str, canonical: str) -> str:
    """Step 2."""
    scope = credential_scope(timestamp, service)
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """Step 3a: SecretDate, SecretService, SecretSigning."""
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    return _hmac(_hmac(secret_date, service), TERMINATOR)


def signature(secret_key: str, timestamp: int, service: str, canonical: str) -> str:
    """Step 3b: hex HMAC-SHA256 of the string to sign."""
    key = signing_key(secret_key, utc_date(timestamp), service)
    to_sign = string_to_sign(timestamp, service, canonical)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str, timestamp: int, service: str, signed_headers: Sequence[str], sig: str
) -> str:
    """Step 4: the Authorization header."""
    names = ";".join(sorted(name.lower() for name in signed_headers))
    return (
        f"{ALGORITHM} Credential={secret_id}/{credential_scope(timestamp, service)}, "
        f"SignedHeaders={names}, Signature={sig}"
    )


def signed_json_headers(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    version: str,
    region: str,
    payload: bytes,
    timestamp: int,
) -> dict[str, str]:
    """Every header of a signed API 3.0 POST with a JSON body, as the official SDKs send it."""
    headers = {"Content-Type": JSON_CONTENT_TYPE, "Host": host}
    canonical = canonical_request(
        method="POST", headers=headers, signed_headers=SIGNED_HEADERS, payload=payload
    )
    sig = signature(secret_key, timestamp, service, canonical)
    headers |= {
        "Authorization": authorization(secret_id, timestamp, service, SIGNED_HEADERS, sig),
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": version,
    }
    if region:
        headers["X-TC-Region"] = region
    return headers


@dataclass(frozen=True)
class ParsedAuthorization:
    """The parts of an Authorization header, as a server reads them before checking."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split a TC3 Authorization header; ValueError when it is not one."""
    found = _AUTHORIZATION.fullmatch(value.strip())
    if found is None:
        raise ValueError("not a TC3-HMAC-SHA256 Authorization header")
    return ParsedAuthorization(
        secret_id=found["secret_id"],
        date=found["date"],
        service=found["service"],
        signed_headers=tuple(found["signed"].split(";")),
        signature=found["signature"],
    )
