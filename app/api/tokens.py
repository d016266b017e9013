"""JWT access tokens (python-jose), HS256 only: any other ``alg``, ``none`` included, is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jose import JWTError, jwt

from app.domain.actors import Actor, Role
from app.edge.errors import InvalidToken

ALGORITHMS = ["HS256"]  # the whitelist handed to every decode


class TokenIssuer:
    def __init__(self, secret: str, *, issuer: str, ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("JWT secret must be at least 32 characters")
        self._secret = secret
        self._issuer = issuer
        self._ttl = ttl

    def issue(self, actor: Actor, *, ttl: timedelta | None = None) -> str:
        # Wall-clock time, not the app's business clock: verification checks exp against it.
        now = datetime.now(UTC)
        claims = {
            "sub": actor.id,
            "role": actor.role.value,
            "iss": self._issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
        }
        if actor.department:
            claims["dept"] = actor.department
        return str(jwt.encode(claims, self._secret, algorithm=ALGORITHMS[0]))

    def verify(self, token: str) -> Actor:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                options={"require_exp": True, "require_iat": True, "require_sub": True},
            )
            return Actor(
                id=str(claims["sub"]),
                role=Role(claims["role"]),
                department=claims.get("dept"),
            )
        except (JWTError, KeyError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
