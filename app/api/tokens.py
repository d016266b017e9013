"""JWT access tokens (python-jose), HS256 only: any other ``alg``, ``none`` included, is refused.

Each token names its session (``jti``) and what it is for (``use``): a staff page cookie, an H5
page cookie or an API bearer token opens only its own door. Whether the session still lives is
the store's to say (``AccountService.resume``), not the signature's.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from jose import JWTError, jwt

from app.domain.actors import Actor, Role
from app.edge.errors import InvalidToken
from app.services.sessions import Session, Use

ALGORITHMS = ["HS256"]  # the whitelist handed to every decode


class TokenIssuer:
    def __init__(self, secret: str, *, issuer: str, ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("JWT secret must be at least 32 characters")
        self._secret = secret
        self._issuer = issuer
        self._ttl = ttl

    def issue(self, actor: Actor, *, use: Use = Use.API, ttl: timedelta | None = None) -> str:
        """A token for a new session of ``actor``, good for ``use`` only."""
        # Wall-clock time, not the app's business clock: verification checks exp against it.
        # iat to the millisecond: a new password ends the sessions issued before it, not after.
        now = datetime.now(UTC)
        claims = {
            "sub": actor.id,
            "role": actor.role.value,
            "use": use.value,
            "jti": secrets.token_urlsafe(16),
            "iss": self._issuer,
            "iat": round(now.timestamp(), 3),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
        }
        if actor.department:
            claims["dept"] = actor.department
        return str(jwt.encode(claims, self._secret, algorithm=ALGORITHMS[0]))

    def verify(self, token: str, use: Use) -> Session:
        """The session ``token`` states, if it is signed by us, unexpired and issued for ``use``."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_jti": True,
                },
            )
            if claims.get("use") != use.value:
                raise InvalidToken(f"a token for {claims.get('use')!r} used for {use.value!r}")
            return Session(
                id=str(claims["jti"]),
                actor=Actor(
                    id=str(claims["sub"]),
                    role=Role(claims["role"]),
                    department=claims.get("dept"),
                ),
                use=use,
                issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (JWTError, KeyError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc
