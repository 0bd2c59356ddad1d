"""The filed report's Vietnamese words (DOCX and XLSX), from the templates in
content/templates/report/: `_words.j2` (shared by both files), `_docx.j2`, `_xlsx.j2`. A ward
adjusts them in its own content folder; without a report/ folder there, the packaged ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import DEFAULT_CONTENT_DIR
from content.templates import DEFAULT_TIMEZONE, TemplateError, Templates

FOLDER = "report"
FILES = ("say.j2", "_words.j2", "_docx.j2", "_xlsx.j2")
RATES = frozenset({"acknowledged_rate", "understood_rate", "engaged_rate"})
# Every figure a reach row carries, in the order the report lists them.
FIGURES = (
    *("sent_chats", "audience", "ack_audience", "acknowledged", "acknowledged_rate", "answered"),
    *("understood", "understood_rate", "engaged", "engaged_rate", "failed", "uncertain"),
    *("expired", "waiting"),
)


class Wording:
    """`words("label", "audience")`: one macro of report/_words.j2 (`docx`, `xlsx`: the others)."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        folder = templates.directory / FOLDER
        for name in FILES:
            if not (folder / name).is_file():
                raise TemplateError(f"{folder / name}: no such report template")
        if problems := [p for p in templates.check() if Path(p).is_relative_to(folder)]:
            raise TemplateError(problems[0])

    def _say(self, file: str, name: str, args: tuple[Any, ...]) -> str:
        try:
            return self.templates.render_plain(f"{FOLDER}/say", file=file, name=name, args=args)
        except TemplateError as e:  # name the macro's file, not the bridge's
            reason = str(e).removeprefix(f"{FOLDER}/say.j2: ")
            raise TemplateError(f"{FOLDER}/_{file}.j2, macro {name}: {reason}") from None

    def words(self, name: str, *args: Any) -> str:
        return self._say("words", name, args)

    def docx(self, name: str, *args: Any) -> str:
        return self._say("docx", name, args)

    def xlsx(self, name: str, *args: Any) -> str:
        return self._say("xlsx", name, args)


def report_wording(content_dir: Path, timezone: ZoneInfo | str = DEFAULT_TIMEZONE) -> Wording:
    """The report templates of `content_dir`, or the packaged ones when it has none."""
    folder = content_dir / "templates"
    if not (folder / FOLDER).is_dir():
        folder = DEFAULT_CONTENT_DIR / "templates"
    return Wording(Templates(folder, timezone=timezone))
