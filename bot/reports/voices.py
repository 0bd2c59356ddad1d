"""What people said, for the report's parts 3 and 5: the themes of their feedback (with counts
and examples) and the questions still open. Their sources are being built beside the report
(bot/services/questions.py and a feedback classifier); until they are wired here, each function
returns the explicit "not recorded yet" state, and the DOCX says so instead of showing zeros.

Shapes once recorded (docs/reports.md, "What people said"):
- feedback: {"status": "recorded", "themes": [{"theme": str, "count": int, "examples": [str]}]}
- open questions: {"status": "recorded", "questions": [{"asked_on": "YYYY-MM-DD",
  "unit": str | None, "audience": str | None, "text": str}]}
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.reach import Filter

RECORDED: Final = "recorded"
NOT_RECORDED: Final = "not_recorded"


async def feedback_themes(conn: AsyncConnection, f: Filter) -> dict[str, Any]:
    """The feedback of the period and units, grouped by theme, most frequent first."""
    return {"status": NOT_RECORDED, "themes": []}


async def open_questions(conn: AsyncConnection, f: Filter) -> dict[str, Any]:
    """The questions people asked in the period and units that nobody has answered yet."""
    return {"status": NOT_RECORDED, "questions": []}
