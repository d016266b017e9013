"""Typed, fail-fast settings: ``BUCHUMEN_*`` variables, read once at start by ``load_settings``.

``Settings(...)`` takes keyword arguments only and never reads the environment, so a test gets
exactly what it passes plus the defaults; ``load_settings()`` is the one place that reads
``BUCHUMEN_<FIELD>`` variables, and it turns every problem into one ``SettingsError`` that names
the variables at fault.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "BUCHUMEN_"
DEMO_KEY_FILE = "demo-jwt-secret"
MIN_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_PACKAGE_DIR = Path(__file__).resolve().parent


class SettingsError(Exception):
    """The configuration is unusable; ``problems`` holds one line per variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Problems(ValueError):
    """Cross-field rules failed; each item is (field to blame, what is wrong)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in items))
        self.items = items


def env_name(field: str) -> str:
    """The environment variable that sets ``field``, e.g. ``port`` -> ``BUCHUMEN_PORT``."""
    return ENV_PREFIX + field.upper()


def _int_between(value: Any, low: int, high: int) -> int:
    """Accept an int or a decimal string within [low, high]; bools are refused."""
    problem = f"must be an integer between {low} and {high}"
    if isinstance(value, bool):
        raise ValueError(problem)
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("-").isdigit():
            raise ValueError(problem)
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(problem)
    return value


class Settings(BaseSettings):
    """Everything the service is configured with; see the README's table of variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    data_dir: Path = Path("var")
    demo: bool = False

    document_store: Literal["sqlite", "mongodb"] = "sqlite"
    sqlite_path: Path | None = None
    mongodb_uri: SecretStr | None = None
    mongodb_database: str = "buchumen"

    object_store: Literal["filesystem", "minio"] = "filesystem"
    objects_dir: Path | None = None
    minio_endpoint: str | None = None
    minio_access_key: SecretStr | None = None
    minio_secret_key: SecretStr | None = None
    minio_bucket: str = "buchumen"
    minio_secure: bool = False
    minio_region: str = "us-east-1"
    minio_public_url: str | None = None

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "buchumen"
    jwt_ttl_minutes: int = 120

    # WeChat official account. Demo mode without these starts a local WeChat simulator and
    # makes up credentials for it; serving without demo requires them.
    wechat_token: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_appid: str | None = None
    wechat_appsecret: SecretStr | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_open_base_url: str = "https://open.weixin.qq.com"
    wechat_template_id: str | None = None
    wechat_simulator_port: int = 8081

    # Alipay (catalog fees). Demo mode without these starts a local Alipay simulator with key
    # pairs of its own; outside demo, payments are off until all four are given.
    alipay_app_id: str | None = None
    alipay_seller_id: str | None = None
    alipay_private_key_file: Path | None = None
    alipay_public_key_file: Path | None = None
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"
    alipay_simulator_port: int = 0  # any free port: cashier links carry it

    # SF Express (pickups of originals, certificate deliveries). Demo mode without these starts
    # a local SF simulator; outside demo, couriers are off until partner id and check word are
    # given. The sandbox is https://sfapi-sbox.sf-express.com/std/service.
    sf_partner_id: str | None = None
    sf_check_word: SecretStr | None = None
    sf_monthly_card: str | None = None
    sf_api_url: str = "https://bspgw.sf-express.com/std/service"
    sf_simulator_port: int = 0  # any free port

    # Real-name verification (实名核验): Tencent Cloud FaceID's two-factor IdCardVerification.
    # Demo mode without these starts a local FaceID with a small register; outside demo,
    # binding is refused ("unavailable") until both are given: never bound unverified.
    tencent_secret_id: str | None = None
    tencent_secret_key: SecretStr | None = None
    faceid_endpoint: str = "https://faceid.tencentcloudapi.com"
    faceid_region: str = "ap-guangzhou"

    # OCR pre-check: the engine bench ocr found most accurate, in a bounded process pool.
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    ocr_workers: int = 2
    ocr_timeout_seconds: int = 30
    # Process roles. ``buchumen serve`` does everything by default (the demo's one process);
    # false: it never runs the pre-check work nor starts the OCR pool (its ~0.9 GB a worker),
    # which ``buchumen worker`` processes on the same stores do instead, each answering only
    # /healthz and /readyz on ``worker_port``.
    ocr_in_web: bool = True
    worker_port: int = 8090

    # The reverse proxies in front of us (addresses or networks, comma-separated): only a peer
    # among them is believed about the client's address (X-Forwarded-For), e.g. for the
    # per-address sign-in limit. Empty: the peer's own address, always.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = 1024 * 1024
    # Seconds from SIGTERM to exit: requests in flight are answered, background work winds
    # down, then the process exits. The container's stop timeout must be longer (Docker's
    # default is 10 s; storage/compose.yaml gives 12 s).
    shutdown_grace: int = 8
    catalog_dir: Path = _PACKAGE_DIR / "catalog"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments only: load_settings() maps the environment, so nothing leaks into
        # a test's Settings(...) from the shell it runs in.
        return (init_settings,)

    @field_validator("port", "worker_port", mode="before")
    @classmethod
    def _check_port(cls, value: Any) -> int:
        return _int_between(value, 1, 65535)

    @field_validator(
        "wechat_simulator_port", "alipay_simulator_port", "sf_simulator_port", mode="before"
    )
    @classmethod
    def _check_simulator_port(cls, value: Any) -> int:
        return _int_between(value, 0, 65535)  # 0: any free port (tests)

    @field_validator("wechat_encoding_aes_key")
    @classmethod
    def _check_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9+/]{43}", value.get_secret_value()):
            raise ValueError("must be the 43-character EncodingAESKey from the WeChat console")
        return value

    @field_validator(
        "wechat_api_base_url", "wechat_open_base_url", "alipay_gateway_url", "sf_api_url"
    )
    @classmethod
    def _check_wechat_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("ocr_workers", mode="before")
    @classmethod
    def _check_ocr_workers(cls, value: Any) -> int:
        return _int_between(value, 1, 64)

    @field_validator("ocr_timeout_seconds", mode="before")
    @classmethod
    def _check_ocr_timeout(cls, value: Any) -> int:
        return _int_between(value, 5, 600)

    @field_validator("jwt_ttl_minutes", mode="before")
    @classmethod
    def _check_ttl(cls, value: Any) -> int:
        return _int_between(value, 1, 7 * 24 * 60)

    @field_validator("max_body_bytes", mode="before")
    @classmethod
    def _check_body_cap(cls, value: Any) -> int:
        return _int_between(value, 1024, 1024 * 1024 * 1024)

    @field_validator("shutdown_grace", mode="before")
    @classmethod
    def _check_shutdown_grace(cls, value: Any) -> int:
        return _int_between(value, 3, 600)  # below 3 s the stop's own steps do not fit

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _check_proxies(cls, value: Any) -> tuple[Any, ...]:
        items = [str(i).strip() for i in (value.split(",") if isinstance(value, str) else value)]
        try:
            return tuple(ipaddress.ip_network(i, strict=False) for i in items if i)
        except ValueError as exc:
            raise ValueError("must be IP addresses or networks, comma-separated") from exc

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("public_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("minio_endpoint")
    @classmethod
    def _check_minio_endpoint(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or "/" in value):
            raise ValueError("must be host[:port] without a scheme or path (see minio_secure)")
        return value

    @field_validator("minio_public_url")
    @classmethod
    def _check_minio_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, rest = value.rstrip("/").partition("://")
        if scheme not in {"http", "https"} or not rest or "/" in rest:
            raise ValueError("must be http(s)://host[:port] without a path")
        return value.rstrip("/")

    @field_validator("jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters long")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        missing: list[tuple[str, str]] = []
        if self.document_store == "mongodb" and self.mongodb_uri is None:
            missing.append(("mongodb_uri", "required when BUCHUMEN_DOCUMENT_STORE=mongodb"))
        if self.object_store == "minio":
            for field in ("minio_endpoint", "minio_access_key", "minio_secret_key"):
                if getattr(self, field) is None:
                    missing.append((field, "required when BUCHUMEN_OBJECT_STORE=minio"))
        if self.jwt_secret is None and not self.demo:
            missing.append(("jwt_secret", "required unless BUCHUMEN_DEMO=true"))
        wechat = ("wechat_token", "wechat_encoding_aes_key", "wechat_appid", "wechat_appsecret")
        given = [f for f in wechat if getattr(self, f) is not None]
        if given and len(given) < len(wechat):
            for field in wechat:
                if getattr(self, field) is None:
                    missing.append((field, "required with the other BUCHUMEN_WECHAT_* settings"))
        alipay = ("alipay_app_id", "alipay_seller_id")
        alipay_files = ("alipay_private_key_file", "alipay_public_key_file")
        given = [f for f in (*alipay, *alipay_files) if getattr(self, f) is not None]
        for field in (*alipay, *alipay_files) if given else ():
            path = getattr(self, field)
            if path is None:
                missing.append((field, "required with the other BUCHUMEN_ALIPAY_* settings"))
            elif field in alipay_files and not path.is_file():
                missing.append((field, f"no such file: {path}"))
        sf = ("sf_partner_id", "sf_check_word")
        if any(getattr(self, f) is not None for f in sf):
            for field in sf:
                if getattr(self, field) is None:
                    missing.append((field, "required with the other BUCHUMEN_SF_* settings"))
        tencent = ("tencent_secret_id", "tencent_secret_key")
        if any(getattr(self, f) is not None for f in tencent):
            for field in tencent:
                if getattr(self, field) is None:
                    missing.append((field, "required with the other BUCHUMEN_TENCENT_* setting"))
        if missing:
            raise _Problems(missing)
        if "public_base_url" not in self.model_fields_set:
            # Follow the port (and a concrete host) so demo links work on BUCHUMEN_PORT=9000.
            host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104
            host = f"[{host}]" if ":" in host else host
            object.__setattr__(self, "public_base_url", f"http://{host}:{self.port}")
        if self.jwt_secret is None:
            # The model is frozen; this is still its construction, so these writes are allowed.
            object.__setattr__(self, "jwt_secret", _demo_jwt_secret(self.data_dir))
        return self

    @property
    def resolved_sqlite_path(self) -> Path:
        """The SQLite file: ``sqlite_path`` if set, else ``<data_dir>/buchumen.sqlite3``."""
        return self.sqlite_path or self.data_dir / "buchumen.sqlite3"

    @property
    def resolved_objects_dir(self) -> Path:
        """The object directory: ``objects_dir`` if set, else ``<data_dir>/objects``."""
        return self.objects_dir or self.data_dir / "objects"

    @property
    def wechat_configured(self) -> bool:
        """True when the real account's credentials are all given."""
        return self.wechat_token is not None

    @property
    def alipay_configured(self) -> bool:
        """True when the real Alipay application's settings are all given."""
        return self.alipay_app_id is not None

    @property
    def realname_configured(self) -> bool:
        """True when Tencent Cloud credentials for the real-name check are given."""
        return self.tencent_secret_id is not None

    @property
    def sf_configured(self) -> bool:
        """True when the SF partner's credentials are given."""
        return self.sf_partner_id is not None

    @property
    def jwt_key(self) -> str:
        """The JWT signing secret (always set once the settings validated)."""
        assert self.jwt_secret is not None
        return self.jwt_secret.get_secret_value()


def _demo_jwt_secret(data_dir: Path) -> SecretStr:
    """Read, or create once, the demo JWT secret of ``data_dir`` so tokens survive a restart."""
    path = data_dir / DEMO_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_exclusively(path, secrets.token_urlsafe(48))
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        problem = f"cannot keep the demo secret in {path}: {exc}"
        raise _Problems([("jwt_secret", problem)]) from exc
    if len(secret) < MIN_SECRET_LENGTH:
        problem = f"{path} holds fewer than {MIN_SECRET_LENGTH} characters"
        raise _Problems([("jwt_secret", problem)])
    return SecretStr(secret)


def _create_exclusively(path: Path, content: str) -> None:
    """Write ``content`` to a new ``path`` readable by the owner only; if it exists, keep it."""
    # Two processes starting on one data dir must end up with the same secret: write a private
    # temporary file and link it into place, which fails if the other process got there first.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def kept_value(path: Path, fresh: str) -> str:
    """The value kept in ``path``; ``fresh`` is written there first if there is none yet, so
    every process on one data directory reads the same (demo credentials). OSError if it can't."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create_exclusively(path, fresh)
    return path.read_text(encoding="utf-8").strip()


def _describe_input(field: str, value: Any) -> str:
    annotation = Settings.model_fields[field].annotation if field in Settings.model_fields else None
    if annotation is not None and "SecretStr" in str(annotation):
        return ""  # never echo a secret, not even a wrong one
    return f" (got {value!r})"


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors(include_url=False):
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, _Problems):
            problems.extend(f"{env_name(field)}: {message}" for field, message in cause.items)
            continue
        field = str(item["loc"][0]) if item["loc"] else None
        if field is None:
            problems.append(f"settings: {item['msg']}")
        elif item["type"] == "extra_forbidden":
            problems.append(f"{env_name(field)}: not a known setting")
        else:
            message = str(cause) if isinstance(cause, ValueError) else item["msg"]
            message = message.replace("Input should be", "must be", 1)
            problems.append(f"{env_name(field)}: {message}{_describe_input(field, item['input'])}")
    return problems


def load_settings(environ: Mapping[str, str] | None = None, /, **overrides: Any) -> Settings:
    """Read ``BUCHUMEN_*`` from ``environ`` (default ``os.environ``); raise SettingsError if bad.

    ``overrides`` (the CLI's flags, e.g. ``demo=True``) win over the environment. An empty
    variable counts as unset. An unknown ``BUCHUMEN_*`` variable is an error, so a typo such
    as ``BUCHUMEN_PROT`` fails at start instead of being silently ignored.
    """
    environ = os.environ if environ is None else environ
    fields = set(Settings.model_fields)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in sorted(environ.items()):
        if not key.startswith(ENV_PREFIX) or raw.strip() == "":
            continue
        field = key[len(ENV_PREFIX) :].lower()
        if field in fields and key == env_name(field):
            values[field] = raw.strip()
        else:
            problems.append(f"{key}: not a known setting")
    values.update(overrides)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems.extend(_problems(exc))
    if problems:
        raise SettingsError(problems)
    return settings
