"""Settings: quiet hours, and one clear line naming the variable for every wrong value."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, QuietHours, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No LOA_ variable from the test run, and an empty working folder (no `.env`)."""
    for name in list(os.environ):
        if name.upper().startswith("LOA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def at(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


class TestQuietHours:
    def test_a_window_across_midnight(self) -> None:
        quiet = QuietHours.parse("21:00-06:30")
        inside = ["21:00", "22:00", "23:59", "00:00", "03:00", "06:00", "06:29"]
        outside = ["06:30", "07:00", "12:00", "20:59"]
        assert [t for t in inside if not quiet.contains(at(t))] == []
        assert [t for t in outside if quiet.contains(at(t))] == []

    def test_a_window_within_one_day(self) -> None:
        quiet = QuietHours.parse("12:00-13:30")
        assert quiet.contains(at("12:00"))
        assert quiet.contains(at("13:29"))
        assert not quiet.contains(at("13:30"))
        assert not quiet.contains(at("11:59"))
        assert not quiet.contains(at("00:00"))
        assert not quiet.contains(at("22:00"))

    def test_parse_and_print(self) -> None:
        quiet = QuietHours.parse(" 21:00 - 06:30 ")
        assert (quiet.start, quiet.end) == (at("21:00"), at("06:30"))
        assert str(quiet) == "21:00-06:30"
        assert str(QuietHours.parse(str(quiet))) == "21:00-06:30"

    @pytest.mark.parametrize(
        "value",
        ["", "21:00", "21:00-", "9:00-17:00", "24:00-06:00", "21:00-06:60", "21-06", "abc",
         "21:00-06:30-07:00", "21.00-06.30"],
    )  # fmt: skip
    def test_malformed_windows_are_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="HH:MM-HH:MM"):
            QuietHours.parse(value)


def test_defaults_are_sandbox_mode_with_quiet_nights() -> None:
    settings = load_settings()
    assert settings.sandbox_mode
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert str(settings.tz) == "Asia/Ho_Chi_Minh"
    assert settings.quiet.contains(at("22:00"))
    assert not settings.quiet.contains(at("12:00"))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOA_QUIET_HOURS", "22:15-05:00")
    monkeypatch.setenv("LOA_WEB_PORT", "9099")
    monkeypatch.setenv("LOA_TELEGRAM_TOKEN", "123456789:AAbbCCddEEff_-1234")
    settings = load_settings()
    assert str(settings.quiet) == "22:15-05:00"
    assert settings.quiet.contains(at("04:59")) and not settings.quiet.contains(at("22:14"))
    assert settings.web_port == 9099
    assert not settings.sandbox_mode


def test_zalo_bot_alone_is_not_sandbox_mode_and_its_secret_is_long_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOA_ZALO_BOT_TOKEN", "1234567890:AbCdEfGhIjKl")
    settings = load_settings()
    assert not settings.sandbox_mode and settings.telegram_token is None
    assert str(settings.zalo_bot_api_url) == "https://bot-api.zaloplatforms.com/"
    assert settings.zalo_webhook_secret_problem() is None  # polling: no secret needed
    monkeypatch.setenv("LOA_WEBHOOK_BASE_URL", "https://loa.example.vn")
    monkeypatch.setenv("LOA_WEBHOOK_SECRET", "short")
    assert load_settings().zalo_webhook_secret_problem() == (
        "LOA_WEBHOOK_SECRET: Zalo Bot needs 8-256 characters"
    )
    monkeypatch.setenv("LOA_WEBHOOK_SECRET", "long-enough")
    assert load_settings().zalo_webhook_secret_problem() is None


@pytest.mark.parametrize(
    ("value", "grace"),
    [("3600", timedelta(hours=1)), ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)),
     ("2H", timedelta(hours=2)), (" 45 ", timedelta(seconds=45))],
)  # fmt: skip
def test_misfire_grace_in_seconds_or_with_a_unit(
    monkeypatch: pytest.MonkeyPatch, value: str, grace: timedelta
) -> None:
    assert load_settings().misfire_grace_period == timedelta(hours=1)  # the default
    monkeypatch.setenv("LOA_MISFIRE_GRACE", value)
    assert load_settings().misfire_grace_period == grace


