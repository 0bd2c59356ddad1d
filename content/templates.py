"""Message templates (Jinja2). Every user-facing sentence lives in content/templates/*.j2.

Output is the Telegram-HTML subset, so values are HTML-escaped; `render_plain` gives the plain
text form for places that take no markup (button answers).
"""

from __future__ import annotations

import html
import re
import traceback
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.exceptions import SecurityError

from content.limits import BoundedEnvironment, Limits

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
SUFFIX = ".j2"
_TAG = re.compile(r"<[^>]+>")
_SWAP_SEPARATORS = str.maketrans(",.", ".,")


class TemplateError(Exception):
    """A template is missing, broken, or was rendered without a value it needs."""


def vn_date(value: date, zone: ZoneInfo | str | None = None, *, nd30: bool = False) -> str:
    """ "ngày 22 tháng 11 năm 2026". Naive datetimes are UTC (as stored) and shown in `zone`.

    nd30=True pads days below 10 and months 1–2 with a 0, as Decree 30/2020 asks of documents.
    """
    if isinstance(value, datetime):
        tz = ZoneInfo(zone) if isinstance(zone, str) else zone or ZoneInfo(DEFAULT_TIMEZONE)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = aware.astimezone(tz).date()
    day, month = str(value.day), str(value.month)
    if nd30:
        day = day.zfill(2)
        month = month.zfill(2) if value.month <= 2 else month
    return f"ngày {day} tháng {month} năm {value.year}"


def vn_time(value: datetime, zone: ZoneInfo | str | None = None) -> str:
    """ "07:30 ngày 25 tháng 11 năm 2026", in `zone` (naive datetimes are UTC)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone or ZoneInfo(DEFAULT_TIMEZONE)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
    return f"{local:%H:%M} {vn_date(local, tz)}"


def vn_number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """1234567 → "1.234.567"; 92.5 → "92,5" (dot groups thousands, comma marks decimals).

    Floats show up to 2 decimals without trailing zeros unless `decimals` is given.
    """
    if decimals is None:
        decimals = 0 if isinstance(value, int) else 2
        text = f"{value:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{value:,.{decimals}f}"
    return text.translate(_SWAP_SEPARATORS)


def html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class Templates:
    """The message templates of one folder; `render("start", name=...)`."""

    def __init__(
        self,
        directory: Path,
        *,
        timezone: ZoneInfo | str = DEFAULT_TIMEZONE,
        limits: Limits | None = None,
        quiet_hours: tuple[time, time] | None = None,
    ) -> None:
        self.directory = directory
        self.timezone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        # Officials write templates: the sandbox refuses what a message never needs (private
        # attributes, calling into Python, changing values), so a template cannot reach beyond
        # its values, and its limits keep a render small and short (content/limits.py).
        self.env = BoundedEnvironment(
            limits=limits,
            loader=jinja2.FileSystemLoader(directory),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # Parents' quiet hours, for texts that say when a held message will arrive.
        self.env.globals["quiet"] = (
            None
            if quiet_hours is None
            else {"start": f"{quiet_hours[0]:%H:%M}", "end": f"{quiet_hours[1]:%H:%M}"}
        )
        # Whether buttons show as numbered replies (Zalo): the dispatch Context sets it from the
        # platform's capabilities, so a text says «trả lời 1» there and «bấm» on Telegram.
        self.env.globals["numbered"] = False
        self.env.filters["vn_date"] = self._vn_date
        self.env.filters["vn_number"] = vn_number
        self.env.filters["vn_time"] = lambda value: vn_time(value, self.timezone)

    def _vn_date(self, value: date, zone: ZoneInfo | str | None = None, nd30: bool = False) -> str:
        return vn_date(value, zone or self.timezone, nd30=nd30)

    def names(self) -> list[str]:
        """Every template, as a path relative to the folder ("start.j2", "posts/x.j2")."""
        return sorted(
            p.relative_to(self.directory).as_posix() for p in self.directory.rglob(f"*{SUFFIX}")
        )

    def render(self, name: str, /, **values: Any) -> str:
        """The message `name` ("start" or "start.j2") with `values`; raises TemplateError."""
        filename = name if name.endswith(SUFFIX) else name + SUFFIX
        try:
            return self.env.get_template(filename).render(**values).strip()
        except jinja2.TemplateNotFound:
            raise TemplateError(f"{filename}: no such template in {self.directory}") from None
        except jinja2.TemplateSyntaxError as e:
            raise TemplateError(f"{e.name or filename}:{e.lineno}: {e.message}") from None
        except jinja2.UndefinedError as e:
            raise TemplateError(f"{filename}: {e.message}") from None
        except SecurityError as e:
            where = self._template_line(e) or filename
            raise TemplateError(f"{where}: not allowed in a template: {e}") from None
        except (TypeError, ValueError, AttributeError) as e:  # a filter given the wrong kind
            raise TemplateError(f"{filename}: {type(e).__name__}: {e}") from None

    def _template_line(self, error: BaseException) -> str | None:
        """ "file:line" of the innermost template frame of a rendering error, if any."""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename.endswith(SUFFIX) and frame.lineno is not None:
                path = Path(frame.filename)
                if path.is_relative_to(self.directory):
                    path = path.relative_to(self.directory)
                return f"{path.as_posix()}:{frame.lineno}"
        return None

    def render_plain(self, name: str, /, **values: Any) -> str:
        """`render` without markup, for texts that platforms show as-is (button answers)."""
        return html_to_plain(self.render(name, **values))

    def check(self) -> list[str]:
        """One "file:line: message" per template that does not compile."""
        problems = []
        for filename in self.names():
            try:
                self.env.get_template(filename)
            except jinja2.TemplateSyntaxError as e:
                problems.append(f"{self.directory / (e.name or filename)}:{e.lineno}: {e.message}")
        return problems
