"""Settings. The only module that reads the environment (LOA_* variables and `.env`)."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import Audience

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DURATION = re.compile(r"^(\d+)([smh]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


class ConfigError(Exception):
    """A setting is missing or wrong. The message is one line naming the variable."""


QUIET_AUDIENCES: tuple[str, ...] = (Audience.parents,)  # nothing but urgent items in quiet hours


class QuietHours:
    """A daily window such as 21:00-06:30 (it may cross midnight) when parents get nothing."""

    def __init__(self, start: time, end: time) -> None:
        self.start, self.end = start, end

    @classmethod
    def parse(cls, value: str) -> QuietHours:
        parts = value.replace(" ", "").split("-")
        matches = [_HHMM.match(p) for p in parts]
        if len(parts) != 2 or not all(matches):
            raise ValueError("expected HH:MM-HH:MM, for example 21:00-06:30")
        start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
        return cls(start, end)

    def held_now(self, local: time) -> tuple[str, ...]:
        """The audiences that get nothing but urgent items at `local` time."""
        return QUIET_AUDIENCES if self.contains(local) else ()

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_duration(value: str) -> timedelta:
    """ "3600", "90s", "30m" or "1h": at least 1 second, at most 24 hours."""
    match = _DURATION.match(value.strip().lower())
    if match is None:
        raise ValueError('expected seconds or a number with s, m or h, for example "1h"')
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if not 1 <= seconds <= 24 * 3600:
        raise ValueError("expected between 1 second and 24 hours")
    return timedelta(seconds=seconds)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LOA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./loa.db"
    telegram_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    # Zalo Bot Platform (bot.zapps.vn): the token its bot manager gives, and where its API is.
    zalo_bot_token: SecretStr | None = None
    zalo_bot_api_url: AnyHttpUrl = AnyHttpUrl("https://bot-api.zaloplatforms.com")
    webhook_base_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # The dashboard's public address (https behind a proxy); unset: http://WEB_HOST:WEB_PORT.
    web_base_url: AnyHttpUrl | None = None
    sandbox_port: Annotated[int, Field(ge=0, le=65535)] = 8081
    timezone: str = "Asia/Ho_Chi_Minh"
    quiet_hours: str = "21:00-06:30"
    content_dir: Path = DEFAULT_CONTENT_DIR
    # Sends in flight at once. Little's law: rate × round trip (1000/s × ~60 ms ≈ 64).
    sender_concurrency: Annotated[int, Field(ge=1, le=1024)] = 64
    # Telegram's bulk limit is ~30 messages/s; paid broadcasts (allow_paid_broadcast) go to
    # 1000/s. Unset keeps the adapter's own limit; 0 lifts it (only for a local Bot API peer).
    telegram_rate: Annotated[float, Field(ge=0, le=1000)] | None = None
    # Zalo Official Account (docs/operations.md, "Zalo OA"). Set app id, secret key and the
    # first refresh token together; loa keeps the refresh tokens that follow in its database.
    zalo_oa_app_id: str | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_refresh_token: SecretStr | None = None
    zalo_oa_webhook_secret: SecretStr | None = None  # the OA secret key that signs events
    zalo_oa_signature_id: str | None = None  # what the signature starts with: the app id or oa id
    zalo_oa_api_url: AnyHttpUrl = AnyHttpUrl("https://openapi.zalo.me")
    zalo_oa_oauth_url: AnyHttpUrl = AnyHttpUrl("https://oauth.zaloapp.com")
    # Promotion messages a follower may get a month (by the OA's plan); one a day at most.
    zalo_oa_monthly_quota: Annotated[int, Field(ge=0, le=1000)] = 4
    zalo_oa_rate: Annotated[float, Field(gt=0, le=1000)] = 20
    log_level: str = "INFO"
    # How late a scheduled post may still go out (after a restart or an outage); later than
    # this it is recorded as missed instead.
    misfire_grace: str = "1h"
    # Free text people wrote (the details of task results) is kept this many days, then only
    # its status stays; a year covers the reports of the year it belongs to.
    free_text_retention_days: Annotated[int, Field(ge=1, le=3650)] = 365
    # Where evidence files (/baocao, /mohinh) are downloaded; unset: kept by file id only.
    evidence_dir: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
            )
        return v

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{10,}", v.get_secret_value()):
            raise ValueError("expected a bot token like 123456789:AA… from @BotFather")
        return v

    @field_validator("zalo_bot_token")
    @classmethod
    def _zalo_token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{10,}", v.get_secret_value()):
            raise ValueError("expected a Zalo bot token like 1234567890:AbC… (Zalo Bot Manager)")
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return v

    @field_validator("zalo_oa_app_id", "zalo_oa_signature_id")
    @classmethod
    def _zalo_id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{1,32}", v):
            raise ValueError("expected the id Zalo shows, digits only")
        return v

    @model_validator(mode="after")
    def _zalo_oa_complete(self) -> Settings:
        given = {
            "zalo_oa_app_id": self.zalo_oa_app_id,
            "zalo_oa_secret_key": self.zalo_oa_secret_key,
            "zalo_oa_refresh_token": self.zalo_oa_refresh_token,
        }
        missing = [name for name, value in given.items() if value is None]
        if missing and len(missing) < len(given):
            raise ValueError(
                f"LOA_{missing[0].upper()} is required with the other LOA_ZALO_OA_* settings"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return v.upper()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Ho_Chi_Minh") from None
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        QuietHours.parse(v)
        return v

    @field_validator("misfire_grace")
    @classmethod
    def _grace(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("evidence_dir")
    @classmethod
    def _evidence_dir(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise ValueError(f"expected an existing folder for evidence files; {v} is not one")
        return v

    @field_validator("content_dir")
    @classmethod
    def _content_dir(cls, v: Path) -> Path:
        if not v.is_dir():
            raise ValueError(f"expected a folder of plans and templates; {v} is not one")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def quiet(self) -> QuietHours:
        return QuietHours.parse(self.quiet_hours)

    @property
    def misfire_grace_period(self) -> timedelta:
        return parse_duration(self.misfire_grace)

    @property
    def zalo_oa_enabled(self) -> bool:
        """A real Zalo OA is configured (in sandbox mode, loa uses the sandbox's OA)."""
        return self.zalo_oa_app_id is not None

    @property
    def dashboard_url(self) -> str:
        """Where sign-in links point, without a trailing slash."""
        if self.web_base_url is not None:
            return str(self.web_base_url).rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def sandbox_mode(self) -> bool:
        """No platform token set: loa runs every platform against its own sandbox."""
        return (
            self.telegram_token is None and self.zalo_bot_token is None and not self.zalo_oa_enabled
        )

    def zalo_webhook_secret_problem(self) -> str | None:
        """Zalo Bot takes a webhook secret of 8-256 characters only (Telegram's may be shorter)."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else None
        uses = self.zalo_bot_token is not None and self.webhook_base_url is not None
        if uses and secret is not None and len(secret) < 8:
            return "LOA_WEBHOOK_SECRET: Zalo Bot needs 8-256 characters"
        return None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a wrong value raises ConfigError with one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        err = e.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:  # a check across settings: its message names them, no input echoed
            raise ConfigError(message) from None
        name = "LOA_" + str(err["loc"][0]).upper()
        secret = any(word in name for word in ("TOKEN", "SECRET", "KEY", "DATABASE_URL"))
        got = "" if secret else f" (got {err.get('input')!r})"  # never echo a credential
        raise ConfigError(f"{name}: {message}{got}") from None