def test_a_dotenv_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text(
        "LOA_WEB_PORT=9100\nLOA_QUIET_HOURS=20:00-06:00\n", encoding="utf-8"
    )
    monkeypatch.setenv("LOA_WEB_PORT", "9200")
    settings = load_settings()
    assert settings.web_port == 9200
    assert str(settings.quiet) == "20:00-06:00"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOA_QUIET_HOURS", "21:00"),
        ("LOA_QUIET_HOURS", "21:00-25:00"),
        ("LOA_WEB_PORT", "abc"),
        ("LOA_WEB_PORT", "0"),
        ("LOA_WEB_PORT", "65536"),
        ("LOA_SANDBOX_PORT", "-1"),
        ("LOA_SENDER_CONCURRENCY", "0"),
        ("LOA_TELEGRAM_RATE", "-1"),
        ("LOA_TELEGRAM_RATE", "fast"),
        ("LOA_TIMEZONE", "Asia/Hanoi_City"),
        ("LOA_CONTENT_DIR", "/nonexistent/content"),
        ("LOA_TELEGRAM_API_URL", "not a url"),
        ("LOA_DATABASE_URL", "sqlite:///loa.db"),
        ("LOA_DATABASE_URL", "postgresql://u@h/db"),
        ("LOA_TELEGRAM_TOKEN", "not-a-token"),
        ("LOA_WEBHOOK_SECRET", "white space"),
        ("LOA_MISFIRE_GRACE", "1 hour"),
        ("LOA_MISFIRE_GRACE", "0"),
        ("LOA_MISFIRE_GRACE", "25h"),
        ("LOA_FREE_TEXT_RETENTION_DAYS", "0"),
        ("LOA_FREE_TEXT_RETENTION_DAYS", "a year"),
        ("LOA_MISFIRE_GRACE", "-5m"),
        ("LOA_EVIDENCE_DIR", "/nonexistent/evidence"),
    ],
)
def test_a_wrong_value_raises_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}: "), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOA_TELEGRAM_TOKEN", "12345:secret!part"),
        ("LOA_ZALO_BOT_TOKEN", "12345:secret!part"),
        ("LOA_WEBHOOK_SECRET", "s3cret with spaces"),
        ("LOA_DATABASE_URL", "mysql://loa:hunter2-pw@db/loa"),
    ],
)
def test_a_wrong_secret_is_not_in_the_message(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable) as caught:
        load_settings()
    message = str(caught.value)
    assert value not in message
    assert "secretpart" not in message and "hunter2" not in message and "s3cret" not in message


def test_a_wrong_plain_value_is_quoted_back() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(quiet_hours="9pm-6am")
    assert str(caught.value).startswith("LOA_QUIET_HOURS: ")
    assert "'9pm-6am'" in str(caught.value)  # not a secret: showing it helps the operator


def test_zalo_oa_settings_come_together_and_are_never_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOA_ZALO_OA_APP_ID", "1234567890")
    monkeypatch.setenv("LOA_ZALO_OA_REFRESH_TOKEN", "very-secret-refresh")
    with pytest.raises(ConfigError) as missing:
        load_settings()
    assert str(missing.value) == (
        "LOA_ZALO_OA_SECRET_KEY is required with the other LOA_ZALO_OA_* settings"
    )
    monkeypatch.setenv("LOA_ZALO_OA_SECRET_KEY", "app-secret")
    settings = load_settings()
    assert settings.zalo_oa_enabled and settings.zalo_oa_monthly_quota == 4


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOA_ZALO_OA_APP_ID", "app-1", "LOA_ZALO_OA_APP_ID: expected the id Zalo shows"),
        ("LOA_ZALO_OA_MONTHLY_QUOTA", "-1", "LOA_ZALO_OA_MONTHLY_QUOTA: "),
        ("LOA_ZALO_OA_RATE", "0", "LOA_ZALO_OA_RATE: "),
        ("LOA_ZALO_OA_API_URL", "openapi", "LOA_ZALO_OA_API_URL: "),
    ],
)
def test_a_wrong_zalo_oa_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"^{says}"):
        load_settings()
